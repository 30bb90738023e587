"""The docs cannot drift from the code (issue 36): what they include exists, what they generate is
the code's, every public name is in the reference, every example DAG in a guide, and the README is
a short front door whose links lead to pages that exist.

``make docs`` builds the site with every warning an error, and checks the public names against
what autodoc documented; these tests check the sources, without Sphinx, in ``make test``.
"""

from __future__ import annotations

import importlib
import re
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

DOCS = REPO / "docs"
README = REPO / "README.md"
INCLUDE = re.compile(r"^```\{(literalinclude|include)\} (\S+)$", re.MULTILINE)
DIRECTIVE = re.compile(r"^\.\. auto(\w+):: (\S+)\n((?:   :.*\n)*)", re.MULTILINE)


def generator():
    """docs/_ext/plusofon_docs.py, the Sphinx extension that writes the generated pages."""
    sys.path.insert(0, str(DOCS / "_ext"))
    try:
        return importlib.import_module("plusofon_docs")
    finally:
        sys.path.remove(str(DOCS / "_ext"))


def pages() -> list[Path]:
    return sorted(p for p in DOCS.rglob("*.md") if not p.relative_to(DOCS).parts[0].startswith("_"))


def included() -> dict[Path, str]:
    """Every file a page includes (resolved) -> how (``literalinclude`` or ``include``)."""
    found = {}
    for page in pages():
        for how, target in INCLUDE.findall(page.read_text(encoding="utf-8")):
            found[(page.parent / target).resolve()] = how
    return found


def documented() -> set[str]:
    """The dotted names the Python reference's autodoc directives document."""
    names = set()
    for kind, target, options in DIRECTIVE.findall((DOCS / "reference" / "python.md").read_text(encoding="utf-8")):
        if kind != "module":
            names.add(target)
            continue
        members = re.search(r":members:(.*)", options)
        listed = [m.strip() for m in members.group(1).split(",") if m.strip()] if members else []
        module = importlib.import_module(target)
        names |= {f"{target}.{name}" for name in listed or [n for n in vars(module) if not n.startswith("_")]}
    return names


def test_every_public_name_is_in_the_reference():
    public = generator().public_names()
    assert "airflow_provider_plusofon.hooks.plusofon.PlusofonHook" in public
    assert "airflow_provider_plusofon.triggers.drift.PlusofonWebhookDriftTrigger" in public
    assert "airflow_provider_plusofon.exceptions.StalePlanError" in public
    assert sorted(set(public) - documented()) == []


def test_every_example_dag_is_included_by_a_guide():
    shown = {path for path, how in included().items() if how == "literalinclude"}
    dags = sorted((REPO / "example_dags").glob("*.py"))
    assert dags and [dag.name for dag in dags if dag.resolve() not in shown] == []


def test_every_included_file_exists_and_every_snippet_is_shown():
    generated = {f"_generated/{name}" for name in generator().PAGES}
    files = included()
    missing = [str(p) for p in files if not p.is_file() and str(p.relative_to(DOCS)) not in generated]
    assert missing == []
    snippets = sorted((DOCS / "snippets").glob("*.py"))
    assert snippets and [s.name for s in snippets if s.resolve() not in files] == []


def test_the_generated_pages_are_the_code_s_tables(tmp_path):
    from airflow_provider_plusofon.api.settings import SETTINGS, markdown_table
    from airflow_provider_plusofon.cli.webhooks import build_parser
    from airflow_provider_plusofon.emulator.control import CALLS
    from airflow_provider_plusofon.emulator.faults import FAULTS

    written = {path.name: path.read_text(encoding="utf-8") for path in generator().generate(tmp_path)}
    assert written["settings.md"] == markdown_table() + "\n"
    assert all(f"| `extra.{setting.name}` |" in written["settings.md"] for setting in SETTINGS)
    assert all(f"| `{kind}` |" in written["faults.md"] for kind in FAULTS)
    assert all(f"`{method} /__emulator__{path}`" in written["control.md"] for method, path in CALLS)
    for command in ("validate", "plan", "export"):
        assert f"### `plusofon-webhooks {command}`" in written["cli.md"]
    options = {
        o for a in build_parser()._subparsers._group_actions[0].choices["plan"]._actions for o in a.option_strings
    }
    assert options and all(f"`{option}`" in written["cli.md"] for option in options - {"-h", "--help"})
    assert "```{include} _generated/settings.md" in (DOCS / "connection.md").read_text(encoding="utf-8")


def test_the_readme_is_a_short_front_door():
    text = README.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 150
    assert text.index("make demo") < text.index("make test") < text.index("## Quick start")


@pytest.mark.parametrize("target", re.findall(r"\]\(((?!https?://)[^)#]+)\)", README.read_text(encoding="utf-8")))
def test_every_link_of_the_readme_leads_to_a_file_that_exists(target):
    assert (REPO / target).is_file(), target
