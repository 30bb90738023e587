"""The webhook operators against the emulator: idempotence, drift repair, dry run, prune safety."""

from __future__ import annotations

import json

import pytest
from airflow.sdk import DAG

from airflow_provider_plusofon.exceptions import (
    AmbiguousWebhookError,
    PartialApplyError,
    PlusofonInvalidResponseError,
    StalePlanError,
    UnsafePlanError,
    WebhookSpecError,
)
from airflow_provider_plusofon.operators.webhooks import EnsureWebhooksOperator, PlusofonWebhookOperator
from tests.conftest import TOKEN, ours, redact

pytestmark = pytest.mark.integration

CRM = "https://crm.example.com/plusofon/calls"
BI = "https://bi.example.com/hooks/ended"
HEADER_SECRET = "crm-header-secret-77aa"
SPECS = [
    {
        "url": CRM,
        "event": "create",
        "type_call": "inbound",
        "headers": [{"name": "X-Api-Key", "value": HEADER_SECRET}],
    },
    {"url": CRM, "event": "destroy", "type_call": "inbound", "type_style": "short"},
    {"url": BI, "event": "destroy"},
]


def ensure(*, _render: bool = False, **kwargs) -> dict:
    kwargs.setdefault("webhooks", SPECS)
    op = EnsureWebhooksOperator(task_id="ensure", **kwargs)
    if _render:  # as Airflow does before execute, with the task's params
        op.render_template_fields({"params": op.params})
    return op.execute(context={})


def writes(emulator) -> list[tuple[str, str]]:
    return [(r["method"], r["path"]) for r in emulator.requests() if r["method"] in ("POST", "PUT", "DELETE")]


# -- EnsureWebhooksOperator ----------------------------------------------------------------------


def test_first_run_creates_second_run_sends_no_write(emulator_conn):
    first = ensure()
    # creates run concurrently, so ids follow arrival order; each reported id is the right one
    assert [(c["url"], c["event"]) for c in first["created"]] == [
        (CRM, "create"),
        (CRM, "destroy"),
        (BI, "destroy"),
    ]
    stored = {w["id"]: w for w in ours(emulator_conn.webhooks())}
    assert sorted(stored) == [41, 42, 43]  # after the three pages the account holds
    for created in first["created"]:
        assert (stored[created["id"]]["url"], stored[created["id"]]["event"]) == (
            created["url"],
            created["event"],
        )
    assert first["dry_run"] is False
    crm_create = next(c["id"] for c in first["created"] if c["event"] == "create")
    assert stored[crm_create]["headers"] == [{"name": "X-Api-Key", "value": HEADER_SECRET}]

    emulator_conn.state.clear_requests()
    second = ensure()
    assert second["created"] == second["updated"] == second["deleted"] == []
    assert sorted(u["id"] for u in second["unchanged"]) == [41, 42, 43]
    # exactly the list pages plus one detail GET per webhook whose spec manages a detail-only field
    detailed = sorted(c["id"] for c in first["created"] if c["url"] == CRM)
    sent = sorted((r["method"], r["path"], r["query"].get("page", "")) for r in emulator_conn.requests())
    pages = [("GET", "/api/v1/webhooks", str(n)) for n in (1, 2, 3)]  # 43 webhooks: 3 pages
    assert sent == sorted(pages + [("GET", f"/api/v1/webhooks/{i}", "") for i in detailed])


def test_specs_with_list_fields_only_send_only_list_pages(emulator_conn):
    emulator_conn.seed([{"url": f"https://a.example/{n}", "event": "create"} for n in range(40)])
    ensure(webhooks=[{"url": "https://a.example/3", "event": "create"}])
    assert [
        (r["method"], r["query"].get("page"))
        for r in sorted(emulator_conn.requests(), key=lambda r: r["query"]["page"])
    ] == [
        ("GET", "1"),
        ("GET", "2"),
        ("GET", "3"),
    ]


def test_out_of_band_change_is_repaired_with_one_put_keeping_unmanaged_fields(emulator_conn):
    ensure()
    current = next(w for w in emulator_conn.webhooks() if w["url"] == CRM and w["event"] == "destroy")
    drifted = current["id"]
    emulator_conn.state.replace(drifted, {**current, "type_style": "long", "params": [{"name": "keep", "value": "me"}]})
    emulator_conn.state.clear_requests()
    summary = ensure()
    assert writes(emulator_conn) == [("PUT", f"/api/v1/webhooks/{drifted}")]
    assert summary["updated"] == [
        {
            "id": drifted,
            "url": CRM,
            "event": "destroy",
            "type_call": "inbound",
            "changes": {"type_style": {"before": "long", "after": "short"}},
        }
    ]
    repaired = emulator_conn.state.get(drifted)
    assert repaired is not None
    assert repaired["type_style"] == "short"
    assert repaired["params"] == [{"name": "keep", "value": "me"}]  # unmanaged: kept as it was


def test_dry_run_writes_nothing_and_reports_the_plan(emulator_conn, logs):
    emulator_conn.seed([{"url": "https://old.example", "event": "create"}])
    summary = ensure(dry_run=True, prune=True)
    assert writes(emulator_conn) == []
    assert summary["dry_run"] is True
    assert [c["url"] for c in summary["created"]] == [CRM, CRM, BI]
    assert [d["id"] for d in summary["deleted"]] == [1]
    text = logs()
    assert "Plusofon webhook plan (dry run: nothing will be written): 3 to create, 0 to update, 1 to delete" in text
    assert f"+ create  {CRM} event=create type_call=inbound" in text
    assert "- delete  #1 https://old.example event=create" in text


def test_without_prune_unmanaged_webhooks_stay(emulator_conn):
    emulator_conn.seed([{"url": "https://someone-elses.example", "event": "answer"}])
    summary = ensure()
    assert summary["deleted"] == []
    assert "https://someone-elses.example" in [w["url"] for w in emulator_conn.webhooks()]
    assert ("DELETE", "/api/v1/webhooks/1") not in writes(emulator_conn)


def test_prune_deletes_undeclared_and_duplicates(emulator_conn):
    emulator_conn.seed(
        [
            {"url": "https://old.example", "event": "create"},
            {"url": BI, "event": "destroy"},
            {"url": BI, "event": "destroy"},
        ]
    )
    summary = ensure(prune=True)
    assert sorted(d["id"] for d in summary["deleted"]) == [1, 3]
    assert summary["duplicates"] == {f"spec #2 ({BI} destroy)": [2, 3]}
    assert sorted(w["url"] for w in emulator_conn.webhooks()) == [BI, CRM, CRM]


def test_duplicates_without_prune_are_reported_not_deleted(emulator_conn):
    emulator_conn.seed([{"url": BI, "event": "destroy"}, {"url": BI, "event": "destroy"}])
    summary = ensure()
    assert summary["duplicates"] == {f"spec #2 ({BI} destroy)": [1, 2]}
    assert len([w for w in emulator_conn.webhooks() if w["url"] == BI]) == 2


def test_prune_with_no_specs_needs_allow_empty(emulator_conn):
    emulator_conn.seed([{"url": "https://old.example", "event": "create"}])
    with pytest.raises(UnsafePlanError, match="allow_empty=True"):
        ensure(webhooks=[], prune=True)
    assert emulator_conn.requests() == []
    assert ensure(webhooks=[], prune=True, allow_empty=True)["deleted"][0]["id"] == 1
    assert emulator_conn.webhooks() == []


def test_max_deletes_fails_before_any_write(emulator_conn):
    emulator_conn.seed([{"url": f"https://old.example/{n}", "event": "create"} for n in range(3)])
    with pytest.raises(UnsafePlanError, match="deletes 3 webhooks, more than max_deletes=2"):
        ensure(prune=True, max_deletes=2)
    assert writes(emulator_conn) == []
    assert len(emulator_conn.webhooks()) == 3


def test_invalid_specs_fail_before_any_request(emulator_conn):
    with pytest.raises(WebhookSpecError) as caught:
        ensure(webhooks=[{"url": "nope", "event": "create"}, {"url": BI, "event": "ended"}])
    assert len(caught.value.problems) == 2
    assert emulator_conn.requests() == []


def test_lost_post_answer_creates_no_duplicate(emulator_conn):
    emulator_conn.inject("drop_after_store", method="POST", count=2)
    summary = ensure()
    assert sorted(c["id"] for c in summary["created"]) == [41, 42, 43]
    assert len(ours(emulator_conn.webhooks())) == 3
    assert len(emulator_conn.requests("POST")) == 3


def test_failure_half_way_reports_what_was_done_then_rerun_converges(emulator_conn):
    emulator_conn.seed(
        [
            {"url": CRM, "event": "destroy", "type_call": "inbound", "type_style": "long"},
            {"url": "https://old.example", "event": "create"},
        ]
    )
    emulator_conn.inject(
        "success_false", method="POST", path="/api/v1/webhooks", message="Webhook limit reached", count=1
    )
    with pytest.raises(PartialApplyError) as caught:
        ensure(prune=True)
    error = caught.value
    assert "Webhook limit reached" in str(error)
    assert [u["id"] for u in error.done["updated"]] == [1]
    assert len(error.done["created"]) == 1
    assert error.done["deleted"] == []  # nothing is deleted once something failed
    assert "https://old.example" in [w["url"] for w in emulator_conn.webhooks()]

    emulator_conn.state.clear_requests()
    summary = ensure(prune=True)
    assert len(summary["created"]) == 1
    assert [d["url"] for d in summary["deleted"]] == ["https://old.example"]
    assert sorted((w["url"], w["event"]) for w in emulator_conn.webhooks()) == [
        (BI, "destroy"),
        (CRM, "create"),
        (CRM, "destroy"),
    ]
    assert ensure(prune=True)["created"] == []


def test_secrets_absent_from_logs_and_xcom(emulator_conn, logs):
    first = ensure(dry_run=True)
    ensure()
    target = next(w["id"] for w in emulator_conn.webhooks() if w["headers"])
    emulator_conn.state.replace(
        target,
        {
            "url": CRM,
            "event": "create",
            "type_call": "inbound",
            "headers": [{"name": "X-Api-Key", "value": "stale-value-123"}],
        },
    )
    repaired = ensure()
    assert repaired["updated"][0]["changes"] == {"headers": {"added": [], "removed": [], "changed": ["X-Api-Key"]}}
    text = logs()
    for summary in (first, repaired):
        dumped = json.dumps(summary)
        assert HEADER_SECRET not in dumped
        assert "stale-value-123" not in dumped
    assert HEADER_SECRET not in text
    assert TOKEN not in text


def test_spec_file_relative_to_the_dag_folder(emulator_conn, tmp_path):
    (tmp_path / "webhooks").mkdir()
    (tmp_path / "webhooks" / "prod.yaml").write_text(f"webhooks:\n  - url: {CRM}\n    event: answer\n")
    with DAG("spec_file_dag", schedule=None) as dag:
        op = EnsureWebhooksOperator(task_id="ensure", webhooks="webhooks/prod.yaml")
    dag.fileloc = str(tmp_path / "dag.py")
    assert op.execute(context={})["created"][0]["event"] == "answer"


def test_missing_spec_file_is_a_clear_error(emulator_conn, tmp_path):
    with pytest.raises(WebhookSpecError, match="cannot read the spec file"):
        ensure(webhooks=str(tmp_path / "nope.yaml"))
    assert emulator_conn.requests() == []


def test_operator_creation_does_no_io(emulator_conn):
    EnsureWebhooksOperator(task_id="x", webhooks=SPECS)
    PlusofonWebhookOperator(task_id="y", url=CRM, event="create")
    assert emulator_conn.requests() == []


# -- PlusofonWebhookOperator ---------------------------------------------------------------------


def single(**kwargs) -> dict:
    kwargs.setdefault("url", CRM)
    kwargs.setdefault("event", "create")
    return PlusofonWebhookOperator(task_id="one", **kwargs).execute(context={})


def test_single_present_creates_then_is_unchanged(emulator_conn):
    created = single(type_call="inbound", headers=[{"name": "X-Api-Key", "value": HEADER_SECRET}])
    assert created["action"] == "created"
    assert created["webhook_id"] == 41
    assert created["changes"]["headers"] == {"added": ["X-Api-Key"], "removed": [], "changed": []}
    assert HEADER_SECRET not in json.dumps(created)
    emulator_conn.state.clear_requests()
    again = single(type_call="inbound", headers=[{"name": "X-Api-Key", "value": HEADER_SECRET}])
    assert (again["action"], again["webhook_id"], again["changes"]) == ("unchanged", 41, {})
    assert writes(emulator_conn) == []


def test_single_updates_only_what_differs(emulator_conn):
    emulator_conn.seed(
        [
            {
                "url": CRM,
                "event": "create",
                "type_style": "long",
                "template": "tpl",
                "params": [{"name": "p", "value": "1"}],
            }
        ]
    )
    result = single(type_style="short", webhook_params=[{"name": "p", "value": "2"}])
    assert result["action"] == "updated"
    assert set(result["changes"]) == {"type_style", "params"}
    stored = emulator_conn.webhooks()[0]
    assert (stored["type_style"], stored["params"], stored["template"]) == (
        "short",
        [{"name": "p", "value": "2"}],
        "tpl",
    )
    assert writes(emulator_conn) == [("PUT", "/api/v1/webhooks/1")]


def test_single_absent_deletes_and_already_absent_is_success(emulator_conn):
    emulator_conn.seed([{"url": CRM, "event": "create"}, {"url": CRM, "event": "answer"}])
    assert single(state="absent")["action"] == "deleted"
    assert [w["event"] for w in emulator_conn.webhooks()] == ["answer"]
    assert single(state="absent")["action"] == "unchanged"


def test_single_by_webhook_id(emulator_conn):
    emulator_conn.seed(
        [
            {
                "id": 42,
                "url": "https://old.example",
                "event": "create",
                "headers": [{"name": "X", "value": "keep-me"}],
            }
        ]
    )
    result = single(webhook_id=42)
    assert (result["action"], result["webhook_id"]) == ("updated", 42)
    assert result["changes"] == {"url": {"before": "https://old.example", "after": CRM}}
    assert emulator_conn.webhooks()[0]["headers"] == [{"name": "X", "value": "keep-me"}]
    assert single(webhook_id=42)["action"] == "unchanged"
    assert single(webhook_id=42, state="absent")["action"] == "deleted"
    assert single(webhook_id=42, state="absent")["action"] == "unchanged"


def test_single_duplicates_fail_listing_ids_unless_dedupe(emulator_conn):
    emulator_conn.seed([{"url": CRM, "event": "create"}] * 3)
    with pytest.raises(AmbiguousWebhookError, match=r"3 webhooks match .*#1, #2, #3.*dedupe=True"):
        single()
    assert writes(emulator_conn) == []
    result = single(dedupe=True)
    assert (result["action"], result["webhook_id"], result["deleted_duplicates"]) == ("unchanged", 1, [2, 3])
    assert [w["id"] for w in emulator_conn.webhooks()] == [1]


def test_single_dry_run_writes_nothing(emulator_conn):
    result = single(dry_run=True)
    assert (result["action"], result["webhook_id"], result["dry_run"]) == ("created", None, True)
    assert writes(emulator_conn) == []


def test_single_invalid_input_fails_before_any_request(emulator_conn):
    with pytest.raises(WebhookSpecError) as caught:
        single(event="hangup", state="gone")
    assert len(caught.value.problems) == 2
    assert emulator_conn.requests() == []


def test_rendered_header_values_are_masked_before_airflow_stores_them():
    op = PlusofonWebhookOperator(
        task_id="rendered", url=CRM, event="create", headers=[{"name": "X-Api-Key", "value": "{{ params.key }}"}]
    )
    op.render_template_fields({"params": {"key": "rendered-header-secret-42"}})
    # execute gets the rendered value; the field, which Airflow stores and shows, holds ***
    assert op.rendered("headers") == [{"name": "X-Api-Key", "value": "rendered-header-secret-42"}]
    assert op.headers == [{"name": "X-Api-Key", "value": "***"}]
    assert "rendered-header-secret-42" not in json.dumps(redact(op.headers, "headers"))

    ensure_op = EnsureWebhooksOperator(
        task_id="rendered_set", webhooks=[{**SPECS[0], "headers": [{"name": "X", "value": "{{ params.key2 }}"}]}]
    )
    ensure_op.render_template_fields({"params": {"key2": "another-rendered-secret-7"}})
    assert "another-rendered-secret-7" not in json.dumps(redact(ensure_op.webhooks, "webhooks"))


# -- hostile input at the task's edges ----------------------------------------------------------


@pytest.mark.parametrize("rendered", ["1/../../calls/7", "7/../../../calls", "0", "-3", "7 ; DROP"])
def test_a_templated_webhook_id_is_checked_before_any_request(emulator_conn, rendered):
    emulator_conn.seed([{"url": CRM, "event": "create"}])
    op = PlusofonWebhookOperator(task_id="by_id", url=CRM, event="create", webhook_id="{{ params.id }}", state="absent")
    op.render_template_fields({"params": {"id": rendered}})
    with pytest.raises(WebhookSpecError, match="field 'webhook_id': webhook id must be a positive integer"):
        op.execute(context={})
    assert emulator_conn.requests() == []
    assert len(emulator_conn.webhooks()) == 1


def test_list_items_without_ids_fail_a_prune_before_any_delete(emulator_conn):
    emulator_conn.seed([{"url": "https://old.example", "event": "create"}, {"url": BI, "event": "destroy"}])
    emulator_conn.inject("strip_ids", count=10)
    with pytest.raises(PlusofonInvalidResponseError, match="no valid id"):
        ensure(prune=True)
    assert writes(emulator_conn) == []
    assert len(emulator_conn.webhooks()) == 2


def test_a_url_password_never_reaches_xcom_or_logs(emulator_conn, logs):
    url = "https://crm:url-pa55-9d1@crm.example.com/plusofon/calls"
    summary = ensure(webhooks=[{"url": url, "event": "create"}])
    assert ours(emulator_conn.webhooks())[0]["url"] == url  # the API gets the real URL
    drifted = ensure(webhooks=[{"url": url, "event": "create", "type_style": "long"}])
    for result in (summary, drifted):
        assert "url-pa55-9d1" not in json.dumps(result)
    assert summary["created"][0]["url"] == "https://***@crm.example.com/plusofon/calls"
    assert "url-pa55-9d1" not in logs()
    assert "crm:" not in json.dumps(summary)


def test_a_lagging_store_fails_the_run_and_the_rerun_writes_nothing(emulator_conn):
    emulator_conn.inject("lagging_store", method="POST", held=True)
    with pytest.raises(PartialApplyError, match="create outcome unknown"):
        ensure(webhooks=[SPECS[2]])
    assert ours(emulator_conn.webhooks()) == []
    assert emulator_conn.state.release_held() == 1  # stored after the run gave up on it
    emulator_conn.state.clear_requests()
    rerun = ensure(webhooks=[SPECS[2]])
    assert (rerun["created"], [u["id"] for u in rerun["unchanged"]]) == ([], [41])
    assert writes(emulator_conn) == []


# -- approved plans ------------------------------------------------------------------------------


def test_an_approved_plan_applies_and_a_stale_one_writes_nothing(emulator_conn):
    emulator_conn.seed([{"url": CRM, "event": "destroy", "type_call": "inbound", "type_style": "long"}])
    reviewed = ensure(dry_run=True)
    assert reviewed["plan_id"].startswith("plan-")
    assert ensure(dry_run=True)["plan_id"] == reviewed["plan_id"]  # nothing changed: same id

    # Someone changes the webhook the plan updates after the review: the approval no longer holds.
    emulator_conn.state.replace(1, {"url": CRM, "event": "destroy", "type_call": "inbound", "template": "x"})
    emulator_conn.state.clear_requests()
    with pytest.raises(StalePlanError, match="approve it again") as caught:
        ensure(approved_plan_id=reviewed["plan_id"])
    assert writes(emulator_conn) == []
    assert "~ update  #1" in str(caught.value)

    fresh = ensure(dry_run=True)
    applied = ensure(approved_plan_id="{{ params.plan }}", params={"plan": fresh["plan_id"]}, _render=True)
    assert applied["plan_id"] == fresh["plan_id"]
    assert sorted(w["event"] for w in emulator_conn.webhooks()) == ["create", "destroy", "destroy"]


def test_a_spec_file_whose_variable_is_not_set_names_it_and_how_to_set_it(emulator_conn, tmp_path, monkeypatch):
    from airflow.sdk.execution_time.context import VariableAccessor

    monkeypatch.delenv("AIRFLOW_VAR_PLUSOFON_CRM_WEBHOOK_SECRET", raising=False)
    spec = tmp_path / "hooks.yaml"
    spec.write_text(
        "webhooks:\n  - url: https://crm.example.com/x\n    event: create\n    headers:\n"
        "      - {name: X-Key, value: '{{ var.value.plusofon_crm_webhook_secret }}'}\n"
    )
    context = {
        "var": {"value": VariableAccessor(deserialize_json=False), "json": VariableAccessor(deserialize_json=True)}
    }
    with pytest.raises(WebhookSpecError) as caught:
        EnsureWebhooksOperator(task_id="t", webhooks=str(spec)).execute(context=context)
    assert caught.value.problems == [
        f"{spec}: the Airflow Variable 'plusofon_crm_webhook_secret' is not set: set it with "
        "`airflow variables set plusofon_crm_webhook_secret VALUE` (or AIRFLOW_VAR_PLUSOFON_CRM_WEBHOOK_SECRET "
        "in the environment)"
    ]
    assert emulator_conn.requests() == []
