"""Issue 35: the Plusofon page served by Airflow's own api-server app (its auth manager included):
closed to anyone not logged in on every route, open to a viewer, escaped, no secret in any response,
and a fixed number of queries whatever the number of accounts."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from typing import Any

import pendulum
import pytest

from airflow_provider_plusofon.compat import token_cookie_read_by_core
from tests.conftest import REPO

pytestmark = pytest.mark.e2e

sys.path.insert(0, str(REPO / "benchmarks"))
import ui as bench  # noqa: E402  (the benchmark's fleet: the rows Airflow stores, made by the provider's code)

HOSTILE = '<script>alert("plusofon")</script>'
URL_PASSWORD = "ui-url-pass-41c"
HEADER_SECRET = "ui-header-secret-9e2"
HOSTILE_URL = f'https://ops:{URL_PASSWORD}@crm.example.com/"><img/src=x/onerror=alert(1)>'
ROUTES = [
    "/plusofon/",
    "/plusofon/?state=drifted&sort=read&order=desc",
    f"/plusofon/accounts/{bench.FIRST_CLIENT_ID + 2}",
    "/plusofon/accounts/nope",
]


@pytest.fixture(scope="module")
def app(airflow_db) -> Any:
    from airflow.api_fastapi.app import create_app

    return create_app()


def client(app: Any, role: str | None = "viewer", *, cookie: bool = False) -> Any:
    """A client of the api-server; logged in (``role``) with a bearer token, or the UI's cookie."""
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser
    from fastapi.testclient import TestClient

    session = TestClient(app)
    if role is not None or cookie:
        token = get_auth_manager().generate_jwt(SimpleAuthManagerUser(username=f"{role}-person", role=role))
        if cookie:
            session.cookies.set("_token", token)
        else:
            session.headers["Authorization"] = f"Bearer {token}"
        session.token = token  # type: ignore[attr-defined]
    return session


@pytest.fixture
def fleet(airflow_db) -> Iterator[None]:
    """The benchmark's fleet of 10 accounts, and an account whose records are hostile (a connection
    description and a webhook URL that are markup, a password in the URL, a header value)."""
    from airflow.models.connection import Connection
    from airflow.utils.session import create_session

    with create_session() as session:
        bench.unseed(session)
    with create_session() as session:
        bench.seed(session, 10, 5, pendulum.now("UTC"))
    with create_session() as session:
        session.add(Connection(conn_id="plusofon_bench_hostile", conn_type="plusofon", login="70099",
                               password=HEADER_SECRET, description=HOSTILE, extra=json.dumps({"client_id": "x"})))  # fmt: skip
    with create_session() as session:
        hostile_record(session)
    yield
    with create_session() as session:
        bench.unseed(session)


def hostile_record(session: Any) -> None:
    from airflow.models.xcom import XComModel
    from sqlalchemy import insert, text

    from airflow_provider_plusofon.tasks.records import split_record
    from airflow_provider_plusofon.webhooks.outcome import run_record
    from airflow_provider_plusofon.webhooks.plan import plan_changes
    from airflow_provider_plusofon.webhooks.spec import parse_specs

    specs = parse_specs(
        [{"url": HOSTILE_URL, "event": "create", "headers": [{"name": "X-Key", "value": HEADER_SECRET}]}]
    )
    record = run_record(plan_changes(specs, []), {"plan_id": f"plan-{HOSTILE}", "dry_run": True})
    record |= {"client_id": "70099", "conn_id": "plusofon_bench_hostile", "at": pendulum.now("UTC").isoformat()}
    session.execute(text("PRAGMA foreign_keys=OFF"))  # as the benchmark's fleet: no DAG run behind it
    for key, value in split_record(record).items():
        where = {"dag_id": bench.FLEET_DAG, "run_id": f"manual__{HOSTILE}", "task_id": "audit_account", "map_index": 99}
        session.execute(
            insert(XComModel.__table__).values(dag_run_id=bench.FIRST_RUN_ID - 1, key=key, value=value, **where)
        )
    session.commit()
    session.execute(text("PRAGMA foreign_keys=ON"))


def states(html: str) -> list[tuple[str, str]]:
    """Each row's account and state, in the order the fleet page shows them."""
    shown = re.findall(r'href="/plusofon/accounts/(\w+)"><b>.*?<span class="badge st-(\w+)">', html, re.S)
    return [(account, state) for account, state in shown if account.startswith("700")]  # the tests' own fleet


def test_every_route_refuses_anyone_not_logged_in(app, fleet):
    anonymous = client(app, None)
    for route in ROUTES:
        answer = anonymous.get(route)
        assert answer.status_code == 401, route
        assert answer.json() == {"detail": "Not authenticated"}
        page = anonymous.get(route, headers={"Accept": "text/html"})
        assert page.status_code == 401 and "Log in to Airflow to see the Plusofon page" in page.text
        assert "70002" not in page.text and "plusofon_bench" not in page.text
    forged = client(app, None)
    forged.headers["Authorization"] = "Bearer not-a-jwt"
    assert forged.get("/plusofon/").status_code in (401, 403)
    crumbs = client(app, None)
    crumbs.cookies.set("_token", "x.y.z")
    assert crumbs.get("/plusofon/").status_code in (401, 403)
    # FastAPI's own documentation routes would be open: the app has none.
    for route in ("/plusofon/docs", "/plusofon/openapi.json", "/plusofon/redoc"):
        assert client(app).get(route).status_code == 404


def test_a_person_without_the_plugins_view_is_refused(app, fleet):
    nobody = client(app, role=None, cookie=True)  # logged in, with no role at all
    assert nobody.get("/plusofon/").status_code == 403
    page = nobody.get("/plusofon/", headers={"Accept": "text/html"})
    assert page.status_code == 403 and "permission to view Airflow's plugins" in page.text


@pytest.mark.parametrize("cookie", [False, True], ids=["bearer token", "the UI's cookie"])
def test_a_viewer_sees_every_account_and_its_page(app, fleet, cookie):
    viewer = client(app, "viewer", cookie=cookie)
    page = viewer.get("/plusofon/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert states(page.text) == [  # what needs a person first, the longest waiting first
        ("70001", "drifted"), ("70002", "awaiting"), ("70003", "awaiting"), ("70099", "awaiting"),
        ("70005", "unknown"), ("70004", "repaired"), ("70000", "matching"), ("70006", "matching"),
        ("70007", "matching"), ("70008", "matching"), ("70009", "matching"),
    ]  # fmt: skip
    assert re.search(r"\d+ accounts this deployment knows", page.text)
    account = viewer.get("/plusofon/accounts/70003")
    assert account.status_code == 200 and "went stale" in account.text and "<svg" in account.text
    missing = viewer.get("/plusofon/accounts/nope", headers={"Accept": "text/html"})
    assert missing.status_code == 404 and "No such Plusofon account" in missing.text


def test_what_is_shown_is_escaped_and_no_secret_reaches_any_response(app, fleet):
    viewer = client(app)
    pages = [viewer.get(route) for route in [*ROUTES, "/plusofon/accounts/70099", "/plusofon/?q=" + HOSTILE]]
    pages += [client(app, None).get(route, headers={"Accept": "text/html"}) for route in ROUTES]
    for page in pages:
        text = page.text + json.dumps(dict(page.headers))
        for secret in (bench.SECRET, HEADER_SECRET, URL_PASSWORD, viewer.token):
            assert secret not in text
        assert "<script>alert" not in page.text and "<img" not in page.text
    hostile = viewer.get("/plusofon/accounts/70099").text
    assert "&lt;script&gt;alert(&#34;plusofon&#34;)&lt;/script&gt;" in hostile  # the description, as text
    assert "https://***@crm.example.com/&#34;&gt;&lt;img/src=x/onerror=alert(1)&gt;" in hostile  # the URL, as text
    assert "X-Key: (sensitive)" in hostile
    searched = viewer.get("/plusofon/?q=" + HOSTILE).text
    assert 'value="&lt;script&gt;' in searched


def test_responses_allow_no_script_but_their_own_and_are_not_cached(app, fleet):
    answer = client(app).get("/plusofon/")
    policy = answer.headers["content-security-policy"]
    nonce = re.search(r"'nonce-([^']+)'", policy).group(1)
    assert policy.startswith(f"default-src 'none'; style-src 'nonce-{nonce}'; script-src 'nonce-{nonce}';")
    assert "frame-ancestors 'self'" in policy and answer.headers["cache-control"] == "no-store"
    assert "<script" not in answer.text
    refused = client(app, None).get("/plusofon/", headers={"Accept": "text/html"})
    # Airflow 3.0 keeps the UI's token in the browser's storage: the refusal hands it over, once.
    assert ("localStorage" in refused.text) is (not token_cookie_read_by_core())


def test_a_page_load_makes_the_same_few_queries_for_ten_accounts_as_for_sixty(app, airflow_db):
    from airflow.utils.session import create_session

    counts = []
    for accounts in (10, 60):
        with create_session() as session:
            bench.unseed(session)
        with create_session() as session:
            bench.seed(session, accounts, 10, pendulum.now("UTC"))
        viewer = client(app)
        viewer.get("/plusofon/")
        with bench.QueryCounter() as counted:
            assert viewer.get("/plusofon/").status_code == 200
        with bench.QueryCounter() as account:
            assert viewer.get(f"/plusofon/accounts/{bench.FIRST_CLIENT_ID + 2}").status_code == 200
        counts.append((len(counted.statements), len(account.statements)))
    with create_session() as session:
        bench.unseed(session)
    assert counts[0] == counts[1]
    assert counts[0][0] <= 12 and counts[0][1] <= 12, counts


def test_the_configured_auth_manager_decides_with_the_plugins_view(app, fleet, monkeypatch):
    """Whatever the auth manager (simple, FAB, another), the page asks it: the PLUGINS view, for this user."""
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.api_fastapi.auth.managers.models.resource_details import AccessView

    asked: list[tuple[Any, str]] = []

    def is_authorized_view(*, access_view: Any, user: Any) -> bool:
        asked.append((access_view, user.get_name()))
        return False

    monkeypatch.setattr(get_auth_manager(), "is_authorized_view", is_authorized_view)
    assert client(app, "admin").get("/plusofon/").status_code == 403  # an admin, refused by this manager
    assert asked == [(AccessView.PLUGINS, "admin-person")]
