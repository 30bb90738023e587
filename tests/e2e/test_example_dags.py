"""The example DAGs, run for real with dag.test() against the emulator."""

from __future__ import annotations

import json
import threading
import time

import pytest
import yaml

from airflow_provider_plusofon.operators.webhooks import EnsureWebhooksOperator
from airflow_provider_plusofon.webhooks.spec import parse_specs
from tests.conftest import TOKEN
from tests.e2e.conftest import EXAMPLE_DAGS, assert_no_secret

pytestmark = pytest.mark.e2e

HEADER_SECRET = "e2e-crm-header-secret-5521"
RECEIVER = "https://crm.example.com"


@pytest.fixture
def env(emulator_conn, monkeypatch):
    monkeypatch.setenv("AIRFLOW_VAR_PLUSOFON_CRM_WEBHOOK_SECRET", HEADER_SECRET)
    monkeypatch.setenv("PLUSOFON_EXAMPLE_POKE_INTERVAL", "0.2")
    return emulator_conn


def xcoms(dag_run) -> dict[str, object]:
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        rows = (
            session.query(XComModel)
            .filter(
                XComModel.dag_id == dag_run.dag_id,
                XComModel.run_id == dag_run.run_id,
                XComModel.key == "return_value",
            )
            .all()
        )
        return {row.task_id: row.value for row in rows}


def task_states(dag_run) -> dict[str, str]:
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session

    with create_session() as session:
        tis = session.query(TaskInstance).filter(
            TaskInstance.dag_id == dag_run.dag_id, TaskInstance.run_id == dag_run.run_id
        )
        return {ti.task_id: str(ti.state) for ti in tis}


def writes(emulator) -> list[str]:
    return [r["method"] for r in emulator.requests() if r["method"] != "GET"]


def declared(environment: str = "staging") -> list[tuple[str, str, str]]:
    text = (EXAMPLE_DAGS / "webhooks" / f"{environment}.yaml").read_text()
    raw = yaml.safe_load(text.replace("{{ params.receiver_base_url }}", RECEIVER))["webhooks"]
    return sorted((w["url"], w["event"], w["type_call"]) for w in raw)


def staging_specs() -> list[dict]:
    """The staging spec file as the DAGs render it (receiver URL and header secret filled in)."""
    text = (EXAMPLE_DAGS / "webhooks" / "staging.yaml").read_text().replace("{{ params.receiver_base_url }}", RECEIVER)
    raw = yaml.safe_load(text)["webhooks"]
    for spec in raw:
        for header in spec.get("headers", []):
            header["value"] = HEADER_SECRET
    return raw


def state_of(emulator) -> list[tuple[str, str, str]]:
    return sorted((w["url"], w["event"], w["type_call"]) for w in emulator.webhooks())


def test_bootstrap_twice_second_run_sends_no_write(env, dagbag, capsys):
    dag = dagbag.dags["plusofon_bootstrap_webhooks"]
    first = dag.test()
    assert first.state == "success"
    assert state_of(env) == declared()
    secret_hook = next(w for w in env.webhooks() if w["event"] == "create")
    assert secret_hook["headers"] == [{"name": "X-Webhook-Secret", "value": HEADER_SECRET}]
    summary = xcoms(first)["ensure_webhooks"]
    assert len(summary["created"]) == 3 and all(isinstance(c["id"], int) for c in summary["created"])
    assert xcoms(first)["verify_webhooks"]["all_satisfied"] is True

    env.state.clear_requests()
    second = dag.test()
    assert second.state == "success"
    assert writes(env) == []
    assert len(xcoms(second)["ensure_webhooks"]["unchanged"]) == 3

    output = capsys.readouterr()
    everything = output.out + output.err + json.dumps([xcoms(first), xcoms(second)])
    assert_no_secret(everything, HEADER_SECRET, TOKEN)


def test_bootstrap_production_with_params(env, dagbag):
    dag = dagbag.dags["plusofon_bootstrap_webhooks"]
    run = dag.test(run_conf={"environment": "production", "receiver_base_url": "https://crm.prod.example.com"})
    assert run.state == "success"
    urls = {w["url"] for w in env.webhooks()}
    assert urls == {
        "https://crm.prod.example.com/plusofon/calls",
        "https://crm.prod.example.com/analytics/call-ended",
    }


def test_audit_detects_drift_and_repairs_only_when_allowed(env, dagbag):
    dagbag.dags["plusofon_bootstrap_webhooks"].test()
    audit = dagbag.dags["plusofon_webhook_audit"]

    clean = audit.test()
    assert clean.state == "success"
    assert task_states(clean)["repair_webhooks"] == "skipped"

    # someone changes a webhook by hand in the Plusofon account
    drifted = next(w for w in env.webhooks() if w["event"] == "create")
    env.state.replace(drifted["id"], {**drifted, "type_style": "short"})
    env.state.clear_requests()
    found = audit.test()
    assert found.state == "failed"
    assert task_states(found)["report_drift"] == "failed"
    plan = xcoms(found)["plan_webhooks"]
    assert plan["dry_run"] is True
    assert plan["updated"][0]["id"] == drifted["id"]
    assert plan["updated"][0]["changes"] == {"type_style": {"before": "short", "after": "long"}}
    assert writes(env) == []
    assert env.state.get(drifted["id"])["type_style"] == "short"

    repaired = audit.test(run_conf={"repair": True})
    assert repaired.state == "success"
    assert env.state.get(drifted["id"])["type_style"] == "long"
    assert writes(env) == ["PUT"]


def test_pipeline_waits_behind_the_deferrable_sensor_until_webhooks_exist(env, dagbag):
    # env comes first: the DAG reads PLUSOFON_EXAMPLE_POKE_INTERVAL when it is parsed
    assert dagbag.dags["plusofon_call_pipeline"].get_task("wait_for_webhooks").poke_interval == 0.2
    raw = staging_specs()
    parse_specs(raw)

    def create_webhooks_once_the_sensor_waits() -> None:
        deadline = time.monotonic() + 30
        while len(env.requests("GET", "/api/v1/webhooks")) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)  # the sensor checked, found nothing, and checks again from the trigger
        EnsureWebhooksOperator(task_id="bootstrap_elsewhere", webhooks=raw).execute(context={})

    worker = threading.Thread(target=create_webhooks_once_the_sensor_waits, daemon=True)
    worker.start()
    run = dagbag.dags["plusofon_call_pipeline"].test()
    worker.join(30)
    assert run.state == "success"
    assert task_states(run) == {"wait_for_webhooks": "success", "load_call_records": "success"}
    loaded = xcoms(run)["load_call_records"]
    assert loaded["loaded"] is True
    assert sorted(loaded["webhook_ids"]) == sorted(w["id"] for w in env.webhooks())
    # the pipeline's own list requests came both before and after the webhooks were created
    assert len(env.requests("GET", "/api/v1/webhooks")) >= 5


def test_pipeline_in_reschedule_mode_frees_the_slot_and_checks_again(env, dagbag):
    dag = dagbag.dags["plusofon_call_pipeline"]
    sensor = dag.get_task("wait_for_webhooks")
    sensor.deferrable, sensor.mode = False, "reschedule"  # as a user without a triggerer would run it
    raw = staging_specs()

    def create_webhooks_once_the_sensor_checked() -> None:
        deadline = time.monotonic() + 30
        while not env.requests("GET", "/api/v1/webhooks") and time.monotonic() < deadline:
            time.sleep(0.05)
        EnsureWebhooksOperator(task_id="bootstrap_elsewhere", webhooks=raw).execute(context={})

    worker = threading.Thread(target=create_webhooks_once_the_sensor_checked, daemon=True)
    worker.start()
    run = dag.test()
    worker.join(30)
    assert run.state == "success"
    assert task_states(run) == {"wait_for_webhooks": "success", "load_call_records": "success"}

    from airflow.models.taskinstance import TaskInstance
    from airflow.models.taskreschedule import TaskReschedule
    from airflow.utils.session import create_session

    with create_session() as session:
        ti = (
            session.query(TaskInstance)
            .filter_by(dag_id=run.dag_id, run_id=run.run_id, task_id="wait_for_webhooks")
            .one()
        )
        reschedules = session.query(TaskReschedule).filter_by(ti_id=ti.id).count()
        assert ti.try_number == 1  # a reschedule is not a retry
    assert reschedules >= 1  # it gave its slot back at least once before the webhooks existed
    assert sorted(xcoms(run)["load_call_records"]["webhook_ids"]) == sorted(w["id"] for w in env.webhooks())
