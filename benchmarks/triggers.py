"""`make bench`, issue 22: deferred sensors waiting in one asyncio loop, as in Airflow's triggerer.

Each scenario runs in a fresh process (``python triggers.py child ...``): N triggers, sealed as the
sensor seals them, waiting on 1 or 10 accounts of 150 webhooks each (the emulator in its own
process, 20 ms a request); every sensor also requires one webhook that is created after a few poke
intervals. Two designs, in the same run: ``shared`` (this version: one reader per account) and
``per-trigger`` (0.1.0's: each trigger checks on its own, in a thread, with its own client).
Measured: the loop's worst lag (a 20 ms ticker), the most threads at once, listings per account
per interval, when the last sensor was done after the webhook appeared, peak memory.
"""

from __future__ import annotations

import asyncio
import gc
import itertools
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
TICK_SECONDS = 0.02
ACCOUNT_SIZE = 150
APPEARS = "https://crm.example.com/plusofon/appears"
MAX_LAG_S = 0.1  # Airflow warns at 0.2 s


def memory_mb() -> dict[str, float]:
    fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines() if ":" in line)
    return {key: int(fields[key].split()[0]) / 1024 for key in ("VmRSS", "VmHWM")}


def required(n: int) -> list[dict[str, Any]]:
    """Sensor n's specs: its own filler webhook (every tenth with its header: a detail view) and the
    webhook that appears later."""
    filler: dict[str, Any] = {"url": f"https://crm.example.com/hooks/{n % ACCOUNT_SIZE}", "event": "destroy"}
    if n % 10 == 0:
        filler["headers"] = [{"name": "X-Key", "value": f"key-{n % ACCOUNT_SIZE}"}]
    return [filler, {"url": APPEARS, "event": "create"}]


class PerTriggerDesign:
    """0.1.0's trigger loop: the whole check, in a thread of its own, with a client of its own."""

    def __init__(self, kwargs: dict[str, Any]) -> None:
        self.kwargs = kwargs

    async def run(self) -> Any:
        from asgiref.sync import sync_to_async

        from airflow_provider_plusofon.hooks.plusofon import PlusofonHook
        from airflow_provider_plusofon.webhooks.requirements import check_once
        from airflow_provider_plusofon.webhooks.spec import parse_specs

        hook = PlusofonHook(self.kwargs["plusofon_conn_id"], max_workers=self.kwargs["max_workers"])
        specs = parse_specs(self.kwargs["webhooks"])
        while True:
            check = await sync_to_async(
                lambda: check_once(hook.client, specs, sealed=True, seal_check=self.kwargs["seal_check"]),
                thread_sensitive=False,
            )()
            if check.done:
                return {"status": "success"}
            await asyncio.sleep(self.kwargs["poke_interval"])


def make_triggers(design: str, sensors: int, accounts: int, interval: float) -> list[Any]:
    from airflow_provider_plusofon.hooks.plusofon import PlusofonHook
    from airflow_provider_plusofon.redaction import seal
    from airflow_provider_plusofon.triggers.webhooks import PlusofonWebhookTrigger

    configs = [PlusofonHook(f"bench_{a}").config for a in range(accounts)]
    triggers = []
    for n in range(sensors):
        account = n % accounts
        kwargs = {
            "webhooks": [seal(spec, configs[account].seal_key) for spec in required(n)],
            "sealed": True,
            "plusofon_conn_id": f"bench_{account}",
            "poke_interval": interval,
            "end_time": time.time() + 3600,
            "max_workers": 8,
            "seal_check": configs[account].seal_check,
        }
        triggers.append(PlusofonWebhookTrigger(**kwargs) if design == "shared" else PerTriggerDesign(kwargs))
    return triggers


async def first_event(trigger: Any, done_at: list[float]) -> None:
    if isinstance(trigger, PerTriggerDesign):
        await trigger.run()
    else:
        async for event in trigger.run():
            assert event.payload["status"] == "success", event.payload
            break
    done_at.append(time.time())


async def create_the_awaited_webhook(accounts: list[dict[str, Any]]) -> float:
    import httpx

    async with httpx.AsyncClient() as client:
        for account in accounts:
            answer = await client.post(
                f"{account['host']}/api/v1/webhooks",
                json={"url": APPEARS, "event": "create"},
                headers={"Client": account["login"], "Authorization": f"Bearer {account['password']}"},
            )
            answer.raise_for_status()
    return time.time()


async def one_listing_seconds(conn_id: str) -> float:
    from airflow_provider_plusofon.api import AsyncPlusofonClient
    from airflow_provider_plusofon.hooks.plusofon import PlusofonHook

    client = AsyncPlusofonClient(PlusofonHook(conn_id).config)
    started = time.perf_counter()
    await client.list_webhooks()
    await client.aclose()
    return time.perf_counter() - started


async def scenario(design: str, sensors: int, accounts: list[dict[str, Any]], interval: float, appear_after: float):
    loop = asyncio.get_running_loop()
    listing_s = await one_listing_seconds("bench_0")
    waiting_since = time.time()
    before = memory_mb()
    # The first interval is the triggers starting (a triggerer restarting); then they wait.
    worst_lag, starting_lag, threads, done_at, running = 0.0, 0.0, threading.active_count(), [], True
    late: list[tuple[float, float]] = []

    async def ticker() -> None:
        nonlocal worst_lag, starting_lag, threads
        while running:
            started = loop.time()
            await asyncio.sleep(TICK_SECONDS)
            lag = loop.time() - started - TICK_SECONDS
            if time.time() - waiting_since < interval:
                starting_lag = max(starting_lag, lag)
            else:
                worst_lag = max(worst_lag, lag)
            if lag > MAX_LAG_S / 2:  # when, for reading the results
                late.append((round(time.time() - waiting_since, 2), round(lag, 3)))
            threads = max(threads, threading.active_count())

    # Made before the clock starts: in a triggerer, the sensors sealed their specs in the workers.
    triggers = make_triggers(design, sensors, len(accounts), interval)
    pauses: list[tuple[float, float]] = []
    collecting: dict[str, float] = {}

    def on_gc(phase: str, info: dict[str, Any]) -> None:  # CPython's collections, for reading the lag
        if phase == "start":
            collecting["since"] = time.perf_counter()
        elif (took := time.perf_counter() - collecting.get("since", time.perf_counter())) > MAX_LAG_S / 2:
            pauses.append((round(time.time() - waiting_since, 2), round(took, 3)))

    gc.callbacks.append(on_gc)
    watch = asyncio.create_task(ticker())
    waiting_since = time.time()
    tasks = [asyncio.create_task(first_event(t, done_at)) for t in triggers]
    await asyncio.sleep(appear_after)
    early = len(done_at)
    appeared = await create_the_awaited_webhook(accounts)
    await asyncio.wait_for(asyncio.gather(*tasks), 600)
    running = False
    await watch
    return {
        "design": design,
        "sensors": sensors,
        "accounts": len(accounts),
        "interval_s": interval,
        "worst_lag_s": worst_lag,
        "starting_lag_s": starting_lag,
        "late_ticks": late[:20],
        "gc_pauses": pauses[:20],
        "appeared_at": appeared - waiting_since,
        "max_threads": threads,
        "done_before_it_appeared": early,
        "waiting_since": waiting_since,
        "appeared": appeared,
        "last_done_after_s": max(done_at) - appeared,
        "one_listing_s": listing_s,
        "rss_before_mb": before["VmRSS"],
        "peak_rss_mb": memory_mb()["VmHWM"],
    }


def child(argv: list[str]) -> None:
    # As in a triggerer that is up: Airflow and the trigger's modules imported, the heap settled.
    import httpx  # noqa: F401

    import airflow_provider_plusofon.triggers.webhooks  # noqa: F401

    gc.collect()
    design, sensors, interval, appear_after = argv[0], int(argv[1]), float(argv[2]), float(argv[3])
    accounts = json.loads(os.environ["BENCH_ACCOUNTS"])
    for number, account in enumerate(accounts):
        os.environ[f"AIRFLOW_CONN_BENCH_{number}"] = json.dumps(account)
    print(json.dumps(asyncio.run(scenario(design, sensors, accounts, interval, appear_after))))


def listings_per_account(emulator: Any, accounts: list[dict[str, Any]], row: dict[str, Any]) -> dict[str, Any]:
    """From the emulator's logs: how often each account was listed while the sensors waited (the
    times are when page 1 arrived there)."""
    starts = []
    for account in accounts:
        log = emulator.control("GET", "/requests", headers={"Client": account["login"]})
        times = sorted(
            r["time"]
            for r in log
            if r["path"] == "/api/v1/webhooks" and r["query"].get("page") == "1" and r["method"] == "GET"
        )
        # once every trigger has started (the first interval), until the awaited webhook appeared
        starts.append([t for t in times if row["waiting_since"] + row["interval_s"] <= t <= row["appeared"]])
        emulator.control("DELETE", "/requests", headers={"Client": account["login"]})
    gaps = [b - a for s in starts for a, b in itertools.pairwise(s)]
    rates = [(len(s) - 1) * row["interval_s"] / (s[-1] - s[0]) for s in starts if len(s) > 1 and s[-1] > s[0]]
    return {"listings_per_interval": max(rates, default=0.0), "min_gap_s": min(gaps) if gaps else None}


def run_scenario(emulator: Any, accounts: list[dict[str, Any]], design: str, sensors: int, interval: float) -> dict:
    for account in accounts:  # the same account every time: 150 webhooks, the awaited one not yet there
        hooks = [
            {
                "url": f"https://crm.example.com/hooks/{i}",
                "event": "destroy",
                "headers": [{"name": "X-Key", "value": f"key-{i}"}],
            }
            for i in range(ACCOUNT_SIZE)
        ]
        emulator.control("PUT", "/webhooks", hooks, headers={"Client": account["login"]})
        emulator.control("DELETE", "/requests", headers={"Client": account["login"]})
    env = {**os.environ, "BENCH_ACCOUNTS": json.dumps(accounts)}
    command = [sys.executable, str(Path(__file__)), "child", design, str(sensors), str(interval), str(interval * 3.5)]
    out = subprocess.run(command, capture_output=True, text=True, env=env, timeout=1200)
    if out.returncode != 0:
        raise RuntimeError(f"{design} with {sensors} sensors failed:\n{out.stderr[-3000:]}")
    row = json.loads(out.stdout.strip().splitlines()[-1])
    return {**row, **listings_per_account(emulator, accounts, row)}


if __name__ == "__main__" and sys.argv[1:2] == ["child"]:
    child(sys.argv[2:])


# The scenarios of `make bench`: (design, sensors, accounts). 0.1.0's design runs at the sizes the
# issue measured it at (at 1,000 it holds thousands of threads for minutes).
SCENARIOS = [
    ("per-trigger", 1, 1),
    ("per-trigger", 100, 1),
    ("shared", 1, 1),
    ("shared", 100, 1),
    ("shared", 1000, 1),
    ("shared", 1000, 10),
]
MAX_THREADS, MAX_EXTRA_MB = 64, 100.0


def bench_triggers(latency_ms: float, interval: float, scenarios: list[tuple[str, int, int]] = SCENARIOS) -> list:
    from airflow_provider_plusofon.emulator.cli import extra_account
    from airflow_provider_plusofon.emulator.process import EmulatorProcess

    most = max(accounts for _, _, accounts in scenarios)
    options = ["--latency-ms", str(latency_ms), "--accounts", str(most)]
    with EmulatorProcess(client_id="10553", token="bench-token", options=options) as emulator:
        logins = [("10553", "bench-token")] + [extra_account("10553", "bench-token", k) for k in range(2, most + 1)]
        everyone = [
            {"conn_type": "plusofon", "login": login, "password": token, "host": emulator.base_url}
            for login, token in logins
        ]
        rows = []
        for design, sensors, accounts in scenarios:
            print(f"  {sensors} deferred sensors on {accounts} account(s), {design} ...", flush=True)
            rows.append(run_scenario(emulator, everyone[:accounts], design, sensors, interval))
        return rows


def triggers_text(rows: list[dict[str, Any]]) -> list[str]:
    lines = [
        f"Deferred sensors in one asyncio loop ({ACCOUNT_SIZE} webhooks an account, poke interval "
        f"{rows[0]['interval_s']:g} s; the awaited webhook created after 3.5 intervals)",
        "",
        f"{'design':<11} {'sensors':>7} {'accounts':>8} | {'worst lag':>9} {'starting':>8} {'threads':>7} "
        f"{'listings/interval':>17} {'last done after':>15} {'peak RSS':>8}",
    ]
    for row in rows:
        lines.append(
            f"{row['design']:<11} {row['sensors']:>7} {row['accounts']:>8} | {row['worst_lag_s']:>8.3f}s "
            f"{row['starting_lag_s']:>7.3f}s "
            f"{row['max_threads']:>7} {row['listings_per_interval']:>17.2f} {row['last_done_after_s']:>14.2f}s "
            f"{row['peak_rss_mb']:>5.0f} MB"
        )
    return lines


def triggers_targets(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    shared = {(r["sensors"], r["accounts"]): r for r in rows if r["design"] == "shared"}
    one = shared.get((1, 1))
    found = []
    for (sensors, accounts), row in sorted(shared.items()):
        if sensors == 1:  # what the others are measured against
            continue
        where = f"{sensors} deferred sensors on {accounts} account(s)"
        budget = row["interval_s"] + row["one_listing_s"] + MAX_LAG_S
        extra = row["peak_rss_mb"] - one["peak_rss_mb"] if one else float("inf")
        found += [
            {
                "target": f"{where}: the loop's worst lag under {MAX_LAG_S:g} s while they wait",
                "measured": f"{row['worst_lag_s']:.3f} s (while the {sensors} triggers started, in the first interval: "
                f"{row['starting_lag_s']:.3f} s)",
                "met": row["worst_lag_s"] < MAX_LAG_S,
            },
            {
                "target": f"{where}: at most {MAX_THREADS} threads",
                "measured": f"{row['max_threads']}",
                "met": row["max_threads"] <= MAX_THREADS,
            },
            {
                "target": f"{where}: at most one listing per account per interval",
                "measured": f"{row['listings_per_interval']:.2f} an interval, the closest two "
                f"{row['min_gap_s'] or 0:.2f} s apart (as they arrived at the emulator)",
                # 5%: when page 1 reaches the emulator is not when the reader began
                "met": (row["min_gap_s"] or float("inf")) >= row["interval_s"] * 0.95,
            },
            {
                "target": f"{where}: every sensor done within one interval and one listing of its webhook appearing",
                "measured": f"last after {row['last_done_after_s']:.2f} s (interval + one listing + lag budget: "
                f"{budget:.2f} s); none before it appeared: {row['done_before_it_appeared'] == 0}",
                "met": row["last_done_after_s"] <= budget and row["done_before_it_appeared"] == 0,
            },
            {
                "target": f"{where}: under {MAX_EXTRA_MB:g} MB more memory than one sensor",
                "measured": f"+{extra:.0f} MB (peak RSS {row['peak_rss_mb']:.0f} MB, one sensor's "
                f"{one['peak_rss_mb'] if one else 0:.0f} MB)",
                "met": extra < MAX_EXTRA_MB,
            },
        ]
    return found
