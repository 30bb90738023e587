"""`make bench`: what our users' accounts cost us, against a by-hand baseline, in the same run.

Starts the emulator in its own process with a fixed per-request latency, and measures:
- an EnsureWebhooksOperator run (first, then an immediate no-op second run) on accounts of N
  webhooks, with N/10 specs that manage headers (a third missing, a third drifted), against the
  job done the way the vendor document suggests (``baseline.py``: sequential plain requests);
- listing alone on a large account (requests, wall time, peak memory of the process);
- the import cost of our modules at DAG-parse time, after ``import airflow.sdk``.
Prints a table with ratios and writes benchmarks/results/latest.json. Asserts nothing on time.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from baseline import ensure_by_hand  # noqa: E402

from airflow_provider_plusofon.emulator.process import EmulatorProcess  # noqa: E402

CLIENT_ID, TOKEN = "10553", "bench-token"


def request_counts(emulator: EmulatorProcess) -> dict[str, int]:
    return dict(Counter(r["method"] for r in emulator.requests()))


def end_state(emulator: EmulatorProcess) -> list[tuple[Any, ...]]:
    return sorted(
        (w["url"], w["event"], w["type_call"], tuple(sorted((h["name"], h["value"]) for h in w["headers"])))
        for w in emulator.webhooks()
    )


def account(n: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """N existing webhooks, and N/10 specs managing headers: a third missing, a third drifted."""
    existing = [
        {
            "url": f"https://crm.example.com/hooks/{i}",
            "event": "destroy",
            "type_call": "all",
            "headers": [{"name": "X-Key", "value": f"key-{i}"}],
        }
        for i in range(n)
    ]
    specs = []
    wanted = max(3, n // 10)
    for j in range(wanted):
        third = j % 3
        if third == 0:  # missing
            specs.append(
                {
                    "url": f"https://crm.example.com/new/{j}",
                    "event": "create",
                    "type_call": "inbound",
                    "headers": [{"name": "X-Key", "value": f"new-{j}"}],
                }
            )
        else:  # drifted (1) or already right (2)
            i = j * (n // wanted)
            value = f"rotated-{i}" if third == 1 else f"key-{i}"
            specs.append(
                {
                    "url": f"https://crm.example.com/hooks/{i}",
                    "event": "destroy",
                    "type_call": "all",
                    "headers": [{"name": "X-Key", "value": value}],
                }
            )
    return existing, specs


def timed(func: Any) -> tuple[Any, float]:
    started = time.perf_counter()
    result = func()
    return result, time.perf_counter() - started


def bench_ensure(emulator: EmulatorProcess, n: int, max_workers: int) -> dict[str, Any]:
    from airflow_provider_plusofon.operators.webhooks import EnsureWebhooksOperator

    existing, specs = account(n)
    emulator.seed(existing)
    _, ours_first = timed(
        lambda: EnsureWebhooksOperator(task_id="b", webhooks=specs, max_workers=max_workers).execute(context={})
    )
    ours_first_requests = request_counts(emulator)
    ours_state = end_state(emulator)
    emulator.control("DELETE", "/requests")
    _, ours_second = timed(
        lambda: EnsureWebhooksOperator(task_id="b", webhooks=specs, max_workers=max_workers).execute(context={})
    )
    ours_second_requests = request_counts(emulator)

    emulator.seed(existing)
    _, baseline = timed(lambda: ensure_by_hand(emulator.base_url, CLIENT_ID, TOKEN, specs))
    baseline_requests = request_counts(emulator)
    return {
        "n": n,
        "specs": len(specs),
        "ours_first_s": ours_first,
        "ours_first_requests": ours_first_requests,
        "ours_second_s": ours_second,
        "ours_second_requests": ours_second_requests,
        "baseline_s": baseline,
        "baseline_requests": baseline_requests,
        "speedup": baseline / ours_first,
        "same_end_state": ours_state == end_state(emulator),
    }


LIST_CHILD = """
import json, resource, sys, time
from airflow_provider_plusofon.hooks.plusofon import PlusofonHook
def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
hook = PlusofonHook(max_workers=int(sys.argv[1]))
hook.session  # Airflow, requests and the connection loaded: what any task has before it lists
before = peak_mb()
started = time.perf_counter()
items = hook.list_webhooks()
elapsed = time.perf_counter() - started
print(json.dumps({"items": len(items), "s": elapsed, "peak_rss_mb": peak_mb(), "listing_rss_mb": peak_mb() - before}))
"""


def bench_listing(emulator: EmulatorProcess, n: int, max_workers: int) -> dict[str, Any]:
    emulator.seed([{"url": f"https://a.example/{i}", "event": "create", "type_call": "all"} for i in range(n)])
    out = subprocess.run(
        [sys.executable, "-c", LIST_CHILD, str(max_workers)], capture_output=True, text=True, check=True
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    return {"n": n, **result, "requests": request_counts(emulator)}


IMPORT_CHILD = """
import time
t0 = time.perf_counter()
import airflow.sdk
t1 = time.perf_counter()
import airflow_provider_plusofon.hooks.plusofon, airflow_provider_plusofon.operators.webhooks
import airflow_provider_plusofon.sensors.webhooks
t2 = time.perf_counter()
print(t1 - t0, t2 - t1)
"""


def bench_import(runs: int) -> dict[str, Any]:
    sdk, ours = [], []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", IMPORT_CHILD], capture_output=True, text=True, check=True)
        a, b = map(float, out.stdout.split())
        sdk.append(a)
        ours.append(b)
    return {"airflow_sdk_ms": statistics.median(sdk) * 1000, "ours_after_sdk_ms": statistics.median(ours) * 1000}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="15,150,1500")
    parser.add_argument("--list-size", type=int, default=10_000)
    parser.add_argument("--latency-ms", type=float, default=20)
    parser.add_argument("--max-workers", type=int, default=8)
    parser.add_argument("--import-runs", type=int, default=10)
    args = parser.parse_args()

    emulator = EmulatorProcess(client_id=CLIENT_ID, token=TOKEN, options=["--latency-ms", str(args.latency_ms)])
    os.environ["AIRFLOW_CONN_PLUSOFON_DEFAULT"] = emulator.connection_env()
    report: dict[str, Any] = {"latency_ms": args.latency_ms, "max_workers": args.max_workers}
    try:
        report["ensure"] = [bench_ensure(emulator, int(n), args.max_workers) for n in args.sizes.split(",")]
        report["listing"] = bench_listing(emulator, args.list_size, args.max_workers)
    finally:
        emulator.stop()
    report["import"] = bench_import(args.import_runs)

    print(
        f"\nEnsureWebhooksOperator vs the by-hand baseline ({args.latency_ms:g} ms per request, "
        f"max_workers={args.max_workers})"
    )
    print(
        f"{'N':>6} {'specs':>5} | {'ours 1st':>9} {'requests':>26} | {'2nd (no-op)':>11} {'requests':>12} | "
        f"{'baseline':>9} {'requests':>26} | {'speedup':>7} same end state"
    )
    for row in report["ensure"]:

        def fmt(counts: dict[str, int]) -> str:
            return " ".join(f"{k}={v}" for k, v in sorted(counts.items()))

        print(
            f"{row['n']:>6} {row['specs']:>5} | {row['ours_first_s']:>8.2f}s {fmt(row['ours_first_requests']):>26} | "
            f"{row['ours_second_s']:>10.2f}s {fmt(row['ours_second_requests']):>12} | {row['baseline_s']:>8.2f}s "
            f"{fmt(row['baseline_requests']):>26} | {row['speedup']:>6.1f}x {row['same_end_state']}"
        )
    listing = report["listing"]
    print(
        f"\nListing {listing['n']} webhooks: {listing['s']:.2f}s, {listing['requests'].get('GET', 0)} requests, "
        f"peak RSS {listing['peak_rss_mb']:.0f} MB for the whole process (Airflow included), "
        f"of which the listing added {listing['listing_rss_mb']:.1f} MB"
    )
    imports = report["import"]
    print(
        f"Import at DAG-parse time (median of {args.import_runs}): airflow.sdk {imports['airflow_sdk_ms']:.0f} ms, "
        f"our hook+operators+sensor after it +{imports['ours_after_sdk_ms']:.0f} ms "
        f"({imports['ours_after_sdk_ms'] / imports['airflow_sdk_ms']:.1%})"
    )

    results = HERE / "results"
    results.mkdir(exist_ok=True)
    (results / "latest.json").write_text(json.dumps(report, indent=2))
    print(f"\nWritten to {results / 'latest.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
