"""Mixins for the operators and the sensor: a hook made on first use, and specs read, rendered and
masked as Airflow renders a task."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow_provider_plusofon.exceptions import WebhookSpecError
from airflow_provider_plusofon.hooks.masking import mask_secrets, mask_webhook_secrets
from airflow_provider_plusofon.hooks.plusofon import PlusofonHook
from airflow_provider_plusofon.redaction import REDACTED, redact, redact_webhook, secrets_of

if TYPE_CHECKING:
    import jinja2
    from airflow.sdk import Context

    from airflow_provider_plusofon.webhooks.spec import WebhookSpec


class RenderedSecretsMixin:
    """
    Fields that can hold secrets, kept out of what Airflow stores and shows once they are rendered.

    Right after Airflow renders a task (a plain task, or a mapped one through its unmapped task),
    the secrets of these fields go to the secret masker, their rendered values are kept aside for
    ``execute`` (:meth:`rendered`), and the fields themselves hold copies with those secrets
    replaced by ``***``: what the Rendered Template view and the metadata database get, on every
    release (Airflow 3.0 sends rendered fields to the API server unredacted).
    """

    secret_fields: tuple[str, ...] = ()

    def _do_render_template_fields(
        self, parent: Any, template_fields: Any, context: Context, jinja_env: jinja2.Environment, seen_oids: set[int]
    ) -> None:
        super()._do_render_template_fields(parent, template_fields, context, jinja_env, seen_oids)  # type: ignore[misc]
        if parent is not self:
            return
        kept = {name: getattr(self, name) for name in self.secret_fields}
        self.__dict__["_rendered_with_secrets"] = kept
        secrets, shown = self.secrets_and_shown(kept)
        mask_secrets(secrets)
        for name, value in shown.items():
            setattr(self, name, value)

    def rendered(self, name: str) -> Any:
        """The field as rendered, secrets included (the field itself when it was not rendered)."""
        return self.__dict__.get("_rendered_with_secrets", {}).get(name, getattr(self, name))

    def secrets_and_shown(self, values: dict[str, Any]) -> tuple[list[str], dict[str, Any]]:
        """The secret values of the rendered fields, and the fields as they may be stored and shown."""
        raise NotImplementedError


_VARIABLE = re.compile(r"var\.(value|json)(?:\.([A-Za-z_][A-Za-z0-9_]*)|\.get\(\s*['\"]([^'\"]+)['\"])")
_ABSENT = object()


def missing_variables(raw: Any, context: Context) -> list[str]:
    """The Airflow Variables the templates in ``raw`` name that this context cannot give."""
    texts, stack = [], [raw]
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            texts.append(value)
        elif isinstance(value, Mapping):
            stack.extend(value.values())
        elif isinstance(value, list | tuple):
            stack.extend(value)
    variables = context.get("var") or {}
    missing = []
    for kind, name, quoted in (m.groups() for text in texts for m in _VARIABLE.finditer(text)):
        name = name or quoted
        accessor = variables.get(kind) if isinstance(variables, Mapping) else None
        if name not in missing and not _readable(accessor, name):
            missing.append(name)
    return missing


def _readable(accessor: Any, name: str) -> bool:
    try:
        return accessor is not None and accessor.get(name, _ABSENT) is not _ABSENT
    except Exception:  # a Variable that cannot be read here is as good as missing (3.0 outside a task)
        return False


def _read_as_specs(text: str) -> list[Any] | None:
    from airflow_provider_plusofon.webhooks.spec_files import load_spec_source

    try:
        return load_spec_source(text)
    except WebhookSpecError:
        return None


class PlusofonHookMixin:
    """The connection id, and a hook created on first use (never at DAG-parse time)."""

    plusofon_conn_id: str
    max_workers: int

    @cached_property
    def hook(self) -> PlusofonHook:
        return PlusofonHook(self.plusofon_conn_id, max_workers=self.max_workers)

    def rotated_hook(self) -> bool:
        """
        After the account refused the connection's credentials: read the connection again, and go
        on with it when its credentials changed (a token rotated while the task ran, e.g. between a
        sensor's pokes). ``False`` when it is unchanged: the refusal is the answer.
        """
        fresh = PlusofonHook(self.plusofon_conn_id, max_workers=self.max_workers)
        if fresh.config == self.hook.config:
            return False
        self.__dict__["hook"] = fresh
        self.log.warning(  # type: ignore[attr-defined]
            "Plusofon connection %r has new credentials (the account refused the old ones): going on with them",
            self.plusofon_conn_id,
        )
        return True

    def changes_account(self) -> str | None:
        """The Client ID the task's asset events name, checked before any write (``None``: no outlets)."""
        if not getattr(self, "outlets", None):
            return None
        from airflow_provider_plusofon.assets.uris import asset_uri

        client_id = str(self.hook.config.client_id)
        asset_uri(client_id)  # a Client ID no asset URI can name fails here, not after the writes
        return client_id

    def emit_changes(self, context: Context, client_id: str | None, summary: dict[str, Any]) -> None:
        """Emit the changes event of what the run wrote (see :mod:`airflow_provider_plusofon.tasks.events`)."""
        if client_id is None:
            return
        import pendulum

        from airflow_provider_plusofon.tasks.events import changes_extra, emit_changes

        extra = changes_extra(summary, context, client_id, pendulum.now("UTC"))
        emit_changes(list(getattr(self, "outlets", [])), context, client_id, extra)
        if extra is not None:
            self.log.info(  # type: ignore[attr-defined]
                "Plusofon changes event: lost-call window %s to %s", extra["window_start"], extra["window_end"]
            )


class WebhookSpecsMixin(RenderedSecretsMixin, PlusofonHookMixin):
    """
    For tasks with a templated ``webhooks`` argument: a list of specs or a spec file's path.

    A path (``.yaml``, ``.yml`` or ``.json``) resolves against the DAG's folder, and the string
    values in the file are rendered with Jinja, so a spec file can take header secrets from
    ``{{ var.value.x }}`` or ``{{ conn.x.password }}``; the rendered-fields view shows only the path.
    Specs given otherwise (a list, mapped arguments, XCom, ``{{ ti.xcom_pull(...) }}`` rendered to
    text, params, Variables) are shown with their secrets as ``***``.
    """

    webhooks: Any
    secret_fields = ("webhooks",)

    def secrets_and_shown(self, values: dict[str, Any]) -> tuple[list[str], dict[str, Any]]:
        from airflow_provider_plusofon.webhooks.spec_files import looks_like_spec_path

        webhooks = values["webhooks"]
        if isinstance(webhooks, str):
            if looks_like_spec_path(webhooks):
                return [], {"webhooks": webhooks}  # the file is read (and masked) in execute
            parsed = _read_as_specs(webhooks)
            if parsed is None:  # text that does not read as specs is a secret whole
                return [webhooks], {"webhooks": REDACTED}
            secrets = secrets_of(parsed)
            return secrets, {"webhooks": redact(webhooks, secrets)}
        if isinstance(webhooks, list | tuple):
            return secrets_of(webhooks), {"webhooks": [redact_webhook(spec) for spec in webhooks]}
        return secrets_of(webhooks), {"webhooks": redact_webhook(webhooks)}

    def _spec_base_dir(self) -> str:
        dag = getattr(self, "dag", None) if getattr(self, "has_dag", lambda: False)() else None
        return dag.folder if dag is not None else os.getcwd()

    def load_raw_specs(self, context: Context | None) -> list[Any]:
        """The raw specs of this task: the list given, or the spec file read and rendered."""
        # The core loads when a task runs, not while the scheduler parses the DAG.
        from airflow_provider_plusofon.webhooks.spec_files import load_spec_source, looks_like_spec_path

        source = self.rendered("webhooks")
        if isinstance(source, os.PathLike) or (isinstance(source, str) and looks_like_spec_path(source)):
            path = Path(source)
            if not path.is_absolute():
                path = Path(self._spec_base_dir()) / path
            raw = load_spec_source(path)
            if context:
                raw = self._rendered_file(raw, context, path)
        else:
            raw = load_spec_source(source)
        mask_webhook_secrets(raw)
        return raw

    def _rendered_file(self, raw: list[Any], context: Context, path: Path) -> list[Any]:
        try:
            return self.render_template(raw, context)  # type: ignore[attr-defined]
        except Exception:
            missing = missing_variables(raw, context)
            if not missing:
                raise
            raise WebhookSpecError(
                [
                    f"{path}: the Airflow Variable {name!r} is not set: set it with "
                    f"`airflow variables set {name} VALUE` (or AIRFLOW_VAR_{name.upper()} in the environment)"
                    for name in missing
                ]
            ) from None

    def load_specs(self, context: Context | None) -> list[WebhookSpec]:
        """This task's specs, validated (every problem reported at once) before any request."""
        from airflow_provider_plusofon.webhooks.spec import parse_specs

        return parse_specs(self.load_raw_specs(context))
