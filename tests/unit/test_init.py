"""Registration with Airflow: the provider, its connection type and the connection form."""

from __future__ import annotations

import json
from importlib.metadata import entry_points

from airflow_provider_plusofon import get_provider_info


def test_entry_point_points_at_get_provider_info():
    [entry] = [
        e for e in entry_points(group="apache_airflow_provider") if e.value.startswith("airflow_provider_plusofon")
    ]
    assert entry.load() is get_provider_info


def test_provider_info_declares_the_connection_type_and_form():
    info = get_provider_info()
    assert info["package-name"] == "airflow-provider-plusofon"
    [conn] = info["connection-types"]
    assert conn["connection-type"] == "plusofon"
    assert conn["hook-class-name"] == "airflow_provider_plusofon.hooks.plusofon.PlusofonHook"
    behaviour = conn["ui-field-behaviour"]
    assert behaviour["relabeling"] == {"login": "Client ID", "password": "API token", "host": "Base URL"}
    assert set(behaviour["hidden-fields"]) == {"schema", "port", "extra"}
    assert behaviour["placeholders"]["host"] == "https://restapi.plusofon.ru"
    assert set(conn["conn-fields"]) == {"timeout", "verify", "max_retries"}
    assert conn["conn-fields"]["verify"]["schema"] == {"type": "boolean", "default": True}
    json.dumps(info)


def test_airflow_discovers_provider_hook_and_form():
    from airflow.providers_manager import ProvidersManager

    manager = ProvidersManager()
    assert "airflow-provider-plusofon" in manager.providers
    assert manager.field_behaviours["plusofon"]["relabeling"]["password"] == "API token"
    widgets = manager.connection_form_widgets
    assert widgets["extra__plusofon__timeout"].field["schema"]["title"] == "Timeout (seconds)"
    assert widgets["extra__plusofon__max_retries"].field["value"] == 5


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
