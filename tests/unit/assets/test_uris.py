"""Issue 23 (first part): the plusofon:// asset scheme, registered with Airflow and normalised by it."""

from __future__ import annotations

import pytest

from airflow_provider_plusofon.assets.uris import asset_uri, create_asset


@pytest.mark.parametrize(
    ("given", "normalised"),
    [
        ("plusofon://10553/webhooks", "plusofon://10553/webhooks"),
        ("PLUSOFON://10553/Webhooks/", "plusofon://10553/webhooks"),
        ("plusofon://10553/webhooks/Drift//", "plusofon://10553/webhooks/drift"),
        ("plusofon://10553/webhooks/changes#x", "plusofon://10553/webhooks/changes"),
    ],
)
def test_airflow_normalises_our_uris_with_our_handler(given, normalised):
    from airflow.sdk import Asset

    assert Asset(given).uri == normalised


@pytest.mark.parametrize(
    ("given", "problem"),
    [
        ("plusofon://10553/calls", "path is /webhooks, /webhooks/drift or /webhooks/changes"),
        ("plusofon://10553/webhooks/other", "path is /webhooks"),
        ("plusofon:///webhooks", "Client ID as its host"),
        ("plusofon://10553/webhooks?page=2", "takes no query"),
    ],
)
def test_any_other_uri_of_the_scheme_is_refused_saying_what_it_must_be(given, problem):
    from airflow.sdk import Asset

    with pytest.raises(ValueError, match=problem):
        Asset(given)


def test_the_uris_and_the_factory_name_the_account():
    assert asset_uri("10553") == "plusofon://10553/webhooks"
    assert asset_uri("10553", "drift") == "plusofon://10553/webhooks/drift"
    asset = create_asset(client_id="10553", kind="changes", extra={"team": "telephony"})
    assert (asset.uri, asset.extra) == ("plusofon://10553/webhooks/changes", {"team": "telephony"})


def test_the_provider_info_airflow_reads_names_our_modules_and_scheme():
    try:
        from airflow.sdk.providers_manager_runtime import ProvidersManagerTaskRuntime as Manager
    except ImportError:  # Airflow 3.0 to 3.2
        from airflow.providers_manager import ProvidersManager as Manager  # type: ignore[no-redef]

    manager = Manager()
    assert manager.asset_uri_handlers["plusofon"].__name__ == "normalize_asset_uri"
    assert manager.asset_factories["plusofon"].__name__ == "create_asset"
    from airflow_provider_plusofon import get_provider_info

    info = get_provider_info()
    assert [i["integration-name"] for i in info["integrations"]] == ["Plusofon"]
    modules = {key: info[key][0]["python-modules"] for key in ("operators", "sensors", "triggers")}
    assert modules == {
        "operators": ["airflow_provider_plusofon.operators.webhooks"],
        "sensors": ["airflow_provider_plusofon.sensors.webhooks"],
        "triggers": ["airflow_provider_plusofon.triggers.webhooks", "airflow_provider_plusofon.triggers.drift"],
    }
    for listed in modules.values():  # every module listed imports
        for module in listed:
            __import__(module)
