"""`make demo`: the three jobs of the example DAGs, for real, against the bundled emulator.

No Plusofon account needed: the emulator runs on a free loopback port, Airflow uses a throwaway
home with SQLite, and each DAG runs with ``dag.test()``. The DAGs' own (long) logs go to a file;
this prints a short narrative, checks every step did what it should, and exits 0 when it did.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import requests
from approvals import Approver, hitl_available

from airflow_provider_plusofon.emulator.process import EmulatorProcess

REPO = Path(__file__).resolve().parent.parent
EXAMPLE_DAGS = REPO / "example_dags"
CLIENT_ID, TOKEN = "10553", "demo-token-not-secret"
RECEIVER = "https://crm.example.com"
HEADER_SECRET = "demo-header-secret-3141"

# What the account holds before we start: someone else's webhook (never touched, since we do not
# prune) and one of ours, set up by hand with the wrong naming style.
SEED = [
    {"url": "https://legacy-reports.example.net/hook", "event": "destroy", "type_call": "outbound"},
    {
        "url": f"{RECEIVER}/plusofon/calls",
        "event": "create",
        "type_call": "inbound",
        "type_style": "short",
        "headers": [{"name": "X-Webhook-Secret", "value": HEADER_SECRET}],
    },
]


def say(text: str = "") -> None:
    print(text, flush=True)


def check(condition: bool, what: str) -> None:
    if not condition:
        say(f"\nDEMO FAILED: {what}")
        raise SystemExit(1)


@contextlib.contextmanager
def quiet_into(log_path: Path) -> Iterator[None]:
    """Send everything written to stdout/stderr (Airflow's task logs) to a file for a while."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with open(log_path, "a") as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        try:
            yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])


AIRFLOW_3_0_MASK_LEAK = (
    "Airflow 3.0 only: Task SDK 1.0's in-process supervisor (dag.test()) logs every value it is asked "
    "to mask, as MaskSecret(value=[...]) at debug level; Airflow's own Variables leak the same way. "
    "Fixed in Airflow 3.1."
)


def lines_showing(text: str, *secrets: str) -> list[str]:
    """The lines of ``text`` in which any of the secrets appears."""
    return [line for line in text.splitlines() if any(secret in line for secret in secrets)]


def only_airflow_3_0_mask_leak(lines: list[str]) -> bool:
    """Whether these leaking lines are all Airflow 3.0's own MaskSecret debug lines, on 3.0."""
    from airflow import __version__ as airflow_version

    return bool(lines) and airflow_version.startswith("3.0.") and all("MaskSecret(" in line for line in lines)


def dag_bag(folder: str) -> Any:
    """A DagBag of this folder (the class moved to airflow.dag_processing in Airflow 3.2)."""
    try:
        from airflow.dag_processing.dagbag import DagBag
    except ImportError:  # Airflow 3.0 and 3.1
        from airflow.models.dagbag import DagBag  # type: ignore[no-redef]
    return DagBag(folder)


def xcom(dag_run: Any, task_id: str) -> Any:
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        row = (
            session.query(XComModel)
            .filter_by(dag_id=dag_run.dag_id, run_id=dag_run.run_id, task_id=task_id, key="return_value")
            .one_or_none()
        )
        return row.value if row is not None else None


def describe(summary: dict[str, Any]) -> list[str]:
    lines = []
    for kind, symbol in (("created", "+"), ("updated", "~"), ("deleted", "-")):
        for item in summary.get(kind, []):
            webhook_id = f"#{item['id']} " if item.get("id") else ""
            changes = f"  ({', '.join(item['changes'])})" if item.get("changes") else ""
            lines.append(f"      {symbol} {kind:<7} {webhook_id}{item['url']} {item['event']}{changes}")
    lines.append(f"      = unchanged {len(summary.get('unchanged', []))}")
    return lines


def main() -> int:
    started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="plusofon-demo-"))
    finished = False
    log_path = workdir / "airflow-task-logs.txt"
    say("Plusofon provider demo: the example DAGs against a local emulator (no account needed)\n")

    seed = workdir / "seed.json"
    seed.write_text(json.dumps(SEED))
    emulator = EmulatorProcess(client_id=CLIENT_ID, token=TOKEN, options=["--seed", str(seed)])
    api = requests.Session()
    api.headers.update({"Client": CLIENT_ID, "Authorization": f"Bearer {TOKEN}", "Accept": "application/json"})
    say(f"1. {emulator.banner}")
    say(f"   it holds {len(SEED)} webhooks: someone else's, and one of ours set up by hand with type_style=short")

    os.environ.update(
        {
            "AIRFLOW_HOME": str(workdir / "airflow"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_FOLDER": str(EXAMPLE_DAGS),
            "AIRFLOW_CONN_PLUSOFON_DEFAULT": emulator.connection_env(),
            "AIRFLOW_VAR_PLUSOFON_CRM_WEBHOOK_SECRET": HEADER_SECRET,
            "PLUSOFON_EXAMPLE_POKE_INTERVAL": "1",
        }
    )
    try:
        airflow = Path(sys.executable).with_name("airflow")
        subprocess.run([str(airflow), "db", "migrate"], check=True, capture_output=True)
        say(f"2. Airflow home with SQLite in {workdir / 'airflow'} (task logs: {log_path})\n")

        def run(dag_id: str, approver: Approver | None = None, **conf: Any) -> tuple[Any, list[str]]:
            mark = len(emulator.requests())
            with quiet_into(log_path), approver or contextlib.nullcontext():
                bag = dag_bag(str(EXAMPLE_DAGS))  # fresh: dag.test(run_conf=...) sticks to the DAG object
                dag_run = bag.dags[dag_id].test(run_conf=conf or None) if not bag.import_errors else None
            check(dag_run is not None, f"example DAGs failed to import: {bag.import_errors}")
            writes = [f"{r['method']} {r['path']}" for r in emulator.requests()[mark:] if r["method"] != "GET"]
            return dag_run, writes

        def cli(*args: str) -> subprocess.CompletedProcess[str]:
            command = [str(Path(sys.executable).with_name("plusofon-webhooks")), *args]
            return subprocess.run(command, capture_output=True, text=True, timeout=120)

        say("3. Adopting the account: export what it holds as a spec file (plusofon-webhooks export)")
        exported = workdir / "exported.yaml"
        done = cli("export", "--conn-id", "plusofon_default", "--output", str(exported))
        check(done.returncode == 0, f"export failed: {done.stderr.strip()[-300:]}")
        variables = [line.strip() for line in done.stderr.splitlines() if line.startswith("  ")]
        yaml_text = exported.read_text()
        say(f"   {len(SEED)} webhooks written to exported.yaml; header values became placeholders:")
        say("\n".join(f"      {line.strip()}" for line in yaml_text.splitlines() if "var.value" in line))
        check(HEADER_SECRET not in yaml_text and len(variables) == 1, "export wrote a secret, or no Variable")
        os.environ[f"AIRFLOW_VAR_{variables[0].upper()}"] = HEADER_SECRET
        done = cli("plan", "--conn-id", "plusofon_default", str(exported))
        say(f"   with the Variable {variables[0]} set, plusofon-webhooks plan of that file: exit {done.returncode}")
        say("\n".join(f"      {line.strip()}" for line in done.stdout.splitlines()[1:]))
        check(done.returncode == 0, f"the exported file does not plan to nothing: {done.stdout}{done.stderr}")

        say("\n4. Bootstrap (plusofon_bootstrap_webhooks): ensure webhooks/staging.yaml, then verify")
        first, writes = run("plusofon_bootstrap_webhooks")
        summary = xcom(first, "ensure_webhooks")
        say(f"   run {first.state}; writes sent: {', '.join(writes) or 'none'}")
        say("\n".join(describe(summary)))
        check(first.state == "success", "the bootstrap run failed")
        check(
            len(summary["created"]) == 2 and len(summary["updated"]) == 1,
            "bootstrap did not create 2 and fix 1",
        )
        check(
            any(w["url"].startswith("https://legacy") for w in emulator.webhooks()),
            "an unmanaged webhook vanished",
        )

        say("\n5. Audit (plusofon_webhook_audit): a dry-run plan; asks for approval only when something drifted")
        clean, writes = run("plusofon_webhook_audit")
        say(f"   run {clean.state}: no drift; writes sent: {', '.join(writes) or 'none'}")
        check(clean.state == "success" and not writes, "the audit of a clean account did not pass quietly")

        target = next(w for w in emulator.webhooks() if w["event"] == "destroy" and w["url"].startswith(RECEIVER))
        changed = {k: v for k, v in target.items() if k not in ("id", "type")}
        changed["fields"] = [{"before": "call_id", "after": "id"}]
        answer = api.put(f"{emulator.base_url}/api/v1/webhooks/{target['id']}", json=changed, timeout=5)
        check(answer.ok, "the out-of-band change was refused")
        say(f"\n6. Out of band, someone edits webhook #{target['id']} in the Plusofon account (renames call_id)")

        expected = [f"PUT /api/v1/webhooks/{target['id']}"]
        if hitl_available():
            say("\n7. Audit again: it finds the drift and asks under Required actions; ops-reviewer approves")
            approver = Approver("plusofon_webhook_audit", "approve_repair", "Approve", user="ops-reviewer")
            audit, writes = run("plusofon_webhook_audit", approver)
            say(f"   asked: {approver.subject}")
            shown_plan = [line[4:] for line in (approver.body or "").splitlines() if line.startswith("    ")]
            say("\n".join(f"      {line}" for line in shown_plan))
        else:
            say("\n7. Audit again: it finds the drift and fails; Airflow 3.0 has no approval tasks, so the")
            say("   reviewer approves the plan by triggering the audit with its plan_id")
            found, writes = run("plusofon_webhook_audit")
            plan_id = xcom(found, "plan_webhooks")["plan_id"]
            check(found.state == "failed" and not writes, "the audit did not flag the drift, or wrote something")
            say(f"   audit run {found.state}: drift found, alert raised, nothing written; plan {plan_id}")
            audit, writes = run("plusofon_webhook_audit", approved_plan_id=plan_id)
        planned, repaired = xcom(audit, "plan_webhooks"), xcom(audit, "repair_webhooks")
        applied = repaired and repaired["plan_id"]
        say(f"   run {audit.state}; applied plan {applied}; writes sent: {', '.join(writes) or 'none'}")
        check(
            audit.state == "success" and writes == expected and repaired["plan_id"] == planned["plan_id"],
            "the approved repair was not exactly the reviewed plan's one PUT",
        )

        say("\n8. Bootstrap again: nothing to change")
        third, writes = run("plusofon_bootstrap_webhooks")
        say(f"   run {third.state}; writes sent: {', '.join(writes) or 'none'}")
        check(third.state == "success" and not writes, "the bootstrap after the repair wrote something")

        say("\n9. The call pipeline (plusofon_call_pipeline): deferrable sensor, then the load")
        pipeline, _ = run("plusofon_call_pipeline")
        loaded = xcom(pipeline, "load_call_records")
        say(f"   run {pipeline.state}; loaded behind webhooks {loaded and loaded['webhook_ids']}")
        check(pipeline.state == "success", "the pipeline did not run")

        leaks = lines_showing(log_path.read_text(), HEADER_SECRET, TOKEN)
        if only_airflow_3_0_mask_leak(leaks):
            say(f"\n   Nothing of ours showed a secret; {len(leaks)} log lines did: {AIRFLOW_3_0_MASK_LEAK}")
        else:
            check(not leaks, "a secret reached the task logs")
            say("\n   The API token and the header secret appear nowhere in the task logs.")
        finished = True
    finally:
        emulator.stop()
        # Nothing left behind after a run that passed (PLUSOFON_DEMO_KEEP=1 keeps it); a failed
        # run keeps its Airflow home and logs for a look.
        if finished and not os.environ.get("PLUSOFON_DEMO_KEEP"):
            shutil.rmtree(workdir, ignore_errors=True)
            where = "its Airflow home and logs removed (PLUSOFON_DEMO_KEEP=1 keeps them)"
        else:
            where = f"its Airflow home and logs kept in {workdir}"
        say(f"\nDemo finished in {time.monotonic() - started:.0f}s. Emulator stopped; {where}.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
