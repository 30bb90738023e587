"""The plusofon_call_backfill example: the hours to reload, from the changes events that start it."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import example_module

pytestmark = pytest.mark.e2e


def backfill_module():
    return example_module("plusofon_call_backfill.py")


def test_the_window_of_a_changes_event_and_24_hours_when_its_start_is_unknown():
    window_of = backfill_module().window_of
    start, end = "2026-12-01T08:58:00+00:00", "2026-12-01T09:30:00+00:00"
    known = {"changed": True, "plan_id": "plan-a", "window_start": start, "window_end": end}
    assert window_of(known) == {"start": start, "end": end, "start_known": True, "plan_id": "plan-a"}
    unknown = window_of({"changed": True, "plan_id": "plan-b", "window_start": None, "window_end": end})
    assert (unknown["start"], unknown["start_known"]) == ("2026-11-30T09:30:00+00:00", False)
    assert window_of({"changed": False}) is None


def test_the_backfill_dag_is_scheduled_on_the_changes_asset(dagbag):
    dag = dagbag.dags["plusofon_call_backfill"]
    [asset] = dag.timetable.asset_condition.objects
    assert asset.uri == "plusofon://10553/webhooks/changes"
    run = dag.test()  # started by hand: no event, nothing to reload
    assert run.state == "success"
