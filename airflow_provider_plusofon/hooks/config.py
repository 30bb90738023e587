"""PlusofonConnectionConfig: what the client needs to reach the API, validated once. No Airflow here.

Every rule about settings lives here: the hook turns an Airflow connection into one of these, a
script builds one by hand, and either way a value that cannot work fails at once, every problem
in one message, and never shows the token.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from airflow_provider_plusofon.exceptions import PlusofonConfigError

DEFAULT_BASE_URL = "https://restapi.plusofon.ru"
DEFAULT_MAX_PAGES = 10_000
DEFAULT_MAX_ANSWER_BYTES = 16 * 1024 * 1024
MAX_RETRIES_LIMIT = 20


def _has_control_characters(text: str) -> bool:
    return any(ord(c) < 32 or ord(c) == 127 for c in text)


def _finite_number(name: str, value: Any, kind: type, minimum: float, maximum: float | None = None) -> Any:
    """A setting read as ``kind`` (connection extras arrive as strings from URI connections)."""
    shown = repr(value)[:40]
    if isinstance(value, bool):
        raise PlusofonConfigError(f"{name!r} must be a number, got {shown}")
    try:
        number = kind(value)
    except (TypeError, ValueError, OverflowError):
        raise PlusofonConfigError(f"{name!r} must be a number, got {shown}") from None
    if not math.isfinite(number) or (kind is int and float(value) != number):
        raise PlusofonConfigError(f"{name!r} must be a finite {kind.__name__}, got {shown}")
    if number < minimum or (maximum is not None and number > maximum):
        upper = f" and <= {maximum}" if maximum is not None else ""
        raise PlusofonConfigError(f"{name!r} must be >= {minimum}{upper}, got {shown}")
    return number


def _verify_setting(value: Any) -> bool | str:
    if isinstance(value, bool):
        return value
    text = str(value).strip()
    if text.lower() in {"true", "1", "yes", "on"}:
        return True
    if text.lower() in {"false", "0", "no", "off"}:
        return False
    if text and not _has_control_characters(text):
        return text  # requests accepts a CA bundle path for verify
    raise PlusofonConfigError(f"'verify' must be true/false or a CA bundle path, got {repr(value)[:40]}")


def _base_url_setting(value: Any) -> str:
    text = str(value).strip().rstrip("/") if value is not None else ""
    if not text or _has_control_characters(text):
        raise PlusofonConfigError("the base URL (the connection's host) is empty or has control characters")
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018  (raises on a port that is not a number)
    except ValueError:
        raise PlusofonConfigError(f"the base URL {text[:80]!r} is not a valid URL") from None
    if parts.scheme not in ("http", "https"):
        raise PlusofonConfigError(f"the base URL must start with http:// or https://, got scheme {parts.scheme[:20]!r}")
    if not parts.hostname or parts.username is not None or parts.query or parts.fragment:
        raise PlusofonConfigError(
            "the base URL must be scheme://host[:port][/prefix], without credentials, query or fragment"
        )
    return text


@dataclass(frozen=True)
class PlusofonConnectionConfig:
    """
    What the client needs to reach the API, validated when built (every rule for settings is here).

    Surrounding whitespace is stripped from the Client ID and the token (a common copy-paste);
    a value with control characters inside is refused without being shown.

    :param base_url: scheme (http or https), host and optional port/path prefix.
    :param client_id: sent as the ``Client`` header.
    :param token: the API token, sent as ``Authorization: Bearer ...``; never in ``repr``.
    :param timeout: seconds to wait for an answer (finite, > 0).
    :param verify: TLS verification, or a CA bundle path.
    :param max_retries: retries after the first attempt for failures worth retrying (0 to 20).
    :param max_pages: the most list pages one listing may read; more fails clearly.
    :param max_answer_bytes: the largest answer (after decompression) the client reads.
    :param conn_id: the Airflow connection it came from, if any (for messages).
    """

    base_url: str
    client_id: str
    token: str = field(repr=False)
    timeout: float = 30.0
    verify: bool | str = True
    max_retries: int = 5
    max_pages: int = DEFAULT_MAX_PAGES
    max_answer_bytes: int = DEFAULT_MAX_ANSWER_BYTES
    conn_id: str = ""

    def __post_init__(self) -> None:
        checks: dict[str, Callable[[], Any]] = {
            "base_url": lambda: _base_url_setting(self.base_url),
            "client_id": lambda: self._credential("Client ID (the connection's login)", self.client_id),
            "token": lambda: self._credential("API token (the connection's password)", self.token),
            "timeout": lambda: _finite_number("timeout", self.timeout, float, 0.001),
            "verify": lambda: _verify_setting(self.verify),
            "max_retries": lambda: _finite_number("max_retries", self.max_retries, int, 0, MAX_RETRIES_LIMIT),
            "max_pages": lambda: _finite_number("max_pages", self.max_pages, int, 1),
            "max_answer_bytes": lambda: _finite_number("max_answer_bytes", self.max_answer_bytes, int, 1024),
        }
        problems = []
        for name, check in checks.items():
            try:
                object.__setattr__(self, name, check())
            except PlusofonConfigError as error:
                problems.append(str(error))
        if problems:
            where = f"Connection {self.conn_id!r}" if self.conn_id else "The Plusofon settings"
            raise PlusofonConfigError(f"{where}: {'; '.join(problems)}")

    @staticmethod
    def _credential(label: str, value: Any) -> str:
        text = str(value or "").strip()
        if not text:
            raise PlusofonConfigError(f"the {label} is missing")
        if _has_control_characters(text) or any(c.isspace() for c in text) or not text.isascii():
            # Never show it: the value is a credential, and it would otherwise reach a traceback.
            raise PlusofonConfigError(
                f"the {label} has spaces, line breaks or non-ASCII characters inside ({len(text)} characters)"
            )
        return text

    @property
    def seal_key(self) -> bytes:
        """The key that seals secret values (see :func:`~airflow_provider_plusofon.redaction.seal`):
        derived from the token, so that what it sealed can be compared again only with the token."""
        return hmac.new(self.token.encode(), b"airflow-provider-plusofon/seal", hashlib.sha256).digest()

    @property
    def secrets(self) -> tuple[str, ...]:
        """What must never appear in a message: the token."""
        return (self.token,)
