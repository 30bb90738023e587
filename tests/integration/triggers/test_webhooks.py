"""PlusofonWebhookTrigger against the emulator: events, waiting, never blocking the event loop."""

from __future__ import annotations

import asyncio
import json
import time

import pytest

from airflow_provider_plusofon.triggers.webhooks import PlusofonWebhookTrigger
from tests.integration.sensors.test_webhooks import CRM, REQUIRED, SECRET

pytestmark = pytest.mark.integration


def test_trigger_serialize_round_trip():
    trigger = PlusofonWebhookTrigger(
        webhooks=REQUIRED, plusofon_conn_id="c", poke_interval=30, end_time=123.5, max_workers=2
    )
    classpath, kwargs = trigger.serialize()
    assert classpath == "airflow_provider_plusofon.triggers.webhooks.PlusofonWebhookTrigger"
    json.dumps(kwargs)
    rebuilt = PlusofonWebhookTrigger(**kwargs)
    assert rebuilt.serialize() == (classpath, kwargs)


def test_the_serialized_kwargs_are_those_of_0_1_0():
    # Triggers stored in the metadata database by 0.1.0 are re-created from exactly these kwargs.
    stored = {
        "webhooks": [{"url": "https://crm.example.com/calls", "event": "create"}],
        "sealed": True,
        "plusofon_conn_id": "plusofon_default",
        "poke_interval": 60.0,
        "end_time": 1800000000.0,
        "max_workers": 8,
    }
    classpath, kwargs = PlusofonWebhookTrigger(**stored).serialize()
    assert classpath == "airflow_provider_plusofon.triggers.webhooks.PlusofonWebhookTrigger"
    assert kwargs == stored
    assert PlusofonWebhookTrigger(stored["webhooks"]).serialize()[1] == {
        **stored,
        "sealed": False,
        "end_time": None,
    }


async def first_event(trigger: PlusofonWebhookTrigger):
    async for event in trigger.run():
        return event.payload
    return None


def test_trigger_yields_success_once_webhooks_appear(emulator_conn):
    trigger = PlusofonWebhookTrigger(webhooks=REQUIRED, poke_interval=0.05, end_time=time.time() + 10)

    async def scenario():
        task = asyncio.create_task(first_event(trigger))
        while emulator_conn.count("GET") < 2:  # it read the account twice and found nothing
            await asyncio.sleep(0.01)
        assert not task.done()
        emulator_conn.seed(
            [
                {"url": CRM, "event": "create", "headers": [{"name": "X-Api-Key", "value": SECRET}]},
                {"url": CRM, "event": "destroy"},
            ]
        )
        return await asyncio.wait_for(task, 5)

    payload = asyncio.run(scenario())
    assert payload["status"] == "success"
    assert payload["result"]["all_satisfied"] is True
    assert emulator_conn.count("GET") >= 3


def test_trigger_does_not_block_the_event_loop(emulator_conn, monkeypatch):
    # Nothing that waits on the network or a clock may run on the loop's own thread: every request
    # goes out asynchronously, and a slow answer (300 ms here) holds no other coroutine.
    import threading

    import requests

    loop_thread: list[threading.Thread] = []
    blocked: list[str] = []

    def on_the_loop(name: str):
        def refuse(*args, **kwargs):
            if loop_thread and threading.current_thread() is loop_thread[0]:
                blocked.append(name)
            return originals[name](*args, **kwargs)

        return refuse

    originals = {"requests": requests.Session.send, "sleep": time.sleep}
    monkeypatch.setattr(requests.Session, "send", on_the_loop("requests"))
    monkeypatch.setattr(time, "sleep", on_the_loop("sleep"))
    emulator_conn.latency_ms = 300
    trigger = PlusofonWebhookTrigger(webhooks=REQUIRED, poke_interval=0.01, end_time=time.time() + 0.5)
    ticks = []

    async def ticker():
        while len(ticks) < 3 or emulator_conn.count("GET") < 2:  # ticking while answers are awaited
            ticks.append(emulator_conn.count("GET"))
            await asyncio.sleep(0.01)

    async def scenario():
        loop_thread.append(threading.current_thread())
        return await asyncio.gather(first_event(trigger), ticker())

    payload, _ = asyncio.run(scenario())
    assert payload["status"] == "timeout"
    assert blocked == []
    assert ticks.count(ticks[0]) > 1  # the loop ran other work while the first answer was awaited


def test_trigger_times_out(emulator_conn):
    # A second to time out in: long enough for a read of the account on a busy machine.
    trigger = PlusofonWebhookTrigger(webhooks=REQUIRED, poke_interval=0.05, end_time=time.time() + 1)
    payload = asyncio.run(asyncio.wait_for(first_event(trigger), 5))
    assert payload["status"] == "timeout"
    assert len(payload["result"]["missing"]) == 2


def test_trigger_reports_auth_error(emulator_conn, monkeypatch):
    monkeypatch.setenv(
        "AIRFLOW_CONN_PLUSOFON_DEFAULT",
        json.dumps({**emulator_conn.connection_uri(), "password": "nope-nope"}),
    )
    payload = asyncio.run(
        asyncio.wait_for(first_event(PlusofonWebhookTrigger(webhooks=REQUIRED, end_time=time.time() + 5)), 5)
    )
    assert payload["status"] == "error"
    assert "HTTP 401" in payload["message"]


def test_trigger_keeps_waiting_through_transient_errors(emulator_conn):
    emulator_conn.seed(
        [
            {"url": CRM, "event": "create", "headers": [{"name": "X-Api-Key", "value": SECRET}]},
            {"url": CRM, "event": "destroy"},
        ]
    )
    emulator_conn.inject("status", status=503, count=4)  # the first check fails after its retries
    trigger = PlusofonWebhookTrigger(webhooks=REQUIRED, poke_interval=0.01, end_time=time.time() + 10)
    payload = asyncio.run(asyncio.wait_for(first_event(trigger), 5))
    assert payload["status"] == "success"


def test_sealed_specs_tell_the_right_header_value_from_a_wrong_one(emulator_conn):
    from airflow_provider_plusofon.hooks.plusofon import PlusofonHook
    from airflow_provider_plusofon.redaction import seal

    sealed = [seal(spec, PlusofonHook().config.seal_key) for spec in REQUIRED]
    assert SECRET not in json.dumps(sealed)
    emulator_conn.seed(
        [
            {"url": CRM, "event": "create", "headers": [{"name": "X-Api-Key", "value": "not-the-secret"}]},
            {"url": CRM, "event": "destroy"},
        ]
    )
    trigger = PlusofonWebhookTrigger(webhooks=sealed, sealed=True, poke_interval=0.05, end_time=time.time() + 0.3)
    payload = asyncio.run(asyncio.wait_for(first_event(trigger), 5))
    assert payload["status"] == "timeout"
    assert [d["changes"] for d in payload["result"]["different"]] == [
        {"headers": {"added": [], "removed": [], "changed": ["X-Api-Key"]}}
    ]
    emulator_conn.state.replace(1, {"url": CRM, "event": "create", "headers": [{"name": "X-Api-Key", "value": SECRET}]})
    trigger = PlusofonWebhookTrigger(webhooks=sealed, sealed=True, poke_interval=0.05, end_time=time.time() + 5)
    assert asyncio.run(asyncio.wait_for(first_event(trigger), 5))["status"] == "success"


def test_trigger_reaches_the_supervisor_through_the_triggerers_own_event_loop(emulator_conn, monkeypatch):
    # In a triggerer, reading the connection (or masking a secret) from sync code sends a request
    # with asgiref's async_to_sync over the one socket the event loop also uses. From a plain
    # thread (asyncio.to_thread) that runs a second event loop reading the same socket, and
    # Airflow 3.1's triggerer died of it ("Response read out of order"). Every such call must run
    # on the triggerer's own loop.
    from asgiref.sync import async_to_sync

    from airflow_provider_plusofon.hooks.plusofon import PlusofonHook

    loops_seen: list[asyncio.AbstractEventLoop] = []

    async def supervisor_request() -> None:
        loops_seen.append(asyncio.get_running_loop())

    original_config = PlusofonHook.config

    def config_reading_the_connection_as_a_triggerer_does(hook: PlusofonHook):
        async_to_sync(supervisor_request)()
        return original_config.__get__(hook)

    monkeypatch.setattr(PlusofonHook, "config", property(config_reading_the_connection_as_a_triggerer_does))
    emulator_conn.seed(
        [
            {"url": CRM, "event": "create", "headers": [{"name": "X-Api-Key", "value": SECRET}]},
            {"url": CRM, "event": "destroy"},
        ]
    )
    trigger = PlusofonWebhookTrigger(webhooks=REQUIRED, poke_interval=0.01, end_time=time.time() + 5)

    async def scenario():
        payload = await asyncio.wait_for(first_event(trigger), 5)
        return payload, asyncio.get_running_loop()

    payload, triggerer_loop = asyncio.run(scenario())
    assert payload["status"] == "success"
    assert loops_seen and all(loop is triggerer_loop for loop in loops_seen)
