"""The pure reconciliation core: specs, normalisation, diff and plan. No Airflow imports, no I/O."""

from airflow_provider_plusofon.webhooks.plan import Action, Plan, detail_ids, plan, with_details
from airflow_provider_plusofon.webhooks.render import render_plan
from airflow_provider_plusofon.webhooks.spec import WebhookSpec, load_spec_source, parse_spec, parse_specs

__all__ = [
    "Action",
    "Plan",
    "WebhookSpec",
    "detail_ids",
    "load_spec_source",
    "parse_spec",
    "parse_specs",
    "plan",
    "render_plan",
    "with_details",
]
