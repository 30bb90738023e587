"""The fleet table: its columns, filtering by state or text, sorting by any column (issue 35). No Airflow.

Sorting puts rows without a value last, whichever the direction; ties keep the order of the Client ID.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from airflow_provider_plusofon.ui.rows import STATES, Row

COLUMNS: dict[str, str] = {
    "account": "Account",
    "state": "State",
    "drift": "What drifted",
    "plan": "Plan awaiting approval",
    "repair": "Last repair",
    "window": "Lost-call window",
    "read": "Last read",
}
_KEYS: dict[str, Callable[[Row], Any]] = {
    "account": lambda r: r.account.client_id,
    "state": lambda r: (STATES.index(r.state), r.since.timestamp() if r.since else 0.0),
    "drift": lambda r: len(r.drift) or None,
    "plan": lambda r: (r.plan.plan_id or "") if r.plan else None,
    "repair": lambda r: r.last_repair.at.timestamp() if r.last_repair else None,
    "window": lambda r: r.window.end.timestamp() if r.window and r.window.end else None,
    "read": lambda r: r.last_read.timestamp() if r.last_read else None,
}


@dataclass(frozen=True)
class View:
    """How the table is shown: the state filtered on (``None``: all), text searched, the sort."""

    state: str | None = None
    query: str = ""
    sort: str = "state"
    descending: bool = False

    @classmethod
    def of(cls, state: str | None, query: str | None, sort: str | None, order: str | None) -> View:
        """From the page's query parameters; what is not one of the choices is the default."""
        return cls(
            state if state in STATES else None,
            (query or "").strip()[:100],
            sort if sort in COLUMNS else "state",
            order == "desc",
        )


def shown(rows: Sequence[Row], view: View) -> list[Row]:
    """The rows the view shows, in its order."""
    needle = view.query.lower()
    kept = [r for r in rows if (view.state is None or r.state == view.state) and (not needle or needle in _searched(r))]
    kept.sort(key=lambda r: r.account.client_id)
    key = _KEYS[view.sort]
    valued = [r for r in kept if key(r) is not None]
    valued.sort(key=key, reverse=view.descending)
    return valued + [r for r in kept if key(r) is None]


def _searched(row: Row) -> str:
    names = [row.account.client_id, *row.account.conn_ids, *row.account.descriptions]
    names += [f"{what} {webhook}" for _, what, webhook in row.drift]
    if row.plan and row.plan.plan_id:
        names.append(row.plan.plan_id)
    return " ".join(names).lower()


def counts(rows: Sequence[Row]) -> dict[str, int]:
    """How many accounts are in each state (every state named, in the order rows sort by)."""
    found = dict.fromkeys(STATES, 0)
    for row in rows:
        found[row.state] += 1
    return found
