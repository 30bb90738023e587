"""The connection's settings, in one table. No Airflow import here.

Each setting is declared once, below: its default, its limits and how it is read. From the table
come the connection form (``conn-fields`` on Airflow 3.2+, the hook's widgets on 3.0 and 3.1), the
parsing and validation of a connection's extras, :class:`PlusofonConnectionConfig`'s defaults,
and the docs' field table (:func:`markdown_table`, which ``make docs`` includes in the connection page).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import math
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from airflow_provider_plusofon.exceptions import PlusofonConfigError

DEFAULT_BASE_URL = "https://restapi.plusofon.ru"


def _has_control_characters(text: str) -> bool:
    return any(ord(c) < 32 or ord(c) == 127 for c in text)


def _number(name: str, value: Any, kind: type, minimum: float, maximum: float | None) -> Any:
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


_TRUE, _FALSE = {"true", "1", "yes", "on"}, {"false", "0", "no", "off"}


def _boolean(name: str, value: Any, *, paths: bool = False) -> bool | str:
    """A yes/no setting (a URI connection gives ``"true"``); with ``paths``, a CA bundle path too."""
    if isinstance(value, bool):
        return value
    text = str(value).strip()
    if text.lower() in _TRUE:
        return True
    if text.lower() in _FALSE:
        return False
    if not paths:
        raise PlusofonConfigError(f"{name!r} must be true or false, got {repr(value)[:40]}")
    if not text or _has_control_characters(text):
        raise PlusofonConfigError(f"{name!r} must be true/false or a CA bundle path, got {repr(value)[:40]}")
    # A CA bundle (a file) or a folder of certificates, as requests takes them: checked now, not as
    # an SSLError after every retry.
    if not (os.path.isfile(text) or os.path.isdir(text)):
        raise PlusofonConfigError(
            f"{name!r} names a CA bundle that does not exist (or is neither a file nor a folder): {text[:120]!r}"
        )
    return text


@dataclass(frozen=True)
class Setting:
    """
    One setting a connection's ``extra`` may hold.

    :param name: the key in ``extra``, and the attribute of :class:`PlusofonConnectionConfig`.
    :param label: the connection form's label.
    :param doc: what it does, for the form's description and the docs.
    :param default: what an empty or missing value means.
    :param kind: ``float``, ``int`` or ``bool``.
    :param minimum: the smallest value allowed (numbers only).
    :param maximum: the largest value allowed, if any (numbers only).
    :param paths: a ``bool`` that may also be a path (``verify``: a CA bundle).
    """

    name: str
    label: str
    doc: str
    default: Any
    kind: type
    minimum: float = 0
    maximum: float | None = None
    paths: bool = False

    def parse(self, value: Any) -> Any:
        """The value, converted and checked. :raises PlusofonConfigError: naming the setting."""
        if self.kind is bool:
            return _boolean(self.name, value, paths=self.paths)
        return _number(self.name, value, self.kind, self.minimum, self.maximum)

    def form_field(self) -> dict[str, Any]:
        """The ``conn-fields`` entry: optional (``null`` allowed), so empty means the default."""
        kinds = {float: "number", int: "integer", bool: "boolean"}
        schema: dict[str, Any] = {"type": [kinds[self.kind], "null"], "default": self.default}
        if self.kind is not bool:
            schema["minimum"] = self.minimum
            if self.maximum is not None:
                schema["maximum"] = self.maximum
        return {"label": self.label, "description": f"{self.doc} (default {self.shown_default}).", "schema": schema}

    @property
    def shown_default(self) -> str:
        if self.kind is bool:
            return str(self.default).lower()
        return f"{self.default:g}" if self.kind is float else str(self.default)


#: Every setting a connection's extra may hold, in the order the form shows them.
SETTINGS: tuple[Setting, ...] = (
    Setting("timeout", "Timeout (seconds)", "Seconds to wait for each answer of the API", 30.0, float, 0.1),
    Setting(
        "verify",
        "Verify TLS",
        "Check the server's TLS certificate (or a CA bundle path, in Extra)",
        True,
        bool,
        paths=True,
    ),
    Setting(
        "max_retries",
        "Max retries",
        "Retries on connection errors, timeouts, 429 and 5xx, with backoff",
        5,
        int,
        0,
        20,
    ),
    Setting(
        "max_pages", "Max list pages", "The most list pages one listing reads (15 webhooks a page)", 10_000, int, 1
    ),
    Setting(
        "max_answer_bytes",
        "Max answer size (bytes)",
        "The largest answer read, after decompression; a larger one is refused",
        16 * 1024 * 1024,
        int,
        1024,
    ),
    Setting(
        "allow_plain_http",
        "Allow plain HTTP",
        "Send the API token over a plain http:// base URL to a host that is not this machine "
        "(unencrypted: only on a network you trust; https:// and loopback need no opt-in)",
        False,
        bool,
    ),
)
SETTINGS_BY_NAME: Mapping[str, Setting] = {setting.name: setting for setting in SETTINGS}

# The connection's standard fields as the form shows them; `doc` is the docs'.
FIELD_BEHAVIOUR: dict[str, Any] = {
    "hidden_fields": ["schema", "extra"],
    "relabeling": {"login": "Client ID", "password": "API token", "host": "Base URL"},
    "placeholders": {
        "login": "10553 (Plusofon: More → For developers → API)",
        "password": "token from More → For developers → API",
        "host": DEFAULT_BASE_URL,
        # Airflow 3.3's Test button sends port 0 when it is empty and then refuses the test.
        "port": "optional, e.g. 443 (fill it to use the Test button)",
    },
}
STANDARD_FIELDS: tuple[tuple[str, str], ...] = (
    ("login", "the Client ID, sent as the `Client` header (or `extra.client_id`)"),
    ("password", "the API token, sent as `Authorization: Bearer …`; masked everywhere"),
    ("host", f"base URL, default `{DEFAULT_BASE_URL}`; may carry scheme and port (`http://127.0.0.1:8765`)"),
    ("port", "joins the base URL when the host has no port of its own"),
)


def connection_form_fields() -> dict[str, dict[str, Any]]:
    """The extra fields of the connection form, as ``conn-fields`` declares them."""
    return {setting.name: setting.form_field() for setting in SETTINGS}


def options_from_extra(extra: Mapping[str, Any]) -> dict[str, Any]:
    """The settings a connection's ``extra`` gives, unparsed; a value left empty keeps its default."""
    return {s.name: extra[s.name] for s in SETTINGS if extra.get(s.name) not in (None, "")}


def markdown_table() -> str:
    """The docs' table of connection fields (docs/connection.md includes it)."""
    rows = ["| field | meaning |", "| --- | --- |"]
    rows += [f"| `{name}` | {doc} |" for name, doc in STANDARD_FIELDS]
    for setting in SETTINGS:
        limits = ""
        if setting.kind is not bool:
            upper = f" to {setting.maximum:g}" if setting.maximum is not None else " or more"
            limits = f" ({setting.minimum:g}{upper})"
        rows.append(f"| `extra.{setting.name}` | {setting.doc}, default {setting.shown_default}{limits} |")
    return "\n".join(rows)


def base_url_of(host: str | None, schema: str | None = None, port: int | None = None) -> str:
    """
    The base URL from a connection's host (which may carry a scheme, port and path prefix), its
    schema (the scheme when the host has none, ``https`` by default) and its port (added when the
    host has none; 0, as Airflow 3.3's Test button sends, means none).
    """
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


def _checked_base_url(value: Any) -> str:
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


def is_this_machine(host: str) -> bool:
    """Whether a URL's host is a loopback address or the name ``localhost``: traffic to it never
    leaves this machine (``127.0.0.0/8``, ``::1``, and IPv4 loopback written as IPv6)."""
    name = host.rstrip(".").lower()
    if name == "localhost":
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return address.is_loopback or (mapped is not None and mapped.is_loopback)


def _plain_http_problem(base_url: str, allowed: bool) -> str | None:
    """Why the token may not go to this base URL: plain http to another machine, unless opted in."""
    parts = urlsplit(base_url)
    if parts.scheme != "http" or allowed or is_this_machine(parts.hostname or ""):
        return None
    setting = SETTINGS_BY_NAME["allow_plain_http"]
    return (
        f"the base URL {base_url[:80]!r} is plain http:// to a host that is not this machine, so the API token "
        f"would travel unencrypted: use https://, or set the connection's extra {setting.name!r} to true "
        f"(the form's {setting.label!r}) if every network on the way is trusted"
    )


def _checked_credential(label: str, value: Any) -> str:
    text = str(value or "").strip()
    if not text:
        raise PlusofonConfigError(f"the {label} is missing")
    if _has_control_characters(text) or any(c.isspace() for c in text) or not text.isascii():
        # Never show it: the value is a credential, and it would otherwise reach a traceback.
        raise PlusofonConfigError(
            f"the {label} has spaces, line breaks or non-ASCII characters inside ({len(text)} characters)"
        )
    return text


def _default(name: str) -> Any:
    return SETTINGS_BY_NAME[name].default


@dataclass(frozen=True)
class PlusofonConnectionConfig:
    """
    What the client needs to reach the API, validated when built: a value that cannot work fails
    at once, every problem in one message, and the token is never shown.

    Surrounding whitespace is stripped from the Client ID and the token (a common copy-paste);
    a value with control characters inside is refused without being shown. The defaults and
    limits of the other settings are those of :data:`~airflow_provider_plusofon.api.settings.SETTINGS`.

    :param base_url: scheme (http or https), host and optional port/path prefix.
    :param client_id: sent as the ``Client`` header.
    :param token: the API token, sent as ``Authorization: Bearer ...``; never in ``repr``.
    :param timeout: seconds to wait for an answer.
    :param verify: TLS verification, or a CA bundle path.
    :param max_retries: retries after the first attempt for failures worth retrying.
    :param max_pages: the most list pages one listing may read; more fails clearly.
    :param max_answer_bytes: the largest answer (after decompression) the client reads.
    :param allow_plain_http: let the token go over plain ``http://`` to a host that is not this
        machine (refused otherwise: it would travel unencrypted).
    :param conn_id: the Airflow connection it came from, if any (for messages).
    """

    base_url: str
    client_id: str
    token: str = field(repr=False)
    timeout: float = _default("timeout")
    verify: bool | str = _default("verify")
    max_retries: int = _default("max_retries")
    max_pages: int = _default("max_pages")
    max_answer_bytes: int = _default("max_answer_bytes")
    allow_plain_http: bool = _default("allow_plain_http")
    conn_id: str = ""

    def __post_init__(self) -> None:
        checks: dict[str, Callable[[], Any]] = {
            "base_url": lambda: _checked_base_url(self.base_url),
            "client_id": lambda: _checked_credential("Client ID (the connection's login)", self.client_id),
            "token": lambda: _checked_credential("API token (the connection's password)", self.token),
        }
        for setting in SETTINGS:
            checks[setting.name] = lambda setting=setting: setting.parse(getattr(self, setting.name))  # type: ignore[misc]
        problems: dict[str, str] = {}
        for name, check in checks.items():
            try:
                object.__setattr__(self, name, check())
            except PlusofonConfigError as error:
                problems[name] = str(error)
        if not problems.keys() & {"base_url", "allow_plain_http"}:  # each valid: weighed together
            problem = _plain_http_problem(self.base_url, bool(self.allow_plain_http))
            if problem:
                problems["allow_plain_http"] = problem
        if problems:
            where = f"Connection {self.conn_id!r}" if self.conn_id else "The Plusofon settings"
            raise PlusofonConfigError(f"{where}: {'; '.join(problems.values())}")

    @property
    def account(self) -> str:
        """Which account this is: the Client ID at the base URL (no secret in it)."""
        return f"{self.client_id}@{self.base_url}"

    @property
    def seal_key(self) -> bytes:
        """The key that seals secret values (see :func:`~airflow_provider_plusofon.redaction.seal`):
        derived from the token, so that what it sealed can be compared again only with the token."""
        return hmac.new(self.token.encode(), b"airflow-provider-plusofon/seal", hashlib.sha256).digest()

    @property
    def seal_check(self) -> str:
        """A digest that tells whether two configs seal alike (the same token), saying nothing of it."""
        return hmac.new(self.seal_key, b"airflow-provider-plusofon/seal-check", hashlib.sha256).hexdigest()[:16]

    @property
    def secrets(self) -> tuple[str, ...]:
        """What must never appear in a message: the token."""
        return (self.token,)
