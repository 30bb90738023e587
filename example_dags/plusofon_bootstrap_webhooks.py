"""
### Bootstrap an environment's Plusofon webhooks

Run by hand when an environment is created (or its receiving service moves). Ensures the
webhooks declared in `webhooks/<environment>.yaml` exist on the Plusofon account, exactly as
declared: missing ones are created, drifted ones updated, nothing else touched. Then checks
them with the sensor, so a green run means the account really is in that state.

**Params**: `environment` (which spec file), `receiver_base_url` (where your service receives
the events). The header secret comes from the Airflow Variable `plusofon_crm_webhook_secret`.
Running it again changes nothing: the second run sends no write.

**One writer per account**: the task that writes takes the pool `plusofon_default` (one slot),
shared with the audit's repair, so that two writers never race on the account. Create it once:
`airflow pools set plusofon_default 1 "Plusofon writers of plusofon_default"`.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG, Param

from airflow_provider_plusofon.operators.webhooks import EnsureWebhooksOperator
from airflow_provider_plusofon.sensors.webhooks import PlusofonWebhookSensor

SPEC_FILE = "webhooks/{{ params.environment }}.yaml"
# Every task that writes to the account takes its pool: one slot, so writers queue, never race.
WRITERS_POOL = "plusofon_default"

with DAG(
    dag_id="plusofon_bootstrap_webhooks",
    description="Create or repair the Plusofon webhooks an environment needs, then verify them.",
    doc_md=__doc__,
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["plusofon", "webhooks", "bootstrap"],
    default_args={"retries": 2, "retry_delay": pendulum.duration(seconds=30)},
    params={
        "environment": Param("staging", enum=["staging", "production"], description="spec file to apply"),
        "receiver_base_url": Param(
            "https://crm.example.com",
            type="string",
            description="base URL of the service receiving call events",
        ),
    },
) as dag:
    ensure_webhooks = EnsureWebhooksOperator(task_id="ensure_webhooks", webhooks=SPEC_FILE, pool=WRITERS_POOL)

    verify_webhooks = PlusofonWebhookSensor(
        task_id="verify_webhooks",
        webhooks=SPEC_FILE,
        mode="reschedule",
        poke_interval=15,
        timeout=300,
    )

    ensure_webhooks >> verify_webhooks
