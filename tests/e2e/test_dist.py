"""The release artifact: the built wheel, installed (not editable) into a clean venv, as a user gets it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.e2e

CHECKS = """
import json, sys
from pathlib import Path
import airflow_provider_plusofon
from airflow.providers_manager import ProvidersManager
sys.path.insert(0, sys.argv[2])
from demo import dag_bag

manager = ProvidersManager()
hook = manager.hooks["plusofon"]
bag = dag_bag(sys.argv[1])
print(json.dumps({
    "package_file": airflow_provider_plusofon.__file__,
    "hook": hook.hook_class_name if hook else None,
    "widgets": sorted(k for k in manager.connection_form_widgets if k.startswith("extra__plusofon__")),
    "relabeling": manager.field_behaviours.get("plusofon", {}).get("relabeling"),
    "dags": sorted(bag.dags),
    "import_errors": {k: str(v)[:300] for k, v in bag.import_errors.items()},
}))
"""


def run(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, **kwargs)
    assert result.returncode == 0, f"{command[:3]} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    dist = tmp_path_factory.mktemp("dist")
    run([sys.executable, "-m", "build", "--outdir", str(dist), str(REPO)])
    run([sys.executable, "-m", "twine", "check", "--strict", *map(str, dist.iterdir())])
    return dist


def test_the_wheel_holds_the_package_its_types_and_license_and_nothing_else(built):
    [wheel] = built.glob("*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "airflow_provider_plusofon/py.typed" in names
    assert any(name.endswith("licenses/LICENSE") for name in names)
    assert "airflow_provider_plusofon/webhooks/reconcile.py" in names
    # The Plusofon page: its templates, and the plugin's entry point (installing the provider is enough).
    assert {f"airflow_provider_plusofon/ui/templates/{t}.html" for t in ("fleet", "account", "refused")} <= set(names)
    [entry_points] = [name for name in names if name.endswith(".dist-info/entry_points.txt")]
    points = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "[airflow.plugins]\nplusofon = airflow_provider_plusofon.ui.plugin:PlusofonPlugin" in points
    assert not [name for name in names if name.startswith(("tests/", "example_dags/", "benchmarks/", "scripts/"))]
    [sdist] = built.glob("*.tar.gz")
    assert sdist.name == f"airflow_provider_plusofon-{wheel.name.split('-')[1]}.tar.gz"


def test_a_user_installing_the_wheel_gets_a_working_provider(built, tmp_path):
    [wheel] = built.glob("*.whl")
    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", str(venv)])
    run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", str(wheel)])
    # Outside the repository, with a home of its own: nothing of the source tree can leak in.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "PLUSOFON", "PYTHON"))}
    env |= {"AIRFLOW_HOME": str(tmp_path / "home"), "AIRFLOW__CORE__LOAD_EXAMPLES": "False"}
    where = {"cwd": tmp_path, "env": env}

    listed = json.loads(run([str(venv / "bin" / "airflow"), "providers", "list", "-o", "json"], **where).stdout)
    from airflow_provider_plusofon import __version__

    assert {"package_name": "airflow-provider-plusofon", "version": __version__} in [
        {"package_name": p["package_name"], "version": p["version"]} for p in listed
    ]

    plugins = json.loads(run([str(venv / "bin" / "airflow"), "plugins", "-o", "json"], **where).stdout)
    [ours] = [p for p in plugins if p["name"] == "plusofon"]
    assert [app["url_prefix"] for app in ours["fastapi_apps"]] == ["/plusofon"]

    checks = run(
        [str(venv / "bin" / "python"), "-c", CHECKS, str(REPO / "example_dags"), str(REPO / "scripts")], **where
    )
    found = json.loads(checks.stdout.strip().splitlines()[-1])
    assert found["package_file"].startswith(str(venv))  # the installed wheel, not the source tree
    assert found["hook"] == "airflow_provider_plusofon.hooks.plusofon.PlusofonHook"
    settings = ("allow_plain_http", "max_answer_bytes", "max_pages", "max_retries", "timeout", "verify")
    assert found["widgets"] == [f"extra__plusofon__{name}" for name in settings]
    assert found["relabeling"]["password"] == "API token"
    assert found["import_errors"] == {}
    assert found["dags"] == [
        "plusofon_bootstrap_webhooks",
        "plusofon_call_backfill",
        "plusofon_call_pipeline",
        "plusofon_webhook_audit",
        "plusofon_webhook_fleet",
    ]

    emulator = subprocess.Popen(
        [str(venv / "bin" / "plusofon-emulator"), "--port", "0"], stdout=subprocess.PIPE, text=True, **where
    )
    try:
        assert emulator.stdout is not None
        assert emulator.stdout.readline().startswith("Plusofon emulator serving on http://127.0.0.1:")
    finally:
        emulator.terminate()
        assert emulator.wait(timeout=10) == 0
