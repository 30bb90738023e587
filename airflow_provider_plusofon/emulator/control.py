"""The emulator's own control API under ``/__emulator__/`` (the real Plusofon API has none of this):
the request log, faults, the webhooks themselves, latency, reset. The webhooks, faults and request
log are those of the account the call's ``Client`` header names (the first account without one)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from airflow_provider_plusofon.emulator.routes import Reply, decode

if TYPE_CHECKING:
    from airflow_provider_plusofon.emulator.server import Account, PlusofonEmulator

CONTROL_PREFIX = "/__emulator__"
OK = {"success": True}


def _seed(emulator: PlusofonEmulator, account: Account, body: Any) -> Any:
    """Replace the account's webhooks: ``{"webhooks": [...]}`` or a list (ids kept where given, else from 1)."""
    items = body.get("webhooks", []) if isinstance(body, dict) else body or []
    return account.seed(items)


def _inject(emulator: PlusofonEmulator, account: Account, body: Any) -> Any:
    """Script a fault: ``{"kind": "rate_limit", "count": 2, ...}`` (the options of a fault)."""
    options = dict(body) if isinstance(body, dict) else {}
    kind = options.pop("kind", None)
    return {**OK, "fault": vars(account.faults.inject(str(kind), **options))}


def _set_latency(emulator: PlusofonEmulator, account: Account, body: Any) -> Any:
    """Delay every answer (all accounts): ``{"ms": 20}``."""
    emulator.latency_ms = float((body if isinstance(body, dict) else {}).get("ms", 0))
    return OK


def _reset(emulator: PlusofonEmulator, account: Account, body: Any) -> Any:
    """Empty the account: no webhooks, no faults, no request log."""
    account.state.reset()
    account.faults.clear()
    return OK


def _requests(emulator: PlusofonEmulator, account: Account, body: Any) -> Any:
    """Every request the account received, oldest first (the token redacted)."""
    return account.state.requests()


def _clear_requests(emulator: PlusofonEmulator, account: Account, body: Any) -> Any:
    """Empty the account's request log."""
    account.state.clear_requests()
    return OK


def _faults(emulator: PlusofonEmulator, account: Account, body: Any) -> Any:
    """The faults still scripted for the account."""
    return account.faults.listed()


def _clear_faults(emulator: PlusofonEmulator, account: Account, body: Any) -> Any:
    """Drop every fault scripted for the account."""
    account.faults.clear()
    return OK


def _release_held(emulator: PlusofonEmulator, account: Account, body: Any) -> Any:
    """Store the POSTs a ``lagging_store`` fault with ``held`` holds; answers how many."""
    return {**OK, "stored": account.state.release_held()}


def _webhooks(emulator: PlusofonEmulator, account: Account, body: Any) -> Any:
    """The account's webhooks, as stored."""
    return account.webhooks()


def _add_account(emulator: PlusofonEmulator, account: Account, body: Any) -> Any:
    """Serve another account: ``{"client_id": "20001", "token": "...", "webhooks": [...]}``."""
    options = body if isinstance(body, dict) else {}
    account = emulator.add_account(str(options["client_id"]), str(options["token"]), options.get("webhooks"))
    return {**OK, "client_id": account.client_id}


def _rotate_token(emulator: PlusofonEmulator, account: Account, body: Any) -> Any:
    """Issue a new token, as the account area does: ``{"token": "..."}``; the old one gets 401."""
    token = (body if isinstance(body, dict) else {}).get("token")
    account.rotate_token(token if isinstance(token, str) else "")
    return OK


def _accounts(emulator: PlusofonEmulator, account: Account, body: Any) -> Any:
    """Every account served, with how many webhooks each holds."""
    return [{"client_id": a.client_id, "webhooks": len(a.webhooks())} for a in emulator.accounts.values()]


CALLS: dict[tuple[str, str], Callable[[PlusofonEmulator, Account, Any], Any]] = {
    ("GET", "/requests"): _requests,
    ("DELETE", "/requests"): _clear_requests,
    ("GET", "/faults"): _faults,
    ("POST", "/faults"): _inject,
    ("DELETE", "/faults"): _clear_faults,
    ("POST", "/held/release"): _release_held,
    ("GET", "/webhooks"): _webhooks,
    ("PUT", "/webhooks"): _seed,
    ("POST", "/webhooks"): _seed,
    ("PUT", "/latency"): _set_latency,
    ("POST", "/latency"): _set_latency,
    ("POST", "/reset"): _reset,
    ("GET", "/accounts"): _accounts,
    ("POST", "/accounts"): _add_account,
    ("PUT", "/token"): _rotate_token,
}


def control(emulator: PlusofonEmulator, account: Account, method: str, path: str, raw: bytes) -> Reply:
    """Answer a control call (``path`` is what follows ``/__emulator__``) about ``account``."""
    call = CALLS.get((method, path))
    if call is None:
        return Reply(404, {"message": f"unknown control call {method} {CONTROL_PREFIX}{path}"})
    try:
        return Reply(200, call(emulator, account, decode(raw)))
    except (TypeError, ValueError, KeyError) as error:
        return Reply(400, {"message": str(error)})
