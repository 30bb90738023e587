"""Both transports and the environment: what they take from it (proxies, a CA bundle), when, and what never."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from airflow_provider_plusofon.api import PlusofonClient, PlusofonConnectionConfig
from airflow_provider_plusofon.api.ids import WEBHOOKS_PATH
from airflow_provider_plusofon.exceptions import PlusofonConfigError
from tests.conftest import CLIENT_ID, TOKEN

# Plain http, opted in (a proxy on a trusted network): what the environment's http proxy serves.
BASE = "http://plusofon.test"
DETAIL_URL = BASE + WEBHOOKS_PATH + "/7"
DETAIL = {"id": 7, "url": "https://crm.example.com/calls", "event": "create", "type_call": "all", "headers": []}
HTTPS_BASE = "https://restapi.plusofon.ru"

pytestmark = pytest.mark.usefixtures("bare_network_environment")


def read_one(requests_mock, verify: bool | str = True, base_url: str = BASE) -> Any:
    requests_mock.get(base_url + WEBHOOKS_PATH + "/7", json=DETAIL)
    config = PlusofonConnectionConfig(
        base_url=base_url, client_id=CLIENT_ID, token=TOKEN, verify=verify, allow_plain_http=True
    )
    PlusofonClient(config).get_webhook(7)
    return requests_mock.last_request


@pytest.fixture
def bundles(tmp_path) -> dict[str, str]:
    """CA bundles on disk: a file and a folder for the environment, a file for the connection."""
    (tmp_path / "certs").mkdir()
    for name in ("corporate.pem", "openssl.pem", "plusofon.pem"):
        (tmp_path / name).write_text("")
    return {name: str(tmp_path / name) for name in ("corporate.pem", "openssl.pem", "plusofon.pem", "certs")}


def test_a_netrc_entry_for_the_host_never_replaces_the_token(requests_mock, monkeypatch, tmp_path):
    netrc = tmp_path / "netrc"
    netrc.write_text("machine plusofon.test login someone password not-the-token\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    assert requests.utils.get_netrc_auth(BASE) == ("someone", "not-the-token")  # requests itself would use it

    sent = read_one(requests_mock)

    assert sent.headers["Authorization"] == f"Bearer {TOKEN}"


@pytest.mark.parametrize(
    ("environment", "trusted"),
    [
        ({"REQUESTS_CA_BUNDLE": "corporate.pem"}, "corporate.pem"),
        ({"CURL_CA_BUNDLE": "corporate.pem"}, "corporate.pem"),
        ({"SSL_CERT_FILE": "openssl.pem"}, "openssl.pem"),
        ({"SSL_CERT_DIR": "certs"}, "certs"),
        ({"SSL_CERT_FILE": "openssl.pem", "REQUESTS_CA_BUNDLE": "corporate.pem"}, "corporate.pem"),
        ({}, None),
    ],
)
def test_the_environments_ca_bundle_is_trusted_when_the_connection_sets_none(
    requests_mock, monkeypatch, bundles, environment, trusted
):
    for name, bundle in environment.items():
        monkeypatch.setenv(name, bundles[bundle])

    assert read_one(requests_mock, base_url=HTTPS_BASE).verify == (bundles[trusted] if trusted else True)


@pytest.mark.parametrize("verify", [False, "plusofon.pem"])
def test_the_connections_verify_wins_over_the_environments_ca_bundle(requests_mock, monkeypatch, bundles, verify):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", bundles["corporate.pem"])
    verify = bundles.get(verify, verify) if isinstance(verify, str) else verify

    assert read_one(requests_mock, verify=verify, base_url=HTTPS_BASE).verify == verify


def test_a_ca_bundle_the_environment_names_but_that_is_not_there_is_a_clear_error(requests_mock, monkeypatch):
    monkeypatch.setenv("CURL_CA_BUNDLE", "/nowhere/ca.pem")

    with pytest.raises(
        PlusofonConfigError, match=r"^CURL_CA_BUNDLE names a CA bundle that does not exist \('/nowhere/ca.pem'\)"
    ):
        read_one(requests_mock, base_url=HTTPS_BASE)
    assert read_one(requests_mock).verify == "/nowhere/ca.pem"  # plain http never reads it
    assert requests_mock.call_count == 1


def test_the_environments_proxy_is_used(requests_mock, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.corp.example:3128")

    assert read_one(requests_mock).proxies["http"] == "http://proxy.corp.example:3128"


def test_no_proxy_naming_the_host_means_no_proxy(requests_mock, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.corp.example:3128")
    monkeypatch.setenv("NO_PROXY", "localhost,plusofon.test")

    assert "http" not in read_one(requests_mock).proxies


def test_the_environment_is_read_once_per_client_not_once_per_request(requests_mock, monkeypatch):
    # requests reads it through the name it imported into sessions; ours through utils.
    reads: list[str] = []
    real = requests.utils.get_environ_proxies

    def counted(url, no_proxy=None):
        reads.append(url)
        return real(url, no_proxy=no_proxy)

    monkeypatch.setattr(requests.utils, "get_environ_proxies", counted)
    monkeypatch.setattr(requests.sessions, "get_environ_proxies", counted)
    requests_mock.get(DETAIL_URL, json=DETAIL)
    client = PlusofonClient(
        PlusofonConnectionConfig(base_url=BASE, client_id=CLIENT_ID, token=TOKEN, allow_plain_http=True)
    )

    for _ in range(3):
        client.get_webhook(7)

    assert requests_mock.call_count == 3
    assert reads == [BASE]


class Recorded:
    """What the trigger's transport built its httpx client with: each SSL context, and the verify it got."""

    def __init__(self, monkeypatch) -> None:
        import ssl

        import httpx

        self.contexts: list[tuple[str, dict[str, Any]]] = []
        self.verify: Any = None

        def context(**where: Any) -> Any:
            made = f"context #{len(self.contexts)}"
            self.contexts.append((made, where))
            return made

        def client(**kwargs: Any) -> Any:
            self.verify = kwargs["verify"]
            return object()

        monkeypatch.setattr(ssl, "create_default_context", context)
        monkeypatch.setattr(httpx, "AsyncClient", client)

    def trusted(self, config: PlusofonConnectionConfig) -> Any:
        """The verify the client got: True, False, or where the one context built from reads."""
        from airflow_provider_plusofon.api.async_transport import HttpxTransport

        HttpxTransport(config).client  # noqa: B018 (built here, as on the first request)
        if isinstance(self.verify, bool):
            return self.verify
        [(made, where)] = self.contexts
        assert self.verify == made
        return where


@pytest.mark.parametrize(
    ("verify", "environment", "trusted"),
    [
        (True, {"REQUESTS_CA_BUNDLE": "corporate.pem"}, {"cafile": "corporate.pem"}),
        (True, {"SSL_CERT_DIR": "certs"}, {"capath": "certs"}),
        (True, {"SSL_CERT_FILE": "openssl.pem", "CURL_CA_BUNDLE": "corporate.pem"}, {"cafile": "corporate.pem"}),
        (True, {}, True),
        (False, {"REQUESTS_CA_BUNDLE": "corporate.pem"}, False),
        ("plusofon.pem", {"REQUESTS_CA_BUNDLE": "corporate.pem"}, {"cafile": "plusofon.pem"}),
    ],
    ids=[
        "REQUESTS_CA_BUNDLE",
        "SSL_CERT_DIR",
        "CURL_CA_BUNDLE first",
        "none anywhere",
        "verify=false",
        "the connection's",
    ],
)
def test_the_trigger_transport_trusts_what_the_task_transport_trusts(
    requests_mock, monkeypatch, bundles, verify, environment, trusted
):
    for name, bundle in environment.items():
        monkeypatch.setenv(name, bundles[bundle])
    verify = bundles[verify] if isinstance(verify, str) else verify
    config = PlusofonConnectionConfig(base_url=HTTPS_BASE, client_id=CLIENT_ID, token=TOKEN, verify=verify)
    task_trusts = read_one(requests_mock, verify=verify, base_url=HTTPS_BASE).verify

    trigger_trusts = Recorded(monkeypatch).trusted(config)

    expected = {key: bundles[name] for key, name in trusted.items()} if isinstance(trusted, dict) else trusted
    assert trigger_trusts == expected
    assert task_trusts == (next(iter(expected.values())) if isinstance(expected, dict) else expected)


def test_a_ca_bundle_the_trigger_cannot_read_is_a_clear_error(bundles):
    from airflow_provider_plusofon.api.async_transport import HttpxTransport

    config = PlusofonConnectionConfig(
        base_url=HTTPS_BASE, client_id=CLIENT_ID, token=TOKEN, verify=bundles["plusofon.pem"]
    )
    with pytest.raises(PlusofonConfigError, match=r"^the CA bundle '.*plusofon\.pem' cannot be read \(SSLError\)"):
        HttpxTransport(config).client  # noqa: B018
