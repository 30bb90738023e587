"""Issues 21 and 36: every example of the README and the docs is run, here or by the test (or
``make live``) it names.

The Python samples of the docs are files, ``docs/snippets/*.py``, that the pages include and this
module runs (the example DAGs the guides include are run by the other end-to-end tests). Every other
fenced block of README.md and docs/ is found by its first line (a block written in several pages
must be the same in each). A block this module runs is run as it is written, with only the
substitutions listed next to it (a placeholder token, the emulator's port); a block another test runs
names that test, and the test checks the name is real.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from airflow.sdk import DAG

from tests.conftest import REPO, TOKEN
from tests.e2e.test_cli_on_a_host import airflow, host  # noqa: F401  (a fixture)

pytestmark = pytest.mark.e2e

DOCS = REPO / "docs"
PAGES = [REPO / "README.md", *sorted(p for p in DOCS.rglob("*.md") if not p.relative_to(DOCS).parts[0].startswith("_"))]
SNIPPETS = DOCS / "snippets"
HEADER_SECRET = "readme-header-secret-3391"

# A block run elsewhere -> the test (path::name, or "make live: step") that runs it.
RUN_ELSEWHERE = {
    "make demo": "tests/e2e/test_demo.py::test_demo_adopts_audits_repairs_what_was_approved_and_exits_zero",
    "git clone <this repository>": "tests/e2e/test_dist.py::test_a_user_installing_the_wheel_gets_a_working_provider",
    "plan_webhooks (dry run)": "tests/e2e/test_example_dags.py::test_audit_repairs_exactly_the_plan_a_person_approved",
    'export AIRFLOW_CONN_PLUSOFON_DEFAULT=\'{"conn_type": "plusofon", "login": "10553", "password": "…"}\'': (
        "tests/e2e/test_example_dags.py::test_bootstrap_twice_second_run_sends_no_write"
    ),
    "EnsureWebhooksOperator against the by-hand baseline": (
        "tests/e2e/test_bench.py::test_bench_measures_every_target_and_counts_requests_exactly"
    ),
    "airflow_provider_plusofon/": "tests/e2e/test_docs_examples.py::test_the_project_layout_names_modules_that_exist",
    "airflow dags unpause plusofon_webhook_audit": "scripts/live.py::live",
}
THIS = "tests/e2e/test_docs_examples.py"


def dedented(text: str) -> str:
    lines = text.splitlines()
    indent = min(len(line) - len(line.lstrip()) for line in lines if line.strip())
    return "\n".join(line[indent:] for line in lines) + "\n"


FENCE = re.compile(r"^ *```(\S*)(.*)$")


def fenced(text: str) -> list[str]:
    """The code blocks of a Markdown page: fenced, not a MyST directive (```{include} ...)."""
    found, lines, info = [], None, ""
    for line in text.splitlines():
        fence = FENCE.match(line)
        if lines is None and fence:
            lines, info = [], fence.group(1)
        elif lines is not None and fence and not fence.group(1) + fence.group(2).strip():
            if not info.startswith("{"):
                found.append("\n".join(lines))
            lines = None
        elif lines is not None:
            lines.append(line)
    return found


def blocks() -> list[tuple[str, str]]:
    """(first line, text) of every fenced code block of the README and the docs' pages."""
    found = [text for page in PAGES for text in fenced(page.read_text(encoding="utf-8"))]
    return [(text.strip().splitlines()[0].strip(), dedented(text)) for text in found]


def block(first_line: str) -> str:
    """The block starting with ``first_line``: one text, wherever it is written."""
    texts = {text for first, text in blocks() if first.startswith(first_line)}
    assert len(texts) == 1, f"{first_line!r}: {len(texts)} different blocks"
    return texts.pop()


def snippet(name: str) -> str:
    """A Python sample the docs include (``literalinclude``) from ``docs/snippets/``."""
    return (SNIPPETS / name).read_text(encoding="utf-8")


# Blocks this module runs, by first line -> the test that runs it.
RUN_HERE = {
    "airflow connections add plusofon_default": "test_the_cli_connection_example",
    'export AIRFLOW_CONN_PLUSOFON_DEFAULT=\'{"conn_type": "plusofon", "login": "10553", "password": "…", ': (
        "test_the_environment_connection_example"
    ),
    "webhooks:": "test_the_quick_start_spec_file_and_operator_converge_an_account",
    # The README cannot include a file: its quick start is the snippet's text, checked there.
    "from airflow_provider_plusofon.operators.webhooks import EnsureWebhooksOperator": (
        "test_the_quick_start_spec_file_and_operator_converge_an_account"
    ),
    "WebhookSpecError: 2 problems": "test_the_spec_error_example_is_what_validation_says",
    "Plusofon webhook plan:": "test_the_plan_log_example_is_what_a_run_logs",
    "plusofon-emulator --host": "test_the_emulator_command_then_the_export_command",
    "plusofon-webhooks export --conn-id": "test_the_emulator_command_then_the_export_command",
    "airflow pools set plusofon_default 1": "test_the_checklist_s_pools_and_variables",
}

# The docs' Python samples, docs/snippets/<name> -> the test that runs it.
SNIPPETS_RUN = {
    "quick_start.py": "test_the_quick_start_spec_file_and_operator_converge_an_account",
    "ensure_operator.py": "test_the_operator_and_sensor_examples_build_tasks",
    "webhook_operator.py": "test_the_operator_and_sensor_examples_build_tasks",
    "sensor.py": "test_the_operator_and_sensor_examples_build_tasks",
    "hook.py": "test_the_hook_example",
    "client.py": "test_the_client_example",
    "emulator.py": "test_the_emulator_python_example",
    "conftest_plugin.py": "test_the_pytest_plugin_example",
    "event_driven.py": "test_the_event_driven_example_builds_its_dag",
}


def test_every_block_of_the_readme_and_the_docs_is_run_by_a_named_test():
    here = Path(__file__).read_text()
    unrun = []
    for first, _ in blocks():
        runs = [t for k, t in {**RUN_ELSEWHERE, **RUN_HERE}.items() if first.startswith(k)]
        if not runs:
            unrun.append(first)
        for test in runs:
            path, _, name = (f"{THIS}::{test}" if "::" not in test else test).partition("::")
            assert f"def {name}(" in (here if path == THIS else (REPO / path).read_text()), test
    assert unrun == [], f"blocks no test runs: {unrun}"


def test_every_snippet_is_run_by_a_named_test():
    here = Path(__file__).read_text()
    assert sorted(p.name for p in SNIPPETS.glob("*.py")) == sorted(SNIPPETS_RUN)
    assert [test for test in SNIPPETS_RUN.values() if f"def {test}(" not in here] == []


def test_the_event_driven_example_builds_its_dag():
    from airflow.sdk import AssetAlias

    from airflow_provider_plusofon.triggers.drift import PlusofonWebhookDriftTrigger

    namespace: dict = {}
    exec(compile(snippet("event_driven.py"), "event_driven.py", "exec"), namespace)
    dag, drift = namespace["dag"], namespace["drift"]
    assert drift.uri == "plusofon://10553/webhooks/drift"
    [watcher] = drift.watchers
    assert isinstance(watcher.trigger, PlusofonWebhookDriftTrigger)
    assert list(dag.timetable.asset_condition.objects) == [drift]
    assert dag.task_dict["repair"].outlets == [AssetAlias("plusofon_changes")]
    kwargs = json.dumps(watcher.trigger.serialize()[1])
    assert "{{ var.value.plusofon_crm_webhook_secret }}" in kwargs  # a template, rendered in the triggerer


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def bin_of(name: str) -> str:
    return str(Path(sys.executable).with_name(name))


# As the command line reads connections on an Airflow host: the metadata database included.
HOOK_CONFIG = (
    "from airflow_provider_plusofon.cli.airflow_host import HostPlusofonHook; c = HostPlusofonHook().config; "
    "print(c.base_url, c.client_id, c.timeout)"
)


def hook_config(script: str, env: dict[str, str]) -> list[str]:
    """What the hook makes of the connection after running ``script`` (its last printed line)."""
    script += f"{sys.executable} -c '{HOOK_CONFIG}'\n"
    out = subprocess.run(["bash", "-ec", script], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout.splitlines()[-1].split()


def test_the_cli_connection_example(host):  # noqa: F811
    script = block("airflow connections add plusofon_default").replace("airflow ", f"{bin_of('airflow')} ", 1)
    env = {**host, "PLUSOFON_TOKEN": TOKEN}
    assert hook_config(script, env) == ["https://restapi.plusofon.ru", "10553", "30.0"]


def test_the_environment_connection_example():
    script = block(
        'export AIRFLOW_CONN_PLUSOFON_DEFAULT=\'{"conn_type": "plusofon", "login": "10553", "password": "…", '
    )
    assert hook_config(script.replace("…", TOKEN), dict(os.environ)) == ["https://restapi.plusofon.ru", "10553", "30.0"]


def quick_start(tmp_path: Path) -> Path:
    """The Quick start's spec file, where it says: dags/webhooks/production.yaml."""
    spec_file = tmp_path / "dags" / "webhooks" / "production.yaml"
    spec_file.parent.mkdir(parents=True)
    spec_file.write_text(block("webhooks:"))
    return spec_file


def test_the_quick_start_spec_file_and_operator_converge_an_account(emulator_conn, tmp_path, monkeypatch):
    from airflow.sdk.execution_time.context import VariableAccessor

    assert block("from airflow_provider_plusofon.operators.webhooks import EnsureWebhooksOperator") == snippet(
        "quick_start.py"
    )
    monkeypatch.setenv("AIRFLOW_VAR_PLUSOFON_CRM_WEBHOOK_SECRET", HEADER_SECRET)
    spec_file = quick_start(tmp_path)
    namespace: dict = {}
    with DAG("readme_quick_start", schedule=None) as dag:
        exec(snippet("quick_start.py"), namespace)
    dag.fileloc = str(spec_file.parent.parent / "quick_start.py")
    [task] = dag.tasks
    assert task.pool == "plusofon_default"
    context = {"var": {"value": VariableAccessor(deserialize_json=False)}}
    task.render_template_fields(context)
    first = task.execute(context=context)
    assert sorted((w["event"], w["type_call"]) for w in first["created"]) == [("create", "inbound"), ("destroy", "all")]
    [created] = [w for w in emulator_conn.webhooks() if w["event"] == "create"]
    assert created["headers"] == [{"name": "X-Webhook-Secret", "value": HEADER_SECRET}]
    assert task.execute(context=context)["unchanged"] and emulator_conn.count("POST") == 2


def test_the_spec_error_example_is_what_validation_says():
    from airflow_provider_plusofon.exceptions import WebhookSpecError
    from airflow_provider_plusofon.webhooks.spec import parse_specs

    with pytest.raises(WebhookSpecError) as caught:
        parse_specs([{"url": "https://bi.example.com", "event": "hangup"}, {"event": "create"}])
    assert f"WebhookSpecError: {caught.value}\n" == block("WebhookSpecError: 2 problems")


def test_the_operator_and_sensor_examples_build_tasks():
    from airflow_provider_plusofon.operators.webhooks import EnsureWebhooksOperator, PlusofonWebhookOperator
    from airflow_provider_plusofon.sensors.webhooks import PlusofonWebhookSensor

    namespace = {
        "EnsureWebhooksOperator": EnsureWebhooksOperator,
        "PlusofonWebhookOperator": PlusofonWebhookOperator,
        "PlusofonWebhookSensor": PlusofonWebhookSensor,
    }
    with DAG("readme_tasks", schedule=None) as dag:
        for name in ("ensure_operator.py", "webhook_operator.py", "sensor.py"):
            exec(snippet(name), namespace)
    ensure, one, sensor = (dag.get_task(t) for t in ("ensure_webhooks", "crm_call_ended_hook", "wait_for_webhooks"))
    assert (ensure.prune, ensure.is_dry_run, ensure.max_deletes, ensure.max_workers) == (False, False, 5, 8)
    assert (one.event, one.type_call, one.state, one.dedupe) == ("destroy", "all", "present", False)
    assert (sensor.deferrable, sensor.poke_interval, sensor.timeout) == (True, 60, 3600)


def test_the_plan_log_example_is_what_a_run_logs(emulator_conn, logs):
    from airflow_provider_plusofon.operators.webhooks import EnsureWebhooksOperator

    crm = "https://crm.example.com/plusofon/calls"
    emulator_conn.seed(
        [{"url": f"https://filler.example.com/{i}", "event": "answer"} for i in range(3)]
        + [{"url": crm, "event": "destroy", "type_call": "all", "fields": [{"before": "call_id", "after": "id"}]}]
        + [{"url": crm, "event": "create", "type_call": "inbound"}, {"url": crm, "event": "answer", "type_call": "all"}]
    )
    specs = [
        {"url": crm, "event": "destroy", "type_call": "all", "fields": [{"before": "call_id", "after": "crm_call_id"}]},
        {"url": crm, "event": "answer", "type_call": "inbound"},
        {"url": crm, "event": "create", "type_call": "inbound"},
        {"url": crm, "event": "answer", "type_call": "all"},
    ]
    EnsureWebhooksOperator(task_id="ensure_webhooks", webhooks=specs).execute(context={})
    assert block("Plusofon webhook plan:").rstrip("\n") in logs()  # structlog appends the logger to the last line


def test_the_emulator_command_then_the_export_command(tmp_path):
    """The emulator as the docs start it (seeded with the Quick start's file), what it prints,
    and the export run with the connection it says to export."""
    (tmp_path / "webhooks.yaml").write_text(
        block("webhooks:").replace("{{ var.value.plusofon_crm_webhook_secret }}", HEADER_SECRET)
    )
    port = free_port()
    command, *said = block("plusofon-emulator --host").splitlines()
    command = command.replace("plusofon-emulator", bin_of("plusofon-emulator")).replace("8765", str(port))
    emulator = subprocess.Popen(["bash", "-c", f"exec {command}"], cwd=tmp_path, stdout=subprocess.PIPE, text=True)
    try:
        printed = [emulator.stdout.readline().rstrip("\n") for _ in said]  # type: ignore[union-attr]
        assert printed == [line.replace("# ", "", 1).replace("8765", str(port)) for line in said]
        env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW_CONN_")}
        env["AIRFLOW_CONN_PLUSOFON_DEFAULT"] = printed[-1].split("=", 1)[1].strip("'")
        export, *told = block("plusofon-webhooks export --conn-id").splitlines()
        (tmp_path / "dags" / "webhooks").mkdir(parents=True)
        out = subprocess.run(
            ["bash", "-ec", export.replace("plusofon-webhooks", bin_of("plusofon-webhooks"), 1)],
            cwd=tmp_path, capture_output=True, text=True, env=env, timeout=120,
        )  # fmt: skip
        assert out.returncode == 0, out.stderr[-2000:]
        shown = [line.strip() for line in (out.stdout + out.stderr).splitlines()]
        assert all(line.lstrip("# ").strip() in shown for line in told), (told, shown)
        exported = (tmp_path / "dags" / "webhooks" / "production.yaml").read_text()
        assert HEADER_SECRET not in exported
        assert len(yaml.safe_load(exported)["webhooks"]) == 2
    finally:
        emulator.terminate()
        emulator.wait(timeout=30)


def json_printed(stdout: str) -> Any:
    """The JSON a command printed, after whatever Airflow 3.0's CLI logs on standard output first."""
    start = re.search(r"^\[\s*[{\]]", stdout, flags=re.M)
    return json.loads(stdout[start.start() :] if start else stdout)


def test_the_checklist_s_pools_and_variables(host):  # noqa: F811
    script = block("airflow pools set plusofon_default 1").replace("airflow ", f"{bin_of('airflow')} ")
    out = subprocess.run(["bash", "-ec", script], capture_output=True, text=True, env=host, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    pools = subprocess.run(
        [bin_of("airflow"), "pools", "list", "--output", "json"], capture_output=True, text=True, env=host, timeout=300
    )
    slots = {pool["pool"]: int(pool["slots"]) for pool in json_printed(pools.stdout)}
    assert (slots["plusofon_default"], slots["plusofon_fleet"]) == (1, 4)
    fleet = subprocess.run(
        [bin_of("airflow"), "variables", "get", "plusofon_fleet"], capture_output=True, text=True, env=host, timeout=300
    )
    from tests.e2e.test_fleet import fleet_module

    # what the fleet DAG makes of it (Airflow 3.0's CLI logs on standard output before the value)
    [entry] = fleet_module().fleet_entries(fleet.stdout.strip().splitlines()[-1])
    assert entry["plusofon_conn_id"] == "plusofon_default"


def test_the_hook_example(emulator_conn):
    emulator_conn.seed([{"url": f"https://crm.example.com/{i}", "event": "create"} for i in range(1, 21)])
    full_body = {**emulator_conn.webhooks()[4], "event": "answer"}
    namespace = {"full_body": {k: v for k, v in full_body.items() if k != "id"}}
    exec(snippet("hook.py"), namespace)
    hook = namespace["hook"]
    assert [w["event"] for w in hook.list_webhooks() if w["id"] == 5] == []  # deleted by the last line
    assert len(hook.list_webhooks()) == 20  # 20 seeded, one created, one deleted
    assert hook.test_connection() == (True, f"Connected to {emulator_conn.base_url}: 20 webhook(s) on the account")
    assert [(r["method"], r["path"]) for r in emulator_conn.requests() if r["method"] != "GET"] == [
        ("POST", "/api/v1/webhooks"),
        ("PUT", "/api/v1/webhooks/5"),
        ("DELETE", "/api/v1/webhooks/5"),
    ]


def test_the_client_example(emulator_conn):
    emulator_conn.seed([{"url": f"https://crm.example.com/{i}", "event": "create"} for i in range(20)])
    code = (
        snippet("client.py").replace("https://restapi.plusofon.ru", emulator_conn.base_url)
        + "listed = client.list_webhooks()\n"
    )
    namespace = {"token": TOKEN}
    exec(code, namespace)
    assert len(namespace["listed"]) == 20


def test_the_emulator_python_example():
    namespace: dict = {}
    exec(snippet("emulator.py"), namespace)
    assert namespace["emulator"].base_url.startswith("http://127.0.0.1:")


def test_the_pytest_plugin_example(tmp_path):
    made = "from airflow_provider_plusofon.hooks.plusofon import PlusofonHook\n" + snippet(
        "conftest_plugin.py"
    ).replace(
        "    ...\n", "    PlusofonHook().create_webhook({'url': 'https://crm.example.com/calls', 'event': 'create'})\n"
    )
    (tmp_path / "test_user_dag.py").write_text(made)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW_CONN_")}
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_user_dag.py"],
        cwd=tmp_path, capture_output=True, text=True, env=env, timeout=300,
    )  # fmt: skip
    assert out.returncode == 0 and "1 passed" in out.stdout, out.stdout[-3000:]


def test_the_project_layout_names_modules_that_exist():
    text = block("airflow_provider_plusofon/")
    package = REPO / "airflow_provider_plusofon"
    named = set(re.findall(r"\b([a-z_]+\.py)\b", text))
    modules = {path.name for folder in (package, REPO / "tests") for path in folder.rglob("*.py")}
    assert named and named <= modules, named - modules
    folders = set(re.findall(r"\b([a-z]+)/", text)) - {"airflow_provider_plusofon", "tests", "unit"}
    assert folders <= {p.name for p in package.iterdir() if p.is_dir()}, folders
