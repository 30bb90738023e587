"""The threaded client through a proxy the environment names, for real: a forward proxy on 127.0.0.1
(the emulator itself, which answers the absolute URLs a proxy is sent)."""

from __future__ import annotations

import pytest

from airflow_provider_plusofon.api import PlusofonClient, PlusofonConnectionConfig

pytestmark = pytest.mark.integration

# Never resolves: only the proxy can reach it (plain http through a proxy on a trusted network, opted in).
UNREACHABLE = "http://plusofon.invalid"


@pytest.mark.usefixtures("bare_network_environment")
def test_a_proxy_named_by_the_environment_carries_every_request(plusofon_emulator, monkeypatch):
    plusofon_emulator.seed(
        [{"url": f"https://crm.example.com/{i}", "event": "create", "type_call": "all"} for i in range(40)]
    )
    monkeypatch.setenv("http_proxy", plusofon_emulator.base_url)
    config = PlusofonConnectionConfig(
        base_url=UNREACHABLE,
        client_id=plusofon_emulator.client_id,
        token=plusofon_emulator.token,
        allow_plain_http=True,
    )

    listing = PlusofonClient(config, max_workers=4).list_webhooks()

    assert [w["url"] for w in listing] == [f"https://crm.example.com/{i}" for i in range(40)]
    sent = plusofon_emulator.requests()
    assert sorted(r["query"]["page"] for r in sent) == ["1", "2", "3"]
    assert {r["headers"]["Host"] for r in sent} == {"plusofon.invalid"}


@pytest.mark.usefixtures("bare_network_environment")
def test_a_proxy_that_cannot_be_reached_is_reported_without_its_credentials(monkeypatch, waits):
    from airflow_provider_plusofon.emulator import free_port
    from airflow_provider_plusofon.exceptions import PlusofonTransportError

    monkeypatch.setenv("http_proxy", f"http://squid:proxy-pass-5e1d@127.0.0.1:{free_port()}")
    config = PlusofonConnectionConfig(
        base_url=UNREACHABLE, client_id="10553", token="tok-proxy-test-1", max_retries=1, allow_plain_http=True
    )

    with pytest.raises(PlusofonTransportError) as caught:
        PlusofonClient(config).list_webhooks()

    text = str(caught.value)
    assert "connection failed" in text
    assert "proxy-pass-5e1d" not in text and "squid" not in text
    assert len(waits) == 1  # retried once, as any connection failure
