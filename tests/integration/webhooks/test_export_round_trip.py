"""Issue 33: export writes no credential, and what it writes plans nothing, for any value a spec can hold.

Generated accounts (Hypothesis) hold URLs with user info, Jinja syntax and percent-encoding, header,
param and field values that YAML 1.1 or 1.2 would read as another type, Jinja of every kind
(``{{``, ``{%``, ``{#``, ``{% endraw %}``), leading and trailing spaces, line breaks, empty strings
and non-ASCII. Each is exported against the emulator, read back with the spec loader, rendered
as ``plusofon-webhooks plan`` renders it (its Variables set to the account's values), and planned
against the same account: nothing to do, and no credential in the file.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from airflow_provider_plusofon.api import PlusofonClient, PlusofonConnectionConfig
from airflow_provider_plusofon.emulator import running_emulator
from airflow_provider_plusofon.exceptions import WebhookSpecError
from airflow_provider_plusofon.hooks.templates import context_of, render_strings
from airflow_provider_plusofon.redaction import split_userinfo
from airflow_provider_plusofon.webhooks.export import export_specs, to_yaml
from airflow_provider_plusofon.webhooks.reconcile import plan_account
from airflow_provider_plusofon.webhooks.spec import parse_spec, parse_specs
from airflow_provider_plusofon.webhooks.spec_files import load_spec_source

pytestmark = pytest.mark.integration

PLACEHOLDER = re.compile(r"^\{\{ var\.value\.(\w+) \}\}$")
# A URL's user info, written: the placeholder right after the scheme, then its "@".
USERINFO_WRITTEN = re.compile(r"^https?://(\{\{ var\.value\.\w+ \}\})@")
# Two pages of webhooks nobody generated: a bug beyond page 1 is a bug users meet.
FILLER = [{"url": f"https://filler.example.com/{i}", "event": "answer", "type_call": "all"} for i in range(16)]

# Values some YAML reader takes for another type, Jinja of every kind, spaces, encodings, scripts.
TRICKY = [
    *("yes", "no", "on", "off", "y", "n", "Y", "~", "null", "Null", "true", "False", "1e3", "0o17", "0x1F"),
    *("012", ".inf", "-.inf", ".nan", "1_000", "2001-12-14", "12:30:00", "+1", "-0", "0b101", "=", "<<", "!!str"),
    *("{{", "}}", "{%", "%}", "{#", "#}", "{{ x }}", "{% raw %}", "{% endraw %}", "{%- endraw -%}", "{%endraw%}"),
    *("{{ '{' }}", "{% if %}", "{{{", "{'a': 1}", "[1, 2]", "- item", "key: value", "# not a comment", "&anchor"),
    *("*alias", "|", ">", "%20", "%41%42", "%%", "100%", " ", "  padded  ", "", "\t", "line\n", "a\nb", "\r\n"),
    *("ünïcødé", "日本語", "🙂", "\u00a0", "\u200b", "\ufeff", "'", '"', "\\", "\\n", "'quoted'", '"double"'),
]
PIECE = st.one_of(st.sampled_from(TRICKY), st.text(st.characters(exclude_categories=("Cs",)), max_size=12))
TEXT = st.lists(PIECE, max_size=4).map("".join)
NAME = TEXT.filter(bool)
NO_CONTROL = st.characters(exclude_categories=("Cs", "Cc"))
HEADER_TEXT = st.lists(st.one_of(st.sampled_from([t for t in TRICKY if t.isprintable() or "\u00a0" in t]), st.text(NO_CONTROL, max_size=12)), max_size=4).map("".join)  # fmt: skip
URL_CHARS = st.characters(exclude_categories=("Cs", "Cc", "Zs", "Zl", "Zp"), exclude_characters="\x85\u180e")
URL_PIECE = st.one_of(
    st.sampled_from(["{{", "}}", "{%", "%}", "{#", "{{call_id}}", "{% endraw %}", "%40", "%2F", "ü", "~", ":"]),
    st.text(URL_CHARS, max_size=8),
)
USERINFO = st.lists(URL_PIECE, min_size=1, max_size=3).map("".join).filter(lambda s: not set(s) & set("/?#\\"))


@st.composite
def urls(draw: Any, index: int) -> str:
    scheme = draw(st.sampled_from(["https", "http"]))
    userinfo = draw(st.none() | USERINFO)
    rest = draw(st.lists(URL_PIECE, max_size=4).map("".join))
    return f"{scheme}://{userinfo + '@' if userinfo else ''}crm{index}.example.com/{rest}"


def pairs(first: str, second: str, values: st.SearchStrategy[str], names: st.SearchStrategy[str]) -> Any:
    return st.lists(st.fixed_dictionaries({first: names, second: values}), max_size=3)


@st.composite
def webhooks(draw: Any, index: int) -> dict[str, Any]:
    webhook = {
        "url": draw(urls(index)),
        "event": draw(st.sampled_from(["create", "answer", "destroy"])),
        "type_call": draw(st.sampled_from([None, "inbound", "outbound", "all"])),
        "type_style": draw(st.sampled_from([None, "long", "short"])),
        "template": draw(st.none() | TEXT),
        "fields": draw(pairs("before", "after", TEXT, NAME)),
        "headers": draw(pairs("name", "value", HEADER_TEXT, HEADER_TEXT.filter(bool))),
        "params": draw(pairs("name", "value", TEXT, NAME)),
    }
    return webhook


def declarable(webhook: dict[str, Any]) -> bool:
    """Whether a spec can declare it (the emulator stores more: no spec holds a URL with a space)."""
    try:
        parse_spec({k: v for k, v in webhook.items() if v is not None})
    except WebhookSpecError:
        return False
    return True


ACCOUNTS = st.lists(st.integers(0, 2), min_size=1, max_size=3, unique=True).flatmap(
    lambda indexes: st.tuples(*(webhooks(i) for i in indexes))
)


@pytest.fixture(scope="module")
def account() -> Iterator[Any]:
    with running_emulator(token="tok-export-round-trip-7") as emulator:
        yield emulator


def client_of(emulator: Any) -> PlusofonClient:
    return PlusofonClient(
        PlusofonConnectionConfig(base_url=emulator.base_url, client_id=emulator.client_id, token=emulator.token)
    )


def variables_of(specs: list[dict[str, Any]], stored: list[dict[str, Any]]) -> dict[str, str]:
    """What each Variable the file names must hold: the account's value in its place, each name once."""
    values: dict[str, list[str]] = {}

    def hold(placeholder: str, value: str) -> None:
        found = PLACEHOLDER.match(placeholder)
        assert found, f"a credential was written: {placeholder!r}"
        values.setdefault(found.group(1), []).append(value)

    for spec, webhook in zip(specs, stored, strict=True):
        for kind in ("headers", "params"):
            for written, held in zip(spec.get(kind) or [], webhook[kind], strict=True):
                hold(written["value"], held["value"])
        held_url, written_url = split_userinfo(webhook["url"]), USERINFO_WRITTEN.match(spec["url"])
        assert (held_url is None) == (written_url is None), spec["url"]
        if held_url and written_url:
            hold(written_url.group(1), held_url[1])
    assert {name: held for name, held in values.items() if len(held) > 1} == {}  # no two secrets share one
    return {name: held[0] for name, held in values.items()}


def round_trip(emulator: Any, generated: tuple[dict[str, Any], ...]) -> None:
    emulator.seed([*FILLER, *generated])
    client = client_of(emulator)
    export = export_specs(client)
    text = to_yaml(export)
    loaded = load_spec_source(text)
    order = sorted(client.get_webhooks([w["id"] for w in emulator.webhooks()]).values(), key=_export_order)
    values = variables_of(loaded, order)
    assert sorted(values) == export.variables

    def variable(name: str) -> str:
        return values[name]

    context = context_of({}, variable=variable, json_variable=variable, connection=variable)
    problems: list[str] = []
    rendered = render_strings(loaded, context, lambda where, error: problems.append(f"{where}: {error!r}"))
    assert problems == []
    planned = plan_account(client, parse_specs(rendered))
    assert not planned.has_changes, planned
    assert len(planned.unchanged) == len(FILLER) + len(generated)


def _export_order(webhook: dict[str, Any]) -> tuple[str, str, str, int]:
    return str(webhook["url"]), str(webhook["event"]), str(webhook.get("type_call") or ""), webhook["id"]


@settings(
    max_examples=60,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(generated=ACCOUNTS.filter(lambda hooks: all(declarable(w) for w in hooks)))
@example(
    generated=(
        {
            "url": "https://user:pw@crm0.example.com/q?id={{call_id}}",
            "event": "create",
            "type_call": "inbound",
            "type_style": None,
            "template": "{% raw %}{{ call_id }}{% endraw %}\n",
            "fields": [{"before": "yes", "after": "{%endraw%}"}],
            "headers": [{"name": "X-Key", "value": "  0o17 "}, {"name": "X-Key", "value": "{{ x }}"}],
            "params": [{"name": "on", "value": ""}],
        },
    )
)
def test_export_then_plan_is_exactly_no_changes_and_writes_no_credential(account, generated):
    round_trip(account, generated)
