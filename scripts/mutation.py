"""`make mutation`: mutation testing of the core and the API layer, with mutmut.

What is mutated is fixed, not sampled: every mutant mutmut (the version the ``mutation`` extra
pins) makes of the files ``[tool.mutmut] only_mutate`` names in pyproject.toml, and the tests are
run with ``PYTHONHASHSEED=0``, so two runs on one commit try the same mutants the same way. Each
mutant runs the unit and integration tests that reach the function it changes.

A mutant the tests do not kill must be listed in ``tests/mutation_survivors.txt`` with a one-line
reason (``<mutant name>  <reason>``). The run fails when one is not listed (its diff is shown),
and says which listed ones are killed now (to be removed from the list). The last line is
``mutation score: N% (K killed of M)``: killed (a timeout counts as killed, as mutmut counts it)
of every mutant made. It fails below 85%.

Usage: ``make mutation`` (a fresh run, 45 to 65 minutes on 2 cores); ``KEEP=1 make mutation``
re-tests only the functions changed since the last run.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SURVIVORS = ROOT / "tests" / "mutation_survivors.txt"
MUTMUT = [sys.executable, "-m", "mutmut"]
TARGET_PERCENT = 85.0
KILLED = {"killed", "timeout", "caught by type check"}
_RESULT = re.compile(r"^\s+(\S+): (.+)$")


def statuses() -> dict[str, str]:
    """Every mutant of the last run and what became of it (killed, survived, no tests, ...)."""
    out = subprocess.run([*MUTMUT, "results", "--all", "true"], cwd=ROOT, capture_output=True, text=True, check=True)
    return {m[1]: m[2] for line in out.stdout.splitlines() if (m := _RESULT.match(line))}


def listed_survivors(path: Path = SURVIVORS) -> dict[str, str]:
    """The survivors the list accounts for, by mutant name, with their reason."""
    listed: dict[str, str] = {}
    if not path.exists():
        return listed
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        name, _, reason = line.partition(" ")
        if not reason.strip():
            raise SystemExit(f"{path.name} line {number}: {name} has no reason")
        if name in listed:
            raise SystemExit(f"{path.name} line {number}: {name} is listed twice")
        listed[name] = reason.strip()
    return listed


def score_line(found: dict[str, str]) -> tuple[str, float]:
    killed = sum(status in KILLED for status in found.values())
    percent = 100.0 * killed / len(found) if found else 0.0
    return f"mutation score: {percent:.1f}% ({killed} killed of {len(found)})", percent


def report(found: dict[str, str], listed: dict[str, str]) -> int:
    """Print what is not accounted for, then the score; 0 when the target is met and every survivor listed."""
    alive = sorted(name for name, status in found.items() if status not in KILLED)
    unlisted = [name for name in alive if name not in listed]
    stale = sorted(name for name in listed if found.get(name) in KILLED or name not in found)
    for name in unlisted:
        diff = subprocess.run([*MUTMUT, "show", name], cwd=ROOT, capture_output=True, text=True).stdout
        print(f"\nNOT LISTED ({found[name]}): {name}\n{diff.strip()}")
    if stale:
        print(f"\nListed in {SURVIVORS.name} but killed or gone now (remove them): " + ", ".join(stale))
    print(f"\n{len(alive)} mutants not killed, {len(alive) - len(unlisted)} of them listed with a reason.")
    line, percent = score_line(found)
    print(line)
    return 0 if percent >= TARGET_PERCENT and not unlisted else 1


def main() -> int:
    if not os.environ.get("KEEP"):
        shutil.rmtree(ROOT / "mutants", ignore_errors=True)
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    run = subprocess.run([*MUTMUT, "run"], cwd=ROOT, env=env)
    if run.returncode != 0:
        print(f"mutmut run failed (exit {run.returncode})")
        print("mutation score: 0.0% (0 killed of 0)")
        return 1
    return report(statuses(), listed_survivors())


if __name__ == "__main__":
    raise SystemExit(main())
