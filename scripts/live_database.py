"""make live, the metadata database: SQLite (the default, a newcomer's first run) or, with
``DB=postgres``, a throwaway PostgreSQL cluster of the run's own (``live_postgres.py``), as
production runs Airflow. Both answer the live checks' SQL (``?`` placeholders) and the end-of-run
search for secrets the same way."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol


class Database(Protocol):
    name: str  # as the summary line says it: "sqlite", "postgresql"
    transient: tuple[type[Exception], ...]  # what a wait retries: a table not there yet, a lock
    env: dict[str, str]  # for the Airflow services
    folders: list[Path]  # its files outside the Airflow home, searched for secrets too
    searched: str  # what rows_showing looked at

    def query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]: ...

    def rows_showing(self, secrets: tuple[str, ...]) -> list[str]: ...


def chosen() -> str:
    """``DB`` from the environment: ``sqlite`` (unset) or ``postgres``; anything else is refused."""
    wanted = os.environ.get("DB", "").strip().lower() or "sqlite"
    if wanted not in ("sqlite", "postgres", "postgresql"):
        raise SystemExit(f"DB={wanted!r}: make live runs on DB=sqlite (the default) or DB=postgres")
    return "sqlite" if wanted == "sqlite" else "postgresql"


class SQLite:
    """Airflow's default: ``airflow.db`` in the Airflow home (its raw pages are among the home's files)."""

    name = "sqlite"
    transient = (sqlite3.OperationalError,)

    def __init__(self, home: Path) -> None:
        self.path = home / "airflow.db"
        self.env: dict[str, str] = {}
        self.folders: list[Path] = []
        self.searched = ""

    def query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        with sqlite3.connect(self.path, timeout=30) as db:
            return db.execute(sql, params).fetchall()

    def rows_showing(self, secrets: tuple[str, ...]) -> list[str]:
        found = []
        tables = self.query("SELECT name FROM sqlite_master WHERE type = 'table'")
        self.searched = f"every row of its {len(tables)} tables"
        for [table] in tables:
            for row in self.query(f'SELECT * FROM "{table}"'):
                shown = " ".join(str(value) for value in row)
                if any(secret in shown for secret in secrets):
                    found.append(f"metadata database, table {table}: {shown[:200]}")
        return found


def ensure_database() -> None:
    """What ``DB`` needs, installed on first use (nothing for SQLite)."""
    if chosen() == "postgresql":
        from live_postgres import ensure_postgres

        ensure_postgres()


@contextmanager
def metadata_database(workdir: Path, *, celery: bool) -> Iterator[Database]:
    """The run's database, for Airflow's home ``workdir/airflow``; a cluster stops when the run
    ends, however it ends."""
    if chosen() == "sqlite":
        yield SQLite(workdir / "airflow")
        return
    from live_postgres import PostgreSQL

    cluster = PostgreSQL(workdir / "postgres", celery=celery)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()
