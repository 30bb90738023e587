"""make live, the audit's approval: through the REST API as a reviewer (Airflow 3.1+), in a real
browser with ``UI=1``, or by run conf (Airflow 3.0); and the checks every live step shares."""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from demo import HEADER_SECRET, RECEIVER, TOKEN, lines_showing

SECRETS = (TOKEN, HEADER_SECRET)
REVIEWER = "ops-reviewer"
AUDIT = "plusofon_webhook_audit"
UI = os.environ.get("UI") == "1"


class LiveFailed(Exception):
    """A check of the live run did not hold."""


class Stopwatch:
    """How long each part of the run took: each numbered step (from a line "N. ..." that say() prints
    to the next one) and, within them, what ``timed`` names (a cluster's start, the migration)."""

    def __init__(self) -> None:
        self.steps: dict[str, float] = {}
        self.parts: dict[str, float] = {}
        self._step: tuple[str, float] | None = None

    def heading(self, text: str) -> None:
        if match := re.match(r"(\d+)\. ", text):
            self._end_step()
            self._step = (match[1], time.monotonic())

    def _end_step(self) -> None:
        if self._step is not None:
            self.steps[self._step[0]] = time.monotonic() - self._step[1]
            self._step = None

    @contextmanager
    def timed(self, part: str) -> Iterator[None]:
        started = time.monotonic()
        if self._step is not None:
            part += f" (in step {self._step[0]})"
        try:
            yield
        finally:
            self.parts[part] = self.parts.get(part, 0.0) + time.monotonic() - started

    def summary(self) -> str:
        self._end_step()
        steps = ", ".join(f"{step}. {seconds:.0f}s" for step, seconds in self.steps.items())
        parts = ", ".join(f"{part} {seconds:.0f}s" for part, seconds in self.parts.items())
        return f"   time by step: {steps}" + (f"\n   timed parts: {parts}" if parts else "")


STOPWATCH = Stopwatch()


def say(text: str) -> None:
    print(text, flush=True)
    STOPWATCH.heading(text)


def check(condition: bool, failure: str) -> None:
    if not condition:
        raise LiveFailed(failure)


def approve_in_the_ui(deployment: Any, webhook_id: int) -> None:
    """Airflow 3.1+: approve_repair waits; the reviewer reads the plan and approves through the REST API."""
    deployment.wait_for(
        "approve_repair to wait for input",
        lambda: deployment.task_state(AUDIT, "approve_repair") in ("awaiting_input", "deferred"),
    )
    if deployment.airflow_version >= (3, 3):
        # Airflow 3.3.2 fails the task if the answer comes before the scheduler has handled the exit
        # of the worker that parked it (the executor's late "success" then meets a queued task).
        # A person is slower than that; a script must wait for it too (docs/troubleshooting.md).
        parked_exit = f"executor event with state success for task instance TaskInstanceKey(dag_id='{AUDIT}', "
        parked_exit += "task_id='approve_repair'"
        scheduler_log = deployment.home / "services" / "scheduler.log"
        deployment.wait_for("the scheduler to see the parked exit", lambda: parked_exit in scheduler_log.read_text())
    api = deployment.rest()
    run_id = deployment.latest_run_id(AUDIT)
    hitl = f"{deployment.api_url}/api/v2/dags/{AUDIT}/dagRuns/{run_id}/taskInstances/approve_repair/-1/hitlDetails"
    asked = api.get(hitl, timeout=30)
    check(asked.ok, f"GET hitlDetails answered {asked.status_code}: {asked.text[:300]}")
    shown = asked.json()
    check(f"~ update  #{webhook_id} " in shown["body"], f"the approval does not show the plan: {shown['body']}")
    say(f"   waiting for input; asked: {shown['subject']}")
    if UI:
        look_at_the_approval_in_a_browser(deployment, run_id, webhook_id)
    answered = api.patch(hitl, json={"chosen_options": ["Approve"], "params_input": {}}, timeout=30)
    check(answered.ok, f"the approval was refused: {answered.status_code} {answered.text[:300]}")
    check(answered.json()["responded_by"]["name"] == REVIEWER, "the answer is not the reviewer's")
    say(f"   {REVIEWER} approved through the REST API")


def look_at_the_approval_in_a_browser(deployment: Any, run_id: str, webhook_id: int) -> None:
    """`make live UI=1`: the reviewer's page in a real browser shows the plan one change per line,
    headed as what Approve writes, and no secret; and the connection form has our fields."""
    from ui import SHOTS, logged_in

    with logged_in(deployment.api_url, REVIEWER, deployment.reviewer_password) as browser:
        path = f"/dags/{AUDIT}/runs/{run_id}/tasks/approve_repair/required_actions"
        text = browser.open(path, wait_for_text="writes plan", name="approval")
        lines = [" ".join(line.split()) for line in text.splitlines()]
        check(
            "Approve writes plan plan-" in text, f"the approval page does not say what Approve writes:\n{text[:2000]}"
        )
        check(f"~ update #{webhook_id} {RECEIVER}/plusofon/calls event=create type_call=inbound" in lines,
              f"the plan's change is not a line of its own on the page:\n{text[:2000]}")  # fmt: skip
        check("type_style: 'short' -> 'long'" in lines, f"the changed field is not a line of its own:\n{text[:2000]}")
        check("dry run" not in text, "the approval page calls a request to write a dry run")
        check(not lines_showing(text, *SECRETS), "a secret shows on the approval page")
        form = browser.open("/connections", wait_for_text="plusofon_ui", name="connections")
        check(not lines_showing(form, *SECRETS), "a secret shows in the connections list")
        edit = browser.edit_connection("plusofon_ui", name="connection-form")
        labels = (
            "Client ID",
            "API token",
            "Base URL",
            "Timeout (seconds)",
            "Verify TLS",
            "Max retries",
            "Max list pages",
        )
        for label in (*labels, "Max answer size (bytes)"):
            check(label in edit, f"the connection form has no field {label!r}:\n{edit[:2000]}")
        check(not lines_showing(edit + browser.html(), *SECRETS), "a secret is in the connection form's page")
    say(f"   in a browser: the approval shows the plan a change a line; screenshots in {SHOTS}")


def approve_by_run_conf(deployment: Any, emulator: Any, mark: int) -> None:
    """Airflow 3.0 (no approval tasks): the audit fails on drift; a run with its plan_id applies it."""
    state = deployment.wait_for("the audit run to find the drift", lambda: deployment.finished(AUDIT))
    check(state == "failed", f"the audit of a drifted account ended {state}")
    check(all(r["method"] == "GET" for r in emulator.requests()[mark:]), "the unapproved audit wrote something")
    rows = deployment.query(
        "SELECT value FROM xcom WHERE dag_id = ? AND run_id = ? AND task_id = 'plan_webhooks' AND key = 'return_value'",
        AUDIT,
        deployment.latest_run_id(AUDIT),
    )
    plan_id = json.loads(rows[0][0])["plan_id"]
    say(f"   Airflow 3.0: the audit failed on the drift, wrote nothing; triggered again with plan {plan_id}")
    deployment.cli("dags", "trigger", AUDIT, "--conf", json.dumps({"approved_plan_id": plan_id}))
    deployment.wait_for("the approved run to start", lambda: deployment.run_state(AUDIT) != "failed")
