"""Issue 22: waits that share work. Triggers on one account, in one event loop, share one reader:
one listing per interval whatever their specs, the details any of them needs once, a 429 pausing
that account only, every waiter told of an error no wait can outlast."""

from __future__ import annotations

import asyncio
import json
import time

import pytest

from airflow_provider_plusofon.hooks import masking
from airflow_provider_plusofon.triggers.webhooks import PlusofonWebhookTrigger
from tests.conftest import TOKEN

pytestmark = pytest.mark.integration

CRM = "https://crm.example.com/calls"
SECRET = "watch-header-secret-5150"


def account_of(count: int, *, prefix: str = "https://filler.example.com") -> list[dict]:
    return [{"url": f"{prefix}/{i}", "event": "answer"} for i in range(count)]


def specs(n: int) -> list[dict]:
    """A different spec set for each waiter: one of the account's filler webhooks, by url."""
    return [{"url": f"https://filler.example.com/{n % 40}", "event": "answer"}]


async def first_event(trigger: PlusofonWebhookTrigger) -> dict:
    async for event in trigger.run():
        return event.payload
    raise AssertionError("no event")


def run_all(triggers: list[PlusofonWebhookTrigger], during=None) -> list[dict]:
    async def main():
        tasks = [asyncio.create_task(first_event(t)) for t in triggers]
        if during is not None:
            await during(tasks)
        return await asyncio.wait_for(asyncio.gather(*tasks), 60)

    return asyncio.run(main())


def list_reads(emulator) -> int:
    return len([r for r in emulator.requests("GET") if r["path"] == "/api/v1/webhooks" and r["query"]["page"] == "1"])


def test_two_hundred_waiters_with_their_own_specs_share_one_listing(emulator_conn):
    emulator_conn.seed(
        [*account_of(40), {"url": CRM, "event": "create", "headers": [{"name": "X-Key", "value": SECRET}]}]
    )  # 3 pages
    waiting = [PlusofonWebhookTrigger(webhooks=specs(n), poke_interval=3600) for n in range(199)]
    waiting.append(
        PlusofonWebhookTrigger(
            webhooks=[{"url": CRM, "event": "create", "headers": [{"name": "X-Key", "value": SECRET}]}],
            poke_interval=3600,
        )
    )
    events = run_all(waiting)
    assert [e["status"] for e in events] == ["success"] * 200
    assert [e["result"]["satisfied"][0]["url"] for e in events[:3]] == [
        f"https://filler.example.com/{n}" for n in range(3)
    ]
    gets = sorted((r["path"], r["query"].get("page")) for r in emulator_conn.requests("GET"))
    # one listing (3 pages) and the one detail view a spec needs (its header), for 200 waiters
    assert gets == [
        ("/api/v1/webhooks", "1"),
        ("/api/v1/webhooks", "2"),
        ("/api/v1/webhooks", "3"),
        ("/api/v1/webhooks/41", None),
    ]


def test_waiters_are_done_on_the_first_listing_after_their_webhook_appears(emulator_conn):
    emulator_conn.seed(account_of(20))
    waiting = [
        PlusofonWebhookTrigger(
            webhooks=[{"url": CRM, "event": "destroy"}], poke_interval=0.05, end_time=time.time() + 60
        )
        for _ in range(50)
    ]
    appeared_after: list[int] = []
    done_after: list[int] = []  # the listings made when each waiter was done (not when all were)

    async def during(tasks):
        while list_reads(emulator_conn) < 3:  # three listings saw it missing: nobody is done
            await asyncio.sleep(0.01)
        assert not any(t.done() for t in tasks)
        emulator_conn.state.add({"url": CRM, "event": "destroy"})
        appeared_after.append(list_reads(emulator_conn))
        for t in tasks:
            t.add_done_callback(lambda _: done_after.append(list_reads(emulator_conn)))

    events = run_all(waiting, during)
    assert [e["status"] for e in events] == ["success"] * 50
    # every waiter saw it on the next listing, or the one in flight when it appeared
    assert len(done_after) == 50 and max(done_after) <= appeared_after[0] + 1


def test_a_rate_limited_account_pauses_alone(emulator_conn, monkeypatch, waits):
    other = emulator_conn.add_account("20001", "other-token", account_of(20))
    monkeypatch.setenv(
        "AIRFLOW_CONN_PLUSOFON_OTHER",
        json.dumps({**other.connection_uri(), "extra": {"timeout": 5, "max_retries": 3}}),
    )
    emulator_conn.seed(account_of(20))
    emulator_conn.inject("rate_limit", count=2, retry_after=9)
    need = [{"url": "https://filler.example.com/3", "event": "answer"}]
    events = run_all(
        [
            PlusofonWebhookTrigger(webhooks=need, poke_interval=3600),
            PlusofonWebhookTrigger(webhooks=need, plusofon_conn_id="plusofon_other", poke_interval=3600),
        ]
    )
    assert [e["status"] for e in events] == ["success", "success"]
    assert waits.count(9) >= 1  # waited out on the event loop (the waits fixture records the loop's waits)
    assert [r["status"] for r in other.requests()] == [200, 200]  # never paused, never refused


def test_bad_credentials_end_every_wait_at_once(emulator_conn, monkeypatch, waits):
    monkeypatch.setenv(
        "AIRFLOW_CONN_PLUSOFON_DEFAULT", json.dumps({**emulator_conn.connection_uri(), "password": "wrong-token-1"})
    )
    events = run_all([PlusofonWebhookTrigger(webhooks=specs(n), poke_interval=0.01) for n in range(30)])
    assert {e["status"] for e in events} == {"error"}
    assert "check the connection's login (the Client ID) and password (the API token)" in events[0]["message"]
    assert emulator_conn.count() == 1 and waits == [], emulator_conn.requests()
    assert "wrong-token-1" not in json.dumps(events)


def test_the_accounts_secrets_stay_out_of_events_and_out_of_the_masker(emulator_conn, monkeypatch, logs):
    # Compared sealed, never put in text: not handed to Airflow's masker, whose cost grows with
    # every value (a regular expression rebuilt per value) and would hold the triggerer's loop.
    masked: list[str] = []
    monkeypatch.setattr(masking, "mask_secret", lambda values: masked.extend(values))
    monkeypatch.setattr(masking, "_masked", set())
    hidden = "detail-view-secret-8812"
    emulator_conn.seed([{"url": CRM, "event": "create", "headers": [{"name": "X-Key", "value": hidden}]}])
    required = [{"url": CRM, "event": "create", "headers": [{"name": "X-Key", "value": "another"}]}]
    [event] = run_all([PlusofonWebhookTrigger(webhooks=required, poke_interval=3600, end_time=time.time() + 0.5)])
    assert event["status"] == "timeout"
    assert event["result"]["different"][0]["changes"] == {"headers": {"added": [], "removed": [], "changed": ["X-Key"]}}
    assert emulator_conn.requests("GET", "/api/v1/webhooks/1")  # the detail view was read
    assert hidden not in masked and TOKEN in masked
    assert hidden not in json.dumps(event) + logs()


def test_a_connection_flipping_between_refused_tokens_hands_waiters_over_a_bounded_number_of_times(emulator_conn):
    # Both tokens are refused: after the reader reads the connection again and hands over to the
    # other, a flip back to the first (already refused) ends the waits, instead of readers handing
    # the waiters to each other forever.
    from airflow_provider_plusofon.api import PlusofonConnectionConfig
    from airflow_provider_plusofon.webhooks.spec import parse_specs
    from airflow_provider_plusofon.webhooks.watch import shared_reader

    def config(token: str) -> PlusofonConnectionConfig:
        return PlusofonConnectionConfig(
            base_url=emulator_conn.base_url, client_id=emulator_conn.client_id, token=token, conn_id="flip"
        )

    tokens, reads = ["refused-token-b", "refused-token-a"], []

    async def reread() -> PlusofonConnectionConfig:
        reads.append(tokens[len(reads) % 2])
        return config(reads[-1])

    async def main() -> BaseException:
        reader = shared_reader(config("refused-token-a"), max_concurrency=2, reread=reread)
        waiter = reader.subscribe(parse_specs(specs(1)), sealed=False, sealed_by_0_1=False, interval=0.01)
        try:
            await asyncio.wait_for(waiter.next(), 10)
        except Exception as error:
            return error
        finally:
            waiter.leave()
        raise AssertionError("a refused wait went on")

    error = asyncio.run(main())
    assert "HTTP 401" in str(error)
    assert reads == ["refused-token-b", "refused-token-a"]  # handed over once, then the flip back ends it
