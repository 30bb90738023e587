"""Issue 22: the fleet DAG against 20 accounts on one emulator, run for real with dag.test(): one
audit per account (named after it), one failing account reported without stopping the others,
repairs only of the plans approved in the run's conf, and a summary of every account."""

from __future__ import annotations

import json

import pytest

from tests.conftest import TOKEN
from tests.e2e.conftest import assert_no_secret, example_module

pytestmark = pytest.mark.e2e

SECRET = "fleet-header-secret-4471"
ACCOUNTS = 20


def fleet_webhooks(conn_id: str) -> list[dict]:
    url = f"https://crm.example.com/plusofon/{conn_id}/calls"
    return [
        {
            "url": url,
            "event": "create",
            "type_call": "inbound",
            "headers": [{"name": "X-Webhook-Secret", "value": SECRET}],
        },
        {"url": url, "event": "destroy", "type_call": "all"},
    ]


def filler(n: int) -> list[dict]:
    return [{"url": f"https://other.example.com/{n}/{i}", "event": "answer"} for i in range(16)]  # a second page


@pytest.fixture
def fleet(plusofon_emulator, monkeypatch):
    """20 accounts: every third drifted (nothing declared yet), one unreadable (a wrong token), the rest clean."""
    accounts = {}
    for n in range(ACCOUNTS):
        conn_id = f"plusofon_fleet_{n}"
        account = plusofon_emulator if n == 0 else plusofon_emulator.add_account(str(30000 + n), f"{TOKEN}-{n}")
        if n == 0:
            account.token = TOKEN
        account.seed(filler(n) + ([] if n % 3 == 1 else fleet_webhooks(conn_id)))
        uri = {**account.connection_uri(), "extra": {"timeout": 5, "max_retries": 1}}
        if n == 7:
            uri["password"] = "not-this-accounts-token"
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(uri))
        accounts[conn_id] = account
    entries = [{"conn_id": name, "webhooks": "webhooks/fleet.yaml"} for name in accounts]
    monkeypatch.setenv("AIRFLOW_VAR_PLUSOFON_FLEET", json.dumps(entries))
    monkeypatch.setenv("AIRFLOW_VAR_PLUSOFON_CRM_WEBHOOK_SECRET", SECRET)
    return accounts


def instances(dag_run, task_id: str) -> dict[str, str]:
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session

    with create_session() as session:
        tis = session.query(TaskInstance).filter(
            TaskInstance.dag_id == dag_run.dag_id,
            TaskInstance.run_id == dag_run.run_id,
            TaskInstance.task_id == task_id,
        )
        return {ti.rendered_map_index: str(ti.state) for ti in tis}


def summary_of(dag_run) -> dict:
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        row = (
            session.query(XComModel)
            .filter(XComModel.dag_id == dag_run.dag_id, XComModel.run_id == dag_run.run_id, XComModel.key == "summary")
            .one()
        )
        return row.value if isinstance(row.value, dict) else json.loads(row.value)


def writes(accounts) -> dict[str, list[str]]:
    return {
        name: [r["method"] for r in a.requests() if r["method"] != "GET"]
        for name, a in accounts.items()
        if any(r["method"] != "GET" for r in a.requests())
    }


def test_the_fleet_is_audited_per_account_and_repaired_only_where_approved(fleet, dagbag, capsys):
    dag = dagbag.dags["plusofon_webhook_fleet"]
    assert dag.task_dict["audit_account"].partial_kwargs["retries"] == 0  # the unreadable account fails at once
    audit = dag.test()
    assert audit.state == "failed"  # drift and one unreadable account, reported by the summary
    audits = instances(audit, "audit_account")
    assert sorted(audits) == sorted(fleet)  # each instance named after its account
    assert [name for name, state in audits.items() if state != "success"] == ["plusofon_fleet_7"]
    summary = summary_of(audit)
    drifted = [name for name, line in summary.items() if line["status"] == "drifted"]
    assert drifted == [f"plusofon_fleet_{n}" for n in range(ACCOUNTS) if n % 3 == 1 and n != 7]
    assert summary["plusofon_fleet_7"]["status"] == "failed"
    assert {line["status"] for name, line in summary.items() if name not in [*drifted, "plusofon_fleet_7"]} == {"clean"}
    assert writes(fleet) == {}

    approved = {name: summary[name]["plan_id"] for name in drifted[:3]}
    for account in fleet.values():
        account.state.clear_requests()
    repair = dag.test(run_conf={"approved_plans": approved})
    repairs = instances(repair, "repair_account")
    assert repairs == {name: "success" for name in approved}
    assert writes(fleet) == {name: ["POST", "POST"] for name in approved}
    for name in approved:
        assert sorted(w["event"] for w in fleet[name].webhooks() if "crm.example.com" in w["url"]) == [
            "create",
            "destroy",
        ]
    after = summary_of(repair)
    assert {name for name, line in after.items() if line["status"] == "repaired"} == set(approved)
    assert after["plusofon_fleet_7"]["status"] == "failed"

    output = capsys.readouterr()
    assert_no_secret(output.out + output.err + json.dumps([summary, after]), SECRET, TOKEN)


def fleet_module():
    """The fleet DAG's file, imported as a module (for its functions)."""
    return example_module("plusofon_webhook_fleet.py")


def test_a_bad_fleet_variable_names_every_bad_entry():
    from airflow.providers.common.compat.sdk import AirflowFailException

    fleet_entries = fleet_module().fleet_entries
    with pytest.raises(AirflowFailException) as caught:
        fleet_entries(
            json.dumps([{"conn_id": "a", "webhooks": "w.yaml"}, {"conn_id": 3}, {"conn_id": "a", "webhooks": "x"}])
        )
    assert "entry #1" in str(caught.value) and "'a' is listed more than once" in str(caught.value)


@pytest.mark.parametrize(
    "plans",
    [{"plusofon_elsewhere": "plan-0123456789abcdef01234567"}, {"plusofon_fleet_0": "'; DROP"}, {"plusofon_fleet_0": 7}],
)
def test_an_approval_of_an_account_not_in_the_fleet_or_of_no_plan_repairs_nothing(plans):
    from airflow.providers.common.compat.sdk import AirflowFailException

    approved = fleet_module().dag.task_dict["approved"].python_callable
    accounts = [{"plusofon_conn_id": "plusofon_fleet_0", "webhooks": "webhooks/fleet.yaml"}]
    with pytest.raises(AirflowFailException, match="approved_plans must map fleet connections to plan ids"):
        approved(accounts, params={"approved_plans": plans})
    plan = "plan-0123456789abcdef01234567"
    assert approved(accounts, params={"approved_plans": {"plusofon_fleet_0": plan}}) == [
        {**accounts[0], "approved_plan_id": plan}
    ]


def test_the_summary_says_what_is_unsettled_and_nothing_when_all_is_settled():
    unsettled = fleet_module().unsettled
    plan = "plan-0123456789abcdef01234567"
    assert unsettled({"a": {"status": "clean"}, "b": {"status": "repaired"}}) is None
    assert unsettled({"a": {"status": "failed"}, "b": {"status": "clean"}}) == "2 accounts: failed: a"
    assert unsettled({"a": {"status": "drifted", "plan_id": plan}, "b": {"status": "clean"}}) == (
        '2 accounts: drifted and not repaired: a (to repair those, trigger this DAG with {"approved_plans": '
        '{"a": "plan-0123456789abcdef01234567"}})'
    )
    assert unsettled({"b": {"status": "failed"}, "a": {"status": "drifted", "plan_id": plan}}) == (
        '2 accounts: failed: b; drifted and not repaired: a (to repair those, trigger this DAG with {"approved_plans": '
        '{"a": "plan-0123456789abcdef01234567"}})'
    )
