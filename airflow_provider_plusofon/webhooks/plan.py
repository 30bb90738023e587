"""Reconciliation: compare declared specs with the account's webhooks and decide what should change.

``plan_changes(desired, actual)`` does no I/O: it takes the account as plain data (list items, with
the detail view merged in where a spec manages a detail-only field) and returns a :class:`Plan`,
whose :func:`plan_id` says what it would write to which observed state.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_plusofon.redaction import SECRET_PAIR_FIELDS, redact_url, seal
from airflow_provider_plusofon.webhooks.spec import PAIR_KEYS, WebhookSpec, normalise, to_api

CREATE = "create"
UPDATE = "update"
DELETE = "delete"
UNCHANGED = "unchanged"


def _sort_key(webhook: Mapping[str, Any]) -> tuple[int, str]:
    webhook_id = webhook.get("id")
    return (webhook_id, "") if isinstance(webhook_id, int) else (0, str(webhook_id))


def describe_change(name: str, current: Any, desired: Any) -> dict[str, Any]:
    """
    A JSON-serialisable description of one field's change, with no secret in it.

    Headers and params say which names are added, removed or changed, since their values are
    secrets; a URL's user info is redacted.
    """
    if name in SECRET_PAIR_FIELDS:
        before, after = dict(current), dict(desired)
        return {
            "added": sorted(set(after) - set(before)),
            "removed": sorted(set(before) - set(after)),
            "changed": sorted(n for n in set(before) & set(after) if before[n] != after[n]),
        }
    if name in PAIR_KEYS:
        return {"before": to_api(name, current), "after": to_api(name, desired)}
    if name == "url":
        return {"before": redact_url(current), "after": redact_url(desired)}
    return {"before": current, "after": desired}


@dataclass(frozen=True)
class Action:
    """
    One step of a plan.

    :param kind: ``create``, ``update``, ``delete`` or ``unchanged``.
    :param spec: the spec behind it (``None`` for the deletion of an undeclared webhook).
    :param webhook: the existing webhook it concerns (``None`` for a create).
    :param changes: ``{field: (current, desired)}`` of the managed fields that differ (for a
        create, every managed field, from nothing).
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
        """A JSON-serialisable summary with no secret in it: id, url, event, type_call, and
        changes (creates and updates) or reason (deletes)."""
        source: Mapping[str, Any] = self.webhook if self.webhook is not None else dict(self.spec.values)  # type: ignore[union-attr]
        item: dict[str, Any] = {
            "id": self.webhook_id,
            "url": redact_url(source.get("url")),
            "event": source.get("event"),
            "type_call": source.get("type_call"),
        }
        if self.kind in (CREATE, UPDATE):
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
    :param observed_ids: the ids of every webhook the plan was made from (a create's new id is
        one that is not among them).
    """

    actions: tuple[Action, ...]
    duplicates: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)
    observed_ids: frozenset[Any] = frozenset()

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

        A spec is satisfied when an existing webhook has its identity and every field it names;
        ``duplicates`` names the specs that several webhooks match (they are still satisfied).
        """
        satisfied = [a.describe() for a in self.unchanged]
        missing = [{**a.describe(), "reason": a.reason} for a in self.creates]
        different = [a.describe() for a in self.updates]
        return {
            "satisfied": satisfied,
            "missing": missing,
            "different": different,
            "duplicates": {label: list(ids) for label, ids in self.duplicates.items()},
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


def _matches_by_spec(
    desired: Sequence[WebhookSpec], ordered: Sequence[Mapping[str, Any]]
) -> list[tuple[WebhookSpec, list[Mapping[str, Any]]]]:
    by_url_event: dict[tuple[Any, Any], list[Mapping[str, Any]]] = {}
    for webhook in ordered:
        by_url_event.setdefault(_url_event(webhook), []).append(webhook)
    return [(spec, [w for w in by_url_event.get((spec.url, spec.event), ()) if spec.matches(w)]) for spec in desired]


def plan_changes(
    desired: Sequence[WebhookSpec],
    actual: Sequence[Mapping[str, Any]],
    *,
    prune: bool = False,
    dedupe: bool | None = None,
) -> Plan:
    """
    Decide what makes the account match the specs.

    Each spec becomes a create (no webhook has its identity), an update (managed fields differ)
    or unchanged. Where several webhooks share a spec's identity, the one kept is the lowest id
    among those already matching every managed field, else the lowest id; the others are
    reported as duplicates and, with ``dedupe``, deleted. With ``prune`` the webhooks no spec
    matches are deleted too; without ``prune`` or ``dedupe`` nothing is ever deleted.

    :param desired: validated specs (see :func:`~.spec.parse_specs`).
    :param actual: the account's webhooks, with detail views merged in (see :func:`detail_ids`).
    :param prune: delete what the specs do not declare (and, unless ``dedupe`` says otherwise,
        the duplicates of what they do).
    :param dedupe: delete the duplicates of declared webhooks (default: as ``prune``).
    """
    dedupe = prune if dedupe is None else dedupe
    actions: list[Action] = []
    duplicates: dict[str, tuple[Any, ...]] = {}
    claimed: set[Any] = set()
    ordered = sorted(actual, key=_sort_key)
    for spec, matches in _matches_by_spec(desired, ordered):
        if not matches:
            missing = "url, event and type_call" if spec.type_call else "url and event"
            created = {n: (normalise(n, None), v) for n, v in spec.values.items()}
            actions.append(Action(CREATE, spec, None, changes=created, reason=f"no webhook has this {missing}"))
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
            if dedupe:
                actions += [
                    Action(DELETE, spec, w, reason=f"duplicate of #{kept.get('id')} ({spec.label})") for w in extras
                ]
    if prune:
        actions += [
            Action(DELETE, None, w, reason="not declared in any spec") for w in ordered if w.get("id") not in claimed
        ]
    return Plan(actions=tuple(actions), duplicates=duplicates, observed_ids=_ids(actual))


def plan_removal(desired: Sequence[WebhookSpec], actual: Sequence[Mapping[str, Any]]) -> Plan:
    """
    Decide what makes the specs absent: every webhook with a spec's identity is deleted.

    :param desired: validated specs of what must not exist.
    :param actual: the account's webhooks (the list view is enough: only identities are compared).
    """
    actions: list[Action] = []
    duplicates: dict[str, tuple[Any, ...]] = {}
    for spec, matches in _matches_by_spec(desired, sorted(actual, key=_sort_key)):
        actions += [Action(DELETE, spec, w, reason=f"{spec.label} must be absent") for w in matches]
        if len(matches) > 1:
            duplicates[spec.label] = tuple(w.get("id") for w in matches)
    return Plan(actions=tuple(actions), duplicates=duplicates, observed_ids=_ids(actual))


def _ids(actual: Iterable[Mapping[str, Any]]) -> frozenset[Any]:
    return frozenset(w.get("id") for w in actual)


def plan_id(plan: Plan, key: bytes, *, account: str) -> str:
    """
    A fingerprint of the account, of what the plan would write and delete there, and of the
    observed state of every webhook it touches: equal for two plans exactly when applying either
    does the same thing to the same account in the same state. Webhooks the plan leaves unchanged
    do not count. An id approved for one account (staging) is never that of another (production).

    Secret values enter it only sealed with ``key`` (the client's ``seal_key``), so the id, which
    is shown in logs and XCom, says nothing about them.

    :param account: which account the plan is for (the client's ``config.account``: the base URL
        and the Client ID).
    """
    changes = sorted(
        json.dumps(
            {
                "kind": action.kind,
                "id": action.webhook_id,
                "write": seal(action.body(), key) if action.spec is not None and action.kind != DELETE else None,
                "observed": seal(action.webhook, key) if action.webhook is not None else None,
            },
            sort_keys=True,
            default=str,
        )
        for action in plan.actions
        if action.kind != UNCHANGED
    )
    return "plan-" + hashlib.sha256("\n".join([f"account {account}", *changes]).encode()).hexdigest()[:24]
