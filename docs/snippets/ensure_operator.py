EnsureWebhooksOperator(
    task_id="ensure_webhooks",
    webhooks="webhooks/{{ params.environment }}.yaml",
    prune=False,  # True: also delete webhooks no spec declares, and duplicates
    dry_run=False,  # True: log the plan, write nothing
    max_deletes=5,  # fail before writing anything if the plan deletes more
    allow_empty=False,  # prune with an empty spec set fails unless this is True
    max_workers=8,  # concurrent requests (pages, detail views, writes)
)
