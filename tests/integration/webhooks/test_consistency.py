"""Issue 19: promises that hold while others change the account, against the emulator.

Another actor edits the account between our page reads (the emulator's ``actor`` fault), creates
lose their answers on accounts of several pages, an approval travels to another account, the
token rotates under a deferred sensor, and writers race.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time

import pytest
from airflow.providers.common.compat.sdk import TaskDeferred

from airflow_provider_plusofon.emulator import running_emulator
from airflow_provider_plusofon.exceptions import PartialApplyError, PlusofonListingChangedError, StalePlanError
from airflow_provider_plusofon.hooks.plusofon import PlusofonHook
from airflow_provider_plusofon.operators.webhooks import EnsureWebhooksOperator
from airflow_provider_plusofon.sensors.webhooks import PlusofonWebhookSensor

pytestmark = pytest.mark.integration


def hook_url(n: int) -> str:
    return f"https://crm.example.com/hooks/{n}"


def account(n: int) -> list[dict]:
    """``n`` webhooks, ids 1..n, each with its own url."""
    return [{"url": hook_url(i), "event": "create", "type_call": "inbound"} for i in range(1, n + 1)]


def ensure(specs: list[dict], **kwargs) -> dict:
    return EnsureWebhooksOperator(task_id="ensure", webhooks=specs, **kwargs).execute({})


def posts(emulator) -> int:
    return emulator.count("POST")


# -- a listing is a consistent snapshot or an error -----------------------------------------------


@pytest.mark.parametrize(
    "actions",
    [
        [{"delete": 1}],  # totals change between pages
        [{"delete": 1}, {"create": {"url": "https://other.example/x", "event": "answer"}}],  # totals do not
    ],
    ids=["delete", "delete-and-create"],
)
def test_a_webhook_that_moves_onto_a_page_already_read_is_not_created_again(emulator_conn, actions):
    emulator_conn.seed(account(30))
    # Another actor edits the account after we read page 1 and before page 2 is answered: #16
    # moves onto page 1, which this read has already seen.
    emulator_conn.inject("actor", method="GET", path="/api/v1/webhooks", page=2, actions=actions)
    result = ensure([{"url": hook_url(16), "event": "create", "type_call": "inbound"}])
    assert posts(emulator_conn) == 0
    assert result["created"] == []
    assert [item["id"] for item in result["unchanged"]] == [16]
    assert sum(w["url"] == hook_url(16) for w in emulator_conn.webhooks()) == 1


def test_a_missing_webhook_is_created_once_when_the_account_shifts_while_it_is_read(emulator_conn):
    emulator_conn.seed(account(30))
    emulator_conn.inject(
        "actor", method="GET", path="/api/v1/webhooks", page=2, actions=[{"delete": 1}, {"create": account(31)[-1]}]
    )
    result = ensure([{"url": hook_url(16), "event": "create"}, {"url": hook_url(99), "event": "destroy"}])
    assert posts(emulator_conn) == 1
    assert [item["url"] for item in result["created"]] == [hook_url(99)]
    assert [item["id"] for item in result["created"]] == [32]  # 31 is the other actor's


def test_an_account_that_never_holds_still_fails_before_any_write(emulator_conn):
    emulator_conn.seed(account(30))
    creates = [{"create": {"url": f"https://other.example/{n}", "event": "answer"}} for n in range(40)]
    # Every read of page 2 sees one more delete and one more create: no two reads agree.
    for number in range(2, 42):
        emulator_conn.inject("actor", method="GET", page=2, actions=[{"delete": number - 1}, creates[number - 2]])
    with pytest.raises(PlusofonListingChangedError, match="kept changing while it was listed"):
        ensure([{"url": "https://crm.example.com/new", "event": "create"}])
    assert posts(emulator_conn) == 0
    assert emulator_conn.count("PUT") == emulator_conn.count("DELETE") == 0


def test_a_no_op_run_reads_each_page_once(emulator_conn):
    emulator_conn.seed(account(40))
    emulator_conn.state.clear_requests()
    result = ensure([{"url": hook_url(n), "event": "create"} for n in (1, 20, 40)])
    assert len(result["unchanged"]) == 3
    assert sorted(r["query"]["page"] for r in emulator_conn.requests("GET")) == ["1", "2", "3"]


# -- a lost create is looked for wherever the account lists it -------------------------------------


@pytest.mark.parametrize("existing", [0, 14, 15, 20, 40])
@pytest.mark.parametrize(("batch", "lost"), [(1, 1), (3, 3), (3, 2), (3, 1)])
def test_creates_whose_answers_were_lost_are_found_on_any_page(emulator_conn, existing, batch, lost):
    emulator_conn.seed(account(existing))
    new = [{"url": f"https://crm.example.com/new/{n}", "event": "create"} for n in range(batch)]
    emulator_conn.inject("drop_after_store", method="POST", count=lost)
    result = ensure(new, max_workers=1)
    assert sorted(item["id"] for item in result["created"]) == list(range(existing + 1, existing + batch + 1))
    assert posts(emulator_conn) == batch
    assert len(emulator_conn.webhooks()) == existing + batch


def test_the_hook_finds_a_create_whose_connection_dropped_after_the_store(emulator_conn):
    emulator_conn.seed(account(20))
    emulator_conn.inject("drop_after_store", method="POST")
    created = PlusofonHook().create_webhook({"url": "https://crm.example.com/new", "event": "create"})
    assert created["id"] == 21
    assert posts(emulator_conn) == 1


# -- an approval is bound to its account ----------------------------------------------------------


def test_a_plan_approved_for_one_account_is_not_applied_to_another(emulator_conn, monkeypatch):
    specs = [{"url": "https://crm.example.com/new", "event": "create"}]
    emulator_conn.seed(account(3))
    reviewed = ensure(specs, dry_run=True)["plan_id"]
    with running_emulator(client_id="20002", token="production-token", webhooks=account(3)) as production:
        monkeypatch.setenv("AIRFLOW_CONN_PLUSOFON_DEFAULT", production.connection_env())
        with pytest.raises(StalePlanError, match="nothing was written"):
            ensure(specs, approved_plan_id=reviewed)
        assert production.count("POST") == 0
        # the same plan, reviewed on this account, is applied
        again = ensure(specs, dry_run=True)["plan_id"]
        assert again != reviewed
        assert [c["id"] for c in ensure(specs, approved_plan_id=again)["created"]] == [4]


# -- sealed values survive a token change ---------------------------------------------------------

SECRET = "rotation-header-secret-5"
REQUIRED = [{"url": hook_url(1), "event": "create", "headers": [{"name": "X-Key", "value": SECRET}]}]


def first_event(trigger) -> dict:
    async def run() -> dict:
        async for event in trigger.run():
            return event.payload
        raise AssertionError("no event")

    return asyncio.run(asyncio.wait_for(run(), 20))


def deferred_trigger(task: PlusofonWebhookSensor, call) -> object:
    with pytest.raises(TaskDeferred) as deferred:
        call()
    return deferred.value.trigger


def test_a_token_rotated_under_a_deferred_sensor_reseals_and_waits_on(emulator_conn, monkeypatch):
    emulator_conn.seed(account(16))
    task = PlusofonWebhookSensor(task_id="wait", webhooks=REQUIRED, deferrable=True, poke_interval=0.05, timeout=60)
    trigger = deferred_trigger(task, lambda: task.execute({}))
    assert SECRET not in json.dumps(trigger.serialize()[1])
    # The token rotates; the header the sensor waits for appears; the triggerer restarts, so the
    # trigger is re-created from its stored kwargs.
    emulator_conn.token = "rotated-token-77"
    monkeypatch.setenv(
        "AIRFLOW_CONN_PLUSOFON_DEFAULT", json.dumps({**emulator_conn.connection_uri(), "password": "rotated-token-77"})
    )
    emulator_conn.state.replace(1, {**REQUIRED[0], "type_call": "inbound"})
    _, kwargs = trigger.serialize()
    event = first_event(type(trigger)(**kwargs))
    assert event["status"] == "token_changed"
    assert event["end_time"] == kwargs["end_time"]
    # The sensor seals its specs with the new token and defers again, with the same deadline.
    fresh = PlusofonWebhookSensor(task_id="wait", webhooks=REQUIRED, deferrable=True, poke_interval=0.05, timeout=60)
    resealed = deferred_trigger(fresh, lambda: fresh.execute_complete({}, event))
    assert resealed.end_time == kwargs["end_time"]
    assert resealed.seal_check != kwargs["seal_check"]
    assert first_event(resealed)["status"] == "success"


def test_a_trigger_stored_by_0_1_0_still_runs(emulator_conn):
    from airflow_provider_plusofon.redaction import seal
    from airflow_provider_plusofon.triggers.webhooks import PlusofonWebhookTrigger

    emulator_conn.seed([{**REQUIRED[0], "type_call": "inbound"}])
    stored = {
        "webhooks": [seal(spec, PlusofonHook().config.seal_key) for spec in REQUIRED],
        "sealed": True,
        "plusofon_conn_id": "plusofon_default",
        "poke_interval": 0.05,
        "end_time": time.time() + 30,
        "max_workers": 8,
    }
    assert first_event(PlusofonWebhookTrigger(**stored))["status"] == "success"


# -- runs that race report the truth --------------------------------------------------------------


def test_a_copy_another_writer_made_meanwhile_is_never_claimed(emulator_conn):
    emulator_conn.seed(account(20))
    new = [{"url": f"https://crm.example.com/new/{n}", "event": "create"} for n in range(3)]
    # Each POST is stored, then another writer posts the same webhook.
    emulator_conn.inject("actor", method="POST", count=3, after=True, actions=[{"create": "request"}])
    with pytest.raises(PartialApplyError) as caught:
        ensure(new, max_workers=1)
    created = caught.value.done["created"]
    assert [item["id"] for item in created] == [None, None, None]
    assert sorted(i for item in created for i in item["copies"]) == list(range(21, 27))
    assert sum("2 webhooks with the identity of" in f and "another writer" in f for f in caught.value.failures) == 3
    assert caught.value.done["deleted"] == []


def test_two_runs_at_once_never_claim_the_same_copy(emulator_conn):
    emulator_conn.seed(account(20))
    emulator_conn.latency_ms = 5  # long enough for the two runs to overlap, as they do on a real account
    new = [{"url": f"https://crm.example.com/new/{n}", "event": "create"} for n in range(3)]
    outcomes: list[dict] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            outcomes.append(ensure(new))
        except PartialApplyError as error:
            outcomes.append(error.done)
        except BaseException as error:  # a failure of the helper thread fails the test
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    claimed = [item["id"] for outcome in outcomes for item in outcome["created"] if item["id"] is not None]
    assert len(claimed) == len(set(claimed))
    # Every copy stored is claimed by exactly one run, or reported as a copy by the runs that saw it.
    stored = {w["id"] for w in emulator_conn.webhooks() if w["url"].startswith("https://crm.example.com/new/")}
    reported = set(claimed) | {i for outcome in outcomes for item in outcome["created"] for i in item.get("copies", [])}
    assert reported == stored


def test_an_export_leaves_out_no_webhook_that_moved_while_it_was_read(emulator_conn):
    # A webhook missing from the exported file would be deleted by a later prune.
    emulator_conn.seed(account(30))
    emulator_conn.inject(
        "actor", method="GET", page=2, actions=[{"delete": 1}, {"create": {"url": hook_url(99), "event": "answer"}}]
    )
    exported = PlusofonHook().export_specs()
    assert sorted(spec["url"] for spec in exported.specs) == sorted(w["url"] for w in emulator_conn.webhooks())


def test_a_run_that_only_updates_reads_each_page_once(emulator_conn):
    # 40 unrelated webhooks and one drifted: three pages, one update, no create or delete.
    drifted = emulator_conn.state.add({"url": "https://crm.example.com/upd", "event": "create", "type_style": "short"})
    summary = EnsureWebhooksOperator(
        task_id="ensure", webhooks=[{"url": "https://crm.example.com/upd", "event": "create", "type_style": "long"}]
    ).execute(context={})
    assert [u["id"] for u in summary["updated"]] == [drifted["id"]] and summary["created"] == []
    pages = sorted(
        int(r["query"]["page"]) for r in emulator_conn.requests("GET", "/api/v1/webhooks") if "page" in r["query"]
    )
    assert pages == [1, 2, 3]  # no second read: an update cannot make a duplicate
