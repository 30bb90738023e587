"""PlusofonWebhookTrigger: the sensor's check, polled in the triggerer without holding a worker."""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_plusofon.exceptions import SealKeyChangedError
from airflow_provider_plusofon.hooks.plusofon import DEFAULT_MAX_WORKERS, PlusofonHook
from airflow_provider_plusofon.triggers.supervisor import connection_config, freeze_long_lived_objects
from airflow_provider_plusofon.webhooks.requirements import check_seal
from airflow_provider_plusofon.webhooks.spec import parse_specs
from airflow_provider_plusofon.webhooks.watch import Waiter, shared_reader, take_turn


class PlusofonWebhookTrigger(BaseTrigger):
    """
    Poll the account until the required webhooks exist, or until ``end_time``.

    Triggers waiting on the same account in one triggerer share one reader of it
    (:func:`~airflow_provider_plusofon.webhooks.watch.shared_reader`): one listing per interval
    (the shortest of theirs), whatever their specs, on the event loop, with no thread per request
    or per trigger.
    Yields one event: ``{"status": "success", "result": ...}``, ``{"status": "timeout", ...}``,
    ``{"status": "token_changed", "end_time": ...}`` when the connection's token changed since the
    specs were sealed (the sensor seals them again and waits on), or, for what waiting cannot fix
    (bad credentials, invalid specs), ``{"status": "error", ...}``. A token rotated while it waits
    is met by the account refusing the old one: the shared reader then reads the connection again
    (once for every trigger on the account), and when it changed this trigger yields
    ``token_changed``; only an unchanged connection makes the refusal an ``error``.

    :param webhooks: the raw specs (as validated by the sensor).
    :param sealed: the specs' header values and URL passwords are sealed with the connection's
        ``seal_key`` (the sensor seals them: Airflow stores trigger kwargs in its database).
    :param plusofon_conn_id: the Plusofon connection.
    :param poke_interval: seconds between checks.
    :param end_time: when to give up, as a POSIX timestamp; never when ``None``.
    :param max_workers: how many requests the account's shared reader may have in flight at once
        (the first waiting trigger's say).
    :param seal_check: the connection's ``seal_check`` when the specs were sealed, to tell a
        token change from drift (triggers stored by 0.1.0 have none, and cannot tell).
    """

    def __init__(
        self,
        webhooks: list[dict[str, Any]],
        sealed: bool = False,
        plusofon_conn_id: str = PlusofonHook.default_conn_name,
        poke_interval: float = 60.0,
        end_time: float | None = None,
        max_workers: int = DEFAULT_MAX_WORKERS,
        seal_check: str | None = None,
    ) -> None:
        super().__init__()
        self.webhooks = webhooks
        self.sealed = sealed
        self.plusofon_conn_id = plusofon_conn_id
        self.poke_interval = poke_interval
        self.end_time = end_time
        self.max_workers = max_workers
        self.seal_check = seal_check

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "webhooks": self.webhooks,
                "sealed": self.sealed,
                "plusofon_conn_id": self.plusofon_conn_id,
                "poke_interval": self.poke_interval,
                "end_time": self.end_time,
                "max_workers": self.max_workers,
                # Only when set: a trigger stored by 0.1.0 keeps exactly the kwargs it had.
                **({"seal_check": self.seal_check} if self.seal_check is not None else {}),
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        freeze_long_lived_objects()
        try:
            await take_turn()
            specs = parse_specs(self.webhooks)
            config = await connection_config(self.plusofon_conn_id)
            await take_turn()
            check_seal(config, sealed=self.sealed, seal_check=self.seal_check)
        except SealKeyChangedError as error:
            yield TriggerEvent({"status": "token_changed", "message": str(error), "end_time": self.end_time})
            return
        except Exception as error:
            yield TriggerEvent({"status": "error", "message": str(error)})
            return
        reread = functools.partial(connection_config, self.plusofon_conn_id)
        reader = shared_reader(config, max_concurrency=self.max_workers, logger=self.log, reread=reread)
        # A trigger stored by 0.1.0 has no seal_check, and its specs are sealed as 0.1.0 sealed.
        waiter = reader.subscribe(
            specs, sealed=self.sealed, sealed_by_0_1=self.seal_check is None, interval=self.poke_interval
        )
        try:
            event = await self._wait(waiter)
        finally:
            # Before the event: the triggerer may close this generator long after it was yielded.
            waiter.leave()
        yield event

    async def _wait(self, waiter: Waiter) -> TriggerEvent:
        """The one event this trigger ends with: success, timeout or an error waiting cannot fix."""
        result: dict[str, Any] | None = None
        said = None
        while True:
            remaining = None if self.end_time is None else self.end_time - time.time()
            if remaining is not None and remaining <= 0:
                message = "the required webhooks did not appear in time"
                return TriggerEvent({"status": "timeout", "result": result, "message": message})
            try:
                check = await asyncio.wait_for(waiter.next(), remaining)
            except asyncio.TimeoutError:
                continue
            except SealKeyChangedError as error:  # the token rotated while it waited
                return TriggerEvent({"status": "token_changed", "message": str(error), "end_time": self.end_time})
            except Exception as error:
                return TriggerEvent({"status": "error", "message": str(error)})
            result = check.result if check.result is not None else result
            if result is not None and result["all_satisfied"]:
                return TriggerEvent({"status": "success", "result": result})
            # Said when it changes: a thousand waiting triggers must not log a line each per read.
            if check.result is None:
                saying = check.waiting_reason
                if saying != said:
                    self.log.warning("%s", saying)
            else:
                missing, different = len(check.result["missing"]), len(check.result["different"])
                saying = f"Waiting for Plusofon webhooks: {missing} missing, {different} different"
                if saying != said:
                    self.log.info("%s", saying)
            said = saying
