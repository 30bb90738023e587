"""The Plusofon page in Airflow's UI: a read-only view of every account, from what Airflow recorded (issue 35).

``plugin`` registers it (the ``airflow.plugins`` entry point); ``app`` serves it; ``records`` and
``outcomes`` read Airflow's models (``events``: the asset events); ``model``, ``rows``, ``timeline``
and ``table`` are the view model (plain data, no Airflow); ``pages`` puts them together for the
templates.
"""
