"""The records every ``EnsureWebhooksOperator`` run leaves in XCom, read for the Plusofon page (issue 35).

Each task (and mapped instance) is a *slot*: ``(dag_id, task_id, map_index)``. The fleet page reads the
latest record of every slot, then, for the slots whose account is drifted, their earlier records back to
the latest that found the account clean (since when it drifted); an account's page reads all of its
slots' records of the last 30 days. Records are ranked by their primary key alone and only those needed
are read and decoded (each is a few hundred bytes of JSON).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pendulum
from sqlalchemy import Text, and_, func, select, tuple_, type_coerce
from sqlalchemy.orm import Session

from airflow_provider_plusofon.tasks.records import RECORD_KEY, SPECS_KEY
from airflow_provider_plusofon.ui.model import Account, Evidence, RunRef, record_evidence, text

if TYPE_CHECKING:
    from airflow_provider_plusofon.ui.records import Recorded

HISTORY_STEP = 4  # records of a drifted task read back at first, to find since when (most drifts are younger)
Slot = tuple[str, str, int]  # dag_id, task_id, map_index: where a task leaves its records


def latest_records(
    session: Session, found: Recorded, conns: dict[str, str], since: pendulum.DateTime, *, only: str | None = None
) -> None:
    """The latest ``plusofon_outcome`` record of each task (and mapped instance) since ``since``."""
    from airflow.models.xcom import XComModel as X

    query = _ranked(X.key == RECORD_KEY, X.timestamp >= since, newest=1)
    _read_records(session.execute(query), found, conns, only=only, latest=True)


def _ranked(*where: Any, newest: int) -> Any:
    """The records ``where`` says, only each task's ``newest`` latest, the newest first: ranked by
    their primary key alone (their values stay where they are), then read for those."""
    from airflow.models.xcom import XComModel as X

    rank = func.row_number().over(partition_by=(X.dag_id, X.task_id, X.map_index), order_by=X.timestamp.desc())
    ranked = select(X.dag_run_id, X.task_id, X.map_index, rank.label("n")).where(*where).subquery()
    same = and_(X.dag_run_id == ranked.c.dag_run_id, X.task_id == ranked.c.task_id, X.map_index == ranked.c.map_index)
    query = select(*_record_columns()).join(ranked, same).where(X.key == RECORD_KEY, ranked.c.n <= newest)
    return query.order_by(X.timestamp.desc())


def record_history(
    session: Session,
    found: Recorded,
    conns: dict[str, str],
    since: pendulum.DateTime,
    slots: set[Slot],
    *,
    only: str | None = None,
    until_clean: bool = False,
) -> None:
    """The records of the tasks in ``slots`` since ``since``, the newest first. With ``until_clean``,
    each task's only back to the latest that found its account clean (what tells since when it drifted):
    its last ``HISTORY_STEP`` records first, and all of them only for the tasks whose account drifted longer."""
    from airflow.models.xcom import XComModel as X

    if not slots:
        return
    ours = and_(X.key == RECORD_KEY, X.timestamp >= since, tuple_(X.dag_id, X.task_id, X.map_index).in_(sorted(slots)))
    if not until_clean:
        query = select(*_record_columns()).where(ours).order_by(X.timestamp.desc())
        _read_records(session.execute(query), found, conns, only=only)
        return
    query = _ranked(ours, newest=HISTORY_STEP)
    resolved = _read_records(session.execute(query), found, conns, only=only, until_clean=True)
    if rest := slots - resolved:
        record_history(session, found, conns, since, rest, only=only, until_clean=False)


def _record_columns() -> tuple[Any, ...]:
    from airflow.models.xcom import XComModel as X

    # The value as stored, decoded here: only the records needed are.
    return X.dag_id, X.run_id, X.task_id, X.map_index, X.timestamp, type_coerce(X.value, Text).label("value")


def _read_records(
    rows: Any,
    found: Recorded,
    conns: dict[str, str],
    *,
    only: str | None,
    latest: bool = False,
    until_clean: bool = False,
) -> set[Slot]:
    """Records (the newest first) as evidence of their accounts (with ``until_clean``, each task's only
    down to the first that found its account clean); returns the tasks that have such a record."""
    seen = {(e.run, e.at) for told in found.evidence.values() for e in told if e.source == "audit"}
    clean: set[Slot] = set()
    for dag_id, run_id, task_id, map_index, at, value in rows:
        slot = (dag_id, task_id, map_index)
        if slot in clean and until_clean:
            continue
        evidence = _record(found, conns, slot, run_id, at, value, only=only)
        if evidence is None:
            continue
        client_id, told = evidence
        if latest:
            found.slots[client_id].add(slot)
        if told.clean:
            clean.add(slot)
        if (told.run, told.at) not in seen:
            found.evidence[client_id].append(told)
    return clean


def _record(
    found: Recorded, conns: dict[str, str], slot: Slot, run_id: str, at: Any, value: Any, *, only: str | None
) -> tuple[str, Evidence] | None:
    """One record's account and evidence (and the account made known, with the connection named)."""
    record = decoded(value)
    if not isinstance(record, dict):
        return None
    client_id = record.get("client_id") or conns.get(str(record.get("conn_id")))
    if not isinstance(client_id, str) or not client_id or (only is not None and client_id != only):
        return None
    evidence = record_evidence(record, RunRef(slot[0], run_id, slot[1], slot[2]), at)
    if evidence is None:
        return None
    account = found.accounts.get(client_id) or Account(client_id)
    conn_id = text(record.get("conn_id"), 250)
    if conn_id and conn_id not in account.conn_ids:
        account = Account(client_id, (*account.conn_ids, conn_id), account.descriptions, account.assets)
    found.accounts[client_id] = account
    return client_id, evidence


def read_declared(session: Session, run: RunRef) -> Any:
    """The declared webhooks beside the account's that an ensure run recorded (``plusofon_specs``)."""
    from airflow.models.xcom import XComModel as X

    query = select(type_coerce(X.value, Text)).where(
        X.key == SPECS_KEY, X.dag_id == run.dag_id, X.run_id == run.run_id, X.task_id == run.task_id
    )
    return decoded(session.scalar(query.where(X.map_index == run.map_index)))


def decoded(value: Any) -> Any:
    """An XCom value as stored: JSON, or (pushed through some releases' APIs) JSON text of it."""
    for _ in range(2):
        if not isinstance(value, str):
            break
        try:
            value = json.loads(value)
        except ValueError:
            return None
    return value
