PlusofonWebhookOperator(
    task_id="crm_call_ended_hook",
    url="https://crm.example.com/plusofon/calls",
    event="destroy",
    type_call="all",
    state="present",  # or "absent"
    webhook_id=None,  # manage one webhook by id instead of by identity
    dedupe=False,  # several webhooks share the identity: keep the lowest id, delete the rest
    dry_run=False,
)
