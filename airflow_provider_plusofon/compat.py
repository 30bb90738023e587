"""The Airflow names that moved between Airflow 3 releases, imported in one place.

``apache-airflow-providers-common-compat`` re-exports each from where the running release keeps
it (``airflow.sdk`` from 3.2, ``airflow.hooks.base``, ``airflow.exceptions``, ``airflow.configuration``
before). Only the secret masker is missing from the compat releases that still support Python 3.10
(it arrived in 1.22), so it falls back here.
"""

from __future__ import annotations

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


__all__ = [
    "AirflowFailException",
    "AirflowNotFoundException",
    "AirflowSensorTimeout",
    "AirflowSkipException",
    "BaseHook",
    "BaseOperator",
    "BaseSensorOperator",
    "PokeReturnValue",
    "conf",
    "mask_secret",
    "secrets_masker",
]
