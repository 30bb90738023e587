"""make live, the fleet (issue 22): ``plusofon_webhook_fleet`` on real services against 20 accounts
of one emulator (beside the account the other DAGs use). Every third account lacks the fleet's
webhooks, one has a connection with the wrong token, and two have their header secret changed by
hand before the audit (issue 35). The first run must audit every account (each instance named after
its connection), report the drifted ones and the failed one, and write nothing; a run approving five
of the plans must repair those five accounts and no other. The Plusofon page must show each account
as it is after each run (``live_ui.py``)."""

from __future__ import annotations

import json
from typing import Any

import requests
from demo import HEADER_SECRET, TOKEN
from live_ui import fleet_ids, look_in_a_browser, the_page_shows

from airflow_provider_plusofon.emulator.cli import extra_account

FLEET = "plusofon_webhook_fleet"
ACCOUNTS = 20
BROKEN = 7  # the account whose connection has the wrong token
EDITED = (0, 2)  # accounts whose header secret someone changes in the vendor's UI before the audit


def conn_id(number: int) -> str:
    return f"plusofon_fleet_{number}"


def fleet_webhooks(number: int) -> list[dict[str, Any]]:
    url = f"https://crm.example.com/plusofon/{conn_id(number)}/calls"
    header = [{"name": "X-Webhook-Secret", "value": HEADER_SECRET}]
    return [
        {"url": url, "event": "create", "type_call": "inbound", "headers": header},
        {"url": url, "event": "destroy", "type_call": "all"},
    ]


def logins(client_id: str) -> list[tuple[str, str]]:
    """The Client ID and token of each fleet account: the emulator's 2nd to 21st (``--accounts 21``;
    the first is the single-account DAGs')."""
    return [extra_account(client_id, TOKEN, n) for n in range(2, ACCOUNTS + 2)]


def fleet_env(emulator: Any, client_id: str) -> dict[str, str]:
    """The fleet's connections and Variable, for the services' environment."""
    env = {}
    for number, (login, token) in enumerate(logins(client_id)):
        password = "not-this-accounts-token" if number == BROKEN else token
        conn = {"conn_type": "plusofon", "login": login, "password": password, "host": emulator.base_url}
        env[f"AIRFLOW_CONN_{conn_id(number).upper()}"] = json.dumps({**conn, "extra": {"max_retries": 1}})
    entries = [{"conn_id": conn_id(n), "webhooks": "webhooks/fleet.yaml"} for n in range(ACCOUNTS)]
    env["AIRFLOW_VAR_PLUSOFON_FLEET"] = json.dumps(entries)
    return env


def seed_the_fleet(emulator: Any, client_id: str) -> None:
    for number, (login, _) in enumerate(logins(client_id)):
        filler = [{"url": f"https://other.example.com/{number}/{i}", "event": "answer"} for i in range(16)]
        webhooks = filler + ([] if number % 3 == 1 else fleet_webhooks(number))
        emulator.control("PUT", "/webhooks", webhooks, headers={"Client": login})


def edit_by_hand(emulator: Any, client_id: str, numbers: tuple[int, ...]) -> None:
    """Someone changes the header secret of the create webhook of these accounts, through the API."""
    for number in numbers:
        login, token = logins(client_id)[number]
        [hooked] = [w for w in emulator.control("GET", "/webhooks", headers={"Client": login}) if w.get("headers")]
        body = {k: v for k, v in hooked.items() if k not in ("id", "type")}
        body["headers"] = [{"name": "X-Webhook-Secret", "value": "changed-in-the-vendor-ui"}]
        url = f"{emulator.base_url}/api/v1/webhooks/{hooked['id']}"
        answer = requests.put(url, json=body, headers={"Client": login, "Authorization": f"Bearer {token}"}, timeout=30)
        answer.raise_for_status()
        emulator.control("DELETE", "/requests", headers={"Client": login})  # what the DAG sends is counted from here


def expected_on_the_page(client_id: str, repaired: list[str]) -> dict[str, tuple[str, str]]:
    """What the Plusofon page must say of each fleet account (by Client ID), and words its row holds."""
    ids = fleet_ids(client_id, range(ACCOUNTS))
    expected = {}
    for number, account in enumerate(ids):
        if conn_id(number) in repaired:
            expected[account] = ("repaired", conn_id(number))
        elif number == BROKEN:
            expected[account] = ("unknown", "HTTP 401")
        elif number in EDITED:
            expected[account] = ("awaiting", "different headers")
        elif number % 3 == 1:
            expected[account] = ("awaiting", "missing")
        else:
            expected[account] = ("matching", conn_id(number))
    return expected


def writes_by_account(emulator: Any, client_id: str) -> dict[str, int]:
    found = {}
    for number, (login, _) in enumerate(logins(client_id)):
        log = emulator.control("GET", "/requests", headers={"Client": login})
        if count := sum(r["method"] != "GET" for r in log):
            found[conn_id(number)] = count
    return found


def run_the_fleet(deployment: Any, emulator: Any, client_id: str, check: Any, say: Any) -> None:
    """Two runs of the fleet DAG: the audit, then the approved repair of three accounts."""
    deployment.cli("pools", "set", "plusofon_fleet", "4", "Plusofon writers of the fleet's accounts")
    edit_by_hand(emulator, client_id, EDITED)
    deployment.cli("dags", "unpause", FLEET)  # its daily run starts: the audit
    state = deployment.wait_for("the fleet audit to finish", lambda: deployment.finished(FLEET))
    run_id = deployment.latest_run_id(FLEET)
    audits = dict(
        deployment.query(
            "SELECT rendered_map_index, state FROM task_instance WHERE dag_id = ? AND run_id = ? AND task_id = ?",
            FLEET,
            run_id,
            "audit_account",
        )
    )
    check(sorted(audits) == sorted(conn_id(n) for n in range(ACCOUNTS)), f"the audits are named {sorted(audits)}")
    failed = [name for name, s in audits.items() if s != "success"]
    check(failed == [conn_id(BROKEN)], f"audits that did not succeed: {failed}")
    summary = summary_of(deployment, run_id)
    drifted = sorted(name for name, line in summary.items() if line["status"] == "drifted")
    expected = sorted(conn_id(n) for n in range(ACCOUNTS) if (n % 3 == 1 or n in EDITED) and n != BROKEN)
    check(state == "failed" and drifted == expected, f"the fleet audit ended {state}, drifted: {drifted}")
    check(writes_by_account(emulator, client_id) == {}, "the fleet's audit wrote to an account")
    say(f"   {ACCOUNTS} accounts audited: {len(drifted)} drifted, {conn_id(BROKEN)} failed alone; nothing written")
    the_page_shows(deployment, expected_on_the_page(client_id, []), "after the audit")
    edited = [conn_id(n) for n in EDITED]
    look_in_a_browser(deployment, fleet_ids(client_id, range(ACCOUNTS)), fleet_ids(client_id, EDITED)[0], "drifted")

    approved = {name: summary[name]["plan_id"] for name in [*[d for d in drifted if d not in edited][:3], *edited]}
    deployment.cli("dags", "trigger", FLEET, "--conf", json.dumps({"approved_plans": approved}))
    deployment.wait_for("the repair run to start", lambda: deployment.latest_run_id(FLEET) != run_id)
    deployment.wait_for("the fleet repair to finish", lambda: deployment.finished(FLEET))
    after = summary_of(deployment, deployment.latest_run_id(FLEET))
    repaired = sorted(name for name, line in after.items() if line["status"] == "repaired")
    check(repaired == sorted(approved), f"repaired: {repaired}, approved: {sorted(approved)}")
    writes = writes_by_account(emulator, client_id)
    expected_writes = {name: 1 if name in edited else 2 for name in approved}  # a header put back; two creates
    check(writes == expected_writes, f"the approved repair wrote {writes}")
    say(f"   approved plans of {', '.join(sorted(approved))}: repaired (writes {writes}), no other account written")
    the_page_shows(deployment, expected_on_the_page(client_id, sorted(approved)), "after the approved repair")
    look_in_a_browser(deployment, fleet_ids(client_id, range(ACCOUNTS)), fleet_ids(client_id, EDITED)[0], "repaired")


def summary_of(deployment: Any, run_id: str) -> dict[str, Any]:
    rows = deployment.query(
        "SELECT value FROM xcom WHERE dag_id = ? AND run_id = ? AND task_id = 'fleet_summary' AND key = 'summary'",
        FLEET,
        run_id,
    )
    if not rows:
        raise AssertionError(f"the fleet run {run_id} has no summary")
    value = json.loads(rows[0][0])
    return value if isinstance(value, dict) else json.loads(value)
