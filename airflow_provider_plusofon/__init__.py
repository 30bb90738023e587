"""Apache Airflow provider for the Plusofon telephony API (call-event webhooks).

Nothing heavy is imported here: Airflow reads ``get_provider_info`` while it discovers providers.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

_HOOK_CLASS = "airflow_provider_plusofon.hooks.plusofon.PlusofonHook"


# The connection form, once. Airflow 3.2+ reads it declaratively from get_provider_info(); 3.0 and
# 3.1 ask the hook (PlusofonHook.get_connection_form_widgets / get_ui_field_behaviour), which
# builds its answer from these same definitions.
FIELD_BEHAVIOUR: dict[str, Any] = {
    "hidden_fields": ["schema", "extra"],
    "relabeling": {"login": "Client ID", "password": "API token", "host": "Base URL"},
    "placeholders": {
        "login": "10553 (Plusofon: More → For developers → API)",
        "password": "token from More → For developers → API",
        "host": "https://restapi.plusofon.ru",
        # Airflow 3.3's Test button sends port 0 when it is empty and then refuses the test.
        "port": "optional, e.g. 443 (fill it to use the Test button)",
    },
}
# Every extra is optional ("null" allowed): left empty, the hook's default applies.
CONNECTION_FIELDS: dict[str, dict[str, Any]] = {
    "timeout": {
        "label": "Timeout (seconds)",
        "description": "How long to wait for each answer of the API (default 30).",
        "schema": {"type": ["number", "null"], "default": 30, "minimum": 1},
    },
    "verify": {
        "label": "Verify TLS",
        "description": "Check the server's TLS certificate (turn off only for local tests).",
        "schema": {"type": ["boolean", "null"], "default": True},
    },
    "max_retries": {
        "label": "Max retries",
        "description": "Retries on connection errors, timeouts, 429 and 5xx, with backoff (default 5).",
        "schema": {"type": ["integer", "null"], "default": 5, "minimum": 0, "maximum": 20},
    },
}


def get_provider_info() -> dict[str, Any]:
    """Describe the provider to Airflow: its connection type and the connection form."""
    return {
        "package-name": "airflow-provider-plusofon",
        "name": "Plusofon",
        "description": "Manage Plusofon call-event webhooks from Airflow: ensure, audit and wait for them.",
        "versions": [__version__],
        "connection-types": [
            {
                "connection-type": "plusofon",
                "hook-class-name": _HOOK_CLASS,
                "hook-name": "Plusofon",
                "ui-field-behaviour": {key.replace("_", "-"): value for key, value in FIELD_BEHAVIOUR.items()},
                "conn-fields": CONNECTION_FIELDS,
            }
        ],
    }
