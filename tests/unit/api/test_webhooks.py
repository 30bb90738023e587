"""PlusofonClient (api/webhooks.py) against requests-mock: what is sent, what the caller gets, retries, hostile answers."""

from __future__ import annotations

import re

import pytest
import requests

from airflow_provider_plusofon.api import PlusofonClient, PlusofonConnectionConfig
from airflow_provider_plusofon.api.ids import WEBHOOKS_PATH
from airflow_provider_plusofon.exceptions import (
    PlusofonAuthError,
    PlusofonConfigError,
    PlusofonInvalidResponseError,
    PlusofonListingChangedError,
    PlusofonNotFoundError,
    PlusofonPagingLimitError,
    PlusofonRateLimitError,
    PlusofonRedirectError,
    PlusofonRequestRejected,
    PlusofonServerError,
    PlusofonTransportError,
    PlusofonValidationError,
)
from tests.conftest import BASE, CLIENT_ID, TOKEN, airflow_modules_after_importing

LIST_URL = BASE + WEBHOOKS_PATH


def paginator(items: list[dict], page: int, last_page: int, per_page: int = 2, total: int | None = None) -> dict:
    """A page as the vendor's Laravel backend builds it: links pointing at http://localhost."""
    if total is None:  # the smallest total that is consistent with last_page
        total = (last_page - 1) * per_page + 1
    return {
        "current_page": page,
        "data": items,
        "first_page_url": "http://localhost/api/v1/webhooks?page=1",
        "from": (page - 1) * per_page + 1,
        "last_page": last_page,
        "last_page_url": f"http://localhost/api/v1/webhooks?page={last_page}",
        "next_page_url": f"http://localhost/api/v1/webhooks?page={page + 1}" if page < last_page else None,
        "path": "http://localhost/api/v1/webhooks",
        "per_page": per_page,
        "prev_page_url": None,
        "to": (page - 1) * per_page + len(items),
        "total": total,
    }


def item(webhook_id: int, url: str = "https://crm.example.com/calls", event: str = "create", **extra) -> dict:
    return {"id": webhook_id, "url": url, "type_call": "inbound", "type": "lk", "event": event, **extra}


def mock_pages(requests_mock, pages: list[list[dict]], base: str = BASE) -> None:
    url = base.rstrip("/") + WEBHOOKS_PATH
    for number, items in enumerate(pages, start=1):
        requests_mock.get(url + f"?page={number}", complete_qs=True, json=paginator(items, number, len(pages)))


def assert_exponential_backoff(waits: list[float]) -> None:
    """Three waits of 0.5, 1 and 2 seconds, each plus up to 0.5 s of jitter."""
    assert len(waits) == 3
    for wait, base in zip(waits, (0.5, 1.0, 2.0), strict=True):
        assert base <= wait <= base + 0.5


@pytest.fixture
def client() -> PlusofonClient:
    return PlusofonClient(
        PlusofonConnectionConfig(base_url=BASE, client_id=CLIENT_ID, token=TOKEN, timeout=3, max_retries=3)
    )


def test_headers_are_exactly_the_documented_ones(client, requests_mock):
    mock_pages(requests_mock, [[item(1)]])
    client.list_webhooks()
    sent = requests_mock.request_history[0]
    assert sent.headers["Client"] == CLIENT_ID
    assert sent.headers["Authorization"] == f"Bearer {TOKEN}"
    assert sent.headers["Accept"] == "application/json"
    assert sent.headers["Content-Type"] == "application/json"
    assert sent.timeout == 3


def test_list_pages_against_configured_host_and_never_follows_links(client, requests_mock):
    mock_pages(requests_mock, [[item(1), item(2)], [item(3), item(4)], [item(5)]])
    webhooks = client.list_webhooks()
    assert [w["id"] for w in webhooks] == [1, 2, 3, 4, 5]
    urls = sorted(r.url for r in requests_mock.request_history)
    assert urls == [f"{LIST_URL}?page={n}" for n in (1, 2, 3)]
    assert all(r.body is None for r in requests_mock.request_history)


def test_a_read_whose_pages_contradict_each_other_is_read_again(client, requests_mock):
    # #2 on two pages: the account changed between the reads of page 1 and page 2 (issue 19).
    requests_mock.get(LIST_URL + "?page=1", complete_qs=True, json=paginator([item(1), item(2)], 1, 2, total=4))
    shifted, settled = paginator([item(2), item(3)], 2, 2, total=4), paginator([item(3), item(4)], 2, 2, total=4)
    requests_mock.get(LIST_URL + "?page=2", complete_qs=True, response_list=[{"json": shifted}, {"json": settled}])
    assert [w["id"] for w in client.list_webhooks()] == [1, 2, 3, 4]
    assert [r.qs["page"] for r in requests_mock.request_history] == [["1"], ["2"], ["1"], ["2"]]


@pytest.mark.parametrize(
    "page_two",
    [
        paginator([item(3), item(4)], 2, 2, total=3),  # another total
        paginator([item(3)], 2, 3, total=5),  # another last page
        paginator([item(2), item(3)], 2, 2, total=4),  # an id on two pages
    ],
)
def test_an_account_that_keeps_changing_is_an_error_after_five_reads(client, requests_mock, page_two):
    requests_mock.get(LIST_URL + "?page=1", complete_qs=True, json=paginator([item(1), item(2)], 1, 2, total=4))
    requests_mock.get(LIST_URL + "?page=2", complete_qs=True, json=page_two)
    with pytest.raises(PlusofonListingChangedError, match=r"kept changing while it was listed \(5 reads in a row"):
        client.list_webhooks()
    assert requests_mock.call_count == 10


def test_a_short_page_before_the_last_means_the_account_changed(client, requests_mock):
    pages = [paginator([item(1), item(2)], 1, 3, total=5), paginator([item(4)], 2, 3, total=5)]
    pages.append(paginator([item(5), item(6)], 3, 3, total=5))
    for number, page in enumerate(pages, start=1):
        requests_mock.get(LIST_URL + f"?page={number}", complete_qs=True, json=page)
    with pytest.raises(PlusofonListingChangedError):
        client.list_webhooks()


def test_list_sends_type_as_json_body(client, requests_mock):
    mock_pages(requests_mock, [[item(1)]])
    client.list_webhooks(type="lk")
    assert requests_mock.request_history[0].json() == {"type": "lk"}


def test_list_without_last_page_follows_page_numbers(client, requests_mock):
    requests_mock.get(LIST_URL + "?page=1", complete_qs=True, json={"data": [item(1)], "next_page_url": "x"})
    requests_mock.get(LIST_URL + "?page=2", complete_qs=True, json={"data": [item(2)], "next_page_url": None})
    assert [w["id"] for w in client.list_webhooks()] == [1, 2]


def test_list_rejects_a_non_paginator(client, requests_mock):
    requests_mock.get(LIST_URL, json={"unexpected": True})
    with pytest.raises(PlusofonInvalidResponseError, match="paginator"):
        client.list_webhooks()


def test_get_webhook_returns_detail(client, requests_mock):
    detail = item(5, headers=[{"name": "X-Key", "value": "v"}], template=None)
    requests_mock.get(f"{LIST_URL}/5", json=detail)
    assert client.get_webhook(5) == detail


def test_update_puts_full_body(client, requests_mock):
    requests_mock.put(f"{LIST_URL}/5", json={"success": True})
    body = {"url": "https://a.example/x", "event": "create", "type_style": "short", "headers": []}
    client.update_webhook(5, body)
    assert requests_mock.last_request.method == "PUT"
    assert requests_mock.last_request.json() == body


def test_delete_and_missing_ok(client, requests_mock):
    requests_mock.delete(f"{LIST_URL}/5", json={"success": True})
    requests_mock.delete(f"{LIST_URL}/6", status_code=404, json={"message": "Not Found"})
    client.delete_webhook(5)
    client.delete_webhook(6, missing_ok=True)
    with pytest.raises(PlusofonNotFoundError):
        client.delete_webhook(6)
    assert [r.path for r in requests_mock.request_history] == [f"{WEBHOOKS_PATH}/{n}" for n in (5, 6, 6)]


def test_delete_whose_answer_was_lost_then_404_counts_as_deleted(client, requests_mock):
    requests_mock.delete(
        f"{LIST_URL}/5",
        [{"exc": requests.ConnectionError("reset")}, {"status_code": 404, "json": {"message": "Not Found"}}],
    )
    client.delete_webhook(5)
    assert requests_mock.call_count == 2


def test_success_false_with_200_is_an_error_showing_message(client, requests_mock):
    requests_mock.put(f"{LIST_URL}/5", json={"success": False, "message": "Webhook limit reached"})
    with pytest.raises(PlusofonRequestRejected, match="Webhook limit reached") as caught:
        client.update_webhook(5, {"url": "https://a.example", "event": "create"})
    assert caught.value.status_code == 200
    assert requests_mock.call_count == 1


@pytest.mark.parametrize(
    ("status", "body", "error", "text"),
    [
        (401, {"message": "Unauthenticated."}, PlusofonAuthError, "Unauthenticated."),
        (403, {"message": "Forbidden"}, PlusofonAuthError, "Forbidden"),
        (404, {"message": "Not Found"}, PlusofonNotFoundError, "Not Found"),
        (
            422,
            {"message": "The given data was invalid.", "errors": {"url": ["The url field is required."]}},
            PlusofonValidationError,
            "url: The url field is required.",
        ),
    ],
)
def test_client_errors_are_mapped_and_never_retried(client, requests_mock, waits, status, body, error, text):
    requests_mock.get(f"{LIST_URL}/5", status_code=status, json=body)
    with pytest.raises(error, match=text) as caught:
        client.get_webhook(5)
    assert caught.value.status_code == status
    assert (caught.value.method, caught.value.path) == ("GET", f"{WEBHOOKS_PATH}/5")
    assert requests_mock.call_count == 1
    assert waits == []


def test_html_error_page_gives_a_clear_error(client, requests_mock):
    page = "<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>"
    requests_mock.get(f"{LIST_URL}/5", status_code=502, text=page, headers={"Content-Type": "text/html"})
    with pytest.raises(PlusofonServerError, match="non-JSON response: 502 Bad Gateway") as caught:
        client.get_webhook(5)
    assert "<html>" not in str(caught.value)


def test_non_json_200_is_an_error(client, requests_mock):
    requests_mock.get(f"{LIST_URL}/5", text="OK")
    with pytest.raises(PlusofonInvalidResponseError, match="non-JSON"):
        client.get_webhook(5)


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors_retried_up_to_max_retries_with_backoff(client, requests_mock, waits, status):
    requests_mock.get(f"{LIST_URL}/5", status_code=status, json={"message": "Server Error"})
    with pytest.raises(PlusofonServerError):
        client.get_webhook(5)
    assert requests_mock.call_count == 4  # the first try and max_retries=3
    assert_exponential_backoff(waits)


def test_retry_then_success(client, requests_mock, waits):
    requests_mock.get(
        f"{LIST_URL}/5",
        [{"status_code": 503, "json": {}}, {"exc": requests.ConnectTimeout}, {"json": item(5)}],
    )
    assert client.get_webhook(5)["id"] == 5
    assert requests_mock.call_count == 3
    assert len(waits) == 2


def test_429_waits_for_retry_after(client, requests_mock, waits):
    requests_mock.get(
        f"{LIST_URL}/5",
        [
            {"status_code": 429, "headers": {"Retry-After": "7"}, "json": {"message": "Too Many Attempts."}},
            {"json": item(5)},
        ],
    )
    assert client.get_webhook(5)["id"] == 5
    assert waits == [7.0]


def test_429_without_retry_after_backs_off_exponentially(client, requests_mock, waits):
    requests_mock.get(f"{LIST_URL}/5", [{"status_code": 429, "json": {}}] * 3 + [{"json": item(5)}])
    assert client.get_webhook(5)["id"] == 5
    assert_exponential_backoff(waits)


def test_429_retry_after_is_capped(client, requests_mock, waits):
    requests_mock.get(
        f"{LIST_URL}/5",
        [{"status_code": 429, "headers": {"Retry-After": "3600"}, "json": {}}, {"json": item(5)}],
    )
    client.get_webhook(5)
    assert waits == [60.0]


def test_a_429_pauses_every_later_request_of_the_client(requests_mock, waits):
    # Concurrent requests share one client: the pause one of them met holds for all of them.
    client = PlusofonClient(PlusofonConnectionConfig(base_url=BASE, client_id=CLIENT_ID, token=TOKEN, max_retries=0))
    requests_mock.get(f"{LIST_URL}/5", status_code=429, headers={"Retry-After": "7"}, json={})
    requests_mock.get(f"{LIST_URL}/6", json=item(6))
    with pytest.raises(PlusofonRateLimitError):
        client.get_webhook(5)
    assert waits == []
    assert client.get_webhook(6)["id"] == 6
    assert waits == [7.0]
    client.get_webhook(6)
    assert waits == [7.0]  # the pause is over once waited out


def test_429_exhausted_raises_rate_limit_error(client, requests_mock):
    requests_mock.get(f"{LIST_URL}/5", status_code=429, headers={"Retry-After": "1"}, json={})
    with pytest.raises(PlusofonRateLimitError) as caught:
        client.get_webhook(5)
    assert caught.value.retry_after == 1.0
    assert requests_mock.call_count == 4


def test_timeout_is_a_transport_error_after_retries(client, requests_mock):
    requests_mock.get(f"{LIST_URL}/5", exc=requests.ReadTimeout)
    with pytest.raises(PlusofonTransportError, match="no answer within 3s"):
        client.get_webhook(5)
    assert requests_mock.call_count == 4


def test_each_retry_is_logged_with_method_path_status_and_wait(client, requests_mock, logs):
    requests_mock.put(f"{LIST_URL}/9", [{"status_code": 503, "json": {}}, {"json": {"success": True}}])
    client.update_webhook(9, {"url": "https://a.example", "event": "create"})
    text = logs()
    assert "PUT /api/v1/webhooks/9 failed (HTTP 503); retry 1 of 3 in" in text


def test_test_connection_ok(client, requests_mock):
    requests_mock.get(LIST_URL, json=paginator([item(1)], 1, 1, total=99))
    ok, message = client.test_connection()
    assert ok
    assert "99 webhook(s)" in message
    assert requests_mock.call_count == 1


def test_test_connection_bad_token_says_what_failed(client, requests_mock):
    requests_mock.get(LIST_URL, status_code=401, json={"message": "Unauthenticated."})
    ok, message = client.test_connection()
    assert not ok
    assert "Authentication failed" in message
    assert TOKEN not in message


def test_the_http_client_imports_nothing_of_airflow():
    # It is what runs where Airflow is not loaded (and what the listing memory benchmark measures).
    assert airflow_modules_after_importing("airflow_provider_plusofon.api") == []


# -- requests go only where the API is -----------------------------------------------------------


@pytest.mark.parametrize(
    "bad",
    [
        "1/../../calls/7",
        "../7",
        "7?page=1",
        "7#x",
        "-1",
        "0",
        "1e3",
        "",
        " ",
        chr(0xFF17),  # a digit to str.isdigit, not to the API
        "9" * 19,
        0,
        -5,
        True,
        1.5,
        None,
        [7],
    ],
)
def test_ids_are_validated_before_they_enter_a_path(client, requests_mock, bad):
    calls = [
        lambda: client.get_webhook(bad),
        lambda: client.get_webhooks([5, bad]),
        lambda: client.update_webhook(bad, {"url": "https://a.example", "event": "create"}),
        lambda: client.delete_webhook(bad, missing_ok=True),
    ]
    for call in calls:
        with pytest.raises(PlusofonConfigError, match="webhook id must be a positive integer"):
            call()
    assert requests_mock.call_count == 0


def test_an_id_given_as_digits_is_used_as_a_number(client, requests_mock):
    requests_mock.get(f"{LIST_URL}/42", json=item(42))
    assert client.get_webhook(" 42 ")["id"] == 42
    assert requests_mock.last_request.path == "/api/v1/webhooks/42"


def test_a_detail_answer_for_another_id_is_not_trusted(client, requests_mock):
    requests_mock.get(f"{LIST_URL}/5", json=item(6))
    with pytest.raises(PlusofonInvalidResponseError, match="not webhook #5"):
        client.get_webhook(5)


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_is_an_error_and_never_followed(client, requests_mock, waits, status):
    requests_mock.get(f"{LIST_URL}/5", status_code=status, headers={"Location": "https://evil.example/steal"})
    requests_mock.post(LIST_URL, status_code=status, headers={"Location": "https://evil.example/steal"})
    requests_mock.get("https://evil.example/steal", json=item(5))
    with pytest.raises(PlusofonRedirectError, match=r"redirect to evil\.example; redirects are not followed"):
        client.get_webhook(5)
    with pytest.raises(PlusofonRedirectError):
        client.post_webhook({"url": "https://a.example", "event": "create"})
    assert [r.hostname for r in requests_mock.request_history] == ["plusofon.test", "plusofon.test"]
    assert waits == []


# -- secrets never shown -------------------------------------------------------------------------


def test_a_request_that_cannot_be_built_is_not_retried_and_names_no_value(client, requests_mock, waits):
    with pytest.raises(PlusofonConfigError, match="could not be built"):
        client.update_webhook(5, {"url": "https://a.example", "event": "create", "template": object()})
    assert requests_mock.call_count == 0
    assert waits == []


@pytest.mark.parametrize("padding", [150, 190, 195, 199, 290, 299])
def test_an_echoed_token_is_redacted_before_the_message_is_cut(client, requests_mock, padding):
    requests_mock.get(f"{LIST_URL}/5", status_code=404, text="x" * padding + f"Bearer {TOKEN} and more")
    requests_mock.get(f"{LIST_URL}/6", status_code=404, json={"message": "y" * padding + TOKEN})
    for webhook_id in (5, 6):
        with pytest.raises(PlusofonNotFoundError) as caught:
            client.get_webhook(webhook_id)
        text = str(caught.value)
        for size in range(4, len(TOKEN) + 1):
            assert TOKEN[:size] not in text


@pytest.mark.parametrize(
    "errors",
    [f"auth: {TOKEN}", [f"auth {TOKEN}", 3], 5, None, {"auth": f"has {TOKEN}"}, {"a": [1, {"b": TOKEN}]}, True, []],
)
def test_errors_of_any_json_shape_are_reported_redacted(client, requests_mock, errors):
    requests_mock.get(f"{LIST_URL}/5", status_code=422, json={"message": "invalid", "errors": errors})
    with pytest.raises(PlusofonValidationError) as caught:
        client.get_webhook(5)
    text = str(caught.value)
    assert TOKEN not in text
    assert "t, o, k" not in text  # never iterated character by character
    assert all(isinstance(m, str) for ms in caught.value.errors.values() for m in ms)


# -- what the server answers is checked ----------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "shown"),
    [
        ([item(1), {"url": "https://a.example", "event": "create"}], "item 1 has no valid id (got null)"),
        ([item(1), {**item(2), "id": "2a"}], "item 1 has no valid id (got a string of 2 characters)"),
        ([item(1), {**item(2), "id": " 2"}], "item 1 has no valid id (got a string of 2 characters)"),
        ([item(1), {**item(2), "id": "-2"}], "item 1 has no valid id (got a string of 2 characters)"),
        ([item(1), {**item(2), "id": "0"}], "item 1 has no valid id (got a string of 1 characters)"),
        ([item(1), {**item(2), "id": "٢"}], "item 1 has no valid id (got a string of 1 characters)"),
        ([{**item(1), "id": True}], "item 0 has no valid id (got a boolean)"),
        ([{**item(1), "id": -3}], "item 0 has no valid id (got an integer)"),
        (["https://a.example"], "item 0 has no valid id (got a string"),
    ],
)
def test_list_items_without_a_valid_id_make_the_listing_an_error(client, requests_mock, data, shown):
    requests_mock.get(LIST_URL, json=paginator(data, 1, 1, total=len(data)))
    with pytest.raises(PlusofonInvalidResponseError, match=re.escape(shown)) as caught:
        client.list_webhooks()
    assert "page 1 of the list" in str(caught.value)
    assert requests_mock.call_count == 1


def test_ids_given_as_digits_are_used_as_numbers(client, requests_mock):
    # Unambiguous: digits only. The listing and the detail view both say 12.
    requests_mock.get(LIST_URL, json=paginator([item(1), {**item(12), "id": "12"}], 1, 1, total=2))
    requests_mock.get(f"{LIST_URL}/12", json={**item(12), "id": "12"})
    assert [w["id"] for w in client.list_webhooks()] == [1, 12]
    assert client.get_webhook(12)["id"] == 12


def test_a_huge_last_page_that_total_contradicts_is_an_error_after_one_request(client, requests_mock):
    requests_mock.get(LIST_URL, json=paginator([item(1)], 1, 10**9, per_page=15, total=2))
    with pytest.raises(PlusofonInvalidResponseError, match="contradicts itself: last_page=1000000000"):
        client.list_webhooks()
    assert requests_mock.call_count == 1


def test_a_huge_last_page_alone_stops_at_max_pages_after_one_request(requests_mock):
    client = PlusofonClient(PlusofonConnectionConfig(base_url=BASE, client_id=CLIENT_ID, token=TOKEN, max_pages=50))
    requests_mock.get(LIST_URL, json={"data": [item(1)], "last_page": 10**9})
    with pytest.raises(PlusofonPagingLimitError, match="1000000000 or more pages, more than max_pages=50"):
        client.list_webhooks()
    assert requests_mock.call_count == 1


def test_an_endless_paginator_repeating_its_items_stops_at_the_second_page(client, requests_mock):
    requests_mock.get(LIST_URL, json={"data": [item(1), item(2)], "next_page_url": "http://localhost/?page=2"})
    with pytest.raises(PlusofonInvalidResponseError, match="page 2 of the list: it repeats only webhooks"):
        client.list_webhooks()
    assert requests_mock.call_count == 2


def test_a_server_that_ignores_the_page_number_is_caught(client, requests_mock):
    requests_mock.get(LIST_URL, json={**paginator([item(1), item(2)], 1, 3, total=6)})
    with pytest.raises(PlusofonInvalidResponseError, match="asked for page 2, the answer says it is page '1'"):
        client.list_webhooks()


def test_an_endless_paginator_with_new_items_stops_at_max_pages(requests_mock):
    client = PlusofonClient(PlusofonConnectionConfig(base_url=BASE, client_id=CLIENT_ID, token=TOKEN, max_pages=3))

    def page(request, context):
        number = int(request.qs["page"][0])
        return {"data": [item(number)], "next_page_url": "http://localhost/next"}

    requests_mock.get(LIST_URL, json=page)
    with pytest.raises(PlusofonPagingLimitError, match="more than max_pages=3"):
        client.list_webhooks()
    assert requests_mock.call_count == 3


def test_an_answer_larger_than_the_cap_is_not_read_further(requests_mock):
    config = PlusofonConnectionConfig(base_url=BASE, client_id=CLIENT_ID, token=TOKEN, max_answer_bytes=4096)
    requests_mock.get(f"{LIST_URL}/5", content=b'{"id": 5, "template": "' + b"x" * 10_000 + b'"}')
    with pytest.raises(PlusofonInvalidResponseError, match="larger than 4096 bytes"):
        PlusofonClient(config).get_webhook(5)


@pytest.mark.parametrize("retry_after", ["nan", "inf", "-inf", "soon", "Mon, 99 Foo 2020"])
def test_a_retry_after_that_says_nothing_usable_means_backing_off(client, requests_mock, waits, retry_after):
    requests_mock.get(
        f"{LIST_URL}/5",
        [{"status_code": 429, "headers": {"Retry-After": retry_after}, "json": {}}, {"json": item(5)}],
    )
    client.get_webhook(5)
    assert len(waits) == 1
    assert 0.5 <= waits[0] <= 1.0


def test_secrets_are_revealed_only_from_the_calling_thread(requests_mock):
    # Airflow 3.0/3.1's masker sends to the supervisor over a channel with no lock (and in 3.1's
    # triggerer, from a plain thread, over a second event loop): never call it from the workers.
    import threading

    revealed: list[tuple[int, list[str]]] = []
    client = PlusofonClient(
        PlusofonConnectionConfig(base_url=BASE, client_id=CLIENT_ID, token=TOKEN, timeout=3, max_retries=0),
        max_workers=4,
        on_secrets=lambda found: revealed.append((threading.get_ident(), list(found))),
    )
    for webhook_id in range(1, 9):
        headers = [{"name": "X-Key", "value": f"detail-secret-{webhook_id}"}]
        requests_mock.get(f"{LIST_URL}/{webhook_id}", json=item(webhook_id, headers=headers))
    details = client.get_webhooks(range(1, 9))
    assert sorted(details) == list(range(1, 9))
    assert {ident for ident, _ in revealed} == {threading.get_ident()}
    assert sorted(v for _, found in revealed for v in found) == sorted(f"detail-secret-{i}" for i in range(1, 9))


def test_secrets_met_one_after_another_are_handed_over_once_for_the_batch(requests_mock):
    # Airflow's masker compiles its whole pattern again for each call: one call per detail view
    # made max_workers=1 cost as much again as the requests.
    revealed: list[list[str]] = []
    client = PlusofonClient(
        PlusofonConnectionConfig(base_url=BASE, client_id=CLIENT_ID, token=TOKEN, max_retries=0),
        max_workers=1,
        on_secrets=lambda found: revealed.append(list(found)),
    )
    for webhook_id in range(1, 5):
        headers = [{"name": "X-Key", "value": f"detail-secret-{webhook_id}"}]
        requests_mock.get(f"{LIST_URL}/{webhook_id}", json=item(webhook_id, headers=headers))

    client.get_webhooks(range(1, 5))
    assert revealed == [[f"detail-secret-{i}" for i in range(1, 5)]]

    client.get_webhook(1)  # alone, not in a batch: at once
    assert revealed[1:] == [["detail-secret-1"]]


def test_secrets_of_the_request_that_the_server_echoes_back_are_redacted(client, requests_mock):
    # Not only the token: the header values and the URL's user info that the request carried.
    body = {
        "url": "https://crm:url-echo-pass-1@a.example/x",
        "event": "create",
        "headers": [{"name": "X-Key", "value": "header-echo-secret-2"}],
        "params": [{"name": "api_key", "value": "param-echo-secret-3"}],
    }
    echo = "rejected: url-echo-pass-1 / crm:url-echo-pass-1 / header-echo-secret-2 / param-echo-secret-3"
    requests_mock.put(f"{LIST_URL}/5", status_code=422, json={"message": echo, "errors": {"headers.0.value": [echo]}})
    with pytest.raises(PlusofonValidationError) as caught:
        client.update_webhook(5, body)
    text = str(caught.value)
    for secret in ("url-echo-pass-1", "header-echo-secret-2", "param-echo-secret-3"):
        assert secret not in text
    assert text.count("***") >= 6
