"""PlusofonWebhookDriftTrigger: an asset watcher that reports each time an account drifts from its specs."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import pendulum
from airflow.triggers.base import BaseEventTrigger, TriggerEvent

from airflow_provider_plusofon.hooks.plusofon import DEFAULT_MAX_WORKERS, PlusofonHook
from airflow_provider_plusofon.triggers.templates import refuse_literal_secrets

if TYPE_CHECKING:
    from airflow_provider_plusofon.webhooks.drift import DriftState
    from airflow_provider_plusofon.webhooks.watch import Waiter

# The trigger is built where its DAG is parsed (an AssetWatcher holds it): what it needs to watch
# (the core, httpx) is imported in the triggerer, when it runs.

# The last read (and while the account matches, "last seen matching") is stored at most this often: it
# is read after a restart, where a stale one only widens the lost-call window (more reloaded, nothing
# lost), and by the Plusofon page, which says a watcher silent for three times this is not reading.
KEEP_MATCHING_EVERY = pendulum.duration(minutes=5)
STATE_KEY = "plusofon_drift_state"


class PlusofonWebhookDriftTrigger(BaseEventTrigger):
    """
    Watch an account for drift from declared webhooks: for an ``AssetWatcher`` on the account's
    drift asset (``plusofon://<client_id>/webhooks/drift``), so that the repair starts within one
    poll interval of the drift.

    It reads the account every ``poll_interval`` (sharing one reader with every trigger and sensor
    waiting on that account in the triggerer), compares it with the specs, and yields one event per
    drift episode: when the account stops matching, and again when what drifted changes; none while
    it matches or while the same drift persists, also across triggerer restarts (the last state is
    kept in the asset's state store on Airflow 3.3, in a Variable before; it is kept before the event
    is handed on, so an event lost in a triggerer crash right then is not sent again: the daily
    schedule is the net). The event's payload::

        {"status": "drift", "episode": "drift-…", "plan_id": "plan-…", "missing": [identities], "different":
         [identities with field names], "duplicates": [labels], "detected_at": ISO 8601,
         "drifted_since": ISO 8601, "last_matching_at": ISO 8601 or None, "declared": "declared-…"}

    names what drifted, never a value. Errors (bad credentials, templates that do not render) are
    logged once and tried again each interval: a watcher does not end. A token rotated while it
    watches is met by the account refusing the old one: the connection is read again (once for
    every trigger on the account) and, when it changed, the watch goes on with the new token at
    once, said once in the log.

    Its kwargs hold the specs and params as JSON text: Airflow 3.0 to 3.3 link a watcher to its asset
    by a hash of the kwargs, which changes once nested lists and dicts are stored and read back,
    and then the watcher is never started (text keeps its hash).

    :param webhooks: the specs (or their JSON text), as for ``EnsureWebhooksOperator``; header and
        param values and URL credentials as templates (``{{ var.value.NAME }}``, ``{{ conn.ID.password }}``), rendered
        in the triggerer: the kwargs are stored in the serialized DAG, so a value in clear is refused.
    :param plusofon_conn_id: the Plusofon connection.
    :param params: values for ``{{ params.NAME }}`` in the specs (a DAG's default params, say), or
        their JSON text; stored in the kwargs, so nothing secret.
    :param poll_interval: seconds between reads of the account (60 by default).
    :param max_workers: requests the account's shared reader may have in flight at once.
    """

    def __init__(
        self,
        webhooks: list[dict[str, Any]] | str,
        plusofon_conn_id: str = PlusofonHook.default_conn_name,
        params: dict[str, Any] | str | None = None,
        poll_interval: float = 60.0,
        max_workers: int = DEFAULT_MAX_WORKERS,
    ) -> None:
        super().__init__()
        self.webhooks: list[dict[str, Any]] = json.loads(webhooks) if isinstance(webhooks, str) else list(webhooks)
        refuse_literal_secrets(self.webhooks, owner=type(self).__name__)
        self.plusofon_conn_id = plusofon_conn_id
        self.params: dict[str, Any] = json.loads(params) if isinstance(params, str) else dict(params or {})
        self.poll_interval = float(poll_interval)
        self.max_workers = max_workers
        self._state: DriftState | None = None
        self._stored: DriftState | None = None
        self._said: str | None = None
        self._client_id: str | None = None
        self._declared: str | None = None

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "webhooks": json.dumps(self.webhooks, sort_keys=True),
                "plusofon_conn_id": self.plusofon_conn_id,
                "params": json.dumps(self.params, sort_keys=True),
                "poll_interval": self.poll_interval,
                "max_workers": self.max_workers,
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        from airflow_provider_plusofon.triggers.supervisor import freeze_long_lived_objects

        freeze_long_lived_objects()
        self._stored = self._state = await self._load_state()
        while True:
            try:
                waiter = await self._subscribe()
            except Exception as error:
                await self._failed(f"Cannot watch the Plusofon account: {error}", error)
                await asyncio.sleep(self.poll_interval)
                continue
            try:
                async for event in self._watch(waiter):
                    yield event
            except Exception as error:  # the reader dropped this waiter: start again next interval
                await self._failed(f"Plusofon drift watch interrupted: {error}", error)
            finally:
                waiter.leave()
            await asyncio.sleep(self.poll_interval)

    async def _subscribe(self) -> Waiter:
        import functools

        from airflow_provider_plusofon.triggers.supervisor import connection_config, one_at_a_time
        from airflow_provider_plusofon.triggers.templates import render_templates
        from airflow_provider_plusofon.webhooks.outcome import declaration_of
        from airflow_provider_plusofon.webhooks.spec import parse_specs
        from airflow_provider_plusofon.webhooks.watch import shared_reader, take_turn

        await take_turn()
        config = await connection_config(self.plusofon_conn_id)
        self._client_id = str(config.client_id)
        specs = parse_specs(await one_at_a_time(lambda: render_templates(self.webhooks, self.params)))
        self._declared = declaration_of(specs)
        reread = functools.partial(connection_config, self.plusofon_conn_id)
        reader = shared_reader(config, max_concurrency=self.max_workers, logger=self.log, reread=reread)
        return reader.subscribe(specs, sealed=False, sealed_by_0_1=False, interval=self.poll_interval)

    async def _watch(self, waiter: Waiter) -> AsyncIterator[TriggerEvent]:
        """Each drift event; the state it leaves is stored before the event is handed on."""
        from airflow_provider_plusofon.webhooks.drift import observe

        handovers = waiter.handovers
        while True:
            check = await waiter.next()
            if waiter.handovers != handovers:  # once a rotation, not once a poll
                handovers = waiter.handovers
                self.log.warning(
                    "Plusofon connection %r has new credentials (the account refused the old ones): watching on "
                    "with them",
                    self.plusofon_conn_id,
                )
            if check.result is None:
                await self._failed(check.waiting_reason, check.unavailable)
                continue
            self._said = None  # the account was read: a trouble said before is said again if it comes back
            now = pendulum.now("UTC")
            state, event = observe(self._state, check.result, now, check.plan_id)
            self._state = self._ours(state)
            if event is not None:
                event = {**event, "declared": self._declared}
            if event is not None or _worth_keeping(self._stored, self._state, now):
                await self._save_state(self._state)  # before the event: a restart must not repeat it
            if event is not None:
                self.log.warning(
                    "Plusofon webhooks drifted (%s): %d missing, %d different, %d duplicated",
                    event["episode"],
                    *(len(event[k]) for k in ("missing", "different", "duplicates")),
                )
                yield TriggerEvent(event)

    async def _failed(self, text: str, trouble: BaseException | None) -> None:
        """A read that failed: said (see :meth:`_say`), and kept in the state when its reason is new
        (the Plusofon page in Airflow's UI shows it)."""
        from airflow_provider_plusofon.webhooks.drift import read_failed

        self._say(text, trouble)
        self._state = self._ours(read_failed(self._state, text, pendulum.now("UTC")))
        if _worth_keeping(self._stored, self._state, pendulum.now("UTC")):
            await self._save_state(self._state)

    def _ours(self, state: DriftState) -> DriftState:
        """The state, naming this watcher's account, declaration and poll interval (once they are known)."""
        return replace(
            state,
            client_id=self._client_id or state.client_id,
            declared=self._declared or state.declared,
            poll_interval=self.poll_interval,
        )

    def _say(self, text: str, trouble: BaseException | None) -> None:
        """Log a warning once a trouble: a watcher polls for months, and one broken connection must
        not log a line a poll. A trouble is its kind (the error's class and status, whichever
        request met it); it is said again only once the account was read since."""
        kind = f"{type(trouble).__name__}:{getattr(trouble, 'status_code', '')}"
        if kind != self._said:
            self.log.warning("%s", text)
        self._said = kind

    # -- where the last state is kept --------------------------------------------------------

    @property
    def state_variable(self) -> str:
        """The Variable that keeps this watcher's state before Airflow 3.3: one per account, specs and
        params (not per poll interval: a new interval keeps what was reported)."""
        kept = {k: v for k, v in self.serialize()[1].items() if k in ("plusofon_conn_id", "webhooks", "params")}
        digest = hashlib.sha256(json.dumps(kept, sort_keys=True).encode()).hexdigest()[:16]
        return f"{STATE_KEY}_{digest}"

    async def _load_state(self) -> DriftState | None:
        from airflow_provider_plusofon.triggers.supervisor import one_at_a_time
        from airflow_provider_plusofon.webhooks.drift import DriftState

        try:
            found, kept = await self._in_asset_store(lambda store: store.aget(STATE_KEY))
            if not found:
                kept = await one_at_a_time(lambda: _get_variable(self.state_variable))
            return DriftState.from_json(kept if kept is None or isinstance(kept, str) else json.dumps(kept))
        except Exception as error:
            self.log.warning("Plusofon drift state could not be read, starting afresh: %s", error)
            return None

    async def _save_state(self, state: DriftState) -> None:
        from airflow_provider_plusofon.triggers.supervisor import one_at_a_time

        try:
            # The store keeps JSON values; a Variable, text.
            found, _ = await self._in_asset_store(lambda store: store.aset(STATE_KEY, json.loads(state.to_json())))
            if not found:
                await one_at_a_time(lambda: _set_variable(self.state_variable, state.to_json()))
            self._stored = state
        except Exception as error:
            self.log.warning("Plusofon drift state could not be kept (a restart may report it again): %s", error)

    async def _in_asset_store(self, call: Callable[[Any], Awaitable[Any]]) -> tuple[bool, Any]:
        """``call`` on Airflow 3.3's state store of the watched asset: ``(True, its answer)``, or
        ``(False, None)`` before 3.3, or for a watcher linked to several assets (the store's
        shortcuts serve one, and raise ``ValueError``): a Variable keeps the state then."""
        store = getattr(self, "asset_state_store", None)
        if store is None:
            return False, None
        try:
            return True, await call(store)
        except ValueError:
            return False, None


def _worth_keeping(stored: DriftState | None, new: DriftState, now: pendulum.DateTime) -> bool:
    """Whether to store the state after a read without an event: when it differs from the one
    stored other than by a fresher last read, or when the stored one is old."""
    if stored is None or _without_reads(stored) != _without_reads(new):
        return True
    if new.last_read_at == stored.last_read_at:
        return False
    return stored.last_read_at is None or pendulum.parse(stored.last_read_at) < now - KEEP_MATCHING_EVERY  # type: ignore[operator]


def _without_reads(state: DriftState) -> DriftState:
    return replace(state, last_read_at=None, last_matching_at=None if state.episode is None else state.last_matching_at)


def _get_variable(key: str) -> str | None:
    from airflow.sdk import Variable

    value = Variable.get(key, default=None)
    return None if value is None else str(value)


def _set_variable(key: str, value: str) -> None:
    from airflow.sdk import Variable

    Variable.set(key, value, description="Kept by PlusofonWebhookDriftTrigger: what it last reported")
