"""Issue 23 (the watcher's core): one event per drift episode, whatever the reads and restarts between."""

from __future__ import annotations

import json

import pendulum

from airflow_provider_plusofon.webhooks.drift import DriftState, observe
from airflow_provider_plusofon.webhooks.plan import plan_changes
from airflow_provider_plusofon.webhooks.spec import parse_specs

SECRET = "drift-header-secret-61"
URL = "https://user:url-pass-61@crm.example.com/calls"
SPECS = parse_specs(
    [
        {"url": URL, "event": "create", "headers": [{"name": "X-Key", "value": SECRET}]},
        {"url": URL, "event": "destroy"},
    ]
)
MATCHING = [
    {"id": 1, "url": URL, "event": "create", "type_call": None, "headers": [{"name": "X-Key", "value": SECRET}]},
    {"id": 2, "url": URL, "event": "destroy", "type_call": None},
]


def check(webhooks: list[dict]) -> dict:
    plan = plan_changes(SPECS, webhooks)
    return {**plan.requirements(), "duplicates": plan.duplicates}


def at(minute: int) -> pendulum.DateTime:
    return pendulum.datetime(2026, 12, 1, 9, minute, tz="UTC")


def test_in_sync_then_drift_then_the_same_drift_then_another_then_repaired():
    state, event = observe(None, check(MATCHING), at(0))
    assert event is None and state.last_matching_at == "2026-12-01T09:00:00+00:00"

    deleted = MATCHING[:1]
    state, event = observe(state, check(deleted), at(1), "plan-0123")
    assert event is not None and event["status"] == "drift" and event["plan_id"] == "plan-0123"
    assert event["missing"] == [{"url": "https://***@crm.example.com/calls", "event": "destroy", "type_call": None}]
    assert (event["detected_at"], event["last_matching_at"]) == (
        "2026-12-01T09:01:00+00:00",
        "2026-12-01T09:00:00+00:00",
    )
    first = event["episode"]

    for minute in (2, 3):  # the same drift, read again: nothing new
        state, event = observe(state, check(deleted), at(minute))
        assert event is None

    rotated = [{**MATCHING[0], "headers": [{"name": "X-Key", "value": "another"}]}]
    state, event = observe(state, check(rotated), at(4))
    assert event is not None and event["episode"] != first  # another drift: another episode
    assert event["different"][0]["fields"] == ["headers"]
    assert event["last_matching_at"] == "2026-12-01T09:00:00+00:00"  # still the last time it matched

    state, event = observe(state, check(MATCHING), at(5))
    assert event is None and state == DriftState(None, "2026-12-01T09:05:00+00:00", None)
    state, event = observe(state, check(deleted), at(6))  # drifting again later: a new episode
    assert event is not None and event["last_matching_at"] == "2026-12-01T09:05:00+00:00"


def test_a_restart_that_kept_the_state_reports_nothing_twice():
    state, event = observe(None, check(MATCHING[:1]), at(1))
    assert event is not None and event["last_matching_at"] is None  # never seen matching: unknown
    restored = DriftState.from_json(state.to_json())
    assert restored == state
    assert observe(restored, check(MATCHING[:1]), at(2))[1] is None
    assert DriftState.from_json("not json") is None and DriftState.from_json(None) is None
    # A Variable edited by hand: what is not a time is unknown, and the watcher goes on with it.
    edited = DriftState.from_json('{"episode": 7, "last_matching_at": "yesterday", "detected_at": ["x"]}')
    assert edited == DriftState(None, None, None)
    assert observe(edited, check(MATCHING[:1]), at(2))[1] is not None


def test_duplicates_are_drift_and_no_event_or_state_holds_a_secret():
    doubled = [*MATCHING, {**MATCHING[1], "id": 3}]
    state, event = observe(None, check(doubled), at(1))
    assert event is not None and len(event["duplicates"]) == 1
    shown = json.dumps(event) + state.to_json()
    assert SECRET not in shown and "url-pass-61" not in shown


def test_less_drift_than_reported_is_a_repair_under_way_not_a_new_episode():
    both = check([])  # both missing
    state, event = observe(None, check(MATCHING), at(0))
    state, event = observe(state, both, at(1))
    assert event is not None
    reported = state
    # The repair created one and not yet the other: less drift, nothing to report.
    state, event = observe(state, check(MATCHING[:1]), at(2))
    assert event is None and state == reported
    state, event = observe(state, both, at(3))  # back to what was reported: still nothing new
    assert event is None
    rotated = [{**MATCHING[0], "headers": [{"name": "X-Key", "value": "another"}]}]
    state, event = observe(state, check(rotated), at(4))  # something not reported yet: an event
    assert event is not None and event["different"][0]["fields"] == ["headers"]
    assert DriftState.from_json(state.to_json()) == state
