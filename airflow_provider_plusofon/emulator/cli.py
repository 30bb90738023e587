"""``plusofon-emulator``: serve the emulated API from the command line until Ctrl-C."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from airflow_provider_plusofon.emulator.server import PlusofonEmulator
from airflow_provider_plusofon.exceptions import WebhookSpecError
from airflow_provider_plusofon.webhooks.spec_files import load_spec_source


def load_seed(path: str | Path) -> list[dict[str, Any]]:
    """Read webhooks from a JSON or YAML file (a list, or a mapping with a ``webhooks`` list), with
    the same loader and the same bounds as a task's spec files."""
    return load_spec_source(Path(path))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="plusofon-emulator", description="Serve a local emulator of the Plusofon webhooks API."
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8765, help="port to bind; 0 picks a free one (default: 8765)")
    parser.add_argument("--client-id", default="10553", help="Client ID the API accepts (default: 10553)")
    parser.add_argument("--token", default="dev-token", help="API token the API accepts (default: dev-token)")
    parser.add_argument("--seed", help="JSON or YAML file with the webhooks to start with")
    parser.add_argument("--per-page", type=int, default=15, help="page size of the list (default: 15)")
    parser.add_argument("--latency-ms", type=float, default=0, help="delay added to every answer")
    parser.add_argument(
        "--accounts",
        type=int,
        default=1,
        help="accounts to serve: the first with --client-id and --token, the others with the next Client IDs "
        "and the token followed by -2, -3 ... (default: 1)",
    )
    parser.add_argument(
        "--app-url",
        default="http://localhost",
        help="host of the paginator's links (default: http://localhost)",
    )
    return parser


def extra_account(client_id: str, token: str, number: int) -> tuple[str, str]:
    """The Client ID and token of the ``number``-th account (the first is ``client_id``, ``token``)."""
    following = str(int(client_id) + number - 1) if client_id.isdigit() else f"{client_id}-{number}"
    return following, f"{token}-{number}"


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        seed = load_seed(args.seed) if args.seed else None
    except WebhookSpecError as error:
        print(f"plusofon-emulator: --seed: {error}", file=sys.stderr)
        return 2
    emulator = PlusofonEmulator(
        host=args.host,
        port=args.port,
        client_id=args.client_id,
        token=args.token,
        per_page=args.per_page,
        app_url=args.app_url,
        latency_ms=args.latency_ms,
        webhooks=seed,
    )
    # Ctrl-C and SIGTERM (a supervisor, or EmulatorProcess.stop) only ask to stop: an exception
    # raised into the main thread while it waits on a lock can leave that wait hanging.
    stopping = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopping.set())
    for number in range(2, max(1, args.accounts) + 1):
        emulator.add_account(*extra_account(args.client_id, args.token, number))
    try:
        emulator.start()
        print(f"Plusofon emulator serving on {emulator.base_url} ({len(emulator.webhooks())} webhooks)")
        if args.accounts > 1:
            last = extra_account(args.client_id, args.token, args.accounts)
            print(f"  and {args.accounts - 1} more accounts, up to Client ID {last[0]} with token {last[1]}")
        print("Point Airflow at it with:")
        print(f"  export AIRFLOW_CONN_PLUSOFON_DEFAULT='{emulator.connection_env()}'")
        print("Press Ctrl-C to stop.", flush=True)
        assert emulator._thread is not None
        while not stopping.wait(0.5) and emulator._thread.is_alive():
            pass
        print("\nStopping.", file=sys.stderr)
    finally:
        emulator.stop()
    return 0
