"""The plan as text for a task log, in the spirit of ``terraform plan``; header and param values never shown."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from airflow_provider_plusofon.redaction import SECRET_PAIR_FIELDS
from airflow_provider_plusofon.webhooks.plan import CREATE, DELETE, UPDATE, Action, Plan, describe_change

_SYMBOLS = {CREATE: "+", UPDATE: "~", DELETE: "-"}


def _webhook_line(action: Action) -> str:
    item = action.describe()
    webhook_id = f"#{item['id']} " if item["id"] is not None else ""
    type_call = f" type_call={item['type_call']}" if item["type_call"] else ""
    return f"{webhook_id}{item['url']} event={item['event']}{type_call}"


def _change_text(name: str, current: Any, desired: Any) -> str:
    described = describe_change(name, current, desired)
    if name in SECRET_PAIR_FIELDS:
        parts = [f"{k} {', '.join(v)}" for k, v in described.items() if v]
        return f"{name} ({'; '.join(parts)})"
    return f"{name}: {described['before']!r} -> {described['after']!r}"


def _one_line(text: str) -> str:
    # URLs, events and header names come from the server: a line break or other control
    # character in one must not forge lines in a task log or break out of a Markdown block.
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


def render_plan(plan: Plan, *, dry_run: bool = False) -> str:
    """
    A readable table of the plan: ``+ create``, ``~ update`` with each changed field, ``- delete``
    with its reason, and a count of what is unchanged. Each line is one line: characters that are
    not printable are shown escaped (``\\n``).
    """
    counts = (
        f"{len(plan.creates)} to create, {len(plan.updates)} to update, "
        f"{len(plan.deletes)} to delete, {len(plan.unchanged)} unchanged"
    )
    lines = [f"Plusofon webhook plan{' (dry run: nothing will be written)' if dry_run else ''}: {counts}"]
    for action in plan.actions:
        if action.kind not in _SYMBOLS:
            continue
        lines.append(f"  {_SYMBOLS[action.kind]} {action.kind:<7} {_webhook_line(action)}")
        if action.kind == UPDATE:
            lines += [f"      {_change_text(n, *pair)}" for n, pair in action.changes.items()]
        elif action.kind == DELETE:
            lines.append(f"      ({action.reason})")
    for label, ids in plan.duplicates.items():
        lines.append(f"  ! duplicates  {label} matches {len(ids)} webhooks: {', '.join(f'#{i}' for i in ids)}")
    if not plan.has_changes:
        lines.append("  No changes: the account matches the specs.")
    return "\n".join(_one_line(line) for line in lines)


def approval_markdown(summary: Mapping[str, Any]) -> str:
    """
    A dry run's plan as a person approving it reads it, in Markdown: what **Approve** will write
    (the plan's id and counts), then one change per line, a list item each, the fields it changes
    as items under it. Airflow's approval view collapses code blocks to one line, so the lines are
    list items, each an inline code span whose backticks outnumber any run in the text (so that
    server-sent text cannot close it).

    :param summary: the result of a dry run (``plan_id`` and ``plan_text``).
    """
    first, *lines = str(summary["plan_text"]).splitlines()
    counts = first.rsplit(": ", 1)[-1]
    items = []
    for line in lines:
        nested = line.startswith("      ")
        items.append(("  - " if nested else "- ") + _code(line.strip()))
    listed = "\n".join(items) if items else "- nothing to write"
    return f"**Approve** writes plan `{summary['plan_id']}`: {counts}.\n\n{listed}\n"


def _code(text: str) -> str:
    ticks = "`" * (max((len(run) for run in re.findall("`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"
