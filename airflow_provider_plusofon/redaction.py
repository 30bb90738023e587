"""What in a webhook is secret, and how text is made safe to show. No Airflow import here.

The rule lives here once: header and param values (they usually carry the receiving service's
credentials) and the user info of a URL (user name and password) are secrets. The client redacts
them (and the token) from the errors it builds, the core from what it shows, export turns them
into Variables, and the hook hands them to Airflow's secret masker
(:func:`~airflow_provider_plusofon.hooks.masking.mask_webhook_secrets`).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import unquote

REDACTED = "***"
# Cut after redacting: a cut first could leave a prefix of a secret that no longer matches it.
MAX_SHOWN_CHARS = 300


# The scheme of a URL: what comes before its authority (user info, host, port).
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://")
# The pair lists whose values are secret: header values carry the receiving service's
# credentials as a rule, and custom params often do (an api_key the receiver checks).
SECRET_PAIR_FIELDS = ("headers", "params")


def _userinfo_span(url: str) -> tuple[int, int] | None:
    """Where the user info of ``url`` is (``scheme://USERINFO@host``), found without parsing the URL:
    a URL too malformed for ``urlsplit`` can still carry credentials."""
    scheme = _SCHEME.match(url)
    start = scheme.end() if scheme else 0
    end = min((i for i in (url.find(c, start) for c in "/?#\\") if i != -1), default=len(url))
    at = url.rfind("@", start, end)
    return (start, at) if at > start else None


def split_userinfo(url: Any) -> tuple[str, str, str] | None:
    """``url`` as what comes before its user info, the user info, and what comes after (its ``@``
    and host on); ``None`` when it has none."""
    if not isinstance(url, str) or "@" not in url:
        return None
    span = _userinfo_span(url)
    return (url[: span[0]], url[span[0] : span[1]], url[span[1] :]) if span else None


def url_userinfo(url: Any) -> str | None:
    """The user info of a URL (``user``, ``user:password`` or ``:password``), if it has any."""
    parts = split_userinfo(url)
    return parts[1] if parts else None


def url_secrets(url: Any) -> list[str]:
    """The secret values of a URL: its whole user info, and the user name and password in it
    (as written, and percent-decoded), each once."""
    userinfo = url_userinfo(url)
    if userinfo is None:
        return []
    user, _, password = userinfo.partition(":")
    parts = [userinfo, user, password, unquote(user), unquote(password)]
    return [part for part in dict.fromkeys(parts) if part]


def secret_values(webhook: Any) -> list[str]:
    """The secret values of a webhook, a spec or a request body: header and param values, and the
    user info of its URL."""
    if not isinstance(webhook, Mapping):
        return []
    values = [
        item["value"]
        for name in SECRET_PAIR_FIELDS
        if isinstance(webhook.get(name), list)
        for item in webhook[name]
        if isinstance(item, Mapping) and isinstance(item.get("value"), str) and item["value"]
    ]
    return [*values, *url_secrets(webhook.get("url"))]


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


def replace_userinfo(url: str, replacement: str) -> str:
    """``url`` with its whole user info replaced (a URL without one comes back as it is)."""
    parts = split_userinfo(url)
    return url if parts is None else parts[0] + replacement + parts[2]


def redact_url(url: Any) -> Any:
    """The URL with its user info (user name and password) replaced, for logs, XCom and messages."""
    return replace_userinfo(url, REDACTED) if isinstance(url, str) else url


def redact_webhook(webhook: Any) -> Any:
    """A copy of a webhook (or spec, or body) whose secret values are ``***``; anything else as it is."""
    if not isinstance(webhook, Mapping):
        return webhook
    shown = dict(webhook)
    for name in SECRET_PAIR_FIELDS:
        if isinstance(webhook.get(name), list):
            shown[name] = [
                {**i, "value": REDACTED} if isinstance(i, Mapping) and isinstance(i.get("value"), str) else i
                for i in webhook[name]
            ]
    if "url" in webhook:
        shown["url"] = redact_url(webhook["url"])
    return shown


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

    for name in SECRET_PAIR_FIELDS:
        if isinstance(webhook.get(name), list):
            sealed[name] = [
                {**i, "value": digest(i["value"])} if isinstance(i, Mapping) and isinstance(i.get("value"), str) else i
                for i in webhook[name]
            ]
    userinfo = url_userinfo(webhook.get("url"))
    if userinfo is not None:
        sealed["url"] = replace_userinfo(webhook["url"], digest(userinfo))
    return sealed


def seal_0_1(webhook: Mapping[str, Any], key: bytes) -> dict[str, Any]:
    """:func:`seal` as 0.1.0 sealed (header values and the URL's password only): what a deferred
    sensor's trigger stored by 0.1.0 holds, so that the account is sealed alike to compare with it."""
    sealed = {k: v for k, v in seal(webhook, key).items() if k != "params"}
    if "params" in webhook:
        sealed["params"] = webhook["params"]
    userinfo = url_userinfo(webhook.get("url"))
    if userinfo is not None:
        user, colon, password = userinfo.partition(":")
        digest = SEALED_PREFIX + hmac.new(key, password.encode("utf-8"), hashlib.sha256).hexdigest()
        kept = f"{user}:{digest}" if colon and password else userinfo
        sealed["url"] = replace_userinfo(webhook["url"], kept)
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
        more = f" and {len(value) - 10} more" if len(value) > 10 else ""
        return f"a mapping with keys {keys}{more}" if value else "an empty mapping"
    if isinstance(value, list | tuple):
        return f"a list of {len(value)} items"
    if value is None:
        return "null"
    names = {bool: "a boolean", int: "an integer", float: "a number"}
    return names.get(type(value), f"a value of type {type(value).__name__}")
