"""PlusofonConnectionConfig: every setting checked once, every problem at once, no secret shown."""

from __future__ import annotations

import json

import pytest

from airflow_provider_plusofon.api import PlusofonClient, PlusofonConnectionConfig
from airflow_provider_plusofon.exceptions import PlusofonConfigError, PlusofonInvalidResponseError
from tests.conftest import BASE, CLIENT_ID, TOKEN
from tests.unit.api.test_webhooks import item, mock_pages


@pytest.mark.parametrize(
    "base_url",
    [
        "ftp://plusofon.test",
        "file:///etc/passwd",
        "plusofon.test",
        "http://",
        "http://user:pw@plusofon.test",
        "http://h:x",
    ],
)
def test_a_base_url_that_is_not_http_is_a_config_error_at_once(requests_mock, base_url):
    with pytest.raises(PlusofonConfigError, match="base URL"):
        PlusofonConnectionConfig(base_url=base_url, client_id=CLIENT_ID, token=TOKEN)
    assert requests_mock.call_count == 0


def test_token_and_client_id_are_stripped_of_surrounding_whitespace(requests_mock):
    config = PlusofonConnectionConfig(base_url=BASE, client_id=f" {CLIENT_ID}\n", token=f"  {TOKEN}\r\n")
    mock_pages(requests_mock, [[item(1)]])
    PlusofonClient(config).list_webhooks()
    assert requests_mock.last_request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert requests_mock.last_request.headers["Client"] == CLIENT_ID


@pytest.mark.parametrize(
    "token", ["tok-SE\nCRET-4f1c9a", "tok-SE CRET-4f1c9a", "tok-SE\x00CRET-4f1c9a", "tok-SÉCRET-4f1c9a"]
)
def test_a_token_with_control_characters_inside_is_refused_without_being_shown(requests_mock, token):
    with pytest.raises(PlusofonConfigError, match=r"API token .* has spaces, line breaks or non-ASCII") as caught:
        PlusofonConnectionConfig(base_url=BASE, client_id=CLIENT_ID, token=token, conn_id="plusofon_default")
    assert "SE" not in str(caught.value).replace("SPACES", "")
    assert "CRET" not in str(caught.value)
    assert requests_mock.call_count == 0


def test_every_problem_of_the_settings_is_reported_at_once():
    with pytest.raises(PlusofonConfigError) as caught:
        PlusofonConnectionConfig(base_url="ftp://x", client_id="", token="", timeout="nan", max_retries=99)
    text = str(caught.value)
    for expected in ("base URL", "Client ID", "API token", "'timeout'", "'max_retries'"):
        assert expected in text


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("timeout", "nan"),
        ("timeout", float("inf")),
        ("timeout", "-inf"),
        ("timeout", 0),
        ("max_retries", "1.5"),
        ("max_retries", 21),
        ("max_retries", "nan"),
        ("max_pages", 0),
        ("verify", "tr\nue"),
    ],
)
def test_settings_that_are_not_finite_or_out_of_range_are_refused_where_read(name, value):
    with pytest.raises(PlusofonConfigError, match=name if name != "verify" else "'verify'"):
        PlusofonConnectionConfig(base_url=BASE, client_id=CLIENT_ID, token=TOKEN, **{name: value})


def test_every_setting_can_be_set_from_a_connection_extra(monkeypatch, requests_mock):
    from airflow_provider_plusofon.hooks.plusofon import PlusofonHook

    extra = {"timeout": "2.5", "verify": "false", "max_retries": "0", "max_pages": "7", "max_answer_bytes": "2048"}
    conn = {"conn_type": "plusofon", "login": CLIENT_ID, "password": TOKEN, "host": BASE, "extra": extra}
    monkeypatch.setenv("AIRFLOW_CONN_PLUSOFON_ALL", json.dumps(conn))
    config = PlusofonHook("plusofon_all").config
    assert (config.timeout, config.verify, config.max_retries, config.max_pages, config.max_answer_bytes) == (
        2.5,
        False,
        0,
        7,
        2048,
    )
    requests_mock.get(f"{BASE}/api/v1/webhooks/5", content=b'{"id": 5, "template": "' + b"x" * 3000 + b'"}')
    with pytest.raises(PlusofonInvalidResponseError, match="larger than 2048 bytes"):
        PlusofonHook("plusofon_all").get_webhook(5)


def test_defaults_are_the_documented_ones():
    config = PlusofonConnectionConfig(base_url=BASE, client_id=CLIENT_ID, token=TOKEN)
    assert (config.timeout, config.verify, config.max_retries, config.max_pages, config.max_answer_bytes) == (
        30.0,
        True,
        5,
        10_000,
        16 * 1024 * 1024,
    )


def test_the_0_1_0_import_paths_still_work():
    from airflow_provider_plusofon.hooks.client import PlusofonClient as OldClient
    from airflow_provider_plusofon.hooks.config import PlusofonConnectionConfig as OldConfig

    assert (OldClient, OldConfig) == (PlusofonClient, PlusofonConnectionConfig)


@pytest.mark.parametrize("path", ["/no/such/ca-bundle.pem", "relative/missing.pem", "/dev/null/x"])
def test_a_verify_path_that_does_not_exist_is_a_config_error_at_once(requests_mock, path):
    with pytest.raises(PlusofonConfigError, match=r"'verify' names a CA bundle that does not exist") as caught:
        PlusofonConnectionConfig(base_url=BASE, client_id=CLIENT_ID, token=TOKEN, verify=path)
    assert path in str(caught.value)
    assert requests_mock.call_count == 0


def test_a_verify_path_to_a_file_or_a_folder_is_taken(tmp_path):
    bundle = tmp_path / "ca.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n")
    for path in (bundle, tmp_path):
        assert PlusofonConnectionConfig(
            base_url=BASE, client_id=CLIENT_ID, token=TOKEN, verify=str(path)
        ).verify == str(path)


def test_a_sensor_fails_at_once_on_a_missing_ca_bundle(monkeypatch, requests_mock, waits):
    from airflow.providers.common.compat.sdk import AirflowFailException

    from airflow_provider_plusofon.sensors.webhooks import PlusofonWebhookSensor

    conn = {"conn_type": "plusofon", "login": CLIENT_ID, "password": TOKEN, "host": BASE}
    monkeypatch.setenv("AIRFLOW_CONN_PLUSOFON_DEFAULT", json.dumps({**conn, "extra": {"verify": "/no/ca.pem"}}))
    sensor = PlusofonWebhookSensor(task_id="wait", webhooks=[{"url": "https://a.example", "event": "create"}])
    with pytest.raises(AirflowFailException, match="'verify' names a CA bundle that does not exist"):
        sensor.poke({})
    assert requests_mock.call_count == 0
    assert waits == []


# -- the token never travels unencrypted off this machine (issue 33) ------------------------------


@pytest.mark.parametrize(
    "base_url",
    [
        "http://gateway.corp.example",
        "http://gateway.corp.example:8080/plusofon",
        "http://restapi.plusofon.ru",
        "http://10.0.0.5:8765",
        "http://0.0.0.0:8765",
        "http://127.0.0.1.nip.io",
        "http://localhost.evil.example",
        "http://[fe80::1]:8765",
        "HTTP://gateway.corp.example",
    ],
)
def test_a_plain_http_base_url_off_this_machine_is_refused_before_any_request(requests_mock, base_url):
    with pytest.raises(PlusofonConfigError) as caught:
        PlusofonConnectionConfig(base_url=base_url, client_id=CLIENT_ID, token=TOKEN, conn_id="plusofon_gw")

    assert str(caught.value) == (
        f"Connection 'plusofon_gw': the base URL {base_url!r} is plain http:// to a host that is not this machine, "
        "so the API token would travel unencrypted: use https://, or set the connection's extra 'allow_plain_http' "
        "to true (the form's 'Allow plain HTTP') if every network on the way is trusted"
    )
    assert TOKEN not in str(caught.value)
    assert requests_mock.call_count == 0


@pytest.mark.parametrize(
    "base_url",
    [
        "http://127.0.0.1:8765",
        "http://127.8.9.10",
        "http://[::1]:8765",
        "http://[::ffff:127.0.0.1]:8765",
        "http://localhost:8765",
        "http://LOCALHOST",
        "http://localhost.:8765/prefix",
        "https://gateway.corp.example",
    ],
)
def test_loopback_and_https_need_no_opt_in(requests_mock, base_url):
    config = PlusofonConnectionConfig(base_url=base_url, client_id=CLIENT_ID, token=TOKEN)
    mock_pages(requests_mock, [[item(1)]], base=base_url)

    assert [w["id"] for w in PlusofonClient(config).list_webhooks()] == [1]
    assert requests_mock.last_request.headers["Authorization"] == f"Bearer {TOKEN}"


@pytest.mark.parametrize("opt_in", [True, "true", "True", "1", "yes", "on"])
def test_plain_http_off_this_machine_is_sent_when_the_connection_opts_in(requests_mock, opt_in):
    config = PlusofonConnectionConfig(
        base_url="http://gateway.corp.example", client_id=CLIENT_ID, token=TOKEN, allow_plain_http=opt_in
    )
    mock_pages(requests_mock, [[item(1)]], base="http://gateway.corp.example")

    assert config.allow_plain_http is True
    assert [w["id"] for w in PlusofonClient(config).list_webhooks()] == [1]


@pytest.mark.parametrize("opt_in", [False, "false", "0", "no", "off"])
def test_an_opt_out_written_any_way_is_an_opt_out(opt_in):
    with pytest.raises(PlusofonConfigError, match="would travel unencrypted"):
        PlusofonConnectionConfig(
            base_url="http://gateway.corp.example", client_id=CLIENT_ID, token=TOKEN, allow_plain_http=opt_in
        )


@pytest.mark.parametrize("opt_in", ["maybe", "/etc/ssl/certs", 2, "tr\nue"])
def test_an_opt_in_that_is_not_true_or_false_is_refused_naming_it(opt_in):
    with pytest.raises(PlusofonConfigError, match=r"'allow_plain_http' must be true or false, got ") as caught:
        PlusofonConnectionConfig(base_url=BASE, client_id=CLIENT_ID, token=TOKEN, allow_plain_http=opt_in)
    assert "unencrypted" not in str(caught.value)  # the opt-in's own problem, not a second one about it


def test_a_plain_http_base_url_is_reported_with_the_other_problems():
    with pytest.raises(PlusofonConfigError) as caught:
        PlusofonConnectionConfig(base_url="http://gateway.corp.example", client_id="", token=TOKEN, timeout="nan")
    text = str(caught.value)
    for expected in ("Client ID", "'timeout'", "would travel unencrypted"):
        assert expected in text
