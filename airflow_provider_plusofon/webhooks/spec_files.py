"""Spec files: a path or text read into raw specs, bounded, before anything is rendered or sent.

No Airflow import here. A spec file is a few kilobytes; the bounds below stop a hostile or broken
one from costing hours.
"""

from __future__ import annotations

import json
import os
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
        source = _parse_text(data.decode("utf-8", "replace"), str(path))
    elif isinstance(source, str):
        source = _parse_text(source, "the webhooks text")
    if isinstance(source, Mapping) and "webhooks" in source:
        source = source["webhooks"]
    if source is None:
        return []
    if not isinstance(source, Sequence) or isinstance(source, str | bytes):
        raise WebhookSpecError([f"webhooks must be a list of specs, got {shape(source)}"])
    return list(source)


def _parse_text(text: str, origin: str) -> Any:
    if origin.endswith(".json"):
        try:
            return json.loads(text)
        except (ValueError, RecursionError) as error:
            raise WebhookSpecError([f"{origin} is not valid JSON: {str(error)[:200]}"]) from None
    import yaml  # only paid for when specs come as text; JSON is YAML too

    try:
        data = yaml.safe_load(text)
    except (yaml.YAMLError, RecursionError) as error:
        raise WebhookSpecError([f"{origin} is not valid YAML: {str(error)[:300]}"]) from None
    _check_expanded_size(data, origin)
    return data


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
