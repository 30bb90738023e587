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
from airflow_provider_plusofon.exceptions import CreateOutcomeUnknownError, PlusofonAPIError, PlusofonError
from airflow_provider_plusofon.webhooks.spec import WebhookSpec

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CreateOutcome:
    """
    What a batch of creates did, by the position of each spec in the batch.

    :param created: ``(position, webhook)`` for each spec that was created: the listed webhook
        with its new id (``id`` is ``None`` when the API accepted it but the id is unknown).
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

    The new ids are matched on identity among the ids that were not there before (the lowest
    new id first). A create whose answer was lost (reset, timeout, 5xx) is looked for in that
    listing; when it is not there it is reported as :class:`CreateOutcomeUnknownError` and never
    sent again in this run, since a store that lags its answers could still add it.

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
        listed = _listing_with(client, [specs[i] for i in accepted], len(looked_for), before)
    except PlusofonError as lookup_error:
        # The accepted creates are done, only their ids are unknown; the others' outcome is unknown.
        created = [(i, _unidentified(specs[i])) for i in accepted]
        failures += [(i, _lookup_failed(lookup_error)) for i in accepted]
        failures += [(i, _outcome_unknown(lookup_error)) for i in sorted(maybe)]
        return CreateOutcome(created, failures)

    created = []
    for i, match in zip(looked_for, _match_new([specs[i] for i in looked_for], listed, before), strict=True):
        if match is not None:
            if i in maybe:
                log.warning("The answer to the create of %s was lost, but the webhook was stored", specs[i].label)
            created.append((i, match))
        elif i in maybe:
            failures.append((i, _outcome_unknown(None)))
        else:
            created.append((i, _unidentified(specs[i])))
            failures.append((i, _not_listed()))
    return CreateOutcome(created, failures)


def _listing_with(
    client: PlusofonClient, accepted: Sequence[WebhookSpec], newest: int, before: set[Any]
) -> list[dict[str, Any]]:
    """The account read from the last page back until every accepted create has a new id in it."""
    listed: list[dict[str, Any]] = []
    for listed in client.list_newest_first(newest):
        if None not in _match_new(accepted, listed, before):
            break
    return listed


def _match_new(
    specs: Sequence[WebhookSpec], items: Sequence[Mapping[str, Any]], before: set[Any]
) -> list[dict[str, Any] | None]:
    """For each spec, the lowest new id with its identity not taken by an earlier spec."""
    new = sorted((item for item in items if item["id"] not in before), key=lambda item: item["id"])
    taken: set[Any] = set()
    matched: list[dict[str, Any] | None] = []
    for spec in specs:
        match = next((item for item in new if item["id"] not in taken and spec.matches(item)), None)
        if match is not None:
            taken.add(match["id"])
        matched.append(None if match is None else dict(match))
    return matched


def _unidentified(spec: WebhookSpec) -> dict[str, Any]:
    return {"id": None, "url": spec.url, "event": spec.event, "type_call": spec.type_call}


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
