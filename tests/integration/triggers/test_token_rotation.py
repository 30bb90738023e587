"""Issue 33: a routine token rotation fails no waiting sensor and no watcher.

The routine: the connection gets the new token, then the account revokes the old one. Triggers
already running meet the refusal (401) of the old token: the account's one shared reader reads the
connection again, once for all of them; it changed, so each deferred sensor seals its specs again
and waits on, and a watcher reads on with the new token, without a restart. Only an unchanged
connection makes a refusal the end of a wait.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from airflow.providers.common.compat.sdk import AirflowFailException, TaskDeferred

from airflow_provider_plusofon.sensors.webhooks import PlusofonWebhookSensor
from airflow_provider_plusofon.triggers import supervisor
from airflow_provider_plusofon.triggers import webhooks as trigger_module
from airflow_provider_plusofon.triggers.drift import PlusofonWebhookDriftTrigger
from airflow_provider_plusofon.triggers.webhooks import PlusofonWebhookTrigger
from tests.conftest import TOKEN, UNRELATED, LogLines
from tests.integration.triggers.test_drift import SPECS, Watch, matching, variables  # noqa: F401  (a fixture)

pytestmark = pytest.mark.integration

CRM = "https://crm.example.com/plusofon/calls"
SECRET = "rotation-header-secret-33"
REQUIRED = [{"url": CRM, "event": "create", "headers": [{"name": "X-Api-Key", "value": SECRET}]}]
NEW_TOKEN = "tok-ROTATED-2b7e"


def rotate(emulator, monkeypatch) -> None:
    """A routine rotation: the connection gets the new token, then the account revokes the old one."""
    monkeypatch.setenv(
        "AIRFLOW_CONN_PLUSOFON_DEFAULT",
        json.dumps({**emulator.connection_uri(), "password": NEW_TOKEN, "extra": {"timeout": 5, "max_retries": 3}}),
    )
    emulator.rotate_token(NEW_TOKEN)


def refusals(emulator) -> list[dict[str, Any]]:
    return [r for r in emulator.requests() if r["status"] == 401]


def refused_in_one_listing(emulator) -> bool:
    """Whether the old token was refused in one read of the account only: at most the requests
    one read has in flight when it is revoked (the account's 3 pages), not one read per waiter."""
    return 1 <= len(refusals(emulator)) <= 3


async def first_event(trigger: PlusofonWebhookTrigger) -> dict[str, Any]:
    async for event in trigger.run():
        return event.payload
    raise AssertionError("no event")


def deferred(call) -> PlusofonWebhookTrigger:
    with pytest.raises(TaskDeferred) as caught:
        call()
    return caught.value.trigger


class Sensors:
    """Deferred sensors, each resumed as Airflow resumes one (a new task instance) after each event."""

    def __init__(self, count: int, seen: list[str] | None = None) -> None:
        self.count = count
        self.token_changed = 0
        self.seen = seen if seen is not None else []  # what happened, in order

    @staticmethod
    def task(n: int) -> PlusofonWebhookSensor:
        return PlusofonWebhookSensor(
            task_id=f"wait_{n}", webhooks=REQUIRED, deferrable=True, poke_interval=0.05, timeout=120
        )

    async def wait(self, n: int, trigger: PlusofonWebhookTrigger) -> Any:
        while True:
            event = await first_event(trigger)
            self.token_changed += event["status"] == "token_changed"
            self.seen.append(event["status"])
            try:
                return self.task(n).execute_complete({}, event)
            except TaskDeferred as again:  # sealed again with the new token, the same deadline
                assert again.trigger.end_time == trigger.end_time
                trigger = again.trigger


def test_a_hundred_deferred_sensors_ride_out_a_token_rotation(emulator_conn, monkeypatch):
    seen: list[str] = []
    sensors = Sensors(100, seen)
    triggers = [deferred(lambda n=n: sensors.task(n).execute({})) for n in range(sensors.count)]
    assert {t.seal_check for t in triggers} == {triggers[0].seal_check}
    real_read = trigger_module.connection_config

    async def counted_read(conn_id: str):
        seen.append(f"read {conn_id}")
        return await real_read(conn_id)

    monkeypatch.setattr(trigger_module, "connection_config", counted_read)
    emulator_conn.state.clear_requests()  # what the sensors' first checks (in the worker) sent

    async def scenario() -> list[Any]:
        waits = [asyncio.create_task(sensors.wait(n, t)) for n, t in enumerate(triggers)]
        while emulator_conn.count("GET") < 2 * 3:  # two listings (3 pages each) found nothing yet
            await asyncio.sleep(0.01)
        seen.append("rotated")
        rotate(emulator_conn, monkeypatch)
        while sensors.token_changed < sensors.count:
            await asyncio.sleep(0.01)
        emulator_conn.state.add({**REQUIRED[0], "type_call": "inbound"})  # then the webhook appears
        return await asyncio.wait_for(asyncio.gather(*waits), 60)

    results = asyncio.run(asyncio.wait_for(scenario(), 90))

    assert len(results) == 100 and all(r["all_satisfied"] for r in results)  # none failed or timed out
    met = seen[seen.index("rotated") + 1 : seen.index("token_changed")]
    assert met == ["read plusofon_default"], json.dumps(seen)  # one read of the connection, for all 100
    assert sensors.token_changed == 100  # each sealed its specs again once
    assert refused_in_one_listing(emulator_conn)  # one shared reader met the refusal, once
    assert SECRET not in json.dumps([t.serialize() for t in triggers])


def test_a_refusal_of_an_unchanged_connection_still_ends_every_wait(emulator_conn, monkeypatch):
    sensors = Sensors(20)
    triggers = [deferred(lambda n=n: sensors.task(n).execute({})) for n in range(sensors.count)]
    emulator_conn.state.clear_requests()  # what the sensors' first checks (in the worker) sent

    async def scenario() -> list[Any]:
        waits = [asyncio.create_task(sensors.wait(n, t)) for n, t in enumerate(triggers)]
        while emulator_conn.count("GET") < 3:
            await asyncio.sleep(0.01)
        emulator_conn.rotate_token(NEW_TOKEN)  # revoked, and the connection was never told
        return await asyncio.wait_for(asyncio.gather(*waits, return_exceptions=True), 60)

    outcomes = asyncio.run(asyncio.wait_for(scenario(), 90))

    assert all(isinstance(o, AirflowFailException) for o in outcomes), outcomes
    assert "HTTP 401" in str(outcomes[0]) and TOKEN not in str(outcomes[0])
    assert sensors.token_changed == 0
    assert 1 <= len(refusals(emulator_conn)) <= 3  # one listing (its pages in flight), then every wait ended


@pytest.fixture
def watcher_said(monkeypatch) -> LogLines:
    """Each line a drift watcher says (and its account's reader, given its logger), once, whatever
    the release's logging makes of it (Airflow 3.0 prints each line twice)."""
    said = LogLines()
    said.debug = said.error = said.info  # type: ignore[method-assign]
    monkeypatch.setattr(PlusofonWebhookDriftTrigger, "log", said)
    return said


@pytest.mark.usefixtures("variables")  # the state a watcher keeps, in memory
def test_a_watcher_reads_on_with_the_new_token_without_a_restart(emulator_conn, monkeypatch, logs, watcher_said):
    emulator_conn.seed(matching())
    trigger = PlusofonWebhookDriftTrigger(webhooks=SPECS, poll_interval=0.02)
    starts: list[int] = []
    real_load = trigger._load_state
    reads: list[str] = []
    real_read = supervisor.connection_config

    async def counted_read(conn_id: str):
        reads.append(conn_id)
        return await real_read(conn_id)

    monkeypatch.setattr(supervisor, "connection_config", counted_read)

    async def counted_load():
        starts.append(1)
        return await real_load()

    monkeypatch.setattr(trigger, "_load_state", counted_load)

    async def scenario() -> list[dict[str, Any]]:
        async with Watch(trigger, emulator_conn) as watch:
            await watch.reads(3)
            rotate(emulator_conn, monkeypatch)
            await watch.reads(5)  # the refused read, then reads with the new token
            assert watch.events == []  # a rotation is no drift
            emulator_conn.seed([w for w in matching() if w.get("type_call") != "inbound"])  # then one drifts
            await watch.reads(5)
            return watch.events

    events = asyncio.run(asyncio.wait_for(scenario(), 60))

    assert [e["missing"] for e in events] == [[{"url": CRM, "event": "destroy", "type_call": "inbound"}]]
    assert starts == [1]  # the same run(): no restart
    assert reads == ["plusofon_default", "plusofon_default"]  # at the start, and once when refused
    assert refused_in_one_listing(emulator_conn)
    after = [r for r in emulator_conn.requests() if r["status"] != 401][-1]
    assert after["status"] == 200
    said = watcher_said.lines
    assert [line for line in said if "new credentials" in line] == [
        "Plusofon connection 'plusofon_default' has new credentials (the account refused the old ones): watching on "
        "with them"
    ]
    assert not [line for line in said if "interrupted" in line or "Cannot watch" in line]
    assert NEW_TOKEN not in logs() + "\n".join(said) and TOKEN not in logs() + "\n".join(said)


@pytest.mark.usefixtures("variables")  # the state a watcher keeps, in memory
def test_a_watcher_whose_connection_is_unchanged_warns_once_then_is_quiet(emulator_conn, monkeypatch, watcher_said):
    emulator_conn.seed(matching())
    trigger = PlusofonWebhookDriftTrigger(webhooks=SPECS, poll_interval=0.02)

    async def scenario() -> None:
        async with Watch(trigger, emulator_conn) as watch:
            await watch.reads(2)
            emulator_conn.rotate_token(NEW_TOKEN)  # revoked, and the connection was never told
            while len(refusals(emulator_conn)) < 5:  # it tries again each interval
                await asyncio.sleep(0.01)
            assert watch.events == []

    asyncio.run(asyncio.wait_for(scenario(), 60))

    said = [
        line for line in watcher_said.lines if line.startswith("Plusofon drift watch interrupted: GET /api/v1/webhooks")
    ]
    assert len(said) == 1 and "failed (HTTP 401): Unauthenticated." in said[0], said  # a list page or a detail view
    assert not [line for line in watcher_said.lines if "new credentials" in line]


def test_a_poking_sensor_takes_up_a_token_rotated_between_its_pokes(emulator_conn, monkeypatch, logs):
    emulator_conn.seed([*UNRELATED, {**REQUIRED[0], "type_call": "inbound"}])
    task = PlusofonWebhookSensor(task_id="wait", webhooks=[{"url": CRM, "event": "destroy"}], poke_interval=0.01)
    assert task.poke({}).is_done is False
    rotate(emulator_conn, monkeypatch)
    emulator_conn.state.add({"url": CRM, "event": "destroy"})

    assert task.poke({}).is_done is True
    assert task.hook.config.token == NEW_TOKEN
    assert refused_in_one_listing(emulator_conn)
    assert "has new credentials (the account refused the old ones): going on with them" in logs()
    emulator_conn.rotate_token("revoked-again-9")  # the connection unchanged: a refusal fails it
    with pytest.raises(AirflowFailException, match="HTTP 401"):
        task.poke({})


def test_a_connection_changed_into_one_that_cannot_work_ends_the_waits_saying_why(emulator_conn, monkeypatch):
    sensors = Sensors(10)
    triggers = [deferred(lambda n=n: sensors.task(n).execute({})) for n in range(sensors.count)]
    emulator_conn.state.clear_requests()

    async def scenario() -> list[Any]:
        waits = [asyncio.create_task(sensors.wait(n, t)) for n, t in enumerate(triggers)]
        while emulator_conn.count("GET") < 3:
            await asyncio.sleep(0.01)
        broken = {**emulator_conn.connection_uri(), "password": NEW_TOKEN, "host": "ftp://127.0.0.1"}
        monkeypatch.setenv("AIRFLOW_CONN_PLUSOFON_DEFAULT", json.dumps(broken))
        emulator_conn.rotate_token(NEW_TOKEN)
        return await asyncio.wait_for(asyncio.gather(*waits, return_exceptions=True), 60)

    outcomes = asyncio.run(asyncio.wait_for(scenario(), 90))

    assert all(isinstance(o, AirflowFailException) for o in outcomes), outcomes
    assert "Connection 'plusofon_default': the base URL must start with http:// or https://" in str(outcomes[0])
    assert NEW_TOKEN not in str(outcomes[0]) and TOKEN not in str(outcomes[0])


@pytest.mark.usefixtures("variables")  # the state a watcher keeps, in memory
def test_a_watcher_says_a_trouble_again_only_after_it_was_over(emulator_conn, monkeypatch, watcher_said):
    emulator_conn.seed(matching())
    trigger = PlusofonWebhookDriftTrigger(webhooks=SPECS, poll_interval=0.02)

    async def scenario() -> None:
        async with Watch(trigger, emulator_conn) as watch:
            await watch.reads(2)
            for _ in range(2):
                emulator_conn.rotate_token(NEW_TOKEN)  # refused while the connection is not told
                before = len(refusals(emulator_conn))
                while len(refusals(emulator_conn)) < before + 4:
                    await asyncio.sleep(0.01)
                emulator_conn.rotate_token(TOKEN)  # the connection's token works again
                await watch.reads(2)

    asyncio.run(asyncio.wait_for(scenario(), 60))

    said = [line for line in watcher_said.lines if "Plusofon drift watch" in line]
    # once a trouble, however long it lasted, whichever request (a list page, a detail view) met it
    assert len(said) == 2 and all("Plusofon drift watch interrupted: GET /api/v1/webhooks" in line for line in said)
    assert all("failed (HTTP 401): Unauthenticated." in line for line in said), said
