"""The Plusofon page's FastAPI app: server-rendered HTML at ``/plusofon/`` on the api-server (issue 35).

Routes: ``/`` (the fleet: one row per account) and ``/accounts/{client_id}`` (one account). Every
route requires a user Airflow's auth manager authenticates and allows the ``PLUGINS`` view (see
:func:`airflow_provider_plusofon.compat.ui_access_check`): Airflow mounts a plugin's app with none of
its API's dependencies, so the check is the app's own, on the app itself. A refusal is 401 (not
logged in) or 403 (not allowed), as an HTML page for a browser. Pages are Jinja2 templates with
autoescape on; every response forbids scripts but its own (a nonce), and caching.
"""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import quote, urlencode

import pendulum
from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from jinja2 import Environment, PackageLoader, StrictUndefined
from starlette.exceptions import HTTPException as StarletteHTTPException

from airflow_provider_plusofon.compat import token_cookie_read_by_core, ui_access_check
from airflow_provider_plusofon.ui import pages

PREFIX = "/plusofon"


def create_app() -> FastAPI:
    """The app Airflow mounts at ``/plusofon`` (no docs or OpenAPI routes: they would be open)."""
    app = FastAPI(
        title="Plusofon",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        dependencies=[Depends(ui_access_check())],
    )
    templates = _templates()

    @app.get("/", response_class=HTMLResponse)
    def fleet(
        request: Request,
        state: str | None = None,
        q: str | None = None,
        sort: str | None = None,
        order: str | None = None,
    ) -> Response:
        context = pages.fleet_page(pendulum.now("UTC"), state=state, query=q, sort=sort, order=order)
        return _page(request, templates, "fleet.html", context)

    @app.get("/accounts/{client_id}", response_class=HTMLResponse)
    def account(request: Request, client_id: str) -> Response:
        context = pages.account_page(pendulum.now("UTC"), client_id)
        if context is None:
            raise HTTPException(404, "No such Plusofon account is known to this deployment")
        return _page(request, templates, "account.html", context)

    @app.exception_handler(StarletteHTTPException)
    def refused(request: Request, error: StarletteHTTPException) -> Response:
        return _refusal(request, templates, error)

    return app


def _templates() -> Environment:
    env = Environment(
        loader=PackageLoader("airflow_provider_plusofon.ui", "templates"), autoescape=True, undefined=StrictUndefined
    )
    env.filters.update(when=pages.when, clock=pages.clock, ago=pages.ago, short=pages.short)
    env.globals["span"] = pages.span
    return env


def _links(request: Request) -> dict[str, Any]:
    """Where the page's links go: ours under the mount, Airflow's UI above it (the UI embeds us)."""
    mount = str(request.scope.get("root_path") or "").rstrip("/")
    ui = mount[: -len(PREFIX)] if mount.endswith(PREFIX) else ""
    mount = mount or PREFIX

    def run(ref: Any, *, approval: bool = False) -> str:
        href = f"{ui}/dags/{quote(ref.dag_id, safe='')}/runs/{quote(ref.run_id, safe='')}"
        if ref.task_id:
            href += f"/tasks/{quote(ref.task_id, safe='')}"
            if ref.map_index is not None and ref.map_index >= 0:
                href += f"/mapped/{ref.map_index}"
        return href + ("/required_actions" if approval and ref.task_id else "")

    return {
        "fleet_href": lambda **params: (
            f"{mount}/" + (f"?{urlencode({k: v for k, v in params.items() if v})}" if params else "")
        ),
        "account_href": lambda client_id: f"{mount}/accounts/{quote(client_id, safe='')}",
        "run_href": run,
        "dag_href": lambda dag_id: f"{ui}/dags/{quote(dag_id, safe='')}",
        "ui_href": f"{ui}/",
    }


def _page(request: Request, templates: Environment, name: str, context: dict[str, Any]) -> Response:
    nonce = secrets.token_urlsafe(16)
    html = templates.get_template(name).render(**context, **_links(request), nonce=nonce)
    return HTMLResponse(html, headers=_headers(nonce))


def _headers(nonce: str) -> dict[str, str]:
    return {
        "Content-Security-Policy": (
            f"default-src 'none'; style-src 'nonce-{nonce}'; script-src 'nonce-{nonce}'; img-src 'self' data:; "
            "frame-ancestors 'self'; base-uri 'none'; form-action 'self'"
        ),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
        "Cache-Control": "no-store",
    }


def _refusal(request: Request, templates: Environment, error: StarletteHTTPException) -> Response:
    """A refusal: JSON for an API client, a page for a browser (on Airflow 3.0, one that hands the
    browser's token to this page: the 3.0 UI keeps it in local storage, where no request carries it)."""
    status = error.status_code
    detail = str(error.detail)[:200]
    if "text/html" not in request.headers.get("accept", ""):
        return JSONResponse({"detail": detail}, status_code=status, headers=_headers("none"))
    nonce = secrets.token_urlsafe(16)
    links = _links(request)
    bridge = status == 401 and not token_cookie_read_by_core()
    html = templates.get_template("refused.html").render(
        status=status, detail=detail, login_href=pages.login_url(), bridge=bridge, nonce=nonce, **links
    )
    return HTMLResponse(html, status_code=status, headers=_headers(nonce))
