from airflow_provider_plusofon.api import PlusofonClient, PlusofonConnectionConfig

config = PlusofonConnectionConfig(base_url="https://restapi.plusofon.ru", client_id="10553", token=token)
client = PlusofonClient(config, max_workers=8)
client.list_webhooks()
