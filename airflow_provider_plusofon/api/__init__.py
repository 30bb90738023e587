"""The lowest floor: the Plusofon webhooks API over HTTP, with no Airflow import and no decision
about what to change.

``settings`` (the connection settings, one table) | ``ids`` (the id rule, the paths) |
``transport`` (sending, size caps) | ``answers`` (an answer -> a result or an error) | ``retry``
(what is retried, backoff, the shared 429 pause) | ``concurrency`` (a bounded pool, secrets handed
over from its threads) | ``paging`` (the list's paging rules, no I/O) | ``webhooks`` (the
endpoints: :class:`PlusofonClient`) | ``async_transport``, ``async_client`` (the reads a trigger
needs, on an event loop: :class:`AsyncPlusofonClient`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airflow_provider_plusofon.api.async_client import AsyncPlusofonClient
    from airflow_provider_plusofon.api.concurrency import DEFAULT_MAX_WORKERS
    from airflow_provider_plusofon.api.settings import PlusofonConnectionConfig
    from airflow_provider_plusofon.api.webhooks import PlusofonClient

__all__ = ["DEFAULT_MAX_WORKERS", "AsyncPlusofonClient", "PlusofonClient", "PlusofonConnectionConfig"]
# Loaded when first asked for: get_provider_info() reads api.settings while Airflow discovers
# providers, and must not pay for the client (threads, HTTP, retries) that it does not use.
_HOMES = {
    "AsyncPlusofonClient": "airflow_provider_plusofon.api.async_client",
    "DEFAULT_MAX_WORKERS": "airflow_provider_plusofon.api.concurrency",
    "PlusofonConnectionConfig": "airflow_provider_plusofon.api.settings",
    "PlusofonClient": "airflow_provider_plusofon.api.webhooks",
}


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(_HOMES[name]), name)
