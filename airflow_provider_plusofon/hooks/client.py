"""Kept so that ``from airflow_provider_plusofon.hooks.client import PlusofonClient`` (0.1.0) goes on
working: the client lives in :mod:`airflow_provider_plusofon.api`."""

from airflow_provider_plusofon.api import DEFAULT_MAX_WORKERS, PlusofonClient
from airflow_provider_plusofon.api.ids import WEBHOOKS_PATH, valid_webhook_id

__all__ = ["DEFAULT_MAX_WORKERS", "WEBHOOKS_PATH", "PlusofonClient", "valid_webhook_id"]
