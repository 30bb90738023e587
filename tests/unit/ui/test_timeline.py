"""Issue 35: an account's drift episodes over 30 days, and the picture of them."""

from __future__ import annotations

import datetime

from airflow_provider_plusofon.ui.model import Approval, Evidence, RunRef
from airflow_provider_plusofon.ui.timeline import Band, bands, episodes, geometry

UTC = datetime.timezone.utc
START = datetime.datetime(2026, 11, 8, 12, 0, tzinfo=UTC)
NOW = START + datetime.timedelta(days=30)
RUN = RunRef("plusofon_webhook_audit", "r1", "plan_webhooks")
REPAIR = RunRef("plusofon_webhook_audit", "r1", "repair_webhooks")
DRIFT = {"missing": [{"url": "https://crm.example.com/calls", "event": "destroy", "type_call": "all"}]}


def day(n: float) -> datetime.datetime:
    return START + datetime.timedelta(days=n)


def told() -> list[Evidence]:
    return [
        Evidence(at=day(1), source="audit", status="matching"),
        Evidence(at=day(5), source="watcher", status="drifted", since=day(4.9), drift=DRIFT),
        Evidence(at=day(5.1), source="audit", status="drifted", run=RUN, plan_id="plan-1", writes=1, drift=DRIFT),
        Evidence(
            at=day(5.2),
            source="audit",
            status="stale",
            run=REPAIR,
            plan_id="plan-2",
            approved_plan_id="plan-1",
            drift=DRIFT,
        ),
        Evidence(at=day(6), source="audit", status="repaired", run=REPAIR, drift=DRIFT),
        Evidence(at=day(10), source="audit", status="failed", error="401"),
        Evidence(at=day(11), source="audit", status="matching"),
        Evidence(at=day(20), source="watcher", status="drifted", since=day(20), drift=DRIFT),
        Evidence(at=day(22), source="watcher", status="matching"),
        Evidence(at=day(28), source="watcher", status="drifted", since=day(27.5), drift=DRIFT),
    ]


def test_each_episode_its_start_what_drifted_and_how_it_ended():
    approvals = {
        ("plusofon_webhook_audit", "r1"): [Approval(RunRef("plusofon_webhook_audit", "r1", "approve"), day(5.1))]
    }
    first, second, third = episodes(told(), approvals)
    assert (first.start, first.end, first.ended_by, first.end_run) == (day(4.9), day(6), "repaired", REPAIR)
    assert first.what == (("missing", "", "https://crm.example.com/calls destroy all"),)
    assert first.notes == (
        "plan plan-1 awaits approval",
        "approved plan plan-1 went stale: nothing written; new plan plan-2",
    )
    assert (second.start, second.end, second.ended_by) == (day(20), day(22), "matching again")
    assert (third.start, third.end, third.ended_by) == (day(27.5), None, None)  # it goes on


def test_the_bands_matching_drifted_and_unknown_between_what_was_recorded():
    assert bands(told(), START, NOW) == [
        Band(START, day(1), "unknown"),  # before anything was recorded
        Band(day(1), day(4.9), "matching"),
        Band(day(4.9), day(6), "drifted"),
        Band(day(6), day(10), "matching"),
        Band(day(10), day(11), "unknown"),  # a read failed, until the next one worked
        Band(day(11), day(20), "matching"),
        Band(day(20), day(22), "drifted"),
        Band(day(22), day(27.5), "matching"),
        Band(day(27.5), NOW, "drifted"),
    ]
    assert bands([], START, NOW) == [Band(START, NOW, "unknown")]
    older = [Evidence(at=START - datetime.timedelta(days=3), source="audit", status="matching")]
    assert bands(older, START, NOW) == [Band(START, NOW, "matching")]  # what held before the 30 days


def test_the_picture_places_bands_markers_and_every_fifth_day_on_960_units():
    svg = geometry(bands(told(), START, NOW), episodes(told(), {}), START, NOW)
    assert (svg.width, svg.height) == (960, 46)
    assert [(b.x, b.kind) for b in svg.bands][:3] == [(0.0, "unknown"), (32.0, "matching"), (156.8, "drifted")]
    assert svg.bands[-1].x + svg.bands[-1].width == 960.0
    assert svg.bands[0].title == "unknown: 2026-11-08 12:00 to 2026-11-09 12:00"
    assert [(m.x, m.kind) for m in svg.markers] == [(156.8, "1"), (640.0, "2"), (880.0, "3")]
    assert svg.markers[1].title == "episode 2: from 2026-11-28 12:00, matching again"
    assert [t.title for t in svg.ticks] == ["Nov 13", "Nov 18", "Nov 23", "Nov 28", "Dec 3", "Dec 8"]
