PlusofonWebhookSensor(
    task_id="wait_for_webhooks",
    webhooks="webhooks/production.yaml",
    deferrable=True,  # wait in the triggerer, not in a worker slot
    poke_interval=60,
    timeout=3600,
)
