"""Issue 35, the view model: what each account's row says, from what was recorded, in every state
and through the transitions between them (plain data: no Airflow, no database)."""

from __future__ import annotations

import datetime

from airflow_provider_plusofon.ui.model import Account, Approval, Evidence, RunRef, Watcher, Window
from airflow_provider_plusofon.ui.rows import NOTHING_YET, account_row, drift_since
from airflow_provider_plusofon.webhooks.drift import DriftState

UTC = datetime.timezone.utc
NOW = datetime.datetime(2026, 12, 8, 12, 0, tzinfo=UTC)
ACCOUNT = Account("10553", ("plusofon_default",))
AUDIT = RunRef("plusofon_webhook_audit", "asset_triggered__1", "plan_webhooks")
REPAIR = RunRef("plusofon_webhook_audit", "asset_triggered__1", "repair_webhooks")
APPROVAL = RunRef("plusofon_webhook_audit", "asset_triggered__1", "approve_repair")
DRIFT = {
    "different": [
        {"url": "https://crm.example.com/calls", "event": "create", "type_call": None, "fields": ["type_style"]}
    ]
}


def at(hour: int, minute: int = 0) -> datetime.datetime:
    return datetime.datetime(2026, 12, 8, hour, minute, tzinfo=UTC)


def audit(hour: int, status: str, **kwargs) -> Evidence:
    kwargs.setdefault("run", AUDIT)
    return Evidence(at=at(hour), source="audit", status=status, **kwargs)


def row(*evidence: Evidence, approvals=(), watchers=()):
    by_run: dict[tuple[str, str], list[Approval]] = {}
    for approval in approvals:
        by_run.setdefault((approval.run.dag_id, approval.run.run_id), []).append(approval)
    return account_row(ACCOUNT, evidence, by_run, list(watchers), NOW)


def test_nothing_recorded_is_unknown_and_says_so():
    shown = row()
    assert (shown.state, shown.why, shown.watched, shown.last_read) == ("unknown", NOTHING_YET, False, None)


def test_from_matching_to_drifted_to_awaiting_to_approved_to_repaired_to_matching():
    matching = audit(6, "matching", run=RunRef("plusofon_webhook_audit", "scheduled__1", "plan_webhooks"))
    assert row(matching).state == "matching"
    seen = Evidence(at=at(9, 1), source="watcher", status="drifted", since=at(9), plan_id="plan-w", drift=DRIFT)
    shown = row(matching, seen)
    assert (shown.state, shown.since, shown.plan.where, shown.plan.plan_id) == ("drifted", at(9), "watcher", "plan-w")
    assert shown.drift == (("different", "type_style", "https://crm.example.com/calls create"),)

    planned = audit(10, "drifted", plan_id="plan-1", writes=1, drift=DRIFT, dry_run=True)
    asked = Approval(APPROVAL, at(10, 1))
    shown = row(matching, seen, planned, approvals=[asked])
    assert (shown.state, shown.since) == ("awaiting", at(9))  # since the drift began, not since the audit
    assert (shown.plan.where, shown.plan.plan_id, shown.plan.run, shown.plan.at) == (
        "approval",
        "plan-1",
        APPROVAL,
        at(10, 1),
    )

    approved = Approval(APPROVAL, at(10, 1), at(10, 30), ("Approve",), "ops-reviewer")
    shown = row(matching, seen, planned, approvals=[approved])
    assert (shown.state, shown.plan.where, shown.plan.by) == ("drifted", "approved", "ops-reviewer")

    repaired = Evidence(
        at=at(10, 31), source="audit", status="repaired", run=REPAIR, plan_id="plan-1", writes=1, drift=DRIFT
    )
    shown = row(matching, seen, planned, repaired, approvals=[approved])
    assert (shown.state, shown.since, shown.last_repair, shown.plan) == ("repaired", at(10, 31), repaired, None)
    assert shown.drift == (("fixed", "different type_style", "https://crm.example.com/calls create"),)

    read = Evidence(at=at(10, 32), source="watcher", status="matching")
    shown = row(matching, seen, planned, repaired, read, approvals=[approved])
    assert (shown.state, shown.last_repair, shown.drift) == ("matching", repaired, ())


def test_an_approval_answered_for_a_plan_that_went_stale_shows_stale_and_the_new_plan_awaiting():
    planned = audit(10, "drifted", plan_id="plan-1", writes=1, drift=DRIFT, dry_run=True)
    approved = Approval(APPROVAL, at(10, 1), at(10, 30), ("Approve",), "ops-reviewer")
    stale = Evidence(
        at=at(10, 31),
        source="audit",
        status="stale",
        run=REPAIR,
        plan_id="plan-2",
        approved_plan_id="plan-1",
        writes=1,
        drift=DRIFT,
    )
    shown = row(planned, stale, approvals=[approved])
    assert shown.state == "awaiting"  # not done: nothing was written
    assert (shown.plan.plan_id, shown.plan.where, shown.plan.run) == ("plan-2", "dag", REPAIR)
    [note] = shown.notes
    assert (note.kind, note.plan_id, note.by, note.at, note.run) == (
        "stale",
        "plan-1",
        "ops-reviewer",
        at(10, 31),
        REPAIR,
    )
    assert shown.since == at(10) and shown.last_repair is None
    # A new audit asks again: its approval is what waits, and the stale one is still told.
    again = audit(
        11,
        "drifted",
        plan_id="plan-2",
        writes=1,
        drift=DRIFT,
        run=RunRef("plusofon_webhook_audit", "r2", "plan_webhooks"),
    )
    asked = Approval(RunRef("plusofon_webhook_audit", "r2", "approve_repair"), at(11, 1))
    shown = row(planned, stale, again, approvals=[approved, asked])
    assert (shown.state, shown.plan.plan_id, shown.plan.where) == ("awaiting", "plan-2", "approval")
    assert [n.kind for n in shown.notes] == ["stale"]


def test_a_rejected_or_unanswered_approval_leaves_the_account_drifted_with_who_said_no():
    planned = audit(10, "drifted", plan_id="plan-1", writes=1, drift=DRIFT)
    rejected = row(planned, approvals=[Approval(APPROVAL, at(10, 1), at(10, 5), ("Reject",), "night-shift")])
    assert (rejected.state, rejected.plan) == ("drifted", None)
    assert [(n.kind, n.by, n.at, n.plan_id) for n in rejected.notes] == [
        ("rejected", "night-shift", at(10, 5), "plan-1")
    ]
    unanswered = row(planned, approvals=[Approval(APPROVAL, at(10, 1), at(11), ("Reject",), None)])
    assert [n.kind for n in unanswered.notes] == ["unanswered"]


def test_without_an_approval_task_a_plan_to_write_awaits_a_run_of_its_dag_and_duplicates_only_do_not():
    fleet = RunRef("plusofon_webhook_fleet", "scheduled__1", "audit_account", 7)
    shown = row(audit(10, "drifted", plan_id="plan-7", writes=2, drift=DRIFT, run=fleet))
    assert (shown.state, shown.plan.where, shown.plan.run) == ("awaiting", "dag", fleet)
    duplicates = {"duplicates": ["spec #0 (https://crm.example.com/calls create)"]}
    shown = row(audit(10, "drifted", plan_id="plan-8", writes=0, drift=duplicates, run=fleet))
    assert (shown.state, shown.plan) == ("drifted", None)
    assert shown.drift == (("duplicated", "", "spec #0 (https://crm.example.com/calls create)"),)


def test_a_mapped_approval_is_about_its_own_account_only():
    fleet = "plusofon_webhook_fleet"
    mine = RunRef(fleet, "r", "audit_account", 3)
    theirs = Approval(RunRef(fleet, "r", "approve_account", 4), at(10, 1))
    assert row(audit(10, "drifted", plan_id="p", writes=1, run=mine), approvals=[theirs]).plan.where == "dag"
    ours = Approval(RunRef(fleet, "r", "approve_account", 3), at(10, 1))
    assert row(audit(10, "drifted", plan_id="p", writes=1, run=mine), approvals=[ours]).plan.where == "approval"


def test_a_failed_read_makes_the_state_unknown_with_why_and_keeps_what_was_known():
    planned = audit(10, "drifted", plan_id="plan-1", writes=1, drift=DRIFT)
    failed = audit(11, "failed", error="PlusofonAuthError: GET /api/v1/webhooks failed (HTTP 401): Unauthenticated")
    shown = row(planned, failed)
    assert (shown.state, shown.since) == ("unknown", at(11))
    assert shown.why == (
        "the last run of plusofon_webhook_audit.plan_webhooks failed: "
        "PlusofonAuthError: GET /api/v1/webhooks failed (HTTP 401): Unauthenticated"
    )
    assert shown.drift == (("different", "type_style", "https://crm.example.com/calls create"),)  # the last it knew
    # A failed read in the middle of a drift does not end it: since when stays the drift's start.
    later = audit(12, "drifted", plan_id="plan-1", writes=1, drift=DRIFT)
    assert row(planned, failed, later).since == at(10)
    assert drift_since([planned, failed, later]) == at(10)


def test_the_watcher_s_kept_state_its_failure_and_its_silence():
    state = DriftState(
        None, at(11, 58).isoformat(), last_read_at=at(11, 58).isoformat(), client_id="10553", poll_interval=60.0
    )
    shown = row(watchers=[Watcher(state, "the drift asset's state store")])
    assert (shown.state, shown.watched, shown.last_read) == ("matching", True, at(11, 58))

    failing = DriftState(
        None, at(11, 50).isoformat(), last_read_at=at(11, 50).isoformat(),
        last_error="Plusofon API unavailable, will check again: HTTP 503", last_error_at=at(11, 55).isoformat(),
    )  # fmt: skip
    shown = row(watchers=[Watcher(failing, "a Variable")])
    assert (shown.state, shown.last_read) == ("unknown", at(11, 50))
    assert shown.why == "the drift watcher's last read failed: Plusofon API unavailable, will check again: HTTP 503"

    silent = DriftState(None, at(10).isoformat(), last_read_at=at(10).isoformat(), poll_interval=60.0)
    shown = row(watchers=[Watcher(silent, "a Variable")])  # two hours: more than three times 5 minutes
    assert (shown.state, shown.why) == (
        "unknown",
        "the drift watcher has not read the account since 2026-12-08 10:00 UTC",
    )
    hourly = DriftState(None, at(10).isoformat(), last_read_at=at(10).isoformat(), poll_interval=3600.0)
    assert row(watchers=[Watcher(hourly, "a Variable")]).state == "matching"  # hourly: not silent yet

    drifted = DriftState(
        "drift-1", at(8).isoformat(), at(11).isoformat(), ('["missing", {"url": "https://crm.example.com/calls", "event": "destroy", "type_call": "all"}]',),
        drifted_since=at(9).isoformat(), last_read_at=at(11, 59).isoformat(),
    )  # fmt: skip
    shown = row(watchers=[Watcher(drifted, "a Variable")])
    assert (shown.state, shown.since) == ("drifted", at(9))
    assert shown.drift == (("missing", "", "https://crm.example.com/calls destroy all"),)


def test_the_lost_call_window_is_the_latest_changes_event_s_with_the_runs_it_started():
    backfill = RunRef("plusofon_call_backfill", "asset_triggered__5", state="success")
    window = Window(at(9), at(10, 31), "drift event", (backfill,))
    changes = Evidence(at=at(10, 31), source="changes", status="repaired", run=REPAIR, window=window, writes=1)
    older = Evidence(at=at(1), source="changes", status="repaired", window=Window(None, at(1), None))
    shown = row(older, changes)
    assert (shown.state, shown.window, shown.last_repair) == ("repaired", window, changes)


def test_each_declaration_is_judged_alone_and_the_account_is_in_the_state_of_the_one_that_needs_a_person():
    """Two DAGs declare webhooks on one account: one's audit and repair, another's dry runs."""
    ours, theirs = "declared-audit", "declared-other"
    other = RunRef("plusofon_authoring_styles", "r", "plain")
    planned = audit(9, "drifted", plan_id="plan-1", writes=1, drift=DRIFT, declared=ours)
    repaired = Evidence(at=at(10), source="audit", status="repaired", run=REPAIR, declared=ours, drift=DRIFT)
    assert row(planned, repaired).state == "repaired"  # the repair of the same declaration ends its drift
    missing = {"missing": [{"url": "https://other.example.com/x", "event": "create", "type_call": None}]}
    elsewhere = Evidence(
        at=at(8), source="audit", status="drifted", run=other, plan_id="p2", writes=1, drift=missing, declared=theirs
    )
    shown = row(elsewhere, planned, repaired)
    assert (shown.state, shown.since, shown.plan.plan_id) == ("awaiting", at(8), "p2")  # not hidden by the later repair
    assert shown.drift == (("missing", "", "https://other.example.com/x create"),)
    fine = Evidence(at=at(11), source="audit", status="matching", run=other, declared=theirs)
    assert row(elsewhere, planned, repaired, fine).state == "repaired"
    # A failed run that names no declaration (it failed before its plan) is its task's.
    failed = Evidence(at=at(12), source="audit", status="failed", run=other, error="401")
    assert row(elsewhere, planned, repaired, fine, failed).state == "unknown"
    again = Evidence(at=at(13), source="audit", status="matching", run=other, declared=theirs)
    assert row(elsewhere, planned, repaired, fine, failed, again).state == "repaired"
