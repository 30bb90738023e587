"""``airflow plusofon-webhooks validate|plan|export``: the provider's command line among Airflow's.

Airflow 3.2 and later read the ``cli`` key of the provider's info: a function returning its
commands (this module's :func:`get_cli_commands`). They are made from the ``plusofon-webhooks``
parser itself, so the two command lines take the same arguments and behave the same.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

GROUP = "plusofon-webhooks"


def _arg(action: argparse.Action) -> Any:
    """An Airflow ``Arg`` taking what this argparse action takes."""
    from airflow.cli.cli_config import Arg

    helped = (action.help or "").replace("%(default)s", str(action.default))
    if isinstance(action, argparse._StoreTrueAction):
        return Arg(tuple(action.option_strings), action="store_true", help=helped)
    if type(action) not in (argparse._StoreAction, argparse._AppendAction):
        # A kind of argument this bridge does not translate: fail where the tests see it.
        raise TypeError(f"cannot offer {action.dest!r} ({type(action).__name__}) to Airflow's CLI")
    kwargs: dict[str, Any] = {"help": helped}
    if isinstance(action, argparse._AppendAction):
        kwargs["action"] = "append"
    if action.option_strings and action.required:
        kwargs["required"] = True
    for name in ("default", "nargs", "metavar", "choices", "type"):
        if getattr(action, name, None) is not None:
            kwargs[name] = getattr(action, name)
    return Arg(tuple(action.option_strings) or (action.dest,), **kwargs)


def _runner(run: Callable[[argparse.Namespace, Any], int]) -> Callable[[argparse.Namespace], None]:
    def command(args: argparse.Namespace) -> None:
        from airflow_provider_plusofon.cli.webhooks import execute

        sys.exit(execute(run, args))

    return command


def get_cli_commands() -> list[Any]:
    """The ``plusofon-webhooks`` group of Airflow CLI commands."""
    from airflow.cli.cli_config import ActionCommand, Arg, GroupCommand

    from airflow_provider_plusofon.cli.webhooks import build_parser

    parser = build_parser()
    [subparsers] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    debug = Arg(("--debug",), action="store_true", help="show a traceback on errors")
    commands = [
        ActionCommand(
            name=name,
            help=next(c.help for c in subparsers._choices_actions if c.dest == name) or name,
            description=sub.description,
            func=_runner(sub.get_default("run")),
            args=[*(_arg(a) for a in sub._actions if not isinstance(a, argparse._HelpAction)), debug],
        )
        for name, sub in subparsers.choices.items()
    ]
    return [GroupCommand(name=GROUP, help="Validate, plan and export Plusofon webhook specs", subcommands=commands)]
