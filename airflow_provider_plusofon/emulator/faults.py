"""The emulator's faults: each kind declared once, with what it does to a request, in one table.

A fault is scripted for the next ``count`` requests that match it; a request gets at most one
``latency`` fault and one fault of any other kind (one request gets one answer). Each behaviour
is given the fault, the request, and ``answer`` (what the API would have answered, computed only
when called), and returns the answer to send, or raises :class:`Dropped` to close the
connection without one.
"""

from __future__ import annotations

import threading
import time
import zlib
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from airflow_provider_plusofon.emulator.routes import LIST_PATH, Exchange, Reply, decode
from airflow_provider_plusofon.emulator.state import validate_body

HTML_ERROR_PAGE = (
    "<html><head><title>{status} Bad Gateway</title></head><body><center><h1>{status} Bad Gateway"
    "</h1></center><hr><center>nginx</center></body></html>"
)


class Dropped(Exception):
    """Close the connection without an answer."""


@dataclass
class Fault:
    """
    A fault applied to the next ``count`` requests that match ``method`` and ``path``.

    :param kind: one of :data:`FAULTS`.
    :param count: how many matching requests it applies to.
    :param method: only requests with this method (any when ``None``).
    :param path: only requests whose path starts with this (any when ``None``).
    :param status: the status of a ``status`` fault (or ``echo_token``, ``redirect``).
    :param html: answer a ``status`` fault with an HTML page, as a proxy would.
    :param retry_after: seconds in the ``Retry-After`` of a ``rate_limit`` fault.
    :param message: the message of a ``success_false`` fault.
    :param latency_ms: the delay of a ``latency`` fault.
    :param lag_ms: how long after a ``lagging_store`` fault the POST is stored.
    :param held: a ``lagging_store`` POST is held until the test releases it (the account's
        ``state.release_held()``, or ``POST /__emulator__/held/release``) instead of after ``lag_ms``.
    :param location: where a ``redirect`` fault points.
    :param overrides: fields a ``paginator`` fault sets in the list answer (``None`` removes one).
    :param repeat_first_page: a ``paginator`` fault answers page 1 whatever page was asked.
    :param size_mb: what a ``gzip_bomb`` expands to.
    :param page: only list requests for this page (``?page=N``; any request when ``None``).
    :param actions: what an ``actor`` fault does to the account, in order: ``{"delete": id}``,
        ``{"create": body}`` (``{"create": "request"}``: the request's own body, as a second writer
        would send it), ``{"update": id, "fields": {...}}``.
    :param after: an ``actor`` acts after the request was handled (else before it is).
    """

    kind: str
    count: int = 1
    method: str | None = None
    path: str | None = None
    status: int = 503
    html: bool = False
    retry_after: float = 1
    message: str = "Emulated failure"
    latency_ms: float = 0
    lag_ms: float = 200
    held: bool = False
    location: str = "https://elsewhere.example/api/v1/webhooks"
    overrides: dict[str, Any] | None = None
    repeat_first_page: bool = False
    size_mb: int = 64
    page: int | None = None
    actions: list[dict[str, Any]] | None = None
    after: bool = False

    def matches(self, method: str, path: str, query: Mapping[str, list[str]] | None = None) -> bool:
        if self.method and self.method.upper() != method.upper():
            return False
        if self.page is not None and (query or {}).get("page", ["1"])[0] != str(self.page):
            return False
        return not self.path or path.startswith(self.path)


Answer = Callable[[], Reply]
Behaviour = Callable[[Fault, Exchange, Answer], Reply]


def _latency(fault: Fault, exchange: Exchange, answer: Answer) -> Reply:
    time.sleep(fault.latency_ms / 1000)
    return answer()


def _rate_limit(fault: Fault, exchange: Exchange, answer: Answer) -> Reply:
    return Reply(429, {"message": "Too Many Attempts."}, {"Retry-After": f"{fault.retry_after:g}"})


def _status(fault: Fault, exchange: Exchange, answer: Answer) -> Reply:
    if fault.html:
        return Reply(fault.status, HTML_ERROR_PAGE.format(status=fault.status))
    return Reply(fault.status, {"message": "Server Error"})


def _drop(fault: Fault, exchange: Exchange, answer: Answer) -> Reply:
    raise Dropped


def _drop_after_store(fault: Fault, exchange: Exchange, answer: Answer) -> Reply:
    answer()
    raise Dropped


def _success_false(fault: Fault, exchange: Exchange, answer: Answer) -> Reply:
    # The API refused the request: nothing is stored.
    return Reply(200, {"success": False, "message": fault.message})


def _lagging_store(fault: Fault, exchange: Exchange, answer: Answer) -> Reply:
    body = decode(exchange.raw)
    if exchange.method == "POST" and exchange.path == LIST_PATH and not validate_body(body):
        if fault.held:
            exchange.account.state.hold(body)
            raise Dropped
        timer = threading.Timer(fault.lag_ms / 1000, exchange.account.state.add, args=[body])
        timer.daemon = True
        timer.start()
    raise Dropped


def _redirect(fault: Fault, exchange: Exchange, answer: Answer) -> Reply:
    status = fault.status if 300 <= fault.status < 400 else 307
    return Reply(status, {"message": "Moved"}, {"Location": fault.location})


def _echo_token(fault: Fault, exchange: Exchange, answer: Answer) -> Reply:
    echoed = exchange.headers.get("Authorization") or ""
    return Reply(fault.status, {"message": f"Bad header: {echoed}", "errors": echoed})


_BOMBS: dict[int, bytes] = {}


def _gzip_bomb(fault: Fault, exchange: Exchange, answer: Answer) -> Reply:
    # Valid JSON once expanded, so that only its size can give it away; compressed a megabyte at a
    # time, so that making it costs the emulator no more memory than it costs a careful client.
    if fault.size_mb not in _BOMBS:
        deflate = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
        padding = b" " * (1024 * 1024)
        parts = [deflate.compress(b'{"data": [')]
        parts += [deflate.compress(padding) for _ in range(fault.size_mb)]
        _BOMBS[fault.size_mb] = b"".join([*parts, deflate.compress(b"]}"), deflate.flush()])
    return Reply(200, _BOMBS[fault.size_mb], {"Content-Encoding": "gzip"})


def _on_list_answer(change: Callable[[Fault, Exchange, dict[str, Any]], dict[str, Any]]) -> Behaviour:
    """A fault that alters a list answer (and leaves any other answer alone)."""

    def behaviour(fault: Fault, exchange: Exchange, answer: Answer) -> Reply:
        reply = answer()
        if isinstance(reply.body, dict) and isinstance(reply.body.get("data"), list):
            return Reply(reply.status, change(fault, exchange, dict(reply.body)), reply.headers)
        return reply

    return behaviour


def _paginator(fault: Fault, exchange: Exchange, body: dict[str, Any]) -> dict[str, Any]:
    if fault.repeat_first_page:
        body = {
            **exchange.account.state.page(1, exchange.emulator.app_url),
            "next_page_url": body.get("next_page_url") or "x",
        }
    for key, value in (fault.overrides or {}).items():
        if value is None:
            body.pop(key, None)
        else:
            body[key] = value
    return body


def _act(fault: Fault, exchange: Exchange) -> None:
    state = exchange.account.state
    for action in fault.actions or []:
        if "delete" in action:
            state.remove(int(action["delete"]))
        elif action.get("create") == "request":
            state.add(decode(exchange.raw))
        elif "create" in action:
            state.add(action["create"])
        elif "update" in action:
            current = state.get(int(action["update"])) or {}
            state.replace(int(action["update"]), {**current, **action.get("fields", {})})


def _actor(fault: Fault, exchange: Exchange, answer: Answer) -> Reply:
    # Another actor (a person in the vendor's UI, another run) changes the account meanwhile.
    if not fault.after:
        _act(fault, exchange)
        return answer()
    reply = answer()
    _act(fault, exchange)
    return reply


def _strip_ids(fault: Fault, exchange: Exchange, body: dict[str, Any]) -> dict[str, Any]:
    return {**body, "data": [{k: v for k, v in item.items() if k != "id"} for item in body["data"]]}


@dataclass(frozen=True)
class FaultKind:
    """What a kind of fault is for, and what it does."""

    doc: str
    behaviour: Behaviour


#: Every kind of fault, by the name ``inject`` takes.
FAULTS: Mapping[str, FaultKind] = {
    "rate_limit": FaultKind("429 with Retry-After", _rate_limit),
    "status": FaultKind("a 5xx (or any status) with a JSON or an HTML body", _status),
    "drop": FaultKind("close the connection without handling the request", _drop),
    "drop_after_store": FaultKind(
        "handle the request (a POST is stored), then close without an answer", _drop_after_store
    ),
    "success_false": FaultKind('200 with {"success": false, "message": ...}; nothing stored', _success_false),
    "latency": FaultKind("delay the answer", _latency),
    "lagging_store": FaultKind("close without an answer; a valid POST is stored lag_ms later", _lagging_store),
    "redirect": FaultKind("a 3xx pointing at another host", _redirect),
    "paginator": FaultKind(
        "the list answer with fields overridden, or page 1 whatever was asked", _on_list_answer(_paginator)
    ),
    "strip_ids": FaultKind("the list answer's items without their id", _on_list_answer(_strip_ids)),
    "echo_token": FaultKind("an error whose message and errors repeat the Authorization header", _echo_token),
    "gzip_bomb": FaultKind("a small gzip answer that expands to size_mb megabytes", _gzip_bomb),
    "actor": FaultKind("another actor deletes, creates or edits webhooks before (or after) the request", _actor),
}
FAULT_KINDS = tuple(FAULTS)


class FaultQueue:
    """The faults scripted for the next requests, behind one lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def inject(self, kind: str, **options: Any) -> Fault:
        """Script a fault for the next matching requests (see :class:`Fault`)."""
        if kind not in FAULTS:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {', '.join(FAULTS)}")
        fault = Fault(kind=kind, **options)
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def take(self, method: str, path: str, query: Mapping[str, list[str]] | None = None) -> list[Fault]:
        """The faults for this request, each used up once: the first matching latency fault, and
        the first matching fault of any other kind. The latency fault comes first."""
        taken: list[Fault] = []
        with self._lock:
            for fault in self._faults:
                if fault.count <= 0 or not fault.matches(method, path, query):
                    continue
                if any((f.kind == "latency") == (fault.kind == "latency") for f in taken):
                    continue
                fault.count -= 1
                taken.append(fault)
            self._faults = [f for f in self._faults if f.count > 0]
        return sorted(taken, key=lambda f: f.kind != "latency")

    def listed(self) -> list[dict[str, Any]]:
        with self._lock:
            return [asdict(f) for f in self._faults]


def answer_with_faults(faults: list[Fault], exchange: Exchange, answer: Answer) -> Reply:
    """The answer to send: ``answer`` as each fault (outermost first) makes of it."""
    for fault in reversed(faults):
        answer = _bound(FAULTS[fault.kind].behaviour, fault, exchange, answer)
    return answer()


def _bound(behaviour: Behaviour, fault: Fault, exchange: Exchange, answer: Answer) -> Answer:
    return lambda: behaviour(fault, exchange, answer)
