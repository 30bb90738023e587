"""make live, event-driven repair (issue 23): a webhook edited by hand on the emulator must give one
drift event, which starts one audit run by itself; its approved repair emits one changes event,
which starts one backfill run with the lost-call window; and the repair's own writes start nothing.
"""

from __future__ import annotations

import json
import time
from typing import Any

import requests
from live_approval import AUDIT, approve_by_run_conf, approve_in_the_ui, check, say

from airflow_provider_plusofon.assets.uris import asset_uri

BACKFILL = "plusofon_call_backfill"
DRIFT_POLL_SECONDS = 3  # the watcher's poll interval in the live run (a minute in the example's default)
WATCHER = "%PlusofonWebhookDriftTrigger"


def watcher_env() -> dict[str, str]:
    return {"PLUSOFON_DRIFT_POLL_SECONDS": str(DRIFT_POLL_SECONDS)}


def asset_events(deployment: Any, uri: str) -> list[tuple[Any, ...]]:
    return deployment.query(
        "SELECT e.id, e.timestamp, e.extra FROM asset_event e JOIN asset a ON a.id = e.asset_id WHERE a.uri = ?"
        " ORDER BY e.id",
        uri,
    )


def runs(deployment: Any, dag_id: str) -> list[tuple[Any, ...]]:
    return deployment.query(
        "SELECT run_id, run_type, state, start_date FROM dag_run WHERE dag_id = ? ORDER BY id", dag_id
    )


def wait_for_the_watcher(deployment: Any, client_id: str) -> str:
    """Until the drift watcher runs in the triggerer and has kept its first state (the account matching)."""
    deployment.wait_for(
        "the drift watcher to run in the triggerer",
        lambda: deployment.query("SELECT id FROM trigger WHERE classpath LIKE ? AND triggerer_id IS NOT NULL", WATCHER),
    )
    if deployment.airflow_version >= (3, 3):
        kept = deployment.wait_for(
            "the watcher to keep its state in the asset's state store",
            lambda: deployment.query("SELECT value FROM asset_state_store WHERE key = 'plusofon_drift_state'"),
        )
        check(
            json.loads(kept[0][0]).get("episode", "?") is None, f"the watcher saw drift on a matching account: {kept}"
        )
        return "the asset's state store"
    deployment.wait_for(
        "the watcher to keep its state in a Variable",
        lambda: deployment.query("SELECT key FROM variable WHERE key LIKE 'plusofon_drift_state_%'"),
    )
    return "a Variable"


def edit_by_hand(emulator: Any, client_id: str, token: str) -> dict[str, Any]:
    """Someone changes a webhook in the vendor's UI (not through Airflow)."""
    drifted = next(w for w in emulator.webhooks() if w["event"] == "create")
    account = requests.Session()
    account.headers.update({"Client": client_id, "Authorization": f"Bearer {token}"})
    edited = {k: v for k, v in drifted.items() if k not in ("id", "type")} | {"type_style": "short"}
    check(account.put(f"{emulator.base_url}/api/v1/webhooks/{drifted['id']}", json=edited, timeout=10).ok, "edit")
    return drifted


def drift_to_backfill(deployment: Any, emulator: Any, client_id: str, token: str) -> None:
    """The whole event-driven path, with what it must not do."""
    drift_uri = asset_uri(client_id, "drift")
    kept_in = wait_for_the_watcher(deployment, client_id)
    check(asset_events(deployment, drift_uri) == [], "a drift event for an account that matches")
    say(f"   the drift watcher runs in the triggerer, polling every {DRIFT_POLL_SECONDS}s; state kept in {kept_in}")
    audits_before, backfills_before = len(runs(deployment, AUDIT)), len(runs(deployment, BACKFILL))
    drifted = edit_by_hand(emulator, client_id, token)
    edited_at, mark = time.time(), len(emulator.requests())
    payload = the_drift_starts_one_audit(deployment, drift_uri, audits_before, edited_at)
    the_approved_repair_writes_once(deployment, emulator, drifted, mark)
    the_changes_start_one_backfill(deployment, asset_uri(client_id, "changes"), payload, backfills_before, edited_at)
    # Absence takes time to show: the watcher reads the repaired account a few times, then nothing new.
    after = len(emulator.requests())
    deployment.wait_for(
        "the watcher to read the repaired account three times",
        lambda: sum(1 for r in emulator.requests()[after:] if r.get("query", {}).get("page") == "1") >= 3,
    )
    check(len(asset_events(deployment, drift_uri)) == 1, "the repair's own writes gave another drift event")
    asset_runs = [r for r in runs(deployment, AUDIT)[audits_before:] if r[1] == "asset_triggered"]
    check(len(asset_runs) == 1, f"{len(asset_runs)} audit runs started by drift events, not one")
    check(len(runs(deployment, BACKFILL)) == backfills_before + 1, "more than one backfill run")
    say("   no second audit run, drift event or backfill run after the repair")


def the_drift_starts_one_audit(deployment: Any, drift_uri: str, audits_before: int, edited_at: float) -> Any:
    """One drift event, and the audit run it starts; drift-to-repair-start printed. The payload."""
    [drift] = deployment.wait_for("one drift event", lambda: asset_events(deployment, drift_uri))
    payload = json.loads(drift[2])["payload"]
    check(payload["different"] and payload["last_matching_at"], f"the drift event says {payload}")
    started = deployment.wait_for(
        "the drift event to start an audit run",
        lambda: [r for r in runs(deployment, AUDIT)[audits_before:] if r[1] == "asset_triggered" and r[3]],
    )
    start = _epoch(started[0][3])
    say(f"   drift event {payload['episode']} (different: {payload['different'][0]['fields']});")
    say(f"   drift-to-repair-start: {start - edited_at:.1f}s from the edit to the audit run that repairs it")
    return payload


def the_approved_repair_writes_once(deployment: Any, emulator: Any, drifted: dict[str, Any], mark: int) -> None:
    if deployment.airflow_version >= (3, 1):
        approve_in_the_ui(deployment, drifted["id"])
    else:
        approve_by_run_conf(deployment, emulator, mark)
    state = deployment.wait_for("the approved audit run to finish", lambda: deployment.finished(AUDIT))
    writes = [f"{r['method']} {r['path']}" for r in emulator.requests()[mark:] if r["method"] != "GET"]
    check(state == "success", f"the approved audit run ended {state}")
    check(writes == [f"PUT /api/v1/webhooks/{drifted['id']}"], f"the approved repair wrote {writes}")
    say(f"   repair {state}; writes: {', '.join(writes)}")


def the_changes_start_one_backfill(
    deployment: Any, changes_uri: str, payload: Any, backfills_before: int, edited_at: float
) -> None:
    [changes] = deployment.wait_for("one changes event", lambda: asset_events(deployment, changes_uri))
    window = json.loads(changes[2])
    if deployment.airflow_version >= (3, 1):  # the run the drift event started repairs
        check(window["window_start_from"] == "drift event", f"the changes event says {window}")
        check(window["window_start"] == payload["last_matching_at"], f"the window {window} is not the drift's")
    else:  # a run started by hand with the approved plan_id: no drift event of its own (see docs/guides/assets.md)
        check(window["window_start_from"] in (None, "previous successful run"), f"the changes event says {window}")
    backfill = deployment.wait_for(
        "the changes event to start one backfill run",
        lambda: [r for r in runs(deployment, BACKFILL)[backfills_before:] if r[2] in ("success", "failed")],
    )
    check([r[2] for r in backfill] == ["success"], f"the backfill runs ended {backfill}")
    reloaded = deployment.query(
        "SELECT value FROM xcom WHERE dag_id = ? AND run_id = ? AND task_id = 'reload_calls' AND key = 'return_value'",
        BACKFILL,
        backfill[0][0],
    )
    [reload] = json.loads(reloaded[0][0])["reloaded"]
    check(reload["start"] <= _iso(edited_at) <= reload["end"], f"the reloaded window {reload} misses the edit")
    said = f"from the {window['window_start_from']}"
    say(f"   one backfill run reloaded calls from {reload['start']} to {reload['end']} ({said})")


def _epoch(stored: Any) -> float:
    """A stored time as seconds since the epoch: SQLite gives text (naive, UTC), PostgreSQL a datetime."""
    from datetime import datetime, timezone

    when = stored if isinstance(stored, datetime) else datetime.fromisoformat(stored)
    return (when if when.tzinfo else when.replace(tzinfo=timezone.utc)).timestamp()


def _iso(timestamp: float) -> str:
    import pendulum

    return pendulum.from_timestamp(timestamp, tz="UTC").isoformat()
