"""Spec files read strictly (issue 20): duplicate keys, encodings, line endings, parser errors."""

from __future__ import annotations

import json

import pytest

from airflow_provider_plusofon.exceptions import WebhookSpecError
from airflow_provider_plusofon.webhooks.spec_files import load_spec_source

SECRET = "file-header-secret-4410"
SPECS = [
    {"url": "https://crm.example.com/calls", "event": "create", "headers": [{"name": "X-Key", "value": SECRET}]},
    {"url": "https://crm.example.com/calls", "event": "destroy", "type_call": "all"},
]
YAML = f"""webhooks:
  - url: https://crm.example.com/calls
    event: create
    headers:
      - name: X-Key
        value: {SECRET}
  - url: https://crm.example.com/calls
    event: destroy
    type_call: all
"""


def problems(tmp_path, name: str, data: bytes) -> list[str]:
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(WebhookSpecError) as caught:
        load_spec_source(str(path))
    return caught.value.problems


@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"])
@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_utf8_with_or_without_bom_and_either_line_ending_loads_the_same_in_yaml_and_json(tmp_path, bom, newline):
    as_json = json.dumps({"webhooks": SPECS}, indent=2).replace("\n", newline)
    (tmp_path / "s.yaml").write_bytes(bom + YAML.replace("\n", newline).encode())
    (tmp_path / "s.json").write_bytes(bom + as_json.encode())
    assert load_spec_source(str(tmp_path / "s.yaml")) == SPECS
    assert load_spec_source(str(tmp_path / "s.json")) == SPECS


@pytest.mark.parametrize(
    ("text", "line", "key"),
    [
        ("webhooks:\n  - url: https://a.example\n    event: create\n    url: https://b.example\n", 4, "url"),
        ("webhooks: []\nwebhooks: []\n", 2, "webhooks"),
        (
            f"webhooks:\n  - url: https://a.example\n    event: create\n    headers:\n"
            f"      - {{name: X-Key, value: {SECRET}, value: other}}\n",
            5,
            "value",
        ),
        ("- {url: 'https://a.example', event: create, event: destroy}\n", 1, "event"),
    ],
)
def test_a_key_twice_in_yaml_names_file_line_and_key_never_a_value(tmp_path, text, line, key):
    [problem] = problems(tmp_path, "twice.yaml", text.encode())
    assert problem.startswith(f"{tmp_path / 'twice.yaml'}, line {line}, column ")
    assert f"the key {key!r} appears twice" in problem
    assert SECRET not in problem


@pytest.mark.parametrize(
    ("text", "line", "key"),
    [
        ('{"webhooks": [{"url": "https://a.example",\n  "event": "create", "url": "https://b"}]}', 2, "url"),
        ('{"webhooks": [], "webhooks": []}', 1, "webhooks"),
        (
            '{"webhooks": [{"url": "https://a.example", "event": "create",\n "headers": [\n'
            f'  {{"name": "X", "value": "{SECRET}", "value": "x"}}]}}]}}',
            3,
            "value",
        ),
        # a key repeated in two different objects is no duplicate; the one repeated in one object is
        ('[{"url": "u", "event": "e"}, {"url": "u",\n"event": "e", "event": "f"}]', 2, "event"),
    ],
)
def test_a_key_twice_in_json_names_file_line_and_key_never_a_value(tmp_path, text, line, key):
    [problem] = problems(tmp_path, "twice.json", text.encode())
    assert problem.startswith(f"{tmp_path / 'twice.json'}, line {line}, column ")
    assert f"the key {key!r} appears twice" in problem
    assert SECRET not in problem


@pytest.mark.parametrize(
    ("encoding", "suffix", "word"),
    [
        ("latin-1", "yaml", "café"),
        ("cp1251", "yaml", "звонки"),
        ("utf-16", "yaml", "café-звонки"),
        ("utf-16", "json", "café-звонки"),
        ("cp1251", "json", "звонки"),
    ],
)
def test_a_file_in_another_encoding_is_refused_never_read_mangled(tmp_path, encoding, suffix, word):
    text = YAML if suffix == "yaml" else json.dumps({"webhooks": SPECS}, ensure_ascii=False)
    [problem] = problems(tmp_path, f"s.{suffix}", text.replace("/calls", f"/{word}").encode(encoding))
    assert f"s.{suffix} is not UTF-8" in problem
    assert "save it as UTF-8" in problem


@pytest.mark.parametrize(
    ("name", "data", "where"),
    [
        ("a.yaml", f"webhooks:\n  - url: https://a.example\n    headers: [{{name: X, value: '{SECRET}\n", "line 4"),
        ("b.yaml", f"webhooks:\n  - url: https://a.example\n  event: {SECRET}: x\n", "line 3, column"),
        ("c.yaml", f"webhooks:\n\t- url: {SECRET}\n", "line 2, column 1"),
        ("d.json", f'{{"webhooks": [{{"url": "https://a.example", "value": "{SECRET}" "x"}}]}}', "line 1, column"),
        ("e.json", f'{{"webhooks": [\n{{"value": "{SECRET}",}}]}}', "line 2, column"),
        ("f.json", f'{{"webhooks": "{SECRET}', "line 1, column"),
    ],
)
def test_a_parser_error_gives_file_line_and_column_never_the_text_of_the_line(tmp_path, name, data, where):
    [problem] = problems(tmp_path, name, data.encode())
    assert name in problem and where in problem
    for size in range(6, len(SECRET) + 1):
        assert SECRET[:size] not in problem


def test_specs_given_as_text_are_read_as_strictly(tmp_path):
    with pytest.raises(WebhookSpecError, match="the key 'url' appears twice"):
        load_spec_source("- url: https://a.example\n  url: https://b.example\n  event: create\n")
    assert load_spec_source("\ufeff- {url: 'https://a.example', event: create}\n") == [
        {"url": "https://a.example", "event": "create"}
    ]


def test_a_spec_file_over_10_mb_is_refused_before_it_is_parsed(tmp_path):
    # The promise is 10 MB (README): its literal value, not the module's constant.
    path = tmp_path / "huge.yaml"
    path.write_bytes(b"webhooks: []\n" + b"#" * (10 * 1024 * 1024 - len(b"webhooks: []\n")) + b"\n")
    [problem] = problems(tmp_path, "huge.yaml", path.read_bytes())
    assert problem == f"the spec file {str(tmp_path / 'huge.yaml')!r} is larger than 10485760 bytes"
