"""Every promise of the docs' "What always holds" page is in tests/promises.py, and every test named
there exists (issues 24 and 36)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.promises import KNOWN_GAPS, LIMITS, PROMISES

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs"
BOLD_BULLET = re.compile(r"^- \*\*(.+?)\*\*", re.MULTILINE)


def page(name: str) -> str:
    """A page of the docs, as written."""
    return (DOCS / name).read_text(encoding="utf-8")


def flat(text: str) -> str:
    """Line breaks and indentation collapsed, as the pages wrap their sentences anywhere."""
    return " ".join(text.split())


def test_every_promise_of_the_docs_is_mapped():
    text = page("promises.md")
    assert text.startswith("# What always holds\n")
    promises = {flat(sentence) for sentence in BOLD_BULLET.findall(text)}
    assert promises, "no bold bullets found in docs/promises.md"
    assert promises == set(PROMISES), (
        f"not mapped: {sorted(promises - set(PROMISES))}; not in the docs: {sorted(set(PROMISES) - promises)}"
    )


def test_every_limit_is_quoted_from_the_docs():
    text = flat(page("promises.md") + page("troubleshooting.md"))
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
