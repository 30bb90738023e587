"""
### Every way a DAG author hands specs to the provider's tasks (a test DAG, not an example)

Each task plans (dry run) the same spec, whose header value is the Variable
`plusofon_crm_webhook_secret`, handed over another way: a plain list, a mapped task (`expand`,
`expand_kwargs`), specs built by an upstream task (an XComArg, and `{{ ti.xcom_pull(...) }}` in a
template), a param. The secret must reach no rendered field, XCom or log of these tasks.
`make live` runs it on real services and searches the metadata database; the end-to-end tests
run it with `dag.test()`.
"""

from __future__ import annotations

import datetime

from airflow.sdk import DAG, task

from airflow_provider_plusofon.operators.webhooks import EnsureWebhooksOperator, PlusofonWebhookOperator

URL = "https://crm.example.com/plusofon/authoring"
SECRET = "{{ var.value.plusofon_crm_webhook_secret }}"
SPEC = {"url": URL, "event": "create", "headers": [{"name": "X-Webhook-Secret", "value": SECRET}]}

with DAG(
    dag_id="plusofon_authoring_styles",
    schedule=None,
    start_date=datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc),
    catchup=False,
    tags=["plusofon", "test"],
    params={"specs": [SPEC]},
) as dag:

    @task
    def make_specs() -> list[dict]:
        """Specs built upstream, their header value still a template (rendered where it is used)."""
        return [SPEC]

    specs = make_specs()
    EnsureWebhooksOperator(task_id="plain", webhooks=[SPEC], dry_run=True)
    EnsureWebhooksOperator.partial(task_id="mapped", webhooks=[SPEC], dry_run=True).expand(
        plusofon_conn_id=["plusofon_default"]
    )
    EnsureWebhooksOperator.partial(task_id="mapped_kwargs", dry_run=True).expand_kwargs(
        [{"webhooks": [SPEC], "plusofon_conn_id": "plusofon_default"}]
    )
    EnsureWebhooksOperator(task_id="xcom_arg", webhooks=specs, dry_run=True)
    pulled = EnsureWebhooksOperator(
        task_id="xcom_pull", webhooks="{{ ti.xcom_pull(task_ids='make_specs') }}", dry_run=True
    )
    specs >> pulled  # a template pulling XCom makes no dependency of its own
    EnsureWebhooksOperator(task_id="param", webhooks="{{ params.specs }}", dry_run=True)
    PlusofonWebhookOperator.partial(task_id="one_mapped", url=URL, event="create", dry_run=True).expand(
        headers=[[{"name": "X-Webhook-Secret", "value": SECRET}]]
    )
