"""PlusofonHook: an Airflow connection turned into a client for the Plusofon webhooks API."""

from __future__ import annotations

import copy
import dataclasses
import json
import os
from collections.abc import Mapping, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow_provider_plusofon.api.concurrency import DEFAULT_MAX_WORKERS
from airflow_provider_plusofon.api.settings import (
    FIELD_BEHAVIOUR,
    SETTINGS,
    PlusofonConnectionConfig,
    base_url_of,
    options_from_extra,
)
from airflow_provider_plusofon.compat import BaseHook
from airflow_provider_plusofon.exceptions import PlusofonConfigError
from airflow_provider_plusofon.hooks.masking import mask_secrets
from airflow_provider_plusofon.redaction import shape

if TYPE_CHECKING:
    # The client and the core load on first use, not while the scheduler parses a DAG.
    from airflow_provider_plusofon.api import PlusofonClient
    from airflow_provider_plusofon.webhooks.export import Export

__all__ = ["DEFAULT_MAX_WORKERS", "PlusofonHook"]


def environment_connection_problem(conn_id: str) -> str | None:
    """
    What is wrong with ``AIRFLOW_CONN_<CONN_ID>`` when Airflow cannot read it: not JSON (where),
    or not a connection URI. ``None`` when the variable is not set or reads fine. Never its value.
    """
    name = f"AIRFLOW_CONN_{conn_id.upper()}"
    value = os.environ.get(name)
    if value is None:
        return None
    text = value.strip()
    if text.startswith("{"):
        try:
            fields = json.loads(text)
        except json.JSONDecodeError as error:
            return f"{name} is set but is not valid JSON (line {error.lineno}, column {error.colno}: {error.msg})"
        extra = fields.get("extra") if isinstance(fields, dict) else None
        if isinstance(extra, str) and extra.strip():  # Airflow 3.0 refuses such a connection whole
            try:
                _extra_object(extra, conn_id)
            except PlusofonConfigError as error:
                return str(error)
        return None
    scheme, separator, rest = text.partition("://")
    if not separator or not scheme.replace("-", "").replace("_", "").isalnum() or "://" in rest.split("?", 1)[0]:
        return (
            f"{name} is set but is neither JSON nor a connection URI "
            "(plusofon://LOGIN:PASSWORD@HOST:PORT/?timeout=30, with special characters percent-encoded)"
        )
    return None


def client_id_of(login: str | None, extra: Mapping[str, Any]) -> str:
    """An account's Client ID from its connection: the login, else the extra's ``client_id`` (the
    hook's rule, and the Plusofon page's for telling which account a connection is)."""
    return str(login or extra.get("client_id") or "")


def _extra_of(conn: Any, conn_id: str) -> Mapping[str, Any]:
    """The connection's extra as a mapping; extra that is not a JSON object is a configuration
    error (Airflow would log a traceback and go on with the defaults)."""
    raw = conn.extra
    if raw in (None, ""):
        return {}
    if isinstance(raw, Mapping):
        return raw
    return _extra_object(raw, conn_id)


def _extra_object(raw: Any, conn_id: str) -> Mapping[str, Any]:
    try:
        extra = json.loads(raw)
    except (TypeError, json.JSONDecodeError) as error:
        where = (
            f" (line {error.lineno}, column {error.colno}: {error.msg})"
            if isinstance(error, json.JSONDecodeError)
            else ""
        )
        raise PlusofonConfigError(f"Connection {conn_id!r}: its extra is not valid JSON{where}") from None
    if not isinstance(extra, Mapping):
        raise PlusofonConfigError(f"Connection {conn_id!r}: its extra must be a JSON object, got {shape(extra)}")
    return extra


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
        conn = self._read_connection()
        if conn.password:
            mask_secrets([conn.password.strip(), conn.password])
        extra = _extra_of(conn, self.plusofon_conn_id)
        return PlusofonConnectionConfig(
            conn_id=self.plusofon_conn_id,
            base_url=base_url_of(conn.host, conn.schema, conn.port),
            client_id=client_id_of(conn.login, extra),
            token=conn.password or "",
            **options_from_extra(extra),
        )

    def _read_connection(self) -> Any:
        try:
            return self.get_connection(self.plusofon_conn_id)
        except Exception as error:
            # "isn't defined" also when the connection is in the environment but Airflow cannot
            # read it: say what is wrong with it, never what it holds.
            problem = environment_connection_problem(self.plusofon_conn_id)
            if problem is None:
                raise
            raise PlusofonConfigError(problem) from error

    @cached_property
    def client(self) -> PlusofonClient:
        """The HTTP client, created (and the connection read) on first use."""
        return self._client_for(self.config)

    def _client_for(self, config: PlusofonConnectionConfig) -> PlusofonClient:
        from airflow_provider_plusofon.api import PlusofonClient

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
        Every webhook on the account, from every page
        (see :meth:`~airflow_provider_plusofon.api.PlusofonClient.list_webhooks`).

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
        from airflow_provider_plusofon.webhooks.creates import create_webhooks
        from airflow_provider_plusofon.webhooks.spec import parse_spec

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
        from airflow_provider_plusofon.webhooks.export import export_specs

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
