"""Every example DAG imports cleanly, quickly and without touching the network."""

from __future__ import annotations

import socket

import pytest

from tests.e2e.conftest import EXAMPLE_DAGS, dag_bag

EXPECTED = {
    "plusofon_bootstrap_webhooks": {"ensure_webhooks", "verify_webhooks"},
    "plusofon_webhook_audit": {"plan_webhooks", "needs_repair", "approve_repair", "repair_webhooks", "report_drift"},
    "plusofon_call_pipeline": {"wait_for_webhooks", "load_call_records"},
    "plusofon_webhook_fleet": {"fleet", "audit_account", "approved", "repair_account", "fleet_summary"},
    "plusofon_call_backfill": {"lost_call_windows", "reload_calls"},
}


def test_example_dags_import_without_network(monkeypatch, requests_mock):
    def no_network(*args, **kwargs):
        raise AssertionError("a DAG touched the network at parse time")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    bag = dag_bag(str(EXAMPLE_DAGS))
    assert bag.import_errors == {}
    assert {dag_id: set(bag.dags[dag_id].task_ids) for dag_id in EXPECTED} == EXPECTED
    assert requests_mock.call_count == 0


@pytest.mark.parametrize("dag_id", sorted(EXPECTED))
def test_example_dag_conventions(dag_id):
    dag = dag_bag(str(EXAMPLE_DAGS)).dags[dag_id]
    assert dag.doc_md
    assert "plusofon" in dag.tags
    assert dag.catchup is False
    assert dag.max_active_runs == 1
