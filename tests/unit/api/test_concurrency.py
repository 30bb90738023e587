"""Workers (api/concurrency.py) by itself: order, and when the secrets met in a batch are handed over."""

from __future__ import annotations

import threading

import pytest

from airflow_provider_plusofon.api.concurrency import Workers


def with_secret(value: str) -> dict:
    return {"url": "https://crm.example.com/calls", "headers": [{"name": "X-Key", "value": value}]}


def test_a_batch_inside_a_batch_hands_its_secrets_over_once_with_the_outer_one():
    handed: list[tuple[int, list[str]]] = []
    workers = Workers(1, on_secrets=lambda found: handed.append((threading.get_ident(), list(found))))

    def read(item: int) -> int:
        workers.reveal(with_secret(f"secret-{item}"))
        return item * 10

    results = workers.map(lambda n: workers.map(read, [n, n + 1]), [1, 3, 5])

    assert results == [[10, 20], [30, 40], [50, 60]]
    assert handed == [(threading.get_ident(), [f"secret-{n}" for n in range(1, 7)])]
    workers.reveal(with_secret("secret-after"))  # no batch any more: at once
    assert handed[1:] == [(threading.get_ident(), ["secret-after"])]


def test_after_a_batch_that_failed_a_secret_is_handed_over_at_once_again():
    handed: list[list[str]] = []
    workers = Workers(1, on_secrets=lambda found: handed.append(list(found)))

    def fail_on_two(item: int) -> int:
        workers.reveal(with_secret(f"secret-{item}"))
        if item == 2:
            raise RuntimeError("boom")
        return item

    with pytest.raises(RuntimeError, match="boom"):
        workers.map(fail_on_two, [1, 2, 3])
    assert handed == [["secret-1", "secret-2"]]  # what was met before the failure, still handed over

    workers.reveal(with_secret("secret-after"))
    assert handed[1:] == [["secret-after"]]
