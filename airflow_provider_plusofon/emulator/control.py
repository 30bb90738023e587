"""The emulator's own control API under ``/__emulator__/`` (the real Plusofon API has none of this):
the request log, faults, the webhooks themselves, latency, reset."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from airflow_provider_plusofon.emulator.routes import Reply, decode

if TYPE_CHECKING:
    from airflow_provider_plusofon.emulator.server import PlusofonEmulator

CONTROL_PREFIX = "/__emulator__"
OK = {"success": True}


def _seed(emulator: PlusofonEmulator, body: Any) -> Any:
    items = body.get("webhooks", []) if isinstance(body, dict) else body or []
    return emulator.state.seed(items)


def _inject(emulator: PlusofonEmulator, body: Any) -> Any:
    options = dict(body) if isinstance(body, dict) else {}
    kind = options.pop("kind", None)
    return {**OK, "fault": vars(emulator.faults.inject(str(kind), **options))}


def _set_latency(emulator: PlusofonEmulator, body: Any) -> Any:
    emulator.latency_ms = float((body if isinstance(body, dict) else {}).get("ms", 0))
    return OK


def _reset(emulator: PlusofonEmulator, body: Any) -> Any:
    emulator.state.reset()
    emulator.faults.clear()
    return OK


def _requests(emulator: PlusofonEmulator, body: Any) -> Any:
    return emulator.state.requests()


def _clear_requests(emulator: PlusofonEmulator, body: Any) -> Any:
    emulator.state.clear_requests()
    return OK


def _faults(emulator: PlusofonEmulator, body: Any) -> Any:
    return emulator.faults.listed()


def _clear_faults(emulator: PlusofonEmulator, body: Any) -> Any:
    emulator.faults.clear()
    return OK


def _webhooks(emulator: PlusofonEmulator, body: Any) -> Any:
    return emulator.state.webhooks()


CALLS: dict[tuple[str, str], Callable[[PlusofonEmulator, Any], Any]] = {
    ("GET", "/requests"): _requests,
    ("DELETE", "/requests"): _clear_requests,
    ("GET", "/faults"): _faults,
    ("POST", "/faults"): _inject,
    ("DELETE", "/faults"): _clear_faults,
    ("GET", "/webhooks"): _webhooks,
    ("PUT", "/webhooks"): _seed,
    ("POST", "/webhooks"): _seed,
    ("PUT", "/latency"): _set_latency,
    ("POST", "/latency"): _set_latency,
    ("POST", "/reset"): _reset,
}


def control(emulator: PlusofonEmulator, method: str, path: str, raw: bytes) -> Reply:
    """Answer a control call (``path`` is what follows ``/__emulator__``)."""
    call = CALLS.get((method, path))
    if call is None:
        return Reply(404, {"message": f"unknown control call {method} {CONTROL_PREFIX}{path}"})
    try:
        return Reply(200, call(emulator, decode(raw)))
    except (TypeError, ValueError) as error:
        return Reply(400, {"message": str(error)})
