"""The command line on an Airflow host: connections and Variables as Airflow's own CLI reads them
(the metadata database, the environment, configured secrets backends), and spec files rendered
with the Jinja environment a task gets.

Outside a task the Task SDK reads only the environment and secrets backends; Airflow's CLI reads
the database through core's models, and so does this.
"""

from __future__ import annotations

import os
from typing import Any

from airflow_provider_plusofon.hooks.plusofon import PlusofonHook
from airflow_provider_plusofon.hooks.templates import context_of


def _as_airflow_cli() -> None:
    # What `airflow connections get` sets before it reads: the server's view of the secrets.
    os.environ.setdefault("_AIRFLOW_PROCESS_CONTEXT", "server")


def connection(conn_id: str) -> Any:
    """The connection, as ``airflow connections get`` finds it."""
    from airflow.models.connection import Connection

    _as_airflow_cli()
    return Connection.get_connection_from_secrets(conn_id)


def variable(name: str, *, deserialize_json: bool = False) -> Any:
    """The Variable, as ``airflow variables get`` finds it (``KeyError`` when it is not set)."""
    from airflow.models.variable import Variable

    _as_airflow_cli()
    return Variable.get(name, deserialize_json=deserialize_json)


class HostPlusofonHook(PlusofonHook):
    """The hook, reading its connection as Airflow's CLI does (the metadata database included)."""

    @classmethod
    def get_connection(cls, conn_id: str) -> Any:
        return connection(conn_id)


def template_context(params: dict[str, Any], *, stand_ins: bool = False) -> dict[str, Any]:
    """The names a task's templates have that spec files use: ``var``, ``conn``, ``params``.

    :param stand_ins: look nothing up: each Variable reads as ``variable-<name>``, each connection
        as an empty one (for a CI job with no Airflow of its own).
    """
    if stand_ins:
        from airflow.sdk import Connection

        def stand_in_variable(name: str) -> Any:
            return f"variable-{name}"

        def stand_in_connection(conn_id: str) -> Any:
            return Connection(conn_id=conn_id, conn_type="plusofon")

        values, jsons, conns = stand_in_variable, stand_in_variable, stand_in_connection
    else:
        values = variable
        jsons = lambda name: variable(name, deserialize_json=True)  # noqa: E731
        conns = connection
    return context_of(params, variable=values, json_variable=jsons, connection=conns)
