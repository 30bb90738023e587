"""What Airflow recorded about an account, as plain data: the view model's input (issue 35). No Airflow here.

:mod:`.records` reads Airflow's models into these; :mod:`.rows` and :mod:`.episodes` turn them into
what the pages say. Each thing recorded becomes an :class:`Evidence`: a moment at which the provider
knew the account to be matching, drifted, repaired, stale (an approved plan gone out of date) or
unknown (a read that failed). They come from:

- the ``plusofon_outcome`` XCom of every ``EnsureWebhooksOperator`` run (an audit or a repair);
- the drift watcher: its events on ``plusofon://<client_id>/webhooks/drift`` and the state it keeps;
- the changes events on ``plusofon://<client_id>/webhooks/changes`` (a repair, and its lost-call window).

Everything here is recorded by someone else and shown to a person: every value is read defensively
(a time that is not one is unknown, text is cut), and URLs lose their credentials.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_plusofon.redaction import MAX_SHOWN_CHARS, redact_url
from airflow_provider_plusofon.webhooks.drift import DriftState, read_time
from airflow_provider_plusofon.webhooks.outcome import OUTCOMES

UTC = datetime.timezone.utc

MATCHING, DRIFTED, REPAIRED, STALE, FAILED = OUTCOMES
# How long a drift watcher may be silent before the page says it is not reading: three times what
# it keeps its last read at most every (5 minutes) or its poll interval, whichever is longer.
SILENT_AFTER_KEEPS = 3
KEPT_EVERY_SECONDS = 300.0


@dataclass(frozen=True)
class RunRef:
    """Where something was recorded: a DAG run, and the task in it (when one)."""

    dag_id: str
    run_id: str
    task_id: str | None = None
    map_index: int = -1
    state: str | None = None


@dataclass(frozen=True)
class Window:
    """The lost-call window a repair handed to the pipelines, and the runs it started."""

    start: datetime.datetime | None
    end: datetime.datetime | None
    start_from: str | None
    backfills: tuple[RunRef, ...] = ()


@dataclass(frozen=True)
class Evidence:
    """
    One moment at which the provider knew something about an account.

    :param at: when.
    :param source: ``audit`` (an ensure run's record), ``watcher`` (the drift watcher) or ``changes``
        (a changes event).
    :param status: ``matching``, ``drifted``, ``repaired``, ``stale`` or ``failed``.
    :param since: when the drift it reports began, when the source knows better than ``at``.
    :param writes: how many writes the plan has (the repair had).
    :param drift: what drifted: ``missing``, ``different``, ``duplicates``, ``undeclared``.
    :param declared: which declaration of the account it is about (``None``: not known).
    """

    at: datetime.datetime
    source: str
    status: str
    since: datetime.datetime | None = None
    plan_id: str | None = None
    approved_plan_id: str | None = None
    writes: int = 0
    drift: Mapping[str, Any] = field(default_factory=dict)
    error: str | None = None
    run: RunRef | None = None
    window: Window | None = None
    dry_run: bool = False
    declared: str | None = None

    @property
    def drifted(self) -> bool:
        return self.status in (DRIFTED, STALE)

    @property
    def clean(self) -> bool:
        return self.status in (MATCHING, REPAIRED)


@dataclass(frozen=True)
class Approval:
    """An approval (human-in-the-loop) task: asked, and perhaps answered."""

    run: RunRef
    asked_at: datetime.datetime
    answered_at: datetime.datetime | None = None
    chosen: tuple[str, ...] = ()
    by: str | None = None

    @property
    def pending(self) -> bool:
        return self.answered_at is None

    @property
    def approved(self) -> bool:
        return any(option.strip().lower().startswith("approve") for option in self.chosen)


@dataclass(frozen=True)
class Watcher:
    """A drift watcher's kept state, and where it is kept."""

    state: DriftState
    kept_in: str

    @property
    def last_read(self) -> datetime.datetime | None:
        return moment(self.state.last_read_at) or moment(self.state.last_matching_at)

    def silent(self, now: datetime.datetime) -> bool:
        """Whether it has not read the account for longer than it would keep quiet."""
        last = self.last_read or moment(self.state.last_error_at)
        if last is None:
            return False
        every = max(KEPT_EVERY_SECONDS, self.state.poll_interval or 0.0)
        return bool((now - last).total_seconds() > SILENT_AFTER_KEEPS * every)


@dataclass(frozen=True)
class Account:
    """An account the deployment knows: by its connections, its assets, or what was recorded about it."""

    client_id: str
    conn_ids: tuple[str, ...] = ()
    descriptions: tuple[str, ...] = ()
    assets: tuple[str, ...] = ()


@dataclass(frozen=True)
class EventLine:
    """An asset event, as the account page lists it."""

    at: datetime.datetime
    kind: str
    summary: str
    source: RunRef | None = None


def moment(value: Any) -> datetime.datetime | None:
    """A recorded time (ISO 8601 text) as a UTC time, or ``None`` for anything that is not one; what
    this package writes is read the quick way (a page reads thousands), anything else as the core does."""
    if isinstance(value, str):
        try:
            quick = datetime.datetime.fromisoformat(value)
        except ValueError:
            quick = None
        if quick is not None and quick.tzinfo is not None:
            return quick.astimezone(UTC)
    found = read_time(value)
    return datetime.datetime.fromtimestamp(found.timestamp(), UTC) if found is not None else None


def text(value: Any, limit: int = MAX_SHOWN_CHARS) -> str | None:
    """A recorded value as text to show (cut), or ``None``."""
    if value is None:
        return None
    return str(value)[:limit]


def _identity(item: Any) -> dict[str, Any] | None:
    if not isinstance(item, Mapping):
        return None
    shown: dict[str, Any] = {k: text(item.get(k), 200) for k in ("url", "event", "type_call")}
    shown["url"] = text(redact_url(shown["url"]), 200)
    if isinstance(item.get("fields"), list):
        shown["fields"] = [str(f)[:40] for f in item["fields"][:20]]
    if item.get("id") is not None:
        shown["id"] = text(item.get("id"), 20)
    return shown


def drift_of(raw: Any) -> dict[str, list[Any]]:
    """What drifted, from a record or an event (``missing``, ``different``, ``duplicates``, ``undeclared``)."""
    raw = raw if isinstance(raw, Mapping) else {}
    found: dict[str, list[Any]] = {}
    for kind in ("missing", "different", "undeclared"):
        items = raw.get(kind)
        found[kind] = [i for i in map(_identity, items if isinstance(items, list) else []) if i is not None][:50]
    duplicates = raw.get("duplicates")
    found["duplicates"] = [text(redact_url(str(d)), 200) for d in (duplicates if isinstance(duplicates, list) else [])][
        :50
    ]
    return found


def _writes(raw: Any) -> int:
    if not isinstance(raw, Mapping):
        return 0
    return sum(v for k in ("created", "updated", "deleted") if isinstance(v := raw.get(k), int) and v > 0)


def declared_specs(value: Any) -> tuple[list[dict[str, Any]], int]:
    """An ensure run's ``plusofon_specs`` record: the declared webhooks beside what the account held,
    as the account page shows them, and how many were declared."""
    value = value if isinstance(value, Mapping) else {}
    raw, total = value.get("specs"), value.get("specs_total")
    shown = []
    for spec in raw[:100] if isinstance(raw, list) else []:
        identity = _identity(spec)
        fields = spec.get("fields") if isinstance(spec, Mapping) else None
        if identity is None or not isinstance(fields, list):
            continue
        rows = [[text(f[0], 40), text(f[1]), text(f[2])] for f in fields if isinstance(f, list) and len(f) == 3]
        shown.append({"id": None, **identity, "status": text(spec.get("status"), 20), "fields": rows})
    return shown, total if isinstance(total, int) else len(shown)


def record_evidence(value: Any, run: RunRef, at: datetime.datetime) -> Evidence | None:
    """The evidence of an ensure run's ``plusofon_outcome`` record (``None``: not one)."""
    if not isinstance(value, Mapping) or value.get("outcome") not in OUTCOMES:
        return None
    return Evidence(
        at=moment(value.get("at")) or at,
        source="audit",
        status=str(value["outcome"]),
        plan_id=text(value.get("plan_id"), 64),
        approved_plan_id=text(value.get("approved_plan_id"), 64),
        writes=_writes(value.get("writes")),
        drift=drift_of(value.get("drift")),
        error=text(value.get("error")),
        run=run,
        dry_run=value.get("dry_run") is True,
        declared=text(value.get("declared"), 40),
    )


def drift_event_evidence(extra: Any, at: datetime.datetime, run: RunRef | None = None) -> Evidence | None:
    """The evidence of a drift watcher's event (its extra holds the trigger's payload)."""
    payload = extra.get("payload") if isinstance(extra, Mapping) else None
    if not isinstance(payload, Mapping) or payload.get("status") != "drift":
        return None
    since = moment(payload.get("drifted_since")) or moment(payload.get("detected_at"))
    return Evidence(
        at=at, source="watcher", status=DRIFTED, since=since, plan_id=text(payload.get("plan_id"), 64),
        drift=drift_of(payload), run=run, declared=text(payload.get("declared"), 40),
    )  # fmt: skip


def changes_event_evidence(extra: Any, at: datetime.datetime, run: RunRef | None, backfills=()) -> Evidence | None:
    """The evidence of a changes event: a repair wrote, and handed on its lost-call window."""
    if not isinstance(extra, Mapping) or extra.get("changed") is not True:
        return None
    window = Window(
        moment(extra.get("window_start")),
        moment(extra.get("window_end")),
        text(extra.get("window_start_from"), 40),
        tuple(backfills),
    )
    written = sum(len(str(extra.get(k) or "").split(",")) for k in ("created", "updated", "deleted") if extra.get(k))
    return Evidence(
        at=at, source="changes", status=REPAIRED, plan_id=text(extra.get("plan_id"), 64), writes=written,
        run=run, window=window,
    )  # fmt: skip


def watcher_evidence(watcher: Watcher, now: datetime.datetime) -> list[Evidence]:
    """What a drift watcher's kept state says: its last read, a failure since, or its silence."""
    state, found = watcher.state, []
    declared = text(state.declared, 40)
    last_read = watcher.last_read
    if last_read is not None:
        status = DRIFTED if state.episode else MATCHING
        since = (moment(state.drifted_since) or moment(state.detected_at)) if state.episode else None
        drift = drift_of(_reported(state.reported)) if state.episode else {}
        reading = Evidence(at=last_read, source="watcher", status=status, since=since, drift=drift, declared=declared)
        found.append(reading)
    failed_at = moment(state.last_error_at)
    if state.last_error and failed_at is not None and (last_read is None or failed_at >= last_read):
        error = text(state.last_error)
        found.append(Evidence(at=failed_at, source="watcher", status=FAILED, error=error, declared=declared))
    if watcher.silent(now):
        heard = last_read or failed_at
        assert heard is not None
        every = max(KEPT_EVERY_SECONDS, state.poll_interval or 0.0)
        silence = heard + datetime.timedelta(seconds=SILENT_AFTER_KEEPS * every)
        why = f"the drift watcher has not read the account since {heard.strftime('%Y-%m-%d %H:%M')} UTC"
        found.append(Evidence(at=silence, source="watcher", status=FAILED, error=why, declared=declared))
    return found


def _reported(items: tuple[str, ...]) -> dict[str, list[Any]]:
    """A watcher's reported drift (``drift_items``: JSON ``[kind, item]`` strings) as what drifted."""
    import json

    drift: dict[str, list[Any]] = {"missing": [], "different": [], "duplicates": []}
    for item in items:
        try:
            kind, value = json.loads(item)
        except (ValueError, TypeError):
            continue
        if kind in drift:
            drift[kind].append(value)
    return drift
