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


def writers(dag) -> list:
    """The example DAG's tasks that write to an account (a mapped task by its partial arguments)."""
    from airflow_provider_plusofon.operators.webhooks import EnsureWebhooksOperator, PlusofonWebhookOperator

    found = []
    for task in dag.tasks:
        kind = getattr(task, "operator_class", type(task))
        arguments = getattr(task, "partial_kwargs", None) or vars(task)
        dry = arguments.get("dry_run", arguments.get("is_dry_run", False))
        if kind in (EnsureWebhooksOperator, PlusofonWebhookOperator) and dry is not True:
            found.append((task.task_id, arguments.get("retry_delay", task.retry_delay), arguments.get("pool")))
    return found


def test_the_example_dags_writers_wait_30_s_or_more_between_tries_and_take_one_writers_pool():
    import datetime

    bag = dag_bag(str(EXAMPLE_DAGS))
    pools = {}
    for dag_id in ("plusofon_bootstrap_webhooks", "plusofon_webhook_audit", "plusofon_webhook_fleet"):
        for task_id, retry_delay, pool in writers(bag.dags[dag_id]):
            assert retry_delay >= datetime.timedelta(seconds=30), (dag_id, task_id, retry_delay)
            pools[(dag_id, task_id)] = pool
    assert pools == {
        ("plusofon_bootstrap_webhooks", "ensure_webhooks"): "plusofon_default",
        ("plusofon_webhook_audit", "repair_webhooks"): "plusofon_default",
        ("plusofon_webhook_fleet", "repair_account"): "plusofon_fleet",
    }
