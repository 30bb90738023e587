"""Secrets a watcher's kwargs may not hold: given as templates, rendered in the triggerer.

An asset watcher's trigger is built when its DAG is parsed, and its kwargs are stored in the
serialized DAG, in clear unless a Fernet key is set. So its specs' secret values (header and
param values, URL credentials) come as templates, ``{{ var.value.NAME }}``, ``{{ var.json.NAME.key }}``
or ``{{ conn.ID.password }}``, and are rendered in the triggerer, where the values stay in memory.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping, Sequence
from typing import Any

from airflow_provider_plusofon.exceptions import WebhookSpecError
from airflow_provider_plusofon.hooks.masking import mask_webhook_secrets
from airflow_provider_plusofon.redaction import SECRET_PAIR_FIELDS, url_userinfo

_EXPRESSION = re.compile(r"\{\{.*?\}\}", re.S)


def _only_templates(value: str, *, between: str = "") -> bool:
    """Whether ``value`` is template expressions and nothing else (``between`` them: ``:`` for a
    URL's user info), none of them naming ``params``, which the kwargs hold in clear."""
    expressions = _EXPRESSION.findall(value)
    rest = _EXPRESSION.sub("", value).strip()
    return bool(expressions) and rest in ("", between) and not any("params" in e for e in expressions)


def literal_secrets(webhooks: Any) -> list[str]:
    """Where these specs hold a secret value that is not only templates of ``var`` or ``conn``
    (spec, field, item), never the value: text beside a template is stored in clear."""
    found = []
    for index, spec in enumerate(webhooks if isinstance(webhooks, Sequence) else []):
        if not isinstance(spec, Mapping):
            continue
        for name in SECRET_PAIR_FIELDS:
            for position, item in enumerate(spec.get(name) or []):
                value = item.get("value") if isinstance(item, Mapping) else None
                if isinstance(value, str) and value and not _only_templates(value):
                    found.append(f"spec #{index}: {name}[{position}].value")
        userinfo = url_userinfo(spec.get("url"))
        if userinfo and not _only_templates(userinfo, between=":" if ":" in userinfo else ""):
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


def render_templates(
    webhooks: Sequence[Mapping[str, Any]], params: Mapping[str, Any] | None = None
) -> list[dict[str, Any]]:
    """
    The specs with every templated string rendered as a task renders it (``var``, ``conn`` and the
    ``params`` given: a triggerer has no task context), and their secret values handed to
    Airflow's masker. Synchronous: Variables and connections are read through the supervisor (run
    it with ``one_at_a_time``).

    :raises WebhookSpecError: naming the spec and field of a template that does not render.
    """
    from airflow.sdk import Variable

    from airflow_provider_plusofon.compat import BaseHook
    from airflow_provider_plusofon.hooks.templates import context_of, render_strings

    context = context_of(
        dict(params or {}),
        variable=Variable.get,
        json_variable=lambda key: Variable.get(key, deserialize_json=True),
        connection=BaseHook.get_connection,
    )
    problems: list[str] = []

    def problem_of(where: str, error: Exception) -> None:  # the template's names, never a value
        problems.append(f"spec #{where}: the template does not render ({type(error).__name__}: {error})"[:300])

    rendered = [
        render_strings(copy.deepcopy(dict(spec)), context, problem_of, str(i)) for i, spec in enumerate(webhooks)
    ]
    if problems:
        raise WebhookSpecError(problems)
    mask_webhook_secrets(rendered)
    return rendered
