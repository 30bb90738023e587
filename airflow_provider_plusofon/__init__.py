"""Apache Airflow provider for the Plusofon telephony API (call-event webhooks).

Nothing heavy is imported here: Airflow reads ``get_provider_info`` while it discovers providers.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

_HOOK_CLASS = "airflow_provider_plusofon.hooks.plusofon.PlusofonHook"
_INTEGRATION = "Plusofon"
# What Airflow lists of the provider (and the plusofon:// asset scheme, see assets/uris.py).
_MODULES: dict[str, Any] = {
    "integrations": [
        {
            "integration-name": _INTEGRATION,
            "external-doc-url": "https://plusofon.ru",
            "tags": ["service"],
        }
    ],
    "operators": [
        {"integration-name": _INTEGRATION, "python-modules": ["airflow_provider_plusofon.operators.webhooks"]}
    ],
    "sensors": [{"integration-name": _INTEGRATION, "python-modules": ["airflow_provider_plusofon.sensors.webhooks"]}],
    "triggers": [
        {
            "integration-name": _INTEGRATION,
            "python-modules": [
                "airflow_provider_plusofon.triggers.webhooks",
                "airflow_provider_plusofon.triggers.drift",
            ],
        }
    ],
    # Airflow 3.2+: `airflow plusofon-webhooks validate|plan|export` (earlier releases ignore the key).
    "cli": ["airflow_provider_plusofon.cli.definition.get_cli_commands"],
    "asset-uris": [
        {
            "schemes": ["plusofon"],
            "handler": "airflow_provider_plusofon.assets.uris.normalize_asset_uri",
            "factory": "airflow_provider_plusofon.assets.uris.create_asset",
        }
    ],
}
# The provider's own settings, under [plusofon] in Airflow's configuration.
_CONFIG: dict[str, Any] = {
    "plusofon": {
        "description": "Settings of the Plusofon provider (its connections have their own, in the form).",
        "options": {
            "triggerer_gc_freeze": {
                "description": "When the first Plusofon trigger starts in a triggerer, move the objects that "
                "process holds then (Airflow's modules and settings, which live as long as it does) out of "
                "the garbage collector's reach with gc.freeze(), as Airflow's DAG processor does: a full "
                "collection then walks only what triggers allocated since. Without it, at a thousand "
                "waiting sensors, each full collection holds the triggerer's event loop for longer than "
                "Airflow's 0.1 s lag budget (0.15 to 0.19 s on a 2-core machine).",
                "version_added": "0.2.0",
                "type": "boolean",
                "example": "False",
                "default": "True",
            }
        },
    }
}


def get_provider_info() -> dict[str, Any]:
    """Describe the provider to Airflow: its connection type and the connection form, its
    modules (integrations, operators, sensors, triggers), the ``plusofon://`` asset scheme and its
    settings.

    Airflow 3.2+ reads the form declaratively from here; 3.0 and 3.1 ask the hook
    (``get_connection_form_widgets`` / ``get_ui_field_behaviour``). Both come from the one table
    of settings, :mod:`airflow_provider_plusofon.api.settings`.
    """
    from airflow_provider_plusofon.api.settings import FIELD_BEHAVIOUR, connection_form_fields

    return {
        "package-name": "airflow-provider-plusofon",
        "name": "Plusofon",
        "description": "Manage Plusofon call-event webhooks from Airflow: ensure, audit and wait for them.",
        "versions": [__version__],
        **_MODULES,
        "connection-types": [
            {
                "connection-type": "plusofon",
                "hook-class-name": _HOOK_CLASS,
                "hook-name": "Plusofon",
                "ui-field-behaviour": {key.replace("_", "-"): value for key, value in FIELD_BEHAVIOUR.items()},
                "conn-fields": connection_form_fields(),
            }
        ],
        "config": _CONFIG,
    }
