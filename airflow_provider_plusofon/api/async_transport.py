"""Sending one request without a thread: an ``httpx`` async client, for the triggerer's event loop.
No Airflow import here.

The same contract as :class:`~.transport.RequestsTransport` (the API's headers, TLS settings,
redirects never followed, answers read up to ``max_answer_bytes`` while they are decompressed, the
same errors and hints), awaited instead of called. ``httpx`` ships with Airflow core and the Task
SDK on every 3.x release, so this adds no dependency.
"""

from __future__ import annotations

import os
import ssl
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow_provider_plusofon.api.answers import Answer
from airflow_provider_plusofon.api.settings import PlusofonConnectionConfig
from airflow_provider_plusofon.api.transport import (
    BROKE,
    NO_SUCH_HOST,
    NOTHING_LISTENING,
    CappedBody,
    Request,
    api_headers,
    broke_while_reading,
    connect_timeout,
    connection_failed,
    read_timeout,
    tls_failure,
    tls_verify,
    unbuildable,
)
from airflow_provider_plusofon.exceptions import PlusofonConfigError, PlusofonTransportError

if TYPE_CHECKING:
    import httpx


def _hint(error: BaseException) -> tuple[str, str]:
    """What a connection that could not be opened means: the failure's name, and what to check."""
    import socket

    cause: BaseException | None = error
    while cause is not None and not isinstance(cause, OSError):
        cause = cause.__cause__ or cause.__context__
    if isinstance(cause, socket.gaierror):
        return "NameResolutionError", NO_SUCH_HOST
    return "NewConnectionError", NOTHING_LISTENING


def _ssl_context(bundle: str) -> ssl.SSLContext:
    """A context trusting the CA bundle at ``bundle``: a file, or a folder of hashed certificates."""
    try:
        if os.path.isdir(bundle):
            return ssl.create_default_context(capath=bundle)
        return ssl.create_default_context(cafile=bundle)
    except (OSError, ssl.SSLError) as exc:
        raise PlusofonConfigError(
            f"the CA bundle {bundle[:200]!r} cannot be read ({type(exc).__name__}): check the connection's "
            "extra 'verify', or the environment's CA bundle"
        ) from None


class HttpxTransport:
    """
    A keep-alive ``httpx.AsyncClient`` with the documented headers: no thread per request.

    :param config: where and how to reach the API.
    :param max_connections: how many connections may be open at once.
    """

    def __init__(self, config: PlusofonConnectionConfig, *, max_connections: int = 8) -> None:
        self.config = config
        self.max_connections = max(1, max_connections)

    @cached_property
    def client(self) -> httpx.AsyncClient:
        import httpx

        config = self.config
        verify: Any = tls_verify(config)
        if isinstance(verify, str):  # a CA bundle: newer httpx wants it as an SSL context
            verify = _ssl_context(verify)
        limits = httpx.Limits(max_connections=self.max_connections, max_keepalive_connections=self.max_connections)
        return httpx.AsyncClient(
            headers=api_headers(config),
            verify=verify,
            timeout=config.timeout,
            follow_redirects=False,
            limits=limits,
        )

    async def aclose(self) -> None:
        if "client" in self.__dict__:
            await self.client.aclose()

    async def send(self, request: Request) -> Answer:
        """Send one request; return its status, its body (read up to the cap) and its headers."""
        import httpx

        config, client = self.config, self.client
        try:
            built = client.build_request(
                request.method, config.base_url + request.path, params=request.params, json=request.body
            )
        except (httpx.HTTPError, ValueError, TypeError, UnicodeError) as exc:
            raise unbuildable(request, exc) from None
        try:
            response = await client.send(built, stream=True)
        except httpx.ConnectTimeout as exc:
            raise connect_timeout(config, request) from exc
        except httpx.TimeoutException as exc:
            raise read_timeout(config, request) from exc
        except httpx.ConnectError as exc:
            raise self._not_connected(request, exc) from None
        except httpx.TransportError as exc:
            raise connection_failed(config, request, type(exc).__name__, BROKE, request_sent=True) from None
        except (httpx.HTTPError, ValueError, TypeError, UnicodeError) as exc:
            raise unbuildable(request, exc) from None
        try:
            return Answer(response.status_code, await self._read_capped(response, request), response.headers)
        finally:
            await response.aclose()

    def _not_connected(self, request: Request, error: Exception) -> PlusofonConfigError | PlusofonTransportError:
        tls = tls_failure(error, self.config.base_url)
        if tls is not None:
            # A TLS problem is the connection's (a scheme, a CA bundle): waiting cannot fix it.
            return PlusofonConfigError(f"{request.method} {request.path}: {tls}")
        return connection_failed(self.config, request, *_hint(error), request_sent=False)

    async def _read_capped(self, response: httpx.Response, request: Request) -> bytes:
        """The body, decompressed here within the cap (see :class:`~.transport.CappedBody`)."""
        import httpx

        body = CappedBody(response.status_code, response.headers, request, self.config.max_answer_bytes)
        try:
            async for chunk in response.aiter_raw():
                body.add(chunk)
        except httpx.TimeoutException as exc:
            raise read_timeout(self.config, request) from exc
        except httpx.TransportError as exc:
            raise broke_while_reading(request, exc) from None
        return bytes(body.content)
