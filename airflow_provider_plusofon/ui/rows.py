"""What each account's row says: its state, since when, what drifted, what waits for a person (issue 35).

Plain data in (see :mod:`.model`), plain data out; no Airflow. An account's state is what the latest
thing recorded about it says:

- ``matching``: the latest read (an audit, or the drift watcher) found it as declared;
- ``repaired``: the latest thing recorded is a repair that wrote (nothing has read it since);
- ``awaiting``: it drifted and a plan to repair it waits for a person: an approval task asks, or
  the audit that made the plan has no approval task (Airflow 3.0, the fleet DAG: approved by a
  run's conf), or an approved plan went stale (the repair wrote nothing) and the new one waits;
- ``drifted``: it drifted and nothing waits for approval (only the watcher has seen it so far, the
  plan was rejected or not answered, an approved repair is still to run, or only duplicates);
- ``unknown``: nothing was recorded yet, or the latest read failed (why is shown), or the drift
  watcher went silent.

"Since" for a drifted account is when its drift began: the earliest start of the drift seen since
the account was last seen matching (a failed read in between does not end it).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from airflow_provider_plusofon.ui.model import (
    DRIFTED,
    FAILED,
    MATCHING,
    REPAIRED,
    STALE,
    Account,
    Approval,
    Evidence,
    RunRef,
    Watcher,
    Window,
    watcher_evidence,
)

AWAITING, UNKNOWN = "awaiting", "unknown"
# The order rows sort in by state: what needs a person first.
STATES = (DRIFTED, AWAITING, UNKNOWN, REPAIRED, MATCHING)
STATE_LABELS = {
    DRIFTED: "drifted",
    AWAITING: "awaiting approval",
    UNKNOWN: "unknown",
    REPAIRED: "repaired",
    MATCHING: "matching",
}
NOTHING_YET = "nothing recorded yet: no drift watcher or EnsureWebhooksOperator run has read this account"


@dataclass(frozen=True)
class PlanNote:
    """
    The plan that would repair the account, and where it is approved.

    :param where: ``approval`` (an approval task waits: ``run`` is it), ``dag`` (approved by a new
        run of ``run.dag_id``: no approval task asks), ``approved`` (approved by ``by``, the repair
        is still to run) or ``watcher`` (only the drift watcher has planned it: an audit will ask).
    """

    plan_id: str | None
    where: str
    run: RunRef | None = None
    at: datetime.datetime | None = None
    by: str | None = None


@dataclass(frozen=True)
class Note:
    """What became of an approval: ``stale`` (approved, then the account changed: nothing written),
    ``rejected`` or ``unanswered``."""

    kind: str
    at: datetime.datetime | None
    plan_id: str | None
    by: str | None = None
    run: RunRef | None = None


@dataclass(frozen=True)
class Row:
    """One account as the fleet page shows it (and the account page heads it)."""

    account: Account
    state: str
    since: datetime.datetime | None = None
    why: str | None = None
    drift: tuple[tuple[str, str, str], ...] = ()
    plan: PlanNote | None = None
    notes: tuple[Note, ...] = ()
    last_repair: Evidence | None = None
    window: Window | None = None
    last_read: datetime.datetime | None = None
    watched: bool = False
    checked_at: datetime.datetime | None = None
    reading: Evidence | None = None

    @property
    def label(self) -> str:
        return STATE_LABELS[self.state]


def account_row(
    account: Account,
    evidence: Iterable[Evidence],
    approvals: Mapping[tuple[str, str], Sequence[Approval]],
    watchers: Sequence[Watcher],
    now: datetime.datetime,
) -> Row:
    """The row of one account, from everything recorded about it (and its drift watchers' states).

    An account may be declared by several DAGs (each its own specs): each declaration is judged on
    what was recorded about it, and the account is in the state of the one that needs a person most.
    """
    told = everything_told(evidence, watchers, now)
    reads = [read for w in watchers if (read := w.last_read) is not None]
    repairs = [e for e in told if e.status == REPAIRED]
    windows = [e.window for e in told if e.window is not None]
    base: dict[str, Any] = {
        "account": account,
        "last_repair": repairs[-1] if repairs else None,
        "window": windows[-1] if windows else None,
        "last_read": max(reads) if reads else None,
        "watched": bool(watchers),
        "checked_at": told[-1].at if told else None,
    }
    verdicts = [verdict(group, approvals) for group in declarations(told)]
    if not verdicts:
        return Row(state=UNKNOWN, why=NOTHING_YET, **base)
    worst = min(verdicts, key=lambda v: (STATES.index(v.state), -v.reading_at))
    drifting = [v for v in verdicts if v.state in (DRIFTED, AWAITING)]
    lines = dict.fromkeys(line for v in (drifting or [worst]) for line in v.drift)
    return Row(**{**worst.fields, "drift": tuple(lines)}, **base)


@dataclass(frozen=True)
class Verdict:
    """One declaration's state, from what was recorded about it (the fields of its :class:`Row`)."""

    state: str
    fields: dict[str, Any]
    drift: tuple[tuple[str, str, str], ...]
    reading_at: float


def declarations(told: Sequence[Evidence]) -> list[list[Evidence]]:
    """What was recorded, by the declaration it is about (a record that names none takes its task's; a
    changes event none: it tells of a repair, not of what is declared, unless nothing else was
    recorded), each oldest first."""
    of_task = {_task(e): e.declared for e in told if e.declared and e.run is not None}
    groups: dict[str | None, list[Evidence]] = {}
    for evidence in told:
        if evidence.source == "changes":
            continue
        declared = evidence.declared or (of_task.get(_task(evidence)) if evidence.run is not None else None)
        groups.setdefault(declared, []).append(evidence)
    if not groups and told:
        return [list(told)]
    return list(groups.values())


def _task(evidence: Evidence) -> tuple[str, str | None, int]:
    run = evidence.run
    assert run is not None
    return run.dag_id, run.task_id, run.map_index


def verdict(told: Sequence[Evidence], approvals: Mapping[tuple[str, str], Sequence[Approval]]) -> Verdict:
    """One declaration's state: what its latest evidence says (see the module's docstring)."""
    latest = told[-1]
    readings = [e for e in told if e.status != FAILED]
    reading = readings[-1] if readings else None
    drift = drift_lines(reading) if reading is not None else ()
    at = (reading or latest).at.timestamp()
    fields: dict[str, Any] = {"reading": reading}
    if latest.status == FAILED:
        return Verdict(UNKNOWN, {**fields, "state": UNKNOWN, "since": latest.at, "why": failure(latest)}, drift, at)
    if latest.status in (MATCHING, REPAIRED):
        since = latest.at if latest.status == REPAIRED else None
        return Verdict(latest.status, {**fields, "state": latest.status, "since": since}, drift, at)
    state, plan, notes = what_waits(told, approvals)
    fields |= {"state": state, "since": drift_since(told), "plan": plan, "notes": notes}
    return Verdict(state, fields, drift, at)


def everything_told(
    evidence: Iterable[Evidence], watchers: Sequence[Watcher], now: datetime.datetime
) -> list[Evidence]:
    """What was recorded about an account and what its drift watchers' states say, oldest first."""
    return sorted([*evidence, *(e for w in watchers for e in watcher_evidence(w, now))], key=lambda e: e.at)


def failure(evidence: Evidence) -> str:
    """Why the account's state is unknown, after a read that failed."""
    if evidence.source == "watcher":
        if evidence.error and evidence.error.startswith("the drift watcher"):
            return evidence.error
        return f"the drift watcher's last read failed: {evidence.error}"
    where = f"{evidence.run.dag_id}.{evidence.run.task_id}" if evidence.run else "an EnsureWebhooksOperator run"
    return f"the last run of {where} failed: {evidence.error}"


def drift_since(told: Sequence[Evidence]) -> datetime.datetime | None:
    """When the current drift began: the earliest start among what reported it since the account was
    last clean (failed reads skipped)."""
    start = None
    for evidence in reversed(told):
        if evidence.status == FAILED:
            continue
        if evidence.clean:
            break
        began = evidence.since or evidence.at
        start = began if start is None else min(start, began)
    return start


def drift_streak(told: Sequence[Evidence]) -> list[Evidence]:
    """The drift evidence since the account was last clean, the latest first."""
    streak = []
    for evidence in reversed(told):
        if evidence.clean:
            break
        if evidence.drifted:
            streak.append(evidence)
    return streak


def what_waits(
    told: Sequence[Evidence], approvals: Mapping[tuple[str, str], Sequence[Approval]]
) -> tuple[str, PlanNote | None, tuple[Note, ...]]:
    """A drifted account's state (``awaiting`` or ``drifted``), its plan, and what became of approvals."""
    streak = drift_streak(told)
    latest = streak[0]
    stale = tuple(_stale_note(e, approvals) for e in streak if e.status == STALE)[:3]
    if latest.status == STALE:
        return AWAITING, PlanNote(latest.plan_id, "dag", latest.run, latest.at), stale
    audit = next((e for e in streak if e.source == "audit" and e.status == DRIFTED), None)
    if audit is None or audit.run is None:  # only the watcher has seen it: an audit will plan and ask
        planned = next((e for e in streak if e.plan_id), None)
        return DRIFTED, PlanNote(planned.plan_id, "watcher", None, planned.at) if planned else None, stale
    approval = _asked_in(audit.run, approvals)
    if approval is not None and approval.pending:
        return AWAITING, PlanNote(audit.plan_id, "approval", approval.run, approval.asked_at), stale
    if approval is not None and not approval.approved:
        kind = "rejected" if approval.by else "unanswered"
        return DRIFTED, None, (Note(kind, approval.answered_at, audit.plan_id, approval.by, approval.run), *stale)
    if approval is not None:
        return DRIFTED, PlanNote(audit.plan_id, "approved", approval.run, approval.answered_at, approval.by), stale
    if audit.writes > 0:
        return AWAITING, PlanNote(audit.plan_id, "dag", audit.run, audit.at), stale
    return DRIFTED, None, stale  # duplicates only: nothing a plan would write


def _asked_in(run: RunRef, approvals: Mapping[tuple[str, str], Sequence[Approval]]) -> Approval | None:
    """The latest approval asked in ``run``'s DAG run about it: an unmapped approval task is about the
    run; a mapped one only about the mapped task with its index (one approval per account of a fleet)."""
    asked = [a for a in approvals.get((run.dag_id, run.run_id)) or () if a.run.map_index in (-1, run.map_index)]
    return max(asked, key=lambda a: a.asked_at) if asked else None


def _stale_note(stale: Evidence, approvals: Mapping[tuple[str, str], Sequence[Approval]]) -> Note:
    approval = _asked_in(stale.run, approvals) if stale.run is not None else None
    by = approval.by if approval is not None and approval.approved else None
    return Note("stale", stale.at, stale.approved_plan_id, by, stale.run)


def drift_lines(evidence: Evidence) -> tuple[tuple[str, str, str], ...]:
    """What drifted (or, for a repair, what it fixed), one ``(kind, what, webhook)`` per webhook:
    ``what`` names the fields that differ (or the id of an undeclared webhook); identities and field
    names, never values."""
    drift = evidence.drift
    if not (evidence.drifted or evidence.status == REPAIRED):
        return ()
    lines = [("missing", "", _named(item)) for item in drift.get("missing", [])]
    lines += [("different", ", ".join(item.get("fields") or []), _named(item)) for item in drift.get("different", [])]
    lines += [("duplicated", "", str(label)) for label in drift.get("duplicates", [])]
    lines += [("undeclared", f"#{item.get('id')}", _named(item)) for item in drift.get("undeclared", [])]
    if evidence.status == REPAIRED:
        return tuple(("fixed", f"{kind} {what}".strip(), webhook) for kind, what, webhook in lines)
    return tuple(lines)


def _named(item: Mapping[str, Any]) -> str:
    type_call = f" {item.get('type_call')}" if item.get("type_call") else ""
    return f"{item.get('url')} {item.get('event')}{type_call}"


def fleet_rows(
    accounts: Iterable[Account],
    evidence: Mapping[str, Sequence[Evidence]],
    approvals: Mapping[tuple[str, str], Sequence[Approval]],
    watchers: Mapping[str, Sequence[Watcher]],
    now: datetime.datetime,
) -> list[Row]:
    """Every account's row."""
    return [
        account_row(a, evidence.get(a.client_id, ()), approvals, watchers.get(a.client_id, ()), now) for a in accounts
    ]
