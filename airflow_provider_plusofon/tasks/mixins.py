"""Mixins for the operators and the sensor: a hook made on first use, and specs read, rendered and
masked as Airflow renders a task."""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow_provider_plusofon.hooks.masking import mask_webhook_secrets
from airflow_provider_plusofon.hooks.plusofon import PlusofonHook
from airflow_provider_plusofon.webhooks.spec import WebhookSpec, parse_specs
from airflow_provider_plusofon.webhooks.spec_files import load_spec_source, looks_like_spec_path

if TYPE_CHECKING:
    import jinja2
    from airflow.sdk import Context


class PlusofonHookMixin:
    """The connection id, and a hook created on first use (never at DAG-parse time)."""

    plusofon_conn_id: str
    max_workers: int

    @cached_property
    def hook(self) -> PlusofonHook:
        return PlusofonHook(self.plusofon_conn_id, max_workers=self.max_workers)


class WebhookSpecsMixin(PlusofonHookMixin):
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
        mask_webhook_secrets(self.webhooks)

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
        mask_webhook_secrets(raw)
        return raw

    def load_specs(self, context: Context | None) -> list[WebhookSpec]:
        """This task's specs, validated (every problem reported at once) before any request."""
        return parse_specs(self.load_raw_specs(context))
