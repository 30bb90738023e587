"""`make demo` runs in CI too, so that it cannot rot."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.e2e


def test_demo_runs_the_three_jobs_and_exits_zero():
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "PLUSOFON"))}
    result = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "demo.py")],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    out = result.stdout
    assert "~ updated #2 https://crm.example.com/plusofon/calls create  (type_style)" in out
    assert "audit run failed (drift found, alert raised); writes sent: none" in out
    assert "7. Bootstrap a third time: nothing to change\n   run success; writes sent: none" in out
    assert "Demo finished" in out
    assert "Filling up the DagBag" not in out
