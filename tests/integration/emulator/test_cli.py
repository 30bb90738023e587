"""``plusofon-emulator`` from the command line: seeds, the banner, a clean stop."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import requests

from airflow_provider_plusofon.emulator import free_port, running_emulator
from airflow_provider_plusofon.emulator.cli import load_seed, main
from tests.integration.emulator.test_server import BODY, HEADERS

pytestmark = pytest.mark.integration


def test_seed_from_yaml_and_json(tmp_path):
    (tmp_path / "seed.yaml").write_text("webhooks:\n  - id: 7\n    url: https://a.example\n    event: create\n")
    (tmp_path / "seed.json").write_text(json.dumps([{"url": "https://b.example", "event": "answer"}]))
    with running_emulator(webhooks=load_seed(tmp_path / "seed.yaml")) as emulator:
        assert [w["id"] for w in emulator.webhooks()] == [7]
        emulator.state.add(BODY)
        assert [w["id"] for w in emulator.webhooks()] == [7, 8]
    assert load_seed(tmp_path / "seed.json")[0]["event"] == "answer"


def test_command_line_serves_and_prints_connection(tmp_path):
    port = free_port()
    (tmp_path / "seed.json").write_text(json.dumps([BODY]))
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "airflow_provider_plusofon.emulator",
            "--port",
            str(port),
            "--token",
            "cli-token",
            "--seed",
            str(tmp_path / "seed.json"),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert first.startswith(f"Plusofon emulator serving on http://127.0.0.1:{port} (1 webhooks)")
        process.stdout.readline()
        conn_line = process.stdout.readline()
        assert "AIRFLOW_CONN_PLUSOFON_DEFAULT=" in conn_line
        conn = json.loads(conn_line.split("=", 1)[1].strip().strip("'"))
        assert conn["host"] == f"http://127.0.0.1:{port}"
        answer = requests.get(
            f"http://127.0.0.1:{port}/api/v1/webhooks",
            headers={**HEADERS, "Authorization": "Bearer cli-token"},
            timeout=5,
        )
        assert answer.json()["total"] == 1
    finally:
        process.send_signal(subprocess.signal.SIGINT)
        assert process.wait(timeout=60) == 0  # a bound for a loaded machine, not a race


def test_a_seed_that_is_not_a_spec_list_is_one_clear_line(tmp_path, capsys):
    (tmp_path / "seed.yaml").write_text("webhooks: 7\n")
    assert main(["--seed", str(tmp_path / "seed.yaml"), "--port", "0"]) == 2
    assert "plusofon-emulator: --seed: 1 problem in the webhook specs" in capsys.readouterr().err
