"""Registration with Airflow: the provider, its connection type and the connection form."""

from __future__ import annotations

import json
from importlib.metadata import entry_points

import pytest

from airflow_provider_plusofon import get_provider_info


def test_entry_point_points_at_get_provider_info():
    [entry] = [
        e for e in entry_points(group="apache_airflow_provider") if e.value.startswith("airflow_provider_plusofon")
    ]
    assert entry.load() is get_provider_info


SETTING_NAMES = ("timeout", "verify", "max_retries", "max_pages", "max_answer_bytes", "allow_plain_http")


def test_provider_info_declares_the_connection_type_and_form():
    info = get_provider_info()
    assert info["package-name"] == "airflow-provider-plusofon"
    [conn] = info["connection-types"]
    assert conn["connection-type"] == "plusofon"
    assert conn["hook-class-name"] == "airflow_provider_plusofon.hooks.plusofon.PlusofonHook"
    behaviour = conn["ui-field-behaviour"]
    assert behaviour["relabeling"] == {"login": "Client ID", "password": "API token", "host": "Base URL"}
    assert set(behaviour["hidden-fields"]) == {"schema", "extra"}
    assert behaviour["placeholders"]["host"] == "https://restapi.plusofon.ru"
    # every setting a connection can hold has its field (issue 18: max_pages and max_answer_bytes too;
    # issue 33: the opt-in to plain http)
    assert set(conn["conn-fields"]) == {*SETTING_NAMES}
    assert conn["conn-fields"]["verify"]["schema"] == {"type": ["boolean", "null"], "default": True}
    assert conn["conn-fields"]["allow_plain_http"]["schema"] == {"type": ["boolean", "null"], "default": False}
    defaults = {name: field["schema"]["default"] for name, field in conn["conn-fields"].items()}
    assert defaults == {
        "timeout": 30,
        "verify": True,
        "max_retries": 5,
        "max_pages": 10000,
        "max_answer_bytes": 16 * 1024 * 1024,
        "allow_plain_http": False,
    }
    assert conn["conn-fields"]["max_retries"]["schema"]["maximum"] == 20
    json.dumps(info)


def test_airflow_discovers_the_provider():
    from airflow.providers_manager import ProvidersManager

    assert "airflow-provider-plusofon" in ProvidersManager().providers


def test_the_ui_gets_the_connection_form_on_this_airflow():
    # What the API server hands the UI: 3.2+ builds it from conn-fields, 3.0 and 3.1 from the
    # hook's form methods (with wtforms mocked, as the API server does).
    import importlib.util

    from airflow import __version__ as airflow_version
    from airflow.api_fastapi.core_api.services.ui.connections import HookMetaService

    HookMetaService.hook_meta_data.cache_clear()
    [meta] = [m for m in HookMetaService.hook_meta_data() if m.connection_type == "plusofon"]
    if airflow_version.startswith("3.0.") and importlib.util.find_spec("flask_appbuilder") is None:
        assert meta.standard_fields is None  # so it is for every provider's form there
        pytest.xfail(
            "Airflow 3.0 builds hook connection forms only when flask_appbuilder (the FAB provider) is "
            "installed, for every provider; without it the form is generic"
        )
    fields = meta.standard_fields
    assert (fields.login.title, fields.password.title, fields.host.title) == ("Client ID", "API token", "Base URL")
    assert fields.url_schema.hidden is True
    assert fields.port is not None and not fields.port.hidden and "Test button" in fields.port.placeholder
    extras = meta.extra_fields
    assert set(extras) == {*SETTING_NAMES}
    for name, field in extras.items():
        assert "null" in field["schema"]["type"], f"{name} would be required in the form"
    assert extras["timeout"]["schema"]["title"] == "Timeout (seconds)"
    assert extras["max_retries"]["value"] == 5
    assert extras["verify"]["value"] is True
    assert extras["allow_plain_http"]["value"] is False
    assert "unencrypted" in extras["allow_plain_http"]["description"]


def test_the_version_is_defined_once():
    from importlib.metadata import version

    from airflow_provider_plusofon import __version__

    assert version("airflow-provider-plusofon") == __version__ == get_provider_info()["versions"][0]


def test_hook_has_the_connection_attributes():
    from airflow_provider_plusofon.hooks.plusofon import PlusofonHook

    assert (
        PlusofonHook.conn_type,
        PlusofonHook.default_conn_name,
        PlusofonHook.conn_name_attr,
        PlusofonHook.hook_name,
    ) == (
        "plusofon",
        "plusofon_default",
        "plusofon_conn_id",
        "Plusofon",
    )


def test_provider_info_loads_only_the_settings_table():
    # Airflow calls get_provider_info() in every process that discovers providers.
    import subprocess
    import sys

    code = (
        "import sys, airflow_provider_plusofon as p; p.get_provider_info(); "
        "print(sorted(m for m in sys.modules if m.startswith('airflow_provider_plusofon') or m == 'requests'))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == str(
        [
            "airflow_provider_plusofon",
            "airflow_provider_plusofon.api",
            "airflow_provider_plusofon.api.settings",
            "airflow_provider_plusofon.exceptions",
        ]
    )


def test_the_cli_key_gives_airflow_the_plusofon_webhooks_commands():
    import importlib

    from airflow_provider_plusofon import get_provider_info

    [path] = get_provider_info()["cli"]
    module, _, name = path.rpartition(".")
    [group] = getattr(importlib.import_module(module), name)()
    assert group.name == "plusofon-webhooks"
    flags = {command.name: {flag for arg in command.args for flag in arg.flags} for command in group.subcommands}
    assert flags == {
        "validate": {"files", "--conn-id", "--param", "--task", "--stand-ins", "--debug"},
        "plan": {"file", "--conn-id", "--param", "--task", "--prune", "--json", "--debug"},
        "export": {"--conn-id", "--output", "--force", "--rewrite-url", "--debug"},
    }


def test_eight_requests_in_flight_by_default_everywhere(conn_env):
    from airflow_provider_plusofon.api import PlusofonClient
    from airflow_provider_plusofon.hooks.plusofon import PlusofonHook
    from airflow_provider_plusofon.operators.webhooks import EnsureWebhooksOperator, PlusofonWebhookOperator
    from airflow_provider_plusofon.sensors.webhooks import PlusofonWebhookSensor

    tasks = [
        EnsureWebhooksOperator(task_id="e", webhooks=[]),
        PlusofonWebhookOperator(task_id="p", url="https://a.example/x", event="create"),
        PlusofonWebhookSensor(task_id="s", webhooks=[]),
    ]
    assert [task.max_workers for task in tasks] == [8, 8, 8]
    assert PlusofonHook().max_workers == 8
    assert PlusofonClient(PlusofonHook().config).max_workers == 8
