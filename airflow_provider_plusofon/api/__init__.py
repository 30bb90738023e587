"""The lowest floor: the Plusofon webhooks API over HTTP, with no Airflow import and no decision
about what to change.

``settings`` (the connection settings, one table) | ``ids`` (the id rule, the paths) |
``transport`` (sending, size caps) | ``answers`` (an answer -> a result or an error) | ``retry``
(what is retried, backoff, the shared 429 pause) | ``concurrency`` (a bounded pool, secrets handed
over from its threads) | ``paging`` (the list's paging rules, no I/O) | ``webhooks`` (the
endpoints: :class:`PlusofonClient`).
"""

from airflow_provider_plusofon.api.concurrency import DEFAULT_MAX_WORKERS
from airflow_provider_plusofon.api.settings import PlusofonConnectionConfig
from airflow_provider_plusofon.api.webhooks import PlusofonClient

__all__ = ["DEFAULT_MAX_WORKERS", "PlusofonClient", "PlusofonConnectionConfig"]
