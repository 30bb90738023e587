"""The emulated API itself: the five webhook endpoints, authentication, and their quirks.

What the vendor documents, including what a correct client must cope with: a create answers
without an id, the list is a Laravel paginator whose links point at ``app_url``, errors come in
Laravel's shapes (401, 404, 405, 422), and a PUT replaces every field.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from airflow_provider_plusofon.emulator.state import validate_body

if TYPE_CHECKING:
    from airflow_provider_plusofon.emulator.server import Account, PlusofonEmulator

LIST_PATH = "/api/v1/webhooks"
ITEM_PATH = re.compile(r"^/api/v1/webhooks/([^/]+)$")


@dataclass(frozen=True)
class Reply:
    """An answer: status, body (JSON-able, ``bytes`` sent as they are, ``str`` as HTML) and headers."""

    status: int
    body: Any
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Exchange:
    """One API request as the emulator received it."""

    emulator: PlusofonEmulator
    account: Account  # the one the Client header names (the first account when it names none)
    method: str
    path: str
    query: Mapping[str, list[str]]
    raw: bytes
    headers: Mapping[str, str]


def decode(raw: bytes) -> Any:
    """A request body as JSON when it is, as text otherwise (``None`` when empty)."""
    if not raw:
        return None
    text = raw.decode("utf-8", "replace")
    try:
        return json.loads(text)
    except ValueError:
        return text


def _allowed_methods(path: str) -> tuple[str, ...] | None:
    if path == LIST_PATH:
        return ("GET", "POST")
    if ITEM_PATH.match(path):
        return ("GET", "PUT", "DELETE")
    return None


def _authorised(exchange: Exchange) -> bool:
    account = exchange.account
    return (
        exchange.headers.get("Client") == account.client_id
        and exchange.headers.get("Authorization") == f"Bearer {account.token}"
    )


def route(exchange: Exchange) -> Reply:
    """What the API answers to this request (and what it stores)."""
    allowed = _allowed_methods(exchange.path)
    if allowed is None:
        return Reply(404, {"message": "Not Found"})
    if exchange.method not in allowed:
        message = f"The {exchange.method} method is not supported for this route."
        return Reply(405, {"message": message}, {"Allow": ", ".join(allowed)})
    if not _authorised(exchange):
        return Reply(401, {"message": "Unauthenticated."})
    try:
        body: Any = json.loads(exchange.raw) if exchange.raw.strip() else None
    except ValueError:
        return Reply(400, {"message": "Malformed JSON body."})
    if exchange.path == LIST_PATH:
        return _list_route(exchange, body)
    return _item_route(exchange, body)


def _list_route(exchange: Exchange, body: Any) -> Reply:
    emulator = exchange.emulator
    if exchange.method == "GET":
        page = _page_number(exchange.query)
        return Reply(200, exchange.account.state.page(page, emulator.app_url, _type_filter(exchange.query, body)))
    errors = validate_body(body)
    if errors:
        return Reply(422, _laravel_422(errors))
    exchange.account.state.add(body)
    return Reply(200, {"success": True})


def _item_route(exchange: Exchange, body: Any) -> Reply:
    state = exchange.account.state
    item = ITEM_PATH.match(exchange.path)
    assert item is not None
    text = item.group(1)
    webhook_id = int(text) if text.isdigit() else None
    found = state.get(webhook_id) if webhook_id is not None else None
    if found is None or webhook_id is None:
        return Reply(404, {"message": "Not Found"})
    if exchange.method == "GET":
        return Reply(200, found)
    if exchange.method == "DELETE":
        state.remove(webhook_id)
        return Reply(200, {"success": True})
    errors = validate_body(body)
    if errors:
        return Reply(422, _laravel_422(errors))
    state.replace(webhook_id, body)
    return Reply(200, {"success": True})


def _laravel_422(errors: Mapping[str, list[str]]) -> dict[str, Any]:
    messages = [m for ms in errors.values() for m in ms]
    more = len(messages) - 1
    first = messages[0] + (f" (and {more} more error{'s' if more > 1 else ''})" if more else "")
    return {"message": first, "errors": dict(errors)}


def _page_number(query: Mapping[str, list[str]]) -> int:
    # Laravel falls back to page 1 for anything that is not a positive integer.
    value = (query.get("page") or ["1"])[0]
    return int(value) if value.isdigit() and int(value) > 0 else 1


def _type_filter(query: Mapping[str, list[str]], body: Any) -> str | None:
    if isinstance(body, dict) and body.get("type"):
        return str(body["type"])
    values = query.get("type")
    return values[0] if values else None
