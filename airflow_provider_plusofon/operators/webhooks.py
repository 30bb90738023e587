"""Operators that make the account's webhooks match what a DAG declares, idempotently.

Both are thin: they render and mask their arguments, then hand the work to
:mod:`airflow_provider_plusofon.webhooks.reconcile`, where what is written, and what is reported
when a write fails, is decided in one place.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow_provider_plusofon.compat import BaseOperator
from airflow_provider_plusofon.hooks.masking import mask_webhook_secrets
from airflow_provider_plusofon.hooks.plusofon import DEFAULT_MAX_WORKERS, PlusofonHook
from airflow_provider_plusofon.redaction import redact_webhook, secrets_of
from airflow_provider_plusofon.tasks.mixins import PlusofonHookMixin, RenderedSecretsMixin, WebhookSpecsMixin

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_plusofon.webhooks.spec import WebhookSpec

__all__ = ["EnsureWebhooksOperator", "PlusofonHookMixin", "PlusofonWebhookOperator", "WebhookSpecsMixin"]


class PlusofonWebhookOperator(RenderedSecretsMixin, PlusofonHookMixin, BaseOperator):
    """
    Make one webhook present (created, or updated where it differs) or absent.

    The webhook is identified by ``url``, ``event`` and ``type_call`` (by ``url`` and ``event``
    when ``type_call`` is not given), or by ``webhook_id``. Only the fields given are managed:
    a field left as ``None`` is never compared and never changed. Lists (``fields``,
    ``headers``, ``params``) compare as sets.

    Emits a changes event when it wrote something, as :class:`EnsureWebhooksOperator` does.

    Returns (XCom) ``{"action": "created"|"updated"|"deleted"|"unchanged", "webhook_id": ...,
    "changes": {...}, "dry_run": bool}``, with ``changes`` described as in
    :class:`EnsureWebhooksOperator`'s summary; header values never appear in it.

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
    :param webhook_id: manage this webhook by id instead of by identity (templated; a positive
        integer, checked before any request).
    :param dedupe: when several webhooks share the identity, keep the lowest id (among those
        already matching, if any) and delete the others; without it the task fails listing them.
    :param plusofon_conn_id: the Plusofon connection (templated).
    :param dry_run: log what would change and write nothing.
    :param max_workers: how many requests may run at once (list pages, detail views).
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
        "plusofon_conn_id",
    )
    template_fields_renderers = {"fields": "json", "headers": "json", "webhook_params": "json"}
    ui_color = "#e8f4fd"
    # Shown with their secrets as *** once rendered; execute uses the values kept aside.
    secret_fields = ("url", "headers", "webhook_params")

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
        max_workers: int = DEFAULT_MAX_WORKERS,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
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
        self.plusofon_conn_id = plusofon_conn_id
        self.max_workers = max_workers
        # Not `self.dry_run`: BaseOperator.dry_run() is a method of its own.
        self.is_dry_run = dry_run

    def secrets_and_shown(self, values: dict[str, Any]) -> tuple[list[str], dict[str, Any]]:
        spec = {"url": values["url"], "headers": values["headers"], "params": values["webhook_params"]}
        shown = redact_webhook(spec)
        return secrets_of(spec), {"url": shown["url"], "headers": shown["headers"], "webhook_params": shown["params"]}

    def _validated(self) -> tuple[WebhookSpec, int | None]:
        """The spec and the pinned id, every problem of the arguments reported at once."""
        # The core loads when a task runs, not while the scheduler parses the DAG.
        from airflow_provider_plusofon.webhooks.spec import SPEC_KEYS, parse_target

        values = {
            name: self.rendered(name) if name in self.secret_fields else getattr(self, name, None)
            for name in SPEC_KEYS
            if name != "params"
        }
        values["params"] = self.rendered("webhook_params")
        raw = {name: value for name, value in values.items() if value is not None}
        mask_webhook_secrets(raw)
        return parse_target(raw, state=self.state, webhook_id=self.webhook_id)

    def execute(self, context: Context) -> dict[str, Any]:
        from airflow_provider_plusofon.webhooks.reconcile import ensure_webhook

        spec, webhook_id = self._validated()
        client_id = self.changes_account()
        absent = self.state == "absent"
        summary = ensure_webhook(
            self.hook.client,
            spec,
            webhook_id=webhook_id,
            absent=absent,
            dedupe=self.dedupe,
            dry_run=self.is_dry_run,
            log=self.log,
        )
        self.emit_changes(context, client_id, summary)
        result = self._result(summary, absent=absent, webhook_id=webhook_id)
        self.log.info("Webhook #%s: %s%s", result["webhook_id"], result["action"], " (dry run)" * self.is_dry_run)
        return result

    def _result(self, summary: dict[str, Any], *, absent: bool, webhook_id: int | None) -> dict[str, Any]:
        deleted = [item["id"] for item in summary["deleted"]]
        if absent:
            return {
                "action": "deleted" if deleted else "unchanged",
                "webhook_id": deleted[0] if deleted else webhook_id,
                "changes": {},
                "dry_run": self.is_dry_run,
                "deleted": deleted,
            }
        action, item = next((a, items[0]) for a in ("created", "updated", "unchanged") if (items := summary[a]))
        result = {
            "action": action,
            "webhook_id": item["id"],
            "changes": item.get("changes", {}),
            "dry_run": self.is_dry_run,
        }
        return {**result, "deleted_duplicates": deleted} if deleted else result


class EnsureWebhooksOperator(WebhookSpecsMixin, BaseOperator):
    """
    Reconcile a declared set of webhooks with the account, like ``terraform apply``.

    Creates what is missing, updates what drifted (one full-body PUT each), leaves the rest;
    with ``prune`` also deletes what no spec declares. The plan is logged as a table before
    anything is written. Running it twice sends no write the second time.

    With the account's changes asset among its ``outlets`` (an ``AssetAlias``, so that runs that
    change nothing emit nothing; see :mod:`airflow_provider_plusofon.tasks.events`), a run that
    wrote something emits an event on ``plusofon://<client_id>/webhooks/changes`` whose extra holds
    the ids written (``created``, ``updated``, ``deleted``, comma-separated), the ``plan_id`` and
    the lost-call window (``window_start``, ``window_end``).

    Every run also pushes, under the XCom key ``plusofon_outcome``, what it found and did for the
    Plusofon page in Airflow's UI (see :mod:`airflow_provider_plusofon.tasks.records`), also when it
    fails (a ``StalePlanError`` is recorded as ``stale``, with the new plan's id).

    Returns (XCom) ``{"created": [...], "updated": [...], "deleted": [...], "unchanged": [...],
    "duplicates": {...}, "dry_run": bool, "plan_id": "plan-…", "plan_text": "…"}``, each item with
    ``id``, ``url``, ``event``, ``type_call`` (and ``changes`` for creates and updates, ``reason``
    for deletes); ``plan_text`` is the plan table of the log, for a person to review (an approval
    task's body, say). Header values and URL passwords never appear in it.

    :param webhooks: a list of specs (mappings with ``url``, ``event`` and optionally
        ``type_call``, ``type_style``, ``fields``, ``headers``, ``params``, ``template``), or a path
        to a ``.yaml``/``.yml``/``.json`` file holding one, relative to the DAG's folder (templated).
    :param prune: delete the account's webhooks that no spec matches, and duplicates of those
        that one does.
    :param dry_run: log the plan and write nothing.
    :param max_deletes: fail, before writing anything, when the plan deletes more than this.
    :param allow_empty: allow ``prune`` with an empty spec set (which deletes every webhook).
    :param approved_plan_id: apply only the plan a person approved: the ``plan_id`` of a dry
        run's result. The plan is made afresh; if its id differs (the account or the specs changed
        since), :class:`~airflow_provider_plusofon.exceptions.StalePlanError` is raised before any
        write, showing the new plan (templated).
    :param plusofon_conn_id: the Plusofon connection (templated).
    :param max_workers: how many requests may run at once (pages, detail views, writes).
    """

    template_fields: Sequence[str] = ("webhooks", "approved_plan_id", "plusofon_conn_id")
    template_fields_renderers = {"webhooks": "yaml"}
    ui_color = "#e8f4fd"

    def __init__(
        self,
        *,
        webhooks: list[dict[str, Any]] | str,
        prune: bool = False,
        dry_run: bool = False,
        max_deletes: int | None = None,
        allow_empty: bool = False,
        approved_plan_id: str | None = None,
        plusofon_conn_id: str = PlusofonHook.default_conn_name,
        max_workers: int = DEFAULT_MAX_WORKERS,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.webhooks = webhooks
        self.approved_plan_id = approved_plan_id
        self.prune = prune
        # Not `self.dry_run`: BaseOperator.dry_run() is a method of its own.
        self.is_dry_run = dry_run
        self.max_deletes = max_deletes
        self.allow_empty = allow_empty
        self.plusofon_conn_id = plusofon_conn_id
        self.max_workers = max_workers

    def execute(self, context: Context) -> dict[str, Any]:
        from airflow_provider_plusofon.tasks.records import OutcomeRecorder
        from airflow_provider_plusofon.webhooks.reconcile import ensure_webhooks

        with OutcomeRecorder(self, context, approved_plan_id=self.approved_plan_id or None) as recorder:
            specs = recorder.read(self.load_specs(context))
            client_id = self.changes_account()
            summary = ensure_webhooks(
                self.hook.client,
                specs,
                prune=self.prune,
                dry_run=self.is_dry_run,
                max_deletes=self.max_deletes,
                allow_empty=self.allow_empty,
                approved_plan_id=self.approved_plan_id or None,
                log=self.log,
                on_plan=recorder.planned,
            )
            self.emit_changes(context, client_id, summary)
            recorder.finished(summary)
        return summary
