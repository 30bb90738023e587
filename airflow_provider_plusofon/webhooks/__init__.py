"""The core: specs, plan and reconcile. No Airflow imports; the only I/O goes through the client."""
