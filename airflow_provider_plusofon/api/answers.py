"""An answer of the API read as a result or as the error it means. No Airflow import, no I/O.

Whatever sends the request (a thread with ``requests`` today, an event loop tomorrow) hands the
status, body and headers here, so that what counts as a failure, and how its text is made safe to
show, is decided once.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

from airflow_provider_plusofon.exceptions import (
    PlusofonAPIError,
    PlusofonAuthError,
    PlusofonInvalidResponseError,
    PlusofonNotFoundError,
    PlusofonRateLimitError,
    PlusofonRedirectError,
    PlusofonRequestRejectedError,
    PlusofonServerError,
    PlusofonValidationError,
)
from airflow_provider_plusofon.redaction import safe_text


@dataclass(frozen=True)
class Answer:
    """
    What came back for one request, read up to the size cap.

    :param status: the HTTP status.
    :param content: the body (decompressed).
    :param headers: the answer's headers (case-insensitive lookups are the sender's to provide).
    """

    status: int
    content: bytes
    headers: Mapping[str, str]


def retry_after_seconds(value: str | None) -> float | None:
    """A ``Retry-After`` header (seconds or an HTTP date) as seconds from now; ``None`` when it
    says nothing usable ("nan", "inf", a malformed date): then the caller backs off as usual."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        import email.utils  # only for a Retry-After given as an HTTP date

        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        seconds = (when - datetime.now(timezone.utc)).total_seconds()
    if not math.isfinite(seconds):
        return None
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


def _error_for(answer: Answer, body: Any, method: str, path: str, secrets: Sequence[str]) -> PlusofonAPIError:
    status = answer.status
    if isinstance(body, Mapping):
        message = safe_text(str(body.get("message") or "no message in the response"), secrets)
        errors = _field_errors(body.get("errors"), secrets)
    else:
        snippet = safe_text(answer.content.decode("utf-8", "replace"), secrets, 200)
        message = f"non-JSON response: {snippet}" if snippet else "empty response body"
        errors = None
    kwargs: dict[str, Any] = {"status_code": status, "errors": errors, "method": method, "path": path}
    if status in (401, 403):
        hint = "check the connection's login (the Client ID) and password (the API token): More → For developers → API"
        return PlusofonAuthError(f"{message} ({hint})", **kwargs)
    if status == 404:
        return PlusofonNotFoundError(message, **kwargs)
    if status == 422:
        return PlusofonValidationError(message, **kwargs)
    if status == 429:
        return PlusofonRateLimitError(
            message, retry_after=retry_after_seconds(answer.headers.get("Retry-After")), **kwargs
        )
    if status >= 500:
        return PlusofonServerError(message, **kwargs)
    if status < 400:
        # `success: false` is the API refusing; a 2xx that is not JSON is a broken server or proxy.
        if isinstance(body, Mapping):
            return PlusofonRequestRejectedError(message, **kwargs)
        return PlusofonInvalidResponseError(message, **kwargs)
    return PlusofonAPIError(message, **kwargs)


def _host_of(location: str | None) -> str:
    try:
        return urlsplit(location or "").hostname or "an unnamed address"
    except ValueError:  # a Location that is not even a URL
        return "an address that is not a URL"


def read_answer(answer: Answer, method: str, path: str, secrets: Sequence[str]) -> Any:
    """
    The answer's JSON, or the error it means: a redirect (never followed), a status of 400 and
    more, ``{"success": false}`` whatever the status, a body that is not JSON.

    :param secrets: what must not appear in an error's text (the token, the request's secrets);
        redacted before any text is cut.
    """
    content = answer.content
    try:
        parsed = json.loads(content) if content.strip() else None
    except (ValueError, RecursionError):
        parsed = None
    if 300 <= answer.status < 400:
        location = _host_of(answer.headers.get("Location"))
        raise PlusofonRedirectError(
            f"the API answered with a redirect to {safe_text(location, secrets, 80)}; redirects are not "
            "followed (the token would go with them): set the connection's host to the final address",
            status_code=answer.status,
            method=method,
            path=path,
        )
    failed = answer.status >= 400 or (isinstance(parsed, dict) and parsed.get("success") is False)
    if failed or (parsed is None and content.strip()):
        raise _error_for(answer, parsed, method, path, secrets)
    return parsed
