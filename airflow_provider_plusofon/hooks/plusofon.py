"""PlusofonHook: an Airflow connection turned into a client for the Plusofon webhooks API."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import cached_property
from typing import Any, TypeVar

from airflow.sdk import BaseHook
from airflow.sdk.log import mask_secret

from airflow_provider_plusofon.exceptions import PlusofonConfigError
from airflow_provider_plusofon.hooks.client import (
    DEFAULT_BASE_URL,
    DEFAULT_MAX_WORKERS,
    WEBHOOKS_PATH,
    PlusofonClient,
    PlusofonConnectionConfig,
)

__all__ = ["WEBHOOKS_PATH", "PlusofonConnectionConfig", "PlusofonHook", "mask_values"]

T = TypeVar("T")
R = TypeVar("R")


def mask_values(values: Sequence[str]) -> None:
    """Register values (header values: they usually carry the receiving service's credentials)
    with Airflow's secret masker, in one call: inside a task each call is a message to the supervisor."""
    secrets: list[Any] = list(values)
    if secrets:
        mask_secret(secrets)


def _extra_option(extra: Mapping[str, Any], name: str) -> Any:
    # The Airflow 3 UI stores form fields under the plain key; older forms used a prefixed key.
    if name in extra:
        return extra[name]
    return extra.get(f"extra__plusofon__{name}")


def _as_bool(conn_id: str, name: str, value: Any) -> bool | str:
    if isinstance(value, bool):
        return value
    text = str(value).strip()
    if text.lower() in {"true", "1", "yes", "on"}:
        return True
    if text.lower() in {"false", "0", "no", "off"}:
        return False
    if text:
        return text  # requests accepts a CA bundle path for verify
    raise PlusofonConfigError(f"Connection {conn_id!r}: extra {name!r} must be true/false, got {value!r}")


def _as_number(conn_id: str, name: str, value: Any, kind: Callable[[Any], T], minimum: float) -> T:
    try:
        number = kind(value)
    except (TypeError, ValueError):
        raise PlusofonConfigError(f"Connection {conn_id!r}: extra {name!r} must be a number, got {value!r}") from None
    if number < minimum:  # type: ignore[operator]
        raise PlusofonConfigError(f"Connection {conn_id!r}: extra {name!r} must be >= {minimum}, got {value!r}")
    return number


def _base_url(host: str | None, schema: str | None, port: int | None) -> str:
    if not host:
        return DEFAULT_BASE_URL
    host = host.strip().rstrip("/")
    if "://" not in host:
        host = f"{schema or 'https'}://{host}"
    if port and not re.search(r":\d+$", host.split("://", 1)[1].split("/", 1)[0]):
        scheme, rest = host.split("://", 1)
        netloc, _, path = rest.partition("/")
        host = f"{scheme}://{netloc}:{port}" + (f"/{path}" if path else "")
    return host


class PlusofonHook(BaseHook):
    """
    Client for the Plusofon webhooks API, configured from an Airflow connection.

    Connection fields: ``login`` is the Client ID (sent as the ``Client`` header), ``password``
    the API token (sent as ``Authorization: Bearer ...``), ``host`` the base URL (default
    ``https://restapi.plusofon.ru``; a scheme and port are allowed, e.g. ``http://127.0.0.1:8765``).
    ``extra`` may hold ``client_id`` (used when login is empty), ``timeout`` (seconds, default 30),
    ``verify`` (TLS verification or a CA bundle path, default true) and ``max_retries`` (default 5).

    The HTTP work is done by a :class:`~airflow_provider_plusofon.hooks.client.PlusofonClient`
    (``get_conn()``): reads, updates and deletes are retried on connection errors, timeouts, 429
    and 5xx with backoff, a 429 pauses every request until its ``Retry-After``, and a create is
    never re-sent blindly. The token and every header value are registered with Airflow's
    secret masker before they can reach a log line.

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

    @cached_property
    def config(self) -> PlusofonConnectionConfig:
        """The connection's settings, loaded (and the token masked) on first use."""
        conn_id = self.plusofon_conn_id
        conn = self.get_connection(conn_id)
        extra = conn.extra_dejson or {}
        token = conn.password or ""
        if token:
            mask_secret(token)
        client_id = str(conn.login or _extra_option(extra, "client_id") or "").strip()
        missing = []
        if not client_id:
            missing.append("Client ID (the connection's login, or extra 'client_id')")
        if not token:
            missing.append("API token (the connection's password)")
        if missing:
            raise PlusofonConfigError(f"Connection {conn_id!r} is missing: {'; '.join(missing)}")

        # Options left empty keep PlusofonConnectionConfig's defaults.
        parsers: dict[str, Callable[[Any], Any]] = {
            "timeout": lambda value: _as_number(conn_id, "timeout", value, float, 0.001),
            "verify": lambda value: _as_bool(conn_id, "verify", value),
            "max_retries": lambda value: _as_number(conn_id, "max_retries", value, int, 0),
        }
        options = {
            name: parse(value)
            for name, parse in parsers.items()
            if (value := _extra_option(extra, name)) not in (None, "")
        }
        return PlusofonConnectionConfig(
            conn_id=conn_id,
            base_url=_base_url(conn.host, conn.schema, conn.port),
            client_id=client_id,
            token=token,
            **options,
        )

    @cached_property
    def client(self) -> PlusofonClient:
        """The HTTP client, created (and the connection read) on first use."""
        return PlusofonClient(self.config, max_workers=self.max_workers, mask_secrets=mask_values, logger=self.log)

    def get_conn(self) -> PlusofonClient:
        """The HTTP client, as Airflow hooks conventionally return it."""
        return self.client

    def map_concurrently(self, func: Callable[[T], R], items: Sequence[T]) -> list[R]:
        """Apply ``func`` to ``items`` on up to ``max_workers`` threads, keeping their order."""
        return self.client.map_concurrently(func, items)

    def list_webhooks(self, type: str | None = None) -> list[dict[str, Any]]:
        """
        Return every webhook on the account, from every page (the others fetched concurrently
        once page 1 tells ``last_page``; the paginator's links are never followed).

        :param type: the documented list filter (e.g. ``"lk"``).
        :return: list items (``id``, ``url``, ``type_call``, ``type``, ``event``), each id once.
        """
        return self.client.list_webhooks(type)

    def get_webhook(self, webhook_id: int | str) -> dict[str, Any]:
        """
        Return one webhook's full detail view (with ``fields``, ``headers``, ``params`` ...).

        :param webhook_id: the webhook's id.
        """
        return self.client.get_webhook(webhook_id)

    def get_webhooks(self, webhook_ids: Iterable[int | str]) -> dict[Any, dict[str, Any]]:
        """
        Return the detail views of several webhooks, fetched concurrently.

        :param webhook_ids: ids to fetch.
        :return: a mapping of id to detail view.
        """
        return self.client.get_webhooks(webhook_ids)

    def create_webhook(self, webhook: Mapping[str, Any]) -> dict[str, Any]:
        """
        Create a webhook and return it with the id the API does not send back.

        :param webhook: the POST body (``url`` and ``event`` required).
        """
        return self.client.create_webhook(webhook)

    def create_webhooks(
        self, webhooks: Sequence[Mapping[str, Any]], *, existing: Sequence[Mapping[str, Any]] | None = None
    ) -> list[dict[str, Any]]:
        """
        Create several webhooks and return them, in order, with their new ids (found by content
        among the ids that were not there before). A lost answer never leads to a duplicate.

        :param webhooks: POST bodies.
        :param existing: the account's list as the caller just read it, to save one listing.
        :raises CreateWebhooksError: when some creates failed; it carries those that succeeded.
        """
        return self.client.create_webhooks(webhooks, existing=existing)

    def update_webhook(self, webhook_id: int | str, webhook: Mapping[str, Any]) -> None:
        """
        Replace a webhook's fields (PUT with the full body, as the API requires).

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
