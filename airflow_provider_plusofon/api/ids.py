"""The one rule for webhook ids and the paths they enter. No Airflow import here.

An id is a positive integer below 10**18, as the API's ids provably are. Every id passes here
before it enters a request path, so that no templated value can turn ``/api/v1/webhooks/<id>``
into another endpoint, and every path is checked here before it is requested.
"""

from __future__ import annotations

import re
from typing import Any

from airflow_provider_plusofon.exceptions import PlusofonConfigError
from airflow_provider_plusofon.redaction import shape

WEBHOOKS_PATH = "/api/v1/webhooks"
_ID_LIMIT = 10**18
_DIGITS = re.compile(r"\s*([0-9]{1,18})\s*")


def is_webhook_id(value: Any) -> bool:
    """Whether ``value`` is an id as the API gives them: an int (not a bool) in range."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < _ID_LIMIT


def listed_id(value: Any) -> int | None:
    """The id of a webhook as the API's answers give it: an int, or a string of ASCII digits only
    (an answer may quote its numbers); ``None`` when it is neither, or out of range."""
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 18:
        value = int(value)
    return value if is_webhook_id(value) else None


def valid_webhook_id(value: Any) -> int:
    """
    A webhook id from an int or its digits (surrounding whitespace allowed).

    :raises PlusofonConfigError: naming what was given (its shape, cut short), never using it.
    """
    digits = _DIGITS.fullmatch(value) if isinstance(value, str) else None
    number = int(digits.group(1)) if digits else value
    if is_webhook_id(number):
        return int(number)
    if isinstance(number, int) and not isinstance(number, bool):
        raise PlusofonConfigError(f"webhook id must be a positive integer, got {number}")
    shown = repr(value)[:40] if isinstance(value, str | int | float) else shape(value)
    raise PlusofonConfigError(f"webhook id must be a positive integer, got {shown}")


def webhook_path(webhook_id: Any) -> str:
    """The path of one webhook, its id checked first."""
    return f"{WEBHOOKS_PATH}/{valid_webhook_id(webhook_id)}"


def is_api_path(path: str) -> bool:
    """Whether ``path`` is one this client may request: the list, or one webhook by its id."""
    if path == WEBHOOKS_PATH:
        return True
    prefix, _, suffix = path.rpartition("/")
    return (
        prefix == WEBHOOKS_PATH
        and suffix.isascii()
        and suffix.isdigit()
        and suffix[0] != "0"
        and is_webhook_id(int(suffix))
    )
