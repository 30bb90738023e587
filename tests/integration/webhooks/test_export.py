"""Export against the emulator: no secret written, stable names, duplicates reported, the round trip."""

from __future__ import annotations

import pytest
import yaml

from airflow_provider_plusofon.hooks.plusofon import PlusofonHook
from airflow_provider_plusofon.operators.webhooks import EnsureWebhooksOperator
from airflow_provider_plusofon.webhooks.export import to_yaml, variable_name

pytestmark = pytest.mark.integration

CRM = "https://crm.example.com/plusofon/calls"
SECRET_A, SECRET_B, URL_SECRET = "hdr-export-secret-a1", "hdr-export-secret-b2", "url-export-pa55"
PARAM_SECRET = "param-export-key-c3"
ACCOUNT = [
    {
        "url": CRM,
        "event": "create",
        "type_call": "inbound",
        "type_style": "long",
        "headers": [{"name": "X-Webhook-Secret", "value": SECRET_A}, {"name": "X-Other", "value": SECRET_B}],
        "params": [{"name": "api_key", "value": PARAM_SECRET}],
    },
    {"url": CRM, "event": "destroy", "fields": [{"before": "call_id", "after": "crm_call_id"}], "template": None},
    {"url": f"https://bi:{URL_SECRET}@bi.example.com/ended", "event": "destroy", "template": "{{ call_id }}: {% x %}"},
    {"url": "https://dup.example.com/x", "event": "answer"},
    {"url": "https://dup.example.com/x", "event": "answer"},
]


@pytest.fixture
def account(emulator_conn):
    emulator_conn.seed(ACCOUNT)
    return emulator_conn


def test_export_writes_no_secret_and_names_the_variables_stably(account):
    export = PlusofonHook().export_specs()
    text = to_yaml(export)
    for secret in (SECRET_A, SECRET_B, URL_SECRET, PARAM_SECRET, "bi:"):
        assert secret not in text
    assert export.variables == [
        "plusofon_bi_example_com_ended_destroy_url_userinfo",
        "plusofon_crm_example_com_plusofon_calls_create_inbound_param_api_key",
        "plusofon_crm_example_com_plusofon_calls_create_inbound_x_other",
        "plusofon_crm_example_com_plusofon_calls_create_inbound_x_webhook_secret",
    ]
    assert "#   plusofon_crm_example_com_plusofon_calls_create_inbound_x_webhook_secret" in text
    assert text == to_yaml(PlusofonHook().export_specs())  # the same account exports the same file
    assert export.duplicates == {4: [5]}
    assert "# Duplicates left out: #4 is exported; #5 share its identity." in text
    assert [(s["url"].split("@")[-1], s["event"]) for s in yaml.safe_load(text)["webhooks"]] == [
        ("bi.example.com/ended", "destroy"),
        (CRM, "create"),
        (CRM, "destroy"),
        ("https://dup.example.com/x", "answer"),
    ]


def test_variable_names_are_readable():
    webhook = {"url": "https://CRM.example.com/Calls/In?x=1", "event": "create", "type_call": "all"}
    assert variable_name(webhook, "X-Api-Key") == "plusofon_crm_example_com_calls_in_create_all_x_api_key"


def test_the_exported_file_plans_nothing_to_do_against_the_same_account(account, tmp_path):
    export = PlusofonHook().export_specs()
    path = tmp_path / "exported.yaml"
    path.write_text(to_yaml(export))
    # The Variables hold what the account holds, as the export asked; a task renders the file.
    values = {
        "plusofon_crm_example_com_plusofon_calls_create_inbound_x_webhook_secret": SECRET_A,
        "plusofon_crm_example_com_plusofon_calls_create_inbound_x_other": SECRET_B,
        "plusofon_bi_example_com_ended_destroy_url_userinfo": f"bi:{URL_SECRET}",
        "plusofon_crm_example_com_plusofon_calls_create_inbound_param_api_key": PARAM_SECRET,
    }
    assert sorted(values) == export.variables
    op = EnsureWebhooksOperator(task_id="round_trip", webhooks=str(path), dry_run=True)
    summary = op.execute(context={"var": {"value": values}, "params": {}})
    assert (summary["created"], summary["updated"], summary["deleted"]) == ([], [], [])
    assert len(summary["unchanged"]) == 4
    account.state.clear_requests()
    pruned = EnsureWebhooksOperator(task_id="round_trip", webhooks=str(path), dry_run=True, prune=True)
    assert [d["id"] for d in pruned.execute(context={"var": {"value": values}, "params": {}})["deleted"]] == [5]
    assert [r["method"] for r in account.requests()] == ["GET"] * len(account.requests())


def test_rewrite_url_points_the_export_elsewhere(account):
    export = PlusofonHook().export_specs(
        rewrite_urls=[("https://crm.example.com/", "https://crm.staging.example.com/")]
    )
    urls = [spec["url"] for spec in export.specs]
    assert "https://crm.staging.example.com/plusofon/calls" in urls
    assert CRM not in urls
    assert "plusofon_crm_staging_example_com_plusofon_calls_create_inbound_x_other" in export.variables


def test_two_headers_of_one_name_get_a_variable_each(emulator_conn):
    emulator_conn.seed(
        [
            {
                "url": CRM,
                "event": "create",
                "headers": [{"name": "X-Key", "value": "a1"}, {"name": "X-Key", "value": "b2"}],
            }
        ]
    )
    [spec] = PlusofonHook().export_specs().specs
    assert spec["headers"] == [
        {"name": "X-Key", "value": "{{ var.value.plusofon_crm_example_com_plusofon_calls_create_x_key }}"},
        {"name": "X-Key", "value": "{{ var.value.plusofon_crm_example_com_plusofon_calls_create_x_key_1 }}"},
    ]


def test_a_webhook_no_spec_can_declare_is_refused_naming_it_and_nothing_is_written(emulator_conn):
    from airflow_provider_plusofon.exceptions import WebhookSpecError

    emulator_conn.seed(
        [
            {"url": CRM, "event": "create", "headers": [{"name": "X-Key", "value": "line\nbreak-secret-9"}]},
            {"url": "https://crm.example.com/with space", "event": "destroy"},
            {"url": CRM, "event": "answer"},
        ]
    )
    with pytest.raises(WebhookSpecError) as caught:
        PlusofonHook().export_specs()
    assert caught.value.problems == [
        f"webhook #1 ({CRM}): field 'headers': item 0 'value' must not contain control characters (CR, LF, tab, ...)",
        "webhook #2 (https://crm.example.com/with space): field 'url': must not contain spaces or control "
        "characters (tab, line break, ...), got 'https://crm.example.com/with space'",
    ]
    assert "break-secret-9" not in str(caught.value)


def test_a_variable_name_longer_than_airflow_keeps_is_cut_and_stays_apart():
    long_path = "/".join(["segment"] * 60)
    first = variable_name({"url": f"https://crm.example.com/{long_path}/a", "event": "create"}, "X-Key")
    second = variable_name({"url": f"https://crm.example.com/{long_path}/b", "event": "create"}, "X-Key")
    assert len(first) == len(second) == 250
    assert first != second and first.startswith("plusofon_crm_example_com_segment_segment")


@pytest.mark.parametrize(
    "value",
    ["{{ call_id }}", "{% endraw %}", "{%- endraw -%}", "{#", "a\r\nb", "ends with a line break\n", "'\\'\"", "ü🙂{{"],
)
def test_a_literal_value_renders_back_exactly_as_a_task_renders_it(value):
    from airflow_provider_plusofon.hooks.templates import template_env
    from airflow_provider_plusofon.webhooks.export import literal

    assert template_env().from_string(literal(value)).render() == value
    assert literal("https://crm.example.com/plain?x=1") == "https://crm.example.com/plain?x=1"  # plain stays plain
