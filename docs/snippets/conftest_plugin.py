pytest_plugins = ["airflow_provider_plusofon.emulator.pytest_plugin"]


def test_my_dag(plusofon_connection):  # an emulator, with plusofon_default pointing at it
    ...
    assert plusofon_connection.count("POST") == 1
