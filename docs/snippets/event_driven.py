from airflow.sdk import DAG, Asset, AssetAlias, AssetWatcher

from airflow_provider_plusofon.assets.uris import asset_uri
from airflow_provider_plusofon.compat import AssetOrTimeSchedule, CronTriggerTimetable
from airflow_provider_plusofon.operators.webhooks import EnsureWebhooksOperator
from airflow_provider_plusofon.triggers.drift import PlusofonWebhookDriftTrigger

SPECS = [
    {
        "url": "https://crm.example.com/plusofon/calls",
        "event": "create",
        "headers": [{"name": "X-Webhook-Secret", "value": "{{ var.value.plusofon_crm_webhook_secret }}"}],
    }
]
drift = Asset(
    asset_uri("10553", "drift"),
    watchers=[AssetWatcher(name="plusofon_drift", trigger=PlusofonWebhookDriftTrigger(webhooks=SPECS))],
)
with DAG(
    dag_id="repair_on_drift",
    schedule=AssetOrTimeSchedule(timetable=CronTriggerTimetable("0 6 * * *", timezone="UTC"), assets=[drift]),
) as dag:
    EnsureWebhooksOperator(task_id="repair", webhooks=SPECS, outlets=[AssetAlias("plusofon_changes")])
