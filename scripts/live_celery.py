"""`make live EXECUTOR=celery`: the same live run on CeleryExecutor (issue 22).

What it needs, installed on first use by this script (never by hand): Debian's ``redis-server``
(the broker and the result backend, on a loopback port of its own, in the foreground so that it
stops with the run) and the Celery provider from PyPI, at the Airflow release already installed.
Two Celery workers of two task slots each take the tasks; the scheduler, the triggerer, the DAG
processor and the api-server run as separate processes, as with LocalExecutor.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from live_approval import say

WORKERS = 2
WORKER_SLOTS = 2


def ensure_celery() -> None:
    """redis-server (Debian) and the Celery provider (PyPI), when they are not there yet."""
    if shutil.which("redis-server") is None:
        say("   installing redis-server (Debian) ...")
        subprocess.run(["apt-get", "update", "-qq"], check=True, capture_output=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", "redis-server"], check=True, capture_output=True)
    try:
        # What a worker imports: it fails when the provider or a Celery it cannot use is installed.
        import airflow.providers.celery.executors.celery_executor_utils  # noqa: F401
    except ImportError:
        from importlib.metadata import version

        say("   installing apache-airflow-providers-celery ...")
        # The Airflow release already installed; Celery 5.7 removed what the provider (3.26) imports.
        pins = [f"apache-airflow-core=={version('apache-airflow-core')}", "celery[redis]>=5.5,<5.7"]
        command = [sys.executable, "-m", "pip", "install", "-q", "apache-airflow-providers-celery", *pins]
        subprocess.run(command, check=True, capture_output=True)


def start_redis(port: int, logs: Path) -> subprocess.Popen[bytes]:
    """A throwaway Redis on 127.0.0.1:port: nothing saved to disk."""
    command = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    with (logs / "redis.log").open("wb") as out:
        return subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def celery_env(port: int) -> dict[str, str]:
    return {
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
        "AIRFLOW__CELERY__BROKER_URL": f"redis://127.0.0.1:{port}/0",
        "AIRFLOW__CELERY__RESULT_BACKEND": f"redis://127.0.0.1:{port}/1",
        "AIRFLOW__CELERY__WORKER_CONCURRENCY": str(WORKER_SLOTS),
    }


def worker_services() -> dict[str, list[str]]:
    """Two Celery workers, each with its own name, as two hosts would run them."""
    return {
        f"celery-worker-{n}": [
            "celery",
            "worker",
            "--concurrency",
            str(WORKER_SLOTS),
            "-H",
            f"worker{n}@%h",
            "--skip-serve-logs",
        ]
        for n in range(1, WORKERS + 1)
    }


def tasks_run_by_each_worker(logs: Path) -> dict[str, int]:
    """How many task workloads each worker's log says it executed."""
    return {
        path.stem: path.read_text(errors="replace").count("Executing workload in Celery")
        for path in sorted(logs.glob("celery-worker-*.log"))
    }


def check_both_workers_worked(logs: Path, check: Any) -> str:
    counts = tasks_run_by_each_worker(logs)
    check(len(counts) == WORKERS and all(counts.values()), f"tasks run by each Celery worker: {counts}")
    return ", ".join(f"{name}: {count}" for name, count in counts.items())


def results_kept(deployment: Any, check: Any) -> str:
    """Where the workers' task results went: with PostgreSQL the metadata database (as Airflow's
    docker-compose and Helm chart keep them), one row a workload; with SQLite, Redis."""
    if not deployment.env["AIRFLOW__CELERY__RESULT_BACKEND"].startswith("db+"):
        return "in Redis"
    [(rows,)] = deployment.query("SELECT count(*) FROM celery_taskmeta")
    ran = sum(tasks_run_by_each_worker(deployment.home / "services").values())
    check(rows == ran, f"{rows} task results in the metadata database for {ran} task workloads")
    return f"{rows} in the metadata database (celery_taskmeta)"
