"""PlusofonClient: the HTTP client for the Plusofon webhooks API. No Airflow import here.

HTTP only: one method per endpoint, every page, retries, error mapping. It never decides what to
change (that is :mod:`airflow_provider_plusofon.webhooks.reconcile`) and treats every answer as
hostile until checked: ids are validated before they enter a path, nothing but the webhooks
endpoints is ever requested, redirects are refused, answers are capped in size, and paging is
bounded by what the answer proves.
"""

from __future__ import annotations

import email.utils
import json
import logging
import math
import random
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from functools import cached_property
from typing import TYPE_CHECKING, Any, Protocol, TypeVar
from urllib.parse import urlsplit

from airflow_provider_plusofon.exceptions import (
    PlusofonAPIError,
    PlusofonAuthError,
    PlusofonConfigError,
    PlusofonError,
    PlusofonInvalidResponseError,
    PlusofonNotFoundError,
    PlusofonPagingLimitError,
    PlusofonRateLimitError,
    PlusofonRedirectError,
    PlusofonRequestRejected,
    PlusofonServerError,
    PlusofonTransportError,
    PlusofonValidationError,
)
from airflow_provider_plusofon.hooks.config import PlusofonConnectionConfig
from airflow_provider_plusofon.redaction import safe_text, secrets_of, shape

if TYPE_CHECKING:
    # requests and tenacity are imported when the first request is made, not when the scheduler
    # parses a DAG that merely mentions the hook: together they would double our import cost.
    import requests
    from tenacity import RetryCallState, Retrying

WEBHOOKS_PATH = "/api/v1/webhooks"
# The only paths this client ever requests: the list, and one webhook by its numeric id.
_ALLOWED_PATH = re.compile(r"^/api/v1/webhooks(/[1-9][0-9]{0,17})?$")
# Eight requests in flight turn a 20 ms round trip into the cost of the slowest of eight; a 429
# pauses all of them (see PlusofonClient), so a tight rate limit costs waiting, not errors.
DEFAULT_MAX_WORKERS = 8
_READ_CHUNK_BYTES = 64 * 1024

T = TypeVar("T")
R = TypeVar("R")


def _sleep(seconds: float) -> None:
    # Indirection so that tests can patch the wait without patching time.sleep for everyone.
    time.sleep(seconds)


def _monotonic() -> float:
    # Patched together with _sleep in tests, so that a patched wait also moves this clock.
    return time.monotonic()


class _Logger(Protocol):
    # What the client needs of a logger: both logging.Logger and Airflow's task logger fit.
    def warning(self, msg: str, /, *args: Any) -> Any: ...


def valid_webhook_id(value: Any) -> int:
    """
    A webhook id as the API's ids provably are (a positive integer), from an int or its digits.

    Every id passes here before it enters a request path, so that no templated value can turn
    ``/api/v1/webhooks/<id>`` into another endpoint.

    :raises PlusofonConfigError: naming what was given (its shape, cut short), never using it.
    """
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and re.fullmatch(r"\s*[0-9]{1,18}\s*", value):
        number = int(value)
    else:
        shown = repr(value)[:40] if isinstance(value, str | int | float) else shape(value)
        raise PlusofonConfigError(f"webhook id must be a positive integer, got {shown}")
    if not 0 < number < 10**18:
        raise PlusofonConfigError(f"webhook id must be a positive integer, got {number}")
    return number


def _retry_after_seconds(value: str | None) -> float | None:
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        seconds = math.nan
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        seconds = (when - datetime.now(timezone.utc)).total_seconds()
    if not math.isfinite(seconds):
        return None  # "nan" or "inf" say nothing about when to come back: back off instead
    return max(0.0, seconds)


def _field_errors(value: Any, secrets: Sequence[str]) -> dict[str, list[str]] | None:
    """Laravel's ``errors`` in whatever JSON shape the server sent, redacted, bounded."""
    if value in (None, "", [], {}):
        return None
    entries = value.items() if isinstance(value, Mapping) else [("errors", value)]
    errors: dict[str, list[str]] = {}
    for key, messages in list(entries)[:20]:
        listed = messages if isinstance(messages, list) else [messages]
        errors[safe_text(str(key), secrets, 80)] = [safe_text(str(m), secrets) for m in listed[:10]]
    return errors


def _error_for(
    status: int, body: Any, text: str, retry_after: str | None, method: str, path: str, secrets: Sequence[str]
) -> PlusofonAPIError:
    if isinstance(body, Mapping):
        message = safe_text(str(body.get("message") or "no message in the response"), secrets)
        errors = _field_errors(body.get("errors"), secrets)
    else:
        snippet = safe_text(text, secrets, 200)
        message = f"non-JSON response: {snippet}" if snippet else "empty response body"
        errors = None
    kwargs: dict[str, Any] = {"status_code": status, "errors": errors, "method": method, "path": path}
    if status in (401, 403):
        return PlusofonAuthError(message, **kwargs)
    if status == 404:
        return PlusofonNotFoundError(message, **kwargs)
    if status == 422:
        return PlusofonValidationError(message, **kwargs)
    if status == 429:
        return PlusofonRateLimitError(message, retry_after=_retry_after_seconds(retry_after), **kwargs)
    if status >= 500:
        return PlusofonServerError(message, **kwargs)
    if status < 400:
        # `success: false` is the API refusing; a 2xx that is not JSON is a broken server or proxy.
        if isinstance(body, Mapping):
            return PlusofonRequestRejected(message, **kwargs)
        return PlusofonInvalidResponseError(message, **kwargs)
    return PlusofonAPIError(message, **kwargs)


def _is_valid_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < 10**18


def _positive_int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def _pages_spanned_by_newest(count: int, per_page: int, total: int, last_page: int) -> int:
    """How many pages, from the last back, the ``count`` newest items fill."""
    on_last_page = min(per_page, total - (last_page - 1) * per_page)
    if count <= on_last_page or on_last_page <= 0:
        return max(1, math.ceil(count / per_page))
    return 1 + math.ceil((count - on_last_page) / per_page)


def _unique_by_id(items: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    # Items can shift between pages while we page (a create or delete elsewhere): keep each id once.
    seen: set[Any] = set()
    unique = []
    for item in items:
        if item["id"] in seen:
            continue
        seen.add(item["id"])
        unique.append(dict(item))
    return unique


class PlusofonClient:
    """
    Client for the Plusofon webhooks API: one method per endpoint, every page, retries.

    Reads, updates and deletes are retried on what :attr:`PlusofonError.transient` says waiting
    can fix (connection errors, timeouts, 429 and 500/502/503/504) with exponential backoff and
    jitter. A create is re-sent only when the error proves nothing was stored (a 429, or a
    connection that could not be opened); any other failure of a POST is raised for the caller
    (:func:`~airflow_provider_plusofon.webhooks.reconcile.create_webhooks`) to look before it
    decides anything. A 429 pauses every request of this client until its ``Retry-After`` has
    passed, not only the one that met it.

    :param config: where and how to reach the API.
    :param max_workers: how many requests may run at once (pages, detail views, writes).
    :param on_secrets: called with the secret values (header values, URL passwords) of every
        webhook the client reads or sends, before they can reach a log line (the hook passes
        Airflow's secret masker). Always from the thread that called the client, never from its
        worker threads: on Airflow 3.0 and 3.1 the masker talks to the supervisor over a channel
        that is not safe to use from several threads at once.
    :param logger: where retries are reported (default: this module's logger).
    """

    backoff_base_seconds = 0.5
    backoff_max_seconds = 30.0
    retry_after_max_seconds = 60.0

    def __init__(
        self,
        config: PlusofonConnectionConfig,
        *,
        max_workers: int = DEFAULT_MAX_WORKERS,
        on_secrets: Callable[[list[str]], None] | None = None,
        logger: _Logger | None = None,
    ) -> None:
        self.config = config
        self.max_workers = max(1, int(max_workers))
        self._on_secrets = on_secrets
        self.log: _Logger = logger or logging.getLogger(__name__)
        self._lock = threading.Lock()
        self._paused_until = 0.0
        self._worker = threading.local()
        self._secrets_from_workers: list[str] = []

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.config.base_url!r})"

    @cached_property
    def session(self) -> requests.Session:
        """One keep-alive session per client, with the headers the API documents."""
        import requests
        from requests.adapters import HTTPAdapter

        config = self.config
        session = requests.Session()
        session.headers.update(
            {
                "Content-Type": "application/json",
                "Accept": "application/json",
                "Client": config.client_id,
                "Authorization": f"Bearer {config.token}",
            }
        )
        session.verify = config.verify
        pool = max(10, self.max_workers)
        adapter = HTTPAdapter(pool_connections=pool, pool_maxsize=pool, max_retries=0)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        return session

    def reveal_secrets(self, webhooks: Any) -> None:
        """Hand the secret values of these webhooks (or bodies) to ``on_secrets``; from a worker
        thread, they are handed over by the thread that started it, when the workers are done."""
        if self._on_secrets is None or not (found := secrets_of(webhooks)):
            return
        if getattr(self._worker, "active", False):
            with self._lock:
                self._secrets_from_workers += found
            return
        self._on_secrets(found)

    def _reveal_secrets_from_workers(self) -> None:
        with self._lock:
            found, self._secrets_from_workers = self._secrets_from_workers, []
        if found and self._on_secrets is not None:
            self._on_secrets(found)

    # -- transport ----------------------------------------------------------------------------

    def _pause_for_rate_limit(self, seconds: float) -> None:
        with self._lock:
            self._paused_until = max(self._paused_until, _monotonic() + seconds)

    def _rate_limit_pause_left(self) -> float:
        with self._lock:
            return max(0.0, self._paused_until - _monotonic())

    def _secrets_of_request(self, body: Any) -> list[str]:
        return [*self.config.secrets, *secrets_of(body)]

    def _request_once(
        self, method: str, path: str, *, params: Mapping[str, Any] | None = None, body: Any = None
    ) -> Any:
        if not _ALLOWED_PATH.match(path):
            # Unreachable through the public methods (they validate ids); a last line all the same.
            raise PlusofonConfigError(f"refusing to request {path[:60]!r}: not a webhooks endpoint")
        while (pause := self._rate_limit_pause_left()) > 0:  # another 429 may extend it meanwhile
            _sleep(pause)
        status, content, headers = self._exchange(method, path, params, body)
        secrets = self._secrets_of_request(body)
        try:
            parsed = json.loads(content) if content.strip() else None
        except (ValueError, RecursionError):
            parsed = None
        if 300 <= status < 400:
            location = urlsplit(headers.get("Location") or "").hostname or "an unnamed address"
            raise PlusofonRedirectError(
                f"the API answered with a redirect to {safe_text(location, secrets, 80)}; redirects are not "
                "followed (the token would go with them): set the connection's host to the final address",
                status_code=status,
                method=method,
                path=path,
            )
        failed = status >= 400 or (isinstance(parsed, dict) and parsed.get("success") is False)
        if failed or (parsed is None and content.strip()):
            text = content.decode("utf-8", "replace")
            error = _error_for(status, parsed, text, headers.get("Retry-After"), method, path, secrets)
            if isinstance(error, PlusofonRateLimitError):
                wait = self._backoff(1) if error.retry_after is None else error.retry_after
                self._pause_for_rate_limit(min(wait, self.retry_after_max_seconds))
            raise error
        return parsed

    def _exchange(
        self, method: str, path: str, params: Mapping[str, Any] | None, body: Any
    ) -> tuple[int, bytes, Mapping[str, str]]:
        """Send one request; return its status, its body (read up to the cap) and its headers."""
        import requests

        config = self.config
        try:
            response = self.session.request(
                method,
                config.base_url + path,
                params=params,
                json=body,
                timeout=config.timeout,
                allow_redirects=False,
                stream=True,
            )
        except requests.ConnectTimeout as exc:
            raise PlusofonTransportError(
                f"could not connect within {config.timeout:g}s", request_sent=False, method=method, path=path
            ) from exc
        except requests.Timeout as exc:
            raise PlusofonTransportError(f"no answer within {config.timeout:g}s", method=method, path=path) from exc
        except requests.ConnectionError as exc:
            raise PlusofonTransportError(
                f"connection failed ({_connection_failure(exc)})",
                request_sent=not _never_connected(exc),
                method=method,
                path=path,
            ) from None
        except (requests.RequestException, ValueError, TypeError, UnicodeError) as exc:
            # A local error (a header value requests refuses, a malformed URL) cannot heal by
            # retrying, and its text may quote the header: name only its kind.
            raise PlusofonConfigError(
                f"{method} {path}: the request could not be built ({type(exc).__name__}); "
                "check the connection's host, Client ID and token"
            ) from None
        try:
            return response.status_code, self._read_capped(response, method, path), response.headers
        finally:
            response.close()

    def _read_capped(self, response: requests.Response, method: str, path: str) -> bytes:
        import requests

        cap = self.config.max_answer_bytes
        content = bytearray()
        try:
            for chunk in response.iter_content(_READ_CHUNK_BYTES):
                content += chunk
                if len(content) > cap:
                    raise PlusofonInvalidResponseError(
                        f"the answer is larger than {cap} bytes (max_answer_bytes); not read further",
                        status_code=response.status_code,
                        method=method,
                        path=path,
                    )
        except requests.exceptions.ContentDecodingError:
            raise PlusofonInvalidResponseError(
                "the answer's compressed body does not decode",
                status_code=response.status_code,
                method=method,
                path=path,
            ) from None
        except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
            raise PlusofonTransportError(
                f"the connection broke while reading the answer ({type(exc).__name__})", method=method, path=path
            ) from None
        return bytes(content)

    def _backoff(self, attempt: int) -> float:
        exponential = self.backoff_base_seconds * 2 ** (attempt - 1)
        return min(exponential, self.backoff_max_seconds) + random.uniform(0, self.backoff_base_seconds)

    def _wait_seconds(self, retry_state: RetryCallState) -> float:
        error = retry_state.outcome.exception() if retry_state.outcome else None
        if isinstance(error, PlusofonRateLimitError):
            if error.retry_after is None and retry_state.attempt_number > 1:
                # No Retry-After, again: back off further, and hold the other workers as long.
                self._pause_for_rate_limit(self._backoff(retry_state.attempt_number))
            # The pause the 429 started is shared: wait out what is left of it, not a second one.
            return self._rate_limit_pause_left()
        return self._backoff(retry_state.attempt_number)

    def _log_retry(self, retry_state: RetryCallState) -> None:
        error = retry_state.outcome.exception() if retry_state.outcome else None
        wait = retry_state.next_action.sleep if retry_state.next_action else 0.0
        if isinstance(error, PlusofonAPIError):
            what = f"HTTP {error.status_code}" if error.status_code else error.message
            where = f"{error.method} {error.path}"
        else:
            what, where = type(error).__name__, "request"
        self.log.warning(
            "Plusofon %s failed (%s); retry %d of %d in %.1fs",
            where,
            what,
            retry_state.attempt_number,
            self.config.max_retries,
            wait,
        )

    def _retrying(self, worth_retrying: Callable[[PlusofonError], bool]) -> Retrying:
        from tenacity import Retrying, retry_if_exception, stop_after_attempt

        return Retrying(
            stop=stop_after_attempt(self.config.max_retries + 1),
            wait=self._wait_seconds,
            retry=retry_if_exception(lambda error: isinstance(error, PlusofonError) and worth_retrying(error)),
            before_sleep=self._log_retry,
            sleep=lambda seconds: _sleep(seconds),
            reraise=True,
        )

    def _send(self, method: str, path: str, *, params: Mapping[str, Any] | None = None, body: Any = None) -> Any:
        """Send an idempotent request (GET, PUT, DELETE), retrying what waiting can fix."""
        return self._retrying(_transient)(self._request_once, method, path, params=params, body=body)

    def map_concurrently(self, func: Callable[[T], R], items: Sequence[T]) -> list[R]:
        """Apply ``func`` to ``items`` on up to ``max_workers`` threads, keeping their order."""
        if self.max_workers == 1 or len(items) <= 1:
            return [func(item) for item in items]

        def in_worker(item: T) -> R:
            self._worker.active = True
            return func(item)

        try:
            with ThreadPoolExecutor(max_workers=min(self.max_workers, len(items))) as pool:
                futures = [pool.submit(in_worker, item) for item in items]
                try:
                    return [future.result() for future in futures]
                except BaseException:
                    # One failure decides the outcome: do not send what has not started yet.
                    for future in futures:
                        future.cancel()
                    raise
        finally:
            self._reveal_secrets_from_workers()

    # -- listing ------------------------------------------------------------------------------

    def _invalid(self, text: str, *, page: int | None = None) -> PlusofonInvalidResponseError:
        where = f"page {page} of the list: " if page is not None else ""
        return PlusofonInvalidResponseError(where + text, status_code=200, method="GET", path=WEBHOOKS_PATH)

    def list_page(self, page: int, type: str | None = None) -> dict[str, Any]:
        """
        One page of the list, checked: a paginator whose ``data`` items each have a valid id.

        :param page: the page number (1 for the first).
        :param type: the documented list filter (e.g. ``"lk"``), sent as a JSON body.
        """
        body = {"type": type} if type else None
        answer = self._send("GET", WEBHOOKS_PATH, params={"page": page}, body=body)
        if not isinstance(answer, dict) or not isinstance(answer.get("data"), list):
            raise self._invalid("the answer is not a paginator with a 'data' array", page=page)
        current = answer.get("current_page")
        if current is not None and str(current) != str(page):
            raise self._invalid(f"asked for page {page}, the answer says it is page {str(current)[:20]!r}", page=page)
        for position, item in enumerate(answer["data"]):
            if not isinstance(item, dict) or not _is_valid_id(item.get("id")):
                found = shape(item.get("id")) if isinstance(item, dict) else shape(item)
                raise self._invalid(
                    f"item {position} has no valid id (got {found}); the listing cannot be trusted", page=page
                )
        return answer

    def _page_count(self, first: Mapping[str, Any]) -> int | None:
        """How many pages the list has, as far as page 1 proves it (``None``: it does not say)."""
        last_page, total, per_page = (first.get(key) for key in ("last_page", "total", "per_page"))
        proven = None
        if _positive_int(per_page) and isinstance(total, int) and not isinstance(total, bool) and total >= 0:
            proven = max(1, math.ceil(total / per_page))  # type: ignore[operator]
        if last_page is None:
            return proven
        if not _positive_int(last_page):
            raise self._invalid(f"last_page is not a positive integer (got {shape(last_page)})", page=1)
        if proven is not None and last_page != proven:
            raise self._invalid(
                f"the paginator contradicts itself: last_page={last_page}, but total={total} and "
                f"per_page={per_page} make {proven} page(s)",
                page=1,
            )
        return int(last_page)

    def _check_page_limit(self, pages: int) -> None:
        if pages > self.config.max_pages:
            raise PlusofonPagingLimitError(
                f"the list has {pages} or more pages, more than max_pages={self.config.max_pages}; raise the "
                "connection's extra 'max_pages' if the account really is that large",
                method="GET",
                path=WEBHOOKS_PATH,
            )

    def list_webhooks(self, type: str | None = None) -> list[dict[str, Any]]:
        """
        Return every webhook on the account, from every page.

        Pages are fetched with ``?page=N`` against the configured base URL: the links the API
        puts in its paginator point at its own idea of its host, so they are never followed.
        Once page 1 tells how many pages there are, the others are fetched concurrently. Paging
        is bounded by what page 1 proves (``last_page``, or ``total``/``per_page``), stops when a
        page brings no new id, and never goes past ``max_pages``.

        :param type: the documented list filter (e.g. ``"lk"``), sent as a JSON body.
        :return: list items (``id``, ``url``, ``type_call``, ``type``, ``event``), each id once.
        """
        return self._rest_of_listing(self.list_page(1, type), type)

    def _rest_of_listing(self, first: dict[str, Any], type: str | None) -> list[dict[str, Any]]:
        """Every webhook, given page 1 as already fetched."""
        count = self._page_count(first)
        seen = {item["id"] for item in first["data"]}
        if count is not None:
            self._check_page_limit(count)
            pages = self.map_concurrently(lambda n: self.list_page(n, type), range(2, count + 1))
            for number, page in enumerate(pages, start=2):
                self._add_new_ids(seen, page, number)
            return _unique_by_id(item for page in [first, *pages] for item in page["data"])
        # Not a full paginator: follow page numbers while the server says there is more.
        pages, number = [first], 1
        while pages[-1].get("next_page_url") and pages[-1]["data"]:
            self._check_page_limit(number + 1)
            number += 1
            pages.append(self.list_page(number, type))
            self._add_new_ids(seen, pages[-1], number)
        return _unique_by_id(item for page in pages for item in page["data"])

    def _add_new_ids(self, seen: set[int], page: Mapping[str, Any], number: int) -> None:
        # A server that ignores ?page= answers page 1 every time: that must not pass for a listing.
        ids = {item["id"] for item in page["data"]}
        if ids and ids <= seen:
            raise self._invalid("it repeats only webhooks of earlier pages; the server may ignore ?page=", page=number)
        seen |= ids

    def list_newest_first(self, newest: int, found_all: Callable[[list[dict[str, Any]]], bool]) -> list[dict[str, Any]]:
        """
        List from the last page back until ``found_all`` is satisfied with what was read.

        Accounts list oldest first as a rule, so new webhooks fill the last pages: after page 1
        (which tells how many pages there are) this reads, at once, as many last pages as
        ``newest`` items can span, where a full listing reads them all. Whatever the order, it
        stops only when ``found_all`` says so, or when every page was read.

        :param newest: how many new items are looked for.
        :param found_all: called with every item read so far.
        """
        first = self.list_page(1)
        count = self._page_count(first)
        if count is None:
            return self._rest_of_listing(first, None)
        self._check_page_limit(count)
        per_page, total = _positive_int(first.get("per_page")), first.get("total")
        batch = 1
        if per_page and isinstance(total, int):
            batch = _pages_spanned_by_newest(newest, per_page, total, count)
        items = list(first["data"])
        remaining = list(range(count, 1, -1))
        while remaining and not found_all(_unique_by_id(items)):
            pages, remaining = remaining[:batch], remaining[batch:]
            for page in self.map_concurrently(lambda n: self.list_page(n, None), pages):
                items += page["data"]
            batch = max(batch, self.max_workers)
        return _unique_by_id(items)

    # -- one webhook --------------------------------------------------------------------------

    def get_webhook(self, webhook_id: int | str) -> dict[str, Any]:
        """
        Return one webhook's full detail view (with ``fields``, ``headers``, ``params`` ...).

        :param webhook_id: the webhook's id (a positive integer, or its digits).
        """
        number = valid_webhook_id(webhook_id)
        path = f"{WEBHOOKS_PATH}/{number}"
        answer = self._send("GET", path)
        if not isinstance(answer, dict) or answer.get("id", number) != number:
            raise PlusofonInvalidResponseError(
                f"the answer is not webhook #{number}", status_code=200, method="GET", path=path
            )
        self.reveal_secrets(answer)
        return {**answer, "id": number}

    def get_webhooks(self, webhook_ids: Iterable[int | str]) -> dict[int, dict[str, Any]]:
        """
        Return the detail views of several webhooks, fetched concurrently.

        :param webhook_ids: ids to fetch.
        :return: a mapping of id to detail view.
        """
        ids = list(dict.fromkeys(valid_webhook_id(i) for i in webhook_ids))
        return dict(zip(ids, self.map_concurrently(self.get_webhook, ids), strict=True))

    def post_webhook(self, webhook: Mapping[str, Any]) -> None:
        """
        Send one create (the API answers without the new id).

        Re-sent only when the error proves nothing was stored (a 429, or a connection that could
        not be opened). Any other failure is raised: when its ``may_have_taken_effect`` is true
        the webhook may exist, and only a look at the list can tell.

        :param webhook: the POST body (``url`` and ``event`` required).
        """
        self.reveal_secrets(webhook)
        self._retrying(_safe_to_resend)(self._request_once, "POST", WEBHOOKS_PATH, body=dict(webhook))

    def update_webhook(self, webhook_id: int | str, webhook: Mapping[str, Any]) -> None:
        """
        Replace a webhook's fields (PUT with the full body, as the API requires).

        :param webhook_id: the webhook's id.
        :param webhook: the full body, same fields as a create.
        """
        number = valid_webhook_id(webhook_id)
        self.reveal_secrets(webhook)
        self._send("PUT", f"{WEBHOOKS_PATH}/{number}", body=dict(webhook))

    def delete_webhook(self, webhook_id: int | str, *, missing_ok: bool = False) -> None:
        """
        Delete a webhook.

        :param webhook_id: the webhook's id.
        :param missing_ok: treat an unknown id as already deleted instead of raising.
        """
        path = f"{WEBHOOKS_PATH}/{valid_webhook_id(webhook_id)}"
        retrying = self._retrying(_transient)
        try:
            retrying(self._request_once, "DELETE", path)
        except PlusofonNotFoundError:
            # A 404 after a retry means the first, unanswered DELETE did its job.
            if missing_ok or retrying.statistics.get("attempt_number", 1) > 1:
                return
            raise

    def test_connection(self) -> tuple[bool, str]:
        """Check the Client ID and token with one cheap request. Never raises."""
        try:
            answer = self._request_once("GET", WEBHOOKS_PATH, params={"page": 1})
        except PlusofonAuthError as error:
            return False, f"Authentication failed: check the Client ID and the API token ({error.message})"
        except Exception as error:
            return False, str(error)
        total = answer.get("total") if isinstance(answer, dict) else None
        suffix = f": {total} webhook(s) on the account" if isinstance(total, int) else ""
        return True, f"Connected to {self.config.base_url}{suffix}"


def _transient(error: PlusofonError) -> bool:
    return error.transient


def _safe_to_resend(error: PlusofonError) -> bool:
    return error.transient and not error.may_have_taken_effect


def _never_connected(error: Exception) -> bool:
    """Whether a connection error happened before the request could be sent (refused, DNS, TLS)."""
    from urllib3.exceptions import NameResolutionError, NewConnectionError, SSLError

    reason = error.args[0] if error.args else None
    reason = getattr(reason, "reason", reason)
    return isinstance(reason, NewConnectionError | NameResolutionError | SSLError)


def _connection_failure(error: Exception) -> str:
    reason = error.args[0] if error.args else None
    reason = getattr(reason, "reason", reason)
    return type(reason).__name__ if isinstance(reason, Exception) else type(error).__name__
