"""Spec files: a path or text read into raw specs, bounded, before anything is rendered or sent.

No Airflow import here. A spec file is a few kilobytes; the bounds below stop a hostile or broken
one from costing hours.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from airflow_provider_plusofon.exceptions import WebhookSpecError
from airflow_provider_plusofon.redaction import shape

SPEC_FILE_SUFFIXES = (".yaml", ".yml", ".json")
MAX_SPEC_FILE_BYTES = 10 * 1024 * 1024
# YAML aliases can make a few hundred bytes stand for billions of values ("billion laughs").
MAX_SPEC_VALUES = 200_000


def looks_like_spec_path(text: str) -> bool:
    """Whether a ``webhooks`` string names a spec file rather than holding specs as text."""
    return "\n" not in text and text.strip().lower().endswith(SPEC_FILE_SUFFIXES)


def load_spec_source(source: Any) -> list[Any]:
    """
    Turn what a user passed as ``webhooks`` into a list of raw specs.

    :param source: a list of specs; a mapping with a ``webhooks`` list; a path to a ``.yaml``,
        ``.yml`` or ``.json`` file holding either; or the text of such a file.
    :raises WebhookSpecError: when the file is missing, too large, does not parse, or expands
        (through YAML aliases) to more values than any spec set needs.
    """
    if isinstance(source, os.PathLike) or (isinstance(source, str) and looks_like_spec_path(source)):
        path = Path(source)
        try:
            with path.open("rb") as handle:
                data = handle.read(MAX_SPEC_FILE_BYTES + 1)
        except OSError as error:
            raise WebhookSpecError([f"cannot read the spec file {str(path)!r}: {error.strerror}"]) from None
        if len(data) > MAX_SPEC_FILE_BYTES:
            raise WebhookSpecError([f"the spec file {str(path)!r} is larger than {MAX_SPEC_FILE_BYTES} bytes"])
        source = _parse_text(_decoded(data, str(path)), str(path))
    elif isinstance(source, str):
        source = _parse_text(source, "the webhooks text")
    if isinstance(source, Mapping) and "webhooks" in source:
        source = source["webhooks"]
    if source is None:
        return []
    if not isinstance(source, Sequence) or isinstance(source, str | bytes):
        raise WebhookSpecError([f"webhooks must be a list of specs, got {shape(source)}"])
    return list(source)


def _decoded(data: bytes, origin: str) -> str:
    """The file's text: UTF-8, with or without a byte order mark; anything else is refused, never
    read with replacement characters (they would reach the account as the webhook's values)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise WebhookSpecError([f"{origin} is not UTF-8 (line {line}, byte {error.start}): save it as UTF-8"]) from None


def _parse_text(text: str, origin: str) -> Any:
    """Specs from YAML or JSON text, strictly: a duplicate key is an error, and an error names the
    line and column, never the text there (it may be a header value)."""
    text = text.removeprefix("\ufeff")
    data = _parse_json(text, origin) if origin.endswith(".json") else _parse_yaml(text, origin)
    _check_expanded_size(data, origin)
    return data


class _DuplicateKey(Exception):
    def __init__(self, key: Any, line: int = 0, column: int = 0) -> None:
        super().__init__(key)
        self.key, self.line, self.column = key, line, column

    def problem(self, origin: str) -> str:
        where = f"line {self.line}, column {self.column}" if self.line else "somewhere"
        return f"{origin}, {where}: the key {str(self.key)[:40]!r} appears twice in one mapping (which one counts?)"


def _parse_yaml(text: str, origin: str) -> Any:
    import yaml  # only paid for when specs come as text

    try:
        return yaml.load(text, Loader=_strict_yaml_loader())
    except _DuplicateKey as duplicate:
        raise WebhookSpecError([duplicate.problem(origin)]) from None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        raise WebhookSpecError([f"{origin} is not valid YAML{where}: {str(error.problem)[:120]}"]) from None
    except (yaml.YAMLError, RecursionError) as error:
        raise WebhookSpecError([f"{origin} is not valid YAML ({type(error).__name__})"]) from None


def _strict_yaml_loader() -> type:
    import yaml

    class StrictSafeLoader(yaml.SafeLoader):
        """PyYAML's SafeLoader, refusing a key twice in one mapping (it would keep the last)."""

    def construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode, deep: bool = False) -> Any:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = loader.construct_object(key_node, deep=True)
            try:
                if key in seen:
                    raise _DuplicateKey(key, key_node.start_mark.line + 1, key_node.start_mark.column + 1)
                seen.add(key)
            except TypeError:  # an unhashable key: the loader itself says what is wrong
                break
        return loader.construct_mapping(node, deep)

    StrictSafeLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, construct_mapping)
    return StrictSafeLoader


def _parse_json(text: str, origin: str) -> Any:
    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        keys = [key for key, _ in pairs]
        if len(keys) != len(set(keys)):
            raise _DuplicateKey(next(key for i, key in enumerate(keys) if key in keys[:i]))
        return dict(pairs)

    try:
        return json.loads(text, object_pairs_hook=no_duplicates)
    except _DuplicateKey:
        raise WebhookSpecError([_first_duplicate_json_key(text).problem(origin)]) from None
    except json.JSONDecodeError as error:
        where = f"line {error.lineno}, column {error.colno}"
        raise WebhookSpecError([f"{origin} is not valid JSON at {where}: {error.msg}"]) from None
    except RecursionError:
        raise WebhookSpecError([f"{origin} is not valid JSON: nested too deeply"]) from None


_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\]:,]|[^\s{}\[\]:,"]+')


def _is_key(tokens: list[tuple[str, int]], i: int) -> bool:
    return i + 1 < len(tokens) and tokens[i + 1][0] == ":"


def _first_duplicate_json_key(text: str) -> _DuplicateKey:
    """Where the first key repeated within one object of (valid) JSON text is."""
    tokens = [(match.group(), match.start()) for match in _JSON_TOKEN.finditer(text)]
    stack: list[set[str] | None] = []
    for i, (token, position) in enumerate(tokens):
        if token in "{[":
            stack.append(set() if token == "{" else None)
        elif token in "}]":
            stack.pop()
        elif token.startswith('"') and stack and stack[-1] is not None and _is_key(tokens, i):
            key = json.loads(token)
            if key in stack[-1]:
                line = text.count("\n", 0, position) + 1
                return _DuplicateKey(key, line, position - text.rfind("\n", 0, position))
            stack[-1].add(key)
    return _DuplicateKey("?")


def _check_expanded_size(data: Any, origin: str) -> None:
    """
    Count the values as rendering will see them, every alias expanded, and stop at the bound.

    YAML loads an alias as a second reference to one object, so loading a "billion laughs" file is
    cheap; walking it (Jinja rendering, validation) is what would run for hours.
    """
    count, stack = 0, [data]
    while stack:
        value = stack.pop()
        count += 1
        if count > MAX_SPEC_VALUES:
            raise WebhookSpecError(
                [f"{origin} expands to more than {MAX_SPEC_VALUES} values (through YAML anchors and aliases?)"]
            )
        if isinstance(value, Mapping):
            stack.extend(value.values())
        elif isinstance(value, list | tuple):
            stack.extend(value)
