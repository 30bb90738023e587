"""Issue 23 (the watcher's core): one event per drift episode, whatever the reads and restarts between."""

from __future__ import annotations

import json
from dataclasses import replace

import pendulum

from airflow_provider_plusofon.webhooks.drift import DriftState, observe, read_failed
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
    assert event["drifted_since"] == "2026-12-01T09:01:00+00:00"  # the episode grew: it began at 09:01

    state, event = observe(state, check(MATCHING), at(5))
    at_5 = "2026-12-01T09:05:00+00:00"
    assert event is None and state == DriftState(None, at_5, None, last_read_at=at_5)
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
    edited = DriftState.from_json(
        '{"episode": 7, "last_matching_at": "yesterday", "detected_at": ["x"], "client_id": 5, "poll_interval": true}'
    )
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
    assert event is None and state == replace(reported, last_read_at="2026-12-01T09:02:00+00:00")
    state, event = observe(state, both, at(3))  # back to what was reported: still nothing new
    assert event is None
    rotated = [{**MATCHING[0], "headers": [{"name": "X-Key", "value": "another"}]}]
    state, event = observe(state, check(rotated), at(4))  # something not reported yet: an event
    assert event is not None and event["different"][0]["fields"] == ["headers"]
    assert DriftState.from_json(state.to_json()) == state


def test_the_state_says_when_the_episode_began_and_when_the_account_was_last_read():
    state, _ = observe(None, check(MATCHING), at(0))
    state, event = observe(state, check(MATCHING[:1]), at(1))
    assert event is not None and event["drifted_since"] == state.drifted_since == "2026-12-01T09:01:00+00:00"
    state, _ = observe(state, check(MATCHING[:1]), at(7))  # the same drift: no event, but a read
    assert (state.drifted_since, state.detected_at, state.last_read_at) == (
        "2026-12-01T09:01:00+00:00",
        "2026-12-01T09:01:00+00:00",
        "2026-12-01T09:07:00+00:00",
    )
    # A state kept by 0.1.0 knows only when its drift was reported: the episode began then at the latest.
    old = DriftState.from_json('{"episode": "drift-1", "detected_at": "2026-12-01T08:00:00+00:00", "reported": []}')
    _, event = observe(old, check([]), at(9))
    assert event is not None and event["drifted_since"] == "2026-12-01T08:00:00+00:00"


def test_a_failed_read_is_kept_with_its_first_time_and_cleared_by_the_next_read():
    state, _ = observe(None, check(MATCHING), at(0))
    failed = read_failed(state, "Plusofon API unavailable, will check again: 503", at(1))
    assert (failed.last_error, failed.last_error_at) == (
        "Plusofon API unavailable, will check again: 503",
        "2026-12-01T09:01:00+00:00",
    )
    assert failed.last_read_at == "2026-12-01T09:00:00+00:00"  # the last read that worked
    assert read_failed(failed, "Plusofon API unavailable, will check again: 503", at(2)) == failed  # first time kept
    assert read_failed(failed, "x" * 500, at(3)).last_error == "x" * 300
    assert read_failed(None, "no connection", at(1)).last_error == "no connection"
    again, _ = observe(failed, check(MATCHING), at(4))
    assert (again.last_error, again.last_error_at, again.last_read_at) == (None, None, "2026-12-01T09:04:00+00:00")
    kept = replace(again, client_id="10553", poll_interval=60.0)
    assert DriftState.from_json(kept.to_json()) == kept
