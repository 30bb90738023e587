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
from dataclasses import asdict, dataclass, replace
from typing import Any

import pendulum

from airflow_provider_plusofon.redaction import MAX_SHOWN_CHARS, redact_url
from airflow_provider_plusofon.webhooks.spec import IDENTITY_FIELDS


@dataclass(frozen=True)
class DriftState:
    """
    What a watcher remembers between reads (and what the Plusofon page in Airflow's UI shows of it).

    :param episode: the digest of the drift last reported; ``None`` while the account matches.
    :param last_matching_at: when the account was last seen matching its specs (ISO 8601, UTC).
    :param detected_at: when the drift last reported was seen (an episode that grows is reported again).
    :param reported: what drifted in this episode and was reported (as :func:`drift_items`).
    :param drifted_since: when this episode began: the first read that saw it drift.
    :param last_read_at: the last read of the account that succeeded.
    :param last_error: why the last read failed, when it did (cleared by the next read that succeeds).
    :param last_error_at: when that failure was first seen.
    :param client_id: the account's Client ID (the state of a watcher kept in a Variable names it).
    :param poll_interval: the watcher's seconds between reads (to tell a silent watcher from a slow one).
    :param declared: which declaration it watches (see :func:`~.outcome.declaration_of`).
    """

    episode: str | None = None
    last_matching_at: str | None = None
    detected_at: str | None = None
    reported: tuple[str, ...] = ()
    drifted_since: str | None = None
    last_read_at: str | None = None
    last_error: str | None = None
    last_error_at: str | None = None
    client_id: str | None = None
    poll_interval: float | None = None
    declared: str | None = None

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
        # What a store or a Variable holds may have been edited by hand: a time that is none is unknown,
        # a text that is none is left out.
        times = {k: iso_time(stored.get(k)) for k in _TIMES}
        texts = {
            k: v if isinstance(v := stored.get(k), str) else None
            for k in ("episode", "last_error", "client_id", "declared")
        }
        interval = stored.get("poll_interval")
        interval = float(interval) if isinstance(interval, int | float) and not isinstance(interval, bool) else None
        return cls(**texts, **times, reported=items, poll_interval=interval)


_TIMES = ("last_matching_at", "detected_at", "drifted_since", "last_read_at", "last_error_at")


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
    at = _at(now)
    drifted = what_drifted(result)
    episode = episode_of(drifted)
    read = replace(state or DriftState(), last_read_at=at, last_error=None, last_error_at=None)
    if episode is None:
        return replace(read, episode=None, last_matching_at=at, detected_at=None, reported=(), drifted_since=None), None
    items = drift_items(drifted)
    reported = read.reported if read.episode is not None else ()
    if set(items) <= set(reported):  # the same drift, or less of it
        return read, None
    # An episode that grows began when it began (a state kept before 0.2 knows only its last report).
    since = (read.drifted_since or read.detected_at or at) if read.episode is not None else at
    event = {
        "status": "drift",
        "episode": episode,
        "plan_id": plan_id,
        **drifted,
        "detected_at": at,
        "drifted_since": since,
        "last_matching_at": read.last_matching_at,
    }
    kept = replace(
        read, episode=episode, detected_at=at, reported=tuple(sorted({*reported, *items})), drifted_since=since
    )
    return kept, event


def read_failed(state: DriftState | None, reason: str, now: pendulum.DateTime | None = None) -> DriftState:
    """
    The watcher's state after a read that failed: what it knew, and why this read failed (cut to
    300 characters; the time is that of the first failure with this reason).

    :param reason: the error, as the watcher logs it (already free of secrets).
    """
    base = state or DriftState()
    reason = reason[:MAX_SHOWN_CHARS]
    if base.last_error == reason:
        return base
    return replace(base, last_error=reason, last_error_at=_at(now))


def _at(now: pendulum.DateTime | None) -> str:
    return (now or pendulum.now("UTC")).in_timezone("UTC").isoformat()
