"""The asset events our tasks emit (issue 23): what a repair changed, and which calls it may have lost.

A task that changed an account's webhooks says so on the account's changes asset
(``plusofon://<client_id>/webhooks/changes``), with the ids it wrote, the plan's id and the
**lost-call window** (``window_start``, ``window_end``): from when the account was last known to
match its specs to when the repair finished, the hours of calls the pipelines must reload. The
window starts at the earliest "last seen matching" of the drift events that started this run, else at
that of the latest drift event (when the task has the drift asset among its inlets), else at the end
of this DAG's previous successful run, else it is unknown (``None``).

Airflow emits an event for each ``Asset`` outlet whenever the task succeeds; only an
``AssetAlias`` outlet emits an event when the task adds one. So: with an ``AssetAlias`` among the
outlets, the changes event is added to it only when something changed; a ``plusofon://`` ``Asset``
outlet of the account gets the same extra, or ``{"changed": false}`` when nothing changed.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

import pendulum

from airflow_provider_plusofon.assets.uris import asset_uri
from airflow_provider_plusofon.webhooks.drift import read_time


def _iso(value: Any) -> str | None:
    """A context's time as ISO 8601 (UTC); ``None`` for none. Airflow hands some over as lazy
    proxies, whose ``None`` is not ``None``."""
    value = getattr(value, "__wrapped__", value)
    if not isinstance(value, datetime.datetime):
        return None
    return pendulum.instance(value).in_timezone("UTC").isoformat()


def lost_call_window(context: Mapping[str, Any], client_id: str, finished_at: pendulum.DateTime) -> dict[str, Any]:
    """
    The hours of calls the account may have sent nowhere, as ISO 8601 times (UTC).

    :return: ``{"window_start": ... or None, "window_end": ..., "window_start_from": "drift event" |
        "previous successful run" | None}``.
    """
    drift = asset_uri(client_id, "drift")
    end = finished_at.in_timezone("UTC").isoformat()
    events = context.get("triggering_asset_events") or {}
    starts = [_last_matching(e) for key in events for e in events[key] if _is_drift(e, drift)]
    source = "drift event"
    if not starts:  # not started by a drift event: the latest one, when the task has the asset as inlet
        starts, source = _latest_drift_inlet(context, drift), "latest drift event"
    previous = _iso(context.get("prev_end_date_success"))
    if starts:
        # Events are anyone's to emit: a time that does not read as one counts as unknown. One drift
        # event that never saw the account matching leaves the start unknown.
        known = [parsed for s in starts if (parsed := read_time(s)) is not None]
        start = min(known).isoformat() if known and len(known) == len(starts) else None
        if source == "latest drift event" and start and previous and _later(previous, start):
            # That drift was repaired before: the previous successful run ended with the account matching.
            start, source = previous, "previous successful run"
        return {"window_start": start, "window_end": end, "window_start_from": source if start else None}
    return {
        "window_start": previous,
        "window_end": end,
        "window_start_from": "previous successful run" if previous else None,
    }


def _later(one: str, other: str) -> bool:
    return bool(pendulum.parse(one) > pendulum.parse(other))  # type: ignore[operator]


def _is_drift(event: Any, drift_uri: str) -> bool:
    payload = (getattr(event, "extra", None) or {}).get("payload")
    uri = getattr(getattr(event, "asset", None), "uri", None)
    return uri == drift_uri and isinstance(payload, Mapping) and payload.get("status") == "drift"


def _last_matching(event: Any) -> Any:
    return event.extra["payload"].get("last_matching_at")


def _latest_drift_inlet(context: Mapping[str, Any], drift_uri: str) -> list[Any]:
    """The "last seen matching" of the latest drift event, read through the task's inlets (a run
    started by hand after the drift, as Airflow 3.0 approves a repair)."""
    inlets = context.get("inlet_events")
    if inlets is None:
        return []
    try:
        for inlet in inlets:
            if getattr(inlet, "uri", None) == drift_uri:
                latest = [e for e in inlets[inlet] if _is_drift(e, drift_uri)][-1:]
                return [_last_matching(e) for e in latest]
    except Exception:  # the events could not be read: the window falls back, it does not fail the repair
        return []
    return []


def changes_extra(
    summary: Mapping[str, Any], context: Mapping[str, Any], client_id: str, finished_at: pendulum.DateTime
) -> dict[str, Any] | None:
    """
    The extra of a changes event for what a run wrote; ``None`` when it wrote nothing (or was a dry run).

    Flat, every value a string, a boolean or ``None`` (the ids comma-separated): Airflow 3.0 fails
    a task whose alias event's extra holds a list or a mapping.
    """
    written = {
        kind: ",".join(str(item.get("id")) for item in summary.get(kind) or [] if item.get("id") is not None)
        for kind in ("created", "updated", "deleted")
    }
    if summary.get("dry_run") or not any(summary.get(kind) for kind in written):
        return None
    return {
        "changed": True,
        "client_id": client_id,
        "plan_id": summary.get("plan_id"),
        **written,
        **lost_call_window(context, client_id, finished_at),
    }


def emit_changes(outlets: list[Any], context: Mapping[str, Any], client_id: str, extra: dict[str, Any] | None) -> None:
    """Put the changes event on the task's outlets: on every ``AssetAlias`` among them (give the
    task only the alias meant for it), and on the account's own ``plusofon://`` assets."""
    from airflow.sdk import Asset, AssetAlias

    ours = {asset_uri(client_id), asset_uri(client_id, "changes")}
    for outlet in outlets:
        if isinstance(outlet, AssetAlias):
            if extra is not None:
                context["outlet_events"][outlet].add(Asset(asset_uri(client_id, "changes")), extra=extra)
        elif isinstance(outlet, Asset) and outlet.uri in ours:
            context["outlet_events"][outlet].extra = extra if extra is not None else {"changed": False}


def verified_extra(client_id: str, at: pendulum.DateTime) -> dict[str, Any]:
    """The extra of the sensor's event on the account's webhooks asset: they were all there."""
    return {"status": "verified", "client_id": client_id, "verified_at": at.in_timezone("UTC").isoformat()}


def emit_verified(outlets: list[Any], context: Mapping[str, Any], client_id: str) -> None:
    """Give the account's ``plusofon://<client_id>/webhooks`` outlet the sensor's "verified" extra."""
    from airflow.sdk import Asset

    extra = verified_extra(client_id, pendulum.now("UTC"))
    for outlet in outlets:  # the webhooks asset only: "verified" on the changes asset would start a backfill
        if isinstance(outlet, Asset) and outlet.uri == asset_uri(client_id):
            context["outlet_events"][outlet].extra = extra
