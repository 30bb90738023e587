"""`make demo` runs in CI too, so that it cannot rot."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.e2e


def test_demo_adopts_audits_repairs_what_was_approved_and_exits_zero():
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
    # adopting: the export plans to nothing, and shows a placeholder where the secret was
    assert 'header values became placeholders:\n      value: "{{ var.value.plusofon_crm_example_com' in out
    assert "plusofon-webhooks plan of that file: exit 0" in out
    # the approved repair: exactly the reviewed plan, one PUT (approved in the UI, or by run conf on 3.0)
    assert re.search(r"applied plan plan-[0-9a-f]{24}; writes sent: PUT /api/v1/webhooks/\d+\n", out), out
    assert "8. Bootstrap again: nothing to change\n   run success; writes sent: none" in out
    assert "Demo finished" in out
    # it leaves nothing behind: its Airflow home and logs are removed (issue 21)
    [kept] = re.findall(r"Airflow home with SQLite in (\S+)/airflow ", out)
    assert not os.path.exists(kept)
    assert "its Airflow home and logs removed (PLUSOFON_DEMO_KEEP=1 keeps them)" in out
    assert "Filling up the DagBag" not in out
