"""End-to-end set-up: a migrated SQLite metadata DB (once per session) and the example DagBag."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

sys.path.insert(0, str(REPO / "scripts"))
from approvals import Approver, TimeoutSweep, hitl_available  # noqa: F401  (for the tests)
from demo import AIRFLOW_3_0_MASK_LEAK, dag_bag, lines_showing, only_airflow_3_0_mask_leak

EXAMPLE_DAGS = REPO / "example_dags"


def assert_no_secret(text: str, *secrets: str) -> None:
    """No secret anywhere in ``text``; on Airflow 3.0 a known Airflow leak is marked as such."""
    leaks = lines_showing(text, *secrets)
    if only_airflow_3_0_mask_leak(leaks):
        pytest.xfail(AIRFLOW_3_0_MASK_LEAK)
    assert leaks == [], "\n".join(leaks)


@pytest.fixture(scope="session")
def airflow_db() -> None:
    """Migrate the throwaway metadata DB that tests/conftest.py pointed AIRFLOW_HOME at."""
    airflow = Path(sys.executable).with_name("airflow")
    subprocess.run([str(airflow), "db", "migrate"], check=True, env=os.environ.copy(), capture_output=True)


@pytest.fixture
def dagbag(airflow_db):
    """Parsed afresh for each test: dag.test(run_conf=...) leaves the conf in the DAG's params."""
    bag = dag_bag(str(EXAMPLE_DAGS))
    assert bag.import_errors == {}
    return bag
