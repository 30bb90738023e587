"""Shared test set-up: a throwaway Airflow home (set before Airflow is imported), no real waits."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

# Airflow reads its home and settings when first imported: set them before anything imports it.
_HOME = tempfile.mkdtemp(prefix="plusofon-airflow-home-")
REPO = Path(__file__).resolve().parent.parent
os.environ["AIRFLOW_HOME"] = _HOME
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(REPO / "example_dags")
os.environ.setdefault("AIRFLOW__CORE__UNIT_TEST_MODE", "True")

import asyncio  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import re  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from typing import Any  # noqa: E402

import pytest  # noqa: E402

from airflow_provider_plusofon.api import retry as retry_module  # noqa: E402

# Opt-in, as in a user's conftest.py: the plugin is not loaded into every pytest run by itself.
pytest_plugins = ["airflow_provider_plusofon.emulator.pytest_plugin"]

TOKEN = "tok-SECRET-4f1c9a"
CLIENT_ID = "10553"
BASE = "https://plusofon.test"
API_PATH = re.compile(r"^/api/v1/webhooks(/[1-9][0-9]*)?$")


def airflow_modules_after_importing(*modules: str) -> list[str]:
    """The airflow modules a fresh interpreter holds after importing these."""
    code = (
        f"import sys; import {', '.join(modules)}; "
        "print(sorted(m for m in sys.modules if m == 'airflow' or m.startswith('airflow.')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.replace("'", '"'))


def redact(value: object, name: str) -> object:
    """What Airflow's secret masker makes of a rendered field (its module moved in 3.2)."""
    try:
        from airflow.sdk._shared.secrets_masker import redact as airflow_redact
    except ImportError:  # Airflow 3.0 and 3.1
        from airflow.sdk.execution_time.secrets_masker import redact as airflow_redact  # type: ignore[no-redef]
    return airflow_redact(value, name)


class LogLines:
    """A logger that keeps each line as it would be printed (a task's logger in core tests)."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def info(self, msg: str, /, *args: object) -> None:
        self.lines.append(msg % args)

    warning = info


@pytest.fixture(autouse=True)
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Every wait the client asked for, instead of sleeping through it (its clock moves on by as much)."""
    recorded: list[float] = []
    clock = [0.0]

    def sleep(seconds: float) -> None:
        recorded.append(seconds)
        clock[0] += seconds

    async def async_sleep(seconds: float) -> None:
        sleep(seconds)
        await asyncio.sleep(0)

    monkeypatch.setattr(retry_module, "_sleep", sleep)
    monkeypatch.setattr(retry_module, "_async_sleep", async_sleep)
    monkeypatch.setattr(retry_module, "_monotonic", lambda: clock[0])
    return recorded


# What requests, urllib and httpx read of the environment to reach a server and trust it.
NETWORK_VARIABLES = (
    *(f"{scheme}_proxy" for scheme in ("http", "https", "all", "no")),
    *(f"{scheme}_PROXY" for scheme in ("HTTP", "HTTPS", "ALL", "NO")),
    "REQUEST_METHOD",  # set, urllib ignores HTTP_PROXY (the CGI rule)
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "NETRC",
)


@pytest.fixture
def bare_network_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """None of :data:`NETWORK_VARIABLES`, whatever the machine running the tests has set."""
    for name in NETWORK_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def conn_env(monkeypatch: pytest.MonkeyPatch) -> dict:
    """The default connection, pointing at a host that only requests-mock answers."""
    conn = {
        "conn_type": "plusofon",
        "login": CLIENT_ID,
        "password": TOKEN,
        "host": BASE,
        "extra": {"timeout": 3, "max_retries": 3},
    }
    monkeypatch.setenv("AIRFLOW_CONN_PLUSOFON_DEFAULT", json.dumps(conn))
    return conn


# What an emulator account holds unless a test says otherwise: three pages of webhooks no test
# declares (a bug that hides beyond page 1 is a bug users meet), with ids 1 to 40.
UNRELATED = [
    {"url": f"https://unrelated.example.com/hooks/{i}", "event": "answer", "type_call": "all"} for i in range(40)
]


def ours(webhooks: list[dict]) -> list[dict]:
    """Only the webhooks a test put there: those that are not :data:`UNRELATED`."""
    return [w for w in webhooks if not str(w.get("url", "")).startswith("https://unrelated.example.com/")]


@pytest.fixture
def emulator_conn(plusofon_emulator, monkeypatch: pytest.MonkeyPatch) -> Iterator:
    """The emulator with the default connection pointing at it (with a token tests look for), its
    account holding :data:`UNRELATED` (three pages); ``empty_account`` when emptiness is the point."""
    plusofon_emulator.token = TOKEN
    plusofon_emulator.seed(UNRELATED)
    conn = {**plusofon_emulator.connection_uri(), "extra": {"timeout": 5, "max_retries": 3}}
    monkeypatch.setenv("AIRFLOW_CONN_PLUSOFON_DEFAULT", json.dumps(conn))
    yield plusofon_emulator
    # Whatever the test did, nothing but the webhooks endpoints may have been requested.
    stray = [r["path"] for r in plusofon_emulator.requests() if not API_PATH.match(r["path"])]
    assert stray == [], f"requests outside the webhooks API: {stray}"


@pytest.fixture(scope="session")
def airflow_db() -> None:
    """Migrate the throwaway metadata DB that this module pointed AIRFLOW_HOME at."""
    airflow = Path(sys.executable).with_name("airflow")
    subprocess.run([str(airflow), "db", "migrate"], check=True, env=os.environ.copy(), capture_output=True)


@pytest.fixture
def empty_account(emulator_conn) -> Any:
    """The emulator account with no webhook at all, for tests where that is the point."""
    emulator_conn.seed([])
    return emulator_conn


@pytest.fixture
def logs(capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture):
    """Read everything logged so far: Airflow's structlog writes to stdout, stdlib logging to caplog."""
    caplog.set_level(logging.DEBUG)
    seen: list[str] = []

    def read() -> str:
        out = capsys.readouterr()
        seen.append(out.out + out.err)
        return "".join(seen) + caplog.text

    return read
