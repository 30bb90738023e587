"""The example DAGs, run for real with dag.test() against the emulator."""

from __future__ import annotations

import datetime
import json

import pendulum
import pytest
import yaml

from airflow_provider_plusofon.operators.webhooks import EnsureWebhooksOperator
from airflow_provider_plusofon.webhooks.spec import parse_specs
from tests.conftest import TOKEN, ours
from tests.e2e.conftest import (
    EXAMPLE_DAGS,
    Approver,
    Beside,
    TimeoutSweep,
    assert_no_secret,
    dag_bag,
    hitl_available,
    wait_until,
)

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


CHANGES = "plusofon://10553/webhooks/changes"


def changes_events() -> list[dict]:
    """The extras of the events on the emulator account's changes asset, oldest first."""
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session

    with create_session() as session:
        rows = (
            session.query(AssetEvent)
            .join(AssetModel, AssetEvent.asset_id == AssetModel.id)
            .filter(AssetModel.uri == CHANGES)
            .order_by(AssetEvent.id)
            .all()
        )
        return [dict(row.extra or {}) for row in rows]


def as_the_page_shows(run, client_id: str = "10553") -> tuple[object, object]:
    """The account's row on the Plusofon page (issue 35), from what the runs recorded, and the state of
    the declaration ``run`` checked (other tests of this session declare other specs on the account)."""
    from airflow_provider_plusofon.ui import records, rows
    from airflow_provider_plusofon.ui.pages import _session

    now = pendulum.now("UTC")
    with _session() as session:
        found = records.read_account(session, client_id, now)
    assert found is not None
    account, told = found.accounts[client_id], found.evidence[client_id]
    row = rows.account_row(account, told, found.approvals, found.watchers[client_id], now)
    [group] = [
        g
        for g in rows.declarations(rows.everything_told(told, [], now))
        if any(e.run and e.run.run_id == run.run_id for e in g)
    ]
    return row, rows.Row(account, **rows.verdict(group, found.approvals).fields)


def state_of(emulator) -> list[tuple[str, str, str]]:
    return sorted((w["url"], w["event"], w["type_call"]) for w in ours(emulator.webhooks()))


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
    urls = {w["url"] for w in ours(env.webhooks())}
    assert urls == {
        "https://crm.prod.example.com/plusofon/calls",
        "https://crm.prod.example.com/analytics/call-ended",
    }


AUDIT = "plusofon_webhook_audit"
HITL = hitl_available()
needs_hitl = pytest.mark.skipif(not HITL, reason="approval tasks need Airflow 3.1+ (3.0 approves by run conf)")
needs_no_hitl = pytest.mark.skipif(HITL, reason="Airflow 3.0's approval by run conf")


def alerts(caplog) -> int:
    """How many times the audit's alert_on_drift was called."""
    return sum("ALERT: Plusofon webhooks drifted" in record.getMessage() for record in caplog.records)


def printed(capsys) -> str:
    """What the run printed: task logs on stdout, the alert's log record on stderr."""
    output = capsys.readouterr()
    return output.out + output.err


def drift_one_webhook(env) -> dict:
    """Someone changes a webhook by hand in the Plusofon account (not through the API we watch)."""
    drifted = next(w for w in env.webhooks() if w["event"] == "create")
    env.state.replace(drifted["id"], {**drifted, "type_style": "short"})
    env.state.clear_requests()
    return drifted


def test_audit_of_a_clean_account_asks_nobody_and_writes_nothing(env, dagbag):
    dagbag.dags["plusofon_bootstrap_webhooks"].test()
    env.state.clear_requests()
    before = changes_events()
    clean = dagbag.dags[AUDIT].test()
    assert clean.state == "success"
    states = task_states(clean)
    assert states["needs_repair"] == "success"
    assert states["approve_repair"] == states["repair_webhooks"] == "skipped"
    assert states["report_drift"] == "success"
    assert writes(env) == []
    assert changes_events() == before  # nothing changed: no event for the backfill


def assert_one_changes_event(before: list[dict], run, updated: list[int]) -> dict:
    """The repair emitted one changes event: what it wrote, its plan, the lost-call window."""
    [event] = changes_events()[len(before) :]
    assert event["changed"] is True and event["client_id"] == "10553"
    assert (event["created"], event["updated"], event["deleted"]) == ("", ",".join(map(str, updated)), "")
    assert event["plan_id"] == xcoms(run)["repair_webhooks"]["plan_id"]
    start, end = event["window_start"], pendulum.parse(event["window_end"])
    assert start is None or pendulum.parse(start) < end
    assert event["window_start_from"] == ("previous successful run" if start else None)  # no drift event here
    return event


@needs_hitl
def test_audit_repairs_exactly_the_plan_a_person_approved(env, dagbag, capsys, caplog):
    dagbag.dags["plusofon_bootstrap_webhooks"].test()
    drifted = drift_one_webhook(env)
    before = changes_events()
    with Approver(AUDIT, "approve_repair", "Approve", user="ops-reviewer") as approver:
        run = dagbag.dags[AUDIT].test()
    assert run.state == "success"
    event = assert_one_changes_event(before, run, [drifted["id"]])
    assert task_states(run) == dict.fromkeys(
        ("plan_webhooks", "needs_repair", "approve_repair", "repair_webhooks", "report_drift"), "success"
    )
    planned, repaired = xcoms(run)["plan_webhooks"], xcoms(run)["repair_webhooks"]
    # the approver was shown the plan, and the repair applied that very plan
    assert approver.subject == "Plusofon webhooks drifted in staging: apply the repair?"
    assert approver.body.startswith("**Why now:** someone started this audit by hand.\n")  # dag.test(): by hand
    assert f"**Approve** writes plan `{planned['plan_id']}`: 0 to create, 1 to update, 0 to delete" in approver.body
    assert "dry run" not in approver.body
    # one change per line: a list item each, the fields it changes under it (make live UI=1 looks at it)
    assert f"- `~ update  #{drifted['id']} {RECEIVER}/plusofon/calls event=create type_call=inbound`\n" in approver.body
    assert "\n  - `type_style: 'short' -> 'long'`\n" in approver.body
    assert repaired["plan_id"] == planned["plan_id"]
    assert xcoms(run)["approve_repair"]["chosen_options"] == ["Approve"]
    assert writes(env) == ["PUT"]
    assert env.state.get(drifted["id"])["type_style"] == "long"
    assert alerts(caplog) == 0
    row, ours = as_the_page_shows(run)
    assert ours.state == "repaired"
    assert (row.last_repair.run.run_id, row.last_repair.run.task_id) == (
        run.run_id,
        "repair_webhooks",
    )
    assert row.window is not None and row.window.end is not None
    output = capsys.readouterr()
    shown = output.out + output.err + approver.body + json.dumps([xcoms(run), event])
    assert_no_secret(shown, HEADER_SECRET, TOKEN)


@needs_hitl
def test_audit_rejected_writes_nothing_and_says_who_rejected(env, dagbag, capsys, caplog):
    dagbag.dags["plusofon_bootstrap_webhooks"].test()
    drifted = drift_one_webhook(env)
    before = changes_events()
    with Approver(AUDIT, "approve_repair", "Reject", user="night-shift"):
        run = dagbag.dags[AUDIT].test()
    assert run.state == "failed"
    assert changes_events() == before
    states = task_states(run)
    assert (states["approve_repair"], states["repair_webhooks"], states["report_drift"]) == (
        "success",
        "skipped",
        "failed",
    )
    assert writes(env) == []
    assert env.state.get(drifted["id"])["type_style"] == "short"
    plan_id = xcoms(run)["plan_webhooks"]["plan_id"]
    out = printed(capsys)
    assert f"night-shift rejected the repair of plan {plan_id}" in out
    assert alerts(caplog) == 1


@needs_hitl
def test_audit_unanswered_counts_as_rejected(env, dagbag, capsys, caplog):
    dagbag.dags["plusofon_bootstrap_webhooks"].test()
    drift_one_webhook(env)
    audit = dagbag.dags[AUDIT]
    audit.get_task("approve_repair").response_timeout = datetime.timedelta(seconds=1)
    with TimeoutSweep(AUDIT, "approve_repair"):
        run = audit.test()
    assert run.state == "failed"
    assert task_states(run)["repair_webhooks"] == "skipped"
    assert writes(env) == []
    out = printed(capsys)
    assert "nobody answered approve_repair within 20 hours" in out
    assert alerts(caplog) == 1


@needs_hitl
def test_audit_approval_of_a_plan_gone_stale_writes_nothing(env, dagbag, capsys, caplog):
    dagbag.dags["plusofon_bootstrap_webhooks"].test()
    drifted = drift_one_webhook(env)

    def someone_edits_it_again() -> None:  # after the plan was shown, before it is approved
        env.state.replace(drifted["id"], {**env.state.get(drifted["id"]), "type_style": "short", "template": "x"})

    with Approver(AUDIT, "approve_repair", "Approve", before_answering=someone_edits_it_again):
        run = dagbag.dags[AUDIT].test()
    assert run.state == "failed"
    states = task_states(run)
    assert (states["approve_repair"], states["repair_webhooks"]) == ("success", "failed")
    assert writes(env) == []
    assert env.state.get(drifted["id"])["template"] == "x"
    out = printed(capsys)
    assert "StalePlanError" in out and xcoms(run)["plan_webhooks"]["plan_id"] in out
    assert alerts(caplog) == 1
    # The approval's own page says "Success" with the old plan; the Plusofon page says what became of it.
    row, ours = as_the_page_shows(run)
    assert ours.state == row.state == "awaiting"
    [note] = ours.notes
    assert (note.kind, note.plan_id, note.run.task_id) == (
        "stale",
        xcoms(run)["plan_webhooks"]["plan_id"],
        "repair_webhooks",
    )
    assert note.by == "ops-reviewer"
    assert ours.plan.plan_id != note.plan_id and ours.plan.where == "dag"
    assert row.last_repair.run.run_id != run.run_id  # the bootstrap's writes are the last; this repair wrote nothing


@needs_no_hitl
def test_audit_on_airflow_3_0_repairs_only_a_plan_approved_in_the_run_conf(env, dagbag, capsys, caplog):
    dagbag.dags["plusofon_bootstrap_webhooks"].test()
    drifted = drift_one_webhook(env)
    found = dagbag.dags[AUDIT].test()
    assert found.state == "failed"
    assert task_states(found)["repair_webhooks"] == "skipped"
    plan_id = xcoms(found)["plan_webhooks"]["plan_id"]
    assert f'{{"approved_plan_id": "{plan_id}"}}' in printed(capsys)
    assert writes(env) == []

    stale = dag_bag(str(EXAMPLE_DAGS)).dags[AUDIT].test(run_conf={"approved_plan_id": "plan-" + "0" * 24})
    assert stale.state == "failed"
    assert task_states(stale)["repair_webhooks"] == "failed"
    assert "StalePlanError" in printed(capsys)
    assert writes(env) == []
    assert alerts(caplog) == 2  # the unapproved drift, then the stale plan
    _, ours = as_the_page_shows(stale)
    assert (ours.state, ours.notes[0].kind, ours.notes[0].plan_id) == ("awaiting", "stale", "plan-" + "0" * 24)

    before = changes_events()
    repaired = dag_bag(str(EXAMPLE_DAGS)).dags[AUDIT].test(run_conf={"approved_plan_id": plan_id})
    assert repaired.state == "success"
    assert_one_changes_event(before, repaired, [drifted["id"]])
    assert xcoms(repaired)["repair_webhooks"]["plan_id"] == plan_id
    assert writes(env) == ["PUT"]
    assert env.state.get(drifted["id"])["type_style"] == "long"


def test_pipeline_waits_behind_the_deferrable_sensor_until_webhooks_exist(env, dagbag):
    # env comes first: the DAG reads PLUSOFON_EXAMPLE_POKE_INTERVAL when it is parsed
    assert dagbag.dags["plusofon_call_pipeline"].get_task("wait_for_webhooks").poke_interval == 0.2
    raw = staging_specs()
    parse_specs(raw)

    def create_webhooks_once_the_sensor_waits() -> None:
        # the sensor checked, found nothing, and checks again from the trigger
        wait_until("the sensor's third check", lambda: len(env.requests("GET", "/api/v1/webhooks")) >= 3)
        EnsureWebhooksOperator(task_id="bootstrap_elsewhere", webhooks=raw).execute(context={})

    worker = Beside(create_webhooks_once_the_sensor_waits)
    worker.start()
    run = dagbag.dags["plusofon_call_pipeline"].test()
    worker.check()
    assert run.state == "success"
    assert task_states(run) == {"wait_for_webhooks": "success", "load_call_records": "success"}
    loaded = xcoms(run)["load_call_records"]
    assert loaded["loaded"] is True
    assert sorted(loaded["webhook_ids"]) == sorted(w["id"] for w in ours(env.webhooks()))
    # the pipeline's own list requests came both before and after the webhooks were created
    assert len(env.requests("GET", "/api/v1/webhooks")) >= 5


def test_pipeline_in_reschedule_mode_frees_the_slot_and_checks_again(env, dagbag):
    dag = dagbag.dags["plusofon_call_pipeline"]
    sensor = dag.get_task("wait_for_webhooks")
    sensor.deferrable, sensor.mode = False, "reschedule"  # as a user without a triggerer would run it
    raw = staging_specs()

    def create_webhooks_once_the_sensor_checked() -> None:
        wait_until("the sensor's first check", lambda: bool(env.requests("GET", "/api/v1/webhooks")))
        EnsureWebhooksOperator(task_id="bootstrap_elsewhere", webhooks=raw).execute(context={})

    worker = Beside(create_webhooks_once_the_sensor_checked)
    worker.start()
    run = dag.test()
    worker.check()
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
    assert sorted(xcoms(run)["load_call_records"]["webhook_ids"]) == sorted(w["id"] for w in ours(env.webhooks()))


@pytest.mark.parametrize(
    ("run_type", "said"),
    [
        ("asset_triggered", "**Why now:** the drift watcher reported that the account drifted."),
        ("scheduled", "**Why now:** the daily audit (06:00 UTC)."),
        ("manual", "**Why now:** someone started this audit by hand."),
        ("backfill", "**Why now:** a backfill run of this audit."),
    ],
)
def test_the_approval_says_what_started_the_audit(dagbag, run_type, said):
    import types

    from tests.e2e.conftest import example_module

    audit = example_module("plusofon_webhook_audit.py")
    env = dagbag.dags[AUDIT].get_template_env()
    first_line = audit.APPROVAL_BODY.splitlines()[0]

    assert env.from_string(first_line).render(dag_run=types.SimpleNamespace(run_type=run_type)) == said
    from airflow.sdk.api.datamodels._generated import DagRunType  # what a task's dag_run holds

    assert env.from_string(first_line).render(dag_run=types.SimpleNamespace(run_type=DagRunType(run_type))) == said
