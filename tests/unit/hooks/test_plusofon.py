"""PlusofonHook: the connection read into a validated config, masking, and what the hook adds."""

from __future__ import annotations

import json

import pytest
import requests
from airflow.providers.common.compat.sdk import AirflowNotFoundException

from airflow_provider_plusofon.exceptions import (
    CreateOutcomeUnknownError,
    PlusofonAPIError,
    PlusofonConfigError,
    PlusofonPagingLimitError,
    PlusofonServerError,
    WebhookSpecError,
)
from airflow_provider_plusofon.hooks import masking as masking_module
from airflow_provider_plusofon.hooks.plusofon import PlusofonHook
from tests.conftest import TOKEN
from tests.unit.api.test_webhooks import LIST_URL, item, paginator


@pytest.fixture
def hook(conn_env) -> PlusofonHook:
    return PlusofonHook()


@pytest.fixture
def masked(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """What reaches Airflow's masker, call by call, with the once-per-process memory cleared."""
    calls: list[list[str]] = []
    monkeypatch.setattr(masking_module, "mask_secret", calls.append)
    monkeypatch.setattr(masking_module, "_masked", set())
    return calls


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


def test_test_connection_never_raises(monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_PLUSOFON_DEFAULT", json.dumps({"conn_type": "plusofon"}))
    ok, message = PlusofonHook().test_connection()
    assert not ok
    assert "Client ID" in message


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


def test_header_values_read_or_sent_are_masked_once_per_process(hook, requests_mock, masked):
    headers = [{"name": "X-Key", "value": "account-side-secret-991"}, {"name": "X-Other", "value": ""}]
    requests_mock.get(f"{LIST_URL}/5", json=item(5, headers=headers))
    requests_mock.put(f"{LIST_URL}/5", json={"success": True})
    hook.get_webhook(5)
    hook.get_webhook(5)
    hook.update_webhook(5, {**item(5), "headers": [*headers, {"name": "X-New", "value": "sent-secret-992"}]})
    # the token when the connection is read, then each header value once, in one call each time
    assert masked == [[TOKEN], ["account-side-secret-991"], ["sent-secret-992"]]


def test_create_webhook_returns_it_with_its_id(hook, requests_mock):
    body = {"url": "https://crm.example.com/calls", "event": "create", "type_call": "inbound"}
    requests_mock.get(
        LIST_URL,
        [{"json": paginator([item(3)], 1, 1)}, {"json": paginator([item(3), item(4)], 1, 1, total=2)}],
    )
    requests_mock.post(LIST_URL, json={"success": True})
    assert hook.create_webhook(body) == {**body, **item(4)}


def test_create_webhook_validates_the_body_before_any_request(hook, requests_mock):
    with pytest.raises(WebhookSpecError, match="field 'event': 'bogus' is not one of"):
        hook.create_webhook({"url": "https://a.example", "event": "bogus"})
    assert requests_mock.call_count == 0


def test_create_that_does_not_appear_is_an_error(hook, requests_mock):
    requests_mock.get(LIST_URL, json=paginator([], 1, 1, total=0))
    requests_mock.post(LIST_URL, json={"success": True})
    with pytest.raises(PlusofonAPIError, match="not in the list afterwards"):
        hook.create_webhook({"url": "https://a.example", "event": "create"})


def test_lost_create_answer_is_outcome_unknown_for_the_hook_too(hook, requests_mock):
    requests_mock.get(LIST_URL, json=paginator([], 1, 1, total=0))
    requests_mock.post(LIST_URL, exc=requests.ReadTimeout("read timed out"))
    with pytest.raises(CreateOutcomeUnknownError):
        hook.create_webhook({"url": "https://a.example", "event": "create"})
    assert len([r for r in requests_mock.request_history if r.method == "POST"]) == 1


# -- hostile connections -------------------------------------------------------------------------


def connect(monkeypatch, **fields) -> PlusofonHook:
    conn = {"conn_type": "plusofon", "login": "10553", "password": TOKEN, "host": "https://plusofon.test", **fields}
    monkeypatch.setenv("AIRFLOW_CONN_PLUSOFON_HOSTILE", json.dumps(conn))
    return PlusofonHook("plusofon_hostile")


@pytest.mark.parametrize("host", ["ftp://plusofon.test", "gopher://plusofon.test:70", "http://u:p@plusofon.test"])
def test_a_host_that_is_not_http_fails_at_once_without_retries(monkeypatch, requests_mock, waits, host):
    hook = connect(monkeypatch, host=host)
    with pytest.raises(PlusofonConfigError, match=r"'plusofon_hostile'.*base URL"):
        hook.list_webhooks()
    assert hook.test_connection()[0] is False
    assert requests_mock.call_count == 0
    assert waits == []


# Each way a connection is written: the JSON of AIRFLOW_CONN_*, its URI (the path is the schema),
# and what the UI's form stores (host, the Schema field, the extra's boolean).
PLAIN_HTTP_CONNECTIONS = {
    "json host": {"conn_type": "plusofon", "login": "10553", "password": TOKEN, "host": "http://gw.corp.example"},
    "form schema field": {
        "conn_type": "plusofon",
        "login": "10553",
        "password": TOKEN,
        "host": "gw.corp.example",
        "schema": "http",
        "port": 8080,
    },
    "uri": "plusofon://10553:tok-SECRET-4f1c9a@gw.corp.example:8080/http?timeout=5",
}


def _set_connection(monkeypatch, conn, **extra) -> PlusofonHook:
    if isinstance(conn, str):
        conn += "".join(f"&{k}={str(v).lower()}" for k, v in extra.items())
    else:
        conn = json.dumps({**conn, "extra": extra}) if extra else json.dumps(conn)
    monkeypatch.setenv("AIRFLOW_CONN_PLUSOFON_GATEWAY", conn)
    return PlusofonHook("plusofon_gateway")


@pytest.mark.parametrize("conn", PLAIN_HTTP_CONNECTIONS.values(), ids=PLAIN_HTTP_CONNECTIONS)
def test_a_plain_http_connection_off_this_machine_fails_before_any_connection_is_opened(
    monkeypatch, requests_mock, waits, conn
):
    hook = _set_connection(monkeypatch, conn)

    with pytest.raises(
        PlusofonConfigError, match=r"^Connection 'plusofon_gateway': the base URL 'http://gw\.corp"
    ) as caught:
        hook.list_webhooks()
    assert "set the connection's extra 'allow_plain_http' to true" in str(caught.value)
    ok, message = hook.test_connection()
    assert (ok, "would travel unencrypted" in message) == (False, True)
    assert requests_mock.call_count == 0
    assert waits == []


@pytest.mark.parametrize("conn", PLAIN_HTTP_CONNECTIONS.values(), ids=PLAIN_HTTP_CONNECTIONS)
def test_a_plain_http_connection_that_opts_in_is_sent_in_clear_as_asked(monkeypatch, requests_mock, conn):
    hook = _set_connection(monkeypatch, conn, allow_plain_http=True)
    base = hook.config.base_url
    requests_mock.get(base + "/api/v1/webhooks?page=1", json=paginator([item(1)], 1, 1))

    assert [w["id"] for w in hook.list_webhooks()] == [1]
    assert requests_mock.last_request.url.startswith("http://gw.corp.example")


def test_a_loopback_connection_written_as_a_uri_needs_no_opt_in(monkeypatch, requests_mock):
    hook = _set_connection(monkeypatch, "plusofon://10553:tok-SECRET-4f1c9a@localhost:8765/http?timeout=5")
    requests_mock.get("http://localhost:8765/api/v1/webhooks?page=1", json=paginator([item(1)], 1, 1))

    assert [w["id"] for w in hook.list_webhooks()] == [1]


def test_a_pasted_token_with_a_trailing_newline_works_and_is_masked_both_ways(monkeypatch, requests_mock, masked):
    hook = connect(monkeypatch, password=f"{TOKEN}\n")
    requests_mock.get(LIST_URL, json=paginator([], 1, 1, total=0))
    hook.list_webhooks()
    assert requests_mock.last_request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert masked == [[TOKEN, f"{TOKEN}\n"]]


def test_a_token_with_a_line_break_inside_fails_clearly_without_showing_it(monkeypatch, requests_mock, waits):
    hook = connect(monkeypatch, password="tok-SE\nCRET-4f1c9a")
    with pytest.raises(PlusofonConfigError) as caught:
        hook.list_webhooks()
    assert "API token" in str(caught.value)
    assert "CRET" not in str(caught.value)
    assert requests_mock.call_count == 0
    assert waits == []


@pytest.mark.parametrize(
    ("extra", "named"), [({"timeout": "nan"}, "'timeout'"), ({"max_retries": "inf"}, "'max_retries'")]
)
def test_extras_that_are_not_finite_are_refused(monkeypatch, requests_mock, extra, named):
    with pytest.raises(PlusofonConfigError, match=named):
        connect(monkeypatch, extra=extra).list_webhooks()
    assert requests_mock.call_count == 0


def test_max_pages_comes_from_the_connection(monkeypatch, requests_mock):
    hook = connect(monkeypatch, extra={"max_pages": "2"})
    requests_mock.get(LIST_URL, json=paginator([item(1)], 1, 3))
    with pytest.raises(PlusofonPagingLimitError, match="max_pages=2"):
        hook.list_webhooks()


def test_url_user_info_and_param_values_are_masked_like_header_values(masked):
    masking_module.mask_webhook_secrets(
        [
            {
                "url": "https://crm:pa55-w0rd@crm.example.com/x",
                "headers": [{"name": "X", "value": "h-secret"}],
                "params": [{"name": "key", "value": "p-secret"}],
            }
        ]
    )
    assert masked == [["h-secret", "p-secret", "crm:pa55-w0rd", "crm", "pa55-w0rd"]]


@pytest.mark.parametrize(
    ("host", "port", "base_url"),
    [
        ("https://restapi.plusofon.ru", 443, "https://restapi.plusofon.ru:443"),
        ("https://restapi.plusofon.ru", 0, "https://restapi.plusofon.ru"),  # what Airflow 3.3's Test sends
        ("https://restapi.plusofon.ru:8443/prefix", 443, "https://restapi.plusofon.ru:8443/prefix"),
        ("restapi.plusofon.ru/prefix", 8443, "https://restapi.plusofon.ru:8443/prefix"),
    ],
)
def test_the_port_field_joins_the_base_url_when_it_has_none(monkeypatch, host, port, base_url):
    assert connect(monkeypatch, host=host, port=port).config.base_url == base_url
