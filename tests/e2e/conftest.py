"""End-to-end set-up: a migrated SQLite metadata DB (once per session) and the example DagBag."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

EXAMPLE_DAGS = REPO / "example_dags"


@pytest.fixture(scope="session")
def airflow_db() -> None:
    """Migrate the throwaway metadata DB that tests/conftest.py pointed AIRFLOW_HOME at."""
    airflow = Path(sys.executable).with_name("airflow")
    subprocess.run([str(airflow), "db", "migrate"], check=True, env=os.environ.copy(), capture_output=True)


@pytest.fixture
def dagbag(airflow_db):
    """Parsed afresh for each test: dag.test(run_conf=...) leaves the conf in the DAG's params."""
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(str(EXAMPLE_DAGS))
    assert bag.import_errors == {}
    return bag
