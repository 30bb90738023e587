"""``plusofon-webhooks``: validate, plan and export webhook specs from a shell or a CI job.

For the people who keep spec files in a DAG repository and review changes in pull requests.
Connections and Variables are found the way Airflow's own CLI finds them on that host (the
metadata database, ``AIRFLOW_CONN_*`` / ``AIRFLOW_VAR_*``, configured secrets backends), and spec
files are rendered with the Jinja environment a task gets (``{{ var.value.* }}``,
``{{ var.json.* }}``, ``{{ conn.* }}``, and ``--param KEY=VALUE`` for ``{{ params.* }}``).

Exit codes: 0 success (for ``plan``: nothing would change), 2 (``plan`` only) something would
change, 1 an error, shown as one line (a traceback only with ``--debug``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TextIO

from airflow_provider_plusofon.exceptions import PlusofonError, WebhookSpecError
from airflow_provider_plusofon.webhooks.spec import parse_specs
from airflow_provider_plusofon.webhooks.spec_files import load_spec_source

EXIT_OK, EXIT_ERROR, EXIT_CHANGES = 0, 1, 2


def _params(pairs: Sequence[str]) -> dict[str, str]:
    params = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise WebhookSpecError([f"--param takes KEY=VALUE, got {pair[:60]!r}"])
        params[key] = value
    return params


def _render(raw: Any, context: dict[str, Any]) -> tuple[Any, list[str]]:
    """The specs rendered as a task renders them, and every problem met (each string rendered on
    its own, so that one missing Variable does not hide the next)."""
    import jinja2

    from airflow_provider_plusofon.hooks.templates import Unavailable, render_strings

    problems: list[str] = []

    def problem_of(where: str, error: Exception) -> None:
        if isinstance(error, Unavailable):
            problem = f"the {error} (set it on this Airflow host, or pass --stand-ins)"
        elif isinstance(error, jinja2.UndefinedError):
            problem = f"a template value is missing: {error.message} (pass it with --param)"
        elif isinstance(error, jinja2.TemplateError):
            problem = f"a template does not render ({type(error).__name__}: {str(error)[:120]})"
        else:
            raise error
        if problem not in problems:
            problems.append(problem)

    return render_strings(raw, context, problem_of), problems


def _load(path: str, args: argparse.Namespace) -> list[Any]:
    """A spec file read and rendered; :class:`WebhookSpecError` with every problem found."""
    from airflow_provider_plusofon.cli.airflow_host import template_context

    where = Path(path)
    if not where.exists():
        kind = "a link to nothing" if os.path.lexists(where) else "no such file"
        raise WebhookSpecError([f"{path}: {kind}"])
    if not where.is_file():
        raise WebhookSpecError([f"{path}: not a file (a folder?)"])
    raw = load_spec_source(where)
    rendered, problems = _render(raw, template_context(_params(args.param), stand_ins=args.stand_ins))
    if problems:
        raise WebhookSpecError(problems)
    return rendered


def _mask_and_parse(raw: list[Any]) -> list[Any]:
    from airflow_provider_plusofon.hooks.masking import mask_webhook_secrets

    mask_webhook_secrets(raw)
    return parse_specs(raw)


def run_validate(args: argparse.Namespace, out: TextIO) -> int:
    problems: list[str] = []
    for path in args.files:
        try:
            _mask_and_parse(_load(path, args))
        except WebhookSpecError as error:
            problems += [f"{path}: {problem}" for problem in error.problems]
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        return EXIT_ERROR
    print(f"{len(args.files)} file(s) valid", file=out)
    return EXIT_OK


def run_plan(args: argparse.Namespace, out: TextIO) -> int:
    from airflow_provider_plusofon.cli.airflow_host import HostPlusofonHook
    from airflow_provider_plusofon.webhooks.reconcile import apply_plan, plan_account
    from airflow_provider_plusofon.webhooks.render import render_plan

    args.stand_ins = False  # a plan renders with what the account is compared with
    specs = _mask_and_parse(_load(args.file, args))
    client = HostPlusofonHook(args.conn_id).client
    planned = plan_account(client, specs, prune=args.prune)
    summary = apply_plan(client, planned, dry_run=True)
    if args.json:
        print(json.dumps(summary, indent=2, sort_keys=True), file=out)
    else:
        print(render_plan(planned, dry_run=True), file=out)
        print(f"plan_id: {summary['plan_id']}", file=out)
    return EXIT_CHANGES if planned.has_changes else EXIT_OK


def run_export(args: argparse.Namespace, out: TextIO) -> int:
    from airflow_provider_plusofon.cli.airflow_host import HostPlusofonHook
    from airflow_provider_plusofon.webhooks.export import to_yaml, write_spec_file

    if args.output and Path(args.output).exists() and not args.force:
        # Before asking the account anything: a hand-edited file is never overwritten unasked.
        print(f"plusofon-webhooks: {args.output} exists; pass --force to replace it", file=sys.stderr)
        return EXIT_ERROR
    rewrites = []
    for pair in args.rewrite_url:
        old, sep, new = pair.partition("=")
        if not sep or not old:
            raise WebhookSpecError([f"--rewrite-url takes OLD=NEW, got {pair[:80]!r}"])
        rewrites.append((old, new))
    result = HostPlusofonHook(args.conn_id).export_specs(rewrite_urls=rewrites)
    text = to_yaml(result)
    if args.output:
        try:
            write_spec_file(args.output, text, overwrite=args.force)
        except FileExistsError:
            print(
                f"plusofon-webhooks: {args.output} appeared while exporting; pass --force to replace it",
                file=sys.stderr,
            )
            return EXIT_ERROR
        print(f"{len(result.specs)} webhook(s) written to {args.output}", file=sys.stderr)
    else:
        out.write(text)
    if result.variables:
        print("Set these Airflow Variables to the values the account holds:", file=sys.stderr)
        for name in result.variables:
            print(f"  {name}", file=sys.stderr)
    return EXIT_OK


def _command(
    commands: Any,
    name: str,
    run: Callable[[argparse.Namespace, TextIO], int],
    summary: str,
    description: str,
    *,
    connection: bool = False,
    params: bool = False,
) -> argparse.ArgumentParser:
    sub: argparse.ArgumentParser = commands.add_parser(name, help=summary, description=description)
    sub.set_defaults(run=run)
    if connection:
        sub.add_argument(
            "--conn-id",
            default="plusofon_default",
            help="the Airflow connection, found as Airflow's own CLI finds it on this host: the metadata "
            "database, AIRFLOW_CONN_* variables, configured secrets backends (default: %(default)s)",
        )
    if params:
        sub.add_argument(
            "--param", action="append", default=[], metavar="KEY=VALUE", help="a value for {{ params.KEY }}"
        )
    return sub


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="plusofon-webhooks",
        description="Validate, plan and export Plusofon webhook specs. Exit 0 ok, 1 error, 2 (plan) changes.",
    )
    parser.add_argument("--debug", action="store_true", help="show a traceback on errors")
    commands = parser.add_subparsers(dest="command", required=True)

    check = _command(
        commands,
        "validate",
        run_validate,
        "check spec files, without sending anything anywhere",
        "Check spec files without sending anything anywhere: exit 0 when every file is valid, 1 with every "
        "problem of every file (file, spec, field). Templates render as a task renders them; a Variable or "
        "connection they name that this host does not have is a problem (or, with --stand-ins, a stand-in).",
        params=True,
    )
    check.add_argument("files", nargs="+", metavar="FILE")
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
        connection=True,
        params=True,
    )
    show.add_argument("file", metavar="FILE")
    show.add_argument("--prune", action="store_true", help="plan deleting what the file does not declare")
    show.add_argument("--json", action="store_true", help="print the summary (with its plan_id) as JSON")

    dump = _command(
        commands,
        "export",
        run_export,
        "write the account's webhooks as a spec file",
        "Write the account's webhooks as a spec file (YAML), secrets as {{ var.value.<name> }} placeholders; "
        "the Variables to set are listed (names only) on stderr.",
        connection=True,
    )
    dump.add_argument("--output", help="the file to write, atomically (default: standard output)")
    dump.add_argument("--force", action="store_true", help="replace --output if it exists (it is never backed up)")
    dump.add_argument(
        "--rewrite-url", action="append", default=[], metavar="OLD=NEW", help="rewrite URL prefixes (repeatable)"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # A command line's output is its result; Airflow's INFO lines (read when first imported) are noise.
    os.environ.setdefault("AIRFLOW__LOGGING__LOGGING_LEVEL", "WARNING")
    return execute(args.run, args)


def execute(run: Callable[[argparse.Namespace, TextIO], int], args: argparse.Namespace) -> int:
    """Run one command: its result on standard output, an error as one line on stderr; the exit code."""
    results = sys.stdout
    try:
        # Only results go to standard output (a plan's JSON, an exported file): whatever Airflow or
        # a library prints or logs meanwhile (Airflow 3.0 logs each connection it reads) goes to stderr.
        with contextlib.redirect_stdout(sys.stderr):
            return int(run(args, results))
    except Exception as error:
        if getattr(args, "debug", False):
            raise
        if isinstance(error, WebhookSpecError):
            for problem in error.problems:
                print(f"plusofon-webhooks: {problem}", file=sys.stderr)
        else:
            kind = "" if isinstance(error, PlusofonError) else f"{type(error).__name__}: "
            print(f"plusofon-webhooks: {kind}{' '.join(str(error).split())[:500]}", file=sys.stderr)
        return EXIT_ERROR
