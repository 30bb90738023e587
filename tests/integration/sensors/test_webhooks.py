"""PlusofonWebhookSensor and PlusofonWebhookTrigger against the emulator."""

from __future__ import annotations

import json
import time

import pytest
from airflow.providers.common.compat.sdk import (
    AirflowFailException,
    AirflowSensorTimeout,
    AirflowSkipException,
    TaskDeferred,
)

from airflow_provider_plusofon.sensors.webhooks import PlusofonWebhookSensor
from airflow_provider_plusofon.triggers.webhooks import PlusofonWebhookTrigger
from tests.conftest import TOKEN

pytestmark = pytest.mark.integration

CRM = "https://crm.example.com/plusofon/calls"
SECRET = "sensor-header-secret-91"
REQUIRED = [
    {"url": CRM, "event": "create", "headers": [{"name": "X-Api-Key", "value": SECRET}]},
    {"url": CRM, "event": "destroy"},
]


def sensor(**kwargs) -> PlusofonWebhookSensor:
    kwargs.setdefault("webhooks", REQUIRED)
    return PlusofonWebhookSensor(task_id="wait", poke_interval=0.01, timeout=5, **kwargs)


def test_poke_false_then_true(emulator_conn, logs):
    task = sensor()
    first = task.poke({})
    assert first.is_done is False
    assert [(m["url"], m["event"]) for m in first.xcom_value["missing"]] == [
        (CRM, "create"),
        (CRM, "destroy"),
    ]
    emulator_conn.seed(
        [
            {"url": CRM, "event": "create", "headers": [{"name": "X-Api-Key", "value": SECRET}]},
            {"url": CRM, "event": "destroy"},
        ]
    )
    second = task.poke({})
    assert second.is_done is True
    assert [(s["id"], s["event"]) for s in second.xcom_value["satisfied"]] == [(1, "create"), (2, "destroy")]
    text = logs()
    assert "Plusofon webhooks: 0 satisfied, 2 missing, 0 different" in text
    assert "Plusofon webhooks: 2 satisfied, 0 missing, 0 different" in text
    assert SECRET not in text + json.dumps(second.xcom_value)
    assert TOKEN not in text


def test_required_header_missing_is_not_satisfied_with_reason(emulator_conn, logs):
    emulator_conn.seed([{"url": CRM, "event": "create"}, {"url": CRM, "event": "destroy"}])
    result = sensor().poke({})
    assert result.is_done is False
    [different] = result.xcom_value["different"]
    assert different["id"] == 1
    assert different["changes"] == {"headers": {"added": ["X-Api-Key"], "removed": [], "changed": []}}
    assert "different: #1 https://crm.example.com/plusofon/calls: headers" in logs()


def test_auth_error_fails_at_once(emulator_conn, monkeypatch):
    conn = {**emulator_conn.connection_uri(), "password": "not-the-token"}
    monkeypatch.setenv("AIRFLOW_CONN_PLUSOFON_DEFAULT", json.dumps(conn))
    with pytest.raises(AirflowFailException, match="HTTP 401"):
        sensor().poke({})
    assert emulator_conn.count() == 1


def test_invalid_specs_fail_at_once_without_requests(emulator_conn):
    with pytest.raises(AirflowFailException, match="field 'event': 'hangup'"):
        sensor(webhooks=[{"url": CRM, "event": "hangup"}]).poke({})
    assert emulator_conn.count() == 0


def test_transient_error_is_not_yet(emulator_conn, logs):
    emulator_conn.inject("status", status=503, count=10)
    result = sensor().poke({})
    assert result.is_done is False
    assert emulator_conn.count() == 4  # the hook's own retries first
    assert "Plusofon API unavailable, will check again" in logs()


def test_poke_mode_execute_runs_until_satisfied(emulator_conn):
    emulator_conn.seed([{"url": CRM, "event": "create", "headers": [{"name": "X-Api-Key", "value": SECRET}]}])
    task = sensor()
    original = task.poke
    calls = []

    def poke_and_fix(context):
        calls.append(1)
        if len(calls) == 2:
            emulator_conn.state.add({"url": CRM, "event": "destroy"})
        return original(context)

    task.poke = poke_and_fix  # type: ignore[method-assign]
    result = task.execute({})
    assert len(calls) == 2  # the first poke found one missing; the second, after the fix, none
    assert len(result["satisfied"]) == 2


# -- deferrable ----------------------------------------------------------------------------------


def test_deferrable_returns_at_once_when_satisfied(emulator_conn):
    emulator_conn.seed(
        [
            {"url": CRM, "event": "create", "headers": [{"name": "X-Api-Key", "value": SECRET}]},
            {"url": CRM, "event": "destroy"},
        ]
    )
    assert sensor(deferrable=True).execute({})["all_satisfied"] is True


@pytest.mark.parametrize("deferrable", [False, True], ids=["poke", "deferrable"])
def test_a_satisfied_sensor_marks_the_accounts_asset_verified(emulator_conn, deferrable):
    from airflow.sdk import Asset

    from tests.unit.tasks.test_events import OutletEvents

    emulator_conn.seed([{"url": CRM, "event": "create", "headers": [{"name": "X-Api-Key", "value": SECRET}]}])
    emulator_conn.state.add({"url": CRM, "event": "destroy"})
    webhooks = Asset("plusofon://10553/webhooks")
    context = {"outlet_events": OutletEvents()}
    sensor(deferrable=deferrable, outlets=[webhooks]).execute(context)
    extra = context["outlet_events"][webhooks].extra
    assert (extra["status"], extra["client_id"]) == ("verified", "10553")


def test_deferrable_defers_to_the_trigger(emulator_conn):
    started = time.time()
    with pytest.raises(TaskDeferred) as deferred:
        sensor(deferrable=True).execute({})
    trigger = deferred.value.trigger
    assert isinstance(trigger, PlusofonWebhookTrigger)
    assert deferred.value.method_name == "execute_complete"
    # What Airflow stores for the trigger (its kwargs) carries the header secret only as a digest.
    assert trigger.sealed is True
    assert SECRET not in json.dumps(trigger.serialize()[1])
    assert [{k: v for k, v in spec.items() if k != "headers"} for spec in trigger.webhooks] == [
        {k: v for k, v in spec.items() if k != "headers"} for spec in REQUIRED
    ]
    assert trigger.webhooks[0]["headers"][0]["value"].startswith("sealed-")
    assert started + 5 <= trigger.end_time <= time.time() + 5
    assert trigger.poke_interval == 0.01


def test_execute_complete_on_each_event():
    task = sensor()
    result = {"satisfied": [], "missing": [], "different": [], "all_satisfied": True}
    assert task.execute_complete({}, {"status": "success", "result": result}) == result
    with pytest.raises(AirflowSensorTimeout, match="did not appear"):
        task.execute_complete(
            {},
            {"status": "timeout", "result": None, "message": "the required webhooks did not appear in time"},
        )
    with pytest.raises(AirflowSkipException):
        sensor(soft_fail=True).execute_complete({}, {"status": "timeout", "message": "late"})
    with pytest.raises(AirflowFailException, match="HTTP 401"):
        task.execute_complete({}, {"status": "error", "message": "GET /api/v1/webhooks failed (HTTP 401)"})


@pytest.mark.parametrize("host", ["ftp://127.0.0.1:21", "http://u:p@127.0.0.1"])
def test_a_connection_that_cannot_work_fails_at_once_not_later(emulator_conn, monkeypatch, waits, host):
    monkeypatch.setenv("AIRFLOW_CONN_PLUSOFON_DEFAULT", json.dumps({**emulator_conn.connection_uri(), "host": host}))
    with pytest.raises(AirflowFailException, match="base URL"):
        sensor().poke({})
    assert waits == []


def test_deferrable_sensor_defers_after_one_try_when_the_api_fails(emulator_conn, waits):
    # The worker slot is not held through the retries' backoff: the trigger does the waiting.
    emulator_conn.inject("status", status=503, count=10)
    with pytest.raises(TaskDeferred):
        sensor(deferrable=True).execute({})
    assert emulator_conn.count() == 1
    assert waits == []
