"""Requests run side by side on a bounded pool, and the secrets they meet handed over safely.

No Airflow import here. The secrets a worker thread reads or sends (header values, URL
passwords) are handed to ``on_secrets`` from the thread that started the workers, never from a
worker: on Airflow 3.0 and 3.1 the secret masker talks to the supervisor over a channel that is
not safe to use from several threads at once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from airflow_provider_plusofon.redaction import secrets_of

T = TypeVar("T")
R = TypeVar("R")

# Eight requests in flight turn a 20 ms round trip into the cost of the slowest of eight; a 429
# pauses all of them (see retry.RetryPolicy), so a tight rate limit costs waiting, not errors.
DEFAULT_MAX_WORKERS = 8


class Workers:
    """
    Up to ``max_workers`` threads for one batch of requests at a time.

    :param max_workers: how many run at once (1: one after another, on the calling thread).
    :param on_secrets: called with the secret values of what the requests read or send.
    """

    def __init__(self, max_workers: int, on_secrets: Callable[[list[str]], None] | None = None) -> None:
        self.max_workers = max(1, int(max_workers))
        self._on_secrets = on_secrets
        self._lock = threading.Lock()
        self._in_worker = threading.local()
        self._from_workers: list[str] = []

    def reveal(self, webhooks: Any) -> None:
        """Hand the secret values of these webhooks (or bodies) to ``on_secrets``; found during a
        batch (on a worker thread, or on the calling thread one after another), they are handed
        over together by the thread that started it, once the batch is done."""
        if self._on_secrets is None or not (found := secrets_of(webhooks)):
            return
        if getattr(self._in_worker, "active", False):
            with self._lock:
                self._from_workers += found
            return
        self._on_secrets(found)

    def map(self, func: Callable[[T], R], items: Sequence[T]) -> list[R]:
        """``func`` applied to each item, concurrently, in the items' order. The first failure is
        raised, and what has not started yet is not started."""
        if self.max_workers == 1 or len(items) <= 1:
            return self._one_after_another(func, items)

        from concurrent.futures import ThreadPoolExecutor  # not paid for when a DAG is parsed

        def in_worker(item: T) -> R:
            self._in_worker.active = True
            return func(item)

        try:
            with ThreadPoolExecutor(max_workers=min(self.max_workers, len(items))) as pool:
                futures = [pool.submit(in_worker, item) for item in items]
                try:
                    return [future.result() for future in futures]
                except BaseException:
                    for future in futures:
                        future.cancel()
                    raise
        finally:
            self._hand_over()

    def _one_after_another(self, func: Callable[[T], R], items: Sequence[T]) -> list[R]:
        # Secrets wait for the end of the batch here too: Airflow's masker compiles its whole
        # pattern again for each call, so a call per webhook costs as much as the requests do.
        outermost = not getattr(self._in_worker, "active", False)
        self._in_worker.active = True
        try:
            return [func(item) for item in items]
        finally:
            if outermost:
                self._in_worker.active = False
                self._hand_over()

    def _hand_over(self) -> None:
        with self._lock:
            found, self._from_workers = self._from_workers, []
        if found and self._on_secrets is not None:
            self._on_secrets(found)
