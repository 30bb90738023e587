"""The emulator in a process of its own, started with its command line and driven over HTTP.

For demos and benchmarks: a separate process keeps the server's work off the client's GIL.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import requests

from airflow_provider_plusofon.emulator.server import free_port


class EmulatorProcess:
    """
    ``plusofon-emulator`` on a free loopback port, with its control API at hand.

    :param client_id: the Client ID the API accepts.
    :param token: the API token the API accepts.
    :param options: more command-line options, e.g. ``["--latency-ms", "20", "--seed", path]``.
    """

    def __init__(self, *, client_id: str = "10553", token: str = "dev-token", options: list[str] | None = None):
        self.client_id, self.token = client_id, token
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        command = [sys.executable, "-m", "airflow_provider_plusofon.emulator", "--port", str(self.port)]
        command += ["--client-id", client_id, "--token", token, *(options or [])]
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        self.banner = self.process.stdout.readline().strip()  # printed once it is serving

    def connection_env(self) -> str:
        """The value for ``AIRFLOW_CONN_PLUSOFON_DEFAULT``."""
        return json.dumps(
            {"conn_type": "plusofon", "login": self.client_id, "password": self.token, "host": self.base_url}
        )

    def control(self, method: str, path: str, body: Any = None, *, headers: dict[str, str] | None = None) -> Any:
        """Call the control API, e.g. ``control("GET", "/requests")`` (another account's with
        ``headers={"Client": its_client_id}``)."""
        url = f"{self.base_url}/__emulator__{path}"
        return requests.request(method, url, json=body, headers=headers, timeout=60).json()

    def webhooks(self) -> list[dict[str, Any]]:
        return self.control("GET", "/webhooks")

    def requests(self) -> list[dict[str, Any]]:
        return self.control("GET", "/requests")

    def seed(self, webhooks: list[dict[str, Any]]) -> None:
        """Replace every webhook, and forget the requests so far."""
        self.control("PUT", "/webhooks", webhooks)
        self.control("DELETE", "/requests")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)

    def __enter__(self) -> EmulatorProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
