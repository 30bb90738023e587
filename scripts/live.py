"""make live: the example DAGs on real Airflow services, against the emulator, then a secrets audit.

``dag.test()`` runs a trigger in the test's own process, so it never proves that the trigger
serialises through the metadata database and runs in a real triggerer. This starts what a small
deployment runs (api-server, scheduler with LocalExecutor, dag-processor, triggerer), every one
bound to 127.0.0.1 with no log server, in a throwaway Airflow home, and:

1. unpauses the call pipeline: its sensor must reach ``deferred`` (no worker slot held) with its
   trigger picked up by the triggerer, while the account has no webhooks;
2. bootstraps the account (``plusofon_bootstrap_webhooks``): the waiting pipeline must then finish;
3. runs the audit, which must find nothing to change;
4. changes a webhook by hand (``live_assets.py``): the audit's drift watcher must emit one event,
   which starts one audit run by itself; its approval task must wait for input, show the plan
   through the public REST API, and on a reviewer's approval there (logged in with a password, as
   a person is) apply that plan with one write; the repair's changes event must start one
   backfill run with the lost-call window, and nothing must follow from the repair's own writes;
5. runs the fleet DAG over 20 accounts (``live_fleet.py``): an audit, then an approved repair;
6. rotates the token of a connection saved in the metadata database while a deferred sensor waits
   on it (``live_rotation.py``): the sensor must succeed in its first try;
7. checks that neither the API token nor the header secret appears in any log file or in the
   metadata database, and stops everything it started.

With ``EXECUTOR=celery`` (``live_celery.py``) the tasks run on CeleryExecutor: a Redis broker and two
Celery workers, and the run checks that both of them ran tasks. With ``DB=postgres``
(``live_database.py``, ``live_postgres.py``) the metadata database is a throwaway PostgreSQL cluster
of the run's own, as production runs Airflow, instead of SQLite.

Exit 0 when all of that held, 1 with the reason (and the services' logs' tails) otherwise.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import Any

import requests

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "scripts"))

from demo import CLIENT_ID, HEADER_SECRET, TOKEN, lines_showing  # noqa: E402
from live_approval import (  # noqa: E402
    AUDIT,
    REVIEWER,
    SECRETS,
    STOPWATCH,
    UI,
    LiveFailed,
    check,
    say,
)
from live_assets import drift_to_backfill, watcher_env  # noqa: E402
from live_celery import (  # noqa: E402
    celery_env,
    check_both_workers_worked,
    ensure_celery,
    results_kept,
    start_redis,
    worker_services,
)
from live_database import Database, ensure_database, metadata_database  # noqa: E402
from live_fleet import ACCOUNTS, fleet_env, run_the_fleet, seed_the_fleet  # noqa: E402
from live_rotation import SECRETS as ROTATION_SECRETS  # noqa: E402
from live_rotation import prepare_rotation, rotate_under_a_waiting_sensor  # noqa: E402
from live_ui import the_plusofon_page  # noqa: E402

from airflow_provider_plusofon.emulator.process import EmulatorProcess  # noqa: E402
from airflow_provider_plusofon.emulator.server import free_port  # noqa: E402

SERVICES = {
    "api-server": ["api-server", "--host", "127.0.0.1", "--port", "{api_port}", "--workers", "1"],
    "scheduler": ["scheduler", "--skip-serve-logs"],
    "dag-processor": ["dag-processor"],
    "triggerer": ["triggerer", "--skip-serve-logs"],
}
CELERY = os.environ.get("EXECUTOR", "").lower() == "celery"
STEP_TIMEOUT_SECONDS = 150


class Deployment:
    """The Airflow services in a throwaway home, and what is needed to look into them."""

    def __init__(self, home: Path, emulator: EmulatorProcess, database: Database) -> None:
        self.home = home
        self.database = database
        self.api_port = free_port()
        self.api_url = f"http://127.0.0.1:{self.api_port}"
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.redis_port = free_port()
        self.airflow = str(Path(sys.executable).with_name("airflow"))
        from cryptography.fernet import Fernet

        self.reviewer_password = secrets.token_urlsafe(16)
        passwords = home.parent / "passwords.json"
        passwords.write_text(json.dumps({REVIEWER: self.reviewer_password}))
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "PLUSOFON"))}
        self.env |= {
            "AIRFLOW_HOME": str(home),
            # The example DAGs, and the test DAG of every way of handing specs over (issue 20).
            "AIRFLOW__CORE__DAGS_FOLDER": str(home.parent / "dags"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__CORE__PARALLELISM": "4",
            # Stored trigger kwargs (the rendered specs) are encrypted, as in any real deployment.
            "AIRFLOW__CORE__FERNET_KEY": Fernet.generate_key().decode(),
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(32),
            "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{self.api_port}",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{self.api_port}/execution/",
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
            "AIRFLOW__TRIGGERER__JOB_HEARTBEAT_SEC": "2",
            "AIRFLOW_CONN_PLUSOFON_DEFAULT": emulator.connection_env(),
            "AIRFLOW_VAR_PLUSOFON_CRM_WEBHOOK_SECRET": HEADER_SECRET,
            "PLUSOFON_EXAMPLE_POKE_INTERVAL": "2",
            "PLUSOFON_CLIENT_ID": CLIENT_ID,
            **watcher_env(),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{REVIEWER}:admin",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
        }
        if CELERY:
            self.env |= celery_env(self.redis_port)
        self.env |= database.env

    def cli(self, *args: str) -> str:
        result = subprocess.run([self.airflow, *args], env=self.env, capture_output=True, text=True, timeout=120)
        if result.returncode != 0:
            raise LiveFailed(f"airflow {' '.join(args)} failed: {result.stderr[-1500:]}")
        return result.stdout

    def start(self) -> None:
        dags = self.home.parent / "dags"
        shutil.copytree(REPO / "example_dags", dags, ignore=shutil.ignore_patterns("__pycache__"))
        for test_dag in ("plusofon_authoring_styles.py", "plusofon_token_rotation.py"):
            shutil.copy(REPO / "tests" / "dags" / test_dag, dags)
        with STOPWATCH.timed("db migrate"):
            self.cli("db", "migrate")
        if UI:  # a connection saved as a person saves it, for the browser to open its form
            self.cli("connections", "add", "plusofon_ui", "--conn-type", "plusofon", "--conn-login", CLIENT_ID,
                     "--conn-password", TOKEN, "--conn-host", "https://restapi.plusofon.ru")  # fmt: skip
        # The example DAGs' writers share the account's pool of one slot, as the docs set it up (docs/run-examples.md).
        self.cli("pools", "set", "plusofon_default", "1", "Plusofon writers of plusofon_default: one at a time")
        logs = self.home / "services"
        logs.mkdir()
        services = dict(SERVICES)
        if CELERY:
            self.processes["redis"] = start_redis(self.redis_port, logs)
            services |= worker_services()
        for name, args in services.items():
            command = [self.airflow, *(a.format(api_port=self.api_port) for a in args)]
            with (logs / f"{name}.log").open("wb") as out:
                self.processes[name] = subprocess.Popen(
                    command, env=self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
                )

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 30
        for process in self.processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()

    def query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        return self.database.query(sql, *params)

    def wait_for(self, what: str, condition: Callable[[], Any]) -> Any:
        deadline = time.monotonic() + STEP_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            for name, process in self.processes.items():
                if process.poll() is not None:
                    raise LiveFailed(f"the {name} stopped (exit {process.returncode}) while waiting for {what}")
            try:
                found = condition()
            except self.database.transient:
                found = None  # a table not there yet, or a writer holding the lock
            if found:
                return found
            time.sleep(1)
        raise LiveFailed(f"timed out after {STEP_TIMEOUT_SECONDS}s waiting for {what}")

    def _latest_run(self, dag_id: str) -> tuple[Any, ...] | None:
        rows = self.query("SELECT run_id, state FROM dag_run WHERE dag_id = ? ORDER BY id DESC LIMIT 1", dag_id)
        return rows[0] if rows else None

    def run_state(self, dag_id: str) -> str | None:
        run = self._latest_run(dag_id)
        return run[1] if run else None

    def latest_run_id(self, dag_id: str) -> str:
        run = self._latest_run(dag_id)
        if run is None:
            raise LiveFailed(f"{dag_id} has no run")
        return str(run[0])

    def task_state(self, dag_id: str, task_id: str) -> str | None:
        rows = self.query(
            "SELECT state FROM task_instance WHERE dag_id = ? AND task_id = ? ORDER BY start_date DESC LIMIT 1",
            dag_id,
            task_id,
        )
        return rows[0][0] if rows else None

    def rest(self) -> requests.Session:
        """A session on the public REST API, logged in as the reviewer."""
        login = requests.post(
            f"{self.api_url}/auth/token", json={"username": REVIEWER, "password": self.reviewer_password}, timeout=30
        )
        check(login.status_code == 201, f"the reviewer could not log in: {login.status_code} {login.text[:200]}")
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
        return session

    @cached_property
    def airflow_version(self) -> tuple[int, ...]:
        return tuple(int(part) for part in self.cli("version").strip().splitlines()[-1].split(".")[:2])

    def finished(self, dag_id: str) -> str | None:
        state = self.run_state(dag_id)
        return state if state in ("success", "failed") else None


def files_of(deployment: Deployment) -> list[Path]:
    """The Airflow home's files and the database's own (a PostgreSQL cluster's data and log)."""
    folders = (deployment.home, *deployment.database.folders)
    return [path for folder in folders for path in folder.rglob("*") if path.is_file()]


def secrets_audit(deployment: Deployment) -> list[str]:
    """Every place under the Airflow home (log files; the metadata database, table by table) that
    shows a secret."""
    found = []
    secrets = (*SECRETS, *ROTATION_SECRETS)
    with STOPWATCH.timed("secrets search"):
        for path in files_of(deployment):
            try:
                text = path.read_text("utf-8", "replace")
            except FileNotFoundError:  # gone since listed: a WAL folded into its database by a last exit
                continue
            # The database's raw pages too (a WAL keeps rows that were deleted since, e.g. triggers).
            where = path.relative_to(deployment.home.parent)
            found += [f"{where}: {line[:200]}" for line in lines_showing(text, *secrets)]
        found += deployment.database.rows_showing(secrets)
    return found


STYLES = "plusofon_authoring_styles"


def live(workdir: Path, database: Database) -> None:
    started = time.monotonic()
    emulator = EmulatorProcess(client_id=CLIENT_ID, token=TOKEN, options=["--accounts", str(ACCOUNTS + 1)])
    deployment = Deployment(workdir / "airflow", emulator, database)
    deployment.env |= fleet_env(emulator, CLIENT_ID)
    seed_the_fleet(emulator, CLIENT_ID)
    deployment.home.mkdir()
    try:
        say(f"1. Emulator on {emulator.base_url}; Airflow home {deployment.home}")
        deployment.start()
        prepare_rotation(deployment, emulator)
        started_services = ", ".join(name for name in deployment.processes if name != "api-server")
        say(f"2. api-server (127.0.0.1:{deployment.api_port}), {started_services} started")
        dag_ids = ("plusofon_bootstrap_webhooks", "plusofon_call_pipeline", "plusofon_webhook_audit")
        deployment.wait_for(
            "the example DAGs to be parsed",
            lambda: len(deployment.query("SELECT dag_id FROM serialized_dag WHERE dag_id LIKE 'plusofon_%'")) == 7,
        )

        say("3. The call pipeline, with no webhooks on the account: its sensor must defer")
        deployment.cli("dags", "unpause", "plusofon_call_pipeline")
        deployment.wait_for(
            "wait_for_webhooks to be deferred",
            lambda: deployment.task_state("plusofon_call_pipeline", "wait_for_webhooks") == "deferred",
        )
        triggers = deployment.wait_for(
            "the triggerer to take the trigger",
            lambda: deployment.query(
                "SELECT classpath, triggerer_id FROM trigger WHERE triggerer_id IS NOT NULL"
                " AND classpath LIKE '%PlusofonWebhookTrigger'"
            ),
        )
        running = deployment.query("SELECT count(*) FROM task_instance WHERE state = 'running'")[0][0]
        check(running == 0, f"{running} task(s) hold a worker slot while the sensor waits")
        say(f"   deferred; trigger {triggers[0][0].rsplit('.', 1)[1]} runs in triggerer job {triggers[0][1]}")
        say("   no task holds a worker slot")
        check(emulator.webhooks() == [], "something wrote to the account before the bootstrap")

        say("4. Bootstrap: ensure the staging webhooks, verify them")
        deployment.cli("dags", "unpause", "plusofon_bootstrap_webhooks")
        deployment.cli("dags", "trigger", "plusofon_bootstrap_webhooks")
        state = deployment.wait_for("the bootstrap run to finish", lambda: deployment.finished(dag_ids[0]))
        check(state == "success", f"the bootstrap run ended {state}")
        pools = deployment.query("SELECT pool FROM task_instance WHERE task_id = 'ensure_webhooks'")
        check(pools == [("plusofon_default",)], f"the bootstrap's writer ran in pool(s) {pools}, not the account's")
        say(f"   {state}; the account has {len(emulator.webhooks())} webhooks; the writer ran in the account's pool")

        say("5. The waiting pipeline must now complete (the trigger saw the webhooks)")
        state = deployment.wait_for("the pipeline run to finish", lambda: deployment.finished(dag_ids[1]))
        check(state == "success", f"the pipeline run ended {state}")
        say(f"   {state}")

        say("6. The audit: a dry-run plan that must find nothing to change")
        deployment.cli("dags", "unpause", "plusofon_call_backfill")
        deployment.cli("dags", "unpause", "plusofon_webhook_audit")  # its drift watcher starts too
        deployment.cli("dags", "trigger", AUDIT)
        state = deployment.wait_for("the audit run to finish", lambda: deployment.finished(dag_ids[2]))
        check(state == "success", f"the audit run ended {state} (drift found, or it failed)")
        writes = [r for r in emulator.requests() if r["method"] != "GET"]
        check(len(writes) == 3, f"expected the bootstrap's 3 creates and nothing else, got {len(writes)} writes")
        say(f"   {state}; writes to the account in the whole run: {len(writes)} (the bootstrap's creates)")

        say("7. A webhook changed by hand: drift event -> audit run -> approved repair -> backfill run")
        drift_to_backfill(deployment, emulator, CLIENT_ID, TOKEN)

        say("8. Specs handed over every way a DAG author writes them (plain, mapped, expand_kwargs, XCom, params)")
        deployment.cli("dags", "unpause", STYLES)
        deployment.cli("dags", "trigger", STYLES)
        state = deployment.wait_for("the authoring styles run to finish", lambda: deployment.finished(STYLES))
        check(state == "success", f"the authoring styles run ended {state}")
        mapped = deployment.query("SELECT count(*) FROM task_instance WHERE dag_id = ? AND map_index >= 0", STYLES)
        check(mapped[0][0] >= 3, f"expected the mapped tasks to run, {mapped[0][0]} mapped instances")
        say(f"   {state}; {mapped[0][0]} mapped task instances; their rendered fields are searched below")

        say(f"9. The fleet: {ACCOUNTS} accounts audited by one mapped DAG, then the approved plans repaired")
        run_the_fleet(deployment, emulator, CLIENT_ID, check, say)
        the_plusofon_page(deployment, CLIENT_ID)  # issue 35: closed without credentials, and what it shows

        say("10. A token rotated while a deferred sensor waits: it re-seals in the triggerer and succeeds")
        rotate_under_a_waiting_sensor(deployment, emulator)
        if CELERY:
            ran = check_both_workers_worked(deployment.home / "services", check)
            say(f"   task workloads each Celery worker ran: {ran}; results: {results_kept(deployment, check)}")
    finally:
        deployment.stop()
        emulator.stop()
    say("11. Everything stopped; looking for the tokens and the header secret in every file of the home")
    leaks = secrets_audit(deployment)
    check(not leaks, "a secret was found:\n  " + "\n  ".join(leaks))
    say(f"   none in {len(files_of(deployment))} files (task, trigger and service logs, the metadata database's)")
    say(f"   nor in the metadata database: {database.searched}")
    say(STOPWATCH.summary())
    executor = "CeleryExecutor" if CELERY else "LocalExecutor"
    say(f"\nLive run passed in {time.monotonic() - started:.0f}s ({executor}, {database.name}).")


def main() -> int:
    # A run stopped with SIGTERM (CI's timeout) stops what it started, as on Ctrl-C.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    ensure_database()
    if CELERY:
        ensure_celery()
    if UI:
        from ui import ensure_browser

        ensure_browser()
    with tempfile.TemporaryDirectory(prefix="plusofon-live-") as workdir:
        deployment_home = Path(workdir)
        try:
            with metadata_database(deployment_home, celery=CELERY) as database:
                live(deployment_home, database)
        except LiveFailed as failure:
            say(f"\nLIVE RUN FAILED: {failure}")
            logs = [*deployment_home.glob("airflow/services/*.log"), *deployment_home.glob("postgres/*.log")]
            for path in sorted(logs):
                say(f"--- {path.name} (last lines)")
                say("\n".join(path.read_text(errors="replace").splitlines()[-20:]))
            return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
