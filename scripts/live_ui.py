"""make live, the Plusofon page (issue 35): on the running api-server, every route is refused without
credentials (401, and a login page for a browser); logged in, the fleet page shows each account's state
as the run made it (two fleet accounts drifted by hand, then repaired by the approved repair); with
``UI=1`` a real browser logs in, opens the page from the UI's navigation (Airflow 3.1+, where it is
embedded) or its URL (3.0), sees the 20 fleet accounts, and saves screenshots of the fleet page and an
account page (``ui-screenshots/plusofon-*.png``)."""

from __future__ import annotations

import html
import re
from typing import Any

import requests
from live_approval import REVIEWER, SECRETS, UI, check, say

from airflow_provider_plusofon.emulator.cli import extra_account

PAGE = "/plusofon/"
_ROW = re.compile(r'<tr>\s*<td><a href="[^"]*/accounts/([^"]+)"><b>.*?</tr>', re.S)
_STATE = re.compile(r'<span class="badge st-(\w+)">')


def routes(client_id: str) -> list[str]:
    return [PAGE, f"{PAGE}accounts/{client_id}", f"{PAGE}?state=awaiting&sort=account&order=desc"]


def refused_without_credentials(deployment: Any, client_id: str) -> None:
    """Every route of ours, asked without credentials (or with a forged token), is refused."""
    answers = []
    for route in routes(client_id):
        url = deployment.api_url + route
        plain = requests.get(url, timeout=30)
        check(plain.status_code == 401, f"GET {route} without credentials answered {plain.status_code}")
        browser = requests.get(url, headers={"Accept": "text/html"}, timeout=30)
        check(browser.status_code == 401 and "Log in to Airflow" in browser.text, f"{route}: {browser.status_code}")
        check(client_id not in browser.text.replace(route, ""), f"{route} refused, but shows the account")
        forged = requests.get(url, headers={"Authorization": "Bearer forged.jwt.token"}, timeout=30)
        check(forged.status_code in (401, 403), f"GET {route} with a forged token answered {forged.status_code}")
        answers.append(f"{route} {plain.status_code}")
    say(f"   the Plusofon page without credentials: {', '.join(answers)} (forged token: refused too)")


def rows_shown(deployment: Any) -> dict[str, tuple[str, str]]:
    """Each account of the fleet page, as the reviewer sees it: its state, and its row's text."""
    page = deployment.rest().get(deployment.api_url + PAGE + "?sort=account", timeout=60)
    check(page.status_code == 200, f"the Plusofon page answered the reviewer {page.status_code}: {page.text[:300]}")
    check(not any(secret in page.text for secret in SECRETS), "a secret is on the Plusofon page")
    shown = {}
    for row in _ROW.finditer(page.text):
        state = _STATE.search(row.group(0))
        text = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", row.group(0))).split())
        shown[html.unescape(row.group(1))] = (state.group(1) if state else "?", text)
    return shown


def fleet_ids(client_id: str, numbers: range) -> list[str]:
    """The Client IDs of the fleet's accounts (the emulator's 2nd to 21st, see ``live_fleet.logins``)."""
    return [extra_account(client_id, "", n + 2)[0] for n in numbers]


def the_page_shows(deployment: Any, expected: dict[str, tuple[str, str]], when: str) -> None:
    """Each account ``expected`` names is shown in that state, its row saying that text."""
    shown = rows_shown(deployment)
    wrong = {
        account: shown.get(account, ("not shown", ""))
        for account, (state, words) in expected.items()
        if shown.get(account, ("", ""))[0] != state or words not in shown[account][1]
    }
    check(not wrong, f"{when}, the Plusofon page shows: {wrong}")
    said = {state: sum(1 for s, _ in shown.values() if s == state) for state in sorted({s for s, _ in shown.values()})}
    say(f"   the Plusofon page, {when}: {len(shown)} accounts, {said}")


def the_plusofon_page(deployment: Any, client_id: str) -> None:
    """After the run: the page refuses anyone not logged in, and shows the example's account."""
    refused_without_credentials(deployment, client_id)
    state, text = rows_shown(deployment).get(client_id, ("not shown", ""))
    check(state not in ("not shown", "unknown") and "plusofon_webhook_audit" in text, f"{client_id}: {state} {text}")
    say(f"   account {client_id}: {state}; its row: {text[:200]}")


def look_in_a_browser(deployment: Any, accounts: list[str], account: str, stage: str) -> None:
    """``UI=1``: the page as a person opens it (from the navigation on 3.1+, by its URL on 3.0)."""
    if not UI:
        return
    from ui import SHOTS, logged_in

    version = ".".join(map(str, deployment.airflow_version))
    with logged_in(deployment.api_url, REVIEWER, deployment.reviewer_password) as browser:
        page = browser.page
        if deployment.airflow_version >= (3, 1):
            page.goto(deployment.api_url + "/")
            page.get_by_role("button", name="Browse").click()
            page.get_by_role("menuitem", name="Plusofon").click()
            frame = page.frame_locator("iframe").first
            frame.get_by_text("Plusofon accounts").first.wait_for(timeout=60_000)
            text = frame.locator("body").inner_text()
            check("/plugin/" in page.url, f"the navigation opened {page.url}, not the embedded page")
            page.screenshot(path=str(SHOTS / f"plusofon-embedded-{stage}-{version}.png"))
            where = "from the navigation (Browse \u2192 Plusofon), embedded"
        else:
            text = browser.open(PAGE, wait_for_text="Plusofon accounts", name=f"plusofon-fleet-{stage}-{version}")
            where = "by its URL (Airflow 3.0 has no plugin views)"
        missing = [a for a in accounts if a not in text]
        check(not missing, f"the fleet page in a browser does not show {missing}")
        check(not any(s in text + page.content() for s in SECRETS), "a secret is on the Plusofon page in the browser")
        browser.open(PAGE, wait_for_text="Plusofon accounts", name=f"plusofon-fleet-{stage}-{version}")
        name = f"plusofon-account-{stage}-{version}"
        shown = browser.open(f"{PAGE}accounts/{account}", wait_for_text="Last 30 days", name=name)
        check("Declared webhooks beside what the account held" in shown, f"the account page shows:\n{shown[:1500]}")
    say(f"   in a browser: opened {where}, all {len(accounts)} fleet accounts there; screenshots in {SHOTS}")
