"""Answer a human-in-the-loop task beside ``dag.test()``, as a person or the scheduler does (demo and e2e tests)."""

from __future__ import annotations

import _thread
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any


def hitl_available() -> bool:
    """Whether this Airflow has approval tasks (3.1+). Imports Airflow: call it once its home is set."""
    try:
        from airflow.providers.standard.operators.hitl import ApprovalOperator  # noqa: F401
    except Exception:  # Airflow 3.0 raises AirflowOptionalProviderFeatureException
        return False
    return True


def _parks_tasks() -> bool:
    """Airflow 3.3 parks a waiting approval (state awaiting_input); 3.1 and 3.2 defer it to a trigger."""
    from airflow.sdk import exceptions

    return hasattr(exceptions, "TaskAwaitingInput")


def _let_dag_test_run_hitl_triggers() -> Callable[[], None]:
    """
    Airflow 3.1 and 3.2 defer an approval to HITLTrigger, and ``dag.test()`` runs that trigger in
    process. But the in-process supervisor does not answer the trigger's two requests (read the
    answer; record the default at a timeout), so the task fails with "Unhandled request" (3.3 parks
    the task instead and needs no trigger). Until then, answer them as the triggerer does
    (``TriggerRunnerSupervisor._handle_request``, the same calls). Returns what undoes it.
    """
    if _parks_tasks():  # no trigger to answer
        return lambda: None
    from airflow.jobs.triggerer_job_runner import HITLDetailResponseResult
    from airflow.sdk.execution_time import supervisor
    from airflow.sdk.execution_time.comms import GetHITLDetailResponse, UpdateHITLDetail

    in_process = supervisor.InProcessTestSupervisor
    original = in_process._handle_request

    def handle_request(self: Any, msg: Any, log: Any, req_id: int) -> None:
        if isinstance(msg, GetHITLDetailResponse):
            response = self.client.hitl.get_detail_response(ti_id=msg.ti_id)
        elif isinstance(msg, UpdateHITLDetail):
            response = self.client.hitl.update_response(
                ti_id=msg.ti_id, chosen_options=msg.chosen_options, params_input=msg.params_input
            )
        else:
            return original(self, msg, log, req_id)
        self.send_msg(HITLDetailResponseResult.from_api_response(response=response), request_id=req_id)
        return None

    in_process._handle_request = handle_request
    return lambda: setattr(in_process, "_handle_request", original)


class _Beside:
    """Runs ``act(run_id)`` in a thread once ``task_id`` of ``dag_id`` waits for an answer."""

    def __init__(self, dag_id: str, task_id: str) -> None:
        self.dag_id, self.task_id = dag_id, task_id
        self.subject: str | None = None
        self.body: str | None = None
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Any:
        self._restore = _let_dag_test_run_hitl_triggers()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._thread.join(60)
        self._restore()
        if self.error is not None:
            raise self.error

    def act(self, run_id: str) -> None:
        raise NotImplementedError

    def _run(self) -> None:
        try:
            self.act(self._wait_for_the_question())
        except BaseException as error:  # re-raised by __exit__, in the test's thread
            self.error = error
            # Unanswered, dag.test() would wait for the answer for ever: stop it, loudly.
            traceback.print_exc()
            _thread.interrupt_main()

    def _wait_for_the_question(self) -> str:
        from airflow.models.hitl import HITLDetail
        from airflow.models.taskinstance import TaskInstance
        from airflow.utils.session import create_session

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with create_session() as session:
                row = (
                    session.query(TaskInstance.run_id, TaskInstance.state, HITLDetail.subject, HITLDetail.body)
                    .join(HITLDetail, HITLDetail.ti_id == TaskInstance.id)
                    .filter(TaskInstance.dag_id == self.dag_id, TaskInstance.task_id == self.task_id)
                    .filter(HITLDetail.responded_at.is_(None))
                    .first()
                )
            # 3.3 resumes only a parked task; 3.1 and 3.2's trigger reads the answer whenever it comes
            if row is not None and (str(row.state) == "awaiting_input" or not _parks_tasks()):
                self.subject, self.body = row.subject, row.body
                return str(row.run_id)
            time.sleep(0.1)
        raise TimeoutError(f"{self.dag_id}.{self.task_id} never waited for an answer")


class Approver(_Beside):
    """
    Answer ``option`` as ``user`` through the API server's public route, as the Required actions
    page does: ``PATCH /api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/-1/hitlDetails``.
    ``before_answering`` runs first (to change the world while the question waits). ``subject``
    and ``body`` hold what the approver was shown.
    """

    def __init__(
        self,
        dag_id: str,
        task_id: str,
        option: str,
        *,
        user: str = "ops-reviewer",
        before_answering: Callable[[], None] | None = None,
    ) -> None:
        super().__init__(dag_id, task_id)
        self.option, self.user, self.before_answering = option, user, before_answering

    def act(self, run_id: str) -> None:
        from airflow.api_fastapi.app import create_app
        from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser
        from airflow.api_fastapi.core_api.security import get_user
        from fastapi.testclient import TestClient

        if self.before_answering is not None:
            self.before_answering()
        app = create_app(apps="core")
        app.dependency_overrides[get_user] = lambda: SimpleAuthManagerUser(username=self.user, role="admin")
        with TestClient(app) as api:
            answer = api.patch(
                f"/api/v2/dags/{self.dag_id}/dagRuns/{run_id}/taskInstances/{self.task_id}/-1/hitlDetails",
                json={"chosen_options": [self.option], "params_input": {}},
            )
        assert answer.status_code == 200, answer.text


class TimeoutSweep(_Beside):
    """
    Let the question time out unanswered. Airflow 3.1 and 3.2 time it out in the trigger, which
    ``dag.test()`` runs; on 3.3 the scheduler's sweep does, so it is run here once the time is up.
    """

    def act(self, run_id: str) -> None:
        if not _parks_tasks():
            return
        from airflow.jobs.job import Job
        from airflow.jobs.scheduler_job_runner import SchedulerJobRunner

        sweep = SchedulerJobRunner(job=Job(), executors=[]).check_awaiting_input_timeouts
        deadline = time.monotonic() + 30
        while self._still_waiting() and time.monotonic() < deadline:
            time.sleep(0.5)
            sweep()

    def _still_waiting(self) -> bool:
        from airflow.models.taskinstance import TaskInstance
        from airflow.utils.session import create_session

        with create_session() as session:
            states = session.query(TaskInstance.state).filter_by(dag_id=self.dag_id, task_id=self.task_id)
            return any(str(state) == "awaiting_input" for (state,) in states)
