"""PlusofonHook against the emulator over real HTTP: CRUD, paging, every fault, no duplicates."""

from __future__ import annotations

import json
import time

import pytest

from airflow_provider_plusofon.api import retry as retry_module
from airflow_provider_plusofon.exceptions import (
    CreateOutcomeUnknownError,
    PlusofonAuthError,
    PlusofonInvalidResponseError,
    PlusofonNotFoundError,
    PlusofonPagingLimitError,
    PlusofonRedirectError,
    PlusofonRequestRejected,
    PlusofonServerError,
    PlusofonValidationError,
)
from airflow_provider_plusofon.hooks.plusofon import PlusofonHook
from tests.conftest import TOKEN, ours

pytestmark = pytest.mark.integration

BODY = {"url": "https://crm.example.com/calls", "event": "create", "type_call": "inbound"}


def seeded(n: int) -> list[dict]:
    return [{"url": f"https://a.example/{i}", "event": "destroy", "type_call": "outbound"} for i in range(n)]


@pytest.fixture
def hook(emulator_conn) -> PlusofonHook:
    return PlusofonHook()


def test_full_crud(hook, emulator_conn):
    created = hook.create_webhook({**BODY, "headers": [{"name": "X-Key", "value": "header-secret"}]})
    assert created["id"] == 41  # after the three pages the account holds
    assert hook.get_webhook(41)["headers"] == [{"name": "X-Key", "value": "header-secret"}]
    hook.update_webhook(41, {**BODY, "type_style": "short"})
    assert hook.get_webhook(41)["type_style"] == "short"
    assert [w["id"] for w in ours(hook.list_webhooks())] == [41]
    hook.delete_webhook(41)
    assert ours(hook.list_webhooks()) == []
    with pytest.raises(PlusofonNotFoundError):
        hook.get_webhook(41)
    assert hook.test_connection()[0]


def test_paging_over_several_pages(hook, emulator_conn):
    emulator_conn.seed(seeded(47))
    webhooks = hook.list_webhooks()
    assert [w["id"] for w in webhooks] == list(range(1, 48))
    pages = sorted(int(r["query"]["page"]) for r in emulator_conn.requests("GET"))
    assert pages == [1, 2, 3, 4]


def test_concurrent_listing_with_429_and_503_loses_and_repeats_nothing(emulator_conn, waits, monkeypatch):
    # Faults go to requests in arrival order: page 1 alone may meet all six, so allow that many retries.
    conn = {**emulator_conn.connection_uri(), "extra": {"max_retries": 6}}
    monkeypatch.setenv("AIRFLOW_CONN_PLUSOFON_DEFAULT", json.dumps(conn))
    emulator_conn.seed(seeded(150))  # 10 pages
    emulator_conn.inject("rate_limit", count=3, retry_after=0.01)
    emulator_conn.inject("status", status=503, count=2)
    emulator_conn.inject("status", status=502, count=1, html=True)
    webhooks = PlusofonHook(max_workers=8).list_webhooks()
    assert [w["id"] for w in webhooks] == list(range(1, 151))
    answered = [r for r in emulator_conn.requests("GET") if r["status"] == 200]
    assert sorted(int(r["query"]["page"]) for r in answered) == list(range(1, 11))
    assert len(emulator_conn.requests("GET")) == 16
    assert len(waits) == 6


def test_a_429_pauses_the_other_workers_too(emulator_conn, monkeypatch):
    # Real waiting here: what is checked is when each request reached the server.
    monkeypatch.setattr(retry_module, "_sleep", time.sleep)
    monkeypatch.setattr(retry_module, "_monotonic", time.monotonic)
    emulator_conn.seed(seeded(7))
    emulator_conn.inject("rate_limit", path="/api/v1/webhooks/5", retry_after=0.6)
    emulator_conn.inject("latency", path="/api/v1/webhooks/6", latency_ms=300)
    # Two workers: one meets the 429 on #5; the other is busy with #6 for 0.3 s, then takes #7.
    details = PlusofonHook(max_workers=2).get_conn().get_webhooks([5, 6, 7])
    assert sorted(details) == [5, 6, 7]
    arrived = {(r["path"].rsplit("/", 1)[1], r["status"]): r["time"] for r in emulator_conn.requests("GET")}
    limited = arrived[("5", 429)]
    # Only lower bounds: a loaded machine makes everything later, never earlier.
    # Without a shared pause #7 would go out as soon as #6 is answered, 0.3 s after the 429.
    assert arrived[("7", 200)] - limited >= 0.55
    assert arrived[("5", 200)] - limited >= 0.55
    assert len(emulator_conn.requests("GET")) == 4


def test_lost_post_leaves_exactly_one_webhook(hook, emulator_conn):
    emulator_conn.inject("drop_after_store", method="POST")
    created = hook.create_webhook(BODY)
    assert [w["id"] for w in ours(emulator_conn.webhooks())] == [created["id"]]
    assert len(emulator_conn.requests("POST")) == 1


@pytest.mark.parametrize("fault", [{"kind": "drop"}, {"kind": "status", "status": 503}])
def test_post_that_failed_without_storing_is_not_resent_and_a_rerun_creates_it(hook, emulator_conn, fault):
    # The client cannot tell this from a stored create whose answer was lost: it stops, never guesses.
    emulator_conn.inject(method="POST", **fault)
    with pytest.raises(CreateOutcomeUnknownError, match="create outcome unknown"):
        hook.create_webhook(BODY)
    assert ours(emulator_conn.webhooks()) == []
    assert len(emulator_conn.requests("POST")) == 1
    assert hook.create_webhook(BODY)["id"] == 41  # the next attempt plans afresh and creates it once
    assert len(ours(emulator_conn.webhooks())) == 1


def test_rate_limited_post(hook, emulator_conn, waits):
    emulator_conn.inject("rate_limit", method="POST", retry_after=2)
    hook.create_webhook(BODY)
    assert len(ours(emulator_conn.webhooks())) == 1
    assert waits == [2.0]


def test_success_false_fails_without_retry(hook, emulator_conn):
    emulator_conn.seed([BODY])
    emulator_conn.inject("success_false", method="PUT", message="Quota exceeded")
    with pytest.raises(PlusofonRequestRejected, match="Quota exceeded"):
        hook.update_webhook(1, BODY)
    assert len(emulator_conn.requests("PUT")) == 1


def test_html_server_error_after_retries(hook, emulator_conn):
    emulator_conn.inject("status", status=502, html=True, count=10)
    with pytest.raises(PlusofonServerError, match="502 Bad Gateway"):
        hook.list_webhooks()
    assert emulator_conn.count("GET") == 4


def test_latency_and_timeout(monkeypatch, empty_account, waits):
    emulator_conn = empty_account
    conn = {**emulator_conn.connection_uri(), "extra": {"timeout": 0.2, "max_retries": 1}}
    monkeypatch.setenv("AIRFLOW_CONN_PLUSOFON_SLOW", json.dumps(conn))
    emulator_conn.inject("latency", latency_ms=500)
    webhooks = PlusofonHook("plusofon_slow").list_webhooks()  # first try times out, the retry answers
    assert webhooks == []
    assert len(waits) == 1
    deadline = time.monotonic() + 5
    while emulator_conn.count("GET") < 2 and time.monotonic() < deadline:
        time.sleep(0.05)  # the emulator logs the slow request once it has finished sleeping
    assert emulator_conn.count("GET") == 2


def test_validation_error_names_fields(hook, emulator_conn):
    emulator_conn.seed([BODY])
    with pytest.raises(PlusofonValidationError, match="event: The selected event is invalid"):
        hook.update_webhook(1, {"url": "https://a.example", "event": "hangup"})


def test_wrong_token_is_auth_error_without_the_token(monkeypatch, emulator_conn):
    conn = {**emulator_conn.connection_uri(), "password": "wrong-token-123"}
    monkeypatch.setenv("AIRFLOW_CONN_PLUSOFON_WRONG", json.dumps(conn))
    with pytest.raises(PlusofonAuthError) as caught:
        PlusofonHook("plusofon_wrong").list_webhooks()
    assert "wrong-token-123" not in str(caught.value)
    assert TOKEN not in str(caught.value)
    assert emulator_conn.count() == 1


# -- hostile answers, over real HTTP -------------------------------------------------------------


def test_a_redirect_is_not_followed(hook, emulator_conn):
    emulator_conn.inject("redirect", location="https://elsewhere.example/api/v1/webhooks")
    with pytest.raises(PlusofonRedirectError, match=r"elsewhere\.example"):
        hook.list_webhooks()
    assert emulator_conn.count() == 1


def test_an_echoed_token_never_reaches_the_error(hook, emulator_conn):
    emulator_conn.inject("echo_token", status=422)
    with pytest.raises(PlusofonValidationError) as caught:
        hook.list_webhooks()
    assert TOKEN not in str(caught.value)
    assert "Bad header: Bearer ***" in str(caught.value)


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
def test_a_paginator_that_cannot_be_trusted_costs_a_few_requests_at_most(hook, emulator_conn, fault, error, text):
    emulator_conn.seed(seeded(20))
    emulator_conn.inject("paginator", **fault)
    with pytest.raises(error, match=text):
        hook.list_webhooks()
    assert emulator_conn.count("GET") <= 2


def test_list_items_without_ids_are_an_error_not_a_partial_view(hook, emulator_conn):
    emulator_conn.seed(seeded(3))
    emulator_conn.inject("strip_ids")
    with pytest.raises(PlusofonInvalidResponseError, match="item 0 has no valid id"):
        hook.list_webhooks()


def test_a_gzip_bomb_is_refused_at_the_cap(hook, emulator_conn):
    emulator_conn.inject("gzip_bomb", size_mb=32)
    with pytest.raises(PlusofonInvalidResponseError, match="larger than 16777216 bytes"):
        hook.list_webhooks()


def test_a_250_mb_gzip_bomb_is_refused_holding_no_more_than_the_16_mb_cap(hook, emulator_conn):
    import tracemalloc

    emulator_conn.inject("gzip_bomb", size_mb=250)
    hook.config  # noqa: B018  (read the connection first: not what is measured)
    tracemalloc.start()
    try:
        with pytest.raises(PlusofonInvalidResponseError, match="larger than 16777216 bytes"):
            hook.get_webhook(5)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # the 16 MB read so far, a copy of it, and change; not the 250 MB it expands to
    assert peak < 40 * 1024 * 1024, f"{peak / 2**20:.0f} MB held"
