"""pytest fixtures for testing DAGs against the Plusofon emulator.

Opt-in, so that installing the provider changes no other pytest run: add to a ``conftest.py``::

    pytest_plugins = ["airflow_provider_plusofon.emulator.pytest_plugin"]

``plusofon_emulator`` gives a running emulator on a free loopback port; ``plusofon_connection``
also points ``AIRFLOW_CONN_PLUSOFON_DEFAULT`` at it for the test.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from airflow_provider_plusofon.emulator.server import PlusofonEmulator


@pytest.fixture
def plusofon_emulator() -> Iterator[PlusofonEmulator]:
    """A fresh emulator with no webhooks, serving on 127.0.0.1 for one test."""
    with PlusofonEmulator() as emulator:
        yield emulator


@pytest.fixture
def plusofon_connection(
    plusofon_emulator: PlusofonEmulator, monkeypatch: pytest.MonkeyPatch
) -> Iterator[PlusofonEmulator]:
    """The emulator, with the ``plusofon_default`` connection pointing at it."""
    monkeypatch.setenv("AIRFLOW_CONN_PLUSOFON_DEFAULT", plusofon_emulator.connection_env())
    yield plusofon_emulator
