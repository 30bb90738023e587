"""Reconcile: read the account as a plan needs it, plan, check the guards, and apply. No Airflow here.

The one place that decides and then writes, through a :class:`~airflow_provider_plusofon.api.PlusofonClient`.
Every task (both operators, the sensor, the trigger) and the hook's ``create_webhook`` come
through here, so a rule about writing (what a lost create means, what is reported when a write
fails, when a plan is too dangerous to apply) holds for all of them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from airflow_provider_plusofon.api import PlusofonClient
from airflow_provider_plusofon.api.paging import same_listing
from airflow_provider_plusofon.exceptions import (
    AmbiguousWebhookError,
    PartialApplyError,
    PlusofonNotFoundError,
    StalePlanError,
    UnsafePlanError,
)
from airflow_provider_plusofon.webhooks.creates import create_webhooks
from airflow_provider_plusofon.webhooks.plan import (
    DELETE,
    UNCHANGED,
    UPDATE,
    Action,
    Plan,
    detail_ids,
    plan_changes,
    plan_id,
    plan_removal,
    with_details,
)
from airflow_provider_plusofon.webhooks.render import render_plan
from airflow_provider_plusofon.webhooks.spec import WebhookSpec

_log = logging.getLogger(__name__)


class Log(Protocol):
    """Where a run's plan and outcome are written: a task's logger, or any ``logging.Logger``."""

    def info(self, msg: str, /, *args: Any) -> Any: ...


def read_account(
    client: PlusofonClient,
    specs: Sequence[WebhookSpec],
    listing: Sequence[Mapping[str, Any]] | None = None,
    details: dict[Any, dict[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """
    The account's webhooks as :func:`~.plan.plan_changes` needs them: the listing, with the detail
    view merged in for each webhook whose identity matches a spec managing a detail-only field
    (fetched concurrently). Specs that manage only list fields cost only the list pages.

    :param listing: the listing, when already read.
    :param details: detail views already fetched (those missing are fetched and added to it).
    """
    listing = client.list_webhooks() if listing is None else listing
    details = {} if details is None else details
    missing = [i for i in detail_ids(specs, listing) if i not in details]
    if missing:
        details.update(client.get_webhooks(missing))
    return with_details(listing, details)


def _plan_from_a_snapshot(
    client: PlusofonClient, specs: Sequence[WebhookSpec], decide: Callable[[list[dict[str, Any]]], Plan]
) -> Plan:
    """
    ``decide`` applied to the account; when it would create or delete, only on a consistent
    snapshot: the listing is confirmed by a second read (another actor may have moved a webhook
    onto a page already read, and a create planned on that read would make a duplicate), and the
    plan is made again on what the account holds when two reads agree. A plan that creates and
    deletes nothing costs no extra read: no missed webhook can make it wrong.
    """
    listing = client.list_webhooks()
    details: dict[Any, dict[str, Any]] = {}
    result = decide(read_account(client, specs, listing, details))
    if not (result.creates or result.deletes):
        return result
    confirmed = client.confirm_listing(listing)
    if same_listing(confirmed, listing):
        return result
    return decide(read_account(client, specs, confirmed, details))


def plan_account(
    client: PlusofonClient, specs: Sequence[WebhookSpec], *, prune: bool = False, dedupe: bool | None = None
) -> Plan:
    """Read the account and plan against it (see :func:`~.plan.plan_changes`); a plan that creates or
    deletes is made from a consistent snapshot."""
    return _plan_from_a_snapshot(client, specs, lambda actual: plan_changes(specs, actual, prune=prune, dedupe=dedupe))


def plan_one(client: PlusofonClient, spec: WebhookSpec, *, absent: bool = False, dedupe: bool = False) -> Plan:
    """
    Plan one webhook by identity: present (created or updated) or absent (deleted).

    :param absent: plan its deletion instead of its presence.
    :param dedupe: when several webhooks have its identity, delete the extras (present) or all
        of them (absent); without it that is an :class:`AmbiguousWebhookError`, before any write.
    """
    if absent:
        result = _plan_from_a_snapshot(client, [], lambda actual: plan_removal([spec], actual))
    else:
        result = _plan_from_a_snapshot(client, [spec], lambda actual: plan_changes([spec], actual, dedupe=dedupe))
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


def check_prune(specs: Sequence[WebhookSpec], *, prune: bool, allow_empty: bool) -> None:
    """Refuse, before any request, to prune with no specs (it would delete every webhook) unless allowed."""
    if prune and not specs and not allow_empty:
        raise UnsafePlanError(
            "prune=True with no specs would delete every webhook on the account; "
            "pass allow_empty=True if that is what you want"
        )


def apply_plan(
    client: PlusofonClient,
    plan: Plan,
    *,
    dry_run: bool = False,
    approved_plan_id: str | None = None,
    max_deletes: int | None = None,
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
    :param max_deletes: raise :class:`UnsafePlanError` before any write (a dry run too) when the
        plan deletes more than this.
    """
    if max_deletes is not None and len(plan.deletes) > max_deletes:
        raise UnsafePlanError(
            f"the plan deletes {len(plan.deletes)} webhooks, more than max_deletes={max_deletes}; nothing was written"
        )
    summary = {
        **plan.summary(dry_run=dry_run),
        "plan_id": plan_id(plan, client.config.seal_key, account=client.config.account),
        "plan_text": render_plan(plan, dry_run=dry_run),
    }
    if approved_plan_id is not None and approved_plan_id != summary["plan_id"]:
        raise StalePlanError(approved_plan_id, summary["plan_id"], render_plan(plan, dry_run=True))
    if dry_run:
        return summary
    return {**summary, **_write(client, plan)}


def _write(client: PlusofonClient, plan: Plan) -> dict[str, list[dict[str, Any]]]:
    done: dict[str, list[dict[str, Any]]] = {"created": [], "updated": [], "deleted": []}
    failures: list[str] = []

    updates = plan.updates
    for action, error in zip(updates, client.update_webhooks([(a.webhook_id, a.body()) for a in updates]), strict=True):
        if error is None:
            done["updated"].append(action.describe())
        else:
            failures.append(f"update #{action.webhook_id} {action.spec.label}: {error}")  # type: ignore[union-attr]

    creates = plan.creates
    outcome = create_webhooks(client, [a.spec for a in creates if a.spec], known_ids=plan.observed_ids)
    for position, item in outcome.created:
        copies = {"copies": item["copies"]} if "copies" in item else {}
        done["created"].append({**creates[position].describe(), "id": item["id"], **copies})
    failures += [f"create {creates[position].spec.label}: {error}" for position, error in outcome.failures]  # type: ignore[union-attr]
    if failures:
        raise PartialApplyError(done, failures)

    deletes = plan.deletes
    for action, error in zip(
        deletes, client.delete_webhooks([a.webhook_id for a in deletes], missing_ok=True), strict=True
    ):
        if error is None:
            done["deleted"].append(action.describe())
        else:
            failures.append(f"delete #{action.webhook_id}: {error}")
    if failures:
        raise PartialApplyError(done, failures)
    return done


def ensure_webhooks(
    client: PlusofonClient,
    specs: Sequence[WebhookSpec],
    *,
    prune: bool = False,
    dry_run: bool = False,
    max_deletes: int | None = None,
    allow_empty: bool = False,
    approved_plan_id: str | None = None,
    log: Log = _log,
    on_plan: Callable[[Plan], None] | None = None,
) -> dict[str, Any]:
    """
    Make the account match a declared set: guard, plan, log the plan, apply (see
    :func:`apply_plan`), and log the outcome. What :class:`EnsureWebhooksOperator` does.

    :param prune: also delete what no spec declares (and the duplicates of what one does).
    :param allow_empty: allow ``prune`` with no specs.
    :param log: where the plan table and the outcome are written (the task's log).
    :param on_plan: called with the plan once it is made, before anything is applied (the task
        records what it found even when applying then fails).
    """
    check_prune(specs, prune=prune, allow_empty=allow_empty)
    plan = plan_account(client, specs, prune=prune)
    if on_plan is not None:
        on_plan(plan)
    log.info("%s", render_plan(plan, dry_run=dry_run))
    summary = apply_plan(client, plan, dry_run=dry_run, approved_plan_id=approved_plan_id, max_deletes=max_deletes)
    counts = [len(summary[k]) for k in ("created", "updated", "deleted", "unchanged")]
    if dry_run:  # nothing was done: say what would be
        log.info(
            "Plusofon webhooks dry run, nothing written: would create %d, update %d, delete %d; %d unchanged", *counts
        )
    else:
        log.info("Plusofon webhooks ensured: %d created, %d updated, %d deleted, %d unchanged", *counts)
    return summary


def ensure_webhook(
    client: PlusofonClient,
    spec: WebhookSpec,
    *,
    webhook_id: int | None = None,
    absent: bool = False,
    dedupe: bool = False,
    dry_run: bool = False,
    log: Log = _log,
) -> dict[str, Any]:
    """
    Make one webhook present or absent, found by identity or pinned by id (see :func:`plan_one`
    and :func:`plan_by_id`): plan, log the plan, apply. What :class:`PlusofonWebhookOperator` does.
    """
    if webhook_id is not None:
        plan = plan_by_id(client, spec, webhook_id, absent=absent)
    else:
        plan = plan_one(client, spec, absent=absent, dedupe=dedupe)
    log.info("%s", render_plan(plan, dry_run=dry_run))
    return apply_plan(client, plan, dry_run=dry_run)
