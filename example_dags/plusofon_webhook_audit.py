"""
### Audit the Plusofon webhooks when they drift (and daily); repair only the plan a person approved

The DAG runs when the account's drift asset (`plusofon://<client_id>/webhooks/drift`) gets an
event, and daily at 06:00 UTC as a safety net. Its watcher, a `PlusofonWebhookDriftTrigger` in the
triggerer, reads the account every minute and emits one event per drift episode (a webhook
deleted or edited in Plusofon's UI), so the repair is asked for within a minute, not a day.

1. `plan_webhooks` compares the account with `webhooks/<environment>.yaml` and writes nothing (a
   dry run: the plan is the audit). Its log and XCom hold the plan and its `plan_id`.
2. When the plan would write something, `approve_repair` asks for approval under **Required
   actions**, showing the plan. Nobody answering within 20 hours counts as a rejection.
3. On approval, `repair_webhooks` applies the plan with `approved_plan_id`: it plans afresh and
   writes only if the plan is still the one that was approved. If the account changed in between,
   it fails with `StalePlanError` and writes nothing; tomorrow's audit asks again.
   A repair that wrote something emits an event on the changes asset
   (`plusofon://<client_id>/webhooks/changes`) with the lost-call window, which starts the
   `plusofon_call_backfill` DAG. The changes asset is apart from the drift asset, so a repair never
   starts another audit.
4. `report_drift` fails the run, and `alert_on_drift` is called, when drift was found and not
   repaired (rejected, unanswered, or only duplicates to look at). A failed repair alerts too.
   Replace `alert_on_drift` with your Slack/e-mail/PagerDuty notifier.

The repair takes the pool `plusofon_default` (one slot), shared with the bootstrap's writer, so
two writers of the account never race (see the bootstrap DAG for creating it).

Airflow 3.0 has no approval tasks. There the approval is a run triggered with the param
`approved_plan_id` set to the `plan_id` the failed audit printed. The repair then applies that
plan only if it is still the current one.
"""

from __future__ import annotations

import datetime
import logging
import os
from pathlib import Path
from typing import Any

import pendulum
from airflow.providers.common.compat.sdk import AirflowFailException, AirflowOptionalProviderFeatureException
from airflow.sdk import DAG, Asset, AssetAlias, AssetWatcher, Param, task

from airflow_provider_plusofon.assets.uris import asset_uri
from airflow_provider_plusofon.compat import AssetOrTimeSchedule, CronTriggerTimetable
from airflow_provider_plusofon.operators.webhooks import EnsureWebhooksOperator
from airflow_provider_plusofon.triggers.drift import PlusofonWebhookDriftTrigger
from airflow_provider_plusofon.webhooks.render import approval_markdown
from airflow_provider_plusofon.webhooks.spec_files import load_spec_source

try:
    from airflow.providers.standard.operators.hitl import ApprovalOperator
except (ImportError, AirflowOptionalProviderFeatureException):  # Airflow 3.0: no human-in-the-loop tasks
    ApprovalOperator = None
else:

    class RecordedApprovalOperator(ApprovalOperator):
        """An ApprovalOperator that keeps the answer in XCom (key ``answer``) whatever it is:
        a rejection skips the downstream tasks and ends the task before its result is pushed."""

        def execute_complete(self, context: Any, event: dict[str, Any]) -> Any:
            answer = {k: event.get(k) for k in ("chosen_options", "responded_by_user", "timedout")}
            context["ti"].xcom_push(key="answer", value=answer)
            return super().execute_complete(context, event)


SPEC_FILE = "webhooks/{{ params.environment }}.yaml"
PARAMS = {"environment": "staging", "receiver_base_url": "https://crm.example.com"}  # the defaults
# The account's Client ID names its assets (the connection's login); the watcher polls every minute.
CLIENT_ID = os.environ.get("PLUSOFON_CLIENT_ID", "10553")
DRIFT_POLL_SECONDS = float(os.environ.get("PLUSOFON_DRIFT_POLL_SECONDS", "60"))
# The watcher checks the default environment's specs; its secrets stay templates, rendered in the
# triggerer (the file is read when the DAG is parsed: it is a local file, no network).
WATCHED = load_spec_source(Path(__file__).parent / f"webhooks/{PARAMS['environment']}.yaml")
DRIFT = Asset(
    asset_uri(CLIENT_ID, "drift"),
    watchers=[
        AssetWatcher(
            name="plusofon_webhook_drift",
            trigger=PlusofonWebhookDriftTrigger(webhooks=WATCHED, params=PARAMS, poll_interval=DRIFT_POLL_SECONDS),
        )
    ],
)
# Repairs emit on the changes asset through an alias: only a run that wrote something emits.
CHANGES = AssetAlias("plusofon_webhook_changes")
# The account's writers share one pool of one slot (create it: `airflow pools set plusofon_default 1 ...`).
WRITERS_POOL = "plusofon_default"
PLANNED_ID = "{{ ti.xcom_pull(task_ids='plan_webhooks')['plan_id'] }}"
APPROVAL_HOURS = 20  # answered (or rejected) before the next daily run
APPROVAL_BODY = """\
**Why now:** {{ dag_run.run_type | plusofon_started_by }}.

The audit of **{{ params.environment }}** found webhooks that differ from
`webhooks/{{ params.environment }}.yaml`.

{{ ti.xcom_pull(task_ids='plan_webhooks') | plusofon_approval }}
If the account changes before the repair runs, the repair writes nothing and fails, and
tomorrow's audit asks again. **Reject** to leave the account as it is: the run then fails and
raises the drift alert.
"""
log = logging.getLogger(__name__)


def started_by(run_type: Any) -> str:
    """What started this run, for the person asked to approve its repair (``dag_run.run_type``: an
    enum in a task, whose ``str()`` is not its value on every release)."""
    kind = str(getattr(run_type, "value", run_type))
    return {
        "asset_triggered": "the drift watcher reported that the account drifted",
        "scheduled": "the daily audit (06:00 UTC)",
        "manual": "someone started this audit by hand",
    }.get(kind, f"a {kind} run of this audit")


def has_drift(summary: dict[str, Any]) -> bool:
    """Whether a plan summary has anything to change or any duplicate to look at."""
    return has_writes(summary) or bool(summary.get("duplicates"))


def has_writes(summary: dict[str, Any]) -> bool:
    """Whether applying the plan would write anything."""
    return any(summary.get(kind) for kind in ("created", "updated", "deleted"))


def alert_on_drift(context: Any) -> None:
    """Called when drift is found and not repaired. Replace with a real notifier."""
    log.error("ALERT: Plusofon webhooks drifted (run %s): %s", context["run_id"], context.get("exception"))


def why_not_repaired(summary: dict[str, Any], answer: dict[str, Any] | None) -> str:
    """What stopped the repair, from the plan and the approval task's answer."""
    if not has_writes(summary):
        return "there is nothing to write, only duplicates to look at (see plan_webhooks' log)"
    if ApprovalOperator is None:
        return (
            "on Airflow 3.0 a repair is approved by triggering this DAG with "
            f'{{"approved_plan_id": "{summary["plan_id"]}"}}; see plan_webhooks\' log for the plan'
        )
    if answer is None:
        return "approve_repair recorded no answer (see its log)"
    responder = answer.get("responded_by_user")
    if answer.get("timedout") or responder is None:
        return f"nobody answered approve_repair within {APPROVAL_HOURS} hours"
    return f"{responder.get('name') or responder.get('id')} rejected the repair of plan {summary['plan_id']}"


with DAG(
    dag_id="plusofon_webhook_audit",
    description="Dry-run plan of the Plusofon webhooks on drift (and daily); repairs what a person approves.",
    doc_md=__doc__,
    schedule=AssetOrTimeSchedule(timetable=CronTriggerTimetable("0 6 * * *", timezone="UTC"), assets=[DRIFT]),
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["plusofon", "webhooks", "audit"],
    # The approval shows the plan one change per line, headed as what Approve will write.
    user_defined_filters={"plusofon_approval": approval_markdown, "plusofon_started_by": started_by},
    default_args={"retries": 1, "retry_delay": pendulum.duration(minutes=5)},
    params={
        "environment": Param(PARAMS["environment"], enum=["staging", "production"]),
        "receiver_base_url": Param(PARAMS["receiver_base_url"], type="string"),
        **(
            {}
            if ApprovalOperator is not None
            else {"approved_plan_id": Param("", type="string", description="apply this plan (its plan_id)")}
        ),
    },
) as dag:
    plan_webhooks = EnsureWebhooksOperator(task_id="plan_webhooks", webhooks=SPEC_FILE, dry_run=True)

    @task.short_circuit(ignore_downstream_trigger_rules=False)
    def needs_repair(summary: dict[str, Any]) -> bool:
        """Ask for approval only when the plan would write something."""
        return has_writes(summary)

    if ApprovalOperator is not None:
        approve_repair = RecordedApprovalOperator(
            task_id="approve_repair",
            subject="Plusofon webhooks drifted in {{ params.environment }}: apply the repair?",
            body=APPROVAL_BODY,
            defaults="Reject",
            # a datetime.timedelta: Airflow 3.3 sends it to the API server, which cannot take pendulum's
            response_timeout=datetime.timedelta(hours=APPROVAL_HOURS),
            retries=0,
        )
        approved_plan_id = PLANNED_ID  # the plan the approver was shown
    else:

        @task.short_circuit(task_id="approve_repair", ignore_downstream_trigger_rules=False)
        def approved_in_run_conf(params: dict[str, Any] | None = None) -> bool:
            """Airflow 3.0: the run's approved_plan_id param is the approval."""
            return bool((params or {}).get("approved_plan_id"))

        approve_repair = approved_in_run_conf()
        approved_plan_id = "{{ params.approved_plan_id }}"

    repair_webhooks = EnsureWebhooksOperator(
        task_id="repair_webhooks",
        webhooks=SPEC_FILE,
        approved_plan_id=approved_plan_id,
        pool=WRITERS_POOL,  # shared with the bootstrap: one writer of the account at a time
        outlets=[CHANGES],  # an event with the lost-call window, only when it wrote something
        retries=0,  # a stale plan stays stale
        on_failure_callback=alert_on_drift,
    )

    # Not downstream of approve_repair itself: a rejection skips that task's direct downstream.
    @task(trigger_rule="none_failed", retries=0, on_failure_callback=alert_on_drift, multiple_outputs=False)
    def report_drift(summary: dict[str, Any], repaired: dict[str, Any] | None = None, ti: Any = None) -> dict[str, Any]:
        """Fail (and alert) when the plan found drift that was not repaired."""
        if not has_drift(summary) or repaired is not None:
            return repaired or summary
        answer = ti.xcom_pull(task_ids="approve_repair", key="answer") if ti is not None else None
        counts = ", ".join(f"{len(summary[k])} {k}" for k in ("created", "updated", "deleted"))
        raise AirflowFailException(
            f"Plusofon webhooks drifted (would be {counts}; duplicates: {summary.get('duplicates') or 'none'}) "
            f"and were not repaired: {why_not_repaired(summary, answer)}."
        )

    needs_repair(plan_webhooks.output) >> approve_repair >> repair_webhooks
    report_drift(plan_webhooks.output, repair_webhooks.output)
