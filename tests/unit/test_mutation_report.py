"""scripts/mutation.py's verdict: the score line, the 85% target, and the list of survivors."""

from __future__ import annotations

import importlib.util
import re
import subprocess
from types import ModuleType

import pytest

from tests.conftest import REPO


@pytest.fixture
def mutation(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    spec = importlib.util.spec_from_file_location("mutation_script", REPO / "scripts" / "mutation.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    # `mutmut show` of an unlisted survivor: its diff, without running mutmut.
    shown = subprocess.CompletedProcess([], 0, stdout="--- a\n+++ b\n-    x = 1\n+    x = 2\n")
    monkeypatch.setattr(module.subprocess, "run", lambda *args, **kwargs: shown)
    return module


def found(killed: int, survived: list[str], timeout: int = 0) -> dict[str, str]:
    statuses = {f"m.k__mutmut_{n}": "killed" for n in range(killed)}
    statuses.update({f"m.t__mutmut_{n}": "timeout" for n in range(timeout)})
    statuses.update({name: "survived" for name in survived})
    return statuses


def test_the_score_counts_timeouts_as_killed_and_is_the_last_line(mutation, capsys):
    assert mutation.report(found(80, ["m.s__mutmut_1"], timeout=5), {"m.s__mutmut_1": "equivalent"}) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "mutation score: 98.8% (85 killed of 86)"


def test_below_85_percent_fails_even_with_every_survivor_listed(mutation, capsys):
    survivors = [f"m.s__mutmut_{n}" for n in range(16)]
    assert mutation.report(found(84, survivors), dict.fromkeys(survivors, "equivalent")) == 1
    assert capsys.readouterr().out.splitlines()[-1] == "mutation score: 84.0% (84 killed of 100)"
    assert mutation.report(found(85, survivors[:15]), dict.fromkeys(survivors[:15], "equivalent")) == 0


def test_an_unlisted_survivor_fails_and_its_diff_is_shown(mutation, capsys):
    assert mutation.report(found(99, ["m.s__mutmut_7"]), {}) == 1
    out = capsys.readouterr().out
    assert "NOT LISTED (survived): m.s__mutmut_7" in out
    assert "+    x = 2" in out


def test_listed_names_that_are_killed_now_are_named_for_removal(mutation, capsys):
    assert mutation.report(found(10, []), {"m.k__mutmut_3": "was equivalent", "m.gone": "renamed"}) == 0
    assert "(remove them): m.gone, m.k__mutmut_3" in capsys.readouterr().out


def test_the_list_needs_a_reason_on_every_line_and_each_name_once(mutation, tmp_path):
    listed = tmp_path / "survivors.txt"
    listed.write_text("# comment\n\nm.a__mutmut_1  equivalent: strict zip of equal lengths\n", encoding="utf-8")
    assert mutation.listed_survivors(listed) == {"m.a__mutmut_1": "equivalent: strict zip of equal lengths"}
    listed.write_text("m.a__mutmut_1\n", encoding="utf-8")
    with pytest.raises(SystemExit, match=r"line 1: m\.a__mutmut_1 has no reason"):
        mutation.listed_survivors(listed)
    listed.write_text("m.a__mutmut_1  one\nm.a__mutmut_1  two\n", encoding="utf-8")
    with pytest.raises(SystemExit, match=r"line 2: m\.a__mutmut_1 is listed twice"):
        mutation.listed_survivors(listed)
    assert mutation.listed_survivors(tmp_path / "missing.txt") == {}


def test_every_listed_survivor_names_a_mutant_of_the_mutated_files(mutation):
    config = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    mutated = re.search(r"^only_mutate = \[(.*?)\]", config, re.M | re.S)
    assert mutated is not None
    modules = tuple(f"{path.replace('/', '.')}." for path in re.findall(r'"([\w/]+)\.py"', mutated[1]))
    assert "airflow_provider_plusofon.api.retry." in modules
    names = list(mutation.listed_survivors())
    assert names, "tests/mutation_survivors.txt lists no survivor"
    assert [n for n in names if not n.startswith(modules) or "__mutmut_" not in n] == []
