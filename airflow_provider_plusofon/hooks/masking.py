"""The one way a secret reaches Airflow's secret masker: each value once per process, in one call.

The token when a connection is read, and (through :func:`mask_webhook_secrets`) the header values
and URL passwords of every spec a task loads and every webhook the client reads or sends.
"""

from __future__ import annotations

import copy
import re
import threading
from collections.abc import Iterable
from typing import Any

from airflow_provider_plusofon.compat import mask_secret, secrets_masker
from airflow_provider_plusofon.redaction import secrets_of

# Inside a task every mask_secret call is a message to the supervisor: send each value once.
_masked: set[str] = set()
_masked_lock = threading.Lock()


def mask_secrets(values: Iterable[str]) -> None:
    """Register secret values with Airflow's secret masker, each once per process, in one call."""
    with _masked_lock:
        new = [value for value in dict.fromkeys(values) if value and value not in _masked]
        _masked.update(new)
        if len(new) > 1:
            _compile_once(new)
    if new:
        secrets: list[Any] = new
        mask_secret(secrets)


def _compile_once(values: list[str]) -> None:
    """
    Give the process's masker the patterns of all these values, compiled once.

    Airflow's ``add_mask`` compiles its whole pattern again for each new value: the 200 header values
    of a large ensure cost 0.4 s, a few thousand cost many seconds. Here each value's patterns are
    worked out by Airflow's own rules on a copy of the masker holding none (a small compile each),
    then added to the masker's with one compile, so that ``mask_secret`` then finds every one known
    (it still tells the supervisor). The masker only ever gains patterns, added to its own set in
    place, so a line logged meanwhile by another thread is masked at least as well as before. A
    masker of another shape is left to ``mask_secret`` alone.
    """
    masker = secrets_masker()
    if not isinstance(getattr(masker, "patterns", None), set) or not hasattr(masker, "add_mask"):
        return
    found: set[str] = set()
    for value in values:
        scratch = copy.copy(masker)
        scratch.patterns = set()
        scratch.add_mask(value)
        found |= scratch.patterns
    if found - masker.patterns:
        # In place, as Airflow's add_mask does: a value another thread adds meanwhile stays in.
        masker.patterns.update(found)
        masker.replacer = re.compile("|".join(tuple(masker.patterns)))


def mask_webhook_secrets(webhooks: Any) -> None:
    """Mask the secret values (header values, URL passwords) of one webhook or spec, or of a list."""
    mask_secrets(secrets_of(webhooks))
