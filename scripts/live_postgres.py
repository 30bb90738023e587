"""`make live DB=postgres`: the live run's metadata database on PostgreSQL (issue 34).

Production runs Airflow on PostgreSQL (the official Helm chart and docker-compose both do); SQLite
serialises every write, so what depends on the database under concurrency is only met there. This
starts a throwaway cluster of the run's own: ``initdb`` into the run's temporary folder, listening
on a free port of 127.0.0.1 and nowhere else (no unix socket), a random password (scram-sha-256)
for its one user, started and stopped with ``pg_ctl`` in the same cleanup path as the other
services. ``initdb`` and ``postgres`` refuse to run as root: as root, the cluster runs as the
``postgres`` system user Debian's package creates. Durability is not under test, so ``fsync`` is
off (locking, isolation and every query plan are as in production).

What it needs, installed on first use by this script (never by hand): Debian's ``postgresql`` when
no ``initdb`` is found, and from PyPI the drivers of the two engines Airflow keeps on the metadata
database: ``psycopg2-binary`` (``postgresql+psycopg2://``, the one Airflow documents) and
``asyncpg`` (the async engine's URL is derived from it, ``postgresql+asyncpg://`` before 3.4); both
come with ``apache-airflow[postgres]``, which users install. Neither is a dependency of the package:
only this run needs them.
"""

from __future__ import annotations

import importlib.util
import os
import pwd
import secrets
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from live_approval import STOPWATCH, LiveFailed, say

from airflow_provider_plusofon.emulator.server import free_port

USER = "airflow"  # the cluster's one role (its superuser), owner of the database "airflow"
SYSTEM_USER = "postgres"  # who runs the cluster when the run is root
SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "unix_socket_directories": "''",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "log_line_prefix": "'%m [%p] %u@%d '",
}
# Every column that can hold what a secret is written as: text, JSON, bytes (decoded), arrays, enums.
TEXT_TYPES = ["text", "character varying", "character", "json", "jsonb", "bytea", "ARRAY", "USER-DEFINED", "xml"]


def server_binaries() -> Path | None:
    """The folder of ``initdb`` and ``pg_ctl``: Debian's newest (not on PATH), else PATH's."""
    debian = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]))
    if debian:
        return debian[-1].parent
    found = shutil.which("initdb")
    return Path(found).resolve().parent if found else None


def ensure_postgres() -> None:
    """Debian's PostgreSQL and the two drivers, when they are not there yet."""
    if server_binaries() is None:
        say("   installing postgresql (Debian) ...")
        apt = ["apt-get"] if os.geteuid() == 0 or shutil.which("sudo") is None else ["sudo", "apt-get"]
        with STOPWATCH.timed("PostgreSQL install"):
            subprocess.run([*apt, "update", "-qq"], check=True, capture_output=True)
            subprocess.run([*apt, "install", "-y", "-qq", "postgresql"], check=True, capture_output=True)
    if not all(importlib.util.find_spec(driver) for driver in ("psycopg2", "asyncpg")):
        say("   installing psycopg2-binary and asyncpg ...")
        command = [sys.executable, "-m", "pip", "install", "--quiet", "psycopg2-binary>=2.9", "asyncpg>=0.29"]
        with STOPWATCH.timed("psycopg2 and asyncpg install"):
            subprocess.run(command, check=True, capture_output=True)


def quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class PostgreSQL:
    """A throwaway cluster in ``root`` (``data/``, ``postgres.log``), and the live checks' view of it."""

    name = "postgresql"

    def __init__(self, root: Path, *, celery: bool) -> None:
        import psycopg2
        import psycopg2.errors

        self.root, self.data, self.log = root, root / "data", root / "postgres.log"
        self.binaries = server_binaries()
        if self.binaries is None:
            raise LiveFailed("no initdb here: run `make live DB=postgres` as root once to install postgresql")
        self.port = free_port()
        self.password = secrets.token_urlsafe(24)  # URL-safe: it goes into the connection URL as it is
        self.transient = (psycopg2.OperationalError, psycopg2.errors.UndefinedTable)
        where = f"{USER}:{self.password}@127.0.0.1:{self.port}/airflow"
        self.env = {"AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"postgresql+psycopg2://{where}"}
        if celery:  # task results in the metadata database, as Airflow's docker-compose and Helm chart keep them
            self.env["AIRFLOW__CELERY__RESULT_BACKEND"] = f"db+postgresql+psycopg2://{where}"
        self.folders = [root]
        self.searched = ""
        self._connection: Any = None

    def _run(self, tool: str, *args: str) -> subprocess.CompletedProcess[str]:
        """A server program, as the system user when the run is root; in a session of its own, so a
        Ctrl-C reaches the run (which stops the services, then the cluster) and not the cluster."""
        assert self.binaries is not None
        command = [str(self.binaries / tool), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", SYSTEM_USER, "--", *command]
        return subprocess.run(
            command, cwd=self.root, capture_output=True, text=True, timeout=120, start_new_session=True
        )

    def _hand_over(self) -> None:
        """As root: the cluster's folder to the system user, and a way into the run's folder for it alone."""
        try:
            owner = pwd.getpwnam(SYSTEM_USER)
        except KeyError:
            raise LiveFailed(f"initdb refuses root and there is no {SYSTEM_USER!r} user to run it as") from None
        os.chown(self.root, owner.pw_uid, owner.pw_gid)
        os.chown(self.root.parent, -1, owner.pw_gid)
        os.chmod(self.root.parent, 0o710)

    def start(self) -> None:
        with STOPWATCH.timed("PostgreSQL initdb and start"):
            self.root.mkdir(mode=0o700)
            if os.geteuid() == 0:
                self._hand_over()
            password = self.root / "password"
            password.write_text(self.password + "\n")
            if os.geteuid() == 0:
                os.chown(password, pwd.getpwnam(SYSTEM_USER).pw_uid, -1)
            made = self._run("initdb", "-D", str(self.data), "-U", USER, f"--pwfile={password}", "-E", "UTF8",
                             "--locale=C", "--auth=scram-sha-256", "--no-sync")  # fmt: skip
            password.unlink()
            if made.returncode != 0:
                raise LiveFailed(f"initdb failed: {made.stderr[-1500:]}")
            settings = [f"port = {self.port}", *(f"{key} = {value}" for key, value in SETTINGS.items())]
            with (self.data / "postgresql.conf").open("a") as conf:
                conf.write("\n# make live DB=postgres\n" + "\n".join(settings) + "\n")
            (self.data / "pg_hba.conf").write_text(f"host all {USER} 127.0.0.1/32 scram-sha-256\n")
            started = self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60", "start")
            if started.returncode != 0:
                raise LiveFailed(f"pg_ctl start failed: {started.stderr[-500:]}\n{self._log_tail()}")
            self._admin("CREATE DATABASE airflow")
        version = self.query("SHOW server_version")[0][0]
        say(f"   PostgreSQL {version} on 127.0.0.1:{self.port} (cluster in {self.data})")

    def stop(self) -> None:
        """Fast shutdown (the services are gone by now); nothing to do when it never started."""
        if self._connection is not None:
            self._connection.close()
            self._connection = None
        if not (self.data / "postmaster.pid").exists():
            return
        stopped = self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "-t", "60", "stop")
        if stopped.returncode != 0 and (self.data / "postmaster.pid").exists():
            raise LiveFailed(f"the PostgreSQL cluster did not stop: {stopped.stderr[-500:]}")

    def _log_tail(self) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-20:]) if self.log.exists() else ""

    def _connect(self, database: str) -> Any:
        import psycopg2
        import psycopg2.extras

        connection = psycopg2.connect(
            host="127.0.0.1", port=self.port, user=USER, password=self.password, dbname=database, connect_timeout=10
        )
        connection.autocommit = True  # every check reads what is committed now, and holds no lock
        # JSON as the text SQLite gives, so that the checks read both the same way.
        psycopg2.extras.register_default_json(connection, loads=lambda text: text)
        psycopg2.extras.register_default_jsonb(connection, loads=lambda text: text)
        return connection

    def _admin(self, sql: str) -> None:
        connection = self._connect("postgres")
        try:
            connection.cursor().execute(sql)
        finally:
            connection.close()

    def query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        """The checks' SQL, written for SQLite's ``?`` placeholders (a literal ``%`` stays one)."""
        import psycopg2

        if self._connection is None:
            self._connection = self._connect("airflow")
        try:
            with self._connection.cursor() as cursor:
                cursor.execute(sql.replace("%", "%%").replace("?", "%s"), params)
                return list(cursor.fetchall()) if cursor.description else []
        except psycopg2.OperationalError:
            self._connection.close()
            self._connection = None  # connect again on the next query
            raise

    def rows_showing(self, secrets: tuple[str, ...]) -> list[str]:
        """Every value of every text, JSON or bytes column of every table Airflow made (bytes decoded)
        that shows a secret."""
        columns = self.query(
            "SELECT c.table_name, c.column_name, c.data_type FROM information_schema.columns c"
            " JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name"
            " WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE' AND c.data_type = ANY(?)"
            " ORDER BY c.table_name, c.ordinal_position",
            TEXT_TYPES,
        )
        found = []
        for table, column, kind in columns:
            shown = quoted(column) if kind == "bytea" else f"{quoted(column)}::text"
            for [value] in self.query(f"SELECT {shown} FROM {quoted(table)} WHERE {quoted(column)} IS NOT NULL"):
                text = bytes(value).decode("utf-8", "replace") if kind == "bytea" else value
                if any(secret in text for secret in secrets):
                    found.append(f"metadata database, table {table}, column {column}: {text[:200]}")
        tables = len({table for table, _, _ in columns})
        self.searched = f"every value of its {len(columns)} text, JSON and bytes columns ({tables} tables)"
        return found
