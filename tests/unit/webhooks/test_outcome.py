"""Issue 35: what an ensure run records for the Plusofon page, from the plan it made (no I/O)."""

from __future__ import annotations

import json

from airflow_provider_plusofon.exceptions import PlusofonAuthError, StalePlanError
from airflow_provider_plusofon.webhooks.outcome import error_text, failed_record, run_record
from airflow_provider_plusofon.webhooks.plan import plan_changes
from airflow_provider_plusofon.webhooks.spec import parse_specs

SECRET = "outcome-header-secret-88"
URL = "https://user:url-pass-88@crm.example.com/calls"
SHOWN_URL = "https://***@crm.example.com/calls"
SPECS = parse_specs(
    [
        {"url": URL, "event": "create", "type_call": "inbound", "headers": [{"name": "X-Key", "value": SECRET}]},
        {"url": URL, "event": "destroy", "type_style": "long", "fields": [{"before": "call_id", "after": "id"}]},
        {"url": URL, "event": "answer"},
    ]
)
HELD = [
    {
        "id": 1,
        "url": URL,
        "event": "create",
        "type_call": "inbound",
        "headers": [{"name": "X-Key", "value": "rotated"}],
    },
    {"id": 2, "url": URL, "event": "destroy", "type_call": "all", "type_style": "short", "fields": []},
]


def test_a_dry_run_that_finds_drift_records_what_drifted_and_each_webhook_beside_the_account_s():
    plan = plan_changes(SPECS, HELD)
    record = run_record(plan, {"plan_id": "plan-1", "dry_run": True})
    assert record["outcome"] == "drifted"
    assert (record["plan_id"], record["approved_plan_id"], record["dry_run"]) == ("plan-1", None, True)
    assert record["writes"] == {"created": 1, "updated": 2, "deleted": 0}
    assert record["drift"] == {
        "missing": [{"url": SHOWN_URL, "event": "answer", "type_call": None}],
        "different": [
            {"url": SHOWN_URL, "event": "create", "type_call": "inbound", "fields": ["headers"]},
            {"url": SHOWN_URL, "event": "destroy", "type_call": "all", "fields": ["fields", "type_style"]},
        ],
        "duplicates": [],
        "undeclared": [],
    }
    created, destroyed, answered = record["specs"]
    assert (created["status"], created["id"], created["url"]) == ("different", 1, SHOWN_URL)
    assert created["fields"] == [
        ["url", SHOWN_URL, SHOWN_URL],
        ["event", "create", "create"],
        ["type_call", "inbound", "inbound"],
        ["headers", "X-Key: (sensitive)", "X-Key: (sensitive, differs)"],
    ]
    assert destroyed["fields"] == [
        ["url", SHOWN_URL, SHOWN_URL],
        ["event", "destroy", "destroy"],
        ["type_style", "long", "short"],
        ["fields", "call_id \u2192 id", "(none)"],
    ]
    assert (answered["status"], answered["fields"][1]) == ("missing", ["event", "answer", None])
    assert record["specs_total"] == 3
    shown = json.dumps(record)
    assert SECRET not in shown and "rotated" not in shown and "url-pass-88" not in shown


def test_matching_repaired_and_duplicates_only():
    matching = [*HELD[:1], {"id": 3, "url": URL, "event": "answer", "type_call": "all"}]
    specs = parse_specs([{"url": URL, "event": "answer"}])
    assert run_record(plan_changes(specs, matching), {"plan_id": "p", "dry_run": True})["outcome"] == "matching"
    wrote = {"plan_id": "p", "dry_run": False, "created": [{"id": 9}], "updated": [], "deleted": []}
    assert run_record(plan_changes(SPECS, HELD), wrote, approved_plan_id="p")["outcome"] == "repaired"
    assert run_record(plan_changes(SPECS, HELD), wrote, approved_plan_id="p")["approved_plan_id"] == "p"
    doubled = plan_changes(specs, [*matching, {"id": 4, "url": URL, "event": "answer", "type_call": "all"}])
    record = run_record(doubled, {"plan_id": "p", "dry_run": True})
    assert record["outcome"] == "drifted" and record["writes"] == {"created": 0, "updated": 0, "deleted": 0}
    assert record["drift"]["duplicates"] == [f"spec #0 ({SHOWN_URL} answer)"]
    pruned = plan_changes(specs, [*matching], prune=True)
    assert run_record(pruned, {"plan_id": "p", "dry_run": True})["drift"]["undeclared"] == [
        {"id": 1, "url": SHOWN_URL, "event": "create", "type_call": "inbound"}
    ]


def test_an_approved_plan_gone_stale_is_recorded_as_stale_with_the_new_plan_to_approve():
    plan = plan_changes(SPECS, HELD)
    record = failed_record(StalePlanError("plan-approved", "plan-now", "the plan"), plan)
    assert (record["outcome"], record["plan_id"], record["approved_plan_id"]) == ("stale", "plan-now", "plan-approved")
    assert record["writes"]["updated"] == 2 and len(record["specs"]) == 3
    assert "error" not in record


def test_a_failure_is_recorded_with_what_it_says_when_that_is_safe_to_show():
    auth = PlusofonAuthError("Unauthenticated", status_code=401, method="GET", path="/api/v1/webhooks")
    assert failed_record(auth) == {
        "version": 1,
        "outcome": "failed",
        "error": "PlusofonAuthError: GET /api/v1/webhooks failed (HTTP 401): Unauthenticated",
    }
    assert failed_record(StalePlanError("a", "b", "c"))["outcome"] == "failed"  # no plan made: nothing to approve
    assert error_text(KeyError(SECRET)) == "KeyError (see the task's log)"  # a foreign error's text: never
    assert error_text(PlusofonAuthError("x" * 400)).startswith("PlusofonAuthError: Plusofon API failed")
    assert len(error_text(PlusofonAuthError("x" * 400))) == 300
    with_plan = failed_record(ValueError("boom"), plan_changes(SPECS, HELD))
    assert with_plan["outcome"] == "failed" and with_plan["error"] == "ValueError (see the task's log)"


def test_the_declaration_names_the_specs_by_identity_and_managed_fields_never_by_values():
    from airflow_provider_plusofon.webhooks.outcome import declaration_of

    record = run_record(plan_changes(SPECS, HELD), {"plan_id": "p", "dry_run": True})
    assert record["declared"] == declaration_of(SPECS) and record["declared"].startswith("declared-")
    rotated = parse_specs([{**s, "headers": [{"name": "X-Key", "value": "other"}]} if "headers" in s else s for s in [
        {"url": URL, "event": "create", "type_call": "inbound", "headers": [{"name": "X-Key", "value": SECRET}]},
        {"url": URL, "event": "destroy", "type_style": "long", "fields": [{"before": "call_id", "after": "id"}]},
        {"url": URL, "event": "answer"},
    ]])  # fmt: skip
    assert declaration_of(rotated) == declaration_of(SPECS)  # a value is not part of it
    assert declaration_of(list(reversed(SPECS))) == declaration_of(SPECS)
    assert declaration_of(SPECS[:2]) != declaration_of(SPECS)
    failed = failed_record(PlusofonAuthError("x", status_code=401), specs=SPECS)
    assert failed["declared"] == declaration_of(SPECS)
