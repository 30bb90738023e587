"""Sending one request: a ``requests`` session with the API's headers, a size cap, and what a
failure to get an answer means. No Airflow import here.

A transport knows nothing of endpoints, retries or answers' meaning: it sends what it is given to
the configured host and hands back the :class:`~.answers.Answer` or a
:class:`~airflow_provider_plusofon.exceptions.PlusofonTransportError`. The endpoints
(:mod:`.webhooks`) work over anything with its ``send``.
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, Protocol

from airflow_provider_plusofon.api.answers import Answer
from airflow_provider_plusofon.api.settings import PlusofonConnectionConfig
from airflow_provider_plusofon.exceptions import (
    PlusofonConfigError,
    PlusofonInvalidResponseError,
    PlusofonTransportError,
)

if TYPE_CHECKING:
    # requests is imported when the first request is made, not when the scheduler parses a DAG
    # that merely mentions the hook.
    import requests

_READ_CHUNK_BYTES = 64 * 1024


@dataclass(frozen=True)
class Request:
    """
    One request to the API.

    :param method: the HTTP method.
    :param path: the path under the base URL (one of :func:`~.ids.is_api_path`'s).
    :param params: the query.
    :param body: the JSON body.
    """

    method: str
    path: str
    params: Mapping[str, Any] | None = None
    body: Any = None


class Transport(Protocol):
    """What the endpoints need of a sender: one request in, one answer out (or an error)."""

    def send(self, request: Request) -> Answer: ...


def api_headers(config: PlusofonConnectionConfig) -> dict[str, str]:
    """The headers the API documents, sent with every request (by any transport)."""
    return {
        "Content-Type": "application/json",
        "Accept": "application/json",
        "Client": config.client_id,
        "Authorization": f"Bearer {config.token}",
        # Only what answer_decoder decompresses itself, within the answer's size cap.
        "Accept-Encoding": "gzip, deflate",
    }


# The variables that name a CA bundle (a file or a folder), in the order they count: requests'
# and curl's, then OpenSSL's (which httpx reads).
CA_VARIABLES = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE", "SSL_CERT_DIR")


def tls_verify(config: PlusofonConnectionConfig) -> bool | str:
    """
    How the server's certificate is checked, the same way by either transport: the connection's
    ``verify`` when it sets one (false, or a CA bundle), else the first CA bundle the environment
    names (:data:`CA_VARIABLES`), else the default trust store.

    :raises PlusofonConfigError: for an https base URL, when the bundle the environment names is not there.
    """
    if config.verify is not True:
        return config.verify
    for name in CA_VARIABLES:
        path = os.environ.get(name)
        if not path:
            continue
        if config.base_url.startswith("https://") and not os.path.exists(path):
            raise PlusofonConfigError(
                f"{name} names a CA bundle that does not exist ({path[:200]!r}): fix or unset it, or set "
                "the connection's extra 'verify'"
            )
        return path
    return True


def connect_timeout(config: PlusofonConnectionConfig, request: Request) -> PlusofonTransportError:
    return PlusofonTransportError(
        f"could not connect within {config.timeout:g}s to {config.base_url}: is the host right, and "
        "reachable from where the task runs?",
        request_sent=False,
        method=request.method,
        path=request.path,
    )


def read_timeout(config: PlusofonConnectionConfig, request: Request) -> PlusofonTransportError:
    return PlusofonTransportError(
        f"no answer within {config.timeout:g}s from {config.base_url} (raise the connection's timeout if "
        "the API is slow)",
        method=request.method,
        path=request.path,
    )


def unbuildable(request: Request, error: Exception) -> PlusofonConfigError:
    # A local error (a header value the library refuses, a malformed URL) cannot heal by
    # retrying, and its text may quote the header: name only its kind.
    return PlusofonConfigError(
        f"{request.method} {request.path}: the request could not be built ({type(error).__name__}); "
        "check the connection's host, Client ID and token"
    )


# What a connection that failed means, in words: one text for both transports.
NO_SUCH_HOST = "its host name does not resolve; check the connection's host"
NOTHING_LISTENING = "nothing accepts connections there; check the connection's host and port"
BROKE = "the connection broke; the API or a proxy on the way may be restarting"


def connection_failed(
    config: PlusofonConnectionConfig, request: Request, failure: str, hint: str, *, request_sent: bool
) -> PlusofonTransportError:
    return PlusofonTransportError(
        f"connection failed ({failure}) to {config.base_url}: {hint}",
        request_sent=request_sent,
        method=request.method,
        path=request.path,
    )


def broke_while_reading(request: Request, error: Exception) -> PlusofonTransportError:
    return PlusofonTransportError(
        f"the connection broke while reading the answer ({type(error).__name__})",
        method=request.method,
        path=request.path,
    )


class RequestsTransport:
    """
    A keep-alive ``requests`` session: the documented headers, the connection's TLS settings,
    redirects never followed, answers read up to ``max_answer_bytes``. Of the environment it takes
    the proxies for the base URL (``HTTPS_PROXY``, ``NO_PROXY`` ...) and, when the connection sets
    no ``verify``, the CA bundle (see :func:`tls_verify`), once, when the session starts; never
    ``~/.netrc``.

    :param config: where and how to reach the API.
    :param pool_size: how many connections may be open at once (one per concurrent request).
    """

    def __init__(self, config: PlusofonConnectionConfig, *, pool_size: int = 10) -> None:
        self.config = config
        self.pool_size = max(10, pool_size)

    @cached_property
    def session(self) -> requests.Session:
        """One keep-alive session, with the headers the API documents."""
        import requests
        from requests.adapters import HTTPAdapter

        config = self.config
        session = requests.Session()
        session.headers.update(api_headers(config))
        # The environment is read once, here, and only fills in what the connection leaves open:
        # requests would walk os.environ for proxies on every request (half of a request's CPU in
        # a task's environment), let a ~/.netrc entry replace the token, and let REQUESTS_CA_BUNDLE
        # override the connection's own verify.
        session.trust_env = False
        session.proxies = requests.utils.get_environ_proxies(config.base_url)
        session.verify = tls_verify(config)
        adapter = HTTPAdapter(pool_connections=self.pool_size, pool_maxsize=self.pool_size, max_retries=0)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        return session

    def send(self, request: Request) -> Answer:
        """Send one request; return its status, its body (read up to the cap) and its headers."""
        import requests

        config, method, path, session = self.config, request.method, request.path, self.session
        try:
            response = session.request(
                method,
                config.base_url + path,
                params=request.params,
                json=request.body,
                timeout=config.timeout,
                allow_redirects=False,
                stream=True,
            )
        except requests.ConnectTimeout as exc:
            raise connect_timeout(config, request) from exc
        except requests.Timeout as exc:
            raise read_timeout(config, request) from exc
        except requests.ConnectionError as exc:
            tls = tls_failure(exc, config.base_url)
            if tls is not None:
                # A TLS problem is the connection's (a scheme, a CA bundle): waiting cannot fix it.
                raise PlusofonConfigError(f"{method} {path}: {tls}") from None
            raise connection_failed(
                config, request, _connection_failure(exc), _hint(exc), request_sent=not _never_connected(exc)
            ) from None
        except (requests.RequestException, ValueError, TypeError, UnicodeError) as exc:
            raise unbuildable(request, exc) from None
        try:
            return Answer(response.status_code, self._read_capped(response, request), response.headers)
        finally:
            response.close()

    def _read_capped(self, response: requests.Response, request: Request) -> bytes:
        """The body, decompressed here (never more than the cap plus one chunk held at once): a
        small compressed answer can expand to gigabytes."""
        import requests
        from urllib3.exceptions import ProtocolError, ReadTimeoutError

        broken = (requests.ConnectionError, requests.exceptions.ChunkedEncodingError, ProtocolError, ReadTimeoutError)
        body = CappedBody(response.status_code, response.headers, request, self.config.max_answer_bytes)
        try:
            for chunk in response.raw.stream(_READ_CHUNK_BYTES, decode_content=False):
                body.add(chunk)
        except broken as exc:
            raise broke_while_reading(request, exc) from None
        return bytes(body.content)


Decoder = Callable[[bytes, int], Iterator[bytes]]


class CappedBody:
    """
    An answer's body as it arrives, decompressed here within the cap, by any transport: a small
    compressed answer can expand to gigabytes, and never more than the cap plus one chunk is held.

    :param status: the answer's status (for the errors).
    :param headers: its headers (``Content-Encoding`` says how to decode).
    :param request: what it answers (for the errors).
    :param cap: the most bytes read, decompressed (``max_answer_bytes``).
    :raises PlusofonInvalidResponseError: for an encoding that was not asked for.
    """

    def __init__(self, status: int, headers: Mapping[str, str], request: Request, cap: int) -> None:
        self.cap = cap
        self.content = bytearray()
        self.where: dict[str, Any] = {"status_code": status, "method": request.method, "path": request.path}
        encoding = headers.get("Content-Encoding")
        decoder = answer_decoder(encoding)
        if decoder is None:
            raise PlusofonInvalidResponseError(
                f"the answer is compressed in a way that was not asked for ({str(encoding)[:40]!r})", **self.where
            )
        self.decoder = decoder

    def add(self, chunk: bytes) -> None:
        """Add a raw chunk's decoded bytes, refusing to hold more than the cap."""
        try:
            for piece in self.decoder(chunk, self.cap + 1 - len(self.content)):
                self.content += piece
                if len(self.content) > self.cap:
                    raise PlusofonInvalidResponseError(
                        f"the answer is larger than {self.cap} bytes (max_answer_bytes); not read further",
                        **self.where,
                    )
        except zlib.error:
            raise PlusofonInvalidResponseError("the answer's compressed body does not decode", **self.where) from None


def answer_decoder(encoding: str | None) -> Decoder | None:
    """What turns the raw body into the answer, at most ``room`` bytes at a time: ``None`` for an
    encoding that was not asked for (the session asks for gzip and deflate only)."""
    name = (encoding or "identity").strip().lower()
    if name == "identity":
        return lambda chunk, room: iter([chunk])
    if name not in ("gzip", "x-gzip", "deflate"):
        return None
    inflate = zlib.decompressobj(16 + zlib.MAX_WBITS if "gzip" in name else zlib.MAX_WBITS)

    def decode(chunk: bytes, room: int) -> Iterator[bytes]:
        data = chunk
        while data:
            # max_length bounds what one call may expand to; the rest waits in unconsumed_tail.
            piece = inflate.decompress(data, max(1, min(room, _READ_CHUNK_BYTES)))
            yield piece
            room -= len(piece)
            data = inflate.unconsumed_tail
            if not piece and not data:
                return

    return decode


def _reason(error: Exception) -> Any:
    reason = error.args[0] if error.args else None
    return getattr(reason, "reason", reason)


def _never_connected(error: Exception) -> bool:
    """Whether a connection error happened before the request could be sent (refused, DNS, TLS)."""
    from urllib3.exceptions import NameResolutionError, NewConnectionError, SSLError

    return isinstance(_reason(error), NewConnectionError | NameResolutionError | SSLError)


# The reasons OpenSSL gives when the other side does not speak TLS at all (a plain-HTTP server).
_NOT_TLS = frozenset({"WRONG_VERSION_NUMBER", "RECORD_LAYER_FAILURE", "HTTP_REQUEST", "PACKET_LENGTH_TOO_LONG"})


def _causes(error: BaseException) -> Iterator[BaseException]:
    """The error, what it wraps (in args, as urllib3 does), and what caused it, each once."""
    seen: set[int] = set()
    stack: list[BaseException] = [error]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        nested = (*current.args, getattr(current, "reason", None), current.__cause__, current.__context__)
        stack += [e for e in nested if isinstance(e, BaseException)]


def tls_failure(error: Exception, url: str) -> str | None:
    """What a TLS failure with ``url`` means, in words; ``None`` when it is no TLS failure."""
    import ssl

    found = next((cause for cause in _causes(error) if isinstance(cause, ssl.SSLError)), None)
    if found is None:
        return None
    if isinstance(found, ssl.SSLCertVerificationError):
        return (
            f"the TLS certificate of {url} cannot be verified ({found.verify_message or found.reason}): set the "
            "connection's extra 'verify' to the CA bundle that signs it"
        )
    if found.reason in _NOT_TLS:
        return f"the TLS handshake with {url} failed: the server there does not speak TLS. Is it http://?"
    return f"the TLS handshake with {url} failed ({found.reason or 'TLS error'})"


def _hint(error: Exception) -> str:
    from urllib3.exceptions import NameResolutionError, NewConnectionError

    reason = _reason(error)
    if isinstance(reason, NameResolutionError):
        return NO_SUCH_HOST
    if isinstance(reason, NewConnectionError):
        return NOTHING_LISTENING
    return BROKE


def _connection_failure(error: Exception) -> str:
    reason = _reason(error)
    return type(reason).__name__ if isinstance(reason, Exception) else type(error).__name__
