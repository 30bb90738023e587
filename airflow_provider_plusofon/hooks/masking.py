"""The one way a secret reaches Airflow's secret masker: each value once per process, in one call.

The token when a connection is read, and (through :func:`mask_webhook_secrets`) the header values
and URL passwords of every spec a task loads and every webhook the client reads or sends.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

from airflow_provider_plusofon.compat import mask_secret
from airflow_provider_plusofon.redaction import secrets_of

# Inside a task every mask_secret call is a message to the supervisor: send each value once.
_masked: set[str] = set()
_masked_lock = threading.Lock()


def mask_secrets(values: Iterable[str]) -> None:
    """Register secret values with Airflow's secret masker, each once per process, in one call."""
    with _masked_lock:
        new = [value for value in dict.fromkeys(values) if value and value not in _masked]
        _masked.update(new)
    if new:
        secrets: list[Any] = new
        mask_secret(secrets)


def mask_webhook_secrets(webhooks: Any) -> None:
    """Mask the secret values (header values, URL passwords) of one webhook or spec, or of a list."""
    mask_secrets(secrets_of(webhooks))
