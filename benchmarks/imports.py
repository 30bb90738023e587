"""What importing our hook, operators and sensor costs at DAG-parse time, after ``import airflow.sdk``,
each in a fresh interpreter."""

from __future__ import annotations

import statistics
import subprocess
import sys
from typing import Any

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
