"""Spec validation and normalisation: every rule, every problem reported at once."""

from __future__ import annotations

import json

import pytest

from airflow_provider_plusofon.exceptions import WebhookSpecError
from airflow_provider_plusofon.webhooks.spec import (
    load_spec_source,
    normalise,
    parse_spec,
    parse_specs,
)

GOOD = {"url": "https://crm.example.com/calls", "event": "create"}


def problems_of(raw_specs) -> list[str]:
    with pytest.raises(WebhookSpecError) as caught:
        parse_specs(raw_specs)
    return caught.value.problems


def test_minimal_spec_manages_only_what_it_names():
    spec = parse_spec(GOOD)
    assert spec.managed == {"url", "event"}
    assert spec.identity == ("https://crm.example.com/calls", "create", None)
    assert not spec.needs_detail


def test_full_spec_is_normalised():
    spec = parse_spec(
        {
            **GOOD,
            "type_call": "all",
            "type_style": "short",
            "fields": [{"before": "to", "after": "dest"}, {"before": "from", "after": "src"}],
            "headers": [{"name": "X-Key", "value": "k"}],
            "params": [],
            "template": None,
        }
    )
    assert spec.values["fields"] == (("from", "src"), ("to", "dest"))
    assert spec.values["params"] == ()
    assert spec.values["template"] is None
    assert "template" in spec.managed
    assert spec.needs_detail


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"event": "create"}, "field 'url': is required"),
        ({"url": "https://a.example"}, "field 'event': is required"),
        (
            {**GOOD, "url": "crm.example.com/calls"},
            "must be an absolute http(s) URL, got 'crm.example.com/calls'",
        ),
        ({**GOOD, "url": "ftp://a.example/x"}, "must be an absolute http(s) URL"),
        ({**GOOD, "url": 42}, "field 'url': must be a string, got an integer"),
        ({**GOOD, "event": "created"}, "field 'event': 'created' is not one of create, answer, destroy"),
        ({**GOOD, "type_call": "in"}, "field 'type_call': 'in' is not one of inbound, outbound, all"),
        ({**GOOD, "type_style": "tiny"}, "field 'type_style': 'tiny' is not one of long, short"),
        ({**GOOD, "template": 3}, "field 'template': must be a string or null, got an integer"),
        ({**GOOD, "colour": "red"}, "field 'colour': unknown field"),
        ({**GOOD, "headers": {"X": "y"}}, "field 'headers': must be a list"),
        ({**GOOD, "headers": [{"name": "X"}]}, "field 'headers': item 0 is missing 'value'"),
        (
            {**GOOD, "params": [{"name": "p", "value": 1}]},
            "field 'params': item 0 'value' must be a string, got an integer",
        ),
        ({**GOOD, "fields": [{"before": "a", "after": "b", "x": 1}]}, "item 0 has unknown key(s) 'x'"),
        ({**GOOD, "fields": ["to"]}, "item 0 must be a mapping"),
        ({**GOOD, "headers": [{"name": "X-A\r\nEvil: 1", "value": "v"}]}, "'name' must not contain CR or LF"),
        ({**GOOD, "headers": [{"name": "", "value": "v"}]}, "'name' must not be empty"),
        ("https://a.example", "must be a mapping of webhook fields"),
    ],
)
def test_each_rule_names_spec_field_and_value(raw, expected):
    problems = problems_of([raw])
    assert any(expected in p for p in problems), problems
    assert all(p.startswith("spec #0") for p in problems)


def test_header_value_with_newline_is_rejected_without_echoing_it():
    problems = problems_of([{**GOOD, "headers": [{"name": "X-Key", "value": "secret\nvalue"}]}])
    assert problems == [
        "spec #0 (https://crm.example.com/calls): field 'headers': item 0 'value' must not contain CR or LF"
    ]


def test_every_problem_is_reported_at_once():
    with pytest.raises(WebhookSpecError) as caught:
        parse_specs(
            [
                GOOD,
                {"url": "https://b.example", "event": "hangup", "type_call": "sideways"},
                {"event": "answer", "bogus": 1},
            ]
        )
    problems = caught.value.problems
    assert len(problems) == 4
    assert "spec #1 (https://b.example): field 'event': 'hangup'" in problems[0]
    assert "spec #1 (https://b.example): field 'type_call': 'sideways'" in problems[1]
    assert problems[2].startswith("spec #2: field 'bogus'")
    assert problems[3].startswith("spec #2: field 'url': is required")
    assert str(caught.value).startswith("4 problems in the webhook specs:")


def test_two_specs_with_the_same_identity_are_rejected():
    problems = problems_of([GOOD, {**GOOD, "type_style": "long"}])
    assert problems == [
        "spec #1 (https://crm.example.com/calls create): same identity as "
        "spec #0 (https://crm.example.com/calls create); one existing webhook would match both"
    ]


def test_spec_without_type_call_overlaps_one_with_it():
    assert problems_of([GOOD, {**GOOD, "type_call": "inbound"}])
    parse_specs([{**GOOD, "type_call": "inbound"}, {**GOOD, "type_call": "outbound"}])


def test_null_means_not_named_except_for_template():
    spec = parse_spec({**GOOD, "type_call": None, "headers": None, "template": None})
    assert spec.managed == {"url", "event", "template"}


def test_lists_compare_as_sets_and_missing_template_is_null():
    spec = parse_spec({**GOOD, "headers": [{"name": "B", "value": "2"}, {"name": "A", "value": "1"}], "template": None})
    existing = {
        **GOOD,
        "headers": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}, {"name": "A", "value": "1"}],
    }
    assert spec.diff(existing) == {}
    assert spec.diff({**existing, "template": "t"}) == {"template": ("t", None)}


def test_unmanaged_fields_never_compared():
    spec = parse_spec({**GOOD, "type_call": "inbound"})
    existing = {
        **GOOD,
        "type_call": "inbound",
        "type_style": "short",
        "headers": [{"name": "X", "value": "y"}],
    }
    assert spec.diff(existing) == {}


def test_identity_matching():
    spec = parse_spec(GOOD)
    assert spec.matches({**GOOD, "type_call": "outbound"})
    assert not spec.matches({**GOOD, "event": "answer"})
    typed = parse_spec({**GOOD, "type_call": "inbound"})
    assert not typed.matches({**GOOD, "type_call": "outbound"})


def test_body_keeps_unmanaged_fields_of_the_base_and_sets_managed_ones():
    spec = parse_spec({**GOOD, "type_call": "inbound", "type_style": "long"})
    base = {
        "id": 5,
        "type": "lk",
        **GOOD,
        "type_call": "inbound",
        "type_style": "short",
        "headers": [{"name": "X", "value": "y"}],
        "template": None,
    }
    assert spec.body(base) == {
        "url": GOOD["url"],
        "event": "create",
        "type_call": "inbound",
        "type_style": "long",
        "headers": [{"name": "X", "value": "y"}],
    }


def test_normalise_pairs():
    assert normalise("params", [{"name": "b", "value": "1"}, {"name": "a", "value": "2"}]) == (
        ("a", "2"),
        ("b", "1"),
    )
    assert normalise("params", None) == ()


def test_not_a_list_is_one_clear_error():
    with pytest.raises(WebhookSpecError, match="webhooks must be a list of specs"):
        parse_specs("https://a.example")


# -- sources -------------------------------------------------------------------------------------


def test_load_from_yaml_json_and_text(tmp_path):
    (tmp_path / "hooks.yaml").write_text("webhooks:\n  - url: https://a.example\n    event: create\n")
    (tmp_path / "hooks.json").write_text(json.dumps([{"url": "https://b.example", "event": "answer"}]))
    assert load_spec_source(str(tmp_path / "hooks.yaml")) == [{"url": "https://a.example", "event": "create"}]
    assert load_spec_source(tmp_path / "hooks.json") == [{"url": "https://b.example", "event": "answer"}]
    assert load_spec_source("- url: https://c.example\n  event: destroy\n") == [
        {"url": "https://c.example", "event": "destroy"}
    ]
    assert load_spec_source([GOOD]) == [GOOD]
    assert load_spec_source({"webhooks": [GOOD]}) == [GOOD]


def test_load_errors_are_spec_errors(tmp_path):
    with pytest.raises(WebhookSpecError, match="cannot read the spec file"):
        load_spec_source(str(tmp_path / "missing.yaml"))
    (tmp_path / "bad.json").write_text("{nope")
    with pytest.raises(WebhookSpecError, match="is not valid JSON"):
        load_spec_source(str(tmp_path / "bad.json"))
    with pytest.raises(WebhookSpecError, match="must be a list of specs, got an integer"):
        load_spec_source("42")
