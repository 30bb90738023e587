"""Secrets a watcher's kwargs may not hold: given as templates, rendered in the triggerer.

An asset watcher's trigger is built when its DAG is parsed, and its kwargs are stored in the
serialized DAG, in clear unless a Fernet key is set. So its specs' secret values (header and
param values, URL credentials) come as templates, ``{{ var.value.NAME }}``, ``{{ var.json.NAME.key }}``
or ``{{ conn.ID.password }}``, and are rendered in the triggerer, where the values stay in memory.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

from airflow_provider_plusofon.exceptions import WebhookSpecError
from airflow_provider_plusofon.hooks.masking import mask_webhook_secrets
from airflow_provider_plusofon.redaction import SECRET_PAIR_FIELDS, url_userinfo


def _is_template(value: str) -> bool:
    return "{{" in value and "}}" in value


def literal_secrets(webhooks: Any) -> list[str]:
    """Where these specs hold a secret value that is not a template (spec, field, item), never the value."""
    found = []
    for index, spec in enumerate(webhooks if isinstance(webhooks, Sequence) else []):
        if not isinstance(spec, Mapping):
            continue
        for name in SECRET_PAIR_FIELDS:
            for position, item in enumerate(spec.get(name) or []):
                value = item.get("value") if isinstance(item, Mapping) else None
                if isinstance(value, str) and value and not _is_template(value):
                    found.append(f"spec #{index}: {name}[{position}].value")
        userinfo = url_userinfo(spec.get("url"))
        if userinfo and not _is_template(userinfo):
            found.append(f"spec #{index}: the credentials in url")
    return found


def refuse_literal_secrets(webhooks: Any, *, owner: str) -> None:
    """
    Raise :class:`WebhookSpecError` naming every secret value given in clear.

    :param owner: who refuses, for the message (e.g. the trigger's class name).
    """
    found = literal_secrets(webhooks)
    if found:
        raise WebhookSpecError(
            [
                f"{where} is given in clear; {owner} stores its kwargs in the serialized DAG, so give it as "
                "a template such as '{{ var.value.NAME }}' or '{{ conn.ID.password }}' (rendered in the triggerer)"
                for where in found
            ]
        )


class _Variables:
    def __init__(self, as_json: bool) -> None:
        self._as_json = as_json

    def __getattr__(self, key: str) -> Any:
        from airflow.sdk import Variable

        return Variable.get(key, deserialize_json=self._as_json)


class _Connections:
    def __getattr__(self, conn_id: str) -> Any:
        from airflow_provider_plusofon.compat import BaseHook

        return BaseHook.get_connection(conn_id)


def render_templates(
    webhooks: Sequence[Mapping[str, Any]], params: Mapping[str, Any] | None = None
) -> list[dict[str, Any]]:
    """
    The specs with every templated string rendered (with ``var``, ``conn`` and the ``params``
    given: a triggerer has no task context), and their secret values handed to Airflow's masker.
    Synchronous: Variables and connections are read through the supervisor (run it with
    ``one_at_a_time``).

    :raises WebhookSpecError: naming the spec and field of a template that does not render.
    """
    from jinja2 import StrictUndefined
    from jinja2.sandbox import SandboxedEnvironment

    env = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False)
    context = {
        "var": {"value": _Variables(False), "json": _Variables(True)},
        "conn": _Connections(),
        "params": dict(params or {}),
    }
    problems: list[str] = []

    def render(value: Any, where: str) -> Any:
        if isinstance(value, str) and _is_template(value):
            try:
                return env.from_string(value).render(**context)
            except Exception as error:  # the message names the template's names, never a value
                problems.append(f"{where}: the template does not render ({type(error).__name__}: {error})"[:300])
                return value
        if isinstance(value, Mapping):
            return {k: render(v, f"{where}.{k}") for k, v in value.items()}
        if isinstance(value, list):
            return [render(v, f"{where}[{i}]") for i, v in enumerate(value)]
        return value

    rendered = [render(copy.deepcopy(dict(spec)), f"spec #{i}") for i, spec in enumerate(webhooks)]
    if problems:
        raise WebhookSpecError(problems)
    mask_webhook_secrets(rendered)
    return rendered
