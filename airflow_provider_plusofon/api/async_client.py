"""AsyncPlusofonClient: the webhooks API's reads, awaited on an event loop. No Airflow import here.

What a waiting trigger needs (every page of the list, detail views), over
:class:`~.async_transport.HttpxTransport`: no thread per request or per caller. The rules are
:class:`~.webhooks.PlusofonClient`'s own, shared, not copied: the paging rules of :mod:`.paging`,
the answers' checks of :mod:`.answers`, the retries and the shared 429 pause of :mod:`.retry`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any, TypeVar

from airflow_provider_plusofon.api import paging
from airflow_provider_plusofon.api.answers import read_answer
from airflow_provider_plusofon.api.async_transport import HttpxTransport
from airflow_provider_plusofon.api.concurrency import DEFAULT_MAX_WORKERS
from airflow_provider_plusofon.api.ids import WEBHOOKS_PATH, valid_webhook_id, webhook_path
from airflow_provider_plusofon.api.retry import Logger, RetryPolicy, transient
from airflow_provider_plusofon.api.settings import PlusofonConnectionConfig
from airflow_provider_plusofon.api.transport import Request
from airflow_provider_plusofon.api.webhooks import checked_detail, checked_request
from airflow_provider_plusofon.exceptions import PlusofonError

T = TypeVar("T")
U = TypeVar("U")


class AsyncPlusofonClient:
    """
    Reads of the Plusofon webhooks API on an event loop: every page of the list, detail views.

    Retried as :class:`~.webhooks.PlusofonClient` retries reads; a 429 pauses every request of
    this client (and only of this client) until its ``Retry-After`` has passed, waiting on the
    event loop.

    :param config: where and how to reach the API.
    :param max_concurrency: how many requests may be in flight at once.
    :param logger: where retries are reported.
    :param transport: what sends the requests (default: an ``httpx`` async client).
    """

    def __init__(
        self,
        config: PlusofonConnectionConfig,
        *,
        max_concurrency: int = DEFAULT_MAX_WORKERS,
        logger: Logger | None = None,
        transport: HttpxTransport | None = None,
    ) -> None:
        self.config = config
        self.max_concurrency = max(1, max_concurrency)
        self.retry = RetryPolicy(config.max_retries, logger)
        self.transport = transport or HttpxTransport(config, max_connections=self.max_concurrency)
        self._slots = asyncio.Semaphore(self.max_concurrency)

    async def aclose(self) -> None:
        await self.transport.aclose()

    async def _exchange(self, request: Request) -> Any:
        await self.retry.await_pause()
        try:
            async with self._slots:
                answer = await self.transport.send(checked_request(request))
            return read_answer(answer, request.method, request.path, list(self.config.secrets))
        except PlusofonError as error:
            self.retry.note(error)
            raise

    async def _send(self, request: Request) -> Any:
        return await self.retry.arun(self._exchange, transient, request)

    async def _map(self, call: Callable[[T], Awaitable[U]], items: Sequence[T]) -> list[U]:
        """``call`` on every item at once (bounded by ``max_concurrency``), results in order."""
        tasks = [asyncio.ensure_future(call(item)) for item in items]
        try:
            return list(await asyncio.gather(*tasks))
        finally:
            for task in tasks:  # one failed: the others are not left running
                task.cancel()

    async def list_page(self, page: int) -> dict[str, Any]:
        """One page of the list, checked (see :func:`~.paging.check_page`)."""
        return paging.check_page(await self._send(Request("GET", WEBHOOKS_PATH, {"page": page})), page)

    async def list_webhooks(self) -> list[dict[str, Any]]:
        """Every webhook on the account, as :meth:`~.webhooks.PlusofonClient.list_webhooks` reads it."""
        for _ in range(paging.MAX_LISTING_READS):
            listing = paging.read_listing(self.config.max_pages)
            try:
                wanted = next(listing)
                while True:
                    wanted = listing.send(await self._map(self.list_page, wanted))
            except StopIteration as done:
                return done.value
            except paging.Shifted:
                continue
        raise paging.kept_changing(paging.MAX_LISTING_READS)

    async def get_webhook(self, webhook_id: int | str) -> dict[str, Any]:
        """One webhook's detail view, checked to be the one asked for."""
        number = valid_webhook_id(webhook_id)
        return checked_detail(await self._send(Request("GET", webhook_path(number))), number)

    async def get_webhooks(self, webhook_ids: Iterable[int | str]) -> dict[int, dict[str, Any]]:
        """The detail views of several webhooks, fetched at once."""
        ids = list(dict.fromkeys(valid_webhook_id(i) for i in webhook_ids))
        return dict(zip(ids, await self._map(self.get_webhook, ids), strict=True))
