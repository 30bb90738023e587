"""What in a webhook is secret, and how text is made safe to show. No Airflow import here.

The rule lives here once: header values (they usually carry the receiving service's
credentials) and the password of a URL's userinfo are secrets. The client redacts them (and the
token) from the errors it builds, the core from what it shows, and the hook hands them to
Airflow's secret masker (:func:`~airflow_provider_plusofon.hooks.masking.mask_webhook_secrets`).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

REDACTED = "***"
# Cut after redacting: a cut first could leave a prefix of a secret that no longer matches it.
MAX_SHOWN_CHARS = 300


def url_password(url: Any) -> str | None:
    """The password in a URL's userinfo (``https://user:pass@host``), if it has one."""
    if not isinstance(url, str) or "@" not in url:
        return None
    try:
        password = urlsplit(url).password
    except ValueError:
        return None
    return password or None


def secret_values(webhook: Any) -> list[str]:
    """The secret values of a webhook, a spec or a request body: header values and URL passwords."""
    if not isinstance(webhook, Mapping):
        return []
    values = [
        header["value"]
        for header in webhook.get("headers") or []
        if isinstance(header, Mapping) and isinstance(header.get("value"), str) and header["value"]
    ]
    password = url_password(webhook.get("url"))
    return [*values, password] if password else values


def secrets_of(webhooks: Any) -> list[str]:
    """The secret values of one webhook (a mapping) or of each in a list, each value once."""
    items: Iterable[Any]
    if isinstance(webhooks, Mapping):
        items = [webhooks]
    elif isinstance(webhooks, Iterable) and not isinstance(webhooks, str | bytes):
        items = webhooks
    else:
        return []
    return list(dict.fromkeys(value for item in items for value in secret_values(item)))


def replace_url_password(url: str, replacement: str) -> str:
    """``url`` with the password of its userinfo replaced (a URL without one comes back as it is)."""
    if url_password(url) is None:
        return url
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit(parts._replace(netloc=f"{parts.username or ''}:{replacement}@{host}"))


def redact_url(url: Any) -> Any:
    """The URL with the password of its userinfo replaced, for logs, XCom and messages."""
    return replace_url_password(url, REDACTED) if isinstance(url, str) else url


SEALED_PREFIX = "sealed-"


def seal(webhook: Mapping[str, Any], key: bytes) -> dict[str, Any]:
    """
    A copy of a webhook (or spec) whose secret values are keyed digests: what can be stored where
    secrets must not be (a deferred sensor's trigger kwargs, which Airflow keeps in its database).

    Two sealed values are equal exactly when the values were, so a sealed spec still compares
    with a sealed webhook; without the key (derived from the API token, which is not stored with
    them) the digests say nothing about the values.
    """
    sealed = dict(webhook)

    def digest(value: str) -> str:
        return SEALED_PREFIX + hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()

    if isinstance(webhook.get("headers"), list):
        sealed["headers"] = [
            {**h, "value": digest(h["value"])} if isinstance(h, Mapping) and isinstance(h.get("value"), str) else h
            for h in webhook["headers"]
        ]
    password = url_password(webhook.get("url"))
    if password is not None:
        sealed["url"] = replace_url_password(webhook["url"], digest(password))
    return sealed


def redact(text: str, secrets: Iterable[str | None]) -> str:
    """``text`` with every occurrence of each (non-empty) secret replaced, longest first."""
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return text


def safe_text(text: str, secrets: Iterable[str | None], limit: int = MAX_SHOWN_CHARS) -> str:
    """Text from outside, fit for a message: secrets redacted first, markup dropped, then cut."""
    words = " ".join(re.sub(r"<[^>]+>", " ", redact(text, secrets)).split())
    return words[:limit] + ("…" if len(words) > limit else "")


def shape(value: Any) -> str:
    """What a value is, without what it holds: for messages about fields that can hold secrets."""
    if isinstance(value, str):
        return f"a string of {len(value)} characters"
    if isinstance(value, Mapping):
        keys = ", ".join(repr(str(k))[:40] for k in list(value)[:10])
        return f"a mapping with keys {keys}" if value else "an empty mapping"
    if isinstance(value, list | tuple):
        return f"a list of {len(value)} items"
    if value is None:
        return "null"
    names = {bool: "a boolean", int: "an integer", float: "a number"}
    return names.get(type(value), f"a value of type {type(value).__name__}")
