"""The Airflow names that moved between Airflow 3 releases, imported in one place.

``apache-airflow-providers-common-compat`` re-exports each from where the running release keeps
it (``airflow.sdk`` from 3.2, ``airflow.hooks.base``, ``airflow.exceptions``, ``airflow.configuration``
before). Only the secret masker is missing from the compat releases that still support Python 3.10
(it arrived in 1.22), so it falls back here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from airflow.providers.common.compat.sdk import (
    AirflowFailException,
    AirflowNotFoundException,
    AirflowSensorTimeout,
    AirflowSkipException,
    BaseHook,
    BaseOperator,
    BaseSensorOperator,
    PokeReturnValue,
    conf,
)

try:
    from airflow.sdk.log import mask_secret
except ImportError:  # Airflow 3.0 and 3.1 (Task SDK 1.0 and 1.1)
    from airflow.sdk.execution_time.secrets_masker import mask_secret  # type: ignore[no-redef]


def __getattr__(name: str) -> Any:
    """``AssetOrTimeSchedule`` and ``CronTriggerTimetable``, imported only when a DAG file asks
    (the operators' import at DAG-parse time must not pay for them): in ``airflow.sdk`` from 3.2,
    in core before."""
    if name not in ("AssetOrTimeSchedule", "CronTriggerTimetable"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import airflow.sdk

    found = getattr(airflow.sdk, name, None)
    if found is None:  # Airflow 3.0 and 3.1
        from airflow.timetables import assets, trigger

        found = getattr(assets, name, None) or getattr(trigger, name)
    return found


def secrets_masker() -> Any:
    """The masker ``mask_secret`` adds to in this process (``_secrets_masker()`` of Task SDK's
    ``_shared.secrets_masker`` from 3.1, of ``execution_time.secrets_masker`` on 3.0), or ``None``
    (3.0 raises when logging has no masker configured)."""
    try:
        try:
            from airflow.sdk._shared.secrets_masker import _secrets_masker
        except ImportError:  # Airflow 3.0
            from airflow.sdk.execution_time.secrets_masker import _secrets_masker  # type: ignore[no-redef,unused-ignore]
        return _secrets_masker()
    except Exception:
        return None


def ui_access_check() -> Callable[..., Any]:
    """
    The FastAPI dependency every route of the Plusofon page takes (Airflow does not authenticate a
    plugin's app): the user Airflow's auth manager reads from the JWT the UI holds (a bearer token,
    or the ``_token`` cookie), allowed the ``PLUGINS`` view (``AccessView.PLUGINS``, which Airflow's
    viewer roles have). Anonymous: 401; a token that is not valid, or a user without the view: 403.

    From 3.1, core's ``requires_access_view`` reads both. On 3.0 its ``get_user`` reads only the
    bearer token (the UI keeps the JWT in the browser's local storage, not in a cookie), so the
    same check is made here from either. If Airflow's security module cannot be imported, every
    request is refused: the page never opens for lack of a check.
    """
    try:
        from airflow.api_fastapi.auth.managers.models.resource_details import AccessView
        from airflow.api_fastapi.core_api import security
    except ImportError:
        return _refuse_every_request
    if token_cookie_read_by_core():
        return security.requires_access_view(AccessView.PLUGINS)
    return _bearer_or_cookie_with_plugins_view()


def token_cookie_read_by_core() -> bool:
    """Whether core's ``get_user`` reads the UI's ``_token`` cookie (Airflow 3.1+): its signature has a request."""
    import inspect

    from airflow.api_fastapi.core_api.security import get_user

    return "request" in inspect.signature(get_user).parameters


def _bearer_or_cookie_with_plugins_view() -> Callable[..., Any]:
    """Airflow 3.0: core's view check, reading the token from the header or the cookie."""
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.api_fastapi.auth.managers.base_auth_manager import COOKIE_NAME_JWT_TOKEN
    from airflow.api_fastapi.auth.managers.models.resource_details import AccessView
    from airflow.api_fastapi.core_api.security import get_user
    from fastapi import HTTPException, Request

    async def check(request: Request) -> None:
        scheme, _, bearer = request.headers.get("authorization", "").partition(" ")
        token = bearer.strip() if scheme.lower() == "bearer" else request.cookies.get(COOKIE_NAME_JWT_TOKEN)
        if not token:
            raise HTTPException(401, "Not authenticated")
        user = await get_user(token)  # type: ignore[arg-type,unused-ignore]  # 3.0's takes the token: 401 expired, 403 invalid
        if not get_auth_manager().is_authorized_view(access_view=AccessView.PLUGINS, user=user):
            raise HTTPException(403, "Forbidden")

    # FastAPI reads a dependency's parameters from its annotations, which this module keeps as text.
    check.__annotations__ = {"request": Request, "return": None}
    return check


async def _refuse_every_request() -> None:
    from fastapi import HTTPException

    raise HTTPException(403, "Forbidden: Airflow's security module could not be loaded")


def hitl_detail_model() -> Any:
    """Airflow's model of approval (human-in-the-loop) tasks, from 3.1; ``None`` on 3.0."""
    try:
        from airflow.models.hitl import HITLDetail
    except ImportError:
        return None
    return HITLDetail


def asset_state_store_model() -> Any:
    """Airflow 3.3's asset state store (where a drift watcher keeps its state); ``None`` before."""
    try:
        from airflow.models.asset_state_store import AssetStateStoreModel
    except ImportError:
        return None
    return AssetStateStoreModel


__all__ = [
    "AirflowFailException",
    "AirflowNotFoundException",
    "AirflowSensorTimeout",
    "AirflowSkipException",
    "BaseHook",
    "BaseOperator",
    "BaseSensorOperator",
    "PokeReturnValue",
    "asset_state_store_model",
    "conf",
    "hitl_detail_model",
    "mask_secret",
    "secrets_masker",
    "token_cookie_read_by_core",
    "ui_access_check",
]
