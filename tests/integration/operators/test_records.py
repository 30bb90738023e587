"""Issue 35: every EnsureWebhooksOperator run leaves its record for the Plusofon page, also when it fails."""

from __future__ import annotations

import json
from typing import Any

import pytest

from airflow_provider_plusofon.exceptions import PlusofonAuthError, StalePlanError
from airflow_provider_plusofon.operators.webhooks import EnsureWebhooksOperator
from tests.conftest import CLIENT_ID, TOKEN

pytestmark = pytest.mark.integration

CRM = "https://crm.example.com/plusofon/calls"
SECRET = "records-header-secret-5d1"
SPECS = [
    {"url": CRM, "event": "create", "headers": [{"name": "X-Key", "value": SECRET}]},
    {"url": CRM, "event": "destroy", "type_call": "all"},
]


class TaskInstance:
    """What the task runner gives a task as ``ti``: its XCom pushes, as pushed."""

    def __init__(self, refuse: bool = False) -> None:
        self.pushed: dict[str, Any] = {}
        self.refuse = refuse

    def xcom_push(self, key: str, value: Any) -> None:
        if self.refuse:
            raise RuntimeError("the API server is restarting")
        self.pushed[key] = json.loads(json.dumps(value))  # what XCom stores is JSON


def run(ti: TaskInstance, **kwargs: Any) -> dict[str, Any]:
    return EnsureWebhooksOperator(task_id="ensure", webhooks=SPECS, **kwargs).execute(context={"ti": ti})


def test_an_audit_and_a_repair_each_record_the_account_what_it_found_and_what_it_did(emulator_conn):
    audit = TaskInstance()
    planned = run(audit, dry_run=True)
    record = audit.pushed["plusofon_outcome"]
    assert (record["outcome"], record["plan_id"], record["dry_run"]) == ("drifted", planned["plan_id"], True)
    assert (record["client_id"], record["conn_id"]) == (CLIENT_ID, "plusofon_default")
    assert record["writes"] == {"created": 2, "updated": 0, "deleted": 0}
    assert [m["event"] for m in record["drift"]["missing"]] == ["create", "destroy"]
    assert record["at"].endswith("+00:00")
    specs = audit.pushed["plusofon_specs"]
    assert specs["specs_total"] == 2 and [s["status"] for s in specs["specs"]] == ["missing", "missing"]
    assert "specs" not in record  # apart: only an account's page reads them
    assert "plusofon_outcome" not in planned  # the task's own result is as before

    repair = TaskInstance()
    run(repair, approved_plan_id=planned["plan_id"])
    done = repair.pushed["plusofon_outcome"]
    assert (done["outcome"], done["approved_plan_id"], done["dry_run"]) == ("repaired", planned["plan_id"], False)
    again = TaskInstance()
    run(again, dry_run=True)
    assert again.pushed["plusofon_outcome"]["outcome"] == "matching"
    shown = json.dumps([audit.pushed, repair.pushed, again.pushed])
    assert SECRET not in shown and TOKEN not in shown


def test_a_repair_whose_approved_plan_went_stale_records_it_before_it_fails(emulator_conn):
    audit = TaskInstance()
    approved = run(audit, dry_run=True)["plan_id"]
    emulator_conn.seed([{"url": CRM, "event": "destroy", "type_call": "all"}])  # the account changed meanwhile
    repair = TaskInstance()
    with pytest.raises(StalePlanError) as stale:
        run(repair, approved_plan_id=approved)
    record = repair.pushed["plusofon_outcome"]
    assert (record["outcome"], record["approved_plan_id"]) == ("stale", approved)
    assert record["plan_id"] == stale.value.plan_id != approved
    assert record["writes"] == {"created": 1, "updated": 0, "deleted": 0}
    assert [s["status"] for s in repair.pushed["plusofon_specs"]["specs"]] == ["missing", "matching"]
    assert [r["method"] for r in emulator_conn.requests()] == ["GET"] * len(emulator_conn.requests())


def test_a_run_that_cannot_read_the_account_records_why(emulator_conn, monkeypatch):
    conn = {**emulator_conn.connection_uri(), "password": "not-the-token", "extra": {"max_retries": 0}}
    monkeypatch.setenv("AIRFLOW_CONN_PLUSOFON_DEFAULT", json.dumps(conn))
    ti = TaskInstance()
    with pytest.raises(PlusofonAuthError):
        run(ti, dry_run=True)
    record = ti.pushed["plusofon_outcome"]
    assert (record["outcome"], record["client_id"]) == ("failed", CLIENT_ID)
    assert record["error"].startswith("PlusofonAuthError: GET /api/v1/webhooks failed (HTTP 401)")
    assert "plusofon_specs" not in ti.pushed and "not-the-token" not in json.dumps(record)


def test_a_missing_connection_is_recorded_without_a_client_id_and_a_refused_push_fails_nothing(emulator_conn):
    ti = TaskInstance()
    with pytest.raises(Exception, match="isn't defined"):
        run(ti, dry_run=True, plusofon_conn_id="nowhere")
    record = ti.pushed["plusofon_outcome"]
    assert (record["outcome"], record["client_id"], record["conn_id"]) == ("failed", None, "nowhere")
    assert run(TaskInstance(refuse=True), dry_run=True)["plan_id"].startswith("plan-")  # the audit still succeeds
    assert run(None, dry_run=True)["dry_run"] is True  # type: ignore[arg-type]  # outside a DAG run: no record
