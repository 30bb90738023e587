"""
### Specs with their secret in clear, through XCom (a test DAG of the end-to-end tests only)

An upstream task reads the Variable and returns specs holding the header value itself: its own
XCom holds the secret (the DAG author's choice), but the provider's tasks must not repeat it in
their rendered fields, XCom or logs, whether they take the specs as an XComArg or pull them in a
template.
"""

from __future__ import annotations

import datetime

from airflow.sdk import DAG, Variable, task

from airflow_provider_plusofon.operators.webhooks import EnsureWebhooksOperator

URL = "https://crm.example.com/plusofon/authoring"

with DAG(
    dag_id="plusofon_specs_through_xcom",
    schedule=None,
    start_date=datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc),
    catchup=False,
    tags=["plusofon", "test"],
) as dag:

    @task
    def make_specs() -> list[dict]:
        secret = Variable.get("plusofon_crm_webhook_secret")
        return [{"url": URL, "event": "create", "headers": [{"name": "X-Webhook-Secret", "value": secret}]}]

    specs = make_specs()
    EnsureWebhooksOperator(task_id="xcom_arg", webhooks=specs, dry_run=True)
    pulled = EnsureWebhooksOperator(
        task_id="xcom_pull", webhooks="{{ ti.xcom_pull(task_ids='make_specs') }}", dry_run=True
    )
    specs >> pulled  # a template pulling XCom makes no dependency of its own
