"""What a run of ``EnsureWebhooksOperator`` leaves behind for the Plusofon page (issue 35). No I/O, no Airflow.

The page in Airflow's UI tells, per account, whether it is as declared, since when, and what waits
for a person. It reads only what Airflow recorded, so every ensure run (a dry-run audit, a repair)
records its outcome: one small JSON-able mapping, built here from the plan the run made:

- ``outcome``: ``matching`` (nothing to do), ``drifted`` (a dry run found something to change or
  duplicates), ``repaired`` (the run wrote), ``stale`` (the approved plan was not the plan made
  now: nothing was written, and ``plan_id`` is the new plan to approve) or ``failed`` (``error``
  says why, as the task's error says it);
- ``plan_id``, ``approved_plan_id``, ``writes`` (how many creates, updates and deletes the plan has);
- ``drift``: what differs, as the drift watcher reports it (identities and field names, never values),
  with ``undeclared``: what a prune would delete;
- ``specs``: each declared webhook beside what the account held (the managed fields, secrets as
  ``(sensitive)``), at most ``MAX_SPECS`` of them (``specs_total`` says how many there are);
- ``declared``: which declaration it checked (:func:`declaration_of`): an account may be declared by
  several DAGs, each with its own specs, and each is as declared or not on its own.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

from airflow_provider_plusofon.exceptions import PlusofonError, StalePlanError
from airflow_provider_plusofon.redaction import MAX_SHOWN_CHARS, SECRET_PAIR_FIELDS, redact_url
from airflow_provider_plusofon.webhooks.drift import what_drifted
from airflow_provider_plusofon.webhooks.plan import CREATE, UNCHANGED, UPDATE, Action, Plan
from airflow_provider_plusofon.webhooks.spec import PAIR_KEYS, SPEC_KEYS, WebhookSpec

MATCHING, DRIFTED, REPAIRED, STALE, FAILED = "matching", "drifted", "repaired", "stale", "failed"
OUTCOMES = (MATCHING, DRIFTED, REPAIRED, STALE, FAILED)
RECORD_VERSION = 1
MAX_SPECS = 100
SENSITIVE = "(sensitive)"
_STATUS = {CREATE: "missing", UPDATE: "different", UNCHANGED: "matching"}
_WRITES = ("created", "updated", "deleted")


def run_record(plan: Plan, summary: Mapping[str, Any], *, approved_plan_id: str | None = None) -> dict[str, Any]:
    """
    The record of a run that finished: what it planned, and whether it wrote.

    :param plan: the plan the run made.
    :param summary: what the run returned (``apply_plan``'s summary).
    :param approved_plan_id: the plan a person approved, when the run applied one.
    """
    wrote = not summary.get("dry_run") and any(summary.get(kind) for kind in _WRITES)
    outcome = REPAIRED if wrote else DRIFTED if plan.has_changes or plan.duplicates else MATCHING
    return {
        **_planned(plan, outcome),
        "plan_id": summary.get("plan_id"),
        "approved_plan_id": approved_plan_id,
        "dry_run": bool(summary.get("dry_run")),
    }


def failed_record(
    error: BaseException, plan: Plan | None = None, specs: Sequence[WebhookSpec] | None = None
) -> dict[str, Any]:
    """
    The record of a run that failed. A :class:`StalePlanError` is ``stale``: the approval was
    answered for a plan that is no longer the one to apply, and the new one waits for approval.

    :param plan: the plan the run made before it failed, if it got that far.
    :param specs: the specs it read, if it got that far (they name the declaration).
    """
    if isinstance(error, StalePlanError) and plan is not None:
        return {**_planned(plan, STALE), "plan_id": error.plan_id, "approved_plan_id": error.approved_plan_id}
    if plan is not None:
        record = _planned(plan, FAILED)
    else:
        record = {"version": RECORD_VERSION, "outcome": FAILED}
        if specs:
            record["declared"] = declaration_of(specs)
    return {**record, "error": error_text(error)}


def error_text(error: BaseException) -> str:
    """What a failure says on the page: its first line, for the provider's errors and Airflow's
    (they keep secrets out of their text); only its type for others (their text could hold anything)."""
    module = type(error).__module__
    if isinstance(error, PlusofonError) or module == "airflow" or module.startswith("airflow."):
        first = (str(error).strip().splitlines() or [""])[0]
        return f"{type(error).__name__}: {first}"[:MAX_SHOWN_CHARS]
    return f"{type(error).__name__} (see the task's log)"


def declaration_of(specs: Sequence[WebhookSpec]) -> str:
    """Which declaration a set of specs is: a digest of each spec's identity (its URL without
    credentials) and the names of the fields it manages, never their values. The audit, the repair
    and the drift watcher of one spec file share it; another DAG's specs for the account do not."""
    named = sorted(
        json.dumps([redact_url(s.url), s.event, s.type_call, sorted(s.managed)], sort_keys=True) for s in specs
    )
    return "declared-" + hashlib.sha256("\n".join(named).encode()).hexdigest()[:16]


def _planned(plan: Plan, outcome: str) -> dict[str, Any]:
    declared = [a for a in plan.actions if a.kind in _STATUS and a.spec is not None]
    views = [spec_view(a) for a in declared]
    drift = what_drifted(
        {
            "missing": [a.describe() for a in plan.creates],
            "different": [a.describe() for a in plan.updates],
            "duplicates": plan.duplicates,
        }
    )
    undeclared = [a.describe() for a in plan.deletes if a.spec is None]
    return {
        "version": RECORD_VERSION,
        "outcome": outcome,
        "writes": {"created": len(plan.creates), "updated": len(plan.updates), "deleted": len(plan.deletes)},
        "drift": {**drift, "undeclared": [{k: d[k] for k in ("id", "url", "event", "type_call")} for d in undeclared]},
        "specs": views[:MAX_SPECS],
        "specs_total": len(views),
        "declared": declaration_of([a.spec for a in declared if a.spec is not None]),
    }


def spec_view(action: Action) -> dict[str, Any]:
    """One declared webhook beside what the account held: ``fields`` is ``[[name, declared, held], ...]``
    for each field the spec manages, as text (``held`` is ``None`` when the account has no such webhook)."""
    spec = action.spec
    assert spec is not None
    fields = []
    for name in (n for n in SPEC_KEYS if n in spec.managed):
        declared = spec.values[name]
        if action.kind == CREATE:
            held = None
        elif name in action.changes:
            held = _shown(name, action.changes[name][0], differs=_changed_names(name, action.changes[name]))
        else:
            held = _shown(name, declared)
        fields.append([name, _shown(name, declared), held])
    return {
        "url": redact_url(spec.url),
        "event": spec.event,
        "type_call": spec.type_call,
        "status": _STATUS[action.kind],
        "id": action.webhook_id,
        "fields": fields,
    }


def _changed_names(name: str, change: tuple[Any, Any]) -> frozenset[str]:
    if name not in SECRET_PAIR_FIELDS:
        return frozenset()
    current, desired = dict(change[0] or ()), dict(change[1] or ())
    return frozenset(n for n in current if n in desired and current[n] != desired[n])


def _shown(name: str, value: Any, differs: frozenset[str] = frozenset()) -> str:
    """A field's value as the page shows it: secrets never, a URL's credentials as ``***@``."""
    if name in SECRET_PAIR_FIELDS:
        shown = ", ".join(
            f"{n}: {SENSITIVE[:-1]}, differs)" if n in differs else f"{n}: {SENSITIVE}" for n, _ in value or ()
        )
    elif name in PAIR_KEYS:
        shown = ", ".join(f"{a} \u2192 {b}" for a, b in value or ())
    elif name == "url":
        shown = str(redact_url(value))
    else:
        shown = "" if value is None else str(value)
    return shown[:MAX_SHOWN_CHARS] if shown else "(none)"
