"""RequestsTransport and the environment: what it takes from it (proxies, a CA bundle), when, and what never."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import requests

from airflow_provider_plusofon.api import PlusofonClient, PlusofonConnectionConfig
from airflow_provider_plusofon.api.ids import WEBHOOKS_PATH
from tests.conftest import BASE, CLIENT_ID, TOKEN

DETAIL_URL = BASE + WEBHOOKS_PATH + "/7"
DETAIL = {"id": 7, "url": "https://crm.example.com/calls", "event": "create", "type_call": "all", "headers": []}


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    """None of the variables requests reads, whatever the machine running the tests has set."""
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE", "SSL_CERT_DIR", "NETRC"):
        monkeypatch.delenv(name, raising=False)
    for name in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)


def read_one(requests_mock, verify: bool | str = True) -> Any:
    requests_mock.get(DETAIL_URL, json=DETAIL)
    config = PlusofonConnectionConfig(base_url=BASE, client_id=CLIENT_ID, token=TOKEN, verify=verify)
    PlusofonClient(config).get_webhook(7)
    return requests_mock.last_request


def test_a_netrc_entry_for_the_host_never_replaces_the_token(requests_mock, monkeypatch, tmp_path):
    netrc = tmp_path / "netrc"
    netrc.write_text("machine plusofon.test login someone password not-the-token\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    assert requests.utils.get_netrc_auth(BASE) == ("someone", "not-the-token")  # requests itself would use it

    sent = read_one(requests_mock)

    assert sent.headers["Authorization"] == f"Bearer {TOKEN}"


@pytest.mark.parametrize("variable", ["REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"])
def test_the_environments_ca_bundle_is_used_when_the_connection_sets_none(requests_mock, monkeypatch, variable):
    monkeypatch.setenv(variable, "/etc/corporate/ca.pem")

    assert read_one(requests_mock).verify == "/etc/corporate/ca.pem"


@pytest.mark.parametrize("bundle", [False, True], ids=["verify=false", "a CA bundle"])
def test_the_connections_verify_wins_over_the_environments_ca_bundle(requests_mock, monkeypatch, tmp_path, bundle):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/corporate/ca.pem")
    verify: bool | str = False
    if bundle:
        (tmp_path / "plusofon-ca.pem").write_text("")
        verify = str(tmp_path / "plusofon-ca.pem")

    assert read_one(requests_mock, verify=verify).verify == verify


def test_without_a_ca_bundle_anywhere_certificates_are_verified(requests_mock):
    assert read_one(requests_mock).verify is True


def test_the_environments_proxy_is_used(requests_mock, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.corp.example:3128")

    assert read_one(requests_mock).proxies["http"] == "http://proxy.corp.example:3128"


def test_no_proxy_naming_the_host_means_no_proxy(requests_mock, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.corp.example:3128")
    monkeypatch.setenv("NO_PROXY", "localhost,plusofon.test")

    assert "http" not in read_one(requests_mock).proxies


def test_the_environment_is_read_once_per_client_not_once_per_request(requests_mock, monkeypatch):
    reads: list[str] = []
    real = requests.utils.get_environ_proxies

    def counted(url, no_proxy=None):
        reads.append(url)
        return real(url, no_proxy=no_proxy)

    monkeypatch.setattr(requests.utils, "get_environ_proxies", counted)
    requests_mock.get(DETAIL_URL, json=DETAIL)
    client = PlusofonClient(PlusofonConnectionConfig(base_url=BASE, client_id=CLIENT_ID, token=TOKEN))

    for _ in range(3):
        client.get_webhook(7)

    assert requests_mock.call_count == 3
    assert reads == [BASE]


@pytest.mark.parametrize(
    ("verify", "environment", "cafile"),
    [
        (True, True, "the environment's"),
        (True, False, None),
        (False, True, None),
        ("connection", True, "the connection's"),
    ],
    ids=["none set: the environment's", "none anywhere", "verify=false", "the connection's bundle"],
)
def test_the_trigger_transport_trusts_the_same_ca_as_the_task_transport(
    monkeypatch, tmp_path, verify, environment, cafile
):
    import ssl

    import certifi

    from airflow_provider_plusofon.api.async_transport import HttpxTransport

    bundles = {"the environment's": str(tmp_path / "corporate.pem"), "the connection's": str(tmp_path / "plusofon.pem")}
    for path in bundles.values():
        Path(path).write_text(Path(certifi.where()).read_text())
    if environment:
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", bundles["the environment's"])
    if verify == "connection":
        verify = bundles["the connection's"]
    asked: list[str | None] = []
    real = ssl.create_default_context

    def recorded(*args, cafile=None, **kwargs):
        asked.append(cafile)
        return real(*args, cafile=cafile, **kwargs)

    monkeypatch.setattr(ssl, "create_default_context", recorded)
    config = PlusofonConnectionConfig(
        base_url="https://restapi.plusofon.ru", client_id=CLIENT_ID, token=TOKEN, verify=verify
    )

    HttpxTransport(config).client  # noqa: B018 (built here, as on the first request)

    assert [path for path in asked if path in bundles.values()] == ([bundles[cafile]] if cafile else [])
