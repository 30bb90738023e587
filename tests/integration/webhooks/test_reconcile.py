"""The reconcile core against the emulator: a create's lost answer, with a store that lags or fails."""

from __future__ import annotations

import pytest

from airflow_provider_plusofon.exceptions import CreateOutcomeUnknownError, PartialApplyError
from airflow_provider_plusofon.hooks.plusofon import PlusofonHook
from airflow_provider_plusofon.webhooks.reconcile import apply_plan, plan_account
from airflow_provider_plusofon.webhooks.spec import parse_specs
from tests.conftest import ours

pytestmark = pytest.mark.integration

SPECS = parse_specs([{"url": "https://crm.example.com/calls", "event": "create", "type_call": "inbound"}])


def attempt() -> dict:
    """One task attempt: read, plan, apply."""
    client = PlusofonHook().client
    return apply_plan(client, plan_account(client, SPECS))


def test_a_store_that_lags_the_lost_answer_never_gets_a_second_copy(emulator_conn):
    emulator_conn.inject("lagging_store", method="POST", held=True)
    with pytest.raises(PartialApplyError, match="create outcome unknown") as caught:
        attempt()
    assert caught.value.done["created"] == []
    assert ours(emulator_conn.webhooks()) == []  # not there yet when the attempt looked
    assert emulator_conn.state.release_held() == 1  # the store catches up, after the attempt
    second = attempt()  # the next attempt plans afresh and finds it
    assert second["created"] == []
    assert [item["id"] for item in second["unchanged"]] == [41]  # after the three pages the account holds
    assert len(emulator_conn.requests("POST")) == 1
    assert len(ours(emulator_conn.webhooks())) == 1


def test_a_create_that_really_failed_is_made_once_by_the_next_attempt(emulator_conn):
    emulator_conn.inject("drop", method="POST")
    with pytest.raises(PartialApplyError) as caught:
        attempt()
    assert any("create outcome unknown" in failure for failure in caught.value.failures)
    assert ours(emulator_conn.webhooks()) == []
    second = attempt()
    assert [item["id"] for item in second["created"]] == [41]
    assert len(emulator_conn.requests("POST")) == 2
    assert len(ours(emulator_conn.webhooks())) == 1


def test_a_lost_answer_whose_webhook_is_listed_counts_as_created(emulator_conn):
    emulator_conn.inject("drop_after_store", method="POST")
    assert [item["id"] for item in attempt()["created"]] == [41]
    assert len(emulator_conn.requests("POST")) == 1


def test_the_outcome_unknown_error_is_what_a_task_sees(emulator_conn):
    emulator_conn.inject("status", status=502, html=True, method="POST")
    with pytest.raises(PartialApplyError) as caught:
        attempt()
    assert isinstance(caught.value, PartialApplyError)
    assert CreateOutcomeUnknownError.__name__ not in str(caught.value)  # said in words, not class names
    assert "it was not sent again" in str(caught.value)
