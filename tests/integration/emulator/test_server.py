"""The emulator's contract, over real HTTP: every documented behaviour and every fault."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from airflow_provider_plusofon.emulator import PlusofonEmulator

pytestmark = pytest.mark.integration

HEADERS = {
    "Content-Type": "application/json",
    "Accept": "application/json",
    "Client": "10553",
    "Authorization": "Bearer dev-token",
}
BODY = {"url": "https://crm.example.com/calls", "event": "create", "type_call": "inbound"}


@pytest.fixture
def api(plusofon_emulator):
    session = requests.Session()
    session.headers.update(HEADERS)
    base = plusofon_emulator.base_url + "/api/v1/webhooks"

    def call(method: str, suffix: str = "", **kwargs) -> requests.Response:
        return session.request(method, base + suffix, timeout=5, **kwargs)

    return call


def test_binds_loopback_on_a_free_port(plusofon_emulator):
    assert plusofon_emulator.base_url.startswith("http://127.0.0.1:")
    assert plusofon_emulator.port > 0


def test_auth_needs_client_and_bearer_token(plusofon_emulator):
    url = plusofon_emulator.base_url + "/api/v1/webhooks"
    for headers in ({}, {**HEADERS, "Client": "1"}, {**HEADERS, "Authorization": "Bearer wrong"}):
        answer = requests.get(url, headers=headers, timeout=5)
        assert answer.status_code == 401
        assert answer.json() == {"message": "Unauthenticated."}
    assert requests.get(url, headers=HEADERS, timeout=5).status_code == 200


def test_create_answers_success_without_id_and_stores(api, plusofon_emulator):
    answer = api("POST", json={**BODY, "headers": [{"name": "X-Key", "value": "v"}]})
    assert answer.status_code == 200
    assert answer.json() == {"success": True}
    [stored] = plusofon_emulator.webhooks()
    assert stored["id"] == 1
    assert stored["headers"] == [{"name": "X-Key", "value": "v"}]
    assert stored["type"] == "lk"


def test_list_is_a_laravel_paginator_with_list_fields_only(api, plusofon_emulator):
    plusofon_emulator.seed(
        [{**BODY, "url": f"https://a.example/{n}", "headers": [{"name": "h", "value": "v"}]} for n in range(20)]
    )
    page1 = api("GET", params={"page": 1}).json()
    assert page1["per_page"] == 15
    assert page1["last_page"] == 2
    assert page1["total"] == 20
    assert page1["next_page_url"] == "http://localhost/api/v1/webhooks?page=2"
    assert page1["path"] == "http://localhost/api/v1/webhooks"
    assert set(page1["data"][0]) == {"id", "url", "type_call", "type", "event"}
    page2 = api("GET", params={"page": 2}).json()
    assert [w["id"] for w in page2["data"]] == list(range(16, 21))
    assert page2["next_page_url"] is None
    assert api("GET", params={"page": "x"}).json()["current_page"] == 1


def test_list_type_filter_from_json_body_or_query(api, plusofon_emulator):
    plusofon_emulator.seed([{**BODY, "type": "lk"}, {**BODY, "type": "et"}])
    assert [w["id"] for w in api("GET", json={"type": "et"}).json()["data"]] == [2]
    assert [w["id"] for w in api("GET", params={"type": "lk"}).json()["data"]] == [1]


def test_detail_view_has_every_field(api, plusofon_emulator):
    plusofon_emulator.seed([{"id": 5, **BODY, "template": None, "fields": [{"before": "a", "after": "b"}]}])
    detail = api("GET", "/5").json()
    assert set(detail) == {
        "id",
        "url",
        "type_call",
        "type",
        "event",
        "type_style",
        "template",
        "fields",
        "headers",
        "params",
    }
    assert detail["fields"] == [{"before": "a", "after": "b"}]


def test_put_replaces_every_field_and_delete_removes(api, plusofon_emulator):
    plusofon_emulator.seed([{"id": 5, **BODY, "headers": [{"name": "X", "value": "y"}]}])
    assert api("PUT", "/5", json={"url": "https://b.example", "event": "answer"}).json() == {"success": True}
    stored = plusofon_emulator.webhooks()[0]
    assert (stored["url"], stored["event"], stored["headers"], stored["type_call"]) == (
        "https://b.example",
        "answer",
        [],
        None,
    )
    assert api("DELETE", "/5").json() == {"success": True}
    assert plusofon_emulator.webhooks() == []


def test_unknown_id_is_404(api):
    for method in ("GET", "PUT", "DELETE"):
        answer = api(method, "/999", json=BODY)
        assert answer.status_code == 404
    assert api("GET", "/abc").status_code == 404


def test_invalid_body_is_laravel_422(api):
    answer = api("POST", json={"event": "hangup", "type_call": "sideways", "headers": [{"name": "X"}]})
    assert answer.status_code == 422
    body = answer.json()
    assert body["message"] == "The url field is required. (and 3 more errors)"
    assert body["errors"] == {
        "url": ["The url field is required."],
        "event": ["The selected event is invalid."],
        "type_call": ["The selected type_call is invalid."],
        "headers.0.value": ["The headers.0.value field is required."],
    }


def test_wrong_method_is_405_and_malformed_json_400(api):
    answer = api("PUT")
    assert answer.status_code == 405
    assert answer.headers["Allow"] == "GET, POST"
    assert api("POST", data=b"{not json").status_code == 400


def test_requests_are_recorded_with_token_redacted(api, plusofon_emulator):
    api("POST", json=BODY)
    api("GET", params={"page": 1})
    recorded = plusofon_emulator.requests()
    assert [(r["method"], r["path"], r["query"], r["status"]) for r in recorded] == [
        ("POST", "/api/v1/webhooks", {}, 200),
        ("GET", "/api/v1/webhooks", {"page": "1"}, 200),
    ]
    assert recorded[0]["body"] == BODY
    assert recorded[0]["headers"]["Authorization"] == "Bearer ***"
    assert "dev-token" not in json.dumps(recorded)


# -- faults --------------------------------------------------------------------------------------


def test_rate_limit_fault(api, plusofon_emulator):
    plusofon_emulator.inject("rate_limit", count=2, retry_after=3)
    for _ in range(2):
        answer = api("GET")
        assert answer.status_code == 429
        assert answer.headers["Retry-After"] == "3"
    assert api("GET").status_code == 200


@pytest.mark.parametrize("status", [500, 502, 503])
def test_status_fault_json_and_html(api, plusofon_emulator, status):
    plusofon_emulator.inject("status", status=status)
    plusofon_emulator.inject("status", status=status, html=True)
    assert api("GET").status_code == status
    answer = api("GET")
    assert answer.status_code == status
    assert answer.headers["Content-Type"].startswith("text/html")
    assert "<html>" in answer.text


def test_fault_filters_on_method_and_path(api, plusofon_emulator):
    plusofon_emulator.inject("status", status=500, method="DELETE")
    assert api("GET").status_code == 200
    assert api("DELETE", "/1").status_code == 500


def test_drop_after_store_stores_then_answers_nothing(api, plusofon_emulator):
    plusofon_emulator.inject("drop_after_store", method="POST")
    with pytest.raises(requests.ConnectionError):
        api("POST", json=BODY)
    assert len(plusofon_emulator.webhooks()) == 1
    assert plusofon_emulator.requests()[-1]["status"] == "dropped"


def test_drop_does_not_store(api, plusofon_emulator):
    plusofon_emulator.inject("drop", method="POST")
    with pytest.raises(requests.ConnectionError):
        api("POST", json=BODY)
    assert plusofon_emulator.webhooks() == []


def test_lagging_store_answers_nothing_and_stores_when_released(api, plusofon_emulator):
    plusofon_emulator.inject("lagging_store", method="POST", held=True)
    with pytest.raises(requests.ConnectionError):
        api("POST", json=BODY)
    assert plusofon_emulator.webhooks() == []
    released = requests.post(f"{plusofon_emulator.base_url}/__emulator__/held/release", timeout=5).json()
    assert released["stored"] == 1
    assert [w["url"] for w in plusofon_emulator.webhooks()] == [BODY["url"]]


def test_lagging_store_on_a_timer_stores_later(api, plusofon_emulator):
    # The timed form, for demos and the command line: stored within lag_ms (only a lower bound is
    # asserted: a loaded machine is later, never earlier).
    plusofon_emulator.inject("lagging_store", method="POST", lag_ms=50)
    with pytest.raises(requests.ConnectionError):
        api("POST", json=BODY)
    for _ in range(500):
        if plusofon_emulator.webhooks():
            break
        time.sleep(0.02)
    assert [w["url"] for w in plusofon_emulator.webhooks()] == [BODY["url"]]


def test_redirect_fault_points_elsewhere(api, plusofon_emulator):
    plusofon_emulator.inject("redirect", location="https://elsewhere.example/x")
    answer = api("GET", allow_redirects=False)
    assert (answer.status_code, answer.headers["Location"]) == (307, "https://elsewhere.example/x")


def test_paginator_fault_overrides_fields_or_repeats_page_one(api, plusofon_emulator):
    plusofon_emulator.seed([{**BODY, "url": f"https://a.example/{n}"} for n in range(20)])
    plusofon_emulator.inject("paginator", overrides={"last_page": 10**9, "total": None})
    first = api("GET").json()
    assert first["last_page"] == 10**9
    assert "total" not in first
    plusofon_emulator.inject("paginator", repeat_first_page=True, overrides={"last_page": None})
    again = api("GET", params={"page": 7}).json()
    assert [w["id"] for w in again["data"]] == list(range(1, 16))
    assert again["next_page_url"]
    assert "last_page" not in again


def test_strip_ids_and_echo_token_faults(api, plusofon_emulator):
    plusofon_emulator.seed([BODY])
    plusofon_emulator.inject("strip_ids")
    assert api("GET").json()["data"] == [{"url": BODY["url"], "type_call": "inbound", "type": "lk", "event": "create"}]
    plusofon_emulator.inject("echo_token", status=500)
    answer = api("GET")
    assert answer.status_code == 500
    assert answer.json() == {"message": "Bad header: Bearer dev-token", "errors": "Bearer dev-token"}


def test_gzip_bomb_is_small_on_the_wire_and_large_expanded(plusofon_emulator):
    plusofon_emulator.inject("gzip_bomb", size_mb=8)
    raw = requests.get(plusofon_emulator.base_url + "/api/v1/webhooks", headers=HEADERS, stream=True, timeout=10)
    assert raw.headers["Content-Encoding"] == "gzip"
    assert int(raw.headers["Content-Length"]) < 100_000
    assert len(raw.content) > 8 * 1024 * 1024


def test_success_false_fault(api, plusofon_emulator):
    plusofon_emulator.inject("success_false", message="Limit reached")
    answer = api("POST", json=BODY)
    assert (answer.status_code, answer.json()) == (200, {"success": False, "message": "Limit reached"})


def test_latency_fault_and_fixed_latency(api, plusofon_emulator):
    plusofon_emulator.inject("latency", latency_ms=150)
    started = time.perf_counter()
    api("GET")
    slow = time.perf_counter() - started
    assert slow >= 0.15
    plusofon_emulator.latency_ms = 50
    started = time.perf_counter()
    api("GET")
    assert time.perf_counter() - started >= 0.05


def test_unknown_fault_kind_is_rejected(plusofon_emulator):
    with pytest.raises(ValueError, match="unknown fault kind 'explode'"):
        plusofon_emulator.inject("explode")


def test_control_api_over_http(plusofon_emulator):
    control = plusofon_emulator.base_url + "/__emulator__"
    assert requests.put(control + "/webhooks", json={"webhooks": [BODY]}, timeout=5).json()[0]["id"] == 1
    assert requests.post(control + "/faults", json={"kind": "status", "status": 502, "count": 1}, timeout=5).ok
    assert requests.get(control + "/faults", timeout=5).json()[0]["status"] == 502
    assert requests.get(plusofon_emulator.base_url + "/api/v1/webhooks", headers=HEADERS, timeout=5).status_code == 502
    assert len(requests.get(control + "/requests", timeout=5).json()) == 1
    assert requests.post(control + "/faults", json={"kind": "nope"}, timeout=5).status_code == 400
    requests.post(control + "/reset", timeout=5)
    assert requests.get(control + "/webhooks", timeout=5).json() == []
    assert requests.get(control + "/requests", timeout=5).json() == []


def test_concurrent_creates_get_unique_ids(plusofon_emulator):
    url = plusofon_emulator.base_url + "/api/v1/webhooks"

    def create(n: int) -> int:
        return requests.post(
            url, headers=HEADERS, json={**BODY, "url": f"https://a.example/{n}"}, timeout=5
        ).status_code

    with ThreadPoolExecutor(8) as pool:
        assert set(pool.map(create, range(40))) == {200}
    ids = [w["id"] for w in plusofon_emulator.webhooks()]
    assert sorted(ids) == list(range(1, 41))


def test_context_manager_stops_the_server():
    with PlusofonEmulator() as emulator:
        url = emulator.base_url
    with pytest.raises(requests.ConnectionError):
        requests.get(url + "/api/v1/webhooks", timeout=2)
