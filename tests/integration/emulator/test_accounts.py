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


def test_a_rotated_token_is_accepted_and_the_old_one_refused():
    with running_emulator(token="old-token-1") as emulator:
        other = emulator.add_account("20001", "other-token")
        emulator.seed([{"url": f"https://crm.example.com/{i}", "event": "create"} for i in range(16)])
        assert len(client(emulator, emulator.client_id, "old-token-1").list_webhooks()) == 16

        emulator.rotate_token("new-token-2")

        with pytest.raises(PlusofonAuthError, match="HTTP 401"):
            client(emulator, emulator.client_id, "old-token-1").list_webhooks()
        assert len(client(emulator, emulator.client_id, "new-token-2").list_webhooks()) == 16
        assert client(emulator, "20001", "other-token").list_webhooks() == []  # another account's stays
        answer = requests.put(
            f"{emulator.base_url}/__emulator__/token", json={"token": "third-token-3"}, headers={"Client": "20001"}
        )
        assert answer.json() == {"success": True}
        assert other.token == "third-token-3" and emulator.token == "new-token-2"
        refused = requests.put(f"{emulator.base_url}/__emulator__/token", json={}, headers={"Client": "20001"})
        assert (refused.status_code, other.token) == (400, "third-token-3")


@pytest.mark.parametrize(("host", "opted_in"), [("127.0.0.1", False), ("localhost", False), ("0.0.0.0", True)])
def test_the_printed_connection_opts_in_to_plain_http_only_where_other_machines_reach_it(host, opted_in):
    from airflow_provider_plusofon.emulator import PlusofonEmulator

    connection = PlusofonEmulator(host=host, port=8765).connection_uri()

    assert ("allow_plain_http" in connection["extra"]) is opted_in
    config = PlusofonConnectionConfig(
        base_url=connection["host"], client_id=connection["login"], token=connection["password"], **connection["extra"]
    )
    assert config.base_url == f"http://{host}:8765"
