"""
### Audit a fleet of Plusofon accounts, one per customer; repair the plans a person approved

The fleet is the Airflow Variable `plusofon_fleet`: a JSON list with one entry per account,
`{"conn_id": "plusofon_acme", "webhooks": "webhooks/fleet.yaml"}` (a Plusofon connection and the
spec file it must match, relative to this folder). Spec files are templates: the example's gives
each account its own receiver path with `{{ task.plusofon_conn_id }}`.

1. `fleet` reads and checks the Variable (every bad entry named at once).
2. `audit_account` is one dry run per account (`expand_kwargs`), each named after its connection
   (`map_index_template`) in the grid. An account that cannot be read fails alone (no retry:
   the summary reports it, and tomorrow's run audits it again); the others' audits go on.
3. `repair_account` applies, per account, exactly the plan approved in the run's conf:
   `{"approved_plans": {"plusofon_acme": "plan-…"}}` (the ids are in the audit's log and in the
   summary). A plan gone stale writes nothing and fails that account only.
4. `fleet_summary` runs whatever failed, and reports each account as `clean`, `drifted`,
   `repaired` or `failed` (in its log and its XCom `summary`). It fails, naming the accounts and
   the conf that would repair them, when an account failed or drifted without a repair.

Concurrency: each account is audited and repaired once a run, and runs of this DAG do not
overlap (`max_active_runs=1`), so no two of its tasks write to one account at once. At most
`MAX_ACCOUNTS_AT_ONCE` accounts are worked on at once (`max_active_tis_per_dagrun`), and the
repairs take the pool `plusofon_fleet` (its slots: how many accounts may be written to at once
across DAGs). A pool cannot be mapped, so one pool per account (the single-account DAGs'
`plusofon_default`) is not possible here: keep other writers of a fleet account off it while
this DAG repairs, or give them the `plusofon_fleet` pool too.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import pendulum
from airflow.providers.common.compat.sdk import AirflowFailException
from airflow.sdk import DAG, Param, Variable, task

from airflow_provider_plusofon.operators.webhooks import EnsureWebhooksOperator

FLEET_VARIABLE = "plusofon_fleet"
MAX_ACCOUNTS_AT_ONCE = 8
FLEET_POOL = "plusofon_fleet"
ACCOUNT = "{{ task.plusofon_conn_id }}"  # names each mapped task instance
log = logging.getLogger(__name__)


def fleet_entries(text: str | None) -> list[dict[str, str]]:
    """The Variable's accounts as ``expand_kwargs`` takes them; every bad entry named at once."""
    if not text:
        raise AirflowFailException(
            f"the Airflow Variable {FLEET_VARIABLE!r} is not set: set it to a JSON list of "
            '{"conn_id": ..., "webhooks": "webhooks/<file>.yaml"}'
        )
    try:
        entries = json.loads(text)
    except ValueError as error:
        raise AirflowFailException(f"the Airflow Variable {FLEET_VARIABLE!r} is not JSON ({error})") from None
    problems, accounts = [], []
    for index, entry in enumerate(entries if isinstance(entries, list) else [entries]):
        if not isinstance(entry, dict) or not all(isinstance(entry.get(k), str) for k in ("conn_id", "webhooks")):
            problems.append(f"entry #{index}: must be an object with string 'conn_id' and 'webhooks'")
            continue
        accounts.append({"plusofon_conn_id": entry["conn_id"], "webhooks": entry["webhooks"]})
    seen = [a["plusofon_conn_id"] for a in accounts]
    problems += [
        f"conn_id {name!r} is listed more than once" for name in sorted({n for n in seen if seen.count(n) > 1})
    ]
    if problems or not isinstance(entries, list):
        raise AirflowFailException(f"the Airflow Variable {FLEET_VARIABLE!r}: " + "; ".join(problems or ["not a list"]))
    return accounts


def account_status(audit: dict[str, Any] | None, repair: dict[str, Any] | None, approved: bool) -> dict[str, Any]:
    """One account's line of the summary, from its audit and (when approved) its repair."""
    if audit is None:
        return {"status": "failed", "why": "its audit failed (see audit_account's log)"}
    if approved and repair is None:
        return {"status": "failed", "why": "its approved repair failed (see repair_account's log)", **_plan(audit)}
    if repair is not None:
        return {"status": "repaired", **{k: len(repair[k]) for k in ("created", "updated", "deleted")}}
    if any(audit.get(k) for k in ("created", "updated", "deleted")) or audit.get("duplicates"):
        return {"status": "drifted", **_plan(audit)}
    return {"status": "clean"}


def unsettled(summary: dict[str, dict[str, Any]]) -> str | None:
    """What fails the summary, in words: the accounts that failed, those drifted and not repaired (with
    the conf that would repair them); ``None`` when every account is clean or repaired."""
    failed = sorted(name for name, line in summary.items() if line["status"] == "failed")
    drifted = {name: line["plan_id"] for name, line in summary.items() if line["status"] == "drifted"}
    if not failed and not drifted:
        return None
    parts = [f"failed: {', '.join(failed)}"] if failed else []
    if drifted:
        repair_conf = json.dumps({"approved_plans": drifted})
        parts.append(
            f"drifted and not repaired: {', '.join(drifted)} (to repair those, trigger this DAG with {repair_conf})"
        )
    return f"{len(summary)} accounts: {'; '.join(parts)}"


def _plan(audit: dict[str, Any]) -> dict[str, Any]:
    return {"plan_id": audit.get("plan_id"), **{k: len(audit.get(k) or []) for k in ("created", "updated", "deleted")}}


with DAG(
    dag_id="plusofon_webhook_fleet",
    description="Daily audit of every Plusofon account of the fleet; repairs the plans approved in the run conf.",
    doc_md=__doc__,
    schedule="@daily",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["plusofon", "webhooks", "audit", "fleet"],
    default_args={"retries": 1, "retry_delay": pendulum.duration(minutes=5)},
    params={
        "approved_plans": Param(
            {}, type="object", description='the plans to apply, by connection: {"plusofon_acme": "plan-…"}'
        )
    },
) as dag:

    @task(retries=0)
    def fleet() -> list[dict[str, str]]:
        """The accounts of the fleet, from the Variable."""
        return fleet_entries(Variable.get(FLEET_VARIABLE, default=None))

    # all_done: one account's failed audit must not hold back the repairs approved for the others
    @task(retries=0, trigger_rule="all_done")
    def approved(accounts: list[dict[str, str]], params: dict[str, Any] | None = None) -> list[dict[str, str]]:
        """The accounts whose plan a person approved in the run's conf, with that plan's id."""
        plans = (params or {}).get("approved_plans") or {}
        unknown = sorted(set(plans) - {a["plusofon_conn_id"] for a in accounts})
        if unknown or not all(isinstance(v, str) and v.startswith("plan-") for v in plans.values()):
            raise AirflowFailException(
                f"approved_plans must map fleet connections to plan ids; not in the fleet: {unknown or 'none'}"
            )
        return [
            {**a, "approved_plan_id": plans[a["plusofon_conn_id"]]} for a in accounts if a["plusofon_conn_id"] in plans
        ]

    accounts = fleet()
    audit_account = EnsureWebhooksOperator.partial(
        task_id="audit_account",
        dry_run=True,
        # A failed audit is in the summary, and tomorrow's run audits again: a retry here would
        # hold every account's summary back for retry_delay (and a 401 does not heal by waiting).
        retries=0,
        map_index_template=ACCOUNT,
        max_active_tis_per_dagrun=MAX_ACCOUNTS_AT_ONCE,
    ).expand_kwargs(accounts)
    repairs = approved(accounts)
    repair_account = EnsureWebhooksOperator.partial(
        task_id="repair_account",
        map_index_template=ACCOUNT,
        max_active_tis_per_dagrun=MAX_ACCOUNTS_AT_ONCE,
        pool=FLEET_POOL,
        retries=0,  # a stale plan stays stale
        trigger_rule="all_done",  # one account's failed audit does not hold back the others' repairs
    ).expand_kwargs(repairs)

    @task(trigger_rule="all_done", retries=0, multiple_outputs=False)
    def fleet_summary(accounts: list[dict[str, str]], repairs: list[dict[str, str]], ti: Any = None) -> dict:
        """Each account: clean, drifted, repaired or failed. Fails when any failed or drifted unrepaired."""
        repaired_at = {r["plusofon_conn_id"]: index for index, r in enumerate(repairs or [])}
        summary = {}
        for index, account in enumerate(accounts):
            name = account["plusofon_conn_id"]
            audit = ti.xcom_pull(task_ids="audit_account", map_indexes=index)
            repair = (
                ti.xcom_pull(task_ids="repair_account", map_indexes=repaired_at[name]) if name in repaired_at else None
            )
            summary[name] = account_status(audit, repair, name in repaired_at)
        for name, line in summary.items():
            log.info("%-30s %s", name, json.dumps(line))
        ti.xcom_push(key="summary", value=summary)
        problem = unsettled(summary)
        if problem is not None:
            raise AirflowFailException(problem)
        return summary

    audit_account >> repairs
    fleet_summary(accounts, repairs) << [audit_account, repair_account]
