from airflow_provider_plusofon.hooks.plusofon import PlusofonHook

hook = PlusofonHook("plusofon_default")
hook.list_webhooks()  # every page; ?page=N against your host, never the paginator's links
hook.get_webhook(5)  # the detail view
hook.create_webhook({"url": "https://crm.example.com/calls", "event": "create"})  # returns it with its id
hook.update_webhook(5, full_body)  # PUT with the full body
hook.delete_webhook(5, missing_ok=True)
hook.test_connection()  # (True, "Connected to …: 3 webhook(s) on the account")
