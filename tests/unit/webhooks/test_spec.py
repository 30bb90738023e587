"""Spec validation and normalisation: every rule, every problem reported at once."""

from __future__ import annotations

import datetime
import json

import pytest

from airflow_provider_plusofon.exceptions import WebhookSpecError
from airflow_provider_plusofon.webhooks.spec import normalise, parse_spec, parse_specs
from airflow_provider_plusofon.webhooks.spec_files import load_spec_source

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
        ({**GOOD, "url": 42}, "field 'url': must be a string, got 42 (an integer)"),
        ({**GOOD, "event": "created"}, "field 'event': 'created' is not one of create, answer, destroy"),
        ({**GOOD, "type_call": "in"}, "field 'type_call': 'in' is not one of inbound, outbound, all"),
        ({**GOOD, "type_style": "tiny"}, "field 'type_style': 'tiny' is not one of long, short"),
        ({**GOOD, "template": 3}, "field 'template': must be a string or null, got 3"),
        ({**GOOD, "colour": "red"}, "field 'colour': unknown field"),
        ({**GOOD, "headers": {"X": "y"}}, "field 'headers': must be a list"),
        ({**GOOD, "headers": [{"name": "X"}]}, "field 'headers': item 0 is missing 'value'"),
        (
            {**GOOD, "params": [{"name": "p", "value": 1}]},
            "field 'params': item 0 'value' must be a string, got an integer",
        ),
        ({**GOOD, "fields": [{"before": "a", "after": "b", "x": 1}]}, "item 0 has unknown key(s) 'x'"),
        ({**GOOD, "fields": ["to"]}, "item 0 must be a mapping"),
        ({**GOOD, "headers": [{"name": "X-A\r\nEvil: 1", "value": "v"}]}, "'name' must not contain control characters"),
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
        "spec #0 (https://crm.example.com/calls): field 'headers': item 0 'value' must not contain control characters "
        "(CR, LF, tab, ...)"
    ]
    for char in ("\t", "\x00", "\x7f", "\x1b"):
        [problem] = problems_of([{**GOOD, "headers": [{"name": "X-Key", "value": f"sec{char}ret-9"}]}])
        assert "'value' must not contain control characters" in problem and "ret-9" not in problem


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


# -- hostile or broken specs ---------------------------------------------------------------------

SECRET = "hdr-secret-5c1e77"


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Auth": SECRET},
        SECRET,
        [SECRET],
        [{"name": "X-Auth", "value": [SECRET]}],
        [{"name": "X-Auth", "value": {"v": SECRET}}],
        [{"name": "X-Auth", "value": SECRET, SECRET: 1}],
        [{"name": ["X-Auth"], "value": SECRET}],
        [{"value": SECRET}],
        [{"name": "X-Auth", "value": f"{SECRET}\r\nX-Evil: 1"}],
    ],
)
def test_a_problem_in_headers_names_the_shape_never_the_value(headers):
    problems = problems_of([{**GOOD, "headers": headers, "params": headers}])
    assert problems
    assert all(SECRET not in problem for problem in problems), problems


def test_a_problem_names_the_url_without_its_password():
    problems = problems_of([{"url": "https://crm:pa55-w0rd@crm.example.com/calls", "event": "hangup"}])
    assert problems == [
        "spec #0 (https://***@crm.example.com/calls): field 'event': 'hangup' is not one of create, answer, destroy"
    ]
    problems = problems_of([{"url": "ftp://crm:pa55-w0rd@crm.example.com/calls", "event": "create"}])
    assert all("pa55-w0rd" not in problem for problem in problems)


def test_a_spec_that_is_not_a_mapping_is_described_by_its_shape():
    assert problems_of([f"https://u:{SECRET}@a.example"]) == [
        "spec #0: must be a mapping of webhook fields, got a string of 37 characters"
    ]


@pytest.mark.parametrize("name", ["type_call", "type_style"])
def test_an_empty_enum_field_is_a_problem_not_a_422_later(name):
    assert problems_of([{**GOOD, name: ""}]) == [
        f"spec #0 (https://crm.example.com/calls): field '{name}': must not be empty "
        "(leave the field out to leave it unmanaged)"
    ]


def test_a_malformed_url_is_one_problem_among_the_others():
    problems = problems_of(
        [
            {"url": "http://[::1", "event": "create"},
            {"url": "https://a.example:port/x", "event": "create"},
            {**GOOD, "event": "hangup"},
        ]
    )
    assert problems == [
        "spec #0 (http://[::1): field 'url': is not a valid URL, got 'http://[::1'",
        "spec #1 (https://a.example:port/x): field 'url': is not a valid URL, got 'https://a.example:port/x'",
        "spec #2 (https://crm.example.com/calls): field 'event': 'hangup' is not one of create, answer, destroy",
    ]


def test_a_yaml_file_whose_aliases_expand_beyond_the_bound_is_refused(tmp_path):
    # "Billion laughs": a few hundred bytes that stand for 10**9 values once walked.
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 10)}]" for n in range(1, 9)]
    lines.append("webhooks: *a8")
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text("\n".join(lines))
    assert bomb.stat().st_size < 1000
    with pytest.raises(WebhookSpecError, match="expands to more than 200000 values"):
        load_spec_source(str(bomb))


def test_a_yaml_file_with_a_few_anchors_is_fine(tmp_path):
    path = tmp_path / "anchors.yaml"
    path.write_text(
        "common: &headers [{name: X-Key, value: k}]\n"
        "webhooks:\n"
        "  - {url: 'https://a.example', event: create, headers: *headers}\n"
        "  - {url: 'https://a.example', event: destroy, headers: *headers}\n"
    )
    assert [spec.values["headers"] for spec in parse_specs(load_spec_source(str(path)))] == [(("X-Key", "k"),)] * 2


def test_a_spec_file_too_large_or_too_deep_is_a_spec_error(tmp_path, monkeypatch):
    from airflow_provider_plusofon.webhooks import spec_files as spec_module

    monkeypatch.setattr(spec_module, "MAX_SPEC_FILE_BYTES", 100)
    big = tmp_path / "big.yaml"
    big.write_text("webhooks: []\n" + "# padding\n" * 20)
    with pytest.raises(WebhookSpecError, match="larger than 100 bytes"):
        load_spec_source(str(big))
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    monkeypatch.setattr(spec_module, "MAX_SPEC_FILE_BYTES", 10**6)
    with pytest.raises(WebhookSpecError, match="is not valid JSON"):
        load_spec_source(str(deep))


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({**GOOD, "url": 42}, "field 'url': must be a string, got 42 (an integer)"),
        ({**GOOD, "url": True}, "field 'url': must be a string, got True (a boolean)"),
        (
            {**GOOD, "url": ["https://u:pw-list-secret@a.example"]},
            "field 'url': must be a string, got ['https://***@a.example'] (a list of 1 items)",
        ),
        ({**GOOD, "event": ["create"]}, "field 'event': ['create'] is not one of create, answer, destroy"),
        ({**GOOD, "event": 7}, "field 'event': 7 is not one of create, answer, destroy"),
        ({**GOOD, "type_call": {"in": 1}}, "field 'type_call': {'in': 1} is not one of inbound, outbound, all"),
        ({**GOOD, "type_style": 1.5}, "field 'type_style': 1.5 is not one of long, short"),
        ({**GOOD, "event": "x" * 200}, "field 'event': '" + "x" * 79 + "…"),
    ],
)
def test_a_bad_value_of_a_field_without_secrets_is_shown(raw, expected):
    [problem] = problems_of([raw])
    assert expected in problem
    assert "pw-list-secret" not in problem


@pytest.mark.parametrize(
    "char", ["\t", "\n", "\r", "\x00", "\x1b", "\x7f", "\x85", "\u2028", " ", "\xa0", "\u3000", "\x9f"]
)
def test_every_control_character_or_space_in_a_url_is_refused_without_its_password(char):
    [problem] = problems_of([{"url": f"https://crm:pw-ctl-secret@a.example/x{char}y", "event": "create"}])
    assert "field 'url': must not contain spaces or control characters" in problem
    assert "pw-ctl-secret" not in problem


@pytest.mark.parametrize("char", ["\u200b", "\u00ad", "\ufeff"])
def test_an_unprintable_character_that_is_no_space_or_control_is_allowed(char):
    # Format characters (zero-width space, soft hyphen, BOM): neither checks refuses them.
    [spec] = parse_specs(
        [{"url": f"https://a.example/x{char}y", "event": "create", "headers": [{"name": "X", "value": f"v{char}w"}]}]
    )
    assert spec.url == f"https://a.example/x{char}y"


def test_a_header_value_may_hold_spaces_of_any_kind():
    [spec] = parse_specs([{**GOOD, "headers": [{"name": "X-Key", "value": "a b\xa0c\u3000d"}]}])
    assert spec.body()["headers"] == [{"name": "X-Key", "value": "a b\xa0c\u3000d"}]


def test_a_spec_shows_no_secret_where_its_repr_is_shown():
    # Airflow 3.0's console renders a failing task's locals; a spec there must not show its secrets.
    from rich.pretty import pretty_repr

    [spec] = parse_specs(
        [
            {
                "url": "https://user:url-pass-77@crm.example.com/calls",
                "event": "create",
                "headers": [{"name": "X-Key", "value": "header-secret-77"}],
                "params": [{"name": "token", "value": "param-secret-77"}],
            }
        ]
    )
    for shown in (repr(spec), pretty_repr([spec]), str({"specs": [spec]})):
        assert "header-secret-77" not in shown and "param-secret-77" not in shown and "url-pass-77" not in shown
        assert "spec #0 (https://***@crm.example.com/calls create)" in shown and "headers" in shown


# -- one webhook as a task names it --------------------------------------------------------------


def test_a_target_is_present_and_found_by_identity_unless_told_otherwise():
    from airflow_provider_plusofon.webhooks.spec import parse_target

    spec, pinned = parse_target(GOOD)
    assert (spec.identity, pinned) == (("https://crm.example.com/calls", "create", None), None)
    assert parse_target(GOOD, state="absent", webhook_id="")[1] is None  # an empty template: by identity
    assert parse_target(GOOD, webhook_id="42")[1] == 42


def test_every_problem_of_a_target_is_named_at_once():
    from airflow_provider_plusofon.webhooks.spec import parse_target

    with pytest.raises(WebhookSpecError) as caught:
        parse_target({"url": "https://crm.example.com/calls", "event": "hangup"}, state="gone" * 20, webhook_id="x")
    state, webhook_id, event = caught.value.problems
    assert state == f"field 'state': {'gone' * 10!r} is not one of present, absent"
    assert webhook_id.startswith("field 'webhook_id': ")
    assert "'x'" in webhook_id
    assert (
        event
        == "spec #0 (https://crm.example.com/calls): field 'event': 'hangup' is not one of create, answer, destroy"
    )


def test_parse_spec_numbers_the_spec_as_told():
    assert parse_spec(GOOD).label == "spec #0 (https://crm.example.com/calls create)"
    assert parse_spec(GOOD, index=3).label == "spec #3 (https://crm.example.com/calls create)"
    with pytest.raises(WebhookSpecError) as caught:
        parse_spec({"url": "https://crm.example.com/calls"}, index=3)
    assert caught.value.problems == ["spec #3 (https://crm.example.com/calls): field 'event': is required"]


def test_a_spec_shows_its_label_and_managed_fields_never_its_values():
    spec = parse_spec({**GOOD, "type_call": "inbound", "headers": [{"name": "X-Key", "value": "s3cr3t"}]})
    assert repr(spec) == (
        "WebhookSpec(spec #0 (https://crm.example.com/calls create inbound), manages event, headers, type_call, url)"
    )


def test_specs_overlap_only_where_one_webhook_could_match_both():
    def spec(url: str = GOOD["url"], event: str = "create", type_call: str | None = None):
        return parse_spec({"url": url, "event": event, **({"type_call": type_call} if type_call else {})})

    assert spec().overlaps(spec(type_call="inbound"))
    assert spec(type_call="inbound").overlaps(spec())
    assert spec(type_call="inbound").overlaps(spec(type_call="inbound"))
    assert not spec(type_call="inbound").overlaps(spec(type_call="outbound"))
    assert not spec().overlaps(spec(url="https://crm.example.com/other"))
    assert not spec().overlaps(spec(event="answer"))


def test_a_problem_shows_at_most_120_characters_of_the_url():
    url = "https://crm.example.com/" + "a" * 200
    [problem] = problems_of([{"url": url}])
    assert problem == f"spec #0 ({url[:120]}): field 'event': is required"


def test_every_bad_pair_is_named_by_position_and_shape_never_by_value():
    headers = [
        "X-Key: s3cr3t",
        {"name": "X-A", "value": "v", "s3cr3t-misplaced": "v"},
        {"name": "", "value": 7},
        {"value": "v"},
        {"name": "X-B", "value": "line\nbreak"},
    ]
    fields = [{"before": "to", "after": "dest", "k" * 50: 1, "other": 2}]
    problems = problems_of([{**GOOD, "headers": headers, "fields": fields, "params": "a=b"}])
    where = "spec #0 (https://crm.example.com/calls): field"
    assert problems == [
        f"{where} 'fields': item 0 has unknown key(s) '{'k' * 40}', 'other'",
        f"{where} 'headers': item 0 must be a mapping with 'name' and 'value', got a string of 13 characters",
        f"{where} 'headers': item 1 has 1 unknown key(s); expected only 'name' and 'value'",
        f"{where} 'headers': item 2 'name' must not be empty",
        f"{where} 'headers': item 2 'value' must be a string, got an integer",
        f"{where} 'headers': item 3 is missing 'name'",
        f"{where} 'headers': item 4 'value' must not contain control characters (CR, LF, tab, ...)",
        f"{where} 'params': must be a list of {{name, value}} items, got a string of 3 characters",
    ]
    assert "s3cr3t" not in "".join(problems)


def test_a_body_keeps_a_copy_of_the_unmanaged_fields_not_the_webhook_itself():
    base = {**GOOD, "id": 3, "headers": [{"name": "X-Key", "value": "k"}], "fields": [{"before": "a", "after": "b"}]}
    body = parse_spec({**GOOD, "fields": []}).body(base=base)
    assert body == {**GOOD, "fields": [], "headers": [{"name": "X-Key", "value": "k"}]}
    body["headers"][0]["value"] = "changed"
    assert base["headers"] == [{"name": "X-Key", "value": "k"}]


KNOWN = "expected one of url, event, type_call, type_style, fields, headers, params, template"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            {"event": "", "type_call": "", "type_style": "tiny", "template": [1], "z" * 50: 1, 3: 2},
            [
                f"spec #0: field '3': unknown field ({KNOWN})",
                f"spec #0: field '{'z' * 40}': unknown field ({KNOWN})",
                "spec #0: field 'url': is required",
                "spec #0: field 'event': is required",
                "spec #0: field 'type_call': must not be empty (leave the field out to leave it unmanaged)",
                "spec #0: field 'type_style': 'tiny' is not one of long, short",
                "spec #0: field 'template': must be a string or null, got a list of 1 items",
            ],
        ),
        (
            {"url": "", "event": "hangup", "type_call": "x" * 100, "template": True},
            [
                "spec #0: field 'url': is required",
                "spec #0: field 'event': 'hangup' is not one of create, answer, destroy",
                f"spec #0: field 'type_call': '{'x' * 79}… is not one of inbound, outbound, all",
                "spec #0: field 'template': must be a string or null, got True",
            ],
        ),
        (
            {"url": ["https://u:p@a.example"], "event": None},
            [
                "spec #0: field 'event': is required",
                "spec #0: field 'url': must be a string, got ['https://***@a.example'] (a list of 1 items)",
            ],
        ),
        (
            {"url": "https://a.example", "event": "create", "colour": "red", "template": {"t": 1}},
            [
                f"spec #0 (https://a.example): field 'colour': unknown field ({KNOWN})",
                "spec #0 (https://a.example): field 'template': must be a string or null, got a mapping with keys 't'",
            ],
        ),
        (
            {"url": "https://a.example", "event": {"k" * 50: 1}},
            [f"spec #0 (https://a.example): field 'event': {{'{'k' * 40}': 1}} is not one of create, answer, destroy"],
        ),
        (
            {"url": "https://a.example", "event": "e" * 78},
            [f"spec #0 (https://a.example): field 'event': '{'e' * 78}' is not one of create, answer, destroy"],
        ),
        (
            {"url": {chr(97 + n): 1 for n in range(11)}, "event": "create"},
            [
                "spec #0: field 'url': must be a string, got "
                + repr({chr(97 + n): 1 for n in range(10)})
                + " (a mapping with keys 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j' and 1 more)"
            ],
        ),
        (
            {"url": "https://a.example", "event": datetime.date(2026, 12, 1)},
            ["spec #0 (https://a.example): field 'event': a value of type date is not one of create, answer, destroy"],
        ),
        (
            {"url": "https:///path", "event": "create"},
            ["spec #0 (https:///path): field 'url': must be an absolute http(s) URL, got 'https:///path'"],
        ),
    ],
)
def test_every_problem_of_a_spec_in_full(raw, expected):
    assert problems_of([raw]) == expected


def test_a_url_with_a_space_is_shown_cut_at_120_characters_without_its_password():
    url = "https://u:p@a.example/" + "x" * 100 + " y"
    shown = ("https://***@a.example/" + "x" * 100)[:120]
    assert problems_of([{"url": url, "event": "create"}]) == [
        f"spec #0 ({shown}): field 'url': must not contain spaces or control characters (tab, line break, ...), "
        f"got '{shown[:119]}…"
    ]


def test_plain_http_urls_are_accepted():
    assert parse_spec({"url": "http://crm.example.com/calls", "event": "create"}).url == "http://crm.example.com/calls"


def test_specs_that_are_not_a_list_are_named_by_their_shape():
    with pytest.raises(WebhookSpecError) as caught:
        parse_specs("https://a.example")
    assert caught.value.problems == ["webhooks must be a list of specs, got a string of 17 characters"]
