"""The emulator's state: the webhooks and the request log (the faults are in ``faults.py``).

Pure Python and thread-safe; the HTTP layer in ``server.py`` only translates requests to calls here.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterable, Mapping
from typing import Any

# The values the API documents are the core's too: the emulator accepts what our specs allow.
from airflow_provider_plusofon.webhooks.spec import EVENTS, PAIR_KEYS, TYPE_CALLS, TYPE_STYLES

LIST_ITEM_KEYS = ("id", "url", "type_call", "type", "event")


def validate_body(body: Any) -> dict[str, list[str]]:
    """Validate a POST/PUT body the way a Laravel backend would; return Laravel's ``errors`` map."""
    if not isinstance(body, dict):
        return {"body": ["The body must be a JSON object."]}
    errors: dict[str, list[str]] = {}
    for name in ("url", "event"):
        if body.get(name) in (None, ""):
            errors.setdefault(name, []).append(f"The {name} field is required.")
    url = body.get("url")
    if url not in (None, "") and (not isinstance(url, str) or not url.startswith(("http://", "https://"))):
        errors.setdefault("url", []).append("The url must be a valid URL.")
    for name, allowed in (("event", EVENTS), ("type_call", TYPE_CALLS), ("type_style", TYPE_STYLES)):
        value = body.get(name)
        if value not in (None, "") and value not in allowed:
            errors.setdefault(name, []).append(f"The selected {name} is invalid.")
    template = body.get("template")
    if template is not None and not isinstance(template, str):
        errors.setdefault("template", []).append("The template must be a string.")
    for name, keys in PAIR_KEYS.items():
        items = body.get(name)
        if items is None:
            continue
        if not isinstance(items, list):
            errors.setdefault(name, []).append(f"The {name} must be an array.")
            continue
        for index, item in enumerate(items):
            for key in keys:
                if not isinstance(item, dict) or not isinstance(item.get(key), str) or item.get(key) == "":
                    errors.setdefault(f"{name}.{index}.{key}", []).append(
                        f"The {name}.{index}.{key} field is required."
                    )
    return errors


def _stored(webhook_id: int, body: Mapping[str, Any], webhook_type: str) -> dict[str, Any]:
    return {
        "id": webhook_id,
        "url": body.get("url"),
        "type_call": body.get("type_call"),
        "type": body.get("type") or webhook_type,
        "event": body.get("event"),
        "type_style": body.get("type_style"),
        "template": body.get("template"),
        "fields": copy.deepcopy(body.get("fields") or []),
        "headers": copy.deepcopy(body.get("headers") or []),
        "params": copy.deepcopy(body.get("params") or []),
    }


class EmulatorState:
    """
    Webhooks in memory and the log of requests, behind one lock.

    :param per_page: page size of the list endpoint (the vendor's example shows 15).
    :param webhook_type: the ``type`` stored for new webhooks (the vendor's list shows ``"lk"``).
    """

    def __init__(self, *, per_page: int = 15, webhook_type: str = "lk") -> None:
        self.per_page = per_page
        self.webhook_type = webhook_type
        self._lock = threading.Lock()
        self._webhooks: dict[int, dict[str, Any]] = {}
        self._next_id = 1
        self._requests: list[dict[str, Any]] = []
        self._held: list[dict[str, Any]] = []

    # -- webhooks ---------------------------------------------------------------------------

    def seed(self, webhooks: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Replace every webhook with these (ids kept where given, assigned otherwise)."""
        with self._lock:
            self._webhooks.clear()
            self._next_id = 1
            for webhook in webhooks:
                given = webhook.get("id")
                webhook_id = int(given) if given is not None else self._next_id
                self._webhooks[webhook_id] = _stored(webhook_id, webhook, self.webhook_type)
                self._next_id = max(self._next_id, webhook_id + 1)
            return self._snapshot()

    def add(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """Store a new webhook as a POST would, and return it (with its id)."""
        with self._lock:
            webhook_id = self._next_id
            self._next_id += 1
            self._webhooks[webhook_id] = _stored(webhook_id, body, self.webhook_type)
            return copy.deepcopy(self._webhooks[webhook_id])

    def hold(self, body: Mapping[str, Any]) -> None:
        """Keep a POST that was answered with nothing, to store when :meth:`release_held` says."""
        with self._lock:
            self._held.append(dict(body))

    def release_held(self) -> int:
        """Store the POSTs held so far, as a store that lags its answers finally does; how many."""
        with self._lock:
            held, self._held = self._held, []
        for body in held:
            self.add(body)
        return len(held)

    def replace(self, webhook_id: int, body: Mapping[str, Any]) -> bool:
        """Replace every field of a webhook, as a full-body PUT does; False when it does not exist."""
        with self._lock:
            old = self._webhooks.get(webhook_id)
            if old is None:
                return False
            self._webhooks[webhook_id] = _stored(webhook_id, {"type": old["type"], **body}, self.webhook_type)
            return True

    def remove(self, webhook_id: int) -> bool:
        with self._lock:
            return self._webhooks.pop(webhook_id, None) is not None

    def get(self, webhook_id: int) -> dict[str, Any] | None:
        with self._lock:
            found = self._webhooks.get(webhook_id)
            return copy.deepcopy(found) if found is not None else None

    def webhooks(self) -> list[dict[str, Any]]:
        """Every webhook with every field, by id."""
        with self._lock:
            return self._snapshot()

    def _snapshot(self) -> list[dict[str, Any]]:
        return [copy.deepcopy(self._webhooks[k]) for k in sorted(self._webhooks)]

    def page(self, page: int, app_url: str, webhook_type: str | None = None) -> dict[str, Any]:
        """One page of the list, as a Laravel paginator whose links are built from ``app_url``."""
        start = (page - 1) * self.per_page
        with self._lock:
            ids = [k for k in sorted(self._webhooks) if webhook_type in (None, self._webhooks[k]["type"])]
            # Only the page's items are built: a large account must not make every page slow.
            data = [{key: self._webhooks[k][key] for key in LIST_ITEM_KEYS} for k in ids[start : start + self.per_page]]
        total = len(ids)
        last_page = max(1, -(-total // self.per_page))
        path = f"{app_url.rstrip('/')}/api/v1/webhooks"

        def link(number: int) -> str:
            return f"{path}?page={number}"

        return {
            "current_page": page,
            "data": data,
            "first_page_url": link(1),
            "from": start + 1 if data else None,
            "last_page": last_page,
            "last_page_url": link(last_page),
            "next_page_url": link(page + 1) if page < last_page else None,
            "path": path,
            "per_page": self.per_page,
            "prev_page_url": link(page - 1) if page > 1 else None,
            "to": start + len(data) if data else None,
            "total": total,
        }

    # -- request log ------------------------------------------------------------------------

    def record(self, entry: dict[str, Any]) -> None:
        with self._lock:
            self._requests.append(entry)

    def requests(self) -> list[dict[str, Any]]:
        """Every request received (token redacted), oldest first."""
        with self._lock:
            return copy.deepcopy(self._requests)

    def clear_requests(self) -> None:
        with self._lock:
            self._requests.clear()

    def reset(self) -> None:
        """Forget webhooks and requests."""
        self.seed([])
        self.clear_requests()
