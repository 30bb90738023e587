"""The threaded client through a proxy the environment names, for real: a forward proxy on 127.0.0.1
(the emulator itself, which answers the absolute URLs a proxy is sent)."""

from __future__ import annotations

import pytest

from airflow_provider_plusofon.api import PlusofonClient, PlusofonConnectionConfig

pytestmark = pytest.mark.integration

UNREACHABLE = "http://plusofon.invalid"  # never resolves: only the proxy can reach it


@pytest.mark.usefixtures("bare_network_environment")
def test_a_proxy_named_by_the_environment_carries_every_request(plusofon_emulator, monkeypatch):
    plusofon_emulator.seed(
        [{"url": f"https://crm.example.com/{i}", "event": "create", "type_call": "all"} for i in range(40)]
    )
    monkeypatch.setenv("http_proxy", plusofon_emulator.base_url)
    config = PlusofonConnectionConfig(
        base_url=UNREACHABLE, client_id=plusofon_emulator.client_id, token=plusofon_emulator.token
    )

    listing = PlusofonClient(config, max_workers=4).list_webhooks()

    assert [w["url"] for w in listing] == [f"https://crm.example.com/{i}" for i in range(40)]
    sent = plusofon_emulator.requests()
    assert sorted(r["query"]["page"] for r in sent) == ["1", "2", "3"]
    assert {r["headers"]["Host"] for r in sent} == {"plusofon.invalid"}
