"""Operators that make the account's webhooks match what a DAG declares, idempotently."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator

from airflow_provider_plusofon.exceptions import (
    AmbiguousWebhookError,
    CreateWebhooksError,
    PartialApplyError,
    PlusofonError,
    PlusofonNotFoundError,
    UnsafePlanError,
    WebhookSpecError,
)
from airflow_provider_plusofon.hooks.client import DEFAULT_MAX_WORKERS
from airflow_provider_plusofon.hooks.plusofon import PlusofonHook
from airflow_provider_plusofon.webhook_tasks import (
    WebhookSpecsMixin,
    mask_header_values,
    plan_against_account,
)
from airflow_provider_plusofon.webhooks.plan import CREATE, UPDATE, Action, Plan, describe_change
from airflow_provider_plusofon.webhooks.render import render_plan
from airflow_provider_plusofon.webhooks.spec import SPEC_KEYS, WebhookSpec, normalise, parse_spec

if TYPE_CHECKING:
    import jinja2
    from airflow.sdk import Context

STATES = ("present", "absent")


def _attempt(func: Callable[[Action], Any]) -> Callable[[Action], tuple[Action, Exception | None]]:
    """Wrap a write so that one failure is reported with the others instead of hiding them."""

    def run(action: Action) -> tuple[Action, Exception | None]:
        try:
            func(action)
        except PlusofonError as error:
            return action, error
        return action, None

    return run


def apply_plan(hook: PlusofonHook, plan: Plan, listing: Sequence[dict[str, Any]], *, dry_run: bool) -> dict[str, Any]:
    """
    Carry out a plan and return its summary: the updates, then the creates (each batch
    concurrently), the deletes last.

    Deletions wait until every create and update succeeded: when anything fails, nothing is
    deleted, what was done stays done, and :class:`PartialApplyError` reports both.

    :param hook: the hook to write with.
    :param plan: what to do.
    :param listing: the account's listing the plan was made from (saves a listing before creates).
    :param dry_run: write nothing, only summarise.
    """
    summary = plan.summary(dry_run=dry_run)
    if dry_run:
        return summary
    done: dict[str, list[dict[str, Any]]] = {"created": [], "updated": [], "deleted": []}
    failures: list[str] = []

    for action, error in hook.map_concurrently(
        _attempt(lambda a: hook.update_webhook(a.webhook_id, a.body())), plan.updates
    ):
        if error is None:
            done["updated"].append(action.describe())
        else:
            failures.append(f"update #{action.webhook_id} {action.spec.label if action.spec else ''}: {error}")

    creates = plan.creates
    try:
        created = hook.create_webhooks([a.body() for a in creates], existing=listing)
    except CreateWebhooksError as partial:
        created = partial.created
        failures += [f"create {body.get('url')} ({body.get('event')}): {e}" for body, e in partial.failures]
    except PlusofonError as failed:
        created = []
        failures.append(f"create: {failed}")
    for item in created:
        done["created"].append({k: item.get(k) for k in ("id", "url", "event", "type_call")})

    if failures:
        raise PartialApplyError(done, failures)

    for action, error in hook.map_concurrently(
        _attempt(lambda a: hook.delete_webhook(a.webhook_id, missing_ok=True)), plan.deletes
    ):
        if error is None:
            done["deleted"].append(action.describe())
        else:
            failures.append(f"delete #{action.webhook_id}: {error}")
    if failures:
        raise PartialApplyError(done, failures)
    return {**summary, **done}


class _PlusofonOperator(BaseOperator):
    """Shared plumbing: the connection id, and a hook created on first use (never at parse time)."""

    def __init__(
        self,
        *,
        plusofon_conn_id: str = PlusofonHook.default_conn_name,
        max_workers: int = DEFAULT_MAX_WORKERS,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        self.plusofon_conn_id = plusofon_conn_id
        self.max_workers = max_workers

    @cached_property
    def hook(self) -> PlusofonHook:
        return PlusofonHook(self.plusofon_conn_id, max_workers=self.max_workers)


class PlusofonWebhookOperator(_PlusofonOperator):
    """
    Make one webhook present (created, or updated where it differs) or absent.

    The webhook is identified by ``url``, ``event`` and ``type_call`` (by ``url`` and ``event``
    when ``type_call`` is not given), or by ``webhook_id``. Only the fields given are managed:
    a field left as ``None`` is never compared and never changed. Lists (``fields``,
    ``headers``, ``params``) compare as sets.

    Returns (XCom) ``{"action": "created"|"updated"|"deleted"|"unchanged", "webhook_id": ...,
    "changes": {...}, "dry_run": bool}``; header values never appear in it.

    :param url: where Plusofon sends the event (templated).
    :param event: ``create``, ``answer`` or ``destroy`` (templated).
    :param type_call: ``inbound``, ``outbound`` or ``all`` (templated).
    :param type_style: ``long`` or ``short`` (templated).
    :param fields: renamed payload fields, ``[{"before": ..., "after": ...}]`` (templated).
    :param headers: custom HTTP headers, ``[{"name": ..., "value": ...}]``; values are masked
        as secrets (templated).
    :param webhook_params: the webhook's custom payload parameters (the API's ``params``),
        ``[{"name": ..., "value": ...}]``; named so because ``params`` is Airflow's own (templated).
    :param template: the payload template (templated).
    :param state: ``present`` or ``absent`` (templated).
    :param webhook_id: manage this webhook by id instead of by identity (templated).
    :param dedupe: when several webhooks share the identity, keep the lowest id (among those
        already matching, if any) and delete the others; without it the task fails listing them.
    :param plusofon_conn_id: the Plusofon connection.
    :param dry_run: log what would change and write nothing.
    """

    template_fields: Sequence[str] = (
        "url",
        "event",
        "type_call",
        "type_style",
        "fields",
        "headers",
        "webhook_params",
        "template",
        "state",
        "webhook_id",
    )
    ui_color = "#e8f4fd"

    def __init__(
        self,
        *,
        url: str,
        event: str,
        type_call: str | None = None,
        type_style: str | None = None,
        fields: list[dict[str, str]] | None = None,
        headers: list[dict[str, str]] | None = None,
        webhook_params: list[dict[str, str]] | None = None,
        template: str | None = None,
        state: str = "present",
        webhook_id: int | str | None = None,
        dedupe: bool = False,
        plusofon_conn_id: str = PlusofonHook.default_conn_name,
        dry_run: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(plusofon_conn_id=plusofon_conn_id, **kwargs)
        self.url = url
        self.event = event
        self.type_call = type_call
        self.type_style = type_style
        self.fields = fields
        self.headers = headers
        self.webhook_params = webhook_params
        self.template = template
        self.state = state
        self.webhook_id = webhook_id
        self.dedupe = dedupe
        self.is_dry_run = dry_run

    def render_template_fields(self, context: Context, jinja_env: jinja2.Environment | None = None) -> None:
        super().render_template_fields(context, jinja_env)
        mask_header_values({"headers": self.headers})

    def _spec(self) -> WebhookSpec:
        values = {name: getattr(self, name, None) for name in SPEC_KEYS if name != "params"}
        values["params"] = self.webhook_params
        raw = {name: value for name, value in values.items() if value is not None}
        mask_header_values(raw)
        problems = []
        if self.state not in STATES:
            problems.append(f"field 'state': {self.state!r} is not one of {', '.join(STATES)}")
        try:
            spec = parse_spec(raw)
        except WebhookSpecError as error:
            raise WebhookSpecError(problems + error.problems) from None
        if problems:
            raise WebhookSpecError(problems)
        return spec

    def _result(self, action: str, webhook_id: Any, changes: dict[str, Any] | None = None) -> dict[str, Any]:
        verb = f"would be {action}" if self.is_dry_run and action != "unchanged" else action
        target = f"#{webhook_id}" if webhook_id else self.url
        self.log.info("Webhook %s %s: %s", target, verb, changes or "")
        return {
            "action": action,
            "webhook_id": webhook_id,
            "changes": changes or {},
            "dry_run": self.is_dry_run,
        }

    def execute(self, context: Context) -> dict[str, Any]:
        spec = self._spec()
        if self.webhook_id not in (None, ""):
            return self._by_id(spec)
        plan, listing = plan_against_account(self.hook, [spec])
        action = plan.actions[0]
        duplicates = [i for ids in plan.duplicates.values() for i in ids if i != action.webhook_id]
        if duplicates and not self.dedupe:
            ids = ", ".join(f"#{i}" for ids in plan.duplicates.values() for i in ids)
            raise AmbiguousWebhookError(
                f"{len(duplicates) + 1} webhooks match {spec.label}: {ids}. Pass dedupe=True to keep "
                f"#{action.webhook_id} and delete the others, or name one with webhook_id."
            )
        if self.state == "absent":
            return self._delete([action.webhook_id, *duplicates] if action.kind != CREATE else [])

        removed = self._delete(duplicates)["deleted"] if duplicates else []
        if action.kind == CREATE:
            changes = {n: describe_change(n, normalise(n, None), v) for n, v in spec.values.items()}
            created = None if self.is_dry_run else self.hook.create_webhooks([action.body()], existing=listing)[0]
            result = self._result("created", created["id"] if created else None, changes)
        elif action.kind == UPDATE:
            if not self.is_dry_run:
                self.hook.update_webhook(action.webhook_id, action.body())
            result = self._result("updated", action.webhook_id, action.describe()["changes"])
        else:
            result = self._result("unchanged", action.webhook_id)
        return {**result, "deleted_duplicates": removed} if removed else result

    def _delete(self, ids: list[Any]) -> dict[str, Any]:
        for webhook_id in ids:
            if not self.is_dry_run:
                self.hook.delete_webhook(webhook_id, missing_ok=True)
        result = self._result("deleted" if ids else "unchanged", ids[0] if ids else None)
        return {**result, "deleted": ids}

    def _by_id(self, spec: WebhookSpec) -> dict[str, Any]:
        try:
            current = self.hook.get_webhook(self.webhook_id)  # type: ignore[arg-type]
        except PlusofonNotFoundError:
            if self.state == "absent":
                return self._result("unchanged", self.webhook_id)
            raise
        if self.state == "absent":
            return self._delete([self.webhook_id])
        action = Action(UPDATE, spec, current, changes=spec.diff(current))
        if not action.changes:
            return self._result("unchanged", self.webhook_id)
        if not self.is_dry_run:
            self.hook.update_webhook(self.webhook_id, action.body())  # type: ignore[arg-type]
        return self._result("updated", self.webhook_id, action.describe()["changes"])


class EnsureWebhooksOperator(WebhookSpecsMixin, _PlusofonOperator):
    """
    Reconcile a declared set of webhooks with the account, like ``terraform apply``.

    Creates what is missing, updates what drifted (one full-body PUT each), leaves the rest;
    with ``prune`` also deletes what no spec declares. The plan is logged as a table before
    anything is written. Running it twice sends no write the second time.

    Returns (XCom) ``{"created": [...], "updated": [...], "deleted": [...], "unchanged": [...],
    "duplicates": {...}, "dry_run": bool}``, each item with ``id``, ``url``, ``event``,
    ``type_call`` (and ``changes`` for updates); header values never appear in it.

    :param webhooks: a list of specs (mappings with ``url``, ``event`` and optionally
        ``type_call``, ``type_style``, ``fields``, ``headers``, ``params``, ``template``), or a path
        to a ``.yaml``/``.yml``/``.json`` file holding one, relative to the DAG's folder (templated).
    :param prune: delete the account's webhooks that no spec matches, and duplicates of those
        that one does.
    :param dry_run: log the plan and write nothing.
    :param max_deletes: fail, before writing anything, when the plan deletes more than this.
    :param allow_empty: allow ``prune`` with an empty spec set (which deletes every webhook).
    :param plusofon_conn_id: the Plusofon connection.
    :param max_workers: how many requests may run at once (pages, detail views, writes).
    """

    template_fields: Sequence[str] = ("webhooks",)
    ui_color = "#e8f4fd"

    def __init__(
        self,
        *,
        webhooks: list[dict[str, Any]] | str,
        prune: bool = False,
        dry_run: bool = False,
        max_deletes: int | None = None,
        allow_empty: bool = False,
        plusofon_conn_id: str = PlusofonHook.default_conn_name,
        max_workers: int = DEFAULT_MAX_WORKERS,
        **kwargs: Any,
    ) -> None:
        super().__init__(plusofon_conn_id=plusofon_conn_id, max_workers=max_workers, **kwargs)
        self.webhooks = webhooks
        self.prune = prune
        self.is_dry_run = dry_run
        self.max_deletes = max_deletes
        self.allow_empty = allow_empty

    def execute(self, context: Context) -> dict[str, Any]:
        specs = self.load_specs(context)
        if self.prune and not specs and not self.allow_empty:
            raise UnsafePlanError(
                "prune=True with no specs would delete every webhook on the account; "
                "pass allow_empty=True if that is what you want"
            )
        plan, listing = plan_against_account(self.hook, specs, prune=self.prune)
        self.log.info("%s", render_plan(plan, dry_run=self.is_dry_run))
        if self.max_deletes is not None and len(plan.deletes) > self.max_deletes:
            raise UnsafePlanError(
                f"the plan deletes {len(plan.deletes)} webhooks, more than max_deletes={self.max_deletes}; "
                "nothing was written"
            )
        summary = apply_plan(self.hook, plan, listing, dry_run=self.is_dry_run)
        self.log.info(
            "Plusofon webhooks %s: %d created, %d updated, %d deleted, %d unchanged",
            "planned (dry run)" if self.is_dry_run else "ensured",
            *(len(summary[k]) for k in ("created", "updated", "deleted", "unchanged")),
        )
        return summary
