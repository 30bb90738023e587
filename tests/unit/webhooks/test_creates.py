"""create_webhooks() outcome by outcome: what each position reports, and the words a user reads.

Each message here is what a failed task shows; the tests pin it whole, since a message that loses
its ids or its advice ("run the task again", "Serialise the writers") leaves the user guessing.
"""

from __future__ import annotations

import logging

import pytest
import requests

from airflow_provider_plusofon.api import PlusofonClient, PlusofonConnectionConfig
from airflow_provider_plusofon.exceptions import (
    AmbiguousWebhookError,
    CreateOutcomeUnknownError,
    PlusofonAPIError,
)
from airflow_provider_plusofon.webhooks.creates import create_webhooks
from airflow_provider_plusofon.webhooks.spec import parse_specs
from tests.conftest import BASE, CLIENT_ID, TOKEN
from tests.unit.api.test_webhooks import LIST_URL, item, paginator

A = "https://crm.example.com/a"
B = "https://crm.example.com/b"
ACCEPTED = {"json": {"success": True}}
LOST = {"exc": requests.ConnectionError("Connection reset by peer")}


@pytest.fixture
def client() -> PlusofonClient:
    config = PlusofonConnectionConfig(base_url=BASE, client_id=CLIENT_ID, token=TOKEN, timeout=3, max_retries=1)
    return PlusofonClient(config, max_workers=1)


def specs(*urls: str):
    return parse_specs([{"url": url, "event": "create", "type_call": "inbound"} for url in urls])


def one_page(*items: dict) -> dict:
    return {"json": paginator(list(items), 1, 1, per_page=15, total=len(items))}


def test_nothing_to_create_sends_nothing(client, requests_mock):
    outcome = create_webhooks(client, [])
    assert (outcome.created, outcome.failures) == ([], [])
    assert requests_mock.request_history == []


def test_without_known_ids_the_account_is_listed_first(client, requests_mock):
    requests_mock.get(LIST_URL, [one_page(item(4, url=A)), one_page(item(4, url=A), item(5, url=A))])
    requests_mock.post(LIST_URL, [ACCEPTED])
    outcome = create_webhooks(client, specs(A))
    assert outcome.created == [(0, item(5, url=A))]
    assert [r.method for r in requests_mock.request_history] == ["GET", "POST", "GET"]


def test_a_create_rejected_for_sure_is_not_looked_for(client, requests_mock):
    requests_mock.post(LIST_URL, status_code=422, json={"message": "invalid", "errors": {"url": ["bad"]}})
    outcome = create_webhooks(client, specs(A), known_ids=[])
    assert outcome.created == []
    assert [position for position, _ in outcome.failures] == [0]
    assert [r.method for r in requests_mock.request_history] == ["POST"]


def test_each_position_keeps_its_own_outcome(client, requests_mock):
    requests_mock.post(LIST_URL, [ACCEPTED, LOST])
    requests_mock.get(LIST_URL, [one_page(item(7, url=A))])
    outcome = create_webhooks(client, specs(A, B), known_ids=[])
    assert outcome.created == [(0, item(7, url=A))]
    [(position, error)] = outcome.failures
    assert position == 1
    assert isinstance(error, CreateOutcomeUnknownError)
    assert str(error) == (
        "POST /api/v1/webhooks failed (no response): create outcome unknown: the answer was lost and it is "
        "not in the list. It may still appear, so it was not sent again (that could make a duplicate); run "
        "the task again, it plans afresh"
    )


def test_a_lost_answer_whose_webhook_was_stored_is_created_and_said_so(client, requests_mock, caplog):
    requests_mock.post(LIST_URL, [LOST])
    requests_mock.get(LIST_URL, [one_page(item(3, url=B), item(7, url=A))])
    with caplog.at_level(logging.WARNING, logger="airflow_provider_plusofon.webhooks.creates"):
        outcome = create_webhooks(client, specs(A), known_ids=[3])
    assert (outcome.created, outcome.failures) == ([(0, item(7, url=A))], [])
    assert [r.getMessage() for r in caplog.records] == [
        "The answer to the create of spec #0 (https://crm.example.com/a create inbound) was lost, but the webhook was stored"
    ]


def test_an_accepted_create_missing_from_the_list_is_done_without_an_id(client, requests_mock):
    requests_mock.post(LIST_URL, [ACCEPTED])
    requests_mock.get(LIST_URL, [one_page()])
    outcome = create_webhooks(client, specs(A), known_ids=[])
    assert outcome.created == [(0, {"id": None, "url": A, "event": "create", "type_call": "inbound"})]
    [(position, error)] = outcome.failures
    assert position == 0
    assert type(error) is PlusofonAPIError
    assert str(error) == (
        "POST /api/v1/webhooks failed (no response): the API accepted the webhook but it is not in the list afterwards"
    )


def test_when_the_look_up_fails_accepted_creates_are_done_and_lost_ones_unknown(client, requests_mock):
    requests_mock.post(LIST_URL, [ACCEPTED, LOST])
    requests_mock.get(LIST_URL, status_code=401, json={"message": "Unauthenticated."})
    outcome = create_webhooks(client, specs(A, B), known_ids=[])
    assert outcome.created == [(0, {"id": None, "url": A, "event": "create", "type_call": "inbound"})]
    [(first, lookup), (second, unknown)] = outcome.failures
    assert (first, second) == (0, 1)
    listing = (
        "GET /api/v1/webhooks failed (HTTP 401): Unauthenticated. (check the connection's login (the Client ID) "
        "and password (the API token): More → For developers → API)"
    )
    assert type(lookup) is PlusofonAPIError
    assert str(lookup) == (
        f"POST /api/v1/webhooks failed (no response): the webhook was created, but its id could not be looked up: {listing}"
    )
    assert isinstance(unknown, CreateOutcomeUnknownError)
    assert str(unknown) == (
        "POST /api/v1/webhooks failed (no response): create outcome unknown: the answer was lost and the list "
        f"could not be read ({listing}). It may still appear, so it was not sent again (that could make a "
        "duplicate); run the task again, it plans afresh"
    )


@pytest.mark.parametrize(
    ("answer", "whose"),
    [(ACCEPTED, "one of them is this run's"), (LOST, "it may be among them (its answer was lost)")],
)
def test_copies_made_by_another_writer_claim_no_id_and_name_every_copy(client, requests_mock, answer, whose):
    requests_mock.post(LIST_URL, [answer])
    requests_mock.get(LIST_URL, [one_page(item(2, url=A), item(9, url=A), item(6, url=A))])
    outcome = create_webhooks(client, specs(A), known_ids=[2])
    unidentified = {"id": None, "url": A, "event": "create", "type_call": "inbound"}
    assert outcome.created == [(0, {**unidentified, "copies": [6, 9]})]
    [(position, error)] = outcome.failures
    assert position == 0
    assert isinstance(error, AmbiguousWebhookError)
    assert str(error) == (
        "2 webhooks with the identity of spec #0 (https://crm.example.com/a create inbound) appeared while it was "
        f"created (#6, #9): another writer created it too, and {whose}. Serialise the writers of this account "
        "(a pool of one slot), then remove the extras (prune=True, or dedupe=True)"
    )


def test_the_look_up_stops_at_the_pages_that_hold_every_new_webhook(client, requests_mock):
    # 16 webhooks: page 2 holds the new one, so page 1 (the shape) and page 2 are read, no more.
    first = [item(n, url=f"https://other.example/{n}") for n in range(1, 16)]
    requests_mock.post(LIST_URL, [ACCEPTED])
    requests_mock.get(LIST_URL + "?page=1", complete_qs=True, json=paginator(first, 1, 2, per_page=15, total=16))
    requests_mock.get(
        LIST_URL + "?page=2", complete_qs=True, json=paginator([item(16, url=A)], 2, 2, per_page=15, total=16)
    )
    outcome = create_webhooks(client, specs(A), known_ids=range(1, 16))
    assert outcome.created == [(0, item(16, url=A))]
    assert [r.qs.get("page") for r in requests_mock.request_history if r.method == "GET"] == [["1"], ["2"]]
