"""Issue 23: the changes event of a repair (only when it wrote something) and its lost-call window."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pendulum
import pytest
from airflow.sdk import Asset, AssetAlias

from airflow_provider_plusofon.tasks.events import changes_extra, emit_changes, emit_verified, lost_call_window

FINISHED = pendulum.datetime(2026, 12, 1, 9, 30, tz="UTC")
WROTE = {"created": [{"id": 41}], "updated": [{"id": 7}], "deleted": [], "plan_id": "plan-abc", "dry_run": False}


def drift_event(client_id: str, last_matching_at: str | None, status: str = "drift") -> Any:
    payload = {"status": status, "last_matching_at": last_matching_at}
    return SimpleNamespace(
        asset=SimpleNamespace(uri=f"plusofon://{client_id}/webhooks/drift"),
        extra={"from_trigger": True, "payload": payload},
    )


def test_the_window_starts_when_the_earliest_drift_event_last_saw_the_account_matching():
    events = {
        "drift": [drift_event("10553", "2026-12-01T09:02:00+00:00"), drift_event("10553", "2026-12-01T08:58:00+00:00")],
        "other account": [drift_event("777", "2026-11-01T00:00:00+00:00")],
    }
    window = lost_call_window({"triggering_asset_events": events}, "10553", FINISHED)
    assert window == {
        "window_start": "2026-12-01T08:58:00+00:00",
        "window_end": "2026-12-01T09:30:00+00:00",
        "window_start_from": "drift event",
    }


class InletEvents:
    """context["inlet_events"]: the task's inlets, and the events of each."""

    def __init__(self, events: dict[str, list[Any]]) -> None:
        self.inlets = [Asset(uri) for uri in events]
        self.events = events

    def __iter__(self) -> Any:
        return iter(self.inlets)

    def __getitem__(self, inlet: Any) -> list[Any]:
        return self.events[inlet.uri]


def test_a_run_started_by_hand_takes_the_start_from_the_latest_drift_event_of_its_inlet():
    drift = "plusofon://10553/webhooks/drift"
    older, latest = drift_event("10553", "2026-11-20T00:00:00+00:00"), drift_event("10553", "2026-12-01T08:58:00+00:00")
    before = pendulum.datetime(2026, 11, 30, 6, tz="UTC")  # the last successful audit, before that drift
    context = {"inlet_events": InletEvents({drift: [older, latest]}), "prev_end_date_success": before}
    window = lost_call_window(context, "10553", FINISHED)
    assert (window["window_start"], window["window_start_from"]) == ("2026-12-01T08:58:00+00:00", "latest drift event")
    # A successful audit after the latest drift: that drift was repaired, the account matched since.
    after = pendulum.datetime(2026, 12, 1, 9, 10, tz="UTC")
    context = {"inlet_events": InletEvents({drift: [older, latest]}), "prev_end_date_success": after}
    window = lost_call_window(context, "10553", FINISHED)
    assert (window["window_start"], window["window_start_from"]) == (
        "2026-12-01T09:10:00+00:00",
        "previous successful run",
    )
    other = {"inlet_events": InletEvents({"plusofon://777/webhooks/drift": [latest]})}
    assert lost_call_window(other, "10553", FINISHED)["window_start"] is None  # another account's


@pytest.mark.parametrize("hostile", ["not a time", "2026-13-45T99:00:00", 1733043480, ["2026-12-01"]])
def test_a_drift_event_whose_time_does_not_read_as_one_leaves_the_start_unknown_and_fails_nothing(hostile):
    # Anyone may emit on the drift asset; the repair has written by now and must not fail over it.
    events = {"drift": [drift_event("10553", "2026-12-01T09:02:00+00:00"), drift_event("10553", hostile)]}
    window = lost_call_window({"triggering_asset_events": events}, "10553", FINISHED)
    assert (window["window_start"], window["window_start_from"]) == (None, None)


def test_a_drift_event_that_never_saw_the_account_matching_leaves_the_start_unknown():
    events = {"drift": [drift_event("10553", "2026-12-01T09:02:00+00:00"), drift_event("10553", None)]}
    window = lost_call_window({"triggering_asset_events": events}, "10553", FINISHED)
    assert (window["window_start"], window["window_start_from"]) == (None, None)


def test_without_a_drift_event_the_window_starts_at_the_previous_successful_run():
    previous = pendulum.datetime(2026, 11, 30, 6, 0, 12, tz="UTC")
    window = lost_call_window({"prev_end_date_success": previous}, "10553", FINISHED)
    assert window == {
        "window_start": "2026-11-30T06:00:12+00:00",
        "window_end": "2026-12-01T09:30:00+00:00",
        "window_start_from": "previous successful run",
    }
    assert lost_call_window({}, "10553", FINISHED)["window_start"] is None
    # Airflow hands some context values over as lazy proxies: a proxy of None is no start.
    assert (
        lost_call_window({"prev_end_date_success": SimpleNamespace(__wrapped__=None)}, "10553", FINISHED)[
            "window_start"
        ]
        is None
    )


@pytest.mark.parametrize(
    "summary",
    [
        {"created": [], "updated": [], "deleted": [], "unchanged": [{"id": 1}], "plan_id": "plan-x"},
        {**WROTE, "dry_run": True},
    ],
    ids=["nothing written", "dry run"],
)
def test_a_run_that_wrote_nothing_has_no_changes_event(summary):
    assert changes_extra(summary, {}, "10553", FINISHED) is None


class OutletEvents:
    """context["outlet_events"]: an accessor per outlet, made on first use (Airflow 3.0's assets
    are not hashable: kept by kind and name)."""

    def __init__(self) -> None:
        self.accessors: dict[tuple[str, str], Any] = {}

    def __getitem__(self, key: Any) -> Any:
        found = (type(key).__name__, key.name)
        if found not in self.accessors:
            accessor = self.accessors[found] = SimpleNamespace(extra={}, added=[])
            accessor.add = lambda asset, extra=None: accessor.added.append((asset.uri, extra))
        return self.accessors[found]


def test_an_alias_gets_the_event_only_when_something_was_written_an_asset_says_so_either_way():
    alias, changes = AssetAlias("plusofon_changes"), Asset("plusofon://10553/webhooks/changes")
    foreign = Asset("plusofon://777/webhooks/changes")
    extra = changes_extra(WROTE, {}, "10553", FINISHED)
    assert extra is not None
    assert (extra["created"], extra["updated"], extra["deleted"], extra["plan_id"]) == ("41", "7", "", "plan-abc")
    # flat: Airflow 3.0 fails a task whose alias event's extra holds a list or a mapping
    assert all(isinstance(value, str | bool) or value is None for value in extra.values())
    context: dict[str, Any] = {"outlet_events": OutletEvents()}
    emit_changes([alias, changes, foreign], context, "10553", extra)
    assert context["outlet_events"][alias].added == [("plusofon://10553/webhooks/changes", extra)]
    assert context["outlet_events"][changes].extra == extra
    assert context["outlet_events"][foreign].extra == {}  # another account's asset is left alone

    quiet: dict[str, Any] = {"outlet_events": OutletEvents()}
    emit_changes([alias, changes], quiet, "10553", None)
    assert quiet["outlet_events"][alias].added == []
    assert quiet["outlet_events"][changes].extra == {"changed": False}


def test_the_sensor_marks_the_accounts_asset_verified():
    webhooks, other = Asset("plusofon://10553/webhooks"), Asset("s3://bucket/calls")
    context: dict[str, Any] = {"outlet_events": OutletEvents()}
    emit_verified([webhooks, other], context, "10553")
    assert context["outlet_events"][webhooks].extra["status"] == "verified"
    assert context["outlet_events"][other].extra == {}
