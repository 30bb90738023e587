"""Reconcile: read the account as a plan needs it, plan, and apply the plan. No Airflow import here.

The one place that decides and then writes, through a
:class:`~airflow_provider_plusofon.hooks.client.PlusofonClient`. Every task (both operators, the
sensor, the trigger) and the hook's ``create_webhook`` come through here, so a rule about writing
(what a lost create means, what is reported when a write fails) holds for all of them.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from airflow_provider_plusofon.exceptions import (
    AmbiguousWebhookError,
    CreateOutcomeUnknownError,
    PartialApplyError,
    PlusofonAPIError,
    PlusofonError,
    PlusofonNotFoundError,
    StalePlanError,
)
from airflow_provider_plusofon.hooks.client import WEBHOOKS_PATH, PlusofonClient
from airflow_provider_plusofon.redaction import seal
from airflow_provider_plusofon.webhooks.plan import (
    DELETE,
    UNCHANGED,
    UPDATE,
    Action,
    Plan,
    detail_ids,
    plan,
    plan_removal,
    with_details,
)
from airflow_provider_plusofon.webhooks.render import render_plan
from airflow_provider_plusofon.webhooks.spec import WebhookSpec

log = logging.getLogger(__name__)


def read_account(client: PlusofonClient, specs: Sequence[WebhookSpec]) -> list[dict[str, Any]]:
    """
    The account's webhooks as :func:`~.plan.plan` needs them: the listing, with the detail view
    merged in for each webhook whose identity matches a spec managing a detail-only field
    (fetched concurrently). Specs that manage only list fields cost only the list pages.
    """
    listing = client.list_webhooks()
    ids = detail_ids(specs, listing)
    return with_details(listing, client.get_webhooks(ids) if ids else {})


def plan_account(
    client: PlusofonClient, specs: Sequence[WebhookSpec], *, prune: bool = False, dedupe: bool | None = None
) -> Plan:
    """Read the account and plan against it; see :func:`~.plan.plan`."""
    return plan(specs, read_account(client, specs), prune=prune, dedupe=dedupe)


def plan_one(client: PlusofonClient, spec: WebhookSpec, *, absent: bool = False, dedupe: bool = False) -> Plan:
    """
    Plan one webhook by identity: present (created or updated) or absent (deleted).

    :param absent: plan its deletion instead of its presence.
    :param dedupe: when several webhooks have its identity, delete the extras (present) or all
        of them (absent); without it that is an :class:`AmbiguousWebhookError`, before any write.
    """
    if absent:
        result = plan_removal([spec], client.list_webhooks())
    else:
        result = plan([spec], read_account(client, [spec]), dedupe=dedupe)
    ids = result.duplicates.get(spec.label)
    if ids and not dedupe:
        kept = next((a.webhook_id for a in result.actions if a.kind != DELETE), None)
        remedy = "delete them all" if absent else f"keep #{kept} and delete the others"
        raise AmbiguousWebhookError(
            f"{len(ids)} webhooks match {spec.label}: {', '.join(f'#{i}' for i in ids)}. "
            f"Pass dedupe=True to {remedy}, or name one with webhook_id."
        )
    return result


def plan_by_id(client: PlusofonClient, spec: WebhookSpec, webhook_id: int, *, absent: bool = False) -> Plan:
    """
    Plan one webhook pinned by its id: updated to the spec, or deleted. An absent id that is
    already gone plans nothing; a present one that does not exist is a :class:`PlusofonNotFoundError`.
    """
    try:
        current = client.get_webhook(webhook_id)
    except PlusofonNotFoundError:
        if absent:
            return Plan(actions=())
        raise
    if absent:
        action = Action(DELETE, spec, current, reason=f"#{webhook_id} must be absent")
    else:
        changes = spec.diff(current)
        kind, reason = (UPDATE, f"{', '.join(changes)} differ") if changes else (UNCHANGED, "matches")
        action = Action(kind, spec, current, changes=changes, reason=reason)
    return Plan(actions=(action,), observed_ids=frozenset({webhook_id}))


def check_requirements(client: PlusofonClient, specs: Sequence[WebhookSpec], *, sealed: bool = False) -> dict[str, Any]:
    """
    Which specs the account satisfies (identity and every named field) and which it does not.

    :param sealed: the specs' secret values are sealed (see :func:`~airflow_provider_plusofon.redaction.seal`
        with the client's ``seal_key``); the account's are sealed the same way before comparing.
    """
    actual = read_account(client, specs)
    if sealed:
        actual = [seal(webhook, client.config.seal_key) for webhook in actual]
    return plan(specs, actual).requirements()


@dataclass(frozen=True)
class CreateOutcome:
    """
    What a batch of creates did, by the position of each spec in the batch.

    :param created: ``(position, webhook)`` for each spec that was created: the listed webhook
        with its new id (``id`` is ``None`` when the API accepted it but the id is unknown).
    :param failures: ``(position, error)`` for each spec not known to be created, and for each
        created one whose id could not be looked up.
    """

    created: list[tuple[int, dict[str, Any]]]
    failures: list[tuple[int, PlusofonError]]


def create_webhooks(
    client: PlusofonClient, specs: Sequence[WebhookSpec], *, known_ids: Iterable[Any] | None = None
) -> CreateOutcome:
    """
    Create webhooks and find their new ids, never sending one twice.

    The API answers a create with ``{"success": true}`` only, so the new ids are found by listing
    after the writes and matching on identity among the ids that were not there before (the
    lowest new id first). A create whose answer was lost (reset, timeout, 5xx) is looked for in
    that listing; when it is not there it is reported as :class:`CreateOutcomeUnknownError` and
    never sent again in this run, since a store that lags its answers could still add it.

    :param specs: what to create.
    :param known_ids: the ids on the account before (saves one listing when the caller has them).
    """
    if not specs:
        return CreateOutcome([], [])
    before = set(known_ids) if known_ids is not None else {w["id"] for w in client.list_webhooks()}
    errors = client.map_concurrently(_attempt(lambda spec: client.post_webhook(spec.body())), specs)
    accepted = [i for i, error in enumerate(errors) if error is None]
    maybe = {i for i, error in enumerate(errors) if error is not None and error.may_have_taken_effect}
    failures = [(i, e) for i, e in enumerate(errors) if e is not None and i not in maybe]
    looked_for = accepted + sorted(maybe)
    if not looked_for:
        return CreateOutcome([], failures)

    def all_accepted_found(items: list[dict[str, Any]]) -> bool:
        return None not in _match_new([specs[i] for i in accepted], items, before)

    try:
        listed = client.list_newest_first(len(looked_for), all_accepted_found)
    except PlusofonError as lookup_error:
        # The accepted creates are done, only their ids are unknown; the others' outcome is unknown.
        created = [(i, _unidentified(specs[i])) for i in accepted]
        failures += [(i, _lookup_failed(lookup_error)) for i in accepted]
        failures += [(i, _outcome_unknown(lookup_error)) for i in sorted(maybe)]
        return CreateOutcome(created, failures)

    created = []
    for i, match in zip(looked_for, _match_new([specs[i] for i in looked_for], listed, before), strict=True):
        if match is not None:
            if i in maybe:
                log.warning("The answer to the create of %s was lost, but the webhook was stored", specs[i].label)
            created.append((i, match))
        elif i in maybe:
            failures.append((i, _outcome_unknown(None)))
        else:
            created.append((i, _unidentified(specs[i])))
            failures.append((i, _not_listed()))
    return CreateOutcome(created, failures)


def _attempt(write: Callable[[Any], Any]) -> Callable[[Any], PlusofonError | None]:
    """Wrap a write so that one failure is reported with the others instead of hiding them."""

    def run(item: Any) -> PlusofonError | None:
        try:
            write(item)
        except PlusofonError as error:
            return error
        return None

    return run


def _match_new(
    specs: Sequence[WebhookSpec], items: Sequence[Mapping[str, Any]], before: set[Any]
) -> list[dict[str, Any] | None]:
    """For each spec, the lowest new id with its identity not taken by an earlier spec."""
    new = sorted((item for item in items if item["id"] not in before), key=lambda item: item["id"])
    taken: set[Any] = set()
    matched: list[dict[str, Any] | None] = []
    for spec in specs:
        match = next((item for item in new if item["id"] not in taken and spec.matches(item)), None)
        if match is not None:
            taken.add(match["id"])
        matched.append(None if match is None else dict(match))
    return matched


def _unidentified(spec: WebhookSpec) -> dict[str, Any]:
    return {"id": None, "url": spec.url, "event": spec.event, "type_call": spec.type_call}


def _lookup_failed(error: PlusofonError) -> PlusofonAPIError:
    return PlusofonAPIError(
        f"the webhook was created, but its id could not be looked up: {error}", method="POST", path=WEBHOOKS_PATH
    )


def _not_listed() -> PlusofonAPIError:
    return PlusofonAPIError(
        "the API accepted the webhook but it is not in the list afterwards", method="POST", path=WEBHOOKS_PATH
    )


def _outcome_unknown(lookup_error: PlusofonError | None) -> PlusofonAPIError:
    looked = f"the list could not be read ({lookup_error})" if lookup_error else "it is not in the list"
    return CreateOutcomeUnknownError(
        f"create outcome unknown: the answer was lost and {looked}. It may still appear, so it was not sent "
        "again (that could make a duplicate); run the task again, it plans afresh",
        method="POST",
        path=WEBHOOKS_PATH,
    )


def plan_id(plan: Plan, key: bytes) -> str:
    """
    A fingerprint of what the plan would write and delete, and of the observed state of every
    webhook it touches: equal for two plans exactly when applying either does the same thing to
    the same account state. Webhooks the plan leaves unchanged do not count.

    Secret values enter it only sealed with ``key`` (the client's ``seal_key``), so the id, which
    is shown in logs and XCom, says nothing about them.
    """
    material = sorted(
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
    return "plan-" + hashlib.sha256("\n".join(material).encode()).hexdigest()[:24]


def apply_plan(
    client: PlusofonClient, plan: Plan, *, dry_run: bool = False, approved_plan_id: str | None = None
) -> dict[str, Any]:
    """
    Carry out a plan and return its summary (with its ``plan_id``, and as ``plan_text`` the table
    the task log shows, for a person to review): the updates, then the creates
    (each batch concurrently), the deletes last.

    Deletions wait until every create and update succeeded: when anything fails, nothing is
    deleted, what was done stays done, and :class:`PartialApplyError` reports both, including
    creates whose ids could not be looked up.

    :param plan: what to do (see :func:`plan_account`).
    :param dry_run: write nothing, only summarise.
    :param approved_plan_id: apply only if this plan's id is this one (the id of a plan a person
        reviewed); otherwise raise :class:`StalePlanError` before any write.
    """
    summary = {
        **plan.summary(dry_run=dry_run),
        "plan_id": plan_id(plan, client.config.seal_key),
        "plan_text": render_plan(plan, dry_run=dry_run),
    }
    if approved_plan_id is not None and approved_plan_id != summary["plan_id"]:
        raise StalePlanError(approved_plan_id, summary["plan_id"], render_plan(plan, dry_run=True))
    if dry_run:
        return summary
    done: dict[str, list[dict[str, Any]]] = {"created": [], "updated": [], "deleted": []}
    failures: list[str] = []

    updates = plan.updates
    update = _attempt(lambda a: client.update_webhook(a.webhook_id, a.body()))
    for action, error in zip(updates, client.map_concurrently(update, updates), strict=True):
        if error is None:
            done["updated"].append(action.describe())
        else:
            failures.append(f"update #{action.webhook_id} {action.spec.label if action.spec else ''}: {error}")

    creates = plan.creates
    outcome = create_webhooks(client, [a.spec for a in creates if a.spec], known_ids=plan.observed_ids)
    for position, item in outcome.created:
        done["created"].append({**creates[position].describe(), "id": item["id"]})
    failures += [f"create {creates[position].spec.label}: {error}" for position, error in outcome.failures]  # type: ignore[union-attr]
    if failures:
        raise PartialApplyError(done, failures)

    deletes = plan.deletes
    delete = _attempt(lambda a: client.delete_webhook(a.webhook_id, missing_ok=True))
    for action, error in zip(deletes, client.map_concurrently(delete, deletes), strict=True):
        if error is None:
            done["deleted"].append(action.describe())
        else:
            failures.append(f"delete #{action.webhook_id}: {error}")
    if failures:
        raise PartialApplyError(done, failures)
    return {**summary, **done}
