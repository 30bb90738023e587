"""Every promise of the README is in tests/promises.py, and every test named there exists (issue 24)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.promises import KNOWN_GAPS, LIMITS, PROMISES

REPO = Path(__file__).resolve().parents[2]
README = REPO / "README.md"
BOLD_BULLET = re.compile(r"^- \*\*(.+?)\*\*", re.MULTILINE)


def section(title: str) -> str:
    """The text under ``## title`` up to the next ``## `` heading."""
    text = README.read_text(encoding="utf-8")
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def flat(text: str) -> str:
    """Line breaks and indentation collapsed, as the README wraps its sentences anywhere."""
    return " ".join(text.split())


def test_every_promise_of_the_readme_is_mapped():
    promises = {flat(sentence) for sentence in BOLD_BULLET.findall(section("What always holds"))}
    assert promises, "no bold bullets found under '## What always holds'"
    assert promises == set(PROMISES), (
        f"not mapped: {sorted(promises - set(PROMISES))}; not in the README: {sorted(set(PROMISES) - promises)}"
    )


def test_every_limit_is_quoted_from_the_readme():
    text = flat(section("What always holds") + section("Troubleshooting"))
    assert [quote for quote in LIMITS if quote not in text] == []


@pytest.mark.parametrize("name", ["PROMISES", "LIMITS"])
def test_every_test_named_exists(name: str):
    entries = PROMISES if name == "PROMISES" else LIMITS
    missing: list[str] = []
    for test_ids in entries.values():
        for test_id in test_ids:
            path, _, function = test_id.partition("::")
            file = REPO / path
            found = file.is_file() and re.search(
                rf"^\s*(async\s+)?def {re.escape(function)}\(", file.read_text(encoding="utf-8"), re.MULTILINE
            )
            if not function or not found:
                missing.append(test_id)
    assert missing == []


def test_only_the_known_gaps_have_no_test():
    empty = {key for key, test_ids in {**PROMISES, **LIMITS}.items() if not test_ids}
    assert empty == KNOWN_GAPS, (
        f"no test and not a known gap: {sorted(empty - KNOWN_GAPS)}; "
        f"a known gap that has tests or no entry: {sorted(KNOWN_GAPS - empty)}"
    )
