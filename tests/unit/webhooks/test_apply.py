"""apply_plan() and ensure_webhooks() write by write: order, what is reported done, every failure's
line, the guards' messages and their boundaries, and the lines the task log shows."""

from __future__ import annotations

import pytest

from airflow_provider_plusofon.api import PlusofonClient, PlusofonConnectionConfig
from airflow_provider_plusofon.exceptions import (
    AmbiguousWebhookError,
    PartialApplyError,
    StalePlanError,
    UnsafePlanError,
)
from airflow_provider_plusofon.webhooks.reconcile import (
    apply_plan,
    check_prune,
    ensure_webhook,
    ensure_webhooks,
    plan_account,
    plan_by_id,
    plan_one,
)
from airflow_provider_plusofon.webhooks.render import render_plan
from airflow_provider_plusofon.webhooks.spec import parse_spec, parse_specs
from tests.conftest import BASE, CLIENT_ID, TOKEN
from tests.conftest import LogLines as Lines
from tests.unit.api.test_webhooks import LIST_URL, item, paginator

KEEP = "https://crm.example.com/keep"
NEW = "https://crm.example.com/new"
OLD = "https://old.example.com/gone"
DECLARED = [
    {"url": KEEP, "event": "create", "type_call": "inbound", "type_style": "long"},
    {"url": NEW, "event": "create", "type_call": "inbound"},
]
# #3 drifted (an update), #5 is not declared (a delete with prune), NEW is missing (a create).
ACCOUNT = [item(3, url=KEEP, type_style="short"), item(5, url=OLD)]


@pytest.fixture
def client() -> PlusofonClient:
    config = PlusofonConnectionConfig(base_url=BASE, client_id=CLIENT_ID, token=TOKEN, timeout=3, max_retries=0)
    return PlusofonClient(config, max_workers=1)


def serve(requests_mock, before: list[dict], after: list[dict] | None = None) -> None:
    """The account as listed before the writes (twice: read and confirm), then after them; and the
    detail view of each webhook it held before."""
    for webhook in before:
        requests_mock.get(f"{LIST_URL}/{webhook['id']}", json=webhook)
    pages = [paginator(before, 1, 1, per_page=15, total=len(before))] * 2
    if after is not None:
        pages.append(paginator(after, 1, 1, per_page=15, total=len(after)))
    requests_mock.get(LIST_URL, [{"json": page} for page in pages])


def writes(requests_mock) -> list[str]:
    return [f"{r.method} {r.path}" for r in requests_mock.request_history if r.method != "GET"]


def test_updates_then_creates_then_deletes_and_each_is_reported_done(client, requests_mock):
    serve(requests_mock, ACCOUNT, [*ACCOUNT, item(9, url=NEW)])
    requests_mock.put(f"{LIST_URL}/3", json={"success": True})
    requests_mock.post(LIST_URL, json={"success": True})
    requests_mock.delete(f"{LIST_URL}/5", json={"success": True})
    log = Lines()
    summary = ensure_webhooks(client, parse_specs(DECLARED), prune=True, log=log)
    assert writes(requests_mock) == ["PUT /api/v1/webhooks/3", "POST /api/v1/webhooks", "DELETE /api/v1/webhooks/5"]
    assert [c["id"] for c in summary["created"]] == [9]
    assert [u["id"] for u in summary["updated"]] == [3]
    assert [d["id"] for d in summary["deleted"]] == [5]
    assert summary["unchanged"] == []
    assert log.lines[1] == "Plusofon webhooks ensured: 1 created, 1 updated, 1 deleted, 0 unchanged"
    assert log.lines[0] == summary["plan_text"]
    assert "+ create" in log.lines[0] and "~ update" in log.lines[0] and "- delete" in log.lines[0]


def test_a_dry_run_logs_the_plan_as_planned_and_writes_nothing(client, requests_mock):
    serve(requests_mock, ACCOUNT)
    log = Lines()
    summary = ensure_webhooks(client, parse_specs(DECLARED), prune=True, dry_run=True, log=log)
    assert writes(requests_mock) == []
    assert log.lines == [
        render_plan(plan_account(client, parse_specs(DECLARED), prune=True), dry_run=True),
        "Plusofon webhooks dry run, nothing written: would create 1, update 1, delete 1; 0 unchanged",
    ]
    assert summary["dry_run"] is True


def test_nothing_to_do_is_logged_as_all_unchanged_and_nothing_is_pruned_unasked(client, requests_mock):
    serve(requests_mock, [item(3, url=KEEP, type_style="long"), item(5, url=OLD)])
    log = Lines()
    ensure_webhooks(client, parse_specs(DECLARED[:1]), log=log)
    assert log.lines[1] == "Plusofon webhooks ensured: 0 created, 0 updated, 0 deleted, 1 unchanged"
    assert writes(requests_mock) == []


UPDATE_FAILS = (
    {"status_code": 422, "json": {"message": "invalid", "errors": {"type_style": ["no"]}}},
    {"json": {"success": True}},
    "update #3 spec #0 (https://crm.example.com/keep create inbound): PUT /api/v1/webhooks/3 failed "
    "(HTTP 422): invalid [type_style: no]",
    {"created": [9], "updated": [], "deleted": []},
)
CREATE_FAILS = (
    {"json": {"success": True}},
    {"status_code": 422, "json": {"message": "invalid", "errors": {"url": ["taken"]}}},
    "create spec #1 (https://crm.example.com/new create inbound): POST /api/v1/webhooks failed (HTTP 422): "
    "invalid [url: taken]",
    {"created": [], "updated": [3], "deleted": []},
)


@pytest.mark.parametrize(("put", "post", "failure", "done"), [UPDATE_FAILS, CREATE_FAILS], ids=["update", "create"])
def test_a_failed_update_or_create_blocks_the_deletes_and_names_what_failed(
    client, requests_mock, put, post, failure, done
):
    serve(requests_mock, ACCOUNT, [*ACCOUNT, item(9, url=NEW)])
    requests_mock.put(f"{LIST_URL}/3", **put)
    requests_mock.post(LIST_URL, **post)
    with pytest.raises(PartialApplyError) as caught:
        ensure_webhooks(client, parse_specs(DECLARED), prune=True, log=Lines())
    assert writes(requests_mock) == ["PUT /api/v1/webhooks/3", "POST /api/v1/webhooks"]
    assert caught.value.failures == [failure]
    assert {kind: [c["id"] for c in changes] for kind, changes in caught.value.done.items()} == done
    applied = "1 created" if done["created"] else "1 updated"
    assert str(caught.value).startswith(f"1 change(s) failed; already applied: {applied}. Re-run the task to converge.")


def test_a_failed_delete_is_reported_with_the_deletes_that_went_through(client, requests_mock):
    gone = [item(5, url=OLD), item(6, url=OLD + "/2"), item(7, url=OLD + "/3")]
    serve(requests_mock, gone)
    requests_mock.delete(f"{LIST_URL}/5", json={"success": True})
    requests_mock.delete(f"{LIST_URL}/6", status_code=422, json={"message": "locked"})
    requests_mock.delete(f"{LIST_URL}/7", status_code=404, json={"message": "Not Found"})  # gone already: done
    with pytest.raises(PartialApplyError) as caught:
        ensure_webhooks(client, [], prune=True, allow_empty=True, log=Lines())
    assert caught.value.failures == ["delete #6: DELETE /api/v1/webhooks/6 failed (HTTP 422): locked"]
    assert [d["id"] for d in caught.value.done["deleted"]] == [5, 7]
    assert str(caught.value).startswith("1 change(s) failed; already applied: 2 deleted.")


def test_pruning_with_no_specs_is_refused_before_any_request_unless_allowed(client, requests_mock):
    message = (
        "prune=True with no specs would delete every webhook on the account; "
        "pass allow_empty=True if that is what you want"
    )
    with pytest.raises(UnsafePlanError) as caught:
        ensure_webhooks(client, [], prune=True)
    assert str(caught.value) == message
    assert requests_mock.request_history == []
    check_prune([], prune=False, allow_empty=False)  # nothing is deleted without prune
    check_prune([], prune=True, allow_empty=True)
    check_prune(parse_specs(DECLARED), prune=True, allow_empty=False)


def test_max_deletes_allows_exactly_as_many_and_refuses_one_more(client, requests_mock):
    serve(requests_mock, [item(5, url=OLD), item(6, url=OLD + "/2")])
    plan = plan_account(client, [], prune=True)
    assert len(apply_plan(client, plan, dry_run=True, max_deletes=2)["deleted"]) == 2
    with pytest.raises(UnsafePlanError) as caught:
        apply_plan(client, plan, dry_run=True, max_deletes=1)
    assert str(caught.value) == "the plan deletes 2 webhooks, more than max_deletes=1; nothing was written"


def test_a_webhook_pinned_by_id_is_updated_kept_or_deleted(client, requests_mock):
    spec = parse_spec(DECLARED[0])
    requests_mock.get(f"{LIST_URL}/3", json=item(3, url=KEEP, type_style="short"))
    [update] = plan_by_id(client, spec, 3).actions
    assert (update.kind, update.webhook_id, update.reason) == ("update", 3, "type_style differ")
    assert update.changes == {"type_style": ("short", "long")}
    [delete] = plan_by_id(client, spec, 3, absent=True).actions
    assert (delete.kind, delete.reason, delete.spec) == ("delete", "#3 must be absent", spec)
    assert plan_by_id(client, spec, 3).observed_ids == frozenset({3})
    requests_mock.get(f"{LIST_URL}/3", json=item(3, url=KEEP, type_style="long"))
    [kept] = plan_by_id(client, spec, 3).actions
    assert (kept.kind, kept.reason, kept.changes) == ("unchanged", "matches", {})
    requests_mock.get(f"{LIST_URL}/3", json=item(3, url=KEEP, type_style="short", template="t"))
    two = parse_spec({**DECLARED[0], "template": None})
    [update] = plan_by_id(client, two, 3).actions
    assert update.reason == "type_style, template differ"


def test_ensure_webhook_by_id_writes_only_that_webhook(client, requests_mock):
    requests_mock.get(f"{LIST_URL}/3", json=item(3, url=KEEP, type_style="short"))
    requests_mock.put(f"{LIST_URL}/3", json={"success": True})
    log = Lines()
    summary = ensure_webhook(client, parse_spec(DECLARED[0]), webhook_id=3, log=log)
    assert writes(requests_mock) == ["PUT /api/v1/webhooks/3"]
    assert requests_mock.request_history[-1].json()["type_style"] == "long"
    assert [u["id"] for u in summary["updated"]] == [3]
    assert log.lines == [summary["plan_text"]]


def test_ensure_webhook_by_identity_dry_run_writes_nothing_and_logs_a_dry_run(client, requests_mock):
    serve(requests_mock, [item(3, url=KEEP, type_style="short")])
    log = Lines()
    summary = ensure_webhook(client, parse_spec(DECLARED[0]), dry_run=True, log=log)
    assert writes(requests_mock) == []
    assert [u["id"] for u in summary["updated"]] == [3]
    assert log.lines == [summary["plan_text"]]
    assert log.lines[0].startswith("Plusofon webhook plan (dry run: nothing will be written): ")


def test_ensure_webhook_with_copies_deletes_none_unless_told(client, requests_mock):
    serve(requests_mock, [item(4, url=KEEP, type_style="long"), item(8, url=KEEP, type_style="long")])
    with pytest.raises(AmbiguousWebhookError):
        ensure_webhook(client, parse_spec(DECLARED[0]), log=Lines())
    assert writes(requests_mock) == []


def test_one_webhook_with_copies_names_them_and_the_way_out(client, requests_mock):
    serve(requests_mock, [item(4, url=KEEP, type_style="short"), item(8, url=KEEP, type_style="long")])
    spec = parse_spec(DECLARED[0])
    with pytest.raises(AmbiguousWebhookError) as present:
        plan_one(client, spec)
    assert str(present.value) == (
        "2 webhooks match spec #0 (https://crm.example.com/keep create inbound): #4, #8. "
        "Pass dedupe=True to keep #8 and delete the others, or name one with webhook_id."
    )
    with pytest.raises(AmbiguousWebhookError) as absent:
        plan_one(client, spec, absent=True)
    assert str(absent.value) == (
        "2 webhooks match spec #0 (https://crm.example.com/keep create inbound): #4, #8. "
        "Pass dedupe=True to delete them all, or name one with webhook_id."
    )


def test_a_plan_made_again_on_a_confirmed_read_fetches_each_detail_view_once(client, requests_mock):
    # Between the read and its confirmation another actor adds a twin of KEEP: the plan is made
    # again on what the next two agreeing reads hold, with #3's detail view already at hand.
    first = [item(3, url=KEEP)]
    confirmed = [item(3, url=KEEP), item(4, url=KEEP)]
    requests_mock.get(
        LIST_URL,
        [{"json": paginator(listing, 1, 1, per_page=15, total=len(listing))} for listing in (first, confirmed)],
    )
    requests_mock.get(f"{LIST_URL}/3", json={**item(3, url=KEEP), "type_style": "short"})
    requests_mock.get(f"{LIST_URL}/4", json={**item(4, url=KEEP), "type_style": "long"})
    plan = plan_account(client, parse_specs(DECLARED))
    assert [(a.kind, a.webhook_id) for a in plan.actions] == [("unchanged", 4), ("create", None)]
    assert plan.duplicates == {"spec #0 (https://crm.example.com/keep create inbound)": (3, 4)}
    assert [r.path for r in requests_mock.request_history] == [
        "/api/v1/webhooks",
        "/api/v1/webhooks/3",
        "/api/v1/webhooks",
        "/api/v1/webhooks",
        "/api/v1/webhooks/4",
    ]


def test_plan_account_deletes_nothing_unless_told_and_dedupe_can_be_turned_off(client, requests_mock):
    twins = [item(3, url=KEEP, type_style="long"), item(4, url=KEEP, type_style="long"), item(5, url=OLD)]
    serve(requests_mock, twins)
    specs = parse_specs(DECLARED[:1])
    assert plan_account(client, specs).deletes == []
    assert [a.webhook_id for a in plan_account(client, specs, prune=True).deletes] == [4, 5]
    assert [a.webhook_id for a in plan_account(client, specs, prune=True, dedupe=False).deletes] == [5]
    assert [a.webhook_id for a in plan_account(client, specs, dedupe=True).deletes] == [4]


def test_a_stale_approval_names_both_ids_and_shows_the_new_plan_as_a_dry_run(client, requests_mock):
    serve(requests_mock, ACCOUNT)
    plan = plan_account(client, parse_specs(DECLARED), prune=True)
    with pytest.raises(StalePlanError) as caught:
        apply_plan(client, plan, approved_plan_id="plan-000000000000000000000000")
    error = caught.value
    assert error.approved_plan_id == "plan-000000000000000000000000"
    assert error.plan == render_plan(plan, dry_run=True)
    assert error.plan.startswith("Plusofon webhook plan (dry run: nothing will be written): ")
    assert writes(requests_mock) == []
