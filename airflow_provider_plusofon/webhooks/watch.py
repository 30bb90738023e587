"""Waits that share work: one reader per account on the event loop, for every wait on that account.
No Airflow import here.

A triggerer holds up to a thousand waiting sensors, many on the same account. Each used to list
the whole account on every poke, in threads of its own. Here the waits on one account (in one
event loop) subscribe to one :class:`AccountReader`: it lists the account once per interval (the
shortest interval of its waiters), fetches the detail views any of them needs, once, and hands each
waiter its own :class:`~.requirements.Check` of that one read. The reading holds no thread (see
:class:`~airflow_provider_plusofon.api.AsyncPlusofonClient`), a 429 pauses this account's reader
only, and working out a thousand waiters' answers yields to the loop every few milliseconds.

A token rotated while they wait is also met once for all of them: when the account refuses the
credentials, the reader reads its connection again (one read, whatever the number of waiters).
Changed, each waiter whose specs are sealed with the old token is told to seal them again, and
the others go on with the new credentials; unchanged, every waiter hears of the refusal.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import weakref
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from airflow_provider_plusofon.api import AsyncPlusofonClient, PlusofonConnectionConfig
from airflow_provider_plusofon.api.retry import Logger
from airflow_provider_plusofon.exceptions import PlusofonAuthError, PlusofonError, SealKeyChangedError
from airflow_provider_plusofon.webhooks.plan import detail_ids, plan_changes, plan_id, with_details
from airflow_provider_plusofon.webhooks.requirements import Check, sealed_view, unavailable
from airflow_provider_plusofon.webhooks.spec import WebhookSpec

# How long working out waiters' answers may hold the loop before it yields (Airflow warns at 0.2 s),
# and how many waiters are told at once: each wakes its trigger, which then works (and logs) in the
# loop's next turn, so a thousand told at once would hold that turn for all of them.
_SLICE_SECONDS = 0.005
_TOLD_AT_ONCE = 20

# Reads the account's connection again (in a triggerer: through its supervisor).
Reread = Callable[[], Awaitable[PlusofonConnectionConfig]]


class Waiter:
    """
    One wait on an account: its specs, and the latest check the reader made for it.

    :param specs: what it waits for.
    :param sealed: its specs' secret values are sealed with the connection's ``seal_key``.
    :param sealed_by_0_1: sealed as 0.1.0 sealed them (a trigger that version stored).
    :param interval: seconds between reads it asks for.
    """

    def __init__(self, specs: Sequence[WebhookSpec], *, sealed: bool, sealed_by_0_1: bool, interval: float) -> None:
        self.specs = tuple(specs)
        self.sealed, self.sealed_by_0_1 = sealed, sealed_by_0_1
        self.interval = max(0.0, float(interval))
        # Waiters with equal specs, sealed alike, get the same answer: it is worked out once.
        self.key = json.dumps([[s.index, s.values] for s in self.specs], sort_keys=True, default=str)
        self.key += f"|{sealed}|{sealed_by_0_1}"
        self.reader: AccountReader | None = None  # the reader of the credentials it waits with now
        self.handovers = 0  # how often it went on with new credentials (a watcher says so)
        self._latest: Check | BaseException | None = None
        self._ready = asyncio.Event()

    def leave(self) -> None:
        """Wait no more: the reader it is with now reads no more for it."""
        if self.reader is not None:
            self.reader.unsubscribe(self)

    def tell(self, outcome: Check | BaseException) -> None:
        """Hand over a check (only the latest is kept: a waiter never falls behind)."""
        self._latest = outcome
        self._ready.set()

    async def next(self) -> Check:
        """The next check; an error the wait cannot outlast (bad credentials, ...) is raised."""
        await self._ready.wait()
        self._ready.clear()
        outcome, self._latest = self._latest, None
        if isinstance(outcome, BaseException):
            raise outcome
        assert outcome is not None
        return outcome


class AccountReader:
    """
    Lists one account for every waiter on it: once per interval, whatever their specs.

    The account's header values and URL passwords it reads are compared sealed (specs stored by a
    sensor are sealed) and never put in text, so they are not handed to Airflow's secret masker:
    it rebuilds one regular expression per value, and thousands of values read in a triggerer
    would hold its loop for seconds and slow every line it logs.

    :param client: the account's async client (closed when the last waiter leaves).
    :param on_idle: called when the last waiter has left and the reader stops.
    :param reread: reads the account's connection again, when the account refuses its credentials
        (``None``: a refusal ends every wait).
    :param logger: where a change of credentials is said.
    """

    def __init__(
        self,
        client: AsyncPlusofonClient,
        *,
        on_idle: Callable[[AccountReader], None] | None = None,
        reread: Reread | None = None,
        logger: Logger | None = None,
    ) -> None:
        self.client = client
        self.on_idle = on_idle
        self.reread, self.logger = reread, logger
        # Credentials the account refused before its waiters came here: never handed back to (a
        # connection flipping between two refused tokens must not make readers hand over forever).
        self.refused: frozenset[PlusofonConnectionConfig] = frozenset()
        self.waiters: dict[Waiter, None] = {}
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()

    def subscribe(self, specs: Sequence[WebhookSpec], *, sealed: bool, sealed_by_0_1: bool, interval: float) -> Waiter:
        """Wait on this account; the first waiter starts the reading."""
        return self.adopt(Waiter(specs, sealed=sealed, sealed_by_0_1=sealed_by_0_1, interval=interval))

    def adopt(self, waiter: Waiter) -> Waiter:
        """Read for this waiter from now on (a new one, or one whose credentials this reader holds now)."""
        if waiter.reader is not None and waiter.reader is not self:
            waiter.handovers += 1
        waiter.reader = self
        self.waiters[waiter] = None
        self._wake.set()  # a shorter interval than the others' moves the next read forward
        if self._task is None:
            # In a context of its own: it reads for every waiter, and a triggerer files a task's log
            # lines by the context they are said in (those of the waiter that came first would go
            # to its task's log, and nowhere once it is done).
            loop = asyncio.get_running_loop()
            self._task = contextvars.Context().run(loop.create_task, self._run())
        return waiter

    def unsubscribe(self, waiter: Waiter) -> None:
        self.waiters.pop(waiter, None)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self.waiters:
                started = loop.time()
                outcome = await self._outcome()
                if isinstance(outcome, PlusofonAuthError):
                    told = await self._after_refusal(outcome)
                    if told is None:
                        continue  # every waiter went on with the new credentials, or to seal its specs again
                    outcome = told
                await self._deliver(outcome)
                await self._wait_until_due(started)
        finally:
            if self.on_idle is not None:
                self.on_idle(self)
            self._task = None
            await self.client.aclose()

    async def _after_refusal(self, refusal: PlusofonAuthError) -> BaseException | None:
        """
        After the account refused this reader's credentials: read the connection again, once for
        every waiter. When it holds other credentials now (a rotated token), tell each waiter whose
        specs are sealed with the old token to seal them again, hand the others to the reader of the
        new ones, say so once, and return ``None``. Otherwise return what the waiters are told: the
        refusal (the connection is unchanged, or flipped back to credentials already refused), or
        what is wrong with the connection now.
        """
        if self.reread is None:
            return refusal
        try:
            fresh = await self.reread()
        except PlusofonError as error:  # changed into something that cannot work: that is the news
            return error
        except Exception:  # not read this time: the refusal stands, and is tried again next interval
            return refusal
        if fresh == self.client.config or fresh in self.refused:
            return refusal
        successor = shared_reader(
            fresh, max_concurrency=self.client.max_concurrency, logger=self.logger, reread=self.reread
        )
        successor.refused |= self.refused | {self.client.config}
        sealed = [waiter for waiter in self.waiters if waiter.sealed]
        others = [waiter for waiter in self.waiters if not waiter.sealed]
        self.waiters.clear()
        for waiter in sealed:
            waiter.tell(SealKeyChangedError(_RESEAL))
        for waiter in others:
            successor.adopt(waiter)
        if self.logger is not None:
            self.logger.warning(
                "Plusofon connection %r holds other credentials than the ones the account refused: %d waiting "
                "sensor(s) seal their specs again, %d other wait(s) read on with the new ones",
                fresh.conn_id,
                len(sealed),
                len(others),
            )
        return None

    async def _wait_until_due(self, started: float) -> None:
        """Until one interval (the shortest of the waiters') after the last read began."""
        loop = asyncio.get_running_loop()
        while self.waiters:
            left = started + min(w.interval for w in self.waiters) - loop.time()
            if left <= 0:
                return
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), left)
            except asyncio.TimeoutError:
                return

    async def _outcome(self) -> list[dict[str, Any]] | BaseException:
        """The account as every waiter needs it (the listing, with the details any needs), or the error."""
        try:
            listing = await self.client.list_webhooks()
            # Each distinct spec set once: a thousand waiters often want the same few webhooks.
            distinct = {waiter.key: waiter.specs for waiter in list(self.waiters)}
            specs = [spec for specs_of_one in distinct.values() for spec in specs_of_one]
            details = await self.client.get_webhooks(dict.fromkeys(detail_ids(specs, listing)))
            return with_details(listing, details)
        except Exception as error:  # every waiter hears of it, none hangs
            return error

    async def _deliver(self, outcome: list[dict[str, Any]] | BaseException) -> None:
        loop = asyncio.get_running_loop()
        config = self.client.config
        views: dict[tuple[bool, bool], Sequence[Any]] = {}
        answers: dict[str, Check | BaseException] = {}
        since = loop.time()
        for told, waiter in enumerate(list(self.waiters), start=1):
            answer = answers.get(waiter.key)
            if answer is None:
                answer = answers[waiter.key] = self._answer(waiter, outcome, views, config)
            waiter.tell(answer)
            if isinstance(answer, BaseException):  # it ends that wait: read no more for it
                self.waiters.pop(waiter, None)
            if told % _TOLD_AT_ONCE == 0 or loop.time() - since > _SLICE_SECONDS:
                await asyncio.sleep(0)
                since = loop.time()

    @staticmethod
    def _answer(
        waiter: Waiter,
        outcome: list[dict[str, Any]] | BaseException,
        views: dict[tuple[bool, bool], Sequence[Any]],
        config: PlusofonConnectionConfig,
    ) -> Check | BaseException:
        if isinstance(outcome, BaseException):
            if not isinstance(outcome, PlusofonError):
                return outcome
            try:
                return unavailable(outcome)
            except PlusofonError as error:
                return error
        how = (waiter.sealed, waiter.sealed_by_0_1)
        if how not in views:
            views[how] = sealed_view(outcome, config, *how)
        plan = plan_changes(waiter.specs, views[how])
        planned = None if waiter.sealed else plan_id(plan, config.seal_key, account=config.account)
        return Check(plan.requirements(), plan_id=planned)


_RESEAL = "the connection's credentials changed since these specs were sealed; they must be sealed again"


class Turns:
    """
    Lets callers through a few per turn of the event loop, in the order they came: a thousand
    triggers starting at once (a triggerer restarting) then start over fifty turns, not in one.

    :param per_turn: how many go through in one turn.
    """

    def __init__(self, per_turn: int = _TOLD_AT_ONCE) -> None:
        self.per_turn = per_turn
        self._queue: deque[asyncio.Future[None]] = deque()
        self._releasing = False

    async def take(self) -> None:
        loop = asyncio.get_running_loop()
        turn = loop.create_future()
        self._queue.append(turn)
        if not self._releasing:
            self._releasing = True
            loop.call_soon(self._release)
        await turn

    def _release(self) -> None:
        for _ in range(min(self.per_turn, len(self._queue))):
            turn = self._queue.popleft()
            if not turn.done():  # its caller may have been cancelled meanwhile
                turn.set_result(None)
        if self._queue:
            asyncio.get_running_loop().call_soon(self._release)
        else:
            self._releasing = False


_turns: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Turns] = weakref.WeakKeyDictionary()


async def take_turn() -> None:
    """Wait for this caller's turn to do its share of a burst of work (see :class:`Turns`)."""
    await _turns.setdefault(asyncio.get_running_loop(), Turns()).take()


# One reader per account and event loop (a triggerer has one loop; tests start many).
_readers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[PlusofonConnectionConfig, AccountReader]] = (
    weakref.WeakKeyDictionary()
)


def shared_reader(
    config: PlusofonConnectionConfig,
    *,
    max_concurrency: int,
    logger: Logger | None = None,
    reread: Reread | None = None,
) -> AccountReader:
    """
    The reader of this account on the running event loop, made when the first waiter comes.

    :param config: the account (its connection, base URL, Client ID, token and settings: a rotated
        token is another reader).
    :param max_concurrency: how many requests the reader may have in flight (its first waiter's say).
    :param logger: where its retries and a change of credentials are said (its first waiter's).
    :param reread: reads the connection again when the account refuses its credentials.
    """
    readers = _readers.setdefault(asyncio.get_running_loop(), {})
    reader = readers.get(config)
    if reader is None:
        client = AsyncPlusofonClient(config, max_concurrency=max_concurrency, logger=logger)
        reader = readers[config] = AccountReader(client, on_idle=_forget(readers, config), reread=reread, logger=logger)
    return reader


def _forget(readers: dict[PlusofonConnectionConfig, AccountReader], config: PlusofonConnectionConfig) -> Any:
    def forget(done: AccountReader) -> None:
        if readers.get(config) is done:
            del readers[config]

    return forget
