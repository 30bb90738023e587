"""The package's layers, read from its source: imports run one way, down, and each room stays small.

exceptions, redaction   the shared bottom
api/                    HTTP, no Airflow
webhooks/               the core, no Airflow
compat                  the Airflow names that moved
hooks/, assets          an Airflow connection -> a client, masked; the plusofon:// asset scheme
tasks/, triggers/       what the tasks share; the triggers
operators/, sensors/, cli/, emulator/, ui/   (ui: the Plusofon page in Airflow's UI, read-only)
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import REPO

PACKAGE = "airflow_provider_plusofon"
ROOT = REPO / PACKAGE
LAYERS = {
    "exceptions": 0,
    "redaction": 0,
    "api": 1,
    "webhooks": 2,
    "compat": 3,
    "hooks": 4,
    "assets": 4,  # the plusofon:// scheme: Airflow imports it wherever such a URI is built
    "": 4,  # the package's __init__: get_provider_info() reads the settings table
    "tasks": 5,
    "triggers": 5,
    "operators": 6,
    "sensors": 6,
    "cli": 6,
    "emulator": 6,
    "ui": 6,
}
# Tasks and the command line use the hook and the core; of the api layer only its public face.
ABOVE_THE_HOOK = {"tasks", "triggers", "operators", "sensors", "cli", "ui"}


def modules() -> list[Path]:
    return sorted(ROOT.rglob("*.py"))


def room(path: Path) -> str:
    """The layer's name a module belongs to: its subpackage, or its own name at the root."""
    parts = path.relative_to(ROOT).with_suffix("").parts
    return "" if parts == ("__init__",) else parts[0]


def imported(path: Path) -> list[str]:
    """Every module of this package that ``path`` imports, lazily or not."""
    names = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return [name for name in names if name == PACKAGE or name.startswith(PACKAGE + ".")]


def test_every_module_has_a_layer():
    assert {room(path) for path in modules()} <= set(LAYERS)


def upward_imports(path: Path, mine: str) -> list[str]:
    """The imports of ``path`` (in layer ``mine``) that do not go down."""
    wrong = []
    for name in imported(path):
        parts = name.split(".")
        theirs = parts[1] if len(parts) > 1 else ""
        if theirs == mine:
            continue
        if LAYERS[theirs] >= LAYERS[mine]:
            wrong.append(f"{name} is not below {mine or 'the root'}")
        elif mine in ABOVE_THE_HOOK and theirs == "api" and name != f"{PACKAGE}.api":
            wrong.append(f"{name} is inside the api layer: use the hook or the core")
    return wrong


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_run_one_way_down(path):
    assert upward_imports(path, room(path)) == []


def test_an_upward_or_inward_import_is_caught_even_inside_a_function(tmp_path):
    module = tmp_path / "m.py"
    module.write_text(
        "from airflow_provider_plusofon.api import PlusofonClient\n"
        "def f():\n"
        "    from airflow_provider_plusofon.hooks.plusofon import PlusofonHook\n"
        "    import airflow_provider_plusofon.api.transport\n"
    )
    assert upward_imports(module, "webhooks") == ["airflow_provider_plusofon.hooks.plusofon is not below webhooks"]
    assert upward_imports(module, "operators") == [
        "airflow_provider_plusofon.api.transport is inside the api layer: use the hook or the core"
    ]


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_module_over_400_lines_and_no_function_over_60(path):
    text = path.read_text()
    assert len(text.splitlines()) <= 400
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            length = (node.end_lineno or node.lineno) - node.lineno + 1
            assert length <= 60, f"{node.name} has {length} lines"
