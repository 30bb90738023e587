"""
### Audit the Plusofon webhooks for drift, daily

`plan_webhooks` compares the account with `webhooks/<environment>.yaml` without writing
anything (a dry run: the plan is the audit). The readable plan is in its log and the summary in
its XCom. When anything drifted (missing, changed or duplicated webhooks), `report_drift` fails
and `alert_on_drift` is called: replace it with your Slack/e-mail/PagerDuty notifier.

`repair_webhooks` applies the plan only when the run's `repair` param is true; then the run
succeeds if the repair did.
"""

from __future__ import annotations

import logging
from typing import Any

import pendulum
from airflow.providers.common.compat.sdk import AirflowFailException
from airflow.sdk import DAG, Param, task

from airflow_provider_plusofon.operators.webhooks import EnsureWebhooksOperator

SPEC_FILE = "webhooks/{{ params.environment }}.yaml"
log = logging.getLogger(__name__)


def has_drift(summary: dict[str, Any]) -> bool:
    """Whether a plan summary has anything to change or any duplicate to look at."""
    return any(summary.get(kind) for kind in ("created", "updated", "deleted", "duplicates"))


def alert_on_drift(context: Any) -> None:
    """Called when drift is found and not repaired. Replace with a real notifier."""
    log.error("ALERT: Plusofon webhooks drifted (run %s): %s", context["run_id"], context.get("exception"))


with DAG(
    dag_id="plusofon_webhook_audit",
    description="Daily dry-run plan of the Plusofon webhooks; fails and alerts on drift.",
    doc_md=__doc__,
    schedule="@daily",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["plusofon", "webhooks", "audit"],
    default_args={"retries": 1, "retry_delay": pendulum.duration(minutes=5)},
    params={
        "environment": Param("staging", enum=["staging", "production"]),
        "receiver_base_url": Param("https://crm.example.com", type="string"),
        "repair": Param(False, type="boolean", description="apply the plan when drift is found"),
    },
) as dag:
    plan_webhooks = EnsureWebhooksOperator(task_id="plan_webhooks", webhooks=SPEC_FILE, dry_run=True)

    @task.short_circuit(ignore_downstream_trigger_rules=False)
    def repair_allowed(summary: dict[str, Any], params: dict[str, Any] | None = None) -> bool:
        """Go on to the repair only when there is drift and the run allows repairing it."""
        return has_drift(summary) and bool((params or {}).get("repair"))

    repair_webhooks = EnsureWebhooksOperator(task_id="repair_webhooks", webhooks=SPEC_FILE, retries=0)

    @task(trigger_rule="none_failed", retries=0, on_failure_callback=alert_on_drift)
    def report_drift(summary: dict[str, Any], repaired: dict[str, Any] | None = None) -> dict[str, Any]:
        """Fail (and alert) when the plan found drift that was not repaired."""
        if has_drift(summary) and repaired is None:
            counts = ", ".join(f"{len(summary[k])} {k}" for k in ("created", "updated", "deleted"))
            duplicates = summary.get("duplicates") or "none"
            raise AirflowFailException(
                f"Plusofon webhooks drifted: would be {counts}; duplicates: {duplicates}. "
                "See plan_webhooks' log for the plan; re-run with repair=true to apply it."
            )
        return summary

    repair_allowed(plan_webhooks.output) >> repair_webhooks
    report_drift(plan_webhooks.output, repair_webhooks.output)
