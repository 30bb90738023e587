"""The async client a trigger reads with (issue 22), against the emulator: the same rules as the
threaded client (paging, caps, redirects, retries, the shared 429 pause), no thread of its own."""

from __future__ import annotations

import asyncio
import threading

import pytest

from airflow_provider_plusofon.api import AsyncPlusofonClient, PlusofonConnectionConfig
from airflow_provider_plusofon.api import retry as retry_module
from airflow_provider_plusofon.emulator import free_port
from airflow_provider_plusofon.exceptions import (
    PlusofonAuthError,
    PlusofonConfigError,
    PlusofonInvalidResponseError,
    PlusofonPagingLimitError,
    PlusofonRedirectError,
    PlusofonTransportError,
)
from tests.conftest import TOKEN

pytestmark = pytest.mark.integration


def client_of(emulator, **settings) -> AsyncPlusofonClient:
    config = PlusofonConnectionConfig(base_url=emulator.base_url, client_id=emulator.client_id, token=TOKEN, **settings)
    return AsyncPlusofonClient(config, max_concurrency=4)


def run(coroutine_function, *args):
    async def main():
        client = args[0]
        try:
            return await coroutine_function(*args)
        finally:
            await client.aclose()

    return asyncio.run(main())


def client_threads() -> list[str]:
    """The threads of this process, but the emulator's (one per connection it serves)."""
    return sorted(t.name for t in threading.enumerate() if "process_request_thread" not in t.name)


def seed(emulator, count: int) -> None:
    emulator.seed([{"url": f"https://crm.example.com/{i}", "event": "create"} for i in range(count)])


def test_every_page_once_and_details_on_an_account_of_several_pages(emulator_conn):
    seed(emulator_conn, 47)  # 4 pages
    threads = client_threads()

    async def read(client):
        listing = await client.list_webhooks()
        seen = client_threads()
        return listing, await client.get_webhooks([1, 47, "2"]), seen

    listing, details, seen = run(read, client_of(emulator_conn))
    assert [w["id"] for w in listing] == list(range(1, 48))
    assert sorted(details) == [1, 2, 47] and details[47]["url"] == "https://crm.example.com/46"
    pages = sorted(
        r["query"]["page"] for r in emulator_conn.requests("GET", "/api/v1/webhooks") if "page" in r["query"]
    )
    assert pages == ["1", "2", "3", "4"]
    assert seen == threads  # the reads hold no thread


def test_a_429_pauses_on_the_loop_for_its_retry_after(emulator_conn, monkeypatch, waits):
    def thread_wait(seconds: float) -> None:
        raise AssertionError("a blocking wait on the event loop")

    # The waits fixture records the loop's waits (retry._async_sleep); a thread's wait would fail.
    monkeypatch.setattr(retry_module, "_sleep", thread_wait)
    seed(emulator_conn, 20)
    emulator_conn.inject("rate_limit", count=1, retry_after=7)
    emulator_conn.inject("status", status=502, count=1)
    listing = run(lambda c: c.list_webhooks(), client_of(emulator_conn))
    assert len(listing) == 20
    assert 7 in waits


def test_redirects_oversized_answers_and_bad_tokens_are_errors_not_retried(emulator_conn, waits):
    emulator_conn.inject("redirect", location="https://elsewhere.example/")
    with pytest.raises(PlusofonRedirectError):
        run(lambda c: c.list_webhooks(), client_of(emulator_conn))
    emulator_conn.inject("gzip_bomb", size_mb=64)
    with pytest.raises(PlusofonInvalidResponseError, match="larger than 1048576 bytes"):
        run(lambda c: c.list_webhooks(), client_of(emulator_conn, max_answer_bytes=1048576))
    config = PlusofonConnectionConfig(
        base_url=emulator_conn.base_url, client_id=emulator_conn.client_id, token="wrong-1"
    )
    with pytest.raises(PlusofonAuthError, match="check the connection's login"):
        run(lambda c: c.list_webhooks(), AsyncPlusofonClient(config))
    assert waits == []


def test_tls_to_plain_http_and_nothing_listening_say_what_to_check(emulator_conn, waits):
    host = emulator_conn.base_url.replace("http://", "https://")
    config = PlusofonConnectionConfig(base_url=host, client_id="1", token=TOKEN)
    with pytest.raises(PlusofonConfigError, match=rf"the TLS handshake with {host} failed: .*Is it http://\?"):
        run(lambda c: c.list_webhooks(), AsyncPlusofonClient(config))
    assert waits == []
    base = f"http://127.0.0.1:{free_port()}"
    config = PlusofonConnectionConfig(base_url=base, client_id="1", token=TOKEN, max_retries=2)
    with pytest.raises(PlusofonTransportError) as caught:
        run(lambda c: c.list_webhooks(), AsyncPlusofonClient(config))
    assert f"connection failed (NewConnectionError) to {base}: nothing accepts connections there" in str(caught.value)
    assert len(waits) == 2
    assert TOKEN not in str(caught.value)


@pytest.mark.parametrize(
    ("fault", "error", "text"),
    [
        ({"overrides": {"last_page": 10**9}}, PlusofonInvalidResponseError, "contradicts itself"),
        ({"overrides": {"last_page": 10**9, "total": None}}, PlusofonPagingLimitError, "more than max_pages=10000"),
        (
            {"repeat_first_page": True, "overrides": {"last_page": None, "current_page": None}, "count": 5},
            PlusofonInvalidResponseError,
            "repeats only",
        ),
    ],
)
def test_a_paginator_that_cannot_be_trusted_costs_a_few_requests_at_most(emulator_conn, fault, error, text):
    seed(emulator_conn, 20)
    emulator_conn.inject("paginator", **fault)
    with pytest.raises(error, match=text):
        run(lambda c: c.list_webhooks(), client_of(emulator_conn))
    assert emulator_conn.count("GET") <= 2


def test_items_without_ids_and_ids_that_are_no_ids_are_errors(emulator_conn):
    seed(emulator_conn, 20)
    emulator_conn.inject("strip_ids")
    with pytest.raises(PlusofonInvalidResponseError, match="item 0 has no valid id"):
        run(lambda c: c.list_webhooks(), client_of(emulator_conn))
    with pytest.raises(PlusofonConfigError, match="positive integer"):  # refused before any request
        run(lambda c: c.get_webhooks([3, "3/../../admin"]), client_of(emulator_conn))
    assert emulator_conn.requests("GET", "/api/v1/webhooks/") == []


def test_another_actor_changing_the_account_between_pages_is_read_again(emulator_conn):
    seed(emulator_conn, 40)  # 3 pages
    # After page 1 is read, another actor deletes #1: page 2 would shift; the read must notice.
    emulator_conn.inject("actor", method="GET", path="/api/v1/webhooks", page=2, actions=[{"delete": 1}])
    listing = run(lambda c: c.list_webhooks(), client_of(emulator_conn))
    assert [w["id"] for w in listing] == list(range(2, 41))  # nobody missed, nobody twice
    assert sorted(r["query"]["page"] for r in emulator_conn.requests("GET")).count("1") == 2
