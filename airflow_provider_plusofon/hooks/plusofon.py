"""PlusofonHook: an Airflow connection turned into a client for the Plusofon webhooks API."""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Mapping, Sequence
from functools import cached_property
from typing import Any

from airflow_provider_plusofon.api import DEFAULT_MAX_WORKERS, PlusofonClient, PlusofonConnectionConfig
from airflow_provider_plusofon.api.settings import FIELD_BEHAVIOUR, SETTINGS, base_url_of, options_from_extra
from airflow_provider_plusofon.compat import BaseHook
from airflow_provider_plusofon.hooks.masking import mask_secrets
from airflow_provider_plusofon.webhooks.creates import create_webhooks
from airflow_provider_plusofon.webhooks.export import Export, export_specs
from airflow_provider_plusofon.webhooks.spec import parse_spec

__all__ = ["DEFAULT_MAX_WORKERS", "PlusofonHook"]


class PlusofonHook(BaseHook):
    """
    Client for the Plusofon webhooks API, configured from an Airflow connection.

    Connection fields: ``login`` is the Client ID (sent as the ``Client`` header), ``password``
    the API token (sent as ``Authorization: Bearer ...``), ``host`` the base URL (default
    ``https://restapi.plusofon.ru``; a scheme and port are allowed, e.g. ``http://127.0.0.1:8765``).
    ``extra`` may hold ``client_id`` (used when login is empty) and the settings of
    :data:`~airflow_provider_plusofon.api.settings.SETTINGS` (``timeout``, ``verify``,
    ``max_retries``, ``max_pages``, ``max_answer_bytes``).

    The HTTP work is done by a :class:`~airflow_provider_plusofon.api.PlusofonClient`
    (``get_conn()``), which retries what waiting can fix, pauses every request on a 429, and
    refuses redirects, oversized answers and malformed ids. The token and every header value
    are registered with Airflow's secret masker before they can reach a log line.

    :param plusofon_conn_id: the Airflow connection to use.
    :param max_workers: how many requests may run at once when fetching pages or many webhooks.
    """

    conn_name_attr = "plusofon_conn_id"
    default_conn_name = "plusofon_default"
    conn_type = "plusofon"
    hook_name = "Plusofon"

    def __init__(self, plusofon_conn_id: str = default_conn_name, *, max_workers: int = DEFAULT_MAX_WORKERS) -> None:
        super().__init__()
        self.plusofon_conn_id = plusofon_conn_id
        self.max_workers = max(1, int(max_workers))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(plusofon_conn_id={self.plusofon_conn_id!r})"

    @classmethod
    def get_connection_form_widgets(cls) -> dict[str, Any]:
        """The extra fields of the connection form, for Airflow 3.0 and 3.1 (3.2+ reads
        ``conn-fields`` from the provider info and never calls this)."""
        from flask_appbuilder.fieldwidgets import BS3TextFieldWidget
        from flask_babel import lazy_gettext
        from wtforms import BooleanField, IntegerField, StringField
        from wtforms.validators import Optional

        kinds = {bool: BooleanField, int: IntegerField}
        widgets = {}
        for setting in SETTINGS:
            kind = kinds.get(setting.kind, StringField)
            form_field = setting.form_field()
            widgets[setting.name] = kind(
                lazy_gettext(setting.label),
                validators=[Optional()],
                description=form_field["description"],
                default=setting.default,
                widget=None if kind is BooleanField else BS3TextFieldWidget(),
            )
        return widgets

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        """Relabelled, hidden and explained standard fields, for Airflow 3.0 and 3.1."""
        return copy.deepcopy(FIELD_BEHAVIOUR)

    @cached_property
    def config(self) -> PlusofonConnectionConfig:
        """The connection's settings, read and validated (and the token masked) on first use."""
        conn = self.get_connection(self.plusofon_conn_id)
        if conn.password:
            mask_secrets([conn.password.strip(), conn.password])
        extra: Mapping[str, Any] = conn.extra_dejson or {}
        return PlusofonConnectionConfig(
            conn_id=self.plusofon_conn_id,
            base_url=base_url_of(conn.host, conn.schema, conn.port),
            client_id=str(conn.login or extra.get("client_id") or ""),
            token=conn.password or "",
            **options_from_extra(extra),
        )

    @cached_property
    def client(self) -> PlusofonClient:
        """The HTTP client, created (and the connection read) on first use."""
        return self._client_for(self.config)

    def _client_for(self, config: PlusofonConnectionConfig) -> PlusofonClient:
        return PlusofonClient(config, max_workers=self.max_workers, on_secrets=mask_secrets, logger=self.log)

    def get_conn(self, *, max_retries: int | None = None) -> PlusofonClient:
        """
        The HTTP client, as Airflow hooks conventionally return it.

        :param max_retries: a client with this retry budget instead of the connection's (for a
            check that should not hold a worker slot through backoff), sharing nothing but settings.
        """
        if max_retries is None:
            return self.client
        return self._client_for(dataclasses.replace(self.config, max_retries=max_retries))

    def list_webhooks(self, type: str | None = None) -> list[dict[str, Any]]:
        """
        Every webhook on the account, from every page (see :meth:`PlusofonClient.list_webhooks`).

        :param type: the documented list filter (e.g. ``"lk"``).
        """
        return self.client.list_webhooks(type)

    def get_webhook(self, webhook_id: int | str) -> dict[str, Any]:
        """
        One webhook's full detail view, with ``fields``, ``headers``, ``params`` and ``template``.

        :param webhook_id: the webhook's id (a positive integer, or its digits).
        """
        return self.client.get_webhook(webhook_id)

    def create_webhook(self, webhook: Mapping[str, Any]) -> dict[str, Any]:
        """
        Create a webhook and return it with the id the API does not send back.

        The body is validated like a spec before anything is sent. A create whose answer was
        lost is never sent twice: when the webhook is not in the list afterwards,
        :class:`~airflow_provider_plusofon.exceptions.CreateOutcomeUnknownError` is raised.

        :param webhook: the POST body (``url`` and ``event`` required).
        """
        spec = parse_spec(webhook)
        outcome = create_webhooks(self.client, [spec])
        if outcome.failures:
            raise outcome.failures[0][1]
        return {**spec.body(), **outcome.created[0][1]}

    def export_specs(self, *, rewrite_urls: Sequence[tuple[str, str]] = ()) -> Export:
        """
        The account's webhooks as specs that manage every field, secrets as ``{{ var.value.<name> }}``
        placeholders (see :func:`~airflow_provider_plusofon.webhooks.export.export_specs`).

        :param rewrite_urls: ``(old, new)`` URL prefixes to rewrite.
        """
        return export_specs(self.client, rewrite_urls=rewrite_urls)

    def update_webhook(self, webhook_id: int | str, webhook: Mapping[str, Any]) -> None:
        """
        Replace a webhook's fields: a PUT with the full body, as the API requires.

        :param webhook_id: the webhook's id.
        :param webhook: the full body, same fields as a create.
        """
        self.client.update_webhook(webhook_id, webhook)

    def delete_webhook(self, webhook_id: int | str, *, missing_ok: bool = False) -> None:
        """
        Delete a webhook.

        :param webhook_id: the webhook's id.
        :param missing_ok: treat an unknown id as already deleted instead of raising.
        """
        self.client.delete_webhook(webhook_id, missing_ok=missing_ok)

    def test_connection(self) -> tuple[bool, str]:
        """Check the Client ID and token with one cheap request. Never raises."""
        try:
            client = self.client
        except Exception as error:
            return False, str(error)
        return client.test_connection()
