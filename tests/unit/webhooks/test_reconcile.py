"""The reconcile core against requests-mock: creates with ids, lost answers, partial failures, layering."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest
import requests
from urllib3.exceptions import MaxRetryError, NewConnectionError

from airflow_provider_plusofon.api import PlusofonClient, PlusofonConnectionConfig
from airflow_provider_plusofon.exceptions import (
    AmbiguousWebhookError,
    CreateOutcomeUnknownError,
    PartialApplyError,
    PlusofonAPIError,
    PlusofonAuthError,
    PlusofonNotFoundError,
    PlusofonValidationError,
    StalePlanError,
)
from airflow_provider_plusofon.webhooks.creates import create_webhooks
from airflow_provider_plusofon.webhooks.reconcile import (
    apply_plan,
    plan_account,
    plan_by_id,
    plan_one,
)
from airflow_provider_plusofon.webhooks.spec import parse_spec, parse_specs
from tests.conftest import BASE, CLIENT_ID, REPO, TOKEN, airflow_modules_after_importing
from tests.unit.api.test_webhooks import LIST_URL, item, paginator

BODY = {"url": "https://crm.example.com/calls", "event": "create", "type_call": "inbound"}


def make_client(max_workers: int = 8) -> PlusofonClient:
    config = PlusofonConnectionConfig(base_url=BASE, client_id=CLIENT_ID, token=TOKEN, timeout=3, max_retries=3)
    return PlusofonClient(config, max_workers=max_workers)


@pytest.fixture
def client() -> PlusofonClient:
    return make_client()


def posts(requests_mock) -> list:
    return [r for r in requests_mock.request_history if r.method == "POST"]


def create_one(client: PlusofonClient, body: dict = BODY, **kwargs):
    return create_webhooks(client, [parse_spec(body)], **kwargs)


# -- create with id ------------------------------------------------------------------------------


def test_create_lists_before_and_after_and_returns_the_new_id(client, requests_mock):
    requests_mock.get(
        LIST_URL,
        [
            {"json": paginator([item(3)], 1, 1)},  # before: an existing twin with id 3
            {"json": paginator([item(3), item(4)], 1, 1, total=2)},  # after
        ],
    )
    requests_mock.post(LIST_URL, json={"success": True})
    outcome = create_one(client)
    assert outcome.failures == []
    assert [(position, found["id"]) for position, found in outcome.created] == [(0, 4)]
    assert [r.json() for r in posts(requests_mock)] == [BODY]


def test_create_rejected_with_422_is_not_retried(client, requests_mock):
    requests_mock.post(
        LIST_URL, status_code=422, json={"message": "invalid", "errors": {"url": ["The url is not allowed."]}}
    )
    outcome = create_one(client, known_ids=[])
    [(_, error)] = outcome.failures
    assert isinstance(error, PlusofonValidationError)
    assert "url: The url is not allowed." in str(error)
    assert len(posts(requests_mock)) == 1
    assert outcome.created == []


@pytest.mark.parametrize(
    "lost",
    [
        {"exc": requests.ConnectionError("Connection reset by peer")},
        {"exc": requests.ReadTimeout("read timed out")},
        {"status_code": 502, "text": "<html>Bad Gateway</html>"},
        {"status_code": 504, "json": {"message": "Gateway Timeout"}},
        {"status_code": 500, "json": {"message": "Server Error"}},
    ],
)
def test_lost_post_answer_is_looked_for_and_never_sent_again(client, requests_mock, waits, lost):
    stored = paginator([item(1, url="https://other.example"), item(2)], 1, 1, total=2)
    requests_mock.get(LIST_URL, json=stored)
    requests_mock.post(LIST_URL, [lost, {"json": {"success": True}}])
    outcome = create_one(client, known_ids=[1])
    assert [(position, found["id"]) for position, found in outcome.created] == [(0, 2)]
    assert len(posts(requests_mock)) == 1
    assert waits == []


def test_lost_post_answer_not_in_the_list_is_outcome_unknown_and_never_resent(client, requests_mock, waits):
    # The store may lag the answer: sending again could make a second webhook a moment later.
    requests_mock.get(LIST_URL, json=paginator([], 1, 1, total=0))
    requests_mock.post(LIST_URL, [{"exc": requests.ConnectionError("reset")}, {"json": {"success": True}}])
    outcome = create_one(client, known_ids=[])
    [(_, error)] = outcome.failures
    assert isinstance(error, CreateOutcomeUnknownError)
    assert "create outcome unknown" in str(error)
    assert "run the task again" in str(error)
    assert outcome.created == []
    assert len(posts(requests_mock)) == 1


def test_post_that_could_not_connect_is_sent_again(client, requests_mock, waits):
    # The connection was never opened: the server cannot have stored anything.
    refused = requests.ConnectionError(MaxRetryError(None, LIST_URL, NewConnectionError(None, "refused")))  # type: ignore[arg-type]
    requests_mock.get(LIST_URL, json=paginator([item(8)], 1, 1, total=1))
    requests_mock.post(LIST_URL, [{"exc": refused}, {"json": {"success": True}}])
    outcome = create_one(client, known_ids=[])
    assert [found["id"] for _, found in outcome.created] == [8]
    assert len(posts(requests_mock)) == 2
    assert len(waits) == 1


def test_post_after_429_is_resent_without_listing(client, requests_mock, waits):
    requests_mock.get(LIST_URL, [{"json": paginator([], 1, 1, total=0)}, {"json": paginator([item(8)], 1, 1)}])
    requests_mock.post(
        LIST_URL,
        [{"status_code": 429, "headers": {"Retry-After": "2"}, "json": {}}, {"json": {"success": True}}],
    )
    outcome = create_one(client)
    assert [found["id"] for _, found in outcome.created] == [8]
    assert [r.method for r in requests_mock.request_history] == ["GET", "POST", "POST", "GET"]
    assert waits == [2.0]


def test_accepted_create_that_does_not_appear_is_reported_as_done_without_id(client, requests_mock):
    requests_mock.get(LIST_URL, json=paginator([], 1, 1, total=0))
    requests_mock.post(LIST_URL, json={"success": True})
    outcome = create_one(client, known_ids=[])
    assert [(position, found["id"]) for position, found in outcome.created] == [(0, None)]
    [(_, error)] = outcome.failures
    assert "not in the list afterwards" in str(error)


def test_new_ids_without_last_page_read_each_page_once(client, requests_mock):
    requests_mock.post(LIST_URL, json={"success": True})
    requests_mock.get(
        LIST_URL + "?page=1", complete_qs=True, json={"data": [item(1, url="https://a.example")], "next_page_url": "x"}
    )
    requests_mock.get(LIST_URL + "?page=2", complete_qs=True, json={"data": [item(2)], "next_page_url": None})
    outcome = create_one(client, known_ids=[1])
    assert [found["id"] for _, found in outcome.created] == [2]
    assert [r.qs["page"] for r in requests_mock.request_history if r.method == "GET"] == [["1"], ["2"]]


def test_new_ids_are_looked_up_from_the_last_page_back(client, requests_mock):
    old = [[item(1, url="https://a.example"), item(2, url="https://b.example")], [item(3, url="https://c.example")]]
    after = [old[0], [old[1][0], item(4, url="https://d.example")], [item(5)]]
    requests_mock.post(LIST_URL, json={"success": True})
    for number in (1, 2, 3):
        requests_mock.get(LIST_URL + f"?page={number}", complete_qs=True, json=paginator(after[number - 1], number, 3))
    outcome = create_one(client, known_ids=[w["id"] for page in old for w in page])
    assert [found["id"] for _, found in outcome.created] == [5]
    assert [r.qs.get("page") for r in requests_mock.request_history if r.method == "GET"] == [["1"], ["3"]]


def test_new_ids_spanning_pages_are_read_together(client, requests_mock):
    bodies = [{"url": f"https://crm.example.com/{n}", "event": "create", "type_call": "inbound"} for n in (4, 5)]
    old = [item(1, url="https://a.example"), item(2, url="https://b.example"), item(3, url="https://c.example")]
    after = [old[:2], [old[2], item(4, url=bodies[0]["url"])], [item(5, url=bodies[1]["url"])]]
    requests_mock.post(LIST_URL, json={"success": True})
    for number in (1, 2, 3):
        page = paginator(after[number - 1], number, 3, total=5)
        requests_mock.get(LIST_URL + f"?page={number}", complete_qs=True, json=page)
    outcome = create_webhooks(client, parse_specs(bodies), known_ids=[1, 2, 3])
    assert [found["id"] for _, found in outcome.created] == [4, 5]
    pages = [r.qs["page"][0] for r in requests_mock.request_history if r.method == "GET"]
    # page 1 tells the shape, then the two last pages at once: the new webhooks fill exactly those
    assert pages[0] == "1"
    assert sorted(pages[1:]) == ["2", "3"]


def test_new_id_lookup_reads_every_page_when_the_order_is_otherwise(client, requests_mock):
    after = [[item(9, url="https://a.example")], [item(5)], [item(8, url="https://c.example")]]
    requests_mock.post(LIST_URL, json={"success": True})
    for number in (1, 2, 3):
        requests_mock.get(LIST_URL + f"?page={number}", complete_qs=True, json=paginator(after[number - 1], number, 3))
    outcome = create_one(client, known_ids=[9, 8])
    assert [found["id"] for _, found in outcome.created] == [5]
    assert [r.qs.get("page") for r in requests_mock.request_history if r.method == "GET"] == [["1"], ["3"], ["2"]]


# -- apply ---------------------------------------------------------------------------------------


def test_failure_after_creates_reports_every_create_even_without_ids(requests_mock):
    # Two creates go through, the third meets a 401, and the lookup of ids meets it too.
    client = make_client(max_workers=1)
    specs = parse_specs([{"url": f"https://crm.example.com/{n}", "event": "create"} for n in range(3)])
    unauthenticated = {"status_code": 401, "json": {"message": "Unauthenticated."}}
    empty = {"json": paginator([], 1, 1, total=0)}
    requests_mock.get(LIST_URL, [empty, empty, unauthenticated])  # read, confirmed (it creates), then the look-up
    requests_mock.post(LIST_URL, [{"json": {"success": True}}, {"json": {"success": True}}, unauthenticated])
    plan = plan_account(client, specs)
    with pytest.raises(PartialApplyError) as caught:
        apply_plan(client, plan)
    error = caught.value
    assert [(c["url"], c["id"]) for c in error.done["created"]] == [
        ("https://crm.example.com/0", None),
        ("https://crm.example.com/1", None),
    ]
    assert "already applied: 2 created" in str(error)
    assert sum("id could not be looked up" in f for f in error.failures) == 2
    assert sum("HTTP 401" in f and "crm.example.com/2" in f for f in error.failures) == 1
    assert error.done["deleted"] == []


def test_dry_run_writes_nothing(client, requests_mock):
    requests_mock.get(LIST_URL, json=paginator([item(1, url="https://old.example")], 1, 1))
    plan = plan_account(client, parse_specs([BODY]), prune=True)
    summary = apply_plan(client, plan, dry_run=True)
    # the listing, and the second read that confirms it (the plan creates and deletes): no write
    assert [r.method for r in requests_mock.request_history] == ["GET", "GET"]
    assert summary["dry_run"] is True
    assert [c["url"] for c in summary["created"]] == [BODY["url"]]
    assert summary["created"][0]["changes"]["url"] == {"before": None, "after": BODY["url"]}
    assert [d["id"] for d in summary["deleted"]] == [1]


# -- one webhook ---------------------------------------------------------------------------------


def test_plan_one_with_duplicates_fails_before_any_write_unless_dedupe(client, requests_mock):
    requests_mock.get(LIST_URL, json=paginator([item(1), item(2)], 1, 1, total=2))
    spec = parse_spec(BODY)
    with pytest.raises(AmbiguousWebhookError, match=r"2 webhooks match .*#1, #2\. Pass dedupe=True to keep #1"):
        plan_one(client, spec)
    with pytest.raises(AmbiguousWebhookError, match="to delete them all"):
        plan_one(client, spec, absent=True)
    assert [(a.kind, a.webhook_id) for a in plan_one(client, spec, dedupe=True).actions] == [
        ("unchanged", 1),
        ("delete", 2),
    ]
    assert [a.webhook_id for a in plan_one(client, spec, absent=True, dedupe=True).deletes] == [1, 2]


def test_plan_by_id_absent_and_already_gone_plans_nothing(client, requests_mock):
    requests_mock.get(f"{LIST_URL}/7", status_code=404, json={"message": "Not Found"})
    assert plan_by_id(client, parse_spec(BODY), 7, absent=True).actions == ()
    with pytest.raises(PlusofonNotFoundError):
        plan_by_id(client, parse_spec(BODY), 7)


def test_auth_error_while_reading_is_raised_before_any_write(client, requests_mock):
    requests_mock.get(LIST_URL, status_code=401, json={"message": "Unauthenticated."})
    with pytest.raises(PlusofonAuthError):
        plan_account(client, parse_specs([BODY]))
    assert posts(requests_mock) == []


# -- layering ------------------------------------------------------------------------------------


def test_the_core_imports_nothing_of_airflow():
    core = sorted(
        f"airflow_provider_plusofon.webhooks.{path.stem}"
        for path in (REPO / "airflow_provider_plusofon" / "webhooks").glob("*.py")
        if path.stem != "__init__"
    )
    assert "airflow_provider_plusofon.webhooks.reconcile" in core
    assert airflow_modules_after_importing(*core) == []


WRITES = {"post_webhook", "update_webhook", "delete_webhook", "create_webhook"}


@pytest.mark.parametrize("package", ["operators", "sensors", "triggers", "tasks", "cli"])
def test_tasks_call_no_write_method_themselves(package):
    # Every create, update and delete goes through webhooks/reconcile.py.
    for path in (REPO / "airflow_provider_plusofon" / package).glob("*.py"):
        calls = {
            node.func.attr
            for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
        }
        assert not calls & WRITES, f"{path.name} calls {calls & WRITES}"


def test_no_module_is_left_at_the_package_root_but_the_shared_bottom():
    root = Path(REPO / "airflow_provider_plusofon")
    assert sorted(p.name for p in root.glob("*.py")) == ["__init__.py", "compat.py", "exceptions.py", "redaction.py"]


def test_create_failure_carries_method_and_path(client, requests_mock):
    requests_mock.post(LIST_URL, json={"success": True})
    requests_mock.get(LIST_URL, json=paginator([], 1, 1, total=0))
    [(_, error)] = create_one(client, known_ids=[]).failures
    assert isinstance(error, PlusofonAPIError)
    assert (error.method, error.path) == ("POST", "/api/v1/webhooks")


# -- plan ids ------------------------------------------------------------------------------------

KEY = b"k" * 32
ACCOUNT = "10553@http://plusofon.test"
HEADER = [{"name": "X-Key", "value": "fingerprint-secret-1"}]


def fingerprint(specs: list[dict], actual: list[dict], **kwargs) -> str:
    from airflow_provider_plusofon.webhooks.plan import plan_changes as make_plan
    from airflow_provider_plusofon.webhooks.plan import plan_id

    return plan_id(make_plan(parse_specs(specs), actual, **kwargs), KEY, account=ACCOUNT)


def test_plan_id_changes_with_what_would_be_written_and_what_it_touches():
    drifted = {**item(1), "type_style": "short", "headers": HEADER}
    base = fingerprint([{**BODY, "type_style": "long"}], [drifted])
    assert base.startswith("plan-")
    assert base == fingerprint([{**BODY, "type_style": "long"}], [drifted])  # stable
    assert base != fingerprint([{**BODY, "type_style": "short", "template": "t"}], [drifted])  # another write
    assert base != fingerprint([{**BODY, "type_style": "long"}], [{**drifted, "template": "x"}])  # observed state
    changed_secret = [{**drifted, "headers": [{"name": "X-Key", "value": "fingerprint-secret-2"}]}]
    assert base != fingerprint([{**BODY, "type_style": "long"}], changed_secret)  # even a header value
    assert base != fingerprint(
        [{**BODY, "type_style": "long"}], [drifted, item(9, url="https://x.example")], prune=True
    )


def test_plan_id_is_the_same_from_release_to_release():
    # An id a reviewer approved must still name the same plan after the provider is upgraded
    # between review and apply: these literal ids change only with a changelog entry.
    from airflow_provider_plusofon.webhooks.plan import plan_changes as make_plan
    from airflow_provider_plusofon.webhooks.plan import plan_id, plan_removal

    specs = parse_specs(
        [
            {**BODY, "type_style": "long", "headers": [{"name": "X-Key", "value": "s1"}]},
            {"url": "https://bi.example.com/ended", "event": "destroy"},
        ]
    )
    actual = [{**item(3), "type_style": "short"}, item(5), item(8, url="https://old.example")]
    everything = make_plan(specs, actual, prune=True)
    assert [(a.kind, a.webhook_id) for a in everything.actions] == [
        ("update", 3),
        ("delete", 5),
        ("create", None),
        ("delete", 8),
    ]
    assert plan_id(everything, KEY, account=ACCOUNT) == "plan-1ff0ecdb1bd5bdae37fc2ea3"
    assert plan_id(make_plan([], []), KEY, account=ACCOUNT) == "plan-cc40e6bfcc3287c36eb6568e"
    removal = plan_removal(parse_specs([BODY]), actual)
    assert plan_id(removal, KEY, account=ACCOUNT) == "plan-44dd3be23f874aaf9115e120"


def test_plan_id_ignores_what_the_plan_does_not_touch_and_the_order_of_specs():
    specs = [BODY, {"url": "https://b.example/x", "event": "destroy"}]
    account = [item(1)]
    base = fingerprint(specs, account)
    assert base == fingerprint(list(reversed(specs)), account)
    assert base == fingerprint(specs, [*account, item(7, url="https://unrelated.example")])  # not pruned
    assert fingerprint([BODY], [item(1)]) == fingerprint([], [])  # nothing to do is nothing to do


def test_plan_id_says_nothing_of_secret_values():
    from airflow_provider_plusofon.webhooks.plan import plan_changes as make_plan
    from airflow_provider_plusofon.webhooks.plan import plan_id

    result = make_plan(parse_specs([{**BODY, "headers": HEADER}]), [])
    # Without the key, even a guess of the secret cannot be confirmed from the id.
    assert plan_id(result, KEY, account=ACCOUNT) != plan_id(
        result, b"another key of 32 bytes, really!", account=ACCOUNT
    )


def test_plan_id_binds_the_account_it_was_made_for():
    # The same plan of the same state on staging (Client ID A) and production (Client ID B).
    from airflow_provider_plusofon.webhooks.plan import plan_changes as make_plan
    from airflow_provider_plusofon.webhooks.plan import plan_id

    result = make_plan(parse_specs([BODY]), [])
    staging = plan_id(result, KEY, account="111@https://restapi.plusofon.ru")
    assert staging == plan_id(result, KEY, account="111@https://restapi.plusofon.ru")
    assert staging != plan_id(result, KEY, account="222@https://restapi.plusofon.ru")
    assert staging != plan_id(result, KEY, account="111@https://staging.example")


def test_a_stale_approved_plan_id_writes_nothing(client, requests_mock):
    requests_mock.get(LIST_URL, json=paginator([item(1, url="https://old.example")], 1, 1))
    plan = plan_account(client, parse_specs([BODY]), prune=True)
    reviewed = apply_plan(client, plan, dry_run=True)["plan_id"]
    with pytest.raises(StalePlanError, match="nothing was written") as caught:
        apply_plan(client, plan, approved_plan_id="plan-000000000000000000000000")
    assert caught.value.plan_id == reviewed
    assert "+ create" in caught.value.plan and "- delete" in caught.value.plan
    # the listing, and the second read that confirms it (the plan creates and deletes): no write
    assert [r.method for r in requests_mock.request_history] == ["GET", "GET"]


def test_the_summary_carries_the_plan_table_a_reviewer_reads(client, requests_mock):
    secret_header = {"name": "X-Key", "value": "summary-secret-77"}
    requests_mock.get(LIST_URL, json=paginator([item(1, url="https://old.example")], 1, 1))
    plan = plan_account(client, parse_specs([{**BODY, "headers": [secret_header]}]), prune=True)
    summary = apply_plan(client, plan, dry_run=True)
    assert summary["plan_text"].splitlines()[0] == (
        "Plusofon webhook plan (dry run: nothing will be written): 1 to create, 0 to update, 1 to delete, 0 unchanged"
    )
    assert f"+ create  {BODY['url']} event={BODY['event']}" in summary["plan_text"]
    assert "- delete  #1 https://old.example" in summary["plan_text"]
    assert "summary-secret-77" not in json.dumps(summary)
