"""Webhook specs: what a user declares, validated before any request and normalised for comparison.

Pure Python with no Airflow imports, so every rule can be unit-tested with plain data.
"""

from __future__ import annotations

import copy
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from airflow_provider_plusofon.api.ids import valid_webhook_id
from airflow_provider_plusofon.exceptions import PlusofonConfigError, WebhookSpecError
from airflow_provider_plusofon.redaction import redact_url, shape

EVENTS = ("create", "answer", "destroy")
# "all" is not in the vendor's list of values but is what its own create example sends.
TYPE_CALLS = ("inbound", "outbound", "all")
TYPE_STYLES = ("long", "short")
PAIR_KEYS: Mapping[str, tuple[str, str]] = {
    "fields": ("before", "after"),
    "headers": ("name", "value"),
    "params": ("name", "value"),
}
SPEC_KEYS = ("url", "event", "type_call", "type_style", "fields", "headers", "params", "template")
REQUIRED_KEYS = ("url", "event")
IDENTITY_FIELDS = ("url", "event", "type_call")
STATES = ("present", "absent")
# The list endpoint shows only id, url, type_call, type and event: these need one GET each.
DETAIL_ONLY_FIELDS = frozenset({"type_style", "fields", "headers", "params", "template"})

Pairs = tuple[tuple[str, str], ...]


def normalise(name: str, value: Any) -> Any:
    """
    Bring a field's value to the form in which two values compare equal when they mean the same.

    Lists of pairs become sorted tuples of unique pairs (their order carries no meaning), and a
    missing ``template`` is ``None``.
    """
    if name in PAIR_KEYS:
        first, second = PAIR_KEYS[name]
        pairs = {(str(item.get(first)), str(item.get(second))) for item in value or [] if isinstance(item, Mapping)}
        return tuple(sorted(pairs))
    return value


def to_api(name: str, value: Any) -> Any:
    """The inverse of :func:`normalise`: the value as the API's JSON body carries it."""
    if name in PAIR_KEYS:
        first, second = PAIR_KEYS[name]
        return [{first: a, second: b} for a, b in value]
    return value


@dataclass(frozen=True)
class WebhookSpec:
    """
    One declared webhook: the fields it manages, normalised.

    Fields the spec does not name are not managed: never compared and never changed.

    :param values: managed field name -> normalised value (``url`` and ``event`` always present).
    :param index: position in the set it was declared in, for messages.
    """

    values: Mapping[str, Any]
    index: int = 0
    managed: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "managed", frozenset(self.values))

    @property
    def url(self) -> str:
        return str(self.values["url"])

    @property
    def event(self) -> str:
        return str(self.values["event"])

    @property
    def type_call(self) -> str | None:
        return self.values.get("type_call")

    @property
    def identity(self) -> tuple[str, str, str | None]:
        """``(url, event, type_call)``; ``type_call`` is ``None`` when the spec does not name it."""
        return self.url, self.event, self.type_call

    @property
    def label(self) -> str:
        """How messages name this spec: its index, url, event and type_call."""
        type_call = f" {self.type_call}" if self.type_call else ""
        return f"spec #{self.index} ({redact_url(self.url)} {self.event}{type_call})"

    def __repr__(self) -> str:
        # Never the values: a traceback that shows a frame's locals (Airflow 3.0's console does)
        # would show header values and URL passwords.
        return f"WebhookSpec({self.label}, manages {', '.join(sorted(self.managed))})"

    @property
    def needs_detail(self) -> bool:
        """Whether comparing this spec needs the detail view (it manages a detail-only field)."""
        return bool(self.managed & DETAIL_ONLY_FIELDS)

    def matches(self, webhook: Mapping[str, Any]) -> bool:
        """Whether an existing webhook has this spec's identity."""
        if webhook.get("url") != self.url or webhook.get("event") != self.event:
            return False
        return self.type_call is None or webhook.get("type_call") == self.type_call

    def overlaps(self, other: WebhookSpec) -> bool:
        """Whether one existing webhook could match both specs."""
        if (self.url, self.event) != (other.url, other.event):
            return False
        return self.type_call is None or other.type_call is None or self.type_call == other.type_call

    def diff(self, webhook: Mapping[str, Any]) -> dict[str, tuple[Any, Any]]:
        """
        The managed fields whose value differs in ``webhook``, as ``{field: (current, desired)}``.

        ``webhook`` must carry the detail view when :attr:`needs_detail`.
        """
        changes = {}
        for name in SPEC_KEYS:
            if name not in self.managed:
                continue
            current = normalise(name, webhook.get(name))
            if current != self.values[name]:
                changes[name] = (current, self.values[name])
        return changes

    def body(self, base: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """
        The full POST/PUT body: ``base`` (an existing webhook's detail view) with the managed
        fields set to this spec's values. Unmanaged fields keep their current values, since the
        API's PUT replaces every field.
        """
        body: dict[str, Any] = {}
        for name in SPEC_KEYS:
            if name in self.managed:
                body[name] = to_api(name, self.values[name])
            elif base is not None and base.get(name) is not None:
                body[name] = copy.deepcopy(base[name])
        return body


def _problem(index: int, raw: Any, field_name: str | None, text: str) -> str:
    url = raw.get("url") if isinstance(raw, Mapping) else None
    shown = str(redact_url(url))[:120] if isinstance(url, str) and url else ""
    where = f"spec #{index}" + (f" ({shown})" if shown else "")
    return f"{where}: {f'field {field_name!r}: ' if field_name else ''}{text}"


def _shown(value: Any, limit: int = 80) -> str:
    """A bad value of a field that holds no secret but a URL's user info, as the message shows it:
    its repr, any user info redacted, cut short."""

    def redacted(item: Any) -> Any:
        if isinstance(item, str):
            return redact_url(item)
        if isinstance(item, list | tuple):
            return [redacted(i) for i in item]
        if isinstance(item, Mapping):
            return {str(k)[:40]: redacted(v) for k, v in list(item.items())[:10]}
        return item

    if not isinstance(value, str | int | float | bool | list | tuple | Mapping) and value is not None:
        return shape(value)
    text = repr(redacted(value))
    return text[:limit] + ("…" if len(text) > limit else "")


def _check_url(value: Any) -> str | None:
    if not isinstance(value, str):
        return f"must be a string, got {_shown(value)} ({shape(value)})"
    problem = _url_problem(value)
    return None if problem is None else f"{problem}, got {_shown(value, 120)}"


def _url_problem(value: str) -> str | None:
    if _has_space_or_control(value):
        return "must not contain spaces or control characters (tab, line break, ...)"
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018  (raises on a port that is not a number)
    except ValueError:
        return "is not a valid URL"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "must be an absolute http(s) URL"
    return None


# Every control character and every space but " " is unprintable, so a printable text needs no
# look at each character (which cost most of validating 10,000 specs).
def _has_space_or_control(text: str) -> bool:
    if text.isprintable():
        return " " in text
    return any(unicodedata.category(c) == "Cc" or c.isspace() for c in text)


def _has_control(text: str) -> bool:
    return not text.isprintable() and any(unicodedata.category(c) == "Cc" for c in text)


def _check_pairs(name: str, value: Any) -> list[str]:
    # Header and param values may be credentials: problems name positions and shapes, never values.
    first, second = PAIR_KEYS[name]
    if not isinstance(value, list | tuple):
        return [f"must be a list of {{{first}, {second}}} items, got {shape(value)}"]
    problems = []
    for position, item in enumerate(value):
        if not isinstance(item, Mapping):
            problems.append(f"item {position} must be a mapping with {first!r} and {second!r}, got {shape(item)}")
            continue
        unknown = sorted(str(k)[:40] for k in set(item) - {first, second})
        if unknown and name == "fields":
            problems.append(f"item {position} has unknown key(s) {', '.join(map(repr, unknown))}")
        elif unknown:  # a misplaced key may itself be the secret
            problems.append(
                f"item {position} has {len(unknown)} unknown key(s); expected only {first!r} and {second!r}"
            )
        for key in (first, second):
            if key not in item:
                problems.append(f"item {position} is missing {key!r}")
            elif not isinstance(item[key], str):
                problems.append(f"item {position} {key!r} must be a string, got {shape(item[key])}")
            elif key == first and not item[key]:
                problems.append(f"item {position} {key!r} must not be empty")
            elif name == "headers" and _has_control(item[key]):
                problems.append(f"item {position} {key!r} must not contain control characters (CR, LF, tab, ...)")
    return problems


def _validate(index: int, raw: Any) -> list[str]:
    if not isinstance(raw, Mapping):
        return [_problem(index, raw, None, f"must be a mapping of webhook fields, got {shape(raw)}")]
    problems = []
    for key in sorted(set(raw) - set(SPEC_KEYS), key=str):
        problems.append(_problem(index, raw, str(key)[:40], f"unknown field (expected one of {', '.join(SPEC_KEYS)})"))
    for required in REQUIRED_KEYS:
        if raw.get(required) in (None, ""):
            problems.append(_problem(index, raw, required, "is required"))
    if raw.get("url") not in (None, ""):
        text = _check_url(raw["url"])
        if text:
            problems.append(_problem(index, raw, "url", text))
    for name, allowed in (("event", EVENTS), ("type_call", TYPE_CALLS), ("type_style", TYPE_STYLES)):
        value = raw.get(name)
        if name != "event" and value == "":
            problems.append(_problem(index, raw, name, "must not be empty (leave the field out to leave it unmanaged)"))
        elif value not in (None, "") and value not in allowed:
            problems.append(_problem(index, raw, name, f"{_shown(value)} is not one of {', '.join(allowed)}"))
    template = raw.get("template")
    if template is not None and not isinstance(template, str):
        shown = _shown(template) if isinstance(template, int | float | bool) else shape(template)
        problems.append(_problem(index, raw, "template", f"must be a string or null, got {shown}"))
    for name in PAIR_KEYS:
        if raw.get(name) is not None:
            problems += [_problem(index, raw, name, text) for text in _check_pairs(name, raw[name])]
    return problems


def parse_spec(raw: Mapping[str, Any], index: int = 0) -> WebhookSpec:
    """Validate and normalise one spec; raise :class:`WebhookSpecError` listing every problem."""
    return parse_specs([raw], first_index=index)[0]


def parse_specs(raw_specs: Iterable[Any], *, first_index: int = 0) -> list[WebhookSpec]:
    """
    Validate and normalise a set of specs, before anything is sent anywhere.

    :param raw_specs: mappings with the API's fields (``url`` and ``event`` required).
    :param first_index: the index of the first spec, for messages.
    :raises WebhookSpecError: naming every problem at once: the spec, the field, the bad value.
    """
    if isinstance(raw_specs, str | bytes | Mapping) or not isinstance(raw_specs, Iterable):
        raise WebhookSpecError([f"webhooks must be a list of specs, got {shape(raw_specs)}"])
    raw_list = list(raw_specs)
    problems: list[str] = []
    specs: list[WebhookSpec] = []
    for offset, raw in enumerate(raw_list):
        index = first_index + offset
        found = _validate(index, raw)
        problems += found
        if not found:
            values = {
                name: normalise(name, raw[name])
                for name in SPEC_KEYS
                # A null value names nothing, except for template, where null is a value to keep.
                if name in raw and (raw[name] is not None or name == "template")
            }
            specs.append(WebhookSpec(values=values, index=index))
    problems += _overlaps(specs)
    if problems:
        raise WebhookSpecError(problems)
    return specs


def _overlaps(specs: Sequence[WebhookSpec]) -> list[str]:
    """Pairs of specs one existing webhook could match, found within each (url, event) group."""
    groups: dict[tuple[str, str], list[WebhookSpec]] = {}
    problems = []
    for spec in specs:
        group = groups.setdefault((spec.url, spec.event), [])
        earlier = next((other for other in group if spec.overlaps(other)), None)
        if earlier is not None:
            problems.append(f"{spec.label}: same identity as {earlier.label}; one existing webhook would match both")
        group.append(spec)
    return problems


def parse_target(
    raw: Mapping[str, Any], *, state: Any = "present", webhook_id: Any = None
) -> tuple[WebhookSpec, int | None]:
    """
    One webhook as a task names it: its spec, whether it must be ``present`` or ``absent``, and
    the id it is pinned to (``None`` or empty: found by identity), every problem reported at once.

    :raises WebhookSpecError: naming the field (``state``, ``webhook_id`` or a spec field).
    """
    problems, spec, number = [], None, None
    if state not in STATES:
        problems.append(f"field 'state': {str(state)[:40]!r} is not one of {', '.join(STATES)}")
    if webhook_id not in (None, ""):
        try:
            number = valid_webhook_id(webhook_id)
        except PlusofonConfigError as error:
            problems.append(f"field 'webhook_id': {error}")
    try:
        spec = parse_spec(raw)
    except WebhookSpecError as error:
        problems += error.problems
    if problems or spec is None:
        raise WebhookSpecError(problems)
    return spec, number
