"""What each page shows: the records read (one session), turned into the templates' context (issue 35).

The fleet page: the rows (filtered, sorted), the count of accounts in each state. The account page:
its row, its drift episodes of the last 30 days (and their picture), the declared webhooks beside
what the account held at the last read, and its recent asset events.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pendulum

from airflow_provider_plusofon.ui import records, rows, table, timeline
from airflow_provider_plusofon.ui.model import FAILED, Evidence, declared_specs


@contextmanager
def _session() -> Iterator[Any]:
    """A session that only reads: rolled back and closed, never committed."""
    from airflow import settings

    session = settings.NonScopedSession()  # type: ignore[misc,unused-ignore]
    try:
        yield session
    finally:
        session.rollback()
        session.close()


def fleet_page(
    now: pendulum.DateTime, *, state: str | None, query: str | None, sort: str | None, order: str | None
) -> dict[str, Any]:
    """The fleet page's context."""
    with _session() as session:
        found = records.read_fleet(session, now)
    every = rows.fleet_rows(
        sorted(found.accounts.values(), key=lambda a: a.client_id), found.evidence, found.approvals, found.watchers, now
    )
    view = table.View.of(state, query, sort, order)
    return {
        "now": now,
        "rows": table.shown(every, view),
        "total": len(every),
        "counts": table.counts(every),
        "view": view,
        "columns": table.COLUMNS,
        "labels": rows.STATE_LABELS,
    }


def account_page(now: pendulum.DateTime, client_id: str) -> dict[str, Any] | None:
    """The account page's context (``None``: no such account)."""
    with _session() as session:
        found = records.read_account(session, client_id, now)
        if found is None:
            return None
        declared = _declared(found.evidence.get(client_id, []))
        specs, total = declared_specs(
            records.read_declared(session, declared.run) if declared and declared.run else None
        )
    account = found.accounts[client_id]
    watchers = found.watchers.get(client_id, [])
    row = rows.account_row(account, found.evidence.get(client_id, []), found.approvals, watchers, now)
    told = rows.everything_told(found.evidence.get(client_id, []), watchers, now)
    start = now.subtract(days=timeline.DAYS)
    episodes = timeline.episodes(told, found.approvals)
    shown = [e for e in episodes if e.end is None or e.end >= start]
    return {
        "now": now,
        "row": row,
        "labels": rows.STATE_LABELS,
        "watchers": watchers,
        "episodes": list(reversed(shown)),
        "svg": timeline.geometry(timeline.bands(told, start, now), shown, start, now),
        "declared": declared if specs else None,
        "declared_specs": specs,
        "declared_total": total,
        "events": found.events,
    }


def _declared(told: list[Evidence]) -> Evidence | None:
    """The latest ensure run that read the account (and so recorded its webhooks beside the declared)."""
    audits = sorted((e for e in told if e.source == "audit" and e.status != FAILED), key=lambda e: e.at)
    return audits[-1] if audits else None


def when(at: datetime.datetime | None) -> str:
    """A time as the page shows it (UTC, to the minute)."""
    return at.astimezone(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC") if at is not None else "\u2014"


def clock(at: datetime.datetime | None, now: datetime.datetime | None = None) -> str:
    """A time short, for a table cell: the time of day when it is today, else the day too (UTC)."""
    if at is None:
        return "\u2014"
    utc = datetime.timezone.utc
    today = (now or datetime.datetime.now(utc)).astimezone(utc).date()
    at = at.astimezone(utc)
    return f"{at:%H:%M} UTC" if at.date() == today else f"{at:%b %d %H:%M} UTC"


def ago(at: datetime.datetime | None, now: datetime.datetime | None = None) -> str:
    """How long ago, in words a person reads at a glance (``3 h ago``)."""
    if at is None:
        return "\u2014"
    seconds = (now or datetime.datetime.now(datetime.timezone.utc)).timestamp() - at.timestamp()
    if seconds < 0:
        return "just now"
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{int(seconds // size)} {unit} ago"
    return f"{int(seconds)} s ago"


def span(start: datetime.datetime | None, end: datetime.datetime | None) -> str:
    """A window of time, short: ``Nov 29 02:03 → 04:04 UTC`` (both days when it spans two)."""
    if end is None:
        return "\u2014"
    utc = datetime.timezone.utc
    to = end.astimezone(utc)
    if start is None:
        return f"unknown start \u2192 {to:%b %d %H:%M} UTC"
    since = start.astimezone(utc)
    until = f"{to:%H:%M}" if since.date() == to.date() else f"{to:%b %d %H:%M}"
    return f"{since:%b %d %H:%M} \u2192 {until} UTC"


def short(plan_id: str | None) -> str:
    """A plan id shortened for a table cell (the full id is in the cell's title)."""
    if not plan_id:
        return "\u2014"
    return plan_id if len(plan_id) <= 17 else plan_id[:17] + "\u2026"


def login_url() -> str:
    """Where Airflow's auth manager logs a person in."""
    try:
        from airflow.api_fastapi.app import get_auth_manager

        return str(get_auth_manager().get_url_login())
    except Exception:
        return "/"
