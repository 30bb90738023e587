"""An account's last 30 days as the account page draws them: drift episodes and bands (issue 35). No Airflow.

An episode runs from when a drift began (the earliest start its reports name) to the first read or
repair that found the account clean again; it tells what drifted, how it ended (repaired by a run,
or matching again without a repair we know of) and what became of its approvals. The bands colour
the time between: matching, drifted, or unknown (before anything was recorded, and after a read
that failed until the next one that worked). :func:`geometry` turns both into an inline SVG's shapes.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from airflow_provider_plusofon.ui.model import FAILED, REPAIRED, STALE, Approval, Evidence, RunRef
from airflow_provider_plusofon.ui.rows import MATCHING, UNKNOWN, drift_lines

DRIFT_BAND = "drifted"
DAYS = 30


@dataclass(frozen=True)
class Episode:
    """One drift episode: its start, what drifted, and how it ended (``end`` ``None``: it goes on)."""

    start: datetime.datetime
    end: datetime.datetime | None = None
    ended_by: str | None = None
    end_run: RunRef | None = None
    what: tuple[tuple[str, str, str], ...] = ()
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Band:
    start: datetime.datetime
    end: datetime.datetime
    status: str


def episodes(told: Sequence[Evidence], approvals: Mapping[tuple[str, str], Sequence[Approval]]) -> list[Episode]:
    """The drift episodes in ``told`` (evidence, oldest first)."""
    found: list[Episode] = []
    start: datetime.datetime | None = None
    what: dict[tuple[str, str, str], None] = {}
    notes: list[str] = []
    for evidence in told:
        if evidence.drifted:
            began = evidence.since or evidence.at
            start = began if start is None else min(start, began)
            what.update(dict.fromkeys(drift_lines(evidence)))
            notes += _notes(evidence, approvals)
        elif evidence.clean and start is not None:
            ended_by = "repaired" if evidence.status == REPAIRED else "matching again"
            found.append(Episode(start, evidence.at, ended_by, evidence.run, tuple(what), tuple(dict.fromkeys(notes))))
            start, what, notes = None, {}, []
    if start is not None:
        found.append(Episode(start, None, None, None, tuple(what), tuple(dict.fromkeys(notes))))
    return found


def _notes(evidence: Evidence, approvals: Mapping[tuple[str, str], Sequence[Approval]]) -> list[str]:
    if evidence.status == STALE:
        return [f"approved plan {evidence.approved_plan_id} went stale: nothing written; new plan {evidence.plan_id}"]
    if evidence.run is None or evidence.source != "audit":
        return []
    said = []
    for approval in approvals.get((evidence.run.dag_id, evidence.run.run_id)) or ():
        if approval.pending:
            said.append(f"plan {evidence.plan_id} awaits approval")
        elif not approval.approved:
            said.append(f"plan {evidence.plan_id} {'rejected by ' + approval.by if approval.by else 'not answered'}")
    return said


def bands(told: Sequence[Evidence], start: datetime.datetime, end: datetime.datetime) -> list[Band]:
    """The account's status over ``start``..``end``: each piece of evidence holds until the next."""
    points: list[tuple[datetime.datetime, str]] = []
    for evidence in told:
        if evidence.drifted and evidence.since is not None and evidence.since < evidence.at:
            points.append((evidence.since, DRIFT_BAND))
        status = UNKNOWN if evidence.status == FAILED else DRIFT_BAND if evidence.drifted else MATCHING
        points.append((evidence.at, status))
    points.sort(key=lambda p: p[0])
    found: list[Band] = []
    current, since = UNKNOWN, start
    for at, status in points:
        at = min(max(at, start), end)
        if status != current:
            if at > since:
                found.append(Band(since, at, current))
            current, since = status, at
    if end > since:
        found.append(Band(since, end, current))
    return _merged(found)


def _merged(found: list[Band]) -> list[Band]:
    merged: list[Band] = []
    for band in found:
        if merged and merged[-1].status == band.status:
            merged[-1] = Band(merged[-1].start, band.end, band.status)
        else:
            merged.append(band)
    return merged


@dataclass(frozen=True)
class Shape:
    x: float
    width: float
    kind: str
    title: str


@dataclass(frozen=True)
class Svg:
    """The timeline's shapes in a ``width`` x ``height`` viewBox."""

    width: int
    height: int
    bands: tuple[Shape, ...]
    markers: tuple[Shape, ...]
    ticks: tuple[Shape, ...]


def geometry(
    found_bands: Sequence[Band], found: Sequence[Episode], start: datetime.datetime, end: datetime.datetime
) -> Svg:
    """Where each band, episode marker and day tick goes (``markers``' ``kind`` is the episode's number)."""
    width, span = 960, max((end - start).total_seconds(), 1.0)

    def x(at: datetime.datetime) -> float:
        return round(max(0.0, min(1.0, (at - start).total_seconds() / span)) * width, 1)

    shown = tuple(
        Shape(
            x(b.start),
            max(round(x(b.end) - x(b.start), 1), 0.5),
            b.status,
            f"{b.status}: {_when(b.start)} to {_when(b.end)}",
        )
        for b in found_bands
    )
    markers = tuple(
        Shape(
            min(max(x(e.start), 8.0), width - 8.0),
            0,
            str(n),
            f"episode {n}: from {_when(e.start)}, {e.ended_by or 'still drifted'}",
        )
        for n, e in enumerate(found, 1)
        if e.start >= start
    )
    ticks = []
    midnight = start.astimezone(datetime.timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    for days in range(1, (end - midnight).days + 1):
        if days % 5 == 0:
            day = midnight + datetime.timedelta(days=days)
            ticks.append(Shape(x(day), 0, "tick", day.strftime("%b %d").replace(" 0", " ")))
    return Svg(width, 46, shown, markers, tuple(ticks))


def _when(at: datetime.datetime) -> str:
    return at.astimezone(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M")
