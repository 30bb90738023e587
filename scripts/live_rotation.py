"""make live, a token rotated under a waiting sensor (issue 33), on real services: the connection is
saved in the metadata database (as a person saves it), the sensor defers, the connection gets a new
token and the emulator revokes the old one, then the webhook appears. The sensor must succeed in
its first try, re-sealed in the triggerer's own process."""

from __future__ import annotations

import json
import secrets
from typing import Any

import requests
from live_approval import check, say

DAG = "plusofon_token_rotation"
TASK = "wait_through_a_rotation"
CONNECTION = "plusofon_rotating"
CLIENT_ID = "19990"
OLD_TOKEN = "tok-rotating-old-" + secrets.token_hex(6)
NEW_TOKEN = "tok-rotating-new-" + secrets.token_hex(6)
SECRETS = (OLD_TOKEN, NEW_TOKEN)
WEBHOOK = {
    "url": "https://crm.example.com/plusofon/rotation",
    "event": "create",
    "headers": [{"name": "X-Webhook-Secret", "value": "rotation-header-7"}],
}
FILLER = [{"url": f"https://other.example.com/rotation/{i}", "event": "answer"} for i in range(20)]  # 2 pages


def _control(emulator: Any, method: str, path: str, body: Any) -> Any:
    answer = requests.request(
        method, f"{emulator.base_url}/__emulator__{path}", json=body, headers={"Client": CLIENT_ID}, timeout=10
    )
    check(answer.ok, f"the emulator refused {method} {path}: {answer.status_code} {answer.text[:200]}")
    return answer.json()


def _save_connection(deployment: Any, token: str) -> None:
    deployment.cli("connections", "add", CONNECTION, "--conn-type", "plusofon", "--conn-login", CLIENT_ID,
                   "--conn-password", token, "--conn-host", deployment.emulator_url)  # fmt: skip


def prepare_rotation(deployment: Any, emulator: Any) -> None:
    """The account and its connection, saved in the metadata database (before the services read it)."""
    requests.post(
        f"{emulator.base_url}/__emulator__/accounts",
        json={"client_id": CLIENT_ID, "token": OLD_TOKEN, "webhooks": FILLER},
        timeout=10,
    ).raise_for_status()
    deployment.emulator_url = emulator.base_url
    _save_connection(deployment, OLD_TOKEN)


def rotate_under_a_waiting_sensor(deployment: Any, emulator: Any) -> None:
    deployment.cli("dags", "unpause", DAG)
    deployment.cli("dags", "trigger", DAG)
    deployment.wait_for("the rotation sensor to be deferred", lambda: deployment.task_state(DAG, TASK) == "deferred")
    say("   the sensor waits in the triggerer; the connection gets a new token, the account revokes the old one")
    deployment.cli("connections", "delete", CONNECTION)
    _save_connection(deployment, NEW_TOKEN)
    _control(emulator, "PUT", "/token", {"token": NEW_TOKEN})

    def refused() -> bool:
        log = _control(emulator, "GET", "/requests", None)
        return any(r["status"] == 401 for r in log)

    deployment.wait_for("the trigger to meet the revoked token", refused)
    _control(emulator, "PUT", "/webhooks", {"webhooks": [*FILLER, WEBHOOK]})
    state = deployment.wait_for("the rotation run to finish", lambda: deployment.finished(DAG))
    tries = deployment.query("SELECT state, try_number FROM task_instance WHERE dag_id = ? AND task_id = ?", DAG, TASK)
    check(state == "success" and tries == [("success", 1)], f"the rotation run ended {state}, its sensor {tries}")
    log = _control(emulator, "GET", "/requests", None)
    refusals = [r for r in log if r["status"] == 401]
    check(1 <= len(refusals) <= 2, f"the old token was refused {len(refusals)} times: {json.dumps(refusals)[:300]}")
    logs = " ".join(path.read_text(errors="replace") for path in deployment.home.rglob("*.log"))
    said = [line for line in ("seal their specs again", "sealing the specs again and waiting on") if line in logs]
    # The account's reader says it in the triggerer's log, the resumed sensor in its task log.
    check(len(said) == 2, f"the reader and the sensor must say they seal again, said: {said}")
    say(f"   {state} in its first try; the old token refused {len(refusals)} time(s), then the specs sealed anew")
