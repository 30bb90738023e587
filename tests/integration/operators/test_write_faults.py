"""Issue 24: every write of EnsureWebhooksOperator (POST, PUT, DELETE) failing or losing its answer,
on accounts of 0 to 3 pages: no duplicate, nothing deleted after a failed update, every write that
went through reported."""

from __future__ import annotations

import pytest

from airflow_provider_plusofon.exceptions import PartialApplyError
from airflow_provider_plusofon.operators.webhooks import EnsureWebhooksOperator

pytestmark = pytest.mark.integration

CRM = "https://crm.example.com/plusofon/calls"
SIZES = [0, 14, 15, 40]  # empty, one page short, one full page, three pages


def others(n: int) -> list[dict]:
    return [{"url": f"https://other.example.com/{i}", "event": "answer"} for i in range(n)]


def wanted(count: int) -> list[dict]:
    return [{"url": f"{CRM}/{i}", "event": "create", "type_call": "inbound"} for i in range(count)]


def ensure(specs: list[dict], **kwargs) -> dict:
    return EnsureWebhooksOperator(task_id="ensure", webhooks=specs, **kwargs).execute(context={})


def writes(emulator, method: str) -> list[str]:
    return [r["path"] for r in emulator.requests(method)]


def declared(emulator) -> list[str]:
    return sorted(w["url"] for w in emulator.webhooks() if w["url"].startswith(CRM))


@pytest.mark.parametrize("existing", SIZES)
@pytest.mark.parametrize(("batch", "lost"), [(1, 0), (1, 1), (3, 0), (3, 2), (3, 3)], ids=lambda v: str(v))
def test_posts_whose_answers_are_lost_after_the_store_make_no_duplicate(emulator_conn, existing, batch, lost):
    emulator_conn.seed(others(existing))
    if lost:
        emulator_conn.inject("drop_after_store", method="POST", count=lost)
    summary = ensure(wanted(batch))
    assert sorted(c["url"] for c in summary["created"]) == sorted(s["url"] for s in wanted(batch))
    assert all(isinstance(c["id"], int) for c in summary["created"])  # every id found, on any page
    assert declared(emulator_conn) == sorted(s["url"] for s in wanted(batch))
    assert len(writes(emulator_conn, "POST")) == batch  # none sent twice


@pytest.mark.parametrize("existing", SIZES)
@pytest.mark.parametrize(("batch", "lost"), [(1, 1), (3, 1), (3, 3)], ids=lambda v: str(v))
def test_posts_that_a_lagging_store_has_not_stored_yet_are_never_sent_again(emulator_conn, existing, batch, lost):
    emulator_conn.seed(others(existing))
    emulator_conn.inject("lagging_store", method="POST", count=lost, held=True)
    with pytest.raises(PartialApplyError, match="create outcome unknown") as caught:
        ensure(wanted(batch))
    assert len(caught.value.done["created"]) == batch - lost
    assert emulator_conn.state.release_held() == lost  # stored after the run gave up on them
    emulator_conn.state.clear_requests()
    rerun = ensure(wanted(batch))
    assert rerun["created"] == [] and len(rerun["unchanged"]) == batch
    assert writes(emulator_conn, "POST") == []
    assert declared(emulator_conn) == sorted(s["url"] for s in wanted(batch))


@pytest.mark.parametrize("existing", [1, 14, 15, 40])  # at least one to prune
def test_a_failed_update_blocks_every_delete(emulator_conn, existing):
    emulator_conn.seed([*others(existing), {"url": f"{CRM}/0", "event": "create", "type_call": "inbound"}])
    specs = [{**wanted(1)[0], "type_style": "short"}, *others(existing)[:-1]]  # one to update, one to prune
    emulator_conn.inject("status", status=500, method="PUT", count=10)  # beyond the retries
    with pytest.raises(PartialApplyError) as caught:
        ensure(specs, prune=True, max_deletes=None)
    assert caught.value.done == {"created": [], "updated": [], "deleted": []}
    assert any("update #" in failure for failure in caught.value.failures)
    assert writes(emulator_conn, "DELETE") == []  # an update failed: nothing is deleted
    assert len(emulator_conn.webhooks()) == existing + 1


@pytest.mark.parametrize("existing", [15, 40])
def test_deletes_that_went_through_are_reported_with_the_one_that_failed(emulator_conn, existing):
    seeded = emulator_conn.seed(others(existing))
    keep = [{k: w[k] for k in ("url", "event")} for w in seeded[:-3]]  # prune the last three
    doomed = [w["id"] for w in seeded[-3:]]
    emulator_conn.inject("status", status=500, method="DELETE", path=f"/api/v1/webhooks/{doomed[1]}", count=10)
    with pytest.raises(PartialApplyError) as caught:
        ensure(keep, prune=True)
    assert sorted(d["id"] for d in caught.value.done["deleted"]) == [doomed[0], doomed[2]]
    assert [f for f in caught.value.failures if f.startswith("delete")] == [
        next(f for f in caught.value.failures if f"#{doomed[1]}" in f)
    ]
    assert sorted(w["id"] for w in emulator_conn.webhooks()) == [*(w["id"] for w in seeded[:-3]), doomed[1]]


@pytest.mark.parametrize("existing", [0, 40])
def test_a_post_answered_200_with_no_json_is_an_unknown_outcome_never_resent(emulator_conn, existing):
    emulator_conn.seed(others(existing))
    emulator_conn.inject("status", status=200, html=True, method="POST")  # a proxy's page, nothing stored
    with pytest.raises(PartialApplyError, match="create outcome unknown"):
        ensure(wanted(1))
    assert len(writes(emulator_conn, "POST")) == 1
    assert declared(emulator_conn) == []
