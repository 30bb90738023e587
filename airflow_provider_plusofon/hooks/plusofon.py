"""PlusofonHook: an Airflow connection turned into a client for the Plusofon webhooks API."""

from __future__ import annotations

import email.utils
import random
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar

from airflow.sdk import BaseHook
from airflow.sdk.log import mask_secret

from airflow_provider_plusofon.exceptions import (
    CreateWebhooksError,
    PlusofonAPIError,
    PlusofonAuthError,
    PlusofonConfigError,
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

T = TypeVar("T")
R = TypeVar("R")


def _sleep(seconds: float) -> None:
    # Indirection so that tests can patch the wait without patching time.sleep for everyone.
    time.sleep(seconds)


@dataclass(frozen=True)
class PlusofonConnectionConfig:
    """Settings read from an Airflow connection of type ``plusofon``."""

    conn_id: str
    base_url: str
    client_id: str
    token: str = field(repr=False)
    timeout: float = 30.0
    verify: bool | str = True
    max_retries: int = 5


def _extra_option(extra: Mapping[str, Any], name: str) -> Any:
    # The Airflow 3 UI stores form fields under the plain key; older forms used a prefixed key.
    if name in extra:
        return extra[name]
    return extra.get(f"extra__plusofon__{name}")


def _as_bool(conn_id: str, name: str, value: Any) -> bool | str:
    if isinstance(value, bool):
        return value
    text = str(value).strip()
    if text.lower() in {"true", "1", "yes", "on"}:
        return True
    if text.lower() in {"false", "0", "no", "off"}:
        return False
    if text:
        return text  # requests accepts a CA bundle path for verify
    raise PlusofonConfigError(f"Connection {conn_id!r}: extra {name!r} must be true/false, got {value!r}")


def _as_number(conn_id: str, name: str, value: Any, kind: Callable[[Any], T], minimum: float) -> T:
    try:
        number = kind(value)
    except (TypeError, ValueError):
        raise PlusofonConfigError(f"Connection {conn_id!r}: extra {name!r} must be a number, got {value!r}") from None
    if number < minimum:  # type: ignore[operator]
        raise PlusofonConfigError(f"Connection {conn_id!r}: extra {name!r} must be >= {minimum}, got {value!r}")
    return number


def _base_url(host: str | None, schema: str | None, port: int | None) -> str:
    if not host:
        return DEFAULT_BASE_URL
    host = host.strip().rstrip("/")
    if "://" not in host:
        host = f"{schema or 'https'}://{host}"
    if port and not re.search(r":\d+$", host.split("://", 1)[1].split("/", 1)[0]):
        scheme, rest = host.split("://", 1)
        netloc, _, path = rest.partition("/")
        host = f"{scheme}://{netloc}:{port}" + (f"/{path}" if path else "")
    return host


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
        return PlusofonRequestRejected(message, **kwargs)
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


def mask_webhook_headers(webhook: Mapping[str, Any]) -> None:
    """Register a webhook's header values with Airflow's secret masker: they usually carry the
    receiving service's credentials."""
    for header in webhook.get("headers") or []:
        if isinstance(header, Mapping) and isinstance(header.get("value"), str) and header["value"]:
            mask_secret(header["value"])


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


class PlusofonHook(BaseHook):
    """
    Client for the Plusofon webhooks API, configured from an Airflow connection.

    Connection fields: ``login`` is the Client ID (sent as the ``Client`` header), ``password``
    the API token (sent as ``Authorization: Bearer ...``), ``host`` the base URL (default
    ``https://restapi.plusofon.ru``; a scheme and port are allowed, e.g. ``http://127.0.0.1:8765``).
    ``extra`` may hold ``client_id`` (used when login is empty), ``timeout`` (seconds, default 30),
    ``verify`` (TLS verification or a CA bundle path, default true) and ``max_retries`` (default 5).

    Reads, updates and deletes are retried on connection errors, timeouts, 429 and 5xx with
    exponential backoff and jitter (a 429 waits for its ``Retry-After``). A create is never
    re-sent blindly: when its answer is lost the hook looks for the webhook before sending again.

    :param plusofon_conn_id: the Airflow connection to use.
    :param max_workers: how many requests may run at once when fetching pages or many webhooks.
    """

    conn_name_attr = "plusofon_conn_id"
    default_conn_name = "plusofon_default"
    conn_type = "plusofon"
    hook_name = "Plusofon"

    backoff_base_seconds = 0.5
    backoff_max_seconds = 30.0
    retry_after_max_seconds = 60.0

    def __init__(self, plusofon_conn_id: str = default_conn_name, *, max_workers: int = 4) -> None:
        super().__init__()
        self.plusofon_conn_id = plusofon_conn_id
        self.max_workers = max(1, int(max_workers))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(plusofon_conn_id={self.plusofon_conn_id!r})"

    # -- configuration ------------------------------------------------------------------------

    @cached_property
    def config(self) -> PlusofonConnectionConfig:
        """The connection's settings, loaded (and the token masked) on first use."""
        conn_id = self.plusofon_conn_id
        conn = self.get_connection(conn_id)
        extra = conn.extra_dejson or {}
        token = conn.password or ""
        if token:
            mask_secret(token)
        client_id = str(conn.login or _extra_option(extra, "client_id") or "").strip()
        missing = []
        if not client_id:
            missing.append("Client ID (the connection's login, or extra 'client_id')")
        if not token:
            missing.append("API token (the connection's password)")
        if missing:
            raise PlusofonConfigError(f"Connection {conn_id!r} is missing: {'; '.join(missing)}")

        timeout = _extra_option(extra, "timeout")
        verify = _extra_option(extra, "verify")
        retries = _extra_option(extra, "max_retries")
        return PlusofonConnectionConfig(
            conn_id=conn_id,
            base_url=_base_url(conn.host, conn.schema, conn.port),
            client_id=client_id,
            token=token,
            timeout=30.0 if timeout in (None, "") else _as_number(conn_id, "timeout", timeout, float, 0.001),
            verify=True if verify in (None, "") else _as_bool(conn_id, "verify", verify),
            max_retries=5 if retries in (None, "") else _as_number(conn_id, "max_retries", retries, int, 0),
        )

    @cached_property
    def session(self) -> requests.Session:
        """One keep-alive session per hook, with the headers the API documents."""
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

    # -- transport ----------------------------------------------------------------------------

    def _request_once(
        self, method: str, path: str, *, params: Mapping[str, Any] | None = None, body: Any = None
    ) -> Any:
        import requests

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
        if response.status_code >= 400 or (isinstance(parsed, dict) and parsed.get("success") is False):
            raise _error_for(response, parsed, method, path, self.config.token)
        if parsed is None and response.content:
            raise PlusofonServerError(
                f"non-JSON response: {_text_snippet(response.text)}",
                status_code=response.status_code,
                method=method,
                path=path,
            )
        return parsed

    def _wait_seconds(self, retry_state: RetryCallState) -> float:
        error = retry_state.outcome.exception() if retry_state.outcome else None
        if isinstance(error, PlusofonRateLimitError) and error.retry_after is not None:
            return min(error.retry_after, self.retry_after_max_seconds)
        exponential = self.backoff_base_seconds * 2 ** (retry_state.attempt_number - 1)
        return min(exponential, self.backoff_max_seconds) + random.uniform(0, self.backoff_base_seconds)

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
            return list(pool.map(func, items))

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
        first = self._list_page(1, type)
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
        mask_webhook_headers(answer)
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
        for body in bodies:
            mask_webhook_headers(body)
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

        Accounts list oldest first as a rule, so new webhooks sit on the last page: this reads one
        or two pages where a full listing reads them all. Whatever the order, it stops only when
        each body has its webhook, or when every page was read.
        """
        first = self._list_page(1, None)
        last_page = first.get("last_page")
        if not isinstance(last_page, int):
            return self.list_webhooks()
        items = list(first["data"])
        for page in range(min(last_page, MAX_PAGES), 1, -1):
            if None not in self._match_created(bodies, items, before_ids):
                break
            items += self._list_page(page, None)["data"]
        return _unique_by_id(items)

    @staticmethod
    def _match_created(
        bodies: Sequence[Mapping[str, Any]], after: Sequence[Mapping[str, Any]], before_ids: set[Any]
    ) -> list[dict[str, Any] | None]:
        """For each body, the lowest new id with its content not taken by an earlier body."""
        taken: set[Any] = set()
        matched: list[dict[str, Any] | None] = []
        for body in bodies:
            candidates = sorted(
                (item for item in after if item.get("id") not in before_ids | taken and _same_identity(body, item)),
                key=lambda item: item.get("id") or 0,
            )
            if candidates:
                taken.add(candidates[0].get("id"))
            matched.append({**body, **candidates[0]} if candidates else None)
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
        mask_webhook_headers(webhook)
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
