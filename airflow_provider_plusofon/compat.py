"""The Airflow names that moved between Airflow 3 releases, imported in one place.

``apache-airflow-providers-common-compat`` re-exports each from where the running release keeps
it (``airflow.sdk`` from 3.2, ``airflow.hooks.base``, ``airflow.exceptions``, ``airflow.configuration``
before). Only the secret masker is missing from the compat releases that still support Python 3.10
(it arrived in 1.22), so it falls back here.
"""

from __future__ import annotations

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
]
