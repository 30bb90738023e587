"""The reconciliation core: plan_changes() for every case, with plain data and no I/O."""

from __future__ import annotations

import json

import pytest

from airflow_provider_plusofon.webhooks.plan import detail_ids, plan_changes, plan_removal, with_details
from airflow_provider_plusofon.webhooks.render import render_plan
from airflow_provider_plusofon.webhooks.spec import parse_specs

A = "https://crm.example.com/calls"
B = "https://bi.example.com/ended"


def webhook(webhook_id, url=A, event="create", type_call="inbound", **detail):
    return {"id": webhook_id, "url": url, "event": event, "type_call": type_call, "type": "lk", **detail}


def test_missing_webhook_is_created():
    result = plan_changes(parse_specs([{"url": A, "event": "create"}]), [])
    [action] = result.actions
    assert action.kind == "create"
    assert action.body() == {"url": A, "event": "create"}
    assert "no webhook has this url and event" in action.reason


def test_matching_webhook_is_unchanged():
    result = plan_changes(parse_specs([{"url": A, "event": "create", "type_call": "inbound"}]), [webhook(1)])
    assert [(a.kind, a.webhook_id) for a in result.actions] == [("unchanged", 1)]
    assert not result.has_changes


def test_drifted_field_is_an_update_with_a_field_diff_and_full_body():
    specs = parse_specs([{"url": A, "event": "create", "type_style": "long"}])
    current = webhook(1, type_style="short", headers=[{"name": "X-Keep", "value": "k"}], template=None)
    [action] = plan_changes(specs, [current]).actions
    assert action.kind == "update"
    assert action.changes == {"type_style": ("short", "long")}
    assert action.body() == {
        "url": A,
        "event": "create",
        "type_call": "inbound",
        "type_style": "long",
        "headers": [{"name": "X-Keep", "value": "k"}],
    }


def test_list_order_is_not_drift_but_a_new_item_is():
    specs = parse_specs(
        [{"url": A, "event": "create", "params": [{"name": "a", "value": "1"}, {"name": "b", "value": "2"}]}]
    )
    same = webhook(1, params=[{"name": "b", "value": "2"}, {"name": "a", "value": "1"}])
    assert plan_changes(specs, [same]).actions[0].kind == "unchanged"
    more = webhook(1, params=[{"name": "a", "value": "1"}, {"name": "b", "value": "2"}, {"name": "c", "value": "3"}])
    action = plan_changes(specs, [more]).actions[0]
    assert action.kind == "update"
    # param values can be credentials: a change names the params, never their values
    assert action.describe()["changes"]["params"] == {"added": [], "removed": ["c"], "changed": []}


def test_unmanaged_fields_do_not_cause_updates():
    specs = parse_specs([{"url": A, "event": "create"}])
    current = webhook(1, type_style="short", headers=[{"name": "X", "value": "y"}], template="t")
    assert plan_changes(specs, [current]).actions[0].kind == "unchanged"


def test_without_prune_nothing_is_deleted():
    specs = parse_specs([{"url": A, "event": "create"}])
    result = plan_changes(specs, [webhook(1), webhook(2, url=B)])
    assert result.deletes == []


def test_prune_deletes_undeclared_webhooks_only():
    specs = parse_specs([{"url": A, "event": "create"}])
    result = plan_changes(specs, [webhook(1), webhook(2, url=B)], prune=True)
    assert [(a.kind, a.webhook_id, a.reason) for a in result.deletes] == [(("delete"), 2, "not declared in any spec")]


def test_duplicates_are_reported_and_pruned_keeping_the_matching_one():
    specs = parse_specs([{"url": A, "event": "create", "type_style": "long"}])
    actual = [webhook(3, type_style="short"), webhook(5, type_style="long"), webhook(7, type_style="long")]
    result = plan_changes(specs, actual)
    assert result.duplicates == {f"spec #0 ({A} create)": (3, 5, 7)}
    assert [(a.kind, a.webhook_id) for a in result.actions] == [("unchanged", 5)]
    pruned = plan_changes(specs, actual, prune=True)
    assert [(a.kind, a.webhook_id) for a in pruned.actions] == [
        ("unchanged", 5),
        ("delete", 3),
        ("delete", 7),
    ]
    assert pruned.deletes[0].reason.startswith("duplicate of #5")


def test_duplicates_that_all_differ_keep_the_lowest_id():
    specs = parse_specs([{"url": A, "event": "create", "type_style": "long"}])
    actual = [webhook(9, type_style="short"), webhook(4, type_style="short")]
    [action] = plan_changes(specs, actual).actions
    assert (action.kind, action.webhook_id) == ("update", 4)


def test_detail_ids_only_for_specs_managing_detail_fields():
    listing = [webhook(1), webhook(2, url=B), webhook(3, event="answer")]
    list_only = parse_specs([{"url": A, "event": "create"}, {"url": B, "event": "create"}])
    assert detail_ids(list_only, listing) == []
    detailed = parse_specs([{"url": A, "event": "create", "headers": []}, {"url": B, "event": "create"}])
    assert detail_ids(detailed, listing) == [1]


def test_with_details_merges_detail_views():
    merged = with_details([webhook(1), webhook(2)], {1: {"id": 1, "headers": [{"name": "X", "value": "y"}]}})
    assert merged[0]["headers"] == [{"name": "X", "value": "y"}]
    assert "headers" not in merged[1]


def test_summary_is_json_and_never_contains_header_values():
    specs = parse_specs(
        [
            {"url": A, "event": "create", "headers": [{"name": "X-Token", "value": "new-secret-value"}]},
            {"url": B, "event": "destroy", "headers": [{"name": "X-Token", "value": "another-secret"}]},
        ]
    )
    actual = [
        webhook(
            1,
            headers=[
                {"name": "X-Token", "value": "old-secret-value"},
                {"name": "X-Gone", "value": "gone-secret"},
            ],
        )
    ]
    result = plan_changes(specs, actual)
    summary = result.summary(dry_run=True)
    text = json.dumps(summary)
    for secret in ("new-secret-value", "another-secret", "old-secret-value", "gone-secret"):
        assert secret not in text
        assert secret not in render_plan(result)
    assert summary["updated"][0]["changes"] == {"headers": {"added": [], "removed": ["X-Gone"], "changed": ["X-Token"]}}
    assert summary["created"] == [
        {
            "id": None,
            "url": B,
            "event": "destroy",
            "type_call": None,
            "changes": {
                "url": {"before": None, "after": B},
                "event": {"before": None, "after": "destroy"},
                "headers": {"added": ["X-Token"], "removed": [], "changed": []},
            },
        }
    ]
    assert summary["dry_run"] is True


def test_requirements_view():
    specs = parse_specs(
        [
            {"url": A, "event": "create", "headers": [{"name": "X-Key", "value": "k"}]},
            {"url": B, "event": "destroy"},
            {"url": A, "event": "answer"},
        ]
    )
    actual = [webhook(1, headers=[]), webhook(2, url=B, event="destroy")]
    status = plan_changes(specs, actual).requirements()
    assert sorted(status) == ["all_satisfied", "different", "duplicates", "missing", "satisfied"]
    assert [s["id"] for s in status["satisfied"]] == [2]
    assert [(m["url"], m["event"]) for m in status["missing"]] == [(A, "answer")]
    assert status["missing"][0]["reason"] == "no webhook has this url and event"
    assert status["duplicates"] == {}
    assert status["different"][0]["changes"] == {"headers": {"added": ["X-Key"], "removed": [], "changed": []}}
    assert status["all_satisfied"] is False


def test_a_url_password_never_reaches_the_summary_or_the_table():
    secret_url = "https://crm:pa55-w0rd@crm.example.com/calls"
    specs = parse_specs([{"url": secret_url, "event": "create"}, {"url": A, "event": "destroy", "type_style": "long"}])
    actual = [webhook(1, url="https://crm:old-pa55@crm.example.com/old", event="answer"), webhook(2, event="destroy")]
    result = plan_changes(specs, actual, prune=True)
    shown = json.dumps(result.summary(dry_run=True)) + render_plan(result) + json.dumps(result.requirements())
    assert "pa55-w0rd" not in shown
    assert "old-pa55" not in shown
    assert "https://***@crm.example.com/calls" in shown
    assert "crm:" not in shown.replace("https://crm.", "")


def test_removal_deletes_every_webhook_with_the_identity():
    specs = parse_specs([{"url": A, "event": "create"}])
    result = plan_removal(specs, [webhook(4), webhook(2), webhook(3, url=B)])
    assert [(a.kind, a.webhook_id) for a in result.actions] == [("delete", 2), ("delete", 4)]
    assert [a.spec for a in result.actions] == [specs[0], specs[0]]
    assert [a.reason for a in result.actions] == [f"spec #0 ({A} create) must be absent"] * 2
    assert result.duplicates == {f"spec #0 ({A} create)": (2, 4)}
    assert result.observed_ids == {2, 3, 4}


def test_removal_of_several_specs_deletes_for_each():
    specs = parse_specs([{"url": A, "event": "create"}, {"url": B, "event": "destroy"}])
    result = plan_removal(specs, [webhook(4), webhook(3, url=B, event="destroy")])
    assert [(a.kind, a.webhook_id) for a in result.actions] == [("delete", 4), ("delete", 3)]
    assert result.duplicates == {}


def test_requirements_name_the_duplicates_of_a_satisfied_spec():
    status = plan_changes(parse_specs([{"url": A, "event": "create"}]), [webhook(5), webhook(2)]).requirements()
    assert [s["id"] for s in status["satisfied"]] == [2]
    assert status["duplicates"] == {f"spec #0 ({A} create)": [2, 5]}
    assert status["all_satisfied"] is True


def test_a_change_of_fields_shows_both_lists_as_the_api_carries_them():
    from airflow_provider_plusofon.webhooks.plan import describe_change

    before, after = (("from", "src"),), (("from", "src"), ("to", "dest"))
    assert describe_change("fields", before, after) == {
        "before": [{"before": "from", "after": "src"}],
        "after": [{"before": "from", "after": "src"}, {"before": "to", "after": "dest"}],
    }
    assert describe_change("params", (("a", "1"),), (("a", "2"), ("b", "3"))) == {
        "added": ["b"],
        "removed": [],
        "changed": ["a"],
    }
    assert describe_change("url", "https://u:p@a.example/x", A) == {"before": "https://***@a.example/x", "after": A}
    assert describe_change("template", None, "t") == {"before": None, "after": "t"}


def test_the_deletion_of_an_undeclared_webhook_has_no_body():
    [delete] = plan_changes([], [webhook(4)], prune=True).deletes
    with pytest.raises(ValueError, match=r"^a delete of an undeclared webhook has no body$"):
        delete.body()


def test_every_action_says_why_in_words():
    specs = parse_specs(
        [
            {"url": A, "event": "create", "type_call": "inbound", "type_style": "long", "template": "t"},
            {"url": B, "event": "destroy"},
            {"url": B, "event": "answer", "type_call": "all"},
            {"url": A, "event": "answer"},
        ]
    )
    actual = [
        webhook(7, type_style="short", template=None),
        webhook(2, url=B, event="destroy"),
        webhook(9, url=B, event="destroy"),
        webhook(4, url="https://old.example"),
    ]
    result = plan_changes(specs, actual, prune=True)
    assert [(a.kind, a.webhook_id, a.reason) for a in result.actions] == [
        ("update", 7, "type_style, template differ"),
        ("unchanged", 2, "matches every managed field"),
        ("delete", 9, f"duplicate of #2 (spec #1 ({B} destroy))"),
        ("create", None, "no webhook has this url, event and type_call"),
        ("create", None, "no webhook has this url and event"),
        ("delete", 4, "not declared in any spec"),
    ]
    assert result.actions[3].changes == {
        "url": (None, B),
        "event": (None, "answer"),
        "type_call": (None, "all"),
    }
    assert result.observed_ids == {2, 4, 7, 9}
    assert [a.spec for a in result.actions[:3]] == [specs[0], specs[1], specs[1]]
    assert result.actions[5].spec is None
    assert [d["reason"] for d in result.summary(dry_run=True)["deleted"]] == [
        f"duplicate of #2 (spec #1 ({B} destroy))",
        "not declared in any spec",
    ]


def test_ids_are_ordered_as_numbers_so_the_lowest_is_kept():
    result = plan_changes(parse_specs([{"url": A, "event": "create"}]), [webhook(10), webhook(9)], dedupe=True)
    assert [(a.kind, a.webhook_id) for a in result.actions] == [("unchanged", 9), ("delete", 10)]
