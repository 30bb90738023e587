"""A Plusofon account's webhooks as Airflow assets (issue 23): the URI scheme ``plusofon``.

- ``plusofon://<client_id>/webhooks``: the account's webhooks;
- ``plusofon://<client_id>/webhooks/drift``: they drifted from what is declared (a watcher's events);
- ``plusofon://<client_id>/webhooks/changes``: a task changed them (a repair's events), apart from
  the drift asset so that a repair does not start another repair.

Airflow normalises every asset URI with the handler its scheme's provider registers
(``asset-uris`` in :func:`airflow_provider_plusofon.get_provider_info`): this module's
:func:`normalize_asset_uri`. It imports nothing of Airflow at module level: Airflow imports it
wherever a ``plusofon://`` URI is built.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any
from urllib.parse import SplitResult

if TYPE_CHECKING:
    from airflow.sdk import Asset

SCHEME = "plusofon"
# What follows /webhooks: the kinds of asset an account has.
KINDS = ("", "drift", "changes")
_CLIENT_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def asset_uri(client_id: str, kind: str = "") -> str:
    """The asset URI of an account's webhooks (``kind``: ``""``, ``"drift"`` or ``"changes"``)."""
    path = "/webhooks" + (f"/{kind}" if kind else "")
    return normalize_asset_uri(SplitResult(SCHEME, str(client_id), path, "", "")).geturl()


def normalize_asset_uri(parts: SplitResult) -> SplitResult:
    """
    The one spelling of a ``plusofon://`` URI: the Client ID as the host, ``/webhooks`` (or
    ``/webhooks/drift``, ``/webhooks/changes``) as the path, lowercase, nothing else.

    :raises ValueError: naming what is wrong, for any other URI of the scheme.
    """
    client_id = parts.netloc.rsplit("@", 1)[-1]
    if not _CLIENT_ID.match(client_id):
        raise ValueError(
            f"a plusofon:// asset URI names the account's Client ID as its host (letters, digits, - or _), "
            f"not {client_id[:40]!r}: plusofon://<client_id>/webhooks"
        )
    path = parts.path.rstrip("/").lower()
    kind = path.removeprefix("/webhooks").lstrip("/") if path.startswith("/webhooks") else None
    if kind not in KINDS:
        raise ValueError(
            "a plusofon:// asset URI's path is /webhooks, /webhooks/drift or /webhooks/changes, "
            f"not {parts.path[:60]!r}"
        )
    if parts.query:
        raise ValueError("a plusofon:// asset URI takes no query")
    return SplitResult(SCHEME, client_id, "/webhooks" + (f"/{kind}" if kind else ""), "", "")


def create_asset(*, client_id: str, kind: str = "", extra: dict[str, Any] | None = None) -> Asset:
    """The asset of an account's webhooks, for Airflow's lineage (the ``factory`` of the scheme).

    :param client_id: the account's Client ID.
    :param kind: ``""`` (the webhooks), ``"drift"`` or ``"changes"``.
    :param extra: the asset's extra.
    """
    from airflow.sdk import Asset

    return Asset(uri=asset_uri(client_id, kind), extra=extra or {})
