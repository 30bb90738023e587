"""The Airflow plugin that serves the Plusofon page (issue 35), registered through the ``airflow.plugins``
entry point: installing the provider is enough.

The api-server mounts its app at ``/plusofon``; on Airflow 3.1+ an external view puts it in the UI's
navigation (Browse → Plusofon), shown embedded. On 3.0 it is at ``/plusofon/`` on the api-server.
Every Airflow process loads plugins, so nothing heavy is imported here: the app is built on its
first request.
"""

from __future__ import annotations

import threading
from typing import Any

from airflow.plugins_manager import AirflowPlugin

URL_PREFIX = "/plusofon"


class LazyApp:
    """An ASGI app that builds the page's FastAPI app on its first request (FastAPI, Jinja and the
    templates load in the api-server only, never in a scheduler, worker or triggerer)."""

    def __init__(self) -> None:
        self._app: Any = None
        self._lock = threading.Lock()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if self._app is None:
            with self._lock:
                if self._app is None:
                    from airflow_provider_plusofon.ui.app import create_app

                    self._app = create_app()
        await self._app(scope, receive, send)


class PlusofonPlugin(AirflowPlugin):
    """The Plusofon page: every account's state, what drifted, what waits for approval."""

    name = "plusofon"
    fastapi_apps = [{"app": LazyApp(), "url_prefix": URL_PREFIX, "name": "Plusofon accounts"}]
    # Airflow 3.1+: in the navigation, embedded (3.0 does not read it).
    external_views = [
        {
            "name": "Plusofon",
            "href": f"{URL_PREFIX}/",
            "destination": "nav",
            "category": "browse",
            "url_route": "plusofon",
        }
    ]
