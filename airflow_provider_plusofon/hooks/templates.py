"""Templates in specs rendered as a task renders them: ``var``, ``conn`` and ``params``, in the Jinja
environment of a plain DAG. The command line (on an Airflow host) and the drift watcher (in a
triggerer) both render through here, each with its own way of reading Variables and connections.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from airflow_provider_plusofon.exceptions import PlusofonError


class Unavailable(Exception):
    """A Variable or connection a template names is not available (missing, or not readable here)."""

    def __init__(self, kind: str, name: str, why: str) -> None:
        super().__init__(f"{kind} {name!r} {why}")
        self.kind, self.name, self.why = kind, name, why


class _Accessor:
    """``var.value`` / ``var.json`` / ``conn`` in a template, as a task has them."""

    def __init__(self, kind: str, lookup: Callable[[str], Any]) -> None:
        self._kind, self._lookup = kind, lookup

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        try:
            return self._lookup(name)
        except (Unavailable, PlusofonError):  # they say what is wrong themselves
            raise
        except KeyError:
            raise Unavailable(self._kind, name, "is not set") from None
        except Exception as error:  # not found, or no database to read it from here
            from airflow_provider_plusofon.compat import AirflowNotFoundException

            found = (
                "is not defined"
                if isinstance(error, AirflowNotFoundException)
                else f"cannot be read here ({type(error).__name__})"
            )
            raise Unavailable(self._kind, name, found) from None

    def get(self, name: str, default: Any = None) -> Any:
        try:
            return self.__getattr__(name)
        except Unavailable:
            return default


def context_of(
    params: dict[str, Any],
    *,
    variable: Callable[[str], Any],
    json_variable: Callable[[str], Any],
    connection: Callable[[str], Any],
) -> dict[str, Any]:
    """The names a task's templates have that spec files use, read through these lookups."""
    return {
        "params": params,
        "var": {"value": _Accessor("Airflow Variable", variable), "json": _Accessor("Airflow Variable", json_variable)},
        "conn": _Accessor("Airflow connection", connection),
    }


def template_env(undefined: type | None = None) -> Any:
    """
    The Jinja environment a task of a plain DAG renders with (sandboxed, strict undefined).

    :param undefined: a subclass of ``jinja2.StrictUndefined`` to raise its own error for what a
        template names that is not there (the command line's hints).
    """
    import jinja2
    from airflow.sdk import DAG

    dag = DAG(
        dag_id="plusofon_webhooks_templates", schedule=None, template_undefined=undefined or jinja2.StrictUndefined
    )
    return dag.get_template_env()


def render_strings(
    raw: Any,
    context: dict[str, Any],
    on_error: Callable[[str, Exception], None],
    where: str = "",
    *,
    undefined: type | None = None,
) -> Any:
    """``raw`` with each templated string rendered on its own (one missing Variable hides no other);
    ``on_error(where, error)`` hears of each that does not render (``where``: e.g. ``[0].headers[0].value``).

    :param undefined: see :func:`template_env`.
    """
    env = template_env(undefined)

    def walk(value: Any, at: str) -> Any:
        if isinstance(value, str) and "{" in value:
            try:
                return env.from_string(value).render(**context)
            except Exception as error:  # jinja's errors, and Unavailable
                on_error(at, error)
                return value
        if isinstance(value, list):
            return [walk(item, f"{at}[{i}]") for i, item in enumerate(value)]
        if isinstance(value, dict):
            return {key: walk(item, f"{at}.{key}") for key, item in value.items()}
        return value

    return walk(raw, where)
