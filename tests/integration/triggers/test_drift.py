"""PlusofonWebhookDriftTrigger against the emulator: one event per drift episode, across restarts,
and no secret in its kwargs or its events."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from airflow_provider_plusofon.exceptions import WebhookSpecError
from airflow_provider_plusofon.operators.webhooks import EnsureWebhooksOperator
from airflow_provider_plusofon.triggers import drift as drift_module
from airflow_provider_plusofon.triggers import templates
from airflow_provider_plusofon.triggers.drift import PlusofonWebhookDriftTrigger
from airflow_provider_plusofon.webhooks.outcome import declaration_of
from airflow_provider_plusofon.webhooks.spec import parse_specs

pytestmark = pytest.mark.integration

CRM = "https://crm.example.com/plusofon/calls"
KEY = "crm-key-7Hq2-secret"  # the Variable's value: never in kwargs, state or events
SPECS = [
    {"url": CRM, "event": "create", "headers": [{"name": "X-Key", "value": "{{ var.value.crm_key }}"}]},
    {"url": CRM, "event": "destroy", "type_call": "inbound"},
]
OTHERS = [{"url": f"https://other.example.com/{i}", "event": "create"} for i in range(38)]  # 3 pages in all


def matching() -> list[dict[str, Any]]:
    return [
        *OTHERS[:20],
        {"url": CRM, "event": "create", "headers": [{"name": "X-Key", "value": KEY}]},
        *OTHERS[20:],
        {"url": CRM, "event": "destroy", "type_call": "inbound"},
    ]


@pytest.fixture
def variables(monkeypatch) -> dict[str, str]:
    """Variables as the triggerer's supervisor would keep them (the template's, and the state's)."""
    monkeypatch.setenv("AIRFLOW_VAR_CRM_KEY", KEY)
    kept: dict[str, str] = {}
    monkeypatch.setattr(drift_module, "_get_variable", kept.get)
    monkeypatch.setattr(drift_module, "_set_variable", kept.__setitem__)
    return kept


class Watch:
    """A trigger's run() driven on a loop: its events as they come, and reads counted on the emulator."""

    def __init__(self, trigger: PlusofonWebhookDriftTrigger, emulator) -> None:
        self.trigger, self.emulator = trigger, emulator
        self.events: list[dict[str, Any]] = []
        self.task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Watch:
        async def collect() -> None:
            async for event in self.trigger.run():
                self.events.append(event.payload)

        self.task = asyncio.create_task(collect())
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.task is not None
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)

    async def reads(self, count: int) -> None:
        """Until the account was listed ``count`` more times (page 1 is where each listing starts)."""
        start = self.first_pages()
        for _ in range(2000):
            if self.first_pages() >= start + count:
                return
            await asyncio.sleep(0.005)
        raise AssertionError("the watcher stopped reading")

    def first_pages(self) -> int:
        return sum(1 for r in self.emulator.requests("GET") if r.get("query", {}).get("page") in ("1", ["1"]))


def test_one_event_per_episode_none_in_sync_none_repeated(emulator_conn, variables):
    emulator_conn.seed(matching())
    trigger = PlusofonWebhookDriftTrigger(webhooks=SPECS, poll_interval=0.02)

    async def scenario() -> list[dict[str, Any]]:
        async with Watch(trigger, emulator_conn) as watch:
            await watch.reads(3)
            assert watch.events == []  # in sync: nothing
            emulator_conn.seed([w for w in matching() if w.get("type_call") != "inbound"])  # one deleted
            await watch.reads(4)
            assert len(watch.events) == 1  # drift: one event, however many reads see it
            # The event names the plan a dry run of the same specs shows, to review and approve.
            rendered = [{**SPECS[0], "headers": [{"name": "X-Key", "value": KEY}]}, SPECS[1]]
            dry_run = EnsureWebhooksOperator(task_id="plan", webhooks=rendered, dry_run=True)
            assert watch.events[0]["plan_id"] == dry_run.execute(context={})["plan_id"]
            drifted = [w for w in matching() if w.get("type_call") != "inbound"]
            for w in drifted:
                if w.get("headers"):
                    w["headers"] = [{"name": "X-Key", "value": "rotated-by-someone"}]
            emulator_conn.seed(drifted)
            await watch.reads(4)
            assert len(watch.events) == 2  # another drift: another episode
            emulator_conn.seed(matching())
            await watch.reads(4)
            return watch.events  # repaired: nothing more

    first, second = asyncio.run(asyncio.wait_for(scenario(), 60))
    assert first["status"] == second["status"] == "drift"
    assert first["missing"] == [{"url": CRM, "event": "destroy", "type_call": "inbound"}]
    assert first["different"] == [] and second["missing"] == first["missing"]
    assert second["different"] == [{"url": CRM, "event": "create", "type_call": None, "fields": ["headers"]}]
    assert first["episode"] != second["episode"]
    rendered = [{**SPECS[0], "headers": [{"name": "X-Key", "value": KEY}]}, SPECS[1]]
    assert first["declared"] == second["declared"] == declaration_of(parse_specs(rendered))  # as the audit's
    assert first["last_matching_at"] is not None and first["last_matching_at"] <= first["detected_at"]
    assert second["last_matching_at"] == first["last_matching_at"]  # the account has not matched since
    [state] = variables.values()
    assert json.loads(state)["episode"] is None  # repaired, and kept so
    assert KEY not in json.dumps([first, second, variables, trigger.serialize()])


def test_a_restart_does_not_report_the_same_drift_again(emulator_conn, variables):
    emulator_conn.seed(matching()[:-1])

    async def run_once() -> list[dict[str, Any]]:
        trigger = PlusofonWebhookDriftTrigger(webhooks=SPECS, poll_interval=0.02)  # as after a restart
        async with Watch(trigger, emulator_conn) as watch:
            await watch.reads(4)
            return watch.events

    assert len(asyncio.run(run_once())) == 1
    assert asyncio.run(run_once()) == []  # the same drift, seen by the re-created watcher
    emulator_conn.seed([w for w in matching()[:-1] if not w.get("headers")])  # both gone: another episode
    assert len(asyncio.run(run_once())) == 1


class StateStore:
    """Airflow 3.3's asset state store, as a trigger watching one asset sees it."""

    def __init__(self) -> None:
        self.kept: dict[str, Any] = {}

    async def aget(self, key: str, default: Any = None) -> Any:
        return self.kept.get(key, default)

    async def aset(self, key: str, value: Any) -> None:
        self.kept[key] = value


def test_on_3_3_the_state_is_kept_in_the_asset_state_store(emulator_conn, variables):
    emulator_conn.seed(matching()[:-1])
    store = StateStore()

    async def run_once() -> list[dict[str, Any]]:
        trigger = PlusofonWebhookDriftTrigger(webhooks=SPECS, poll_interval=0.02)
        trigger.asset_state_store = store  # what the 3.3 triggerer sets on an asset watcher
        async with Watch(trigger, emulator_conn) as watch:
            await watch.reads(3)
            return watch.events

    assert len(asyncio.run(run_once())) == 1
    assert asyncio.run(run_once()) == []
    assert store.kept["plusofon_drift_state"]["episode"].startswith("drift-")
    assert variables == {}


def test_secrets_in_clear_are_refused_naming_where_never_the_value():
    specs = [
        {"url": "https://user:pa55word@crm.example.com/x", "event": "create"},
        {"url": CRM, "event": "create", "headers": [{"name": "X-Key", "value": "literal-secret"}]},
        {"url": CRM, "event": "end", "params": [{"name": "k", "value": "{{ var.value.k }}"}]},
    ]
    specs += [
        {"url": CRM, "event": "answer", "headers": [{"name": "A", "value": "Bearer lit-secret {{ '' }}"}]},
        {"url": "https://admin:{{ var.value.pw }}@crm.example.com/x", "event": "destroy"},
        {"url": CRM, "event": "destroy", "headers": [{"name": "K", "value": "{{ params.api_key }}"}]},
        {"url": "https://{{ conn.crm.login }}:{{ conn.crm.password }}@crm.example.com/y", "event": "answer"},
    ]
    with pytest.raises(WebhookSpecError) as raised:
        PlusofonWebhookDriftTrigger(webhooks=specs)
    assert [p.split(" is given")[0] for p in raised.value.problems] == [
        "spec #0: the credentials in url",
        "spec #1: headers[0].value",
        "spec #3: headers[0].value",  # text beside a template is stored in clear
        "spec #4: the credentials in url",  # the user name is in clear
        "spec #5: headers[0].value",  # params are stored in the kwargs
    ]
    shown = str(raised.value)
    assert "literal-secret" not in shown and "pa55word" not in shown and "lit-secret" not in shown


class Lines:
    """A trigger's logger: the lines it wrote."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def warning(self, msg: str, *args: Any) -> None:
        self.lines.append(msg % args)

    info = warning


def test_a_template_that_does_not_render_is_logged_once_and_tried_again(emulator_conn, variables, monkeypatch):
    emulator_conn.seed(matching())
    logged = Lines()
    monkeypatch.setattr(PlusofonWebhookDriftTrigger, "log", property(lambda self: logged))
    monkeypatch.setattr(templates, "render_templates", counting(templates.render_templates))
    specs = [{**SPECS[0], "headers": [{"name": "X-Key", "value": "{{ var.value.no_such_variable }}"}]}]
    trigger = PlusofonWebhookDriftTrigger(webhooks=specs, poll_interval=0.01)

    async def scenario() -> list[dict[str, Any]]:
        async with Watch(trigger, emulator_conn) as watch:
            for _ in range(2000):
                if counting.calls >= 3:
                    break
                await asyncio.sleep(0.005)
            return watch.events

    assert asyncio.run(asyncio.wait_for(scenario(), 30)) == []
    [line] = logged.lines  # tried at least three times, said once
    assert "spec #0.headers[0].value: the template does not render" in line
    assert emulator_conn.count() == 0  # nothing read on specs it could not render


def counting(func: Any) -> Any:
    def counted(*args: Any) -> Any:
        counting.calls += 1  # type: ignore[attr-defined]
        return func(*args)

    counting.calls = 0  # type: ignore[attr-defined]
    return counted


def test_the_kwargs_round_trip_and_name_one_state_variable_per_watch():
    trigger = PlusofonWebhookDriftTrigger(webhooks=SPECS, plusofon_conn_id="acme", poll_interval=30)
    classpath, kwargs = trigger.serialize()
    assert classpath == "airflow_provider_plusofon.triggers.drift.PlusofonWebhookDriftTrigger"
    assert kwargs == {
        "webhooks": json.dumps(SPECS, sort_keys=True),
        "plusofon_conn_id": "acme",
        "params": "{}",
        "poll_interval": 30.0,
        "max_workers": 8,
    }
    again = PlusofonWebhookDriftTrigger(**json.loads(json.dumps(kwargs)))
    assert again.webhooks == SPECS and again.serialize() == trigger.serialize()
    assert again.state_variable == trigger.state_variable
    other = PlusofonWebhookDriftTrigger(webhooks=SPECS, plusofon_conn_id="other", poll_interval=30)
    assert other.state_variable != trigger.state_variable  # another account: its own state
    slower = PlusofonWebhookDriftTrigger(webhooks=SPECS, plusofon_conn_id="acme", poll_interval=300, max_workers=2)
    assert slower.state_variable == trigger.state_variable  # a new interval keeps what was reported


def test_params_render_in_the_specs_as_a_dag_s_default_params_would(emulator_conn, variables):
    emulator_conn.seed(matching())
    specs = [{**spec, "url": spec["url"].replace("https://crm.example.com", "{{ params.base }}")} for spec in SPECS]
    trigger = PlusofonWebhookDriftTrigger(
        webhooks=specs, params={"base": "https://crm.example.com"}, poll_interval=0.02
    )

    async def scenario() -> list[dict[str, Any]]:
        async with Watch(trigger, emulator_conn) as watch:
            await watch.reads(3)
            return watch.events

    assert asyncio.run(asyncio.wait_for(scenario(), 30)) == []  # rendered, the specs match the account
    assert json.loads(next(iter(variables.values())))["last_matching_at"] is not None


def test_airflow_links_the_watcher_to_its_asset_its_kwargs_hash_the_same_once_stored():
    # The DAG processor links a watcher to its asset by this hash, computed before and after the
    # trigger row is stored: when the two differ, the watcher is never started (no error anywhere).
    from airflow.models.trigger import Trigger
    from airflow.triggers.base import BaseEventTrigger

    try:
        from airflow.serialization.encoders import encode_trigger
    except ImportError:  # Airflow 3.0 to 3.2
        from airflow.serialization.serialized_objects import _encode_trigger as encode_trigger

    trigger = PlusofonWebhookDriftTrigger(webhooks=SPECS, params={"base": "https://crm.example.com"})
    encoded = encode_trigger(trigger)
    stored = Trigger(classpath=encoded["classpath"], kwargs=encoded["kwargs"])
    assert BaseEventTrigger.hash(stored.classpath, stored.kwargs) == BaseEventTrigger.hash(
        encoded["classpath"], encoded["kwargs"]
    )


def test_a_read_that_fails_is_kept_in_the_state_with_why_and_the_next_read_clears_it(emulator_conn, variables):
    """Issue 35: the Plusofon page says a watcher's last read failed, and why, from its kept state."""
    emulator_conn.seed(matching())
    trigger = PlusofonWebhookDriftTrigger(webhooks=SPECS, poll_interval=0.02)

    def kept() -> dict[str, Any]:
        [state] = variables.values()
        return json.loads(state)

    async def scenario() -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
        async with Watch(trigger, emulator_conn) as watch:
            await watch.reads(2)
            reading = kept()
            emulator_conn.inject("status", status=503, count=1000)  # the API down, after the client's retries
            for _ in range(2000):
                if kept().get("last_error"):
                    break
                await asyncio.sleep(0.005)
            failing = kept()
            emulator_conn.faults.clear()
            for _ in range(2000):
                if not kept().get("last_error"):
                    break
                await asyncio.sleep(0.005)
            return reading, failing, kept()

    reading, failing, back = asyncio.run(asyncio.wait_for(scenario(), 60))
    assert (reading["client_id"], reading["poll_interval"], reading["last_error"]) == ("10553", 0.02, None)
    rendered = [{**SPECS[0], "headers": [{"name": "X-Key", "value": KEY}]}, SPECS[1]]
    assert reading["declared"] == declaration_of(parse_specs(rendered))  # the audit of these specs names it too
    assert reading["last_read_at"] == reading["last_matching_at"] is not None
    assert failing["last_error"].startswith("Plusofon API unavailable, will check again:")
    assert "503" in failing["last_error"] and failing["last_error_at"] >= reading["last_read_at"]
    assert failing["last_read_at"] == reading["last_read_at"] or failing["last_read_at"] <= failing["last_error_at"]
    assert back["last_error"] is None and back["last_read_at"] > failing["last_error_at"]
    assert KEY not in json.dumps([reading, failing, back])
