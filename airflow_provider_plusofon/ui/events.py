"""An account's asset events as the Plusofon page reads them: evidence for its state, and lines to list (issue 35).

The events are Airflow's ``AssetEvent`` rows of the account's ``plusofon://`` assets; anyone may emit
one, so nothing in an extra is trusted: only the keys the provider writes are read, as text, cut.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from airflow_provider_plusofon.ui.model import (
    EventLine,
    Evidence,
    RunRef,
    changes_event_evidence,
    drift_event_evidence,
    drift_of,
    text,
)

KIND_NAMES = {"": "webhooks", "drift": "drift", "changes": "changes"}


def source_of(event: Any) -> RunRef | None:
    """The task run that emitted an event (``None`` for a watcher's: the triggerer emits it)."""
    dag_id, run_id = getattr(event, "source_dag_id", None), getattr(event, "source_run_id", None)
    if not dag_id or not run_id:
        return None
    map_index = getattr(event, "source_map_index", None)
    return RunRef(
        str(dag_id),
        str(run_id),
        text(getattr(event, "source_task_id", None), 250),
        map_index if isinstance(map_index, int) else -1,
    )


def event_evidence(event: Any, kind: str, started: tuple[RunRef, ...] = ()) -> Evidence | None:
    """What an event says about the account's state (``None``: nothing, like a sensor's "verified").

    :param started: the DAG runs the event started (a changes event's backfill).
    """
    at = event.timestamp
    if kind == "drift":
        return drift_event_evidence(event.extra, at, source_of(event))
    if kind == "changes":
        return changes_event_evidence(event.extra, at, source_of(event), started[:5])
    return None


def event_line(event: Any, kind: str) -> EventLine:
    """One line of the account page's recent events: what the event's extra says, in words."""
    extra = event.extra if isinstance(event.extra, Mapping) else {}
    return EventLine(event.timestamp, KIND_NAMES.get(kind, kind), _summary(extra, kind), source_of(event))


def _summary(extra: Mapping[str, Any], kind: str) -> str:
    payload = extra.get("payload")
    if kind == "drift" and isinstance(payload, Mapping):
        drift = drift_of(payload)
        counts = ", ".join(f"{len(drift[k])} {k}" for k in ("missing", "different", "duplicates") if drift[k])
        plan = text(payload.get("plan_id"), 40)
        return f"drift {text(payload.get('episode'), 40)}: {counts or 'nothing named'}; plan {plan}"
    if kind == "changes" and extra.get("changed") is True:
        written = "; ".join(f"{k} {text(extra.get(k), 80)}" for k in ("created", "updated", "deleted") if extra.get(k))
        window = f"{text(extra.get('window_start'), 40) or 'unknown'} to {text(extra.get('window_end'), 40)}"
        return f"repair wrote ({written}); plan {text(extra.get('plan_id'), 40)}; lost-call window {window}"
    if extra.get("status") == "verified":
        return f"verified: every required webhook was there ({text(extra.get('verified_at'), 40)})"
    if extra.get("changed") is False:
        return "a task ran and changed nothing"
    keys = ", ".join(sorted(str(k)[:30] for k in extra)[:8])
    return f"an event with {keys or 'no extra'}"
