"""Issue 22: the first trigger in a process freezes its long-lived objects once, unless told not to."""

from __future__ import annotations

import gc

import pytest

from airflow_provider_plusofon.triggers import supervisor


@pytest.fixture
def freezes(monkeypatch) -> list[str]:
    called: list[str] = []
    monkeypatch.setattr(gc, "freeze", lambda: called.append("freeze"))
    monkeypatch.setattr(gc, "collect", lambda *a: called.append("collect"))
    monkeypatch.setattr(supervisor, "_frozen", False)
    return called


def test_frozen_once_per_process_without_a_collection_first(freezes):
    supervisor.freeze_long_lived_objects()
    supervisor.freeze_long_lived_objects()
    assert freezes == ["freeze"]


def test_not_frozen_when_the_setting_is_off(freezes, monkeypatch):
    monkeypatch.setenv("AIRFLOW__PLUSOFON__TRIGGERER_GC_FREEZE", "False")
    supervisor.freeze_long_lived_objects()
    assert freezes == []


def test_the_setting_is_in_the_provider_info_airflow_reads():
    from airflow_provider_plusofon import get_provider_info

    option = get_provider_info()["config"]["plusofon"]["options"]["triggerer_gc_freeze"]
    assert (option["type"], option["default"]) == ("boolean", "True")
