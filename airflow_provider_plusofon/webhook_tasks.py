"""What the webhook operators, the sensor and the trigger share.

Loading a task's specs (a list, or a templated YAML/JSON file next to the DAG), masking the header
values in them, and reading the account the way the reconciliation core needs it.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow_provider_plusofon.exceptions import (
    PlusofonRateLimitError,
    PlusofonServerError,
    PlusofonTransportError,
)
from airflow_provider_plusofon.hooks.client import header_values
from airflow_provider_plusofon.hooks.plusofon import PlusofonHook, mask_values
from airflow_provider_plusofon.webhooks.plan import Plan, detail_ids, plan, with_details
from airflow_provider_plusofon.webhooks.spec import (
    WebhookSpec,
    load_spec_source,
    looks_like_spec_path,
    parse_specs,
)

if TYPE_CHECKING:
    import jinja2
    from airflow.sdk import Context

    from airflow_provider_plusofon.hooks.plusofon import PlusofonHook


def mask_header_values(raw_specs: Any) -> None:
    """Register every header value in these raw specs (one, or a list) with Airflow's secret masker."""
    specs = [raw_specs] if isinstance(raw_specs, Mapping) else raw_specs
    if not isinstance(specs, Iterable) or isinstance(specs, str | bytes):
        return
    mask_values([value for spec in specs if isinstance(spec, Mapping) for value in header_values(spec)])


def read_account(hook: PlusofonHook, specs: Sequence[WebhookSpec]) -> tuple[list[dict[str, Any]], list[dict]]:
    """
    The account's webhooks as :func:`~.webhooks.plan.plan` needs them.

    :return: the listing as the API gave it, and the same with detail views merged in for the
        webhooks whose identity matches a spec managing a detail-only field (fetched concurrently).
    """
    listing = hook.list_webhooks()
    ids = detail_ids(specs, listing)
    details = hook.get_webhooks(ids) if ids else {}
    return listing, with_details(listing, details)


def check_requirements(hook: PlusofonHook, specs: Sequence[WebhookSpec]) -> dict[str, Any]:
    """Which specs the account satisfies (identity and every named field) and which it does not."""
    _, actual = read_account(hook, specs)
    return plan(specs, actual).requirements()


def is_transient(error: BaseException) -> bool:
    """Whether waiting could fix this error (the API was unreachable, rate limited or failing)."""
    return isinstance(error, PlusofonTransportError | PlusofonRateLimitError | PlusofonServerError)


def plan_against_account(
    hook: PlusofonHook, specs: Sequence[WebhookSpec], *, prune: bool = False
) -> tuple[Plan, list[dict[str, Any]]]:
    """Read the account and plan; return the plan and the listing it was made from."""
    listing, actual = read_account(hook, specs)
    return plan(specs, actual, prune=prune), listing


class WebhookSpecsMixin:
    """
    For tasks with a templated ``webhooks`` argument: a list of specs or a spec file's path.

    A path (``.yaml``, ``.yml`` or ``.json``) resolves against the DAG's folder, and the string
    values in the file are rendered with Jinja, so a spec file can take header secrets from
    ``{{ var.value.x }}`` or ``{{ conn.x.password }}``; the rendered-fields view shows only the path.
    """

    webhooks: Any

    def render_template_fields(self, context: Context, jinja_env: jinja2.Environment | None = None) -> None:
        # Mask before Airflow stores the rendered fields, which happens right after this.
        super().render_template_fields(context, jinja_env)  # type: ignore[misc]
        mask_header_values(self.webhooks)

    def _spec_base_dir(self) -> str:
        dag = getattr(self, "dag", None) if getattr(self, "has_dag", lambda: False)() else None
        return dag.folder if dag is not None else os.getcwd()

    def load_raw_specs(self, context: Context | None) -> list[Any]:
        """The raw specs of this task: the list given, or the spec file read and rendered."""
        source = self.webhooks
        if isinstance(source, os.PathLike) or (isinstance(source, str) and looks_like_spec_path(source)):
            path = Path(source)
            if not path.is_absolute():
                path = Path(self._spec_base_dir()) / path
            raw = load_spec_source(path)
            if context:
                raw = self.render_template(raw, context)  # type: ignore[attr-defined]
        else:
            raw = load_spec_source(source)
        mask_header_values(raw)
        return raw

    def load_specs(self, context: Context | None) -> list[WebhookSpec]:
        """This task's specs, validated (every problem reported at once) before any request."""
        return parse_specs(self.load_raw_specs(context))
