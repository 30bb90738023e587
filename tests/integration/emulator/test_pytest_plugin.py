"""The pytest plugin: fixtures that give a user's DAG tests an emulator and a connection to it."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.integration


def test_pytest_plugin_points_the_default_connection_at_the_emulator(plusofon_connection):
    from airflow_provider_plusofon.hooks.plusofon import PlusofonHook

    assert PlusofonHook().list_webhooks() == []
    assert plusofon_connection.count("GET") == 1


def test_installing_the_provider_loads_no_plugin_into_other_pytest_runs():
    from importlib.metadata import entry_points

    assert [e for e in entry_points(group="pytest11") if e.value.startswith("airflow_provider_plusofon")] == []
