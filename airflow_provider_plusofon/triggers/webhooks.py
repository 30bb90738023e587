"""PlusofonWebhookTrigger: the sensor's check, polled in the triggerer without holding a worker."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent
from asgiref.sync import sync_to_async

from airflow_provider_plusofon.exceptions import SealKeyChangedError
from airflow_provider_plusofon.hooks.plusofon import DEFAULT_MAX_WORKERS, PlusofonHook
from airflow_provider_plusofon.webhooks.requirements import Check, check_once
from airflow_provider_plusofon.webhooks.spec import WebhookSpec, parse_specs


async def check_off_the_loop(
    hook: PlusofonHook, specs: list[WebhookSpec], *, sealed: bool, seal_check: str | None = None
) -> Check:
    """
    Check the requirements in a worker thread, so the event loop is not blocked.

    asgiref's ``sync_to_async``, not ``asyncio.to_thread``: reading the connection and masking its
    secrets sends requests to the triggerer's supervisor with ``async_to_sync``, which from a plain
    thread would run a second event loop on the loop's own socket (Airflow 3.1's triggerer dies of
    that). From a ``sync_to_async`` thread, they run on the triggerer's loop.
    """

    def check() -> Check:
        # hook.client reads the connection
        return check_once(hook.client, specs, sealed=sealed, seal_check=seal_check)

    return await sync_to_async(check, thread_sensitive=False)()


class PlusofonWebhookTrigger(BaseTrigger):
    """
    Poll the account until the required webhooks exist, or until ``end_time``.

    The hook's blocking calls run in a thread, so the triggerer's event loop is never blocked.
    Yields one event: ``{"status": "success", "result": ...}``, ``{"status": "timeout", ...}``,
    ``{"status": "token_changed", "end_time": ...}`` when the connection's token changed since the
    specs were sealed (the sensor seals them again and waits on), or, for what waiting cannot fix
    (bad credentials, invalid specs), ``{"status": "error", ...}``.

    :param webhooks: the raw specs (as validated by the sensor).
    :param sealed: the specs' header values and URL passwords are sealed with the connection's
        ``seal_key`` (the sensor seals them: Airflow stores trigger kwargs in its database).
    :param plusofon_conn_id: the Plusofon connection.
    :param poke_interval: seconds between checks.
    :param end_time: when to give up, as a POSIX timestamp; never when ``None``.
    :param max_workers: how many requests may run at once.
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
        hook = PlusofonHook(self.plusofon_conn_id, max_workers=self.max_workers)
        result: dict[str, Any] | None = None
        try:
            specs = parse_specs(self.webhooks)
        except Exception as error:
            yield TriggerEvent({"status": "error", "message": str(error)})
            return
        while True:
            try:
                check = await check_off_the_loop(hook, specs, sealed=self.sealed, seal_check=self.seal_check)
            except SealKeyChangedError as error:
                yield TriggerEvent({"status": "token_changed", "message": str(error), "end_time": self.end_time})
                return
            except Exception as error:
                yield TriggerEvent({"status": "error", "message": str(error)})
                return
            if check.result is None:
                self.log.warning("%s", check.waiting_reason)
            else:
                result = check.result
            if result is not None and result["all_satisfied"]:
                yield TriggerEvent({"status": "success", "result": result})
                return
            if result is not None:
                self.log.info(
                    "Waiting for Plusofon webhooks: %d missing, %d different",
                    len(result["missing"]),
                    len(result["different"]),
                )
            remaining = None if self.end_time is None else self.end_time - time.time()
            if remaining is not None and remaining <= 0:
                yield TriggerEvent(
                    {
                        "status": "timeout",
                        "result": result,
                        "message": "the required webhooks did not appear in time",
                    }
                )
                return
            await asyncio.sleep(self.poke_interval if remaining is None else min(self.poke_interval, remaining))
