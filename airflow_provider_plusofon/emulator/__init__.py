"""A local emulator of the Plusofon webhooks API, for tests, demos and benchmarks.

Standard library only: importing it costs nothing that Airflow's DAG parsing would feel.
"""

from airflow_provider_plusofon.emulator.server import PlusofonEmulator, free_port, running_emulator

__all__ = ["PlusofonEmulator", "free_port", "running_emulator"]
