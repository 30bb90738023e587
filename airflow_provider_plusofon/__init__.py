"""Apache Airflow provider for the Plusofon telephony API (call-event webhooks).

Nothing heavy is imported here: Airflow reads ``get_provider_info`` while it discovers providers.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

_HOOK_CLASS = "airflow_provider_plusofon.hooks.plusofon.PlusofonHook"


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
                "ui-field-behaviour": {
                    "hidden-fields": ["schema", "port", "extra"],
                    "relabeling": {"login": "Client ID", "password": "API token", "host": "Base URL"},
                    "placeholders": {
                        "login": "10553 (Plusofon: More → For developers → API)",
                        "password": "token from More → For developers → API",
                        "host": "https://restapi.plusofon.ru",
                    },
                },
                "conn-fields": {
                    "timeout": {
                        "label": "Timeout (seconds)",
                        "description": "How long to wait for each answer of the API.",
                        "schema": {"type": "number", "default": 30, "minimum": 1},
                    },
                    "verify": {
                        "label": "Verify TLS",
                        "description": "Check the server's TLS certificate (turn off only for local tests).",
                        "schema": {"type": "boolean", "default": True},
                    },
                    "max_retries": {
                        "label": "Max retries",
                        "description": "Retries on connection errors, timeouts, 429 and 5xx, with backoff.",
                        "schema": {"type": "integer", "default": 5, "minimum": 0, "maximum": 20},
                    },
                },
            }
        ],
    }
