"""The emulator's HTTP server: requests in, answers out; what they mean is elsewhere.

Built on the standard library's threading HTTP server (keep-alive, one thread per connection),
so that it starts in milliseconds, needs nothing beyond Python, and can drop a connection half
way the way a flaky network does. The handler only routes: the API is ``routes.py``, the faults
``faults.py``, the control API ``control.py``.
"""

from __future__ import annotations

import json
import random
import socket
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from airflow_provider_plusofon.api.settings import is_this_machine
from airflow_provider_plusofon.emulator.control import CONTROL_PREFIX, control
from airflow_provider_plusofon.emulator.faults import Dropped, Fault, FaultQueue, answer_with_faults
from airflow_provider_plusofon.emulator.routes import Exchange, Reply, decode, route
from airflow_provider_plusofon.emulator.state import EmulatorState


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

    def _handle(self) -> None:
        emulator = self.server.emulator
        split = urlsplit(self.path)
        path, query = split.path.rstrip("/") or "/", parse_qs(split.query)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        account = emulator.account_of(self.headers.get("Client"))
        if path.startswith(CONTROL_PREFIX):
            self._send(control(emulator, account, self.command, path[len(CONTROL_PREFIX) :], raw))
            return
        entry: dict[str, Any] = {
            "method": self.command,
            "path": path,
            "query": {k: v[0] if len(v) == 1 else v for k, v in query.items()},
            "body": decode(raw),
            "headers": _redacted_headers(self.headers),
            "status": None,
            "time": time.time(),
        }
        exchange = Exchange(emulator, account, self.command, path, query, raw, dict(self.headers.items()))
        delay = emulator.latency_ms + random.uniform(0, emulator.latency_jitter_ms)
        if delay:
            time.sleep(delay / 1000)
        try:
            reply = answer_with_faults(
                account.faults.take(self.command, path, query), exchange, lambda: route(exchange)
            )
        except Dropped:
            entry["status"] = "dropped"
            account.state.record(entry)
            self.close_connection = True
            return
        entry["status"] = reply.status
        account.state.record(entry)
        self._send(reply)

    def _send(self, reply: Reply) -> None:
        body = reply.body
        if isinstance(body, bytes):
            payload, content_type = body, "application/json"
        elif isinstance(body, str):
            payload, content_type = body.encode(), "text/html; charset=utf-8"
        else:
            payload, content_type = json.dumps(body).encode(), "application/json"
        self.send_response(reply.status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)


def _redacted_headers(headers: Any) -> dict[str, str]:
    recorded = {name: value for name, value in headers.items()}
    if "Authorization" in recorded:
        scheme = recorded["Authorization"].split(" ", 1)[0]
        recorded["Authorization"] = f"{scheme} ***"
    return recorded


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], emulator: PlusofonEmulator) -> None:
        self.emulator = emulator
        super().__init__(address, _Handler)


class Account:
    """
    One Plusofon account the emulator serves: its Client ID, its token, its own webhooks, faults
    and request log.

    :param emulator: the emulator serving it.
    :param client_id: the Client ID it answers to.
    :param token: the API token it accepts.
    :param state: its webhooks and request log.
    """

    def __init__(self, emulator: PlusofonEmulator, client_id: str, token: str, state: EmulatorState) -> None:
        self.emulator, self.client_id, self.token, self.state = emulator, str(client_id), token, state
        self.faults = FaultQueue()

    def rotate_token(self, token: str) -> None:
        """Accept ``token`` from now on, and no longer the old one (as the vendor's account area does
        when a token is issued again): a request with the old one is answered 401."""
        if not token.strip():
            raise ValueError("a token must be a non-empty string")
        self.token = token

    def inject(self, kind: str, **options: Any) -> Fault:
        """Script a fault for this account's next matching requests; see :class:`~.faults.Fault`."""
        return self.faults.inject(kind, **options)

    def connection_uri(self) -> dict[str, Any]:
        """This account's connection, in the JSON form ``AIRFLOW_CONN_*`` accepts (opted in to plain
        http when the emulator listens on an address other machines reach: it serves no TLS)."""
        extra: dict[str, Any] = {"timeout": 10}
        if not is_this_machine(self.emulator.host):
            extra["allow_plain_http"] = True
        return {
            "conn_type": "plusofon",
            "login": self.client_id,
            "password": self.token,
            "host": self.emulator.base_url,
            "extra": extra,
        }

    def connection_env(self) -> str:
        """The value for an ``AIRFLOW_CONN_*`` variable pointing at this account."""
        return json.dumps(self.connection_uri())

    def requests(self, method: str | None = None, path: str | None = None) -> list[dict[str, Any]]:
        """The requests this account received, optionally only those with this method and path prefix."""
        return [
            r
            for r in self.state.requests()
            if (method is None or r["method"] == method) and (path is None or r["path"].startswith(path))
        ]

    def count(self, method: str | None = None) -> int:
        """How many API requests this account received (with this method)."""
        return len(self.requests(method))

    def webhooks(self) -> list[dict[str, Any]]:
        return self.state.webhooks()

    def seed(self, webhooks: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        return self.state.seed(webhooks)


class PlusofonEmulator(Account):
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
        super().__init__(self, str(client_id), token, EmulatorState(per_page=per_page))
        self.host, self.port = host, port
        self.app_url = app_url
        self.latency_ms, self.latency_jitter_ms = latency_ms, latency_jitter_ms
        self.per_page = per_page
        self.accounts: dict[str, Account] = {self.client_id: self}
        if webhooks:
            self.state.seed(webhooks)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        """The URL to put in the connection's host."""
        return f"http://{self.host}:{self.port}"

    def add_account(self, client_id: str, token: str, webhooks: Sequence[Mapping[str, Any]] | None = None) -> Account:
        """Serve another account (its own webhooks and log) beside the first, on the same port."""
        account = Account(self, str(client_id), token, EmulatorState(per_page=self.per_page))
        if webhooks:
            account.seed(webhooks)
        self.accounts[account.client_id] = account
        return account

    def account_of(self, client_id: str | None) -> Account:
        """The account a request's ``Client`` header names (the first account when it names none)."""
        return self.accounts.get(str(client_id), self)

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
