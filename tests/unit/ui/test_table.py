"""Issue 35: the fleet table filtered by state or text and sorted by any column (rows without a value last)."""

from __future__ import annotations

import datetime

from airflow_provider_plusofon.ui.model import Account, Evidence
from airflow_provider_plusofon.ui.rows import PlanNote, Row
from airflow_provider_plusofon.ui.table import COLUMNS, View, counts, shown

UTC = datetime.timezone.utc


def at(hour: int) -> datetime.datetime:
    return datetime.datetime(2026, 12, 8, hour, tzinfo=UTC)


ROWS = [
    Row(Account("300", ("acme",), ("ACME production",)), "matching", last_read=at(9)),
    Row(Account("100"), "drifted", since=at(8), drift=(("missing", "", "https://crm.example.com/calls destroy"),)),
    Row(Account("200"), "awaiting", since=at(7), plan=PlanNote("plan-b", "dag")),
    Row(Account("400"), "unknown", why="401"),
    Row(Account("500"), "repaired", since=at(6), last_repair=Evidence(at=at(6), source="audit", status="repaired")),
    Row(Account("600"), "drifted", since=at(5)),
]


def ids(rows: list[Row]) -> list[str]:
    return [r.account.client_id for r in rows]


def test_by_default_what_needs_a_person_first_the_longest_drifted_first():
    assert ids(shown(ROWS, View())) == ["600", "100", "200", "400", "500", "300"]
    assert counts(ROWS) == {"drifted": 2, "awaiting": 1, "unknown": 1, "repaired": 1, "matching": 1}


def test_any_column_sorts_both_ways_with_the_rows_without_a_value_last():
    assert ids(shown(ROWS, View(sort="account"))) == ["100", "200", "300", "400", "500", "600"]
    assert ids(shown(ROWS, View(sort="account", descending=True))) == ["600", "500", "400", "300", "200", "100"]
    assert ids(shown(ROWS, View(sort="read", descending=True)))[0] == "300"
    assert ids(shown(ROWS, View(sort="repair"))) == ["500", "100", "200", "300", "400", "600"]
    assert ids(shown(ROWS, View(sort="plan", descending=True)))[:1] == ["200"]
    assert ids(shown(ROWS, View(sort="drift")))[:1] == ["100"]
    assert set(COLUMNS) == {"account", "state", "drift", "plan", "repair", "window", "read"}


def test_filters_by_state_and_by_text_in_ids_connections_descriptions_drift_and_plans():
    assert ids(shown(ROWS, View(state="drifted"))) == ["600", "100"]
    assert ids(shown(ROWS, View(query="ACME"))) == ["300"]
    assert ids(shown(ROWS, View(query="calls destroy"))) == ["100"]
    assert ids(shown(ROWS, View(query="plan-b"))) == ["200"]
    assert ids(shown(ROWS, View(state="matching", query="nothing like it"))) == []


def test_what_the_query_string_says_is_taken_only_when_it_is_one_of_the_choices():
    assert View.of("drifted", " acme ", "repair", "desc") == View("drifted", "acme", "repair", True)
    assert View.of("<script>", "x" * 500, "password", "sideways") == View(None, "x" * 100, "state", False)
    assert View.of(None, None, None, None) == View()
