"""Plusofon webhooks as Airflow assets: the ``plusofon://`` URI scheme (:mod:`.uris`)."""
