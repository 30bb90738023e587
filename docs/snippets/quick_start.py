from airflow_provider_plusofon.operators.webhooks import EnsureWebhooksOperator

EnsureWebhooksOperator(task_id="ensure_webhooks", webhooks="webhooks/production.yaml", pool="plusofon_default")
