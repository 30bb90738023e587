"""Kept so that ``from airflow_provider_plusofon.hooks.config import PlusofonConnectionConfig`` (0.1.0)
goes on working: the settings live in :mod:`airflow_provider_plusofon.api.settings`."""

from airflow_provider_plusofon.api.settings import DEFAULT_BASE_URL, PlusofonConnectionConfig

__all__ = ["DEFAULT_BASE_URL", "PlusofonConnectionConfig"]
