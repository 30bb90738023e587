"""
### A deferred sensor waiting while its connection's token is rotated (a test DAG, not an example)

`make live` saves the connection `plusofon_rotating` in the metadata database, starts this run,
and once the sensor waits in the triggerer gives the connection a new token and revokes the old
one on the emulator; then the webhook appears. The sensor must succeed in its first try: its
trigger meets the refusal, the connection is read again, and the sensor seals its specs with the
new token and waits on.
"""

from __future__ import annotations

import datetime

from airflow.sdk import DAG

from airflow_provider_plusofon.sensors.webhooks import PlusofonWebhookSensor

ROTATING_CONNECTION = "plusofon_rotating"
URL = "https://crm.example.com/plusofon/rotation"
SPECS = [{"url": URL, "event": "create", "headers": [{"name": "X-Webhook-Secret", "value": "rotation-header-7"}]}]

with DAG(
    dag_id="plusofon_token_rotation",
    schedule=None,
    start_date=datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc),
    catchup=False,
    tags=["plusofon", "test"],
) as dag:
    PlusofonWebhookSensor(
        task_id="wait_through_a_rotation",
        plusofon_conn_id=ROTATING_CONNECTION,
        webhooks=SPECS,
        deferrable=True,
        poke_interval=2,
        timeout=300,
        retries=0,  # a failed try must show, not be retried away
    )
