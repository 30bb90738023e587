"""
### Reload the calls a webhook repair may have lost

Runs when a repair changed the account's webhooks: an event on the changes asset
(`plusofon://<client_id>/webhooks/changes`, emitted by `plusofon_webhook_audit`'s repair). Each
event's extra holds the **lost-call window**: from when the account was last known to match its
specs (the drift watcher's "last seen matching") to when the repair finished. Calls in that window
may never have reached the receivers.

`lost_call_windows` reads the windows from the events that started the run; `reload_calls` stands
in for your reload (Plusofon's call-statistics API, `GET /api/v1/call`, for those hours). A window
whose start is unknown (the watcher never saw the account matching) reloads the last 24 hours, the
interval of the audit's daily safety net, and says so.
"""

from __future__ import annotations

import logging
import os
from typing import Any

import pendulum
from airflow.sdk import DAG, Asset, task

from airflow_provider_plusofon.assets.uris import asset_uri

CLIENT_ID = os.environ.get("PLUSOFON_CLIENT_ID", "10553")
CHANGES = Asset(asset_uri(CLIENT_ID, "changes"))
UNKNOWN_START_LOOKBACK = pendulum.duration(hours=24)
log = logging.getLogger(__name__)


def window_of(extra: dict[str, Any]) -> dict[str, Any] | None:
    """The hours to reload for one changes event (``None`` when the event changed nothing)."""
    if not extra.get("changed"):
        return None
    end = pendulum.parse(extra["window_end"])
    start = pendulum.parse(extra["window_start"]) if extra.get("window_start") else end - UNKNOWN_START_LOOKBACK
    return {
        "start": start.isoformat(),  # type: ignore[union-attr]
        "end": end.isoformat(),  # type: ignore[union-attr]
        "start_known": bool(extra.get("window_start")),
        "plan_id": extra.get("plan_id"),
    }


with DAG(
    dag_id="plusofon_call_backfill",
    description="Reload the calls of the window a Plusofon webhook repair reports.",
    doc_md=__doc__,
    schedule=[CHANGES],
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,  # events that come while a run reloads start the next run, together
    tags=["plusofon", "calls", "backfill"],
) as dag:

    @task
    def lost_call_windows(triggering_asset_events: Any = None) -> list[dict[str, Any]]:
        """The window of each changes event that started this run."""
        events = triggering_asset_events[CHANGES] if triggering_asset_events else []
        windows = [w for w in (window_of(event.extra or {}) for event in events) if w is not None]
        for window in windows:
            if not window["start_known"]:
                log.warning("The lost-call window's start is unknown: reloading the last 24 hours")
        return windows

    @task(multiple_outputs=False)  # one XCom, the whole result
    def reload_calls(windows: list[dict[str, Any]]) -> dict[str, Any]:
        """Stands in for reloading the calls of each window (e.g. from GET /api/v1/call)."""
        for window in windows:
            log.info(
                "Reloading Plusofon calls from %s to %s (plan %s)", window["start"], window["end"], window["plan_id"]
            )
        return {"reloaded": windows}

    reload_calls(lost_call_windows())
