"""The emulator's HTTP server: the five webhook endpoints, their quirks, and a control path.

Built on the standard library's threading HTTP server (keep-alive, one thread per connection),
so that it starts in milliseconds, needs nothing beyond Python, and can drop a connection
half way the way a flaky network does.
"""

from __future__ import annotations

import gzip
import json
import random
import re
import socket
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from airflow_provider_plusofon.emulator.state import EmulatorState, Fault, validate_body

CONTROL_PREFIX = "/__emulator__"
LIST_PATH = "/api/v1/webhooks"
ITEM_PATH = re.compile(r"^/api/v1/webhooks/([^/]+)$")
HTML_ERROR_PAGE = (
    "<html><head><title>{status} Bad Gateway</title></head><body><center><h1>{status} Bad Gateway"
    "</h1></center><hr><center>nginx</center></body></html>"
)


class _Dropped(Exception):
    """Close the connection without an answer."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes: without TCP_NODELAY every answer on a kept-alive
    # connection waits for the client's delayed ACK (about 40 ms on Linux).
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        # Tests and the demo read the request log instead; stderr noise helps nobody.
        pass

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def do_PATCH(self) -> None:
        self._handle()

    # -- plumbing ---------------------------------------------------------------------------

    def _handle(self) -> None:
        emulator = self.server.emulator
        split = urlsplit(self.path)
        path, query = split.path.rstrip("/") or "/", parse_qs(split.query)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if path.startswith(CONTROL_PREFIX):
            self._control(path[len(CONTROL_PREFIX) :], raw)
            return
        entry: dict[str, Any] = {
            "method": self.command,
            "path": path,
            "query": {k: v[0] if len(v) == 1 else v for k, v in query.items()},
            "body": _decode(raw),
            "headers": _redacted_headers(self.headers),
            "status": None,
            "time": time.time(),
        }
        try:
            status, body, headers = self._respond_to(emulator, path, query, raw)
        except _Dropped:
            entry["status"] = "dropped"
            emulator.state.record(entry)
            self.close_connection = True
            return
        entry["status"] = status
        emulator.state.record(entry)
        self._send(status, body, headers)

    def _respond_to(
        self, emulator: PlusofonEmulator, path: str, query: Mapping[str, list[str]], raw: bytes
    ) -> tuple[int, Any, dict[str, str]]:
        faults = {f.kind: f for f in emulator.state.take_faults(self.command, path)}
        delay = emulator.latency_ms + random.uniform(0, emulator.latency_jitter_ms)
        delay += faults["latency"].latency_ms if "latency" in faults else 0
        if delay:
            time.sleep(delay / 1000)
        if "drop" in faults:
            raise _Dropped
        if "rate_limit" in faults:
            fault = faults["rate_limit"]
            return 429, {"message": "Too Many Attempts."}, {"Retry-After": f"{fault.retry_after:g}"}
        if "status" in faults:
            return _status_fault(faults["status"])

        if "success_false" in faults:
            # The API refused the request: nothing is stored.
            return 200, {"success": False, "message": faults["success_false"].message}, {}
        if "redirect" in faults:
            fault = faults["redirect"]
            return (
                (fault.status if 300 <= fault.status < 400 else 307),
                {"message": "Moved"},
                {"Location": fault.location},
            )
        if "echo_token" in faults:
            echoed = self.headers.get("Authorization") or ""
            return faults["echo_token"].status, {"message": f"Bad header: {echoed}", "errors": echoed}, {}
        if "gzip_bomb" in faults:
            return 200, _gzip_bomb(faults["gzip_bomb"].size_mb), {"Content-Encoding": "gzip"}
        if "lagging_store" in faults:
            self._store_later(emulator, path, raw, faults["lagging_store"].lag_ms)
            raise _Dropped
        status, body, headers = self._route(emulator, path, query, raw)
        if "drop_after_store" in faults:
            raise _Dropped
        if isinstance(body, dict) and isinstance(body.get("data"), list):
            if "paginator" in faults:
                body = _paginator_fault(faults["paginator"], body, emulator)
            if "strip_ids" in faults:
                body["data"] = [{k: v for k, v in item.items() if k != "id"} for item in body["data"]]
        return status, body, headers

    def _store_later(self, emulator: PlusofonEmulator, path: str, raw: bytes, lag_ms: float) -> None:
        body = _decode(raw)
        if self.command == "POST" and path == LIST_PATH and not validate_body(body):
            timer = threading.Timer(lag_ms / 1000, emulator.state.add, args=[body])
            timer.daemon = True
            timer.start()

    def _route(
        self, emulator: PlusofonEmulator, path: str, query: Mapping[str, list[str]], raw: bytes
    ) -> tuple[int, Any, dict[str, str]]:
        item = ITEM_PATH.match(path)
        allowed: tuple[str, ...]
        if path == LIST_PATH:
            allowed = ("GET", "POST")
        elif item:
            allowed = ("GET", "PUT", "DELETE")
        else:
            return 404, {"message": "Not Found"}, {}
        if self.command not in allowed:
            return (
                405,
                {"message": f"The {self.command} method is not supported for this route."},
                {"Allow": ", ".join(allowed)},
            )
        if not self._authorised(emulator):
            return 401, {"message": "Unauthenticated."}, {}
        try:
            body: Any = json.loads(raw) if raw.strip() else None
        except ValueError:
            return 400, {"message": "Malformed JSON body."}, {}

        state = emulator.state
        if path == LIST_PATH and self.command == "GET":
            return 200, state.page(_page_number(query), emulator.app_url, _type_filter(query, body)), {}
        if path == LIST_PATH:
            errors = validate_body(body)
            if errors:
                return 422, _laravel_422(errors), {}
            state.add(body)
            return 200, {"success": True}, {}

        assert item is not None
        webhook_id = _int_or_none(item.group(1))
        found = state.get(webhook_id) if webhook_id is not None else None
        if found is None or webhook_id is None:
            return 404, {"message": "Not Found"}, {}
        if self.command == "GET":
            return 200, found, {}
        if self.command == "DELETE":
            state.remove(webhook_id)
            return 200, {"success": True}, {}
        errors = validate_body(body)
        if errors:
            return 422, _laravel_422(errors), {}
        state.replace(webhook_id, body)
        return 200, {"success": True}, {}

    def _authorised(self, emulator: PlusofonEmulator) -> bool:
        return (
            self.headers.get("Client") == emulator.client_id
            and self.headers.get("Authorization") == f"Bearer {emulator.token}"
        )

    def _control(self, path: str, raw: bytes) -> None:
        """The emulator's own control API (the real Plusofon API has none of this)."""
        state = self.server.emulator.state
        body = _decode(raw)
        options = body if isinstance(body, dict) else {}
        method = self.command
        try:
            if path == "/requests" and method == "GET":
                self._send(200, state.requests(), {})
            elif path == "/requests" and method == "DELETE":
                state.clear_requests()
                self._send(200, {"success": True}, {})
            elif path == "/faults" and method == "GET":
                self._send(200, state.faults(), {})
            elif path == "/faults" and method == "POST":
                kind = options.pop("kind", None)
                self._send(200, {"success": True, "fault": vars(state.inject(str(kind), **options))}, {})
            elif path == "/faults" and method == "DELETE":
                state.clear_faults()
                self._send(200, {"success": True}, {})
            elif path == "/webhooks" and method == "GET":
                self._send(200, state.webhooks(), {})
            elif path == "/webhooks" and method in ("PUT", "POST"):
                items = body.get("webhooks", []) if isinstance(body, dict) else body or []
                self._send(200, state.seed(items), {})
            elif path == "/latency" and method in ("PUT", "POST"):
                self.server.emulator.latency_ms = float(options.get("ms", 0))
                self._send(200, {"success": True}, {})
            elif path == "/reset" and method == "POST":
                state.reset()
                self._send(200, {"success": True}, {})
            else:
                self._send(404, {"message": f"unknown control call {method} {CONTROL_PREFIX}{path}"}, {})
        except (TypeError, ValueError) as error:
            self._send(400, {"message": str(error)}, {})

    def _send(self, status: int, body: Any, headers: Mapping[str, str]) -> None:
        if isinstance(body, bytes):
            payload, content_type = body, "application/json"
        elif isinstance(body, str):
            payload, content_type = body.encode(), "text/html; charset=utf-8"
        else:
            payload, content_type = json.dumps(body).encode(), "application/json"
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)


_BOMBS: dict[int, bytes] = {}


def _gzip_bomb(size_mb: int) -> bytes:
    # Valid JSON once expanded, so that only its size can give it away.
    if size_mb not in _BOMBS:
        _BOMBS[size_mb] = gzip.compress(b'{"data": [' + b" " * (size_mb * 1024 * 1024) + b"]}", compresslevel=9)
    return _BOMBS[size_mb]


def _paginator_fault(fault: Fault, body: dict[str, Any], emulator: PlusofonEmulator) -> dict[str, Any]:
    if fault.repeat_first_page:
        body = {**emulator.state.page(1, emulator.app_url), "next_page_url": body.get("next_page_url") or "x"}
    for key, value in (fault.overrides or {}).items():
        if value is None:
            body.pop(key, None)
        else:
            body[key] = value
    return body


def _status_fault(fault: Fault) -> tuple[int, Any, dict[str, str]]:
    if fault.html:
        return fault.status, HTML_ERROR_PAGE.format(status=fault.status), {}
    return fault.status, {"message": "Server Error"}, {}


def _laravel_422(errors: Mapping[str, list[str]]) -> dict[str, Any]:
    messages = [m for ms in errors.values() for m in ms]
    more = len(messages) - 1
    first = messages[0] + (f" (and {more} more error{'s' if more > 1 else ''})" if more else "")
    return {"message": first, "errors": dict(errors)}


def _decode(raw: bytes) -> Any:
    if not raw:
        return None
    text = raw.decode("utf-8", "replace")
    try:
        return json.loads(text)
    except ValueError:
        return text


def _redacted_headers(headers: Any) -> dict[str, str]:
    recorded = {name: value for name, value in headers.items()}
    if "Authorization" in recorded:
        scheme = recorded["Authorization"].split(" ", 1)[0]
        recorded["Authorization"] = f"{scheme} ***"
    return recorded


def _int_or_none(text: str) -> int | None:
    return int(text) if text.isdigit() else None


def _page_number(query: Mapping[str, list[str]]) -> int:
    # Laravel falls back to page 1 for anything that is not a positive integer.
    value = (query.get("page") or ["1"])[0]
    return int(value) if value.isdigit() and int(value) > 0 else 1


def _type_filter(query: Mapping[str, list[str]], body: Any) -> str | None:
    if isinstance(body, dict) and body.get("type"):
        return str(body["type"])
    values = query.get("type")
    return values[0] if values else None


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], emulator: PlusofonEmulator) -> None:
        self.emulator = emulator
        super().__init__(address, _Handler)


class PlusofonEmulator:
    """
    A local Plusofon webhooks API, served over real HTTP.

    >>> with PlusofonEmulator(token="dev-token") as emulator:
    ...     emulator.base_url  # 'http://127.0.0.1:54321'

    :param host: address to bind (loopback by default).
    :param port: port to bind; 0 picks a free one.
    :param client_id: the Client ID the API accepts.
    :param token: the API token the API accepts.
    :param per_page: page size of the list endpoint.
    :param app_url: what the paginator's links are built from (``http://localhost``, as in the
        vendor's example, so a client that follows them breaks here as it would in production).
    :param latency_ms: delay added to every API answer.
    :param latency_jitter_ms: a random extra delay of up to this much per request.
    :param webhooks: the webhooks to start with.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        client_id: str = "10553",
        token: str = "dev-token",
        per_page: int = 15,
        app_url: str = "http://localhost",
        latency_ms: float = 0,
        latency_jitter_ms: float = 0,
        webhooks: Sequence[Mapping[str, Any]] | None = None,
    ) -> None:
        self.host, self.port = host, port
        self.client_id, self.token = str(client_id), token
        self.app_url = app_url
        self.latency_ms, self.latency_jitter_ms = latency_ms, latency_jitter_ms
        self.state = EmulatorState(per_page=per_page)
        if webhooks:
            self.state.seed(webhooks)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        """The URL to put in the connection's host."""
        return f"http://{self.host}:{self.port}"

    def connection_uri(self) -> dict[str, Any]:
        """The connection, in the JSON form ``AIRFLOW_CONN_PLUSOFON_DEFAULT`` accepts."""
        return {
            "conn_type": "plusofon",
            "login": self.client_id,
            "password": self.token,
            "host": self.base_url,
            "extra": {"timeout": 10},
        }

    def connection_env(self) -> str:
        """The value for ``AIRFLOW_CONN_PLUSOFON_DEFAULT``."""
        return json.dumps(self.connection_uri())

    def start(self) -> PlusofonEmulator:
        """Start serving on a background thread (the port is known when this returns)."""
        self._server = _Server((self.host, self.port), self)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> PlusofonEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- conveniences for tests -------------------------------------------------------------

    def inject(self, kind: str, **options: Any) -> Fault:
        """Script a fault for the next matching requests; see :class:`~.state.Fault`."""
        return self.state.inject(kind, **options)

    def requests(self, method: str | None = None, path: str | None = None) -> list[dict[str, Any]]:
        """The recorded requests, optionally only those with this method and path prefix."""
        return [
            r
            for r in self.state.requests()
            if (method is None or r["method"] == method) and (path is None or r["path"].startswith(path))
        ]

    def count(self, method: str | None = None) -> int:
        """How many API requests arrived (with this method)."""
        return len(self.requests(method))

    def webhooks(self) -> list[dict[str, Any]]:
        return self.state.webhooks()

    def seed(self, webhooks: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        return self.state.seed(webhooks)


@contextmanager
def running_emulator(**options: Any) -> Iterator[PlusofonEmulator]:
    """Start a :class:`PlusofonEmulator` on a free loopback port for the ``with`` block."""
    emulator = PlusofonEmulator(**options)
    with emulator:
        yield emulator


def free_port(host: str = "127.0.0.1") -> int:
    """A port that was free a moment ago (for starting the emulator in another process)."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])
