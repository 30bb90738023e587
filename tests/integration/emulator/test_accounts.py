"""Issue 22: one emulator serves many accounts, each with its own webhooks, token and request log."""

from __future__ import annotations

import subprocess
import sys

import pytest
import requests

from airflow_provider_plusofon.api import PlusofonClient, PlusofonConnectionConfig
from airflow_provider_plusofon.emulator import running_emulator
from airflow_provider_plusofon.emulator.process import EmulatorProcess
from airflow_provider_plusofon.exceptions import PlusofonAuthError

pytestmark = pytest.mark.integration


def client(emulator, client_id: str, token: str) -> PlusofonClient:
    return PlusofonClient(PlusofonConnectionConfig(base_url=emulator.base_url, client_id=client_id, token=token))


def test_each_account_has_its_own_webhooks_token_and_log():
    with running_emulator() as emulator:
        accounts = [emulator.add_account(str(20000 + n), f"token-{n}") for n in range(20)]
        for n, account in enumerate(accounts):
            account.seed([{"url": f"https://crm.example.com/{n}/{i}", "event": "create"} for i in range(n + 16)])
        for n, account in enumerate(accounts):
            listed = client(emulator, account.client_id, account.token).list_webhooks()  # two pages or more
            assert {w["url"].split("/")[3] for w in listed} == {str(n)} and len(listed) == n + 16
            assert account.count("GET") == 2 + (n + 16 > 30)
        assert emulator.webhooks() == [] and emulator.requests() == []
        with pytest.raises(PlusofonAuthError):  # another account's token is no key to this one
            client(emulator, accounts[0].client_id, accounts[1].token).list_webhooks()


def test_the_control_api_and_the_command_line_speak_for_the_account_a_client_header_names():
    with EmulatorProcess(options=["--accounts", "3"]) as emulator:
        assert "and 2 more accounts, up to Client ID 10555 with token dev-token-3" in emulator.process.stdout.readline()
        headers = {"Client": "10555"}
        base = f"{emulator.base_url}/__emulator__"
        requests.put(f"{base}/webhooks", json=[{"url": "https://a.example", "event": "create"}], headers=headers)
        listed = client(emulator, "10555", "dev-token-3").list_webhooks()
        assert [w["url"] for w in listed] == ["https://a.example"]
        assert client(emulator, "10553", "dev-token").list_webhooks() == []
        assert [a["client_id"] for a in requests.get(f"{base}/accounts").json()] == ["10553", "10554", "10555"]
        assert len(requests.get(f"{base}/requests", headers=headers).json()) == 1


def test_an_account_added_over_http(tmp_path):
    with running_emulator() as emulator:
        answer = requests.post(
            f"{emulator.base_url}/__emulator__/accounts",
            json={"client_id": "777", "token": "t-777", "webhooks": [{"url": "https://b.example", "event": "answer"}]},
        )
        assert answer.json()["client_id"] == "777"
        assert [w["event"] for w in client(emulator, "777", "t-777").list_webhooks()] == ["answer"]
        bad = requests.post(f"{emulator.base_url}/__emulator__/accounts", json={"token": "x"})
        assert bad.status_code == 400


def test_help_names_the_accounts_option():
    out = subprocess.run(
        [sys.executable, "-m", "airflow_provider_plusofon.emulator", "--help"], capture_output=True, text=True
    )
    assert "--accounts" in out.stdout
