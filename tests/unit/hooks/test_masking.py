"""Secrets reach Airflow's masker once each, and many at once cost one compile of its pattern."""

from __future__ import annotations

import re

import pytest

from airflow_provider_plusofon import compat
from airflow_provider_plusofon.hooks import masking


@pytest.fixture
def fresh(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The real masker, with the once-per-process memory cleared; what mask_secret is called with."""
    told: list[list[str]] = []
    real = masking.mask_secret
    monkeypatch.setattr(masking, "mask_secret", lambda values: (told.append(list(values)), real(values)))
    monkeypatch.setattr(masking, "_masked", set())
    return told


def big_compiles(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many alternatives each compile of a masker-sized pattern had."""
    sizes: list[int] = []
    real = re.compile

    def counting(pattern, *args, **kwargs):
        if isinstance(pattern, str) and pattern.count("|") >= 100:
            sizes.append(pattern.count("|") + 1)
        return real(pattern, *args, **kwargs)

    monkeypatch.setattr(re, "compile", counting)
    return sizes


def test_three_hundred_values_are_all_masked_with_one_compile(monkeypatch, fresh):
    # Values no other test's secret is a prefix of: Airflow's pattern tries its values in no set order.
    values = [f"zq{i:04d}-one-compile-value" for i in range(300)]
    sizes = big_compiles(monkeypatch)
    masking.mask_secrets(values)
    masker = compat.secrets_masker()
    # Airflow's own add_mask would compile a growing pattern 300 times (200 of them of 100 or more).
    assert len(sizes) == 1 and sizes[0] >= 300
    assert fresh == [values]  # the supervisor is still told of every value, in one message
    shown = masker.redact(" ".join(["before", *values[::37], "after"]))
    assert shown.split() == ["before", *["***"] * len(values[::37]), "after"]


def test_each_value_is_handed_over_once(fresh):
    masking.mask_secrets(["value-one-xyz", "value-two-xyz"])
    masking.mask_secrets(["value-two-xyz", "value-three-xyz", "value-one-xyz"])
    assert fresh == [["value-one-xyz", "value-two-xyz"], ["value-three-xyz"]]


def test_airflow_rules_still_decide_what_is_masked(fresh):
    # Too short to mask (Airflow's minimum is 5), and a word Airflow never masks.
    masking.mask_secrets(["abc", "airflow", "long-enough-secret"])
    shown = compat.secrets_masker().redact("abc airflow long-enough-secret")
    assert shown == "abc airflow ***"


def test_a_masker_of_another_shape_is_left_to_mask_secret(monkeypatch, fresh):
    monkeypatch.setattr(masking, "secrets_masker", lambda: object())
    masking.mask_secrets(["other-shape-one", "other-shape-two"])
    assert fresh == [["other-shape-one", "other-shape-two"]]
    assert compat.secrets_masker().redact("other-shape-two") == "***"


def test_the_masker_s_own_set_gains_the_patterns_so_another_thread_s_add_is_never_lost(fresh):
    # Airflow's add_mask adds to the masker's set in place, from any thread: replacing the set with
    # a new one would drop what another thread added between our read of it and the swap.
    masker = compat.secrets_masker()
    own = masker.patterns
    masking.mask_secrets([f"zq{i:04d}-in-place-value" for i in range(50)])
    assert masker.patterns is own
    assert all(f"zq{i:04d}\\-in\\-place\\-value" in own for i in range(50))
