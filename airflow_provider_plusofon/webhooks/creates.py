"""Creates and the ids the API does not send back: never one sent twice. No Airflow import here.

The API answers a create with ``{"success": true}`` only, so the new ids are found by listing
after the writes and matching on identity among the ids that were not there before. A create
whose answer was lost may have been stored, so it is looked for there too, and never re-sent.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from airflow_provider_plusofon.api import PlusofonClient
from airflow_provider_plusofon.api.ids import WEBHOOKS_PATH
from airflow_provider_plusofon.exceptions import (
    AmbiguousWebhookError,
    CreateOutcomeUnknownError,
    PlusofonAPIError,
    PlusofonError,
)
from airflow_provider_plusofon.webhooks.spec import WebhookSpec

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CreateOutcome:
    """
    What a batch of creates did, by the position of each spec in the batch.

    :param created: ``(position, webhook)`` for each spec that was created: the listed webhook
        with its new id (``id`` is ``None`` when the API accepted it but the id is unknown, with
        ``copies`` when several new webhooks have its identity).
    :param failures: ``(position, error)`` for each spec not known to be created, and for each
        created one whose id could not be looked up.
    """

    created: list[tuple[int, dict[str, Any]]]
    failures: list[tuple[int, PlusofonError]]


def create_webhooks(
    client: PlusofonClient, specs: Sequence[WebhookSpec], *, known_ids: Iterable[Any] | None = None
) -> CreateOutcome:
    """
    Create webhooks and find their new ids, never sending one twice.

    The new ids are matched on identity among the ids that were not there before. A create whose
    answer was lost (reset, timeout, 5xx) is looked for in that listing, on every page; when it is
    not there it is reported as :class:`CreateOutcomeUnknownError` and never sent again in this
    run, since a store that lags its answers could still add it. When several new webhooks have a
    spec's identity, another writer created it too: no id is claimed (which copy is this run's
    cannot be told), the copies are reported, and the spec fails with :class:`AmbiguousWebhookError`.

    :param specs: what to create.
    :param known_ids: the ids on the account before (saves one listing when the caller has them).
    """
    if not specs:
        return CreateOutcome([], [])
    before = set(known_ids) if known_ids is not None else {w["id"] for w in client.list_webhooks()}
    errors = client.post_webhooks([spec.body() for spec in specs])
    accepted = [i for i, error in enumerate(errors) if error is None]
    maybe = {i for i, error in enumerate(errors) if error is not None and error.may_have_taken_effect}
    failures = [(i, e) for i, e in enumerate(errors) if e is not None and i not in maybe]
    looked_for = accepted + sorted(maybe)
    if not looked_for:
        return CreateOutcome([], failures)
    try:
        listed = _listing_with(client, [specs[i] for i in looked_for], len(looked_for), before)
    except PlusofonError as lookup_error:
        # The accepted creates are done, only their ids are unknown; the others' outcome is unknown.
        created = [(i, _unidentified(specs[i])) for i in accepted]
        failures += [(i, _lookup_failed(lookup_error)) for i in accepted]
        failures += [(i, _outcome_unknown(lookup_error)) for i in sorted(maybe)]
        return CreateOutcome(created, failures)

    created = []
    new = _new(listed, before)
    for i in looked_for:
        copies = [item for item in new if specs[i].matches(item)]
        if len(copies) > 1:
            # Another writer made the same webhook meanwhile: which copy is ours cannot be told.
            created.append((i, {**_unidentified(specs[i]), "copies": [item["id"] for item in copies]}))
            failures.append((i, _copies(specs[i], copies, lost=i in maybe)))
        elif copies:
            if i in maybe:
                log.warning("The answer to the create of %s was lost, but the webhook was stored", specs[i].label)
            created.append((i, dict(copies[0])))
        elif i in maybe:
            failures.append((i, _outcome_unknown(None)))
        else:
            created.append((i, _unidentified(specs[i])))
            failures.append((i, _not_listed()))
    return CreateOutcome(created, failures)


def _listing_with(
    client: PlusofonClient, looked_for: Sequence[WebhookSpec], newest: int, before: set[Any]
) -> list[dict[str, Any]]:
    """
    The account read from the last page back until each spec looked for has a new webhook in it.
    A create whose answer was lost may not be stored at all: when one is still missing once every
    page was read, the whole list is read again as one consistent read, so that a webhook that
    moved between pages meanwhile is not missed.
    """
    for listed in client.list_newest_first(newest):
        if _all_found(looked_for, listed, before):
            return listed
    return client.list_webhooks()


def _new(items: Sequence[Mapping[str, Any]], before: set[Any]) -> list[Mapping[str, Any]]:
    return sorted((item for item in items if item["id"] not in before), key=lambda item: item["id"])


def _all_found(specs: Sequence[WebhookSpec], items: Sequence[Mapping[str, Any]], before: set[Any]) -> bool:
    new = _new(items, before)
    return all(any(spec.matches(item) for item in new) for spec in specs)


def _unidentified(spec: WebhookSpec) -> dict[str, Any]:
    return {"id": None, "url": spec.url, "event": spec.event, "type_call": spec.type_call}


def _copies(spec: WebhookSpec, copies: Sequence[Mapping[str, Any]], *, lost: bool) -> AmbiguousWebhookError:
    ids = ", ".join(f"#{item['id']}" for item in copies)
    ours = "it may be among them (its answer was lost)" if lost else "one of them is this run's"
    return AmbiguousWebhookError(
        f"{len(copies)} webhooks with the identity of {spec.label} appeared while it was created ({ids}): "
        f"another writer created it too, and {ours}. Serialise the writers of this account (a pool of one slot), "
        "then remove the extras (prune=True, or dedupe=True)"
    )


def _lookup_failed(error: PlusofonError) -> PlusofonAPIError:
    return PlusofonAPIError(
        f"the webhook was created, but its id could not be looked up: {error}", method="POST", path=WEBHOOKS_PATH
    )


def _not_listed() -> PlusofonAPIError:
    return PlusofonAPIError(
        "the API accepted the webhook but it is not in the list afterwards", method="POST", path=WEBHOOKS_PATH
    )


def _outcome_unknown(lookup_error: PlusofonError | None) -> PlusofonAPIError:
    looked = f"the list could not be read ({lookup_error})" if lookup_error else "it is not in the list"
    return CreateOutcomeUnknownError(
        f"create outcome unknown: the answer was lost and {looked}. It may still appear, so it was not sent "
        "again (that could make a duplicate); run the task again, it plans afresh",
        method="POST",
        path=WEBHOOKS_PATH,
    )
