"""PlusofonWebhookSensor: hold downstream tasks until the required webhooks exist."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow_provider_plusofon.compat import (
    AirflowFailException,
    AirflowSensorTimeout,
    AirflowSkipException,
    BaseSensorOperator,
    PokeReturnValue,
    conf,
)
from airflow_provider_plusofon.exceptions import PlusofonAuthError, PlusofonError
from airflow_provider_plusofon.hooks.plusofon import DEFAULT_MAX_WORKERS, PlusofonHook
from airflow_provider_plusofon.redaction import seal
from airflow_provider_plusofon.tasks.mixins import WebhookSpecsMixin

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_plusofon.webhooks.spec import WebhookSpec


class PlusofonWebhookSensor(WebhookSpecsMixin, BaseSensorOperator):
    """
    Wait until every required webhook exists on the account, as required.

    A required webhook is satisfied when an existing webhook has its identity (url, event and,
    when given, type_call) and every other field the spec names, so a sensor can require a header,
    not only an URL. The specs, their validation and their comparison are those of
    :class:`~airflow_provider_plusofon.operators.webhooks.EnsureWebhooksOperator`.

    Each check's result (``satisfied`` with ids, ``missing`` and ``different`` with the reasons)
    is logged and, once satisfied, returned as XCom. Bad credentials and invalid specs fail the
    task at once; an API that is down or rate limited (after the hook's retries) means "not yet".
    When the account refuses the credentials, the connection is read again first: a token rotated
    while the sensor waits (poking, or deferred) is taken up, and only an unchanged connection fails.

    With the account's ``plusofon://<client_id>/webhooks`` asset among its ``outlets``, the event
    Airflow emits when it succeeds has ``{"status": "verified", "verified_at": ...}`` as its extra.

    :param webhooks: a list of specs, or a path to a YAML/JSON file of them (templated).
    :param plusofon_conn_id: the Plusofon connection (templated).
    :param deferrable: wait in the triggerer instead of a worker slot (default from
        ``[operators] default_deferrable``): one try in the worker, then the trigger waits, with the
        specs' secret values sealed, since Airflow stores trigger arguments in its database. If the
        connection's token changes while it waits, the trigger hands back and the specs are sealed
        again with the new token, keeping the deadline.
    :param max_workers: how many requests may run at once.
    """

    template_fields: Sequence[str] = ("webhooks", "plusofon_conn_id")
    template_fields_renderers = {"webhooks": "yaml"}
    ui_color = "#e8f4fd"

    def __init__(
        self,
        *,
        webhooks: list[dict[str, Any]] | str,
        plusofon_conn_id: str = PlusofonHook.default_conn_name,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        max_workers: int = DEFAULT_MAX_WORKERS,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.webhooks = webhooks
        self.plusofon_conn_id = plusofon_conn_id
        self.deferrable = deferrable
        self.max_workers = max_workers

    def _load(self, context: Context | None) -> tuple[list[Any], list[WebhookSpec]]:
        """The raw specs (what the trigger is given) and their parsed form; invalid specs fail at once."""
        # The core (and the trigger) load when a task runs, not while the scheduler parses the DAG.
        from airflow_provider_plusofon.webhooks.spec import parse_specs

        try:
            raw = self.load_raw_specs(context)
            return raw, parse_specs(raw)
        except PlusofonError as error:
            raise AirflowFailException(str(error)) from error

    def _check(self, specs: list[WebhookSpec], *, max_retries: int | None = None) -> PokeReturnValue:
        from airflow_provider_plusofon.webhooks.requirements import check_once

        try:
            try:
                check = check_once(self.hook.get_conn(max_retries=max_retries), specs)
            except PlusofonAuthError:
                if not self.rotated_hook():  # the same credentials, refused: they are wrong
                    raise
                check = check_once(self.hook.get_conn(max_retries=max_retries), specs)
        except PlusofonError as error:
            raise AirflowFailException(str(error)) from error
        if check.result is None:
            self.log.warning("%s", check.waiting_reason)
            return PokeReturnValue(is_done=False)
        self._log_result(check.result)
        return PokeReturnValue(is_done=check.done, xcom_value=check.result)

    def poke(self, context: Context) -> PokeReturnValue:
        return self._check(self._load(context)[1])

    def _log_result(self, result: dict[str, Any]) -> None:
        self.log.info(
            "Plusofon webhooks: %d satisfied, %d missing, %d different",
            len(result["satisfied"]),
            len(result["missing"]),
            len(result["different"]),
        )
        for item in result["missing"]:
            self.log.info("  missing: %s %s (%s)", item["url"], item["event"], item["reason"])
        for item in result["different"]:
            self.log.info("  different: #%s %s: %s", item["id"], item["url"], ", ".join(item["changes"]))

    def execute(self, context: Context) -> Any:
        if not self.deferrable:
            return self._verified(context, super().execute(context))
        raw, specs = self._load(context)
        # One try in the worker: when it is not satisfied (or the API is failing), waiting and
        # retrying belong to the triggerer, not to a worker slot held through backoff.
        first = self._check(specs, max_retries=0)
        if first.is_done:
            return self._verified(context, first.xcom_value)
        self._defer(raw, end_time=time.time() + float(self.timeout))

    def _verified(self, context: Context, result: Any) -> Any:
        """The result, once the account's ``plusofon://`` asset outlets got the "verified" extra."""
        if getattr(self, "outlets", None):
            from airflow_provider_plusofon.tasks.events import emit_verified

            emit_verified(list(self.outlets), context, str(self.hook.config.client_id))
        return result

    def _defer(self, raw: list[Any], *, end_time: float | None) -> None:
        from airflow_provider_plusofon.triggers.webhooks import PlusofonWebhookTrigger

        config = self.hook.config
        self.defer(
            trigger=PlusofonWebhookTrigger(
                # Airflow keeps trigger kwargs in its database: secrets go there only as digests.
                webhooks=[seal(spec, config.seal_key) for spec in raw],
                sealed=True,
                plusofon_conn_id=self.plusofon_conn_id,
                poke_interval=float(self.poke_interval),
                end_time=end_time,
                max_workers=self.max_workers,
                seal_check=config.seal_check,
            ),
            method_name="execute_complete",
        )

    def execute_complete(self, context: Context, event: dict[str, Any]) -> Any:
        """Resume after the trigger: return the result, or fail (skip with ``soft_fail``) on timeout."""
        status = event.get("status")
        if status == "success":
            self._log_result(event["result"])
            return self._verified(context, event["result"])
        if status == "token_changed":
            # The specs were sealed with the old token: seal them with the new one and wait on.
            self.log.warning("Plusofon: %s; sealing the specs again and waiting on", event.get("message"))
            self._defer(self._load(context)[0], end_time=event.get("end_time"))
        message = event.get("message") or f"unexpected trigger event {event!r}"
        if status == "timeout":
            if event.get("result"):
                self._log_result(event["result"])
            if self.soft_fail:
                raise AirflowSkipException(f"Plusofon webhooks: {message}")
            raise AirflowSensorTimeout(f"Plusofon webhooks: {message}")
        raise AirflowFailException(f"Plusofon webhooks: {message}")
