"""The command line on an Airflow host: connections and Variables as Airflow's own CLI reads them
(the metadata database, the environment, configured secrets backends), and spec files rendered
with the Jinja environment a task gets.

Outside a task the Task SDK reads only the environment and secrets backends; Airflow's CLI reads
the database through core's models, and so does this. Airflow logs a database it cannot read and
goes on to say "not found": when that is why, the command says so instead, once.
"""

from __future__ import annotations

import os
from typing import Any

from airflow_provider_plusofon.cli.voice import airflow_home_said
from airflow_provider_plusofon.exceptions import PlusofonConfigError
from airflow_provider_plusofon.hooks.plusofon import PlusofonHook
from airflow_provider_plusofon.hooks.templates import context_of


class NoMetadataDatabaseError(PlusofonConfigError):
    """This host has no metadata database Airflow can read (none, or not migrated): nothing can be
    looked up in it."""


def _as_airflow_cli() -> None:
    # What `airflow connections get` sets before it reads: the server's view of the secrets.
    os.environ.setdefault("_AIRFLOW_PROCESS_CONTEXT", "server")


def require_metadata_database() -> None:
    """
    Raise :class:`NoMetadataDatabaseError` when the host's metadata database cannot be read (a host
    with no Airflow home, a CI job, a database never migrated): what was not found in the
    environment could not be looked for there.
    """
    from airflow.models.variable import Variable
    from airflow.utils.session import create_session
    from sqlalchemy import select

    try:
        with create_session() as session:
            session.execute(select(Variable.key).limit(1))
    except Exception as error:
        raise NoMetadataDatabaseError(
            f"no usable Airflow metadata database on this host ({airflow_home_said()}; {type(error).__name__}): "
            "point AIRFLOW_HOME at your Airflow's home (or run `airflow db migrate` there), give the Variables and "
            "connections as AIRFLOW_VAR_* / AIRFLOW_CONN_*, or check spec files with `validate --stand-ins`"
        ) from None


def connection(conn_id: str) -> Any:
    """The connection, as ``airflow connections get`` finds it."""
    from airflow.models.connection import Connection

    from airflow_provider_plusofon.compat import AirflowNotFoundException

    _as_airflow_cli()
    try:
        return Connection.get_connection_from_secrets(conn_id)
    except AirflowNotFoundException:
        require_metadata_database()
        raise


def variable(name: str, *, deserialize_json: bool = False) -> Any:
    """The Variable, as ``airflow variables get`` finds it (``KeyError`` when it is not set)."""
    from airflow.models.variable import Variable

    _as_airflow_cli()
    try:
        return Variable.get(name, deserialize_json=deserialize_json)
    except KeyError:
        require_metadata_database()
        raise


class HostPlusofonHook(PlusofonHook):
    """The hook, reading its connection as Airflow's CLI does (the metadata database included)."""

    @classmethod
    def get_connection(cls, conn_id: str) -> Any:
        return connection(conn_id)


def template_context(params: dict[str, Any], task: Any, *, stand_ins: bool = False) -> dict[str, Any]:
    """The names a task's templates have that spec files use: ``var``, ``conn``, ``params``, ``task``.

    :param task: what ``{{ task.* }}`` reads (the attributes the task would have).
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
    return {**context_of(params, variable=values, json_variable=jsons, connection=conns), "task": task}
