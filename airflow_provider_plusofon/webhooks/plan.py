"""Reconciliation: compare declared specs with the account's webhooks and decide what should change.

``plan(desired, actual)`` does no I/O: it takes the account as plain data (list items, with the
detail view merged in where a spec manages a detail-only field) and returns a :class:`Plan`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_plusofon.webhooks.spec import PAIR_KEYS, WebhookSpec, to_api

CREATE = "create"
UPDATE = "update"
DELETE = "delete"
UNCHANGED = "unchanged"
REDACTED = "***"


def _sort_key(webhook: Mapping[str, Any]) -> tuple[int, str]:
    webhook_id = webhook.get("id")
    return (webhook_id, "") if isinstance(webhook_id, int) else (0, str(webhook_id))


def describe_change(name: str, current: Any, desired: Any) -> dict[str, Any]:
    """
    A JSON-serialisable description of one field's change, with header values never shown.

    Headers say which names are added, removed or changed, since their values are secrets.
    """
    if name == "headers":
        before, after = dict(current), dict(desired)
        return {
            "added": sorted(set(after) - set(before)),
            "removed": sorted(set(before) - set(after)),
            "changed": sorted(n for n in set(before) & set(after) if before[n] != after[n]),
        }
    if name in PAIR_KEYS:
        return {"before": to_api(name, current), "after": to_api(name, desired)}
    return {"before": current, "after": desired}


@dataclass(frozen=True)
class Action:
    """
    One step of a plan.

    :param kind: ``create``, ``update``, ``delete`` or ``unchanged``.
    :param spec: the spec behind it (``None`` for the deletion of an undeclared webhook).
    :param webhook: the existing webhook it concerns (``None`` for a create).
    :param changes: for an update, ``{field: (current, desired)}`` of the managed fields that differ.
    :param reason: why, in words.
    """

    kind: str
    spec: WebhookSpec | None
    webhook: Mapping[str, Any] | None
    changes: Mapping[str, tuple[Any, Any]] = field(default_factory=dict)
    reason: str = ""

    @property
    def webhook_id(self) -> Any:
        return self.webhook.get("id") if self.webhook is not None else None

    def body(self) -> dict[str, Any]:
        """The POST (create) or full PUT (update) body for this action."""
        if self.spec is None:
            raise ValueError(f"a {self.kind} of an undeclared webhook has no body")
        return self.spec.body(base=self.webhook)

    def describe(self) -> dict[str, Any]:
        """A JSON-serialisable summary: id, url, event, type_call, and changes or reason."""
        source: Mapping[str, Any] = self.webhook if self.webhook is not None else dict(self.spec.values)  # type: ignore[union-attr]
        item: dict[str, Any] = {
            "id": self.webhook_id,
            "url": source.get("url"),
            "event": source.get("event"),
            "type_call": source.get("type_call"),
        }
        if self.kind == UPDATE:
            item["changes"] = {name: describe_change(name, *pair) for name, pair in self.changes.items()}
        if self.kind == DELETE:
            item["reason"] = self.reason
        return item


@dataclass(frozen=True)
class Plan:
    """
    What should change for the account to match the specs.

    :param actions: one per spec (create, update or unchanged) plus the deletions.
    :param duplicates: spec label -> ids of every existing webhook with that spec's identity,
        where there is more than one.
    """

    actions: tuple[Action, ...]
    duplicates: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)

    def _of(self, kind: str) -> list[Action]:
        return [a for a in self.actions if a.kind == kind]

    @property
    def creates(self) -> list[Action]:
        return self._of(CREATE)

    @property
    def updates(self) -> list[Action]:
        return self._of(UPDATE)

    @property
    def deletes(self) -> list[Action]:
        return self._of(DELETE)

    @property
    def unchanged(self) -> list[Action]:
        return self._of(UNCHANGED)

    @property
    def has_changes(self) -> bool:
        return any(a.kind != UNCHANGED for a in self.actions)

    def summary(self, *, dry_run: bool) -> dict[str, Any]:
        """The plan as JSON-serialisable data, with no secret values in it."""
        return {
            "created": [a.describe() for a in self.creates],
            "updated": [a.describe() for a in self.updates],
            "deleted": [a.describe() for a in self.deletes],
            "unchanged": [a.describe() for a in self.unchanged],
            "duplicates": {label: list(ids) for label, ids in self.duplicates.items()},
            "dry_run": dry_run,
        }

    def requirements(self) -> dict[str, Any]:
        """
        The plan read as a check: which specs are satisfied, which are missing or different.

        A spec is satisfied when an existing webhook has its identity and every field it names.
        """
        satisfied = [a.describe() for a in self.unchanged]
        missing = [{**a.describe(), "reason": a.reason} for a in self.creates]
        different = [a.describe() for a in self.updates]
        return {
            "satisfied": satisfied,
            "missing": missing,
            "different": different,
            "all_satisfied": not missing and not different,
        }


def detail_ids(specs: Sequence[WebhookSpec], listing: Iterable[Mapping[str, Any]]) -> list[Any]:
    """
    Ids of the listed webhooks whose detail view the plan needs: those matching the identity of a
    spec that manages a detail-only field. None at all when no spec manages one.
    """
    detailed: dict[tuple[Any, Any], list[WebhookSpec]] = {}
    for spec in specs:
        if spec.needs_detail:
            detailed.setdefault((spec.url, spec.event), []).append(spec)
    if not detailed:
        return []
    return [w.get("id") for w in listing if any(s.matches(w) for s in detailed.get(_url_event(w), ()))]


def _url_event(webhook: Mapping[str, Any]) -> tuple[Any, Any]:
    # Every identity includes url and event: grouping by them keeps matching linear in the account.
    return webhook.get("url"), webhook.get("event")


def with_details(
    listing: Iterable[Mapping[str, Any]], details: Mapping[Any, Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """The listing with each item replaced by its detail view where one was fetched."""
    return [{**item, **details.get(item.get("id"), {})} for item in listing]


def plan(desired: Sequence[WebhookSpec], actual: Sequence[Mapping[str, Any]], *, prune: bool = False) -> Plan:
    """
    Decide what makes the account match the specs.

    Each spec becomes a create (no webhook has its identity), an update (managed fields differ)
    or unchanged. Where several webhooks share a spec's identity, the one kept is the lowest id
    among those already matching every managed field, else the lowest id; the others are
    reported as duplicates and, with ``prune``, deleted. With ``prune`` the webhooks no spec
    matches are deleted too; without it nothing is ever deleted.

    :param desired: validated specs (see :func:`~.spec.parse_specs`).
    :param actual: the account's webhooks, with detail views merged in (see :func:`detail_ids`).
    :param prune: delete what the specs do not declare, and the duplicates of what they do.
    """
    actions: list[Action] = []
    duplicates: dict[str, tuple[Any, ...]] = {}
    claimed: set[Any] = set()
    ordered = sorted(actual, key=_sort_key)
    by_url_event: dict[tuple[Any, Any], list[Mapping[str, Any]]] = {}
    for webhook in ordered:
        by_url_event.setdefault(_url_event(webhook), []).append(webhook)
    for spec in desired:
        matches = [w for w in by_url_event.get((spec.url, spec.event), ()) if spec.matches(w)]
        if not matches:
            missing = "url, event and type_call" if spec.type_call else "url and event"
            actions.append(Action(CREATE, spec, None, reason=f"no webhook has this {missing}"))
            continue
        diffs = [spec.diff(w) for w in matches]
        keep = next((i for i, d in enumerate(diffs) if not d), 0)
        kept, changes = matches[keep], diffs[keep]
        if changes:
            reason = f"{', '.join(changes)} differ"
            actions.append(Action(UPDATE, spec, kept, changes=changes, reason=reason))
        else:
            actions.append(Action(UNCHANGED, spec, kept, reason="matches every managed field"))
        claimed.update(w.get("id") for w in matches)
        extras = [w for i, w in enumerate(matches) if i != keep]
        if extras:
            duplicates[spec.label] = tuple(w.get("id") for w in matches)
            if prune:
                actions += [
                    Action(DELETE, spec, w, reason=f"duplicate of #{kept.get('id')} ({spec.label})") for w in extras
                ]
    if prune:
        actions += [
            Action(DELETE, None, w, reason="not declared in any spec") for w in ordered if w.get("id") not in claimed
        ]
    return Plan(actions=tuple(actions), duplicates=duplicates)
