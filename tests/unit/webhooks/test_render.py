"""The plan as a table for the task log: every kind of action, and no secret in it."""

from __future__ import annotations

from airflow_provider_plusofon.webhooks.plan import plan_changes
from airflow_provider_plusofon.webhooks.render import render_plan
from airflow_provider_plusofon.webhooks.spec import parse_specs
from tests.unit.webhooks.test_plan import A, B, webhook


def test_render_plan_table():
    specs = parse_specs([{"url": A, "event": "create", "type_style": "long"}, {"url": B, "event": "destroy"}])
    result = plan_changes(specs, [webhook(1, type_style="short"), webhook(2, url="https://old.example")], prune=True)
    text = render_plan(result, dry_run=True)
    assert text.splitlines() == [
        "Plusofon webhook plan (dry run: nothing will be written): 1 to create, 1 to update, 1 to delete, 0 unchanged",
        f"  ~ update  #1 {A} event=create type_call=inbound",
        "      type_style: 'short' -> 'long'",
        f"  + create  {B} event=destroy",
        "  - delete  #2 https://old.example event=create type_call=inbound",
        "      (not declared in any spec)",
    ]


def test_render_no_changes():
    specs = parse_specs([{"url": A, "event": "create"}])
    assert "No changes" in render_plan(plan_changes(specs, [webhook(1)]))


def test_render_keeps_what_the_server_sent_on_one_line():
    # a hostile account: a URL and a header name that would forge a plan line, or a Markdown block's end
    forged = "https://evil.example/x\n  + create  https://forged.example event=create\r\u2028```"
    result = plan_changes(
        parse_specs([{"url": A, "event": "create", "headers": [{"name": "X-Other", "value": "w"}]}]),
        [webhook(1, headers=[{"name": "X-A\nB", "value": "v"}]), webhook(2, url=forged)],
        prune=True,
    )
    lines = render_plan(result).splitlines()
    assert len(lines) == 5
    assert lines[3] == (
        "  - delete  #2 https://evil.example/x\\n  + create  https://forged.example event=create\\r\\u2028``` "
        "event=create type_call=inbound"
    )
    assert lines[2] == "      headers (added X-Other; removed X-A\\nB)"


def test_the_approval_shows_what_approve_writes_one_change_per_line():
    from airflow_provider_plusofon.webhooks.render import approval_markdown

    summary = {
        "plan_id": "plan-abc",
        "plan_text": "Plusofon webhook plan (dry run: nothing will be written): 1 to create, 1 to update, "
        "0 to delete, 2 unchanged\n  + create  https://a.example/x``y event=create\n  ~ update  #3 https://b\n"
        "      type_style: 'short' -> 'long'",
    }
    assert approval_markdown(summary).splitlines() == [
        "**Approve** writes plan `plan-abc`: 1 to create, 1 to update, 0 to delete, 2 unchanged.",
        "",
        # more backticks than the server-sent URL holds: it cannot close the code span
        "- ```+ create  https://a.example/x``y event=create```",
        "- `~ update  #3 https://b`",
        "  - `type_style: 'short' -> 'long'`",
    ]
    assert "dry run" not in approval_markdown(summary)
