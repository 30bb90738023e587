"""How long validating a spec set takes as it grows: linear work stays near 10x per 10x specs."""

from __future__ import annotations

import time
from typing import Any

from airflow_provider_plusofon.webhooks.spec import parse_specs


def specs(n: int) -> list[dict[str, Any]]:
    """``n`` distinct specs of the usual shape, a third sharing one url (so overlaps are checked)."""
    return [
        {
            "url": f"https://crm.example.com/{i // 3}",
            "event": ("create", "answer", "destroy")[i % 3],
            "type_call": "inbound",
            "headers": [{"name": "X-Webhook-Secret", "value": f"secret-{i}"}],
        }
        for i in range(n)
    ]


def bench_validation(sizes: list[int], runs: int = 3) -> list[dict[str, Any]]:
    """The best of ``runs`` timings of ``parse_specs`` at each size."""
    rows = []
    for n in sizes:
        raw = specs(n)
        best = min(_timed(raw) for _ in range(runs))
        rows.append({"n": n, "seconds": best})
    return rows


def _timed(raw: list[dict[str, Any]]) -> float:
    started = time.perf_counter()
    parsed = parse_specs(raw)
    elapsed = time.perf_counter() - started
    assert len(parsed) == len(raw)
    return elapsed
