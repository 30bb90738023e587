"""Export: the account's webhooks as a spec file, with no secret in it. No Airflow import here.

Every webhook becomes a spec that manages every field the API returns, so that planning the file
against the same account finds nothing to do once the Variables it names hold the values that
were there. Secret values (header and param values, a URL's user info: see
:mod:`~airflow_provider_plusofon.redaction`) are never written: each becomes
``{{ var.value.<name> }}``, which task rendering fills in.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from airflow_provider_plusofon.api import PlusofonClient
from airflow_provider_plusofon.exceptions import WebhookSpecError
from airflow_provider_plusofon.redaction import SECRET_PAIR_FIELDS, replace_userinfo, split_userinfo
from airflow_provider_plusofon.webhooks.spec import IDENTITY_FIELDS, PAIR_KEYS, WebhookSpec, parse_spec

# The order of a spec's keys in the file: identity first.
EXPORTED_FIELDS = ("url", "event", "type_call", "type_style", "template", "fields", "headers", "params")


@dataclass(frozen=True)
class Export:
    """
    The account as specs.

    :param specs: one spec per webhook, sorted by url, event, type_call and id, with placeholders
        for every secret value.
    :param variables: the names of the Airflow Variables the placeholders read (never the values).
    :param duplicates: for each webhook exported, the ids of the others with its identity, which
        were left out (a spec file cannot hold two specs one webhook would match).
    """

    specs: list[dict[str, Any]]
    variables: list[str] = field(default_factory=list)
    duplicates: dict[int, list[int]] = field(default_factory=dict)


_STR_TAG = "tag:yaml.org,2002:str"
# Airflow keeps a Variable's key in a column of 250 characters.
MAX_VARIABLE_NAME = 250
_JINJA_OPENER = re.compile(r"\{(?=[{%#])")


def _slug(text: str) -> str:
    return re.sub(r"_+", "_", re.sub(r"[^a-z0-9]+", "_", text.lower())).strip("_")


def variable_name(webhook: Mapping[str, Any], secret: str) -> str:
    """
    The Variable a secret of a webhook is read from: ``plusofon_`` + the URL's host and path +
    the event (+ the type_call, when set) + what the secret is (a header's name, ``param_`` and a
    param's name, or ``url_userinfo``), each as lowercase letters, digits and underscores; a name
    longer than a Variable's key may be is cut, and ends in a digest of the whole.

    >>> variable_name({"url": "https://crm.example.com/calls", "event": "create"}, "X-Api-Key")
    'plusofon_crm_example_com_calls_create_x_api_key'
    """
    url = replace_userinfo(str(webhook.get("url") or ""), "")
    try:
        parts = urlsplit(url)
        place = [parts.hostname or "", parts.path]
    except ValueError:  # a URL urlsplit refuses still gets a name
        place = [url.split("://", 1)[-1]]
    words = [*place, str(webhook.get("event") or ""), str(webhook.get("type_call") or "")]
    name = _slug("_".join(["plusofon", *words, secret]))
    if len(name) <= MAX_VARIABLE_NAME:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:12]
    return f"{name[: MAX_VARIABLE_NAME - 13].rstrip('_')}_{digest}"


def literal(value: Any) -> Any:
    """
    A value written so that rendering it as a task renders its spec file gives it back exactly.

    Text with nothing Jinja would change comes back as it is. Text with Jinja syntax of its own
    (``{{``, ``{%``, ``{#``: a payload template may well have some), a carriage return (Jinja turns
    line breaks into ``\\n``) or a final line break (which Jinja drops) becomes one Jinja string
    expression that gives it back, whatever it holds (``{% endraw %}`` included). Anything but
    text comes back as it is.

    >>> literal('{"call": "{{ call_id }}"}')
    '{{ \'{"call": "{{ call_id }}"}\' }}'
    """
    if not isinstance(value, str) or not (_JINJA_OPENER.search(value) or "\r" in value or value.endswith("\n")):
        return value
    # Jinja reads a string literal's escapes as Python's unicode-escape codec does.
    escaped = value.replace("\\", "\\\\").replace("'", "\\'").replace("\r", "\\r").replace("\n", "\\n")
    return "{{ '" + escaped + "' }}"


def _placeholder(variable: str) -> str:
    return "{{ var.value." + variable + " }}"


class _Names:
    """The Variables of one export: each secret its own, however the names of two would collide."""

    def __init__(self) -> None:
        self.taken: set[str] = set()

    def take(self, webhook: Mapping[str, Any], secret: str) -> str:
        base = variable_name(webhook, secret)
        name, n = base, 1
        while name in self.taken:  # another webhook's (or another of its headers of that name)
            n += 1
            name = f"{base}_{webhook['id']}" + (f"_{n}" if n > 2 else "")
        self.taken.add(name)
        return name


def _pairs(name: str, items: Any, webhook: Mapping[str, Any], names: _Names) -> list[dict[str, Any]]:
    """A list of pairs as the spec writes it: a secret value as the placeholder of its Variable."""
    first, second = PAIR_KEYS[name]
    written = []
    for item in items or []:
        if not isinstance(item, Mapping):
            continue
        pair = {key: literal(item[key]) for key in (first, second) if key in item}
        if name in SECRET_PAIR_FIELDS and second in item:
            label = str(item.get(first)) if name == "headers" else f"param_{item.get(first)}"
            pair[second] = _placeholder(names.take(webhook, label))
        written.append(pair)
    return written


def _url(url: Any, webhook: Mapping[str, Any], names: _Names) -> Any:
    """The URL as the spec writes it: its user info (whatever it holds) as a placeholder, the rest literal."""
    parts = split_userinfo(url)
    if parts is None:
        return literal(url)
    before, _, after = parts  # ``after`` is the ``@`` and what follows: kept in sight, as written
    return literal(before) + _placeholder(names.take(webhook, "url_userinfo")) + "@" + literal(after[1:])


def _spec_of(webhook: Mapping[str, Any], names: _Names) -> dict[str, Any]:
    """The spec of one webhook: every field it has, secrets as the placeholders of their Variables."""
    spec: dict[str, Any] = {}
    for name in EXPORTED_FIELDS:
        value = webhook.get(name)
        if value is None and name != "template":
            continue  # not set on the account: left unmanaged
        if name in PAIR_KEYS:
            spec[name] = _pairs(name, value, webhook, names)
        elif name == "url":
            spec[name] = _url(value, webhook, names)
        else:
            spec[name] = literal(value)
    return spec


def _problems_of(webhook: Mapping[str, Any]) -> list[str]:
    """Why a webhook cannot be written as a spec (a value no spec can declare), naming it by id."""
    try:
        parse_spec({name: webhook[name] for name in EXPORTED_FIELDS if webhook.get(name) is not None})
    except WebhookSpecError as error:
        return [problem.replace("spec #0", f"webhook #{webhook['id']}", 1) for problem in error.problems]
    return []


def _rewrite(url: str, rewrites: Sequence[tuple[str, str]]) -> str:
    for old, new in rewrites:
        if url.startswith(old):
            return new + url[len(old) :]
    return url


def export_specs(client: PlusofonClient, *, rewrite_urls: Sequence[tuple[str, str]] = ()) -> Export:
    """
    Read every webhook with its detail view and turn the account into specs. The list is read
    until two reads agree, so that a webhook another actor moved between pages is not left out.

    :param rewrite_urls: ``(old, new)`` URL prefixes: a webhook whose URL starts with ``old`` is
        exported pointing at ``new`` instead (the first that matches), e.g. production's webhooks
        pointing at the staging receiver.
    :raises WebhookSpecError: naming every webhook that holds a value no spec can declare (a
        control character in a header, a URL with a space, ...): a file without it would let a
        later ``prune`` delete it.
    """
    # A webhook missing from the file would be pruned later: export only a consistent snapshot.
    listing = client.confirm_listing(client.list_webhooks())
    details = client.get_webhooks([w["id"] for w in listing]) if listing else {}
    webhooks = sorted(
        ({**w, **details.get(w["id"], {})} for w in listing),
        key=lambda w: (str(w.get("url")), str(w.get("event")), str(w.get("type_call") or ""), w["id"]),
    )
    names, specs, problems = _Names(), [], []
    # Only specs with the same url and event can overlap: looking within that group keeps a large
    # account linear, as parse_specs does.
    exported: dict[tuple[str, str], list[tuple[int, WebhookSpec]]] = {}
    duplicates: dict[int, list[int]] = {}
    for webhook in webhooks:
        webhook = {**webhook, "url": _rewrite(str(webhook.get("url") or ""), rewrite_urls)}
        found = _problems_of(webhook)
        if found:
            problems += found
            continue
        parsed = parse_spec({k: webhook[k] for k in IDENTITY_FIELDS if webhook.get(k) is not None})
        group = exported.setdefault((parsed.url, parsed.event), [])
        twin = next((webhook_id for webhook_id, other in group if parsed.overlaps(other)), None)
        if twin is not None:
            duplicates.setdefault(twin, []).append(webhook["id"])
            continue
        group.append((webhook["id"], parsed))
        specs.append(_spec_of(webhook, names))
    if problems:
        raise WebhookSpecError(problems)
    variables = sorted({name for spec in specs for name in re.findall(r"var\.value\.(\w+)", str(spec))})
    return Export(specs=specs, variables=variables, duplicates=duplicates)


class _Quoted(str):
    """A string value of the file: always written in double quotes (a key stays plain)."""


def _quoted(value: Any) -> Any:
    if isinstance(value, str):
        return _Quoted(value)
    if isinstance(value, list):
        return [_quoted(item) for item in value]
    if isinstance(value, dict):
        return {key: _quoted(item) for key, item in value.items()}
    return value


def to_yaml(export: Export) -> str:
    """The export as a spec file: a comment naming the Variables to set and any duplicates, then
    ``webhooks:``. Every string value is double-quoted, so no YAML reader (1.1 or 1.2) takes one for
    another type (``on``, ``y``, ``0o17``, ``1e3``, ``null``), and none is folded over lines."""
    import yaml

    class Dumper(yaml.SafeDumper):
        pass

    Dumper.add_representer(_Quoted, lambda dumper, value: dumper.represent_scalar(_STR_TAG, str(value), style='"'))
    lines = ["# Exported from the Plusofon account by airflow-provider-plusofon."]
    if export.variables:
        lines.append("# Set these Airflow Variables to the values the account holds (never written here):")
        lines += [f"#   {name}" for name in export.variables]
    for kept, others in sorted(export.duplicates.items()):
        left_out = ", ".join(f"#{i}" for i in others)
        lines.append(f"# Duplicates left out: #{kept} is exported; {left_out} share its identity.")
    body = yaml.dump(
        {"webhooks": _quoted(export.specs)}, Dumper=Dumper, sort_keys=False, allow_unicode=True, width=10**9
    )
    return "\n".join(lines) + "\n" + body


def write_spec_file(path: str | os.PathLike[str], text: str, *, overwrite: bool = False) -> None:
    """
    Write an exported spec file atomically: into a temporary file beside it, then into place, so
    that a failure half way leaves the old file (or none) and never half a file.

    :param overwrite: replace an existing file; without it an existing file is never touched
        (:class:`FileExistsError`), even one created while the export ran.
    """
    target = Path(path)
    handle, temporary = tempfile.mkstemp(dir=target.parent or ".", prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        if overwrite:
            os.replace(temporary, target)
        else:
            os.link(temporary, target)  # refuses an existing target, atomically
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
