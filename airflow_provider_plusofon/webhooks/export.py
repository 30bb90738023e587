"""Export: the account's webhooks as a spec file, with no secret in it. No Airflow import here.

Every webhook becomes a spec that manages every field the API returns, so that planning the file
against the same account finds nothing to do once the Variables it names hold the values that
were there. Secret values (header and param values, a URL's user info: see
:mod:`~airflow_provider_plusofon.redaction`) are never written: each becomes
``{{ var.value.<name> }}``, which task rendering fills in.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from airflow_provider_plusofon.api import PlusofonClient
from airflow_provider_plusofon.redaction import SECRET_PAIR_FIELDS, replace_userinfo, url_userinfo
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


def _slug(text: str) -> str:
    return re.sub(r"_+", "_", re.sub(r"[^a-z0-9]+", "_", text.lower())).strip("_")


def variable_name(webhook: Mapping[str, Any], secret: str) -> str:
    """
    The Variable a secret of a webhook is read from: ``plusofon_`` + the URL's host and path +
    the event (+ the type_call, when set) + what the secret is (a header's name, ``param_`` and a
    param's name, or ``url_userinfo``), each as lowercase letters, digits and underscores.

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
    return _slug("_".join(["plusofon", *words, secret]))


def _literal(value: Any) -> Any:
    """A value as rendering will give it back: Jinja syntax in it (a payload template may well
    have some) is kept from being rendered."""
    if isinstance(value, str) and re.search(r"\{[{%#]", value):
        return "{% raw %}" + value.replace("{% endraw %}", "{% endraw %}{{ '{% endraw %}' }}{% raw %}") + "{% endraw %}"
    return value


def _placeholder(variable: str) -> str:
    return "{{ var.value." + variable + " }}"


def _with_placeholders(webhook: Mapping[str, Any], names: dict[str, str]) -> dict[str, Any]:
    """The spec of one webhook; ``names`` maps each secret it holds to the Variable that replaces it."""
    spec: dict[str, Any] = {}
    for name in EXPORTED_FIELDS:
        value = _literal(webhook.get(name))
        if name in PAIR_KEYS:
            value = [{key: _literal(v) for key, v in item.items()} for item in value or [] if isinstance(item, Mapping)]
        if value is None and name != "template":
            continue  # not set on the account: left unmanaged
        spec[name] = value
    for pairs in SECRET_PAIR_FIELDS:
        for item in spec.get(pairs, []):
            item["value"] = _placeholder(names[f"{pairs[:-1]}:{item['name']}"])
    if url_userinfo(spec["url"]) is not None:
        spec["url"] = replace_userinfo(spec["url"], _placeholder(names["url_userinfo"]))
    return spec


def _secrets_named(webhook: Mapping[str, Any]) -> list[str]:
    """What each secret of a webhook is: ``header:<name>``, ``param:<name>``, ``url_userinfo``."""
    named = [
        f"{pairs[:-1]}:{item['name']}"  # header:X-Key, param:api_key
        for pairs in SECRET_PAIR_FIELDS
        for item in webhook.get(pairs) or []
        if isinstance(item, Mapping)
    ]
    return [*named, "url_userinfo"] if url_userinfo(webhook.get("url")) is not None else named


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
    """
    # A webhook missing from the file would be pruned later: export only a consistent snapshot.
    listing = client.confirm_listing(client.list_webhooks())
    details = client.get_webhooks([w["id"] for w in listing]) if listing else {}
    webhooks = sorted(
        ({**w, **details.get(w["id"], {})} for w in listing),
        key=lambda w: (str(w.get("url")), str(w.get("event")), str(w.get("type_call") or ""), w["id"]),
    )
    taken: dict[str, int] = {}
    specs: list[dict[str, Any]] = []
    # Only specs with the same url and event can overlap: looking within that group keeps a large
    # account linear, as parse_specs does.
    exported: dict[tuple[str, str], list[tuple[int, WebhookSpec]]] = {}
    duplicates: dict[int, list[int]] = {}
    for webhook in webhooks:
        webhook = {**webhook, "url": _rewrite(str(webhook.get("url") or ""), rewrite_urls)}
        parsed = parse_spec({k: webhook[k] for k in IDENTITY_FIELDS if webhook.get(k) is not None})
        group = exported.setdefault((parsed.url, parsed.event), [])
        twin = next((webhook_id for webhook_id, other in group if parsed.overlaps(other)), None)
        if twin is not None:
            duplicates.setdefault(twin, []).append(webhook["id"])
            continue
        names = {}
        for secret in _secrets_named(webhook):
            name = variable_name(webhook, secret.replace("header:", "").replace(":", "_"))
            if taken.setdefault(name, webhook["id"]) != webhook["id"]:
                name = f"{name}_{webhook['id']}"  # two webhooks would share it: the id keeps them apart
            names[secret] = name
        group.append((webhook["id"], parsed))
        specs.append(_with_placeholders(webhook, names))
    variables = sorted({name for spec in specs for name in re.findall(r"var\.value\.(\w+)", str(spec))})
    return Export(specs=specs, variables=variables, duplicates=duplicates)


def to_yaml(export: Export) -> str:
    """The export as a spec file: a comment naming the Variables to set and any duplicates, then
    ``webhooks:``."""
    import yaml

    lines = ["# Exported from the Plusofon account by airflow-provider-plusofon."]
    if export.variables:
        lines.append("# Set these Airflow Variables to the values the account holds (never written here):")
        lines += [f"#   {name}" for name in export.variables]
    for kept, others in sorted(export.duplicates.items()):
        left_out = ", ".join(f"#{i}" for i in others)
        lines.append(f"# Duplicates left out: #{kept} is exported; {left_out} share its identity.")
    body = yaml.safe_dump({"webhooks": export.specs}, sort_keys=False, allow_unicode=True, width=120)
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
