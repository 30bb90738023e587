"""Issue 21: errors that say where and what to check, against the emulator and broken connections."""

from __future__ import annotations

import json
import re

import pytest

from airflow_provider_plusofon.emulator import free_port
from airflow_provider_plusofon.exceptions import PlusofonAuthError, PlusofonConfigError, PlusofonTransportError
from airflow_provider_plusofon.hooks.plusofon import PlusofonHook
from tests.conftest import TOKEN

pytestmark = pytest.mark.integration


def connect(monkeypatch, value: str, conn_id: str = "plusofon_errors") -> PlusofonHook:
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", value)
    return PlusofonHook(conn_id)


def test_https_to_a_plain_http_server_is_not_retried_and_asks_is_it_http(emulator_conn, monkeypatch, waits):
    host = emulator_conn.base_url.replace("http://", "https://")
    hook = connect(monkeypatch, json.dumps({**emulator_conn.connection_uri(), "host": host}))
    with pytest.raises(PlusofonConfigError, match=rf"the TLS handshake with {host} failed: .*Is it http://\?"):
        hook.list_webhooks()
    assert waits == []
    ok, message = hook.test_connection()
    assert not ok and "Is it http://?" in message


def test_nothing_listening_names_the_base_url_and_what_to_check(monkeypatch, waits):
    base = f"http://127.0.0.1:{free_port()}"
    hook = connect(monkeypatch, json.dumps({"conn_type": "plusofon", "login": "1", "password": TOKEN, "host": base}))
    with pytest.raises(PlusofonTransportError) as caught:
        hook.list_webhooks()
    assert f"connection failed (NewConnectionError) to {base}: nothing accepts connections there; check the " in str(
        caught.value
    )
    assert len(waits) == 5  # still retried: an API restarting comes back


def test_a_wrong_token_names_the_fields_to_check(emulator_conn, monkeypatch):
    hook = connect(monkeypatch, json.dumps({**emulator_conn.connection_uri(), "password": "not-the-token-77"}))
    with pytest.raises(PlusofonAuthError) as caught:
        hook.list_webhooks()
    text = str(caught.value)
    assert "HTTP 401" in text
    assert "check the connection's login (the Client ID) and password (the API token)" in text
    assert "not-the-token-77" not in text


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ('{"conn_type": "plusofon", "login": "1", "password": "tok-broken-1"', "is not valid JSON (line 1, column"),
        ('{"conn_type": "plusofon", "password": "tok-broken-2",}', "is not valid JSON (line 1, column"),
        ("plusofon://plusofon://1:tok-broken-3@host", "is neither JSON nor a connection URI"),
    ],
)
def test_a_connection_airflow_cannot_read_is_reported_by_its_variable_never_its_value(monkeypatch, value, problem):
    hook = connect(monkeypatch, value)
    with pytest.raises(PlusofonConfigError) as caught:
        hook.list_webhooks()
    text = str(caught.value)
    assert text.startswith("AIRFLOW_CONN_PLUSOFON_ERRORS is set but ")
    assert problem in text
    assert "tok-broken" not in text


@pytest.mark.parametrize(
    ("extra", "problem"),
    [
        ("{not json", "its extra is not valid JSON (line 1, column 2"),
        ('["timeout", 3]', "its extra must be a JSON object, got a list of 2 items"),
    ],
)
def test_an_extra_that_is_not_a_json_object_is_a_config_error(
    emulator_conn, monkeypatch, requests_mock, extra, problem
):
    hook = connect(monkeypatch, json.dumps({**emulator_conn.connection_uri(), "extra": extra}))
    with pytest.raises(PlusofonConfigError, match=re.escape(f"Connection 'plusofon_errors': {problem}")):
        hook.list_webhooks()
