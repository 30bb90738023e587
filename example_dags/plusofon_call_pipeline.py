"""
### A telephony pipeline gated on its Plusofon webhooks

`wait_for_webhooks` holds the pipeline until the webhooks that feed it exist on the Plusofon
account exactly as `webhooks/<environment>.yaml` declares them (headers included). It is
deferrable: while it waits it holds no worker slot, the triggerer polls the API. Then
`load_call_records` (a stand-in for your real loading task) runs.
"""

from __future__ import annotations

import os
from typing import Any

import pendulum
from airflow.sdk import DAG, Param, task

from airflow_provider_plusofon.sensors.webhooks import PlusofonWebhookSensor

SPEC_FILE = "webhooks/{{ params.environment }}.yaml"
# How often the triggerer checks; the demo and tests shorten it.
POKE_INTERVAL_SECONDS = float(os.environ.get("PLUSOFON_EXAMPLE_POKE_INTERVAL", "60"))

with DAG(
    dag_id="plusofon_call_pipeline",
    description="Load call records once the Plusofon webhooks feeding them exist.",
    doc_md=__doc__,
    schedule="@hourly",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["plusofon", "webhooks", "pipeline"],
    default_args={"retries": 2, "retry_delay": pendulum.duration(minutes=1)},
    params={
        "environment": Param("staging", enum=["staging", "production"]),
        "receiver_base_url": Param("https://crm.example.com", type="string"),
    },
) as dag:
    wait_for_webhooks = PlusofonWebhookSensor(
        task_id="wait_for_webhooks",
        webhooks=SPEC_FILE,
        deferrable=True,
        poke_interval=POKE_INTERVAL_SECONDS,
        timeout=60 * 60,
    )

    @task(multiple_outputs=False)  # one XCom, the whole result
    def load_call_records(webhooks: dict[str, Any]) -> dict[str, Any]:
        """Stand-in for the real work: would read the calls the webhooks delivered."""
        ids = sorted(item["id"] for item in webhooks["satisfied"])
        print(f"Webhooks {ids} are in place: loading call records.")
        return {"webhook_ids": ids, "loaded": True}

    load_call_records(wait_for_webhooks.output)
