"""PlusofonClient: the HTTP client for the Plusofon webhooks API. No Airflow import here.

:class:`~airflow_provider_plusofon.hooks.plusofon.PlusofonHook` builds one from an Airflow
connection. Keeping the HTTP apart lets it run where importing Airflow would cost more than the
work it does (a script, or measuring the client's own memory), and keeps the retry, paging and
create-with-id rules in one place.
"""

from __future__ import annotations

import email.utils
import logging
import math
import random
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import cached_property
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from airflow_provider_plusofon.exceptions import (
    CreateWebhooksError,
    PlusofonAPIError,
    PlusofonAuthError,
    PlusofonNotFoundError,
    PlusofonRateLimitError,
    PlusofonRequestRejected,
    PlusofonServerError,
    PlusofonTransportError,
    PlusofonValidationError,
)

if TYPE_CHECKING:
    # requests and tenacity are imported when the first request is made, not when the scheduler
    # parses a DAG that merely mentions the hook: together they would double our import cost.
    import requests
    from tenacity import RetryCallState, Retrying

DEFAULT_BASE_URL = "https://restapi.plusofon.ru"
WEBHOOKS_PATH = "/api/v1/webhooks"
RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})
# A server error may have come after the write was stored: before re-sending a POST, look.
ANSWER_MAY_BE_LOST_STATUS = frozenset({500, 502, 503, 504})
# Stops a server that never reports last_page from keeping us paging forever.
MAX_PAGES = 100_000
# Eight requests in flight turn a 20 ms round trip into the cost of the slowest of eight; a 429
# pauses all of them (see PlusofonClient), so a tight rate limit costs waiting, not errors.
DEFAULT_MAX_WORKERS = 8

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


@dataclass(frozen=True)
class PlusofonConnectionConfig:
    """
    What the client needs to reach the API.

    :param base_url: scheme, host and optional port/path prefix, without a trailing slash.
    :param client_id: sent as the ``Client`` header.
    :param token: the API token, sent as ``Authorization: Bearer ...``; never in ``repr``.
    :param timeout: seconds to wait for an answer.
    :param verify: TLS verification, or a CA bundle path.
    :param max_retries: retries after the first attempt for retryable failures.
    :param conn_id: the Airflow connection it came from, if any (for messages).
    """

    base_url: str
    client_id: str
    token: str = field(repr=False)
    timeout: float = 30.0
    verify: bool | str = True
    max_retries: int = 5
    conn_id: str = ""


def _retry_after_seconds(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


def _text_snippet(text: str, limit: int = 200) -> str:
    # A proxy's HTML error page is noise in a log: keep its words, drop the markup.
    words = " ".join(re.sub(r"<[^>]+>", " ", text).split())
    return words[:limit] + ("…" if len(words) > limit else "")


def _error_for(response: requests.Response, body: Any, method: str, path: str, secret: str) -> PlusofonAPIError:
    status = response.status_code
    if isinstance(body, dict):
        message = str(body.get("message") or "no message in the response")
        errors = body.get("errors") if isinstance(body.get("errors"), dict) else None
    else:
        snippet = _text_snippet(response.text)
        message = f"non-JSON response: {snippet}" if snippet else "empty response body"
        errors = None
    # A server (or a proxy) that echoes the request must not put the token into our messages.
    message = message.replace(secret, "***")
    if errors:
        errors = {k: [str(m).replace(secret, "***") for m in v] for k, v in errors.items()}
    kwargs: dict[str, Any] = {"status_code": status, "errors": errors, "method": method, "path": path}
    if status in (401, 403):
        return PlusofonAuthError(message, **kwargs)
    if status == 404:
        return PlusofonNotFoundError(message, **kwargs)
    if status == 422:
        return PlusofonValidationError(message, **kwargs)
    if status == 429:
        retry_after = _retry_after_seconds(response.headers.get("Retry-After"))
        return PlusofonRateLimitError(message, retry_after=retry_after, **kwargs)
    if status >= 500:
        return PlusofonServerError(message, **kwargs)
    if status < 400:
        # `success: false` is the API refusing; a 2xx that is not JSON is a broken server or proxy.
        if isinstance(body, dict):
            return PlusofonRequestRejected(message, **kwargs)
        return PlusofonServerError(message, **kwargs)
    return PlusofonAPIError(message, **kwargs)


def _is_retryable(error: BaseException) -> bool:
    if isinstance(error, PlusofonTransportError):
        return True
    return isinstance(error, PlusofonAPIError) and error.status_code in RETRYABLE_STATUS


def _answer_may_be_lost(error: BaseException) -> bool:
    if isinstance(error, PlusofonTransportError):
        return True
    return isinstance(error, PlusofonAPIError) and error.status_code in ANSWER_MAY_BE_LOST_STATUS


def _same_identity(body: Mapping[str, Any], item: Mapping[str, Any]) -> bool:
    """Whether a listed webhook has the url, event (and type_call, when given) of a create body."""
    if item.get("url") != body.get("url") or item.get("event") != body.get("event"):
        return False
    return body.get("type_call") is None or item.get("type_call") == body.get("type_call")


def header_values(webhook: Mapping[str, Any]) -> list[str]:
    """The non-empty header values of a webhook or spec: they usually carry the receiving
    service's credentials, so they are treated as secrets."""
    return [
        header["value"]
        for header in webhook.get("headers") or []
        if isinstance(header, Mapping) and isinstance(header.get("value"), str) and header["value"]
    ]


def _pages_spanned_by_newest(count: int, paginator: Mapping[str, Any]) -> int:
    """How many pages, from the last back, the ``count`` newest items fill (1 when unknown)."""
    numbers = [paginator.get(key) for key in ("per_page", "total", "last_page")]
    if not all(isinstance(n, int) and n > 0 for n in numbers):
        return 1
    per_page, total, last_page = (int(n) for n in numbers)  # type: ignore[arg-type]
    on_last_page = min(per_page, total - (last_page - 1) * per_page)
    if count <= on_last_page or on_last_page <= 0:
        return max(1, math.ceil(count / per_page))
    return 1 + math.ceil((count - on_last_page) / per_page)


def _unique_by_id(items: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    # Items can shift between pages while we page (a create or delete elsewhere): keep each id once.
    seen: set[Any] = set()
    unique = []
    for item in items:
        if item.get("id") in seen:
            continue
        seen.add(item.get("id"))
        unique.append(dict(item))
    return unique


class PlusofonClient:
    """
    Client for the Plusofon webhooks API: one method per endpoint, every page, retries, and ids
    for created webhooks.

    Reads, updates and deletes are retried on connection errors, timeouts, 429 and 5xx with
    exponential backoff and jitter. A 429 pauses every request of this client until its
    ``Retry-After`` has passed, not only the one that met it: the other threads would otherwise
    spend their retries on the same limit. A create is never re-sent blindly: when its answer is
    lost the client looks for the webhook before sending again.

    :param config: where and how to reach the API.
    :param max_workers: how many requests may run at once (pages, detail views, writes).
    :param mask_secrets: called with header values before they can reach a log line (the hook
        passes Airflow's secret masker); each value is passed once per client.
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
        mask_secrets: Callable[[list[str]], None] | None = None,
        logger: _Logger | None = None,
    ) -> None:
        self.config = config
        self.max_workers = max(1, int(max_workers))
        self._mask_secrets = mask_secrets
        self._masked: set[str] = set()
        self.log: _Logger = logger or logging.getLogger(__name__)
        self._lock = threading.Lock()
        self._paused_until = 0.0

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

    def mask_headers(self, webhooks: Iterable[Mapping[str, Any]]) -> None:
        """Hand the header values of these webhooks to ``mask_secrets``, each value once."""
        if self._mask_secrets is None:
            return
        with self._lock:
            new = [v for w in webhooks for v in header_values(w) if v not in self._masked]
            self._masked.update(new)
        if new:
            self._mask_secrets(list(dict.fromkeys(new)))

    # -- transport ----------------------------------------------------------------------------

    def _pause_for_rate_limit(self, seconds: float) -> None:
        with self._lock:
            self._paused_until = max(self._paused_until, _monotonic() + seconds)

    def _rate_limit_pause_left(self) -> float:
        with self._lock:
            return max(0.0, self._paused_until - _monotonic())

    def _request_once(
        self, method: str, path: str, *, params: Mapping[str, Any] | None = None, body: Any = None
    ) -> Any:
        import requests

        while (pause := self._rate_limit_pause_left()) > 0:  # another 429 may extend it meanwhile
            _sleep(pause)
        url = self.config.base_url + path
        try:
            response = self.session.request(method, url, params=params, json=body, timeout=self.config.timeout)
        except requests.Timeout as exc:
            raise PlusofonTransportError(
                f"no answer within {self.config.timeout:g}s", method=method, path=path
            ) from exc
        except requests.RequestException as exc:
            raise PlusofonTransportError(f"connection failed ({type(exc).__name__})", method=method, path=path) from exc

        try:
            parsed = response.json() if response.content else None
        except ValueError:
            parsed = None
        failed = response.status_code >= 400 or (isinstance(parsed, dict) and parsed.get("success") is False)
        if failed or (parsed is None and response.content):
            error = _error_for(response, parsed, method, path, self.config.token)
            if isinstance(error, PlusofonRateLimitError):
                wait = self._backoff(1) if error.retry_after is None else error.retry_after
                self._pause_for_rate_limit(min(wait, self.retry_after_max_seconds))
            raise error
        return parsed

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
            what, where = repr(error), "request"
        self.log.warning(
            "Plusofon %s failed (%s); retry %d of %d in %.1fs",
            where,
            what,
            retry_state.attempt_number,
            self.config.max_retries,
            wait,
        )

    def _retrying(self) -> Retrying:
        from tenacity import Retrying, retry_if_exception, stop_after_attempt

        return Retrying(
            stop=stop_after_attempt(self.config.max_retries + 1),
            wait=self._wait_seconds,
            retry=retry_if_exception(_is_retryable),
            before_sleep=self._log_retry,
            sleep=lambda seconds: _sleep(seconds),
            reraise=True,
        )

    def _send(self, method: str, path: str, *, params: Mapping[str, Any] | None = None, body: Any = None) -> Any:
        """Send an idempotent request (GET, PUT, DELETE), retrying what is worth retrying."""
        return self._retrying()(self._request_once, method, path, params=params, body=body)

    def map_concurrently(self, func: Callable[[T], R], items: Sequence[T]) -> list[R]:
        """Apply ``func`` to ``items`` on up to ``max_workers`` threads, keeping their order."""
        if self.max_workers == 1 or len(items) <= 1:
            return [func(item) for item in items]
        with ThreadPoolExecutor(max_workers=min(self.max_workers, len(items))) as pool:
            futures = [pool.submit(func, item) for item in items]
            try:
                return [future.result() for future in futures]
            except BaseException:
                # One failure decides the outcome: do not send what has not started yet.
                for future in futures:
                    future.cancel()
                raise

    # -- webhooks -----------------------------------------------------------------------------

    def _list_page(self, page: int, type: str | None) -> dict[str, Any]:
        body = {"type": type} if type else None
        answer = self._send("GET", WEBHOOKS_PATH, params={"page": page}, body=body)
        if not isinstance(answer, dict) or not isinstance(answer.get("data"), list):
            raise PlusofonServerError(
                "the list answer is not a paginator with a 'data' array",
                status_code=200,
                method="GET",
                path=WEBHOOKS_PATH,
            )
        return answer

    def list_webhooks(self, type: str | None = None) -> list[dict[str, Any]]:
        """
        Return every webhook on the account, from every page.

        Pages are fetched with ``?page=N`` against the configured base URL: the links the API
        puts in its paginator point at its own idea of its host, so they are never followed.
        Once page 1 tells ``last_page``, the other pages are fetched concurrently.

        :param type: the documented list filter (e.g. ``"lk"``), sent as a JSON body.
        :return: list items (``id``, ``url``, ``type_call``, ``type``, ``event``), each id once.
        """
        return self._list_from(self._list_page(1, type), type)

    def _list_from(self, first: dict[str, Any], type: str | None) -> list[dict[str, Any]]:
        """Every webhook, given page 1 as already fetched."""
        pages = [first]
        last_page = first.get("last_page")
        if isinstance(last_page, int):
            pages += self.map_concurrently(lambda n: self._list_page(n, type), range(2, min(last_page, MAX_PAGES) + 1))
        else:
            # Not a full paginator: follow page numbers while the server says there is more.
            page, current = 1, first
            while current.get("next_page_url") and current["data"] and page < MAX_PAGES:
                page += 1
                current = self._list_page(page, type)
                pages.append(current)
        return _unique_by_id(item for page in pages for item in page["data"])

    def get_webhook(self, webhook_id: int | str) -> dict[str, Any]:
        """
        Return one webhook's full detail view (with ``fields``, ``headers``, ``params`` ...).

        :param webhook_id: the webhook's id.
        """
        path = f"{WEBHOOKS_PATH}/{webhook_id}"
        answer = self._send("GET", path)
        if not isinstance(answer, dict):
            raise PlusofonServerError("the webhook answer is not an object", status_code=200, method="GET", path=path)
        self.mask_headers([answer])
        return answer

    def get_webhooks(self, webhook_ids: Iterable[int | str]) -> dict[Any, dict[str, Any]]:
        """
        Return the detail views of several webhooks, fetched concurrently.

        :param webhook_ids: ids to fetch.
        :return: a mapping of id to detail view.
        """
        ids = list(dict.fromkeys(webhook_ids))
        return dict(zip(ids, self.map_concurrently(self.get_webhook, ids), strict=True))

    def create_webhook(self, webhook: Mapping[str, Any]) -> dict[str, Any]:
        """
        Create a webhook and return it with the id the API does not send back.

        :param webhook: the POST body (``url`` and ``event`` required).
        """
        try:
            return self.create_webhooks([webhook])[0]
        except CreateWebhooksError as error:
            raise error.failures[0][1] from None

    def create_webhooks(
        self, webhooks: Sequence[Mapping[str, Any]], *, existing: Sequence[Mapping[str, Any]] | None = None
    ) -> list[dict[str, Any]]:
        """
        Create several webhooks and return them, in order, with their new ids.

        The API answers a create with ``{"success": true}`` only, so the new ids are found by
        listing after the writes and matching on content (url, event, type_call) among the ids
        that were not there before. A lost answer never leads to a duplicate: before a POST is
        sent again, the account is listed and a webhook stored by the lost request is taken.

        :param webhooks: POST bodies.
        :param existing: the account's list as the caller just read it, to save one listing.
        :raises CreateWebhooksError: when some creates failed; it carries those that succeeded.
        """
        if not webhooks:
            return []
        bodies = [dict(w) for w in webhooks]
        self.mask_headers(bodies)
        before = list(existing) if existing is not None else self.list_webhooks()
        before_ids = {item.get("id") for item in before}

        def post(body: Mapping[str, Any]) -> Exception | None:
            try:
                self._post_without_duplicates(body, before_ids)
            except Exception as error:  # reported with the others once the batch is done
                return error
            return None

        errors = self.map_concurrently(post, bodies)
        posted = [body for body, error in zip(bodies, errors, strict=True) if error is None]
        created = (
            self._identify_created(posted, self._list_newest_first(posted, before_ids), before_ids) if posted else []
        )
        failures = [(body, error) for body, error in zip(bodies, errors, strict=True) if error is not None]
        if failures:
            raise CreateWebhooksError(created, failures)
        return created

    def _post_without_duplicates(self, body: Mapping[str, Any], before_ids: set[Any]) -> None:
        answer_lost = False

        def attempt() -> None:
            nonlocal answer_lost
            if answer_lost and any(
                item.get("id") not in before_ids and _same_identity(body, item) for item in self.list_webhooks()
            ):
                self.log.warning(
                    "The answer to POST %s was lost but the webhook was stored; not sending it again",
                    WEBHOOKS_PATH,
                )
                return
            try:
                self._request_once("POST", WEBHOOKS_PATH, body=body)
            except PlusofonAPIError as error:
                answer_lost = _answer_may_be_lost(error)
                raise

        self._retrying()(attempt)

    def _list_newest_first(self, bodies: Sequence[Mapping[str, Any]], before_ids: set[Any]) -> list[dict[str, Any]]:
        """
        The listing after creates, read from the last page back until every new webhook is found.

        Accounts list oldest first as a rule, so new webhooks fill the last pages: after page 1
        (which tells ``last_page``) this reads, at once, as many last pages as the new webhooks can
        span, where a full listing reads them all. Whatever the order, it stops only when each
        body has its webhook, or when every page was read.
        """
        first = self._list_page(1, None)
        last_page = first.get("last_page")
        if not isinstance(last_page, int):
            return self._list_from(first, None)
        items = list(first["data"])
        remaining = list(range(min(last_page, MAX_PAGES), 1, -1))
        batch = _pages_spanned_by_newest(len(bodies), first)
        while remaining and None in self._match_created(bodies, items, before_ids):
            pages, remaining = remaining[:batch], remaining[batch:]
            for page in self.map_concurrently(lambda n: self._list_page(n, None), pages):
                items += page["data"]
            batch = max(batch, self.max_workers)
        return _unique_by_id(items)

    @staticmethod
    def _match_created(
        bodies: Sequence[Mapping[str, Any]], after: Sequence[Mapping[str, Any]], before_ids: set[Any]
    ) -> list[dict[str, Any] | None]:
        """For each body, the lowest new id with its content not taken by an earlier body."""
        new = sorted((item for item in after if item.get("id") not in before_ids), key=lambda item: item.get("id") or 0)
        taken: set[Any] = set()
        matched: list[dict[str, Any] | None] = []
        for body in bodies:
            match = next((item for item in new if item.get("id") not in taken and _same_identity(body, item)), None)
            if match is not None:
                taken.add(match.get("id"))
            matched.append(None if match is None else {**body, **match})
        return matched

    def _identify_created(
        self, bodies: Sequence[Mapping[str, Any]], after: Sequence[Mapping[str, Any]], before_ids: set[Any]
    ) -> list[dict[str, Any]]:
        created = []
        for body, match in zip(bodies, self._match_created(bodies, after, before_ids), strict=True):
            if match is None:
                raise PlusofonAPIError(
                    f"the API accepted the webhook for {body.get('url')} ({body.get('event')}) "
                    "but it is not in the list afterwards",
                    method="POST",
                    path=WEBHOOKS_PATH,
                )
            created.append(match)
        return created

    def update_webhook(self, webhook_id: int | str, webhook: Mapping[str, Any]) -> None:
        """
        Replace a webhook's fields (PUT with the full body, as the API requires).

        :param webhook_id: the webhook's id.
        :param webhook: the full body, same fields as a create.
        """
        self.mask_headers([webhook])
        self._send("PUT", f"{WEBHOOKS_PATH}/{webhook_id}", body=dict(webhook))

    def delete_webhook(self, webhook_id: int | str, *, missing_ok: bool = False) -> None:
        """
        Delete a webhook.

        :param webhook_id: the webhook's id.
        :param missing_ok: treat an unknown id as already deleted instead of raising.
        """
        path = f"{WEBHOOKS_PATH}/{webhook_id}"
        retrying = self._retrying()
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
        suffix = f": {total} webhook(s) on the account" if total is not None else ""
        return True, f"Connected to {self.config.base_url}{suffix}"
