"""PlusofonClient: the webhooks endpoints, every page, retries. No Airflow import here.

HTTP only: one method per endpoint (and one per batch of writes), every page, retries, error
mapping. It never decides what to change (that is :mod:`airflow_provider_plusofon.webhooks`) and
treats every answer as hostile until checked: ids are validated before they enter a path, nothing
but the webhooks endpoints is ever requested, redirects are refused, answers are capped in size,
and paging is bounded by what the answer proves. How requests are sent is the transport's
(:mod:`.transport`), what is retried the retry policy's (:mod:`.retry`), and the paging rules
:mod:`.paging`'s.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

from airflow_provider_plusofon.api import paging
from airflow_provider_plusofon.api.answers import read_answer
from airflow_provider_plusofon.api.concurrency import DEFAULT_MAX_WORKERS, Workers
from airflow_provider_plusofon.api.ids import WEBHOOKS_PATH, is_api_path, listed_id, valid_webhook_id, webhook_path
from airflow_provider_plusofon.api.retry import Logger, RetryPolicy, safe_to_resend, transient
from airflow_provider_plusofon.api.settings import PlusofonConnectionConfig
from airflow_provider_plusofon.api.transport import Request, RequestsTransport, Transport
from airflow_provider_plusofon.exceptions import (
    PlusofonAuthError,
    PlusofonConfigError,
    PlusofonError,
    PlusofonInvalidResponseError,
    PlusofonNotFoundError,
)
from airflow_provider_plusofon.redaction import secrets_of

# What a batch of writes gives back, item by item: the error it met, or None when it went through.
WriteOutcomes = list[PlusofonError | None]


def checked_detail(answer: Any, number: int) -> dict[str, Any]:
    """A detail view, checked: it must be the webhook asked for."""
    if not isinstance(answer, dict) or listed_id(answer.get("id", number)) != number:
        raise PlusofonInvalidResponseError(
            f"the answer is not webhook #{number}", status_code=200, method="GET", path=webhook_path(number)
        )
    return {**answer, "id": number}


def checked_request(request: Request) -> Request:
    """The request, if it goes to a webhooks endpoint (the public methods validate ids; a last line)."""
    if not is_api_path(request.path):
        raise PlusofonConfigError(f"refusing to request {request.path[:60]!r}: not a webhooks endpoint")
    return request


class PlusofonClient:
    """
    Client for the Plusofon webhooks API: one method per endpoint, every page, retries.

    Reads, updates and deletes are retried on what
    :attr:`~airflow_provider_plusofon.exceptions.PlusofonError.transient` says waiting can fix
    (connection errors, timeouts, 429 and 500/502/503/504) with exponential backoff and jitter. A
    create is re-sent only when the error proves nothing was stored (a 429, or a connection that
    could not be opened); any other failure of a POST is raised (or, in a batch,
    returned) for the caller to look before it decides anything. A 429 pauses every request of
    this client until its ``Retry-After`` has passed, not only the one that met it.

    :param config: where and how to reach the API.
    :param max_workers: how many requests may run at once (pages, detail views, writes).
    :param on_secrets: called with the secret values (header values, URL passwords) of every
        webhook the client reads or sends, before they can reach a log line (the hook passes
        Airflow's secret masker). Always from the thread that called the client, never from its
        worker threads: on Airflow 3.0 and 3.1 the masker talks to the supervisor over a channel
        that is not safe to use from several threads at once.
    :param logger: where retries are reported (default: the retry module's logger).
    :param transport: what sends the requests (default: a ``requests`` session).
    """

    def __init__(
        self,
        config: PlusofonConnectionConfig,
        *,
        max_workers: int = DEFAULT_MAX_WORKERS,
        on_secrets: Callable[[list[str]], None] | None = None,
        logger: Logger | None = None,
        transport: Transport | None = None,
    ) -> None:
        self.config = config
        self.workers = Workers(max_workers, on_secrets)
        self.retry = RetryPolicy(config.max_retries, logger)
        self.transport: Transport = transport or RequestsTransport(config, pool_size=self.workers.max_workers)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.config.base_url!r})"

    @property
    def max_workers(self) -> int:
        return self.workers.max_workers

    # -- one request --------------------------------------------------------------------------

    def _exchange(self, request: Request) -> Any:
        """Send one request once: the path checked, any rate-limit pause waited out, the answer read."""
        self.retry.wait_for_pause()
        try:
            answer = self.transport.send(checked_request(request))
            return read_answer(answer, request.method, request.path, [*self.config.secrets, *secrets_of(request.body)])
        except PlusofonError as error:
            self.retry.note(error)
            raise

    def _send(self, request: Request, worth_retrying: Callable[[PlusofonError], bool] = transient) -> Any:
        return self.retry.run(lambda: self._exchange(request), worth_retrying)

    # -- listing ------------------------------------------------------------------------------

    def list_page(self, page: int, type: str | None = None) -> dict[str, Any]:
        """
        One page of the list, checked: a paginator whose ``data`` items each have a valid id.

        :param page: the page number (1 for the first).
        :param type: the documented list filter (e.g. ``"lk"``), sent as a JSON body.
        """
        body = {"type": type} if type else None
        return paging.check_page(self._send(Request("GET", WEBHOOKS_PATH, {"page": page}, body)), page)

    def list_pages(self, pages: Sequence[int], type: str | None = None) -> list[dict[str, Any]]:
        """Several pages of the list, fetched concurrently, in the order asked."""
        return self.workers.map(lambda number: self.list_page(number, type), pages)

    def _read(self, listing: paging.Listing, type: str | None) -> list[dict[str, Any]]:
        try:
            wanted = next(listing)
            while True:
                wanted = listing.send(self.list_pages(wanted, type))
        except StopIteration as done:
            return done.value

    def list_webhooks(self, type: str | None = None) -> list[dict[str, Any]]:
        """
        Return every webhook on the account, from every page.

        Pages are fetched with ``?page=N`` against the configured base URL: the links the API
        puts in its paginator point at its own idea of its host, so they are never followed.
        Once page 1 tells how many pages there are, the others are fetched concurrently. Paging
        is bounded by what page 1 proves (``last_page``, or ``total``/``per_page``), stops when a
        page brings no new id, and never goes past ``max_pages``. A read whose pages contradict
        each other (the account changed meanwhile) is read again, a few times at most, then
        :class:`~airflow_provider_plusofon.exceptions.PlusofonListingChangedError`.

        :param type: the documented list filter (e.g. ``"lk"``), sent as a JSON body.
        :return: list items (``id``, ``url``, ``type_call``, ``type``, ``event``), each id once.
        """
        for _ in range(paging.MAX_LISTING_READS):
            try:
                return self._read(paging.read_listing(self.config.max_pages), type)
            except paging.Shifted:
                continue
        raise paging.kept_changing(paging.MAX_LISTING_READS)

    def confirm_listing(self, listing: Sequence[Mapping[str, Any]], type: str | None = None) -> list[dict[str, Any]]:
        """
        A snapshot of the account: the list read again until two reads in a row are the same.

        A read that contradicts nothing may still have missed a webhook another actor moved onto a
        page already read (a delete before it); the next read then differs. Returns ``listing``'s
        equal when the next read confirms it, else the first of two equal reads that follow.

        :param listing: a read of :meth:`list_webhooks` to confirm.
        :raises PlusofonListingChangedError: when no two reads in a row agree, a few times over.
        """
        previous: Sequence[Mapping[str, Any]] = listing
        for _ in range(paging.MAX_LISTING_READS):
            current = self.list_webhooks(type)
            if paging.same_listing(previous, current):
                return current
            previous = current
        raise paging.kept_changing(paging.MAX_LISTING_READS)

    def list_newest_first(self, newest: int) -> Iterator[list[dict[str, Any]]]:
        """
        Read the list from the last page back, yielding every webhook read so far after each batch
        of pages: stop iterating once what you look for is there.

        Accounts list oldest first as a rule, so new webhooks fill the last pages: after page 1
        (which tells how many pages there are) this reads, at once, as many last pages as
        ``newest`` items can span, then larger batches, until every page was read. Without a
        paginator that proves the page count, or when the pages read contradict page 1 (the
        account changed meanwhile), it yields a full listing (:meth:`list_webhooks`) instead.

        :param newest: how many new items are looked for.
        """
        first = self.list_page(1)
        count = paging.page_count(first)
        if count is None:
            try:
                yield self._read(paging.read_rest(first, self.config.max_pages), None)
            except paging.Shifted:
                yield self.list_webhooks()
            return
        paging.check_page_limit(count, self.config.max_pages)
        items = list(first["data"])
        yield paging.unique_by_id(items)
        for batch in paging.newest_first(first, newest, self.max_workers):
            pages = self.list_pages(batch)
            try:
                paging.check_same_paginator(first, pages)
            except paging.Shifted:
                yield self.list_webhooks()
                return
            items += [item for page in pages for item in page["data"]]
            yield paging.unique_by_id(items)

    # -- one webhook --------------------------------------------------------------------------

    def get_webhook(self, webhook_id: int | str) -> dict[str, Any]:
        """
        Return one webhook's full detail view (with ``fields``, ``headers``, ``params`` ...).

        :param webhook_id: the webhook's id (a positive integer, or its digits).
        """
        number = valid_webhook_id(webhook_id)
        detail = checked_detail(self._send(Request("GET", webhook_path(number))), number)
        self.workers.reveal(detail)
        return detail

    def get_webhooks(self, webhook_ids: Iterable[int | str]) -> dict[int, dict[str, Any]]:
        """
        Return the detail views of several webhooks, fetched concurrently.

        :param webhook_ids: ids to fetch.
        :return: a mapping of id to detail view.
        """
        ids = list(dict.fromkeys(valid_webhook_id(i) for i in webhook_ids))
        return dict(zip(ids, self.workers.map(self.get_webhook, ids), strict=True))

    def post_webhook(self, webhook: Mapping[str, Any]) -> None:
        """
        Send one create (the API answers without the new id).

        Re-sent only when the error proves nothing was stored (a 429, or a connection that could
        not be opened). Any other failure is raised: when its ``may_have_taken_effect`` is true
        the webhook may exist, and only a look at the list can tell.

        :param webhook: the POST body (``url`` and ``event`` required).
        """
        self.workers.reveal(webhook)
        self._send(Request("POST", WEBHOOKS_PATH, body=dict(webhook)), safe_to_resend)

    def update_webhook(self, webhook_id: int | str, webhook: Mapping[str, Any]) -> None:
        """
        Replace a webhook's fields (PUT with the full body, as the API requires).

        :param webhook_id: the webhook's id.
        :param webhook: the full body, same fields as a create.
        """
        path = webhook_path(webhook_id)
        self.workers.reveal(webhook)
        self._send(Request("PUT", path, body=dict(webhook)))

    def delete_webhook(self, webhook_id: int | str, *, missing_ok: bool = False) -> None:
        """
        Delete a webhook.

        :param webhook_id: the webhook's id.
        :param missing_ok: treat an unknown id as already deleted instead of raising.
        """
        request = Request("DELETE", webhook_path(webhook_id))
        attempts = 0

        def once() -> Any:
            nonlocal attempts
            attempts += 1
            return self._exchange(request)

        try:
            self.retry.run(once, transient)
        except PlusofonNotFoundError:
            # A 404 after a retry means the first, unanswered DELETE did its job.
            if missing_ok or attempts > 1:
                return
            raise

    # -- batches of writes: every item is tried, each outcome reported ---------------------------

    def _each(self, write: Callable[[Any], Any], items: Sequence[Any]) -> WriteOutcomes:
        def attempt(item: Any) -> PlusofonError | None:
            try:
                write(item)
            except PlusofonError as error:
                return error
            return None

        return self.workers.map(attempt, items)

    def post_webhooks(self, webhooks: Sequence[Mapping[str, Any]]) -> WriteOutcomes:
        """Send several creates concurrently (see :meth:`post_webhook`); each one's error, or None."""
        return self._each(self.post_webhook, webhooks)

    def update_webhooks(self, updates: Sequence[tuple[int, Mapping[str, Any]]]) -> WriteOutcomes:
        """Send several full-body updates ``(id, body)`` concurrently; each one's error, or None."""
        return self._each(lambda update: self.update_webhook(*update), updates)

    def delete_webhooks(self, webhook_ids: Sequence[int], *, missing_ok: bool = False) -> WriteOutcomes:
        """Send several deletes concurrently; each one's error, or None."""
        return self._each(lambda webhook_id: self.delete_webhook(webhook_id, missing_ok=missing_ok), webhook_ids)

    def test_connection(self) -> tuple[bool, str]:
        """Check the Client ID and token with one cheap request (no retries). Never raises."""
        try:
            answer = self._exchange(Request("GET", WEBHOOKS_PATH, {"page": 1}))
        except PlusofonAuthError as error:
            return False, f"Authentication failed: check the Client ID and the API token ({error.message})"
        except Exception as error:
            return False, str(error)
        total = answer.get("total") if isinstance(answer, dict) else None
        suffix = f": {total} webhook(s) on the account" if isinstance(total, int) else ""
        return True, f"Connected to {self.config.base_url}{suffix}"
