"""End-to-end set-up: a migrated SQLite metadata DB (once per session) and the example DagBag."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import REPO

sys.path.insert(0, str(REPO / "scripts"))
from approvals import Approver, TimeoutSweep, hitl_available  # noqa: F401  (for the tests)
from demo import AIRFLOW_3_0_MASK_LEAK, dag_bag, lines_showing, only_airflow_3_0_mask_leak

EXAMPLE_DAGS = REPO / "example_dags"


def example_module(file_name: str) -> Any:
    """An example DAG's file imported as a module (for its functions), apart from any DagBag."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(file_name.removesuffix(".py"), EXAMPLE_DAGS / file_name)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def assert_no_secret(text: str, *secrets: str) -> None:
    """No secret anywhere in ``text``; on Airflow 3.0 a known Airflow leak is marked as such."""
    leaks = lines_showing(text, *secrets)
    if only_airflow_3_0_mask_leak(leaks):
        pytest.xfail(AIRFLOW_3_0_MASK_LEAK)
    assert leaks == [], "\n".join(leaks)


@pytest.fixture
def dagbag(airflow_db):
    """Parsed afresh for each test: dag.test(run_conf=...) leaves the conf in the DAG's params."""
    bag = dag_bag(str(EXAMPLE_DAGS))
    assert bag.import_errors == {}
    return bag


class Beside(threading.Thread):
    """A helper thread next to a DAG run: whatever it raises fails the test (see :meth:`check`)."""

    def __init__(self, target: Callable[[], None]) -> None:
        super().__init__(daemon=True)
        self._work, self.error = target, None

    def run(self) -> None:
        try:
            self._work()
        except BaseException as error:
            self.error = error

    def check(self, timeout: float = 60) -> None:
        """Wait for it, and raise what it raised."""
        self.join(timeout)
        assert not self.is_alive(), "the helper thread never finished"
        if self.error is not None:
            raise self.error


def wait_until(what: str, condition: Callable[[], bool], seconds: float = 30) -> None:
    """Until ``condition()``; an error naming ``what`` when it never comes (a bound, not a race)."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"never happened: {what}")
        time.sleep(0.05)
