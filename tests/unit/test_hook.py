"""PlusofonHook against requests-mock: what is sent, what the caller gets, retries, secrets."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import requests
from airflow.sdk.exceptions import AirflowNotFoundException

from airflow_provider_plusofon.exceptions import (
    PlusofonAPIError,
    PlusofonAuthError,
    PlusofonConfigError,
    PlusofonNotFoundError,
    PlusofonRateLimitError,
    PlusofonRequestRejected,
    PlusofonServerError,
    PlusofonTransportError,
    PlusofonValidationError,
)
from airflow_provider_plusofon.hooks.client import WEBHOOKS_PATH, PlusofonClient, PlusofonConnectionConfig
from airflow_provider_plusofon.hooks.plusofon import PlusofonHook
from tests.conftest import BASE, CLIENT_ID, TOKEN

LIST_URL = BASE + WEBHOOKS_PATH


def paginator(items: list[dict], page: int, last_page: int, per_page: int = 2, total: int = 99) -> dict:
    """A page as the vendor's Laravel backend builds it: links pointing at http://localhost."""
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


def mock_pages(requests_mock, pages: list[list[dict]]) -> None:
    for number, items in enumerate(pages, start=1):
        requests_mock.get(LIST_URL + f"?page={number}", complete_qs=True, json=paginator(items, number, len(pages)))


def assert_exponential_backoff(waits: list[float]) -> None:
    """Three waits of 0.5, 1 and 2 seconds, each plus up to 0.5 s of jitter."""
    assert len(waits) == 3
    for wait, base in zip(waits, (0.5, 1.0, 2.0), strict=True):
        assert base <= wait <= base + 0.5


@pytest.fixture
def hook(conn_env) -> PlusofonHook:
    return PlusofonHook()


# -- connection --------------------------------------------------------------------------------


def test_headers_are_exactly_the_documented_ones(hook, requests_mock):
    mock_pages(requests_mock, [[item(1)]])
    hook.list_webhooks()
    sent = requests_mock.request_history[0]
    assert sent.headers["Client"] == CLIENT_ID
    assert sent.headers["Authorization"] == f"Bearer {TOKEN}"
    assert sent.headers["Accept"] == "application/json"
    assert sent.headers["Content-Type"] == "application/json"
    assert sent.timeout == 3


def test_connection_defaults_and_extras(monkeypatch):
    monkeypatch.setenv(
        "AIRFLOW_CONN_PLUSOFON_DEFAULT",
        json.dumps({"conn_type": "plusofon", "password": "t0ken-xyz", "extra": {"client_id": "77"}}),
    )
    config = PlusofonHook().config
    assert config.base_url == "https://restapi.plusofon.ru"
    assert config.client_id == "77"
    assert (config.timeout, config.verify, config.max_retries) == (30.0, True, 5)
    assert "t0ken-xyz" not in repr(config)


def test_uri_connection_extras_arrive_as_strings(monkeypatch):
    monkeypatch.setenv(
        "AIRFLOW_CONN_PLUSOFON_LOCAL",
        "plusofon://10553:tok-abcdef@127.0.0.1:8765/http?timeout=2.5&verify=false&max_retries=0",
    )
    config = PlusofonHook("plusofon_local").config
    assert config.base_url == "http://127.0.0.1:8765"
    assert (config.timeout, config.verify, config.max_retries) == (2.5, False, 0)


@pytest.mark.parametrize(
    ("conn", "missing"),
    [
        ({"conn_type": "plusofon", "password": "t0ken-xyz"}, "Client ID"),
        ({"conn_type": "plusofon", "login": "10553"}, "API token"),
    ],
)
def test_missing_client_id_or_token_names_connection_and_field(monkeypatch, conn, missing):
    monkeypatch.setenv("AIRFLOW_CONN_PLUSOFON_BROKEN", json.dumps(conn))
    with pytest.raises(PlusofonConfigError, match=rf"'plusofon_broken'.*{missing}"):
        PlusofonHook("plusofon_broken").list_webhooks()


def test_bad_extra_value_is_named(monkeypatch):
    conn = {"conn_type": "plusofon", "login": "1", "password": "t0ken-xyz", "extra": {"timeout": "soon"}}
    monkeypatch.setenv("AIRFLOW_CONN_PLUSOFON_DEFAULT", json.dumps(conn))
    with pytest.raises(PlusofonConfigError, match=r"'timeout' must be a number, got 'soon'"):
        PlusofonHook().config  # noqa: B018


def test_missing_connection_is_airflows_not_found():
    with pytest.raises(AirflowNotFoundException):
        PlusofonHook("no_such_connection").config  # noqa: B018


def test_creating_a_hook_does_no_io(requests_mock):
    hook = PlusofonHook("does_not_exist_yet")
    assert repr(hook) == "PlusofonHook(plusofon_conn_id='does_not_exist_yet')"
    assert requests_mock.call_count == 0


# -- list ----------------------------------------------------------------------------------------


def test_list_pages_against_configured_host_and_never_follows_links(hook, requests_mock):
    mock_pages(requests_mock, [[item(1), item(2)], [item(3), item(4)], [item(5)]])
    webhooks = hook.list_webhooks()
    assert [w["id"] for w in webhooks] == [1, 2, 3, 4, 5]
    urls = sorted(r.url for r in requests_mock.request_history)
    assert urls == [f"{LIST_URL}?page={n}" for n in (1, 2, 3)]
    assert all(r.body is None for r in requests_mock.request_history)


def test_list_deduplicates_items_that_shift_between_pages(hook, requests_mock):
    mock_pages(requests_mock, [[item(1), item(2)], [item(2), item(3)]])
    assert [w["id"] for w in hook.list_webhooks()] == [1, 2, 3]


def test_list_sends_type_as_json_body(hook, requests_mock):
    mock_pages(requests_mock, [[item(1)]])
    hook.list_webhooks(type="lk")
    assert requests_mock.request_history[0].json() == {"type": "lk"}


def test_list_without_last_page_follows_page_numbers(hook, requests_mock):
    requests_mock.get(LIST_URL + "?page=1", complete_qs=True, json={"data": [item(1)], "next_page_url": "x"})
    requests_mock.get(LIST_URL + "?page=2", complete_qs=True, json={"data": [item(2)], "next_page_url": None})
    assert [w["id"] for w in hook.list_webhooks()] == [1, 2]


def test_new_ids_without_last_page_read_each_page_once(hook, requests_mock):
    requests_mock.post(LIST_URL, json={"success": True})
    requests_mock.get(
        LIST_URL + "?page=1", complete_qs=True, json={"data": [item(1, url="https://a.example")], "next_page_url": "x"}
    )
    requests_mock.get(LIST_URL + "?page=2", complete_qs=True, json={"data": [item(2)], "next_page_url": None})
    body = {"url": "https://crm.example.com/calls", "event": "create", "type_call": "inbound"}
    created = hook.create_webhooks([body], existing=[item(1, url="https://a.example")])
    assert created[0]["id"] == 2
    assert [r.qs["page"] for r in requests_mock.request_history if r.method == "GET"] == [["1"], ["2"]]


def test_list_rejects_a_non_paginator(hook, requests_mock):
    requests_mock.get(LIST_URL, json={"unexpected": True})
    with pytest.raises(PlusofonServerError, match="paginator"):
        hook.list_webhooks()


# -- get, update, delete -------------------------------------------------------------------------


def test_get_webhook_returns_detail(hook, requests_mock):
    detail = item(5, headers=[{"name": "X-Key", "value": "v"}], template=None)
    requests_mock.get(f"{LIST_URL}/5", json=detail)
    assert hook.get_webhook(5) == detail


def test_update_puts_full_body(hook, requests_mock):
    requests_mock.put(f"{LIST_URL}/5", json={"success": True})
    body = {"url": "https://a.example/x", "event": "create", "type_style": "short", "headers": []}
    hook.update_webhook(5, body)
    assert requests_mock.last_request.method == "PUT"
    assert requests_mock.last_request.json() == body


def test_delete_and_missing_ok(hook, requests_mock):
    requests_mock.delete(f"{LIST_URL}/5", json={"success": True})
    requests_mock.delete(f"{LIST_URL}/6", status_code=404, json={"message": "Not Found"})
    hook.delete_webhook(5)
    hook.delete_webhook(6, missing_ok=True)
    with pytest.raises(PlusofonNotFoundError):
        hook.delete_webhook(6)
    assert [r.path for r in requests_mock.request_history] == [f"{WEBHOOKS_PATH}/{n}" for n in (5, 6, 6)]


def test_delete_whose_answer_was_lost_then_404_counts_as_deleted(hook, requests_mock):
    requests_mock.delete(
        f"{LIST_URL}/5",
        [{"exc": requests.ConnectionError("reset")}, {"status_code": 404, "json": {"message": "Not Found"}}],
    )
    hook.delete_webhook(5)
    assert requests_mock.call_count == 2


# -- errors --------------------------------------------------------------------------------------


def test_success_false_with_200_is_an_error_showing_message(hook, requests_mock):
    requests_mock.put(f"{LIST_URL}/5", json={"success": False, "message": "Webhook limit reached"})
    with pytest.raises(PlusofonRequestRejected, match="Webhook limit reached") as caught:
        hook.update_webhook(5, {"url": "https://a.example", "event": "create"})
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
def test_client_errors_are_mapped_and_never_retried(hook, requests_mock, waits, status, body, error, text):
    requests_mock.get(f"{LIST_URL}/5", status_code=status, json=body)
    with pytest.raises(error, match=text) as caught:
        hook.get_webhook(5)
    assert caught.value.status_code == status
    assert (caught.value.method, caught.value.path) == ("GET", f"{WEBHOOKS_PATH}/5")
    assert requests_mock.call_count == 1
    assert waits == []


def test_html_error_page_gives_a_clear_error(hook, requests_mock):
    page = "<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>"
    requests_mock.get(f"{LIST_URL}/5", status_code=502, text=page, headers={"Content-Type": "text/html"})
    with pytest.raises(PlusofonServerError, match="non-JSON response: 502 Bad Gateway") as caught:
        hook.get_webhook(5)
    assert "<html>" not in str(caught.value)


def test_non_json_200_is_an_error(hook, requests_mock):
    requests_mock.get(f"{LIST_URL}/5", text="OK")
    with pytest.raises(PlusofonServerError, match="non-JSON"):
        hook.get_webhook(5)


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors_retried_up_to_max_retries_with_backoff(hook, requests_mock, waits, status):
    requests_mock.get(f"{LIST_URL}/5", status_code=status, json={"message": "Server Error"})
    with pytest.raises(PlusofonServerError):
        hook.get_webhook(5)
    assert requests_mock.call_count == 4  # the first try and max_retries=3
    assert_exponential_backoff(waits)


def test_retry_then_success(hook, requests_mock, waits):
    requests_mock.get(
        f"{LIST_URL}/5",
        [{"status_code": 503, "json": {}}, {"exc": requests.ConnectTimeout}, {"json": item(5)}],
    )
    assert hook.get_webhook(5)["id"] == 5
    assert requests_mock.call_count == 3
    assert len(waits) == 2


def test_429_waits_for_retry_after(hook, requests_mock, waits):
    requests_mock.get(
        f"{LIST_URL}/5",
        [
            {"status_code": 429, "headers": {"Retry-After": "7"}, "json": {"message": "Too Many Attempts."}},
            {"json": item(5)},
        ],
    )
    assert hook.get_webhook(5)["id"] == 5
    assert waits == [7.0]


def test_429_without_retry_after_backs_off_exponentially(hook, requests_mock, waits):
    requests_mock.get(f"{LIST_URL}/5", [{"status_code": 429, "json": {}}] * 3 + [{"json": item(5)}])
    assert hook.get_webhook(5)["id"] == 5
    assert_exponential_backoff(waits)


def test_429_retry_after_is_capped(hook, requests_mock, waits):
    requests_mock.get(
        f"{LIST_URL}/5",
        [{"status_code": 429, "headers": {"Retry-After": "3600"}, "json": {}}, {"json": item(5)}],
    )
    hook.get_webhook(5)
    assert waits == [PlusofonClient.retry_after_max_seconds]


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


def test_429_exhausted_raises_rate_limit_error(hook, requests_mock):
    requests_mock.get(f"{LIST_URL}/5", status_code=429, headers={"Retry-After": "1"}, json={})
    with pytest.raises(PlusofonRateLimitError) as caught:
        hook.get_webhook(5)
    assert caught.value.retry_after == 1.0
    assert requests_mock.call_count == 4


def test_timeout_is_a_transport_error_after_retries(hook, requests_mock):
    requests_mock.get(f"{LIST_URL}/5", exc=requests.ReadTimeout)
    with pytest.raises(PlusofonTransportError, match="no answer within 3s"):
        hook.get_webhook(5)
    assert requests_mock.call_count == 4


def test_each_retry_is_logged_with_method_path_status_and_wait(hook, requests_mock, logs):
    requests_mock.put(f"{LIST_URL}/9", [{"status_code": 503, "json": {}}, {"json": {"success": True}}])
    hook.update_webhook(9, {"url": "https://a.example", "event": "create"})
    text = logs()
    assert "PUT /api/v1/webhooks/9 failed (HTTP 503); retry 1 of 3 in" in text


# -- create --------------------------------------------------------------------------------------


def test_create_lists_before_and_after_and_returns_the_new_id(hook, requests_mock):
    body = {"url": "https://crm.example.com/calls", "event": "create", "type_call": "inbound"}
    requests_mock.get(
        LIST_URL,
        [
            {"json": paginator([item(3)], 1, 1)},  # before: an existing twin with id 3
            {"json": paginator([item(3), item(4)], 1, 1)},  # after
        ],
    )
    requests_mock.post(LIST_URL, json={"success": True})
    created = hook.create_webhook(body)
    assert created["id"] == 4
    posts = [r for r in requests_mock.request_history if r.method == "POST"]
    assert len(posts) == 1
    assert posts[0].json() == body


def test_create_failing_with_422_is_not_retried(hook, requests_mock):
    requests_mock.get(LIST_URL, json=paginator([], 1, 1))
    requests_mock.post(
        LIST_URL,
        status_code=422,
        json={"message": "invalid", "errors": {"event": ["The selected event is invalid."]}},
    )
    with pytest.raises(PlusofonValidationError, match="event: The selected event is invalid"):
        hook.create_webhook({"url": "https://a.example", "event": "bogus"})
    assert len([r for r in requests_mock.request_history if r.method == "POST"]) == 1


@pytest.mark.parametrize(
    "lost",
    [
        {"exc": requests.ConnectionError("Connection reset by peer")},
        {"exc": requests.ReadTimeout("read timed out")},
        {"status_code": 502, "text": "<html>Bad Gateway</html>"},
        {"status_code": 504, "json": {"message": "Gateway Timeout"}},
    ],
)
def test_lost_post_answer_never_sends_a_second_post_when_stored(hook, requests_mock, lost):
    body = {"url": "https://crm.example.com/calls", "event": "create", "type_call": "inbound"}
    stored = paginator([item(1, url="https://other.example"), item(2)], 1, 1)
    requests_mock.get(LIST_URL, [{"json": paginator([item(1, url="https://other.example")], 1, 1)}, {"json": stored}])
    requests_mock.post(LIST_URL, [lost, {"json": {"success": True}}])
    created = hook.create_webhook(body)
    assert created["id"] == 2
    assert len([r for r in requests_mock.request_history if r.method == "POST"]) == 1


def test_lost_post_answer_is_resent_when_not_stored(hook, requests_mock, waits):
    body = {"url": "https://crm.example.com/calls", "event": "create"}
    empty, stored = paginator([], 1, 1), paginator([item(8)], 1, 1)
    # before, check after the lost answer (nothing), after the second POST
    requests_mock.get(LIST_URL, [{"json": empty}, {"json": empty}, {"json": stored}])
    requests_mock.post(LIST_URL, [{"exc": requests.ConnectionError("reset")}, {"json": {"success": True}}])
    assert hook.create_webhook(body)["id"] == 8
    assert len([r for r in requests_mock.request_history if r.method == "POST"]) == 2
    assert len(waits) == 1


def test_post_after_429_is_resent_without_listing(hook, requests_mock, waits):
    body = {"url": "https://crm.example.com/calls", "event": "create"}
    requests_mock.get(LIST_URL, [{"json": paginator([], 1, 1)}, {"json": paginator([item(8)], 1, 1)}])
    requests_mock.post(
        LIST_URL,
        [{"status_code": 429, "headers": {"Retry-After": "2"}, "json": {}}, {"json": {"success": True}}],
    )
    assert hook.create_webhook(body)["id"] == 8
    methods = [r.method for r in requests_mock.request_history]
    assert methods == ["GET", "POST", "POST", "GET"]
    assert waits == [2.0]


def test_create_that_does_not_appear_is_an_error(hook, requests_mock):
    requests_mock.get(LIST_URL, json=paginator([], 1, 1))
    requests_mock.post(LIST_URL, json={"success": True})
    with pytest.raises(PlusofonAPIError, match="not in the list afterwards"):
        hook.create_webhook({"url": "https://a.example", "event": "create"})


# -- test_connection -----------------------------------------------------------------------------


def test_test_connection_ok(hook, requests_mock):
    requests_mock.get(LIST_URL, json=paginator([item(1)], 1, 1))
    ok, message = hook.test_connection()
    assert ok
    assert "99 webhook(s)" in message
    assert requests_mock.call_count == 1


def test_test_connection_bad_token_says_what_failed(hook, requests_mock):
    requests_mock.get(LIST_URL, status_code=401, json={"message": "Unauthenticated."})
    ok, message = hook.test_connection()
    assert not ok
    assert "Authentication failed" in message
    assert TOKEN not in message


def test_test_connection_never_raises(monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_PLUSOFON_DEFAULT", json.dumps({"conn_type": "plusofon"}))
    ok, message = PlusofonHook().test_connection()
    assert not ok
    assert "Client ID" in message


# -- secrets -------------------------------------------------------------------------------------


def test_token_never_in_logs_or_exceptions(hook, requests_mock, logs):
    requests_mock.get(f"{LIST_URL}/5", status_code=503, json={"message": f"echo Bearer {TOKEN}"})
    with pytest.raises(PlusofonServerError) as caught:
        hook.get_webhook(5)
    hook.log.info("config is %s, hook is %r", hook.config, hook)
    text = logs()
    assert "retry 3 of 3" in text
    assert TOKEN not in text
    assert TOKEN not in repr(hook) + repr(hook.config)
    assert TOKEN not in str(caught.value)
    assert "echo Bearer ***" in str(caught.value)


def test_header_values_read_or_sent_are_masked_once_per_hook(hook, requests_mock, monkeypatch):
    from airflow_provider_plusofon.hooks import plusofon as hook_module

    masked: list[list[str]] = []
    monkeypatch.setattr(hook_module, "mask_secret", masked.append)
    headers = [{"name": "X-Key", "value": "account-side-secret-991"}, {"name": "X-Other", "value": ""}]
    requests_mock.get(f"{LIST_URL}/5", json=item(5, headers=headers))
    requests_mock.put(f"{LIST_URL}/5", json={"success": True})
    hook.get_webhook(5)
    hook.get_webhook(5)
    hook.update_webhook(5, {**item(5), "headers": [*headers, {"name": "X-New", "value": "sent-secret-992"}]})
    assert masked == [TOKEN, ["account-side-secret-991"], ["sent-secret-992"]]  # the token when the connection is read


def test_new_ids_are_looked_up_from_the_last_page_back(hook, requests_mock):
    body = {"url": "https://crm.example.com/calls", "event": "create", "type_call": "inbound"}
    old = [[item(1, url="https://a.example"), item(2, url="https://b.example")], [item(3, url="https://c.example")]]
    after = [old[0], [old[1][0], item(4, url="https://d.example")], [item(5)]]
    requests_mock.post(LIST_URL, json={"success": True})
    for number in (1, 2, 3):
        requests_mock.get(LIST_URL + f"?page={number}", complete_qs=True, json=paginator(after[number - 1], number, 3))
    created = hook.create_webhooks([body], existing=[w for page in old for w in page])
    assert created[0]["id"] == 5
    assert [r.qs.get("page") for r in requests_mock.request_history if r.method == "GET"] == [["1"], ["3"]]


def test_new_ids_spanning_pages_are_read_together(hook, requests_mock):
    bodies = [{"url": f"https://crm.example.com/{n}", "event": "create", "type_call": "inbound"} for n in (4, 5)]
    old = [item(1, url="https://a.example"), item(2, url="https://b.example"), item(3, url="https://c.example")]
    after = [old[:2], [old[2], item(4, url=bodies[0]["url"])], [item(5, url=bodies[1]["url"])]]
    requests_mock.post(LIST_URL, json={"success": True})
    for number in (1, 2, 3):
        page = paginator(after[number - 1], number, 3, total=5)
        requests_mock.get(LIST_URL + f"?page={number}", complete_qs=True, json=page)
    created = hook.create_webhooks(bodies, existing=old)
    assert [w["id"] for w in created] == [4, 5]
    pages = [r.qs["page"][0] for r in requests_mock.request_history if r.method == "GET"]
    # page 1 tells the shape, then the two last pages at once: the new webhooks fill exactly those
    assert pages[0] == "1"
    assert sorted(pages[1:]) == ["2", "3"]


def test_new_id_lookup_reads_every_page_when_the_order_is_otherwise(hook, requests_mock):
    body = {"url": "https://crm.example.com/calls", "event": "create", "type_call": "inbound"}
    after = [[item(9, url="https://a.example")], [item(5)], [item(8, url="https://c.example")]]
    requests_mock.post(LIST_URL, json={"success": True})
    for number in (1, 2, 3):
        requests_mock.get(LIST_URL + f"?page={number}", complete_qs=True, json=paginator(after[number - 1], number, 3))
    created = hook.create_webhooks(
        [body], existing=[item(9, url="https://a.example"), item(8, url="https://c.example")]
    )
    assert created[0]["id"] == 5
    assert [r.qs.get("page") for r in requests_mock.request_history if r.method == "GET"] == [["1"], ["3"], ["2"]]


def test_the_http_client_imports_nothing_of_airflow():
    # It is what runs where Airflow is not loaded (and what the listing memory benchmark measures).
    code = (
        "import sys, airflow_provider_plusofon.hooks.client; "
        "print(sorted(m for m in sys.modules if m == 'airflow' or m.startswith('airflow.')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
