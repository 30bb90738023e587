"""The record each ``EnsureWebhooksOperator`` run leaves in XCom for the Plusofon page (issue 35).

The page in Airflow's UI reads only what Airflow recorded. An audit's or a repair's own result
(``return_value``) names no account and is not pushed when the task fails, so a repair whose
approved plan went stale (``StalePlanError``) would look, there, like nothing happened. Each run
therefore pushes, under the XCom key ``plusofon_outcome``, what it found and did (see
:mod:`airflow_provider_plusofon.webhooks.outcome`), with the account's Client ID and connection,
also when it fails: before the error reaches Airflow; and under ``plusofon_specs`` the declared
webhooks beside what the account held. Pushing them never fails the task.
"""

from __future__ import annotations

from types import TracebackType
from typing import TYPE_CHECKING, Any

import pendulum

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_plusofon.webhooks.plan import Plan
    from airflow_provider_plusofon.webhooks.spec import WebhookSpec

RECORD_KEY = "plusofon_outcome"
# The declared webhooks beside the account's, apart: only an account's page reads them, and they are
# most of a record's size (the fleet page reads the other part of every task's latest record).
SPECS_KEY = "plusofon_specs"
_SPEC_PARTS = ("specs", "specs_total")


def split_record(record: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A run's record as its XComs: ``plusofon_outcome``, and ``plusofon_specs`` when it has specs."""
    outcome = {k: v for k, v in record.items() if k not in _SPEC_PARTS}
    specs = {k: record[k] for k in _SPEC_PARTS if k in record}
    return {RECORD_KEY: outcome, **({SPECS_KEY: specs} if specs else {})}


class OutcomeRecorder:
    """
    Around a run: ``with OutcomeRecorder(task, context) as recorder``, then ``on_plan=recorder.planned``
    for the core and :meth:`finished` with the run's summary; an error leaving the block is
    recorded (``stale`` or ``failed``) and goes on.

    :param task: the operator (its ``plusofon_conn_id`` and hook name the account).
    :param approved_plan_id: the plan the run applies, if a person approved one.
    """

    def __init__(self, task: Any, context: Context, approved_plan_id: str | None = None) -> None:
        self.task, self.context, self.approved_plan_id = task, context, approved_plan_id
        self.plan: Plan | None = None
        self.specs: list[WebhookSpec] | None = None

    def __enter__(self) -> OutcomeRecorder:
        return self

    def read(self, specs: list[WebhookSpec]) -> list[WebhookSpec]:
        """The specs the run read (a failure before its plan is still about them); returns them."""
        self.specs = specs
        return specs

    def planned(self, plan: Plan) -> None:
        self.plan = plan

    def finished(self, summary: dict[str, Any]) -> None:
        from airflow_provider_plusofon.webhooks.outcome import run_record

        if self.plan is not None:
            self._push(run_record(self.plan, summary, approved_plan_id=self.approved_plan_id))

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        if error is not None and isinstance(error, Exception):
            from airflow_provider_plusofon.webhooks.outcome import failed_record

            self._push(failed_record(error, self.plan, self.specs))

    def _push(self, record: dict[str, Any]) -> None:
        ti = self.context.get("ti") if self.context else None
        if ti is None:  # run outside a DAG run (a test, a script): nobody reads it
            return
        try:
            record = {
                **record,
                "client_id": self._client_id(),
                "conn_id": str(self.task.plusofon_conn_id),
                "at": pendulum.now("UTC").isoformat(),
            }
            for key, value in split_record(record).items():
                ti.xcom_push(key=key, value=value)
        except Exception as error:  # the page's record must never fail an audit or a repair
            self.task.log.warning("The Plusofon page's record of this run could not be kept: %s", error)

    def _client_id(self) -> str | None:
        try:
            return str(self.task.hook.config.client_id)
        except Exception:  # a connection that cannot be read: the run's error says why
            return None
