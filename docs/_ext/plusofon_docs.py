"""What the docs take from the code, written as Markdown into ``docs/_generated/`` when a build starts.

Pages include these files (``{include}``), so a table or a command's options cannot say other than
the code: the connection's fields (the settings table), the spec's fields, the emulator's faults
and control calls, and the two command lines (from their argparse parsers). Once every page is
read, the build also checks that autodoc documented every public name (:func:`public_names`):
autodoc skips what it cannot document without a word, and a warning fails ``make docs``.
"""

from __future__ import annotations

import argparse
import functools
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

GENERATED = Path(__file__).resolve().parent.parent / "_generated"


def cell(text: str) -> str:
    """Text that fits in one cell of a Markdown table."""
    return " ".join(text.split()).replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


def table(header: Iterable[str], rows: Iterable[Iterable[str]]) -> str:
    head = list(header)
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def settings_table() -> str:
    from airflow_provider_plusofon.api.settings import markdown_table

    return markdown_table() + "\n"


def _spec_values(name: str) -> str:
    from airflow_provider_plusofon.webhooks import spec

    choices = {"event": spec.EVENTS, "type_call": spec.TYPE_CALLS, "type_style": spec.TYPE_STYLES}
    if name in choices:
        return ", ".join(f"`{value}`" for value in choices[name])
    if name in spec.PAIR_KEYS:
        first, second = spec.PAIR_KEYS[name]
        return f"a list of `{{{first}: …, {second}: …}}`, compared as a set"
    texts = {"url": "an absolute http:// or https:// URL", "template": "text, or `null` (the same as leaving it out)"}
    return texts[name]


def spec_fields_table() -> str:
    from airflow_provider_plusofon.webhooks import spec

    def row(name: str) -> list[str]:
        return [
            f"`{name}`",
            "required" if name in spec.REQUIRED_KEYS else "optional",
            _spec_values(name),
            "yes" if name in spec.IDENTITY_FIELDS else "",
            "one GET per webhook" if name in spec.DETAIL_ONLY_FIELDS else "the list",
        ]

    return table(["field", "", "values", "identity", "read from"], (row(name) for name in spec.SPEC_KEYS))


def faults_table() -> str:
    from airflow_provider_plusofon.emulator.faults import FAULTS

    return table(["kind", "what it does"], ([f"`{kind}`", fault.doc] for kind, fault in FAULTS.items()))


def control_table() -> str:
    from airflow_provider_plusofon.emulator.control import CALLS, CONTROL_PREFIX

    rows = (
        [f"`{method} {CONTROL_PREFIX}{path}`", (run.__doc__ or "").strip()] for (method, path), run in CALLS.items()
    )
    return table(["call", "what it does, and its body"], rows)


def _option(action: argparse.Action) -> str:
    names = ", ".join(f"`{name}`" for name in action.option_strings) or f"`{action.metavar or action.dest}`"
    if action.option_strings and action.nargs != 0:
        names += f" `{action.metavar or action.dest.upper()}`"
    return names


def _help(action: argparse.Action) -> str:
    text = (action.help or "").replace("%(default)s", str(action.default))
    if isinstance(action, argparse._AppendAction) and "repeatable" not in text:
        text += " (repeatable)"
    return text


def arguments_table(parser: argparse.ArgumentParser) -> str:
    kept = [a for a in parser._actions if not isinstance(a, argparse._HelpAction | argparse._SubParsersAction)]
    return table(["argument", "what it does"], ([_option(a), _help(a)] for a in kept))


def usage(parser: argparse.ArgumentParser) -> str:
    """The usage line, wrapped at the same width on every machine (not the terminal's)."""
    parser.formatter_class = functools.partial(argparse.HelpFormatter, width=88)
    return f"```text\n{parser.format_usage().strip()}\n```\n"


def command_reference(parser: argparse.ArgumentParser, title: str) -> str:
    """A command's usage, description and arguments; then the same for each subcommand."""
    parts = [f"## `{title}`\n", usage(parser), f"{cell(parser.description or '')}\n"]
    parts.append(arguments_table(parser))
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                parts += [f"### `{title} {name}`\n", usage(sub)]
                parts += [f"{cell(sub.description or '')}\n", arguments_table(sub)]
    return "\n".join(parts)


def cli_reference() -> str:
    from airflow_provider_plusofon.cli.webhooks import build_parser as webhooks_parser
    from airflow_provider_plusofon.emulator.cli import build_parser as emulator_parser

    return (
        command_reference(webhooks_parser(), "plusofon-webhooks")
        + "\n"
        + command_reference(emulator_parser(), "plusofon-emulator")
    )


# Modules whose ``__all__`` is what users import; with the provider's hook and the classes of the
# modules it lists (operators, sensors, triggers) and these, the public names.
EXPORTING = (
    "airflow_provider_plusofon.hooks.plusofon",
    "airflow_provider_plusofon.operators.webhooks",
    "airflow_provider_plusofon.api",
    "airflow_provider_plusofon.emulator",
    "airflow_provider_plusofon.cli.webhooks",
)
ALSO_PUBLIC = (
    "airflow_provider_plusofon.assets.uris.asset_uri",
    "airflow_provider_plusofon.assets.uris.create_asset",
    "airflow_provider_plusofon.assets.uris.normalize_asset_uri",
    "airflow_provider_plusofon.emulator.pytest_plugin.plusofon_emulator",
    "airflow_provider_plusofon.emulator.pytest_plugin.plusofon_connection",
    "airflow_provider_plusofon.emulator.faults.Fault",
)


def _defined_in(module_name: str, kind: type | None = None) -> list[str]:
    """The public classes (of ``kind``) a module defines itself."""
    import importlib
    import inspect

    module = importlib.import_module(module_name)
    return [
        f"{module_name}.{name}"
        for name, value in vars(module).items()
        if inspect.isclass(value) and value.__module__ == module_name and not name.startswith("_")
        if kind is None or issubclass(value, kind)
    ]


def public_names() -> list[str]:
    """Every name a user of the package imports, by the dotted path the reference documents it at."""
    import importlib

    from airflow_provider_plusofon import get_provider_info

    info = get_provider_info()
    names = [info["connection-types"][0]["hook-class-name"], *ALSO_PUBLIC]
    for key in ("operators", "sensors", "triggers"):
        names += [n for entry in info[key] for module in entry["python-modules"] for n in _defined_in(module)]
    for module in EXPORTING:
        names += [f"{module}.{name}" for name in importlib.import_module(module).__all__]
    names += _defined_in("airflow_provider_plusofon.exceptions", BaseException)
    return sorted(set(names))


def check_reference(app: Any, env: Any) -> None:
    """Every public name is documented (autodoc skips what it cannot document without a word)."""
    from sphinx.util import logging

    documented = set(env.get_domain("py").objects)
    for name in public_names():
        if name not in documented:
            logging.getLogger(__name__).warning("the reference does not document %s", name)


PAGES: dict[str, Callable[[], str]] = {
    "settings.md": settings_table,
    "spec-fields.md": spec_fields_table,
    "faults.md": faults_table,
    "control.md": control_table,
    "cli.md": cli_reference,
}


def generate(folder: Path = GENERATED) -> list[Path]:
    """Write every generated page into ``folder``; the files written."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, make in PAGES.items():
        path = folder / name
        path.write_text(make(), encoding="utf-8")
        written.append(path)
    return written


def drop_type_docstring(app: Any, what: str, name: str, obj: Any, options: Any, lines: list[str]) -> None:
    """A constant (``DEFAULT_MAX_WORKERS = 8``) has its type's docstring: int's is not ours to show."""
    import inspect

    if what == "data" and lines and " ".join(lines).split() == inspect.cleandoc(type(obj).__doc__ or "").split():
        lines.clear()


def setup(app: Any) -> dict[str, Any]:
    app.connect("builder-inited", lambda app: generate())
    app.connect("env-check-consistency", check_reference)
    app.connect("autodoc-process-docstring", drop_type_docstring)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
