"""The job done the way the vendor document suggests, by hand: the baseline `make bench` compares to.

Plain ``requests``, one request after another: list page after page, GET each candidate's detail
view, then write each change. No retries, no duplicate protection: just the happy path.
"""

from __future__ import annotations

from typing import Any

import requests


def api_headers(client_id: str, token: str) -> dict[str, str]:
    """The headers the vendor document asks for."""
    return {
        "Content-Type": "application/json",
        "Accept": "application/json",
        "Client": client_id,
        "Authorization": f"Bearer {token}",
    }


def list_by_hand(base_url: str, client_id: str, token: str) -> list[dict[str, Any]]:
    """Every webhook, page after page."""
    headers = api_headers(client_id, token)
    listing: list[dict[str, Any]] = []
    page = 1
    while True:
        answer = requests.get(f"{base_url}/api/v1/webhooks", params={"page": page}, headers=headers, timeout=30).json()
        listing += answer["data"]
        if page >= answer["last_page"]:
            return listing
        page += 1


def ensure_by_hand(base_url: str, client_id: str, token: str, specs: list[dict[str, Any]]) -> None:
    """Create each missing spec and PUT each one whose headers differ."""
    headers = api_headers(client_id, token)
    url = f"{base_url}/api/v1/webhooks"
    listing = list_by_hand(base_url, client_id, token)
    for spec in specs:
        match = next(
            (
                w
                for w in listing
                if (w["url"], w["event"], w["type_call"]) == (spec["url"], spec["event"], spec["type_call"])
            ),
            None,
        )
        if match is None:
            requests.post(url, json=spec, headers=headers, timeout=30).raise_for_status()
            continue
        detail = requests.get(f"{url}/{match['id']}", headers=headers, timeout=30).json()
        if sorted((h["name"], h["value"]) for h in detail["headers"]) != sorted(
            (h["name"], h["value"]) for h in spec["headers"]
        ):
            body = {k: v for k, v in detail.items() if k not in ("id", "type") and v is not None}
            requests.put(f"{url}/{match['id']}", json={**body, **spec}, headers=headers, timeout=30).raise_for_status()


def replay_in_flight(base_url: str, client_id: str, token: str, sent: list[dict[str, Any]], max_workers: int) -> None:
    """
    The requests another client sent (as the emulator logged them), again, by a bare keep-alive
    session with ``max_workers`` in flight and nothing waiting for anything: the most any client
    sending them can overlap, the ceiling of its speed-up.
    """
    from concurrent.futures import ThreadPoolExecutor

    session = requests.Session()
    session.headers.update(api_headers(client_id, token))
    adapter = requests.adapters.HTTPAdapter(pool_maxsize=max_workers)
    session.mount("http://", adapter)

    def send(entry: dict[str, Any]) -> None:
        session.request(
            entry["method"], base_url + entry["path"], params=entry["query"], json=entry["body"], timeout=30
        ).raise_for_status()

    with ThreadPoolExecutor(max_workers) as pool:
        list(pool.map(send, sent))
