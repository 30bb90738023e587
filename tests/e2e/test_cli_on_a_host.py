"""Issue 21: ``plusofon-webhooks`` sees the connections and Variables people create on an Airflow
host (``airflow connections add``, ``airflow variables set``: the metadata database), not only
``AIRFLOW_CONN_*`` / ``AIRFLOW_VAR_*``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO

pytestmark = pytest.mark.e2e

SECRET = "db-variable-secret-6120"


@pytest.fixture
def host(tmp_path) -> dict[str, str]:
    """An Airflow host of its own: a home, a migrated database, a Fernet key, no test settings."""
    from cryptography.fernet import Fernet

    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "PLUSOFON"))}
    env |= {
        "AIRFLOW_HOME": str(tmp_path / "home"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__FERNET_KEY": Fernet.generate_key().decode(),
    }
    airflow(env, "db", "migrate")
    return env


def airflow(env: dict[str, str], *args: str) -> None:
    command = [str(Path(sys.executable).with_name("airflow")), *args]
    subprocess.run(command, check=True, capture_output=True, env=env, timeout=300)


def add_connection(env: dict[str, str], conn_id: str, emulator) -> str:
    """The emulator's account saved as a person saves a connection on the host: in its database."""
    airflow(
        env,
        "connections", "add", conn_id, "--conn-type", "plusofon", "--conn-login", emulator.client_id,
        "--conn-password", emulator.token, "--conn-host", emulator.base_url,
    )  # fmt: skip
    return conn_id


def plusofon_webhooks(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """The command, as a person runs it on the host: a process of its own, the host's settings."""
    command = [str(Path(sys.executable).with_name("plusofon-webhooks")), *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)


def test_export_and_plan_read_the_metadata_database_as_airflows_cli_does(host, emulator_conn, tmp_path):
    conn_id = add_connection(host, "plusofon_cli_db", emulator_conn)
    airflow(host, "variables", "set", "cli_db_secret", SECRET)
    assert not [name for name in host if name.startswith(("AIRFLOW_CONN_", "AIRFLOW_VAR_"))]
    url = "https://crm.example.com/db"
    emulator_conn.seed([{"url": url, "event": "create", "headers": [{"name": "X-Key", "value": SECRET}]}])

    exported = plusofon_webhooks(host, "export", "--conn-id", conn_id)
    assert exported.returncode == 0, exported.stderr[-2000:]
    [spec] = yaml.safe_load(exported.stdout)["webhooks"]
    assert spec["url"] == url

    spec_file = tmp_path / "db.yaml"
    spec_file.write_text(
        f"webhooks:\n  - url: {url}\n    event: create\n    headers:\n"
        "      - {name: X-Key, value: '{{ var.value.cli_db_secret }}'}\n"
    )
    planned = plusofon_webhooks(host, "plan", str(spec_file), "--conn-id", conn_id)
    assert planned.returncode == 0, planned.stdout + planned.stderr[-2000:]  # the Variable matches the account
    assert "No changes" in planned.stdout
    assert SECRET not in planned.stdout + planned.stderr
    assert plusofon_webhooks(host, "validate", str(spec_file)).returncode == 0


def airflow_version() -> tuple[int, int]:
    from airflow import __version__

    major, minor = __version__.split(".")[:2]
    return int(major), int(minor)


@pytest.mark.skipif(airflow_version() < (3, 2), reason="Airflow reads a provider's 'cli' key from 3.2")
def test_airflow_s_own_cli_runs_the_same_commands(host, emulator_conn, tmp_path):
    conn_id = add_connection(host, "plusofon_cli_group", emulator_conn)
    emulator_conn.seed([{"url": f"https://other.example.com/{i}", "event": "answer"} for i in range(20)])
    spec_file = tmp_path / "one.yaml"
    spec_file.write_text("webhooks:\n  - url: https://crm.example.com/group\n    event: create\n")
    command = [str(Path(sys.executable).with_name("airflow")), "plusofon-webhooks"]
    ours = plusofon_webhooks(host, "plan", str(spec_file), "--conn-id", conn_id, "--json")
    theirs = subprocess.run(
        [*command, "plan", str(spec_file), "--conn-id", conn_id, "--json"],
        capture_output=True, text=True, env=host, timeout=120,
    )  # fmt: skip
    assert (ours.returncode, theirs.returncode) == (2, 2), theirs.stderr[-2000:]  # one webhook to create
    assert json.loads(theirs.stdout)["plan_id"] == json.loads(ours.stdout)["plan_id"]
    invalid = tmp_path / "bad.yaml"
    invalid.write_text("webhooks:\n  - url: not-a-url\n    event: create\n")
    failed = subprocess.run([*command, "validate", str(invalid)], capture_output=True, text=True, env=host, timeout=120)
    assert failed.returncode == 1 and "url" in failed.stderr
    assert not [r for r in emulator_conn.requests() if r["method"] != "GET"]


# -- issue 33: the command line speaks in its own voice ---------------------------------------------

SPEC_NEEDING_A_VARIABLE = (
    "webhooks:\n  - url: https://crm.example.com/voice\n    event: create\n    headers:\n"
    "      - {name: X-Key, value: '{{ var.value.voice_secret }}'}\n"
)


def bare_host(tmp_path: Path, **extra: str) -> dict[str, str]:
    """A CI job's or a laptop's shell: an empty home, no AIRFLOW_HOME, no Airflow settings at all."""
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "PLUSOFON", "_AIRFLOW"))}
    return {**env, "HOME": str(home), **extra}


NO_DATABASE = (
    "plusofon-webhooks: no usable Airflow metadata database on this host (AIRFLOW_HOME is not set and "
    "~/airflow does not exist; OperationalError): point AIRFLOW_HOME at your Airflow's home (or run `airflow "
    "db migrate` there), give the Variables and connections as AIRFLOW_VAR_* / AIRFLOW_CONN_*, or check spec "
    "files with `validate --stand-ins`"
)


def test_with_no_airflow_on_the_host_each_command_says_one_line_and_leaves_home_as_it_was(tmp_path):
    env = bare_host(tmp_path)
    spec_file = tmp_path / "voice.yaml"
    spec_file.write_text(SPEC_NEEDING_A_VARIABLE)

    validated = plusofon_webhooks(env, "validate", str(spec_file))
    planned = plusofon_webhooks(env, "plan", str(spec_file))
    stood_in = plusofon_webhooks(env, "validate", "--stand-ins", str(spec_file))

    assert (validated.returncode, validated.stdout, validated.stderr) == (1, "", NO_DATABASE + "\n")
    assert (planned.returncode, planned.stdout, planned.stderr) == (1, "", NO_DATABASE + "\n")
    assert (stood_in.returncode, stood_in.stdout, stood_in.stderr) == (0, "1 file(s) valid\n", "")
    assert list(Path(env["HOME"]).iterdir()) == []  # no ~/airflow, nothing else either


def test_a_fresh_airflow_home_adds_nothing_of_airflows_own_to_the_output(tmp_path):
    home = tmp_path / "airflow-home"
    home.mkdir()
    env = bare_host(tmp_path, AIRFLOW_HOME=str(home))
    files = sorted(str(p) for p in (REPO / "example_dags" / "webhooks").glob("*.yaml"))

    checked = plusofon_webhooks(
        env, "validate", "--stand-ins", *files, "--param", "receiver_base_url=https://crm.example.com"
    )
    planned = plusofon_webhooks(env, "plan", files[0], "--param", "receiver_base_url=https://crm.example.com")

    assert (checked.returncode, checked.stdout, checked.stderr) == (0, f"{len(files)} file(s) valid\n", "")
    assert planned.returncode == 1 and planned.stdout == ""
    [line] = planned.stderr.splitlines()
    assert line.startswith(
        f"plusofon-webhooks: no usable Airflow metadata database on this host (AIRFLOW_HOME={home}; "
    )


def test_debug_shows_what_airflow_says_and_the_traceback(tmp_path):
    env = bare_host(tmp_path)
    spec_file = tmp_path / "voice.yaml"
    spec_file.write_text(SPEC_NEEDING_A_VARIABLE)

    debugged = plusofon_webhooks(env, "--debug", "plan", str(spec_file))

    assert debugged.returncode == 1
    assert "no such table: variable" in debugged.stderr  # Airflow's own log line, shown when asked for
    assert "Traceback" in debugged.stderr and "NoMetadataDatabaseError" in debugged.stderr
