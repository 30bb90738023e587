"""What a person sees in Airflow's UI, in a real (headless) browser: `make live UI=1`.

Installs what it needs the first time (Debian's chromium, Playwright from PyPI into this virtual
environment: Playwright's own browser download does not work here), logs in as a person would,
opens pages, saves screenshots into `ui-screenshots/`, and hands back the text the page shows so
that the live run can assert on it.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
SHOTS = REPO / "ui-screenshots"
CHROMIUM = "/usr/bin/chromium"
# Without the background-networking flags Chromium keeps opening connections this machine refuses.
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def ensure_browser() -> None:
    """Chromium from Debian and Playwright from PyPI, installed when missing."""
    if not Path(CHROMIUM).exists():
        apt = ["apt-get"] if shutil.which("sudo") is None else ["sudo", "apt-get"]
        subprocess.run([*apt, "update", "-qq"], check=True, capture_output=True)
        subprocess.run([*apt, "install", "-y", "-qq", "chromium"], check=True, capture_output=True)
    if importlib.util.find_spec("playwright") is None:
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "playwright"], check=True)


class Browser:
    """One logged-in browser page on the Airflow UI."""

    def __init__(self, page: Any, base_url: str) -> None:
        self.page, self.base_url = page, base_url

    def open(self, path: str, *, wait_for_text: str, name: str) -> str:
        """Open ``path``, wait until ``wait_for_text`` shows, save a screenshot; the page's text."""
        self.page.goto(self.base_url + path)
        self.page.get_by_text(wait_for_text, exact=False).first.wait_for(timeout=60_000)
        self.page.wait_for_load_state("networkidle")
        SHOTS.mkdir(exist_ok=True)
        self.page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
        return str(self.page.inner_text("body"))

    def edit_connection(self, conn_id: str, *, name: str) -> str:
        """Open a connection's edit form from the connections list; the text the form shows."""
        row = self.page.get_by_role("row").filter(has_text=conn_id)
        buttons = row.get_by_role("button")
        labels = [
            buttons.nth(i).get_attribute("aria-label") or buttons.nth(i).inner_text() for i in range(buttons.count())
        ]
        edit = next(i for i, label in enumerate(labels) if "edit" in (label or "").lower())
        buttons.nth(edit).click()
        dialog = self.page.get_by_role("dialog")
        dialog.get_by_text("Client ID").first.wait_for(timeout=60_000)
        self.page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
        standard = str(dialog.inner_text())
        dialog.get_by_text("Extra Fields", exact=True).click()  # a folded section (it folds the other)
        dialog.get_by_text("Timeout (seconds)").first.wait_for(timeout=60_000)
        self.page.wait_for_timeout(800)  # only for the picture: the section unfolds with an animation
        self.page.screenshot(path=str(SHOTS / f"{name}-extra.png"), full_page=True)
        return standard + "\n" + str(dialog.inner_text())

    def html(self) -> str:
        """What the page holds, fields' values included (a secret must not be in it at all)."""
        return str(self.page.content())


@contextmanager
def logged_in(base_url: str, username: str, password: str) -> Iterator[Browser]:
    """A browser logged in to Airflow's simple auth manager, as a person logs in."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(base_url + "/")
            page.locator("input[name='username']").fill(username)
            page.locator("input[name='password']").fill(password)
            page.locator("button[type='submit']").click()
            page.wait_for_url(lambda url: "login" not in url, timeout=60_000)
            yield Browser(page, base_url)
        finally:
            browser.close()
