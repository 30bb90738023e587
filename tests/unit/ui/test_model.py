"""Issue 35: what was recorded, read defensively: anyone may emit an asset event or edit a Variable."""

from __future__ import annotations

import datetime

from airflow_provider_plusofon.ui.model import (
    RunRef,
    changes_event_evidence,
    declared_specs,
    drift_event_evidence,
    moment,
    record_evidence,
)

UTC = datetime.timezone.utc
AT = datetime.datetime(2026, 12, 8, 9, 0, tzinfo=UTC)
RUN = RunRef("plusofon_webhook_fleet", "r", "audit_account", 2)


def test_a_record_becomes_evidence_and_what_is_not_a_record_does_not():
    record = {
        "outcome": "drifted", "plan_id": "plan-1", "writes": {"created": 1, "updated": 2, "deleted": "x"},
        "drift": {"missing": [{"url": "https://user:pw@crm.example.com/c", "event": "create", "type_call": None}]},
        "at": "2026-12-08T08:59:00+00:00", "dry_run": True,
    }  # fmt: skip
    evidence = record_evidence(record, RUN, AT)
    assert (evidence.status, evidence.at, evidence.writes, evidence.run) == (
        "drifted",
        AT.replace(minute=0, hour=8) + datetime.timedelta(minutes=59),
        3,
        RUN,
    )
    assert evidence.drift["missing"] == [{"url": "https://***@crm.example.com/c", "event": "create", "type_call": None}]
    for junk in (None, "text", [], {"outcome": "exploded"}, {"no": "outcome"}):
        assert record_evidence(junk, RUN, AT) is None
    odd = record_evidence({"outcome": "failed", "at": "yesterday", "error": "e" * 900, "drift": "no"}, RUN, AT)
    assert (odd.at, len(odd.error), odd.drift["missing"]) == (AT, 300, [])


def test_events_anyone_could_emit_are_read_only_for_what_the_provider_writes():
    payload = {"status": "drift", "plan_id": "plan-9", "detected_at": "2026-12-08T08:00:00+00:00",
               "different": [{"url": "https://crm.example.com/c", "event": "create", "type_call": None, "fields": ["headers"]}]}  # fmt: skip
    evidence = drift_event_evidence({"from_trigger": True, "payload": payload}, AT)
    assert (evidence.status, evidence.since, evidence.plan_id) == ("drifted", AT.replace(hour=8), "plan-9")
    assert drift_event_evidence({"payload": {"status": "verified"}}, AT) is None
    assert drift_event_evidence("not a mapping", AT) is None
    changes = changes_event_evidence(
        {
            "changed": True,
            "updated": "4,5",
            "created": "9",
            "window_start": None,
            "window_end": "2026-12-08T09:00:00+00:00",
        },
        AT,
        RUN,
    )
    assert (changes.writes, changes.window.start, changes.window.end) == (3, None, AT)
    assert changes_event_evidence({"changed": False}, AT, RUN) is None


def test_times_are_read_quickly_when_the_package_wrote_them_and_carefully_otherwise():
    assert moment("2026-12-08T09:00:00+00:00") == AT
    assert moment("2026-12-08T12:00:00+03:00") == AT
    assert moment("2026-12-08T09:00:00Z") == AT
    for junk in (None, 7, "yesterday", "", "2026-13-40"):
        assert moment(junk) is None


def test_the_declared_specs_are_shown_cut_and_without_credentials():
    value = {
        "specs": [
            {"url": "https://u:p@crm.example.com/c", "event": "create", "type_call": None, "status": "different", "id": 4,
             "fields": [["headers", "X-Key: (sensitive)", "X-Key: (sensitive, differs)"], ["template", "t" * 900, None], ["bad"]]},
            "not a spec",
        ],
        "specs_total": 120,
    }  # fmt: skip
    [spec], total = declared_specs(value)
    assert (spec["url"], spec["status"], spec["id"], total) == ("https://***@crm.example.com/c", "different", "4", 120)
    assert spec["fields"] == [
        ["headers", "X-Key: (sensitive)", "X-Key: (sensitive, differs)"],
        ["template", "t" * 300, None],
    ]
    assert declared_specs(None) == ([], 0)
