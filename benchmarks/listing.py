"""One listing of the whole account in a fresh process, so that its memory is its own.

``python listing.py MODE BASE_URL CLIENT_ID TOKEN MAX_WORKERS`` prints one JSON line, where MODE is
``baseline`` (by hand, page after page), ``client`` (our PlusofonClient: no Airflow in the
process) or ``hook`` (our PlusofonHook, inside a process that has imported Airflow, as a task has).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path


def _status_mb(field: str) -> float:
    # /proc rather than getrusage: ru_maxrss survives exec, so a child started by a big parent
    # would report the parent's size; VmHWM and VmRSS belong to this program alone.
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def rss_mb() -> float:
    """Resident memory now."""
    return _status_mb("VmRSS")


def peak_rss_mb() -> float:
    """The most resident memory this program has had."""
    return _status_mb("VmHWM")


def main() -> None:
    mode, base_url, client_id, token, max_workers = sys.argv[1:6]
    import requests  # noqa: F401  (every mode needs it: not part of what is measured)

    if mode == "baseline":
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from baseline import list_by_hand

        def run() -> list:
            return list_by_hand(base_url, client_id, token)

    elif mode == "client":
        from airflow_provider_plusofon.api import PlusofonClient, PlusofonConnectionConfig

        config = PlusofonConnectionConfig(base_url=base_url, client_id=client_id, token=token)
        run = PlusofonClient(config, max_workers=int(max_workers)).list_webhooks
    else:
        from airflow_provider_plusofon.hooks.plusofon import PlusofonHook

        hook = PlusofonHook(max_workers=int(max_workers))
        hook.client  # noqa: B018  (Airflow loaded and the connection read: what a task has before it lists)
        run = hook.list_webhooks

    before = rss_mb()
    started = time.perf_counter()
    items = run()
    elapsed = time.perf_counter() - started
    print(
        json.dumps(
            {
                "items": len(items),
                "s": elapsed,
                "peak_rss_mb": peak_rss_mb(),
                "rss_before_mb": before,
                "rss_after_mb": rss_mb(),
            }
        )
    )


if __name__ == "__main__":
    main()
