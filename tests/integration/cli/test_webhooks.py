"""``plusofon-webhooks`` against the emulator: exit codes, every problem at once, no secret printed."""

from __future__ import annotations

import json

import pytest
import yaml

from airflow_provider_plusofon.cli.webhooks import main
from tests.conftest import TOKEN

pytestmark = pytest.mark.integration

SECRET = "cli-header-secret-8d2"
CRM = "https://crm.example.com/plusofon/calls"
SPEC_FILE = """
webhooks:
  - url: "{{ params.base }}/plusofon/calls"
    event: create
    headers:
      - name: X-Webhook-Secret
        value: "{{ var.value.cli_secret }}"
"""


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def spec_file(tmp_path, monkeypatch):
    monkeypatch.setenv("AIRFLOW_VAR_CLI_SECRET", SECRET)
    path = tmp_path / "hooks.yaml"
    path.write_text(SPEC_FILE)
    return path


def test_validate_reports_every_problem_of_every_file_and_sends_nothing(emulator_conn, tmp_path, capsys):
    good, bad, worse = tmp_path / "good.yaml", tmp_path / "bad.yaml", tmp_path / "worse.json"
    good.write_text(f"webhooks:\n  - {{url: '{CRM}', event: create}}\n")
    bad.write_text(f"webhooks:\n  - {{url: '{CRM}', event: hangup}}\n  - {{url: nope, event: create}}\n")
    worse.write_text('[{"url": "https://a.example", "event": "create", "headers": {"X": "' + SECRET + '"}}]')
    assert run(capsys, "validate", str(good)) == (0, "1 file(s) valid\n", "")
    code, _out, err = run(capsys, "validate", str(good), str(bad), str(worse), str(tmp_path / "missing.yaml"))
    assert code == 1
    lines = err.splitlines()
    assert lines[0] == f"{bad}: spec #0 ({CRM}): field 'event': 'hangup' is not one of create, answer, destroy"
    assert lines[1].startswith(f"{bad}: spec #1 (nope): field 'url':")
    assert lines[2].startswith(f"{worse}: spec #0 (https://a.example): field 'headers': must be a list")
    assert lines[3] == f"{tmp_path / 'missing.yaml'}: {tmp_path / 'missing.yaml'}: no such file"
    assert SECRET not in err
    assert emulator_conn.requests() == []


def test_validate_needs_the_params_a_file_uses(spec_file, capsys):
    code, _, err = run(capsys, "validate", str(spec_file))
    assert code == 1
    assert "a template value is missing" in err and "--param" in err
    assert run(capsys, "validate", str(spec_file), "--param", "base=https://crm.example.com")[0] == 0


def test_plan_exits_2_when_something_would_change_and_0_when_nothing_would(emulator_conn, spec_file, capsys):
    code, out, err = run(capsys, "plan", str(spec_file), "--param", "base=https://crm.example.com")
    assert code == 2
    assert f"+ create  {CRM} event=create" in out
    assert "plan_id: plan-" in out
    emulator_conn.seed([{"url": CRM, "event": "create", "headers": [{"name": "X-Webhook-Secret", "value": SECRET}]}])
    code, out, err = run(capsys, "plan", str(spec_file), "--param", "base=https://crm.example.com", "--json")
    assert code == 0
    summary = json.loads(out)
    assert summary["plan_id"].startswith("plan-") and [u["id"] for u in summary["unchanged"]] == [1]
    assert SECRET not in out + err and TOKEN not in out + err
    assert [r["method"] for r in emulator_conn.requests()] == ["GET"] * len(emulator_conn.requests())


def test_an_error_is_one_line_without_a_traceback_or_a_secret(emulator_conn, spec_file, capsys, monkeypatch):
    conn = {**emulator_conn.connection_uri(), "password": TOKEN, "host": "ftp://127.0.0.1"}
    monkeypatch.setenv("AIRFLOW_CONN_BROKEN", json.dumps(conn))
    code, _out, err = run(capsys, "plan", str(spec_file), "--conn-id", "broken", "--param", "base=https://a.example")
    assert code == 1
    assert err.splitlines()[-1].startswith("plusofon-webhooks: Connection 'broken': the base URL")
    assert "Traceback" not in err and TOKEN not in err
    with pytest.raises(Exception, match="base URL"):
        main(["--debug", "plan", str(spec_file), "--conn-id", "broken", "--param", "base=https://a.example"])


def test_export_writes_no_secret_and_lists_the_variables(emulator_conn, tmp_path, capsys):
    emulator_conn.seed([{"url": CRM, "event": "create", "headers": [{"name": "X-Webhook-Secret", "value": SECRET}]}])
    code, out, err = run(capsys, "export", "--rewrite-url", "https://crm.example.com/=https://crm.staging.example/")
    assert code == 0
    [spec] = yaml.safe_load(out)["webhooks"]
    assert spec["url"] == "https://crm.staging.example/plusofon/calls"
    name = "plusofon_crm_staging_example_plusofon_calls_create_x_webhook_secret"
    assert spec["headers"] == [{"name": "X-Webhook-Secret", "value": f"{{{{ var.value.{name} }}}}"}]
    assert err.splitlines()[-1] == f"  {name}"
    assert SECRET not in out + err
    target = tmp_path / "exported.yaml"
    assert run(capsys, "export", "--output", str(target))[0] == 0
    assert SECRET not in target.read_text() and "webhooks:" in target.read_text()
    assert run(capsys, "export", "--rewrite-url", "no-equals-sign")[0] == 1


def test_export_never_overwrites_a_file_unasked_and_asks_the_account_nothing(emulator_conn, tmp_path, capsys):
    emulator_conn.seed([{"url": CRM, "event": "create"}])
    target = tmp_path / "hand-edited.yaml"
    target.write_text("# my notes\nwebhooks: []\n")
    code, _, err = run(capsys, "export", "--output", str(target))
    assert code == 1
    assert f"{target} exists; pass --force to replace it" in err
    assert target.read_text() == "# my notes\nwebhooks: []\n"
    assert emulator_conn.requests() == []
    assert run(capsys, "export", "--output", str(target), "--force")[0] == 0
    assert CRM in target.read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hand-edited.yaml"]  # no temporary file left


def test_export_writes_atomically_nothing_half_written_on_failure(tmp_path, monkeypatch):
    import os

    from airflow_provider_plusofon.webhooks.export import write_spec_file

    target = tmp_path / "exported.yaml"
    target.write_text("the old file\n")

    def disk_full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OSError, match="No space left"):
        write_spec_file(target, "webhooks: [a new file]\n", overwrite=True)
    assert target.read_text() == "the old file\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["exported.yaml"]
    monkeypatch.undo()
    with pytest.raises(FileExistsError):
        write_spec_file(target, "webhooks: []\n")  # an existing file, not asked to overwrite
    assert target.read_text() == "the old file\n"
    write_spec_file(tmp_path / "new.yaml", "webhooks: []\n")
    assert (tmp_path / "new.yaml").read_text() == "webhooks: []\n"


@pytest.mark.parametrize(
    "url",
    [
        "https://tok-only-user-secret@crm.example.com/calls",
        "https://user:pass-secret-1@crm.example.com/calls",
        "https://:pass-secret-2@crm.example.com/calls",
        "https://a%40b:pass-secret-3@crm.example.com/calls",
        "https://user:pass@secret-4@crm.example.com/calls",
    ],
)
def test_export_writes_no_user_info_whatever_the_url_looks_like(emulator_conn, capsys, url):
    emulator_conn.seed([{"url": url, "event": "create", "params": [{"name": "key", "value": "param-secret-5"}]}])
    code, out, err = run(capsys, "export")
    assert code == 0
    for secret in ("tok-only-user-secret", "pass-secret", "secret-4", "param-secret-5", "a%40b", "user:"):
        assert secret not in out + err
    [spec] = yaml.safe_load(out)["webhooks"]
    assert spec["url"].startswith("https://{{ var.value.plusofon_crm_example_com_calls_create_url_userinfo }}@")
    assert spec["params"] == [
        {"name": "key", "value": "{{ var.value.plusofon_crm_example_com_calls_create_param_key }}"}
    ]


def test_export_of_a_credential_beside_jinja_writes_no_credential_and_plans_nothing(
    emulator_conn, tmp_path, capsys, monkeypatch
):
    # The URL of issue 33: user info and Jinja-like text in one URL, and values YAML would read as
    # something else. Export, set the Variables it names to what the account holds, plan: nothing.
    url = "https://user:pw-issue-33@crm.example/q?id={{call_id}}"
    held = {
        "url": url,
        "event": "create",
        "type_call": "inbound",
        "template": '{"call": "{{ call_id }}", "raw": "{% raw %}x{% endraw %}"}\n',
        "headers": [{"name": "X-Key", "value": "on"}],
        "params": [{"name": "api_key", "value": " 0o17 "}],
        "fields": [{"before": "call_id", "after": "yes"}],
    }
    emulator_conn.seed([*emulator_conn.webhooks(), held])
    target = tmp_path / "adopted.yaml"
    assert run(capsys, "export", "--output", str(target))[0] == 0
    written = target.read_text()
    assert "pw-issue-33" not in written and "user:" not in written
    [spec] = [s for s in yaml.safe_load(written)["webhooks"] if "crm.example" in s["url"]]
    assert spec["url"] == (
        "https://{{ var.value.plusofon_crm_example_q_create_inbound_url_userinfo }}@{{ 'crm.example/q?id={{call_id}}' }}"
    )
    for name, value in {
        "plusofon_crm_example_q_create_inbound_url_userinfo": "user:pw-issue-33",
        "plusofon_crm_example_q_create_inbound_x_key": "on",
        "plusofon_crm_example_q_create_inbound_param_api_key": " 0o17 ",
    }.items():
        monkeypatch.setenv(f"AIRFLOW_VAR_{name.upper()}", value)
    emulator_conn.state.clear_requests()

    code, out, err = run(capsys, "plan", str(target))

    assert (code, out.splitlines()[0]) == (
        0,
        "Plusofon webhook plan (dry run: nothing will be written): 0 to create, 0 to update, 0 to delete, 41 unchanged",
    )
    assert "pw-issue-33" not in out + err
    assert {r["method"] for r in emulator_conn.requests()} == {"GET"}


@pytest.mark.usefixtures("airflow_db")  # a host whose database says what it does not hold
def test_validate_reports_every_problem_of_every_file_whatever_is_wrong_with_it(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("AIRFLOW_VAR_CLI_NOT_SET", raising=False)
    files = {
        "binary.yaml": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
        "bad-event.yaml": f"webhooks:\n  - {{url: '{CRM}', event: hangup}}\n".encode(),
        "needs-var.yaml": b"webhooks:\n  - url: https://a.example\n    event: create\n    headers:\n"
        b"      - {name: X, value: '{{ var.value.cli_not_set }}'}\n      - {name: Y, value: '{{ conn.cli_no_conn.password }}'}\n",
        "good.yaml": f"webhooks:\n  - {{url: '{CRM}', event: create}}\n".encode(),
    }
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    (tmp_path / "folder.yaml").mkdir()
    (tmp_path / "dangling.yaml").symlink_to(tmp_path / "gone.yaml")
    names = ["binary.yaml", "folder.yaml", "dangling.yaml", "bad-event.yaml", "needs-var.yaml", "good.yaml"]
    code, _, err = run(capsys, "validate", *(str(tmp_path / n) for n in names))
    assert code == 1
    text = err.replace(str(tmp_path) + "/", "")
    assert "binary.yaml: binary.yaml is not UTF-8" in text
    assert "folder.yaml: folder.yaml: not a file (a folder?)" in text
    assert "dangling.yaml: dangling.yaml: a link to nothing" in text
    assert "bad-event.yaml: spec #0" in text and "'hangup' is not one of" in text
    assert "needs-var.yaml: the Airflow Variable 'cli_not_set' " in text
    assert "needs-var.yaml: the Airflow connection 'cli_no_conn' " in text
    assert "good.yaml" not in text


def test_validate_with_stand_ins_looks_nothing_up(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("AIRFLOW_VAR_CLI_NOT_SET", raising=False)
    path = tmp_path / "needs-var.yaml"
    path.write_text(
        "webhooks:\n  - url: https://a.example\n    event: create\n"
        "    headers: [{name: X, value: '{{ var.value.cli_not_set }}'}]\n"
    )
    assert run(capsys, "validate", "--stand-ins", str(path)) == (0, "1 file(s) valid\n", "")


def test_the_shipped_example_folder_validates_as_the_readme_says(capsys):
    from tests.conftest import REPO

    files = sorted(str(p) for p in (REPO / "example_dags" / "webhooks").glob("*.yaml"))
    assert [f.rsplit("/", 1)[-1] for f in files] == ["fleet.yaml", "production.yaml", "staging.yaml"]

    checked = run(capsys, "validate", "--stand-ins", *files, "--param", "receiver_base_url=https://crm.example.com")

    assert checked == (0, "3 file(s) valid\n", "")


def test_every_hint_names_exactly_what_to_pass(tmp_path, capsys):
    path = tmp_path / "hints.yaml"
    path.write_text(
        "webhooks:\n"
        "  - {url: '{{ params.receiver_base_url }}/calls', event: create}\n"
        "  - {url: 'https://crm.example.com/{{ task.plusofon_conn_id }}/{{ task.team }}', event: destroy}\n"
        "  - {url: 'https://crm.example.com/{{ ds }}', event: answer}\n"
    )

    code, out, err = run(capsys, "validate", "--stand-ins", str(path))

    assert (code, out) == (1, "")
    assert err.splitlines() == [
        f"{path}: a template value is missing: params.receiver_base_url (pass it with --param receiver_base_url=VALUE)",
        f"{path}: a template value is missing: task.team (pass it with --task team=VALUE)",
        f"{path}: a template value is missing: 'ds', which a spec file has only in a task run (here: var, conn, params, task)",
    ]
    given = ["--param", "receiver_base_url=https://a.example", "--task", "team=crm", "--conn-id", "plusofon_acme"]
    path.write_text(path.read_text().replace("{{ ds }}", "x"))
    assert run(capsys, "validate", "--stand-ins", str(path), *given) == (0, "1 file(s) valid\n", "")
    assert run(capsys, "validate", "--stand-ins", str(path), "--task", "no-equals")[2] == (
        "plusofon-webhooks: --task takes KEY=VALUE, got 'no-equals'\n"
    )
