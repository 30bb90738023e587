"""Drift episodes: what a watcher of an account reports, and when (issue 23). No I/O, no Airflow.

A watcher reads the account again and again (see :mod:`.watch`). It must say so once when the
account drifts from its specs, not on every read while the same drift persists, nor again when the
triggerer restarts or re-creates it after an event; and again when the drift changes. So each read
goes through :func:`observe` with what the watcher remembers (:class:`DriftState`, JSON-able for
wherever the release lets it keep state), which returns the new state and the event to emit, if any.
An episode is named by a digest of what drifted (identities and field names), never by values.

An episode lasts until the account matches again, and within one a read reports again only when
something drifted that was not reported yet: a repair changes the account one webhook at a time,
and a read between its writes (or a read that lists before and fetches details after a write)
sees less drift than was reported. That is progress, not a new drift to repair.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import pendulum

from airflow_provider_plusofon.redaction import redact_url
from airflow_provider_plusofon.webhooks.spec import IDENTITY_FIELDS


@dataclass(frozen=True)
class DriftState:
    """
    What a watcher remembers between reads.

    :param episode: the digest of the drift last reported; ``None`` while the account matches.
    :param last_matching_at: when the account was last seen matching its specs (ISO 8601, UTC).
    :param detected_at: when the reported drift was first seen.
    :param reported: what drifted in this episode and was reported (as :func:`drift_items`).
    """

    episode: str | None = None
    last_matching_at: str | None = None
    detected_at: str | None = None
    reported: tuple[str, ...] = ()

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str | None) -> DriftState | None:
        """The state stored as :meth:`to_json` wrote it; ``None`` for nothing, or for what is not one."""
        try:
            stored = json.loads(text) if text else None
        except ValueError:
            return None
        if not isinstance(stored, dict):
            return None
        reported = stored.get("reported")
        items = tuple(str(item) for item in reported) if isinstance(reported, list) else ()
        episode = stored.get("episode")
        # What a store or a Variable holds may have been edited by hand: a time that is none is unknown.
        times = {k: iso_time(stored.get(k)) for k in ("last_matching_at", "detected_at")}
        return cls(episode if isinstance(episode, str) else None, **times, reported=items)


def read_time(value: Any) -> pendulum.DateTime | None:
    """An ISO 8601 time (in UTC), or ``None`` for anything that is not one."""
    if not isinstance(value, str):
        return None
    try:
        parsed = pendulum.parse(value)
    except (ValueError, TypeError, OverflowError):
        return None
    return parsed.in_timezone("UTC") if isinstance(parsed, pendulum.DateTime) else None


def iso_time(value: Any) -> str | None:
    """``value`` when it is an ISO 8601 time, else ``None``."""
    return value if read_time(value) is not None else None


def _identity(item: Mapping[str, Any]) -> dict[str, Any]:
    identity = {name: item.get(name) for name in IDENTITY_FIELDS}
    return {**identity, "url": redact_url(str(identity["url"]))}


def what_drifted(result: Mapping[str, Any]) -> dict[str, Any]:
    """A check's drift as identities and field names (see ``Plan.requirements``; ``duplicates`` if given)."""
    return {
        "missing": sorted((_identity(item) for item in result.get("missing") or []), key=json.dumps),
        "different": sorted(
            (
                {**_identity(item), "fields": sorted(item.get("changes") or {})}
                for item in result.get("different") or []
            ),
            key=json.dumps,
        ),
        "duplicates": sorted(redact_url(label) for label in (result.get("duplicates") or {})),
    }


def drift_items(drifted: Mapping[str, Any]) -> tuple[str, ...]:
    """What drifted, one string per missing, different or duplicated spec, to compare reads by."""
    return tuple(sorted(json.dumps([kind, item], sort_keys=True) for kind, items in drifted.items() for item in items))


def episode_of(drifted: Mapping[str, Any]) -> str | None:
    """The digest naming a drift; ``None`` when nothing drifted."""
    if not any(drifted.values()):
        return None
    return "drift-" + hashlib.sha256(json.dumps(drifted, sort_keys=True).encode()).hexdigest()[:24]


def observe(
    state: DriftState | None,
    result: Mapping[str, Any],
    now: pendulum.DateTime | None = None,
    plan_id: str | None = None,
) -> tuple[DriftState, dict[str, Any] | None]:
    """
    The watcher's new state after one read, and the event to emit (``None``: nothing new).

    :param state: what the watcher remembered (``None`` the first time, or when nothing was kept).
    :param result: the read's check (``Plan.requirements()``, with ``duplicates`` when known).
    :param now: when the read was made (default: now, UTC).
    :param plan_id: the id of the plan that would repair it, told in the event.
    """
    at = (now or pendulum.now("UTC")).in_timezone("UTC").isoformat()
    drifted = what_drifted(result)
    episode = episode_of(drifted)
    last_matching = state.last_matching_at if state else None
    if episode is None:
        return DriftState(None, at, None), None
    items = drift_items(drifted)
    reported = state.reported if state is not None and state.episode is not None else ()
    if state is not None and set(items) <= set(reported):  # the same drift, or less of it
        return state, None
    event = {
        "status": "drift",
        "episode": episode,
        "plan_id": plan_id,
        **drifted,
        "detected_at": at,
        "last_matching_at": last_matching,
    }
    return DriftState(episode, last_matching, at, tuple(sorted({*reported, *items}))), event
