"""What Airflow recorded about Plusofon accounts, read through its models into plain data (issue 35).

A page load reads the metadata database only (never the Plusofon API), in a fixed number of queries
whatever the number of accounts:

1. the connections of type ``plusofon`` (conn id, Client ID, description; never a password);
2. the latest event of each ``plusofon://`` asset (and the runs a changes event started);
3. the drift watchers' kept states: Airflow 3.3's asset state store, and the Variables
   ``plusofon_drift_state_<digest>`` (3.0 to 3.2, and a watcher of several assets);
4. the latest ``plusofon_outcome`` record of each task (and mapped instance) that left one in the
   last 30 days, then the earlier records of the tasks whose account is drifted (for since when);
5. the approval tasks (Airflow 3.1+) of the runs those records come from.

An account the deployment knows is a Client ID named by any of these: a connection, an asset
URI, a record or a watcher's state.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pendulum
from sqlalchemy import func, or_, select, tuple_
from sqlalchemy.orm import Session

from airflow_provider_plusofon.compat import asset_state_store_model, hitl_detail_model
from airflow_provider_plusofon.hooks.plusofon import client_id_of
from airflow_provider_plusofon.triggers.drift import STATE_KEY
from airflow_provider_plusofon.ui.events import event_evidence, event_line
from airflow_provider_plusofon.ui.model import (
    Account,
    Approval,
    EventLine,
    Evidence,
    RunRef,
    Watcher,
    text,
)
from airflow_provider_plusofon.ui.outcomes import Slot, decoded, latest_records, read_declared, record_history
from airflow_provider_plusofon.webhooks.drift import DriftState

LOOKBACK_DAYS = 30
MAX_EVENTS_SHOWN = 200


@dataclass
class Recorded:
    """Everything read for a page: accounts by Client ID, what was recorded about each, the approvals
    by ``(dag_id, run_id)``, the drift watchers, and (for an account's page) its recent asset events."""

    accounts: dict[str, Account] = field(default_factory=dict)
    evidence: dict[str, list[Evidence]] = field(default_factory=lambda: defaultdict(list))
    approvals: dict[tuple[str, str], list[Approval]] = field(default_factory=lambda: defaultdict(list))
    watchers: dict[str, list[Watcher]] = field(default_factory=lambda: defaultdict(list))
    events: list[EventLine] = field(default_factory=list)
    slots: dict[str, set[Slot]] = field(default_factory=lambda: defaultdict(set))


def read_fleet(session: Session, now: pendulum.DateTime) -> Recorded:
    """What the fleet page needs, for every account."""
    found = Recorded()
    conns = _connections(session, found)
    _latest_events(session, found)
    _watchers(session, found)
    since = now.subtract(days=LOOKBACK_DAYS)
    latest_records(session, found, conns, since)
    drifted = {cid for cid, told in found.evidence.items() if told and max(told, key=lambda e: e.at).drifted}
    record_history(session, found, conns, since, {s for cid in drifted for s in found.slots[cid]}, until_clean=True)
    _approvals(session, found)
    _accounts_from_what_was_found(found)
    return found


def read_account(session: Session, client_id: str, now: pendulum.DateTime) -> Recorded | None:
    """What an account's page needs (``None``: the deployment knows no such account)."""
    found = Recorded()
    conns = _connections(session, found, only=client_id)
    since = now.subtract(days=LOOKBACK_DAYS)
    _events(session, found, client_id, since)
    _watchers(session, found, only=client_id)
    latest_records(session, found, conns, since, only=client_id)
    record_history(session, found, conns, since, found.slots[client_id], only=client_id)
    _approvals(session, found)
    _accounts_from_what_was_found(found)
    return found if client_id in found.accounts else None


def _connections(session: Session, found: Recorded, only: str | None = None) -> dict[str, str]:
    """The ``plusofon`` connections as accounts; returns conn id -> Client ID. Their passwords are
    never read; their extras only for a connection without a login (the Client ID may be there)."""
    from airflow.models.connection import Connection

    plusofon = Connection.conn_type == "plusofon"
    found_ids = [
        (conn_id, login, description)
        for conn_id, login, description in session.execute(
            select(Connection.conn_id, Connection.login, Connection.description).where(plusofon)
        )
    ]
    if any(not login for _, login, _ in found_ids):
        without = select(Connection).where(plusofon, or_(Connection.login.is_(None), Connection.login == ""))
        extras = {conn.conn_id: client_id_of(None, _extra(conn)) for conn in session.scalars(without)}
        found_ids = [(c, login or extras.get(c), d) for c, login, d in found_ids]
    by_conn: dict[str, str] = {}
    grouped: dict[str, tuple[list[str], list[str]]] = defaultdict(lambda: ([], []))
    for conn_id, client_id, description in found_ids:
        if not client_id:
            continue
        by_conn[str(conn_id)] = str(client_id)
        names, descriptions = grouped[str(client_id)]
        names.append(str(conn_id))
        if description:
            descriptions.append(text(description, 200) or "")
    for client_id, (names, descriptions) in grouped.items():
        if only is None or client_id == only:
            found.accounts[client_id] = Account(client_id, tuple(sorted(names)), tuple(descriptions))
    return by_conn


def _extra(conn: Any) -> dict[str, Any]:
    try:
        extra = conn.extra_dejson
    except Exception:  # an extra that is not JSON names no Client ID
        return {}
    return extra if isinstance(extra, dict) else {}


def _client_of(uri: str) -> tuple[str, str] | None:
    """``(client_id, kind)`` of a ``plusofon://`` asset URI (kind ``""``, ``drift`` or ``changes``)."""
    parts = urlsplit(uri)
    if parts.scheme != "plusofon" or not parts.netloc:
        return None
    return parts.netloc, parts.path.removeprefix("/webhooks").strip("/")


def _ours() -> Any:
    from airflow.models.asset import AssetModel

    return AssetModel.uri.like("plusofon://%")


def _event_columns() -> tuple[Any, ...]:
    from airflow.models.asset import AssetEvent as E
    from airflow.models.asset import AssetModel

    return (
        E.id,
        E.timestamp,
        E.extra,
        E.source_dag_id,
        E.source_run_id,
        E.source_task_id,
        E.source_map_index,
        AssetModel.uri,
    )


def _latest_events(session: Session, found: Recorded) -> None:
    """The latest event of every ``plusofon://`` asset (the assets themselves name accounts too)."""
    from airflow.models.asset import AssetEvent, AssetModel

    for uri in session.scalars(select(AssetModel.uri).where(_ours())):
        if (client := _client_of(uri)) is not None:
            _asset_of(found, client[0], uri)
    latest = select(func.max(AssetEvent.id)).join(AssetModel, AssetModel.id == AssetEvent.asset_id)
    latest = latest.where(_ours()).group_by(AssetEvent.asset_id)
    query = select(*_event_columns()).join(AssetModel, AssetModel.id == AssetEvent.asset_id)
    _add_events(session, found, list(session.execute(query.where(AssetEvent.id.in_(latest)))), lines=False)


def _add_events(session: Session, found: Recorded, events: list[Any], *, lines: bool) -> None:
    """Events as evidence of their accounts (and as lines of the account page), with the runs the
    changes events started (one query for all of them)."""
    changes = [e.id for e in events if (_client_of(e.uri) or ("", ""))[1] == "changes"]
    started = _started_runs(session, changes)
    for event in events:
        client = _client_of(event.uri)
        if client is None:
            continue
        if lines:
            found.events.append(event_line(event, client[1]))
        if (evidence := event_evidence(event, client[1], started.get(event.id, ()))) is not None:
            found.evidence[client[0]].append(evidence)


def _started_runs(session: Session, event_ids: list[int]) -> dict[int, tuple[RunRef, ...]]:
    """The DAG runs each of these events started (a backfill, for a changes event)."""
    from airflow.models.asset import AssetEvent
    from airflow.models.dagrun import DagRun

    if not event_ids:
        return {}
    started: dict[int, list[RunRef]] = defaultdict(list)
    query = select(AssetEvent.id, DagRun.dag_id, DagRun.run_id, DagRun.state).join(AssetEvent.created_dagruns)
    for event_id, dag_id, run_id, state in session.execute(query.where(AssetEvent.id.in_(event_ids))):
        started[event_id].append(RunRef(str(dag_id), str(run_id), state=text(state, 20)))
    return {event_id: tuple(runs) for event_id, runs in started.items()}


def _asset_of(found: Recorded, client_id: str, uri: str) -> None:
    account = found.accounts.get(client_id) or Account(client_id)
    if uri not in account.assets:
        found.accounts[client_id] = Account(
            client_id, account.conn_ids, account.descriptions, tuple(sorted({*account.assets, uri}))
        )


def _events(session: Session, found: Recorded, client_id: str, since: pendulum.DateTime) -> None:
    """An account's asset events of the last 30 days (the latest first), as evidence and as lines."""
    from airflow.models.asset import AssetEvent, AssetModel

    uris = [f"plusofon://{client_id}/webhooks{kind}" for kind in ("", "/drift", "/changes")]
    for uri in session.scalars(select(AssetModel.uri).where(AssetModel.uri.in_(uris))):
        _asset_of(found, client_id, uri)
    query = (
        select(*_event_columns())
        .join(AssetModel, AssetModel.id == AssetEvent.asset_id)
        .where(AssetModel.uri.in_(uris), AssetEvent.timestamp >= since)
        .order_by(AssetEvent.timestamp.desc(), AssetEvent.id.desc())
        .limit(MAX_EVENTS_SHOWN)
    )
    _add_events(session, found, list(session.execute(query)), lines=True)


def _watchers(session: Session, found: Recorded, only: str | None = None) -> None:
    """The drift watchers' kept states, by the account each watches."""
    from airflow.models.asset import AssetModel
    from airflow.models.variable import Variable

    kept: list[tuple[str | None, str | None, str]] = []
    store = asset_state_store_model()
    if store is not None:
        query = select(AssetModel.uri, store.value).join(AssetModel, AssetModel.id == store.asset_id)
        for uri, value in session.execute(query.where(store.key == STATE_KEY, _ours())):
            kept.append(((_client_of(uri) or (None, ""))[0], value, "the drift asset's state store"))
    escaped = STATE_KEY.replace("_", "\\_")
    for variable in session.scalars(select(Variable).where(Variable.key.like(f"{escaped}\\_%", escape="\\"))):
        kept.append((None, _val(variable), f"the Variable {variable.key}"))
    for client_id, value, where in kept:
        state = DriftState.from_json(value if isinstance(value, str) or value is None else json.dumps(value))
        client_id = client_id or (state.client_id if state else None)
        if state is not None and client_id and (only is None or client_id == only):
            found.watchers[client_id].append(Watcher(state, where))


def _val(variable: Any) -> str | None:
    try:
        return variable.val
    except Exception:  # a value that cannot be decrypted (another Fernet key) is no state
        return None


def _approvals(session: Session, found: Recorded) -> None:
    """The approval tasks in the runs the audits' records come from (Airflow 3.1+)."""
    hitl = hitl_detail_model()
    runs = {
        (e.run.dag_id, e.run.run_id) for told in found.evidence.values() for e in told if e.run and e.source == "audit"
    }
    if hitl is None or not runs:
        return
    from airflow.models.taskinstance import TaskInstance as TI

    columns = (hitl.created_at, hitl.responded_at, hitl.chosen_options, hitl.responded_by)
    query = select(*columns, TI.dag_id, TI.run_id, TI.task_id, TI.map_index).join(TI, TI.id == hitl.ti_id)
    for asked, answered, chosen, by, dag_id, run_id, task_id, map_index in session.execute(
        query.where(tuple_(TI.dag_id, TI.run_id).in_(sorted(runs)))
    ):
        found.approvals[(dag_id, run_id)].append(
            Approval(
                RunRef(dag_id, run_id, task_id, map_index),
                asked,
                answered,
                _choices(chosen),
                _who(decoded(by)),
            )
        )


def _choices(chosen: Any) -> tuple[str, ...]:
    chosen = decoded(chosen)
    return tuple(str(option)[:40] for option in chosen[:10]) if isinstance(chosen, list) else ()


def _who(by: Any) -> str | None:
    if isinstance(by, dict):
        return text(by.get("name") or by.get("id"), 100)
    return None


def _accounts_from_what_was_found(found: Recorded) -> None:
    for client_id in (*found.evidence, *found.watchers):
        if client_id not in found.accounts and (found.evidence.get(client_id) or found.watchers.get(client_id)):
            found.accounts[client_id] = Account(client_id)


__all__ = ["Recorded", "read_account", "read_declared", "read_fleet"]
