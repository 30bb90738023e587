"""``plusofon-webhooks``: validate, plan and export webhook specs from a shell or a CI job.

For the people who keep spec files in a DAG repository and review changes in pull requests.
Connections and Variables are found the way Airflow's own CLI finds them on that host (the
metadata database, ``AIRFLOW_CONN_*`` / ``AIRFLOW_VAR_*``, configured secrets backends), and spec
files are rendered with the Jinja environment a task gets: ``{{ var.value.* }}``, ``{{ var.json.* }}``,
``{{ conn.* }}``, ``{{ params.* }}`` (``--param KEY=VALUE``) and ``{{ task.* }}`` (the task's
``plusofon_conn_id`` is ``--conn-id``; anything else ``--task KEY=VALUE``).

Exit codes: 0 success (for ``plan``: nothing would change), 2 (``plan`` only) something would
change, 1 an error, shown as one line (a traceback only with ``--debug``). Nothing Airflow logs,
warns or prints reaches the output unless ``--debug`` (see :mod:`~airflow_provider_plusofon.cli.voice`).
"""

from __future__ import annotations

import argparse
import json
import os
import types
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from airflow_provider_plusofon.cli.voice import (
    EXIT_CHANGES,
    EXIT_ERROR,
    EXIT_OK,
    PROG,
    Command,
    Streams,
    borrowed_airflow_home,
    execute,
)
from airflow_provider_plusofon.exceptions import PlusofonError, WebhookSpecError
from airflow_provider_plusofon.webhooks.spec import parse_specs
from airflow_provider_plusofon.webhooks.spec_files import load_spec_source

__all__ = ["EXIT_CHANGES", "EXIT_ERROR", "EXIT_OK", "build_parser", "execute", "main"]


def _pairs(option: str, pairs: Sequence[str], shape: str = "KEY=VALUE") -> list[tuple[str, str]]:
    """``KEY=VALUE`` arguments, in order (a value may hold ``=`` itself)."""
    values = []
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise WebhookSpecError([f"{option} takes {shape}, got {pair[:80]!r}"])
        values.append((key, value))
    return values


def _missing_value_hint(context: dict[str, Any]) -> type:
    """A strict undefined that, for what a template names and this command line lacks, names the
    option that gives it (``params.x`` -> ``--param x=VALUE``, ``task.x`` -> ``--task x=VALUE``)."""
    import jinja2

    given = {id(context["params"]): ("params", "--param"), id(context["task"]): ("task", "--task")}

    class NamingWhatIsMissing(jinja2.StrictUndefined):
        @property
        def _undefined_message(self) -> str:
            name = str(self._undefined_name)
            owner = given.get(id(self._undefined_obj))
            if owner is not None:
                where, option = owner
                return f"{where}.{name} (pass it with {option} {name}=VALUE)"
            if self._undefined_obj is jinja2.utils.missing and self._undefined_hint is None:
                return f"{name!r}, which a spec file has only in a task run (here: var, conn, params, task)"
            return str(super()._undefined_message)

    return NamingWhatIsMissing


def _render(raw: Any, context: dict[str, Any]) -> tuple[Any, list[str]]:
    """The specs rendered as a task renders them, and every problem met (each string rendered on
    its own, so that one missing Variable does not hide the next)."""
    import jinja2

    from airflow_provider_plusofon.hooks.templates import Unavailable, render_strings

    problems: list[str] = []

    def problem_of(where: str, error: Exception) -> None:
        if isinstance(error, PlusofonError):  # no metadata database: nothing can be looked up
            raise error
        if isinstance(error, Unavailable):
            problem = f"the {error} (set it on this Airflow host, or pass --stand-ins)"
        elif isinstance(error, jinja2.UndefinedError):
            problem = f"a template value is missing: {error.message}"
        elif isinstance(error, jinja2.TemplateError):
            problem = f"a template does not render ({type(error).__name__}: {str(error)[:120]})"
        else:
            raise error
        if problem not in problems:
            problems.append(problem)

    return render_strings(raw, context, problem_of, undefined=_missing_value_hint(context)), problems


def _given(args: argparse.Namespace) -> tuple[dict[str, str], Any]:
    """What ``{{ params.* }}`` and ``{{ task.* }}`` read: ``--param``, and the connection the task
    would use with what ``--task`` gives. Checked before any file is read."""
    task = types.SimpleNamespace(**{"plusofon_conn_id": args.conn_id, **dict(_pairs("--task", args.task))})
    return dict(_pairs("--param", args.param)), task


def _load(path: str, args: argparse.Namespace, given: tuple[dict[str, str], Any]) -> list[Any]:
    """A spec file read and rendered; :class:`WebhookSpecError` with every problem found."""
    from airflow_provider_plusofon.cli.airflow_host import template_context

    where = Path(path)
    if not where.exists():
        kind = "a link to nothing" if os.path.lexists(where) else "no such file"
        raise WebhookSpecError([f"{path}: {kind}"])
    if not where.is_file():
        raise WebhookSpecError([f"{path}: not a file (a folder?)"])
    raw = load_spec_source(where)
    context = template_context(*given, stand_ins=args.stand_ins)
    rendered, problems = _render(raw, context)
    if problems:
        raise WebhookSpecError(problems)
    return rendered


def _mask_and_parse(raw: list[Any]) -> list[Any]:
    from airflow_provider_plusofon.hooks.masking import mask_webhook_secrets

    mask_webhook_secrets(raw)
    return parse_specs(raw)


def run_validate(args: argparse.Namespace, io: Streams) -> int:
    from airflow_provider_plusofon.cli.airflow_host import NoMetadataDatabaseError

    given, problems = _given(args), []
    for path in args.files:
        try:
            _mask_and_parse(_load(path, args, given))
        except WebhookSpecError as error:
            problems += [f"{path}: {problem}" for problem in error.problems]
        except NoMetadataDatabaseError as error:  # said once, after what the files themselves hold
            unreadable = f"{PROG}: {error}"
            if unreadable not in problems:
                problems.append(unreadable)
    for problem in sorted(problems, key=lambda line: line.startswith(PROG)):
        io.say(problem)
    if problems:
        return EXIT_ERROR
    print(f"{len(args.files)} file(s) valid", file=io.out)
    return EXIT_OK


def run_plan(args: argparse.Namespace, io: Streams) -> int:
    from airflow_provider_plusofon.cli.airflow_host import HostPlusofonHook
    from airflow_provider_plusofon.webhooks.reconcile import apply_plan, plan_account
    from airflow_provider_plusofon.webhooks.render import render_plan

    args.stand_ins = False  # a plan renders with what the account is compared with
    specs = _mask_and_parse(_load(args.file, args, _given(args)))
    client = HostPlusofonHook(args.conn_id).client
    planned = plan_account(client, specs, prune=args.prune)
    summary = apply_plan(client, planned, dry_run=True)
    if args.json:
        print(json.dumps(summary, indent=2, sort_keys=True), file=io.out)
    else:
        print(render_plan(planned, dry_run=True), file=io.out)
        print(f"plan_id: {summary['plan_id']}", file=io.out)
    return EXIT_CHANGES if planned.has_changes else EXIT_OK


def run_export(args: argparse.Namespace, io: Streams) -> int:
    from airflow_provider_plusofon.cli.airflow_host import HostPlusofonHook
    from airflow_provider_plusofon.webhooks.export import to_yaml, write_spec_file

    if args.output and Path(args.output).exists() and not args.force:
        # Before asking the account anything: a hand-edited file is never overwritten unasked.
        io.say(f"{PROG}: {args.output} exists; pass --force to replace it")
        return EXIT_ERROR
    rewrites = _pairs("--rewrite-url", args.rewrite_url, "OLD=NEW")
    result = HostPlusofonHook(args.conn_id).export_specs(rewrite_urls=rewrites)
    text = to_yaml(result)
    if args.output:
        try:
            write_spec_file(args.output, text, overwrite=args.force)
        except FileExistsError:
            io.say(f"{PROG}: {args.output} appeared while exporting; pass --force to replace it")
            return EXIT_ERROR
        io.say(f"{len(result.specs)} webhook(s) written to {args.output}")
    else:
        io.out.write(text)
    if result.variables:
        io.say("Set these Airflow Variables to the values the account holds:")
        for name in result.variables:
            io.say(f"  {name}")
    return EXIT_OK


def _command(
    commands: Any, name: str, run: Command, summary: str, description: str, *, renders: bool = False
) -> argparse.ArgumentParser:
    sub: argparse.ArgumentParser = commands.add_parser(name, help=summary, description=description)
    sub.set_defaults(run=run)
    sub.add_argument(
        "--conn-id",
        default="plusofon_default",
        help="the Airflow connection, found as Airflow's own CLI finds it on this host: the metadata "
        "database, AIRFLOW_CONN_* variables, configured secrets backends (default: %(default)s)"
        + ("; also {{ task.plusofon_conn_id }} in spec files" if renders else ""),
    )
    if renders:
        sub.add_argument(
            "--param", action="append", default=[], metavar="KEY=VALUE", help="a value for {{ params.KEY }}"
        )
        sub.add_argument(
            "--task",
            action="append",
            default=[],
            metavar="KEY=VALUE",
            help="a value for {{ task.KEY }} (what the task would have; plusofon_conn_id is --conn-id's)",
        )
    return sub


def build_parser() -> argparse.ArgumentParser:
    """The ``plusofon-webhooks`` parser (Airflow's ``airflow plusofon-webhooks`` is made from it too)."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Validate, plan and export Plusofon webhook specs. Exit 0 ok, 1 error, 2 (plan) changes.",
    )
    parser.add_argument("--debug", action="store_true", help="show Airflow's own output, and a traceback on errors")
    commands = parser.add_subparsers(dest="command", required=True)

    check = _command(
        commands,
        "validate",
        run_validate,
        "check spec files, without sending anything anywhere",
        "Check spec files without sending anything anywhere: exit 0 when every file is valid, 1 with every "
        "problem of every file (file, spec, field). Templates render as a task renders them; a Variable or "
        "connection they name that this host does not have is a problem (or, with --stand-ins, a stand-in).",
        renders=True,
    )
    check.add_argument("files", nargs="+", metavar="FILE", help="spec files (YAML or JSON)")
    check.add_argument(
        "--stand-ins",
        action="store_true",
        help="look no Variable or connection up: each reads as a stand-in (a CI job with no Airflow of its own)",
    )

    show = _command(
        commands,
        "plan",
        run_plan,
        "show what ensuring a spec file would change",
        "Print the plan of a spec file against the account, as the task log shows it: exit 0 when nothing "
        "would change, 2 when something would, 1 on error.",
        renders=True,
    )
    show.add_argument("file", metavar="FILE", help="the spec file (YAML or JSON)")
    show.add_argument("--prune", action="store_true", help="plan deleting what the file does not declare")
    show.add_argument("--json", action="store_true", help="print the summary (with its plan_id) as JSON")

    dump = _command(
        commands,
        "export",
        run_export,
        "write the account's webhooks as a spec file",
        "Write the account's webhooks as a spec file (YAML), secrets as {{ var.value.<name> }} placeholders; "
        "the Variables to set are listed (names only) on stderr.",
    )
    dump.add_argument("--output", help="the file to write, atomically (default: standard output)")
    dump.add_argument("--force", action="store_true", help="replace --output if it exists (it is never backed up)")
    dump.add_argument(
        "--rewrite-url", action="append", default=[], metavar="OLD=NEW", help="rewrite URL prefixes (repeatable)"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``plusofon-webhooks`` with these arguments (the command line's when ``None``); the exit code."""
    args = build_parser().parse_args(argv)
    # A command line's output is its result; Airflow's INFO lines (read when first imported) are noise.
    os.environ.setdefault("AIRFLOW__LOGGING__LOGGING_LEVEL", "WARNING")
    with borrowed_airflow_home():
        return execute(args.run, args)
