"""Issue 20: specs handed over every way a DAG author writes them, run with dag.test(): the secret
reaches no rendered field, XCom or log, and every task plans with the real value."""

from __future__ import annotations

import json

import pytest

from tests.conftest import REPO
from tests.e2e.conftest import assert_no_secret

pytestmark = pytest.mark.e2e

SECRET = "authoring-style-secret-7781"
TASKS = ["plain", "mapped", "mapped_kwargs", "xcom_arg", "xcom_pull", "param", "one_mapped"]


def rendered_fields(dag_run) -> dict[str, str]:
    from airflow.models.renderedtifields import RenderedTaskInstanceFields as RTIF
    from airflow.utils.session import create_session

    with create_session() as session:
        rows = session.query(RTIF).filter(RTIF.dag_id == dag_run.dag_id, RTIF.run_id == dag_run.run_id).all()
        return {f"{row.task_id}[{row.map_index}]": json.dumps(row.rendered_fields) for row in rows}


def results(dag_run) -> dict[str, object]:
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        rows = session.query(XComModel).filter(XComModel.dag_id == dag_run.dag_id, XComModel.run_id == dag_run.run_id)
        return {row.task_id: row.value for row in rows if row.key == "return_value"}


RUN = """
import json, sys
sys.path.insert(0, {scripts!r})
from demo import dag_bag
run = dag_bag({dags!r}).get_dag({dag_id!r}).test()
print(json.dumps({{"dag_id": run.dag_id, "run_id": run.run_id, "state": str(run.state)}}))
"""


def run_test_dag(dag_id: str) -> tuple[object, str]:
    """dag.test() of a DAG of tests/dags, in a process of its own (dag.test() runs DAGs of the
    configured DAGs folder); its state and what it printed."""
    import os
    import subprocess
    import sys
    from types import SimpleNamespace

    # dag.test() runs a DAG of the configured DAGs folder: this one's, in a process of its own.
    dags = REPO / "tests" / "dags"
    env = {**os.environ, "AIRFLOW__CORE__DAGS_FOLDER": str(dags), "AIRFLOW_VAR_PLUSOFON_CRM_WEBHOOK_SECRET": SECRET}
    code = RUN.format(scripts=str(REPO / "scripts"), dags=str(dags), dag_id=dag_id)
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    run = SimpleNamespace(**json.loads(done.stdout.strip().splitlines()[-1]))
    assert run.state == "success", done.stdout[-3000:]
    return run, done.stdout + done.stderr


def test_the_secret_reaches_no_rendered_field_whatever_the_authoring_style(airflow_db, emulator_conn):
    run, printed = run_test_dag("plusofon_authoring_styles")
    fields = rendered_fields(run)
    assert {name.split("[")[0] for name in fields} >= set(TASKS)
    for name, shown in fields.items():
        assert SECRET not in shown, f"{name} stored the secret in its rendered fields"
    for name in ("plain[-1]", "mapped[0]", "mapped_kwargs[0]", "param[-1]", "one_mapped[0]"):
        assert "***" in fields[name], name
    values = results(run)
    for name in TASKS:
        assert SECRET not in json.dumps(values.get(name)), name
    # Each task planned with the real value: the plan is a create of the spec, its header by name only.
    for name in [t for t in TASKS if t != "one_mapped"]:
        planned = values[name]
        planned = planned[0] if isinstance(planned, list) else planned
        assert [c["url"] for c in planned["created"]] == ["https://crm.example.com/plusofon/authoring"], name
    assert_no_secret(printed, SECRET)


def test_specs_with_the_secret_in_clear_through_xcom_are_shown_without_it(airflow_db, emulator_conn):
    run, printed = run_test_dag("plusofon_specs_through_xcom")
    fields = rendered_fields(run)
    for name in ("xcom_arg[-1]", "xcom_pull[-1]"):
        assert SECRET not in fields[name], name
        assert "***" in fields[name], name
    values = results(run)
    assert SECRET in json.dumps(values["make_specs"])  # the author's own task holds it, as written
    for name in ("xcom_arg", "xcom_pull"):
        assert SECRET not in json.dumps(values[name])
        assert [c["url"] for c in values[name]["created"]] == ["https://crm.example.com/plusofon/authoring"]
    # The author's task logs what it returned, and Airflow 3.0's supervisor logs the XCom it pushes
    # (Airflow's own lines about the author's task); the provider's tasks say nothing of it.
    authors = ("Returned value was:", "SetXCom(")
    ours = "\n".join(line for line in printed.splitlines() if not any(mark in line for mark in authors))
    assert_no_secret(ours, SECRET)
