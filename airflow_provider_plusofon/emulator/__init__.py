"""A local emulator of the Plusofon webhooks API, for tests, demos and benchmarks.

Standard library only: importing it costs nothing that Airflow's DAG parsing would feel.
"""

from airflow_provider_plusofon.emulator.server import PlusofonEmulator, free_port, running_emulator
from airflow_provider_plusofon.emulator.state import EmulatorState, Fault

__all__ = ["EmulatorState", "Fault", "PlusofonEmulator", "free_port", "running_emulator"]
