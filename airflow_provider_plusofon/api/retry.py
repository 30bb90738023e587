"""What is retried, how long to wait, and the pause a 429 imposes on every request. No Airflow here.

Whether an error is worth another try is the error's own to say
(:attr:`~airflow_provider_plusofon.exceptions.PlusofonError.transient` and
``may_have_taken_effect``); this module decides only how often and how long.
"""

from __future__ import annotations

import asyncio
import logging
import random
import threading
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from airflow_provider_plusofon.exceptions import PlusofonAPIError, PlusofonError, PlusofonRateLimitError

if TYPE_CHECKING:
    # tenacity is imported when the first request is made, not when a DAG is parsed.
    from tenacity import RetryCallState

T = TypeVar("T")


def _sleep(seconds: float) -> None:
    # Indirection so that tests can patch the wait without patching time.sleep for everyone.
    time.sleep(seconds)


async def _async_sleep(seconds: float) -> None:
    # The event loop's wait, patched with _sleep in tests.
    await asyncio.sleep(seconds)


def _monotonic() -> float:
    # Patched together with _sleep in tests, so that a patched wait also moves this clock.
    return time.monotonic()


class Logger(Protocol):
    """What retries need of a logger: both logging.Logger and Airflow's task logger fit."""

    def warning(self, msg: str, /, *args: Any) -> Any: ...


def transient(error: PlusofonError) -> bool:
    """Worth another try for a read, an update or a delete: waiting could fix it."""
    return error.transient


def safe_to_resend(error: PlusofonError) -> bool:
    """Worth another try for a create: waiting could fix it and nothing can have been stored."""
    return error.transient and not error.may_have_taken_effect


class RetryPolicy:
    """
    Exponential backoff with jitter, up to ``max_retries`` after the first try, and one pause
    shared by every request that runs through this policy: a 429 holds them all until its
    ``Retry-After`` (capped) has passed, not only the one that met it.

    :param max_retries: retries after the first attempt.
    :param logger: where each retry is reported.
    """

    backoff_base_seconds = 0.5
    backoff_max_seconds = 30.0
    retry_after_max_seconds = 60.0

    def __init__(self, max_retries: int, logger: Logger | None = None) -> None:
        self.max_retries = max_retries
        self.log: Logger = logger or logging.getLogger(__name__)
        self._lock = threading.Lock()
        self._paused_until = 0.0

    def backoff(self, attempt: int) -> float:
        """The wait after the ``attempt``-th failure: 0.5, 1, 2 ... seconds (at most 30), plus jitter."""
        exponential = self.backoff_base_seconds * 2 ** (attempt - 1)
        return min(exponential, self.backoff_max_seconds) + random.uniform(0, self.backoff_base_seconds)

    def pause(self, seconds: float) -> None:
        """Hold every request for ``seconds`` from now (a longer pause already running stays)."""
        with self._lock:
            self._paused_until = max(self._paused_until, _monotonic() + seconds)

    def pause_left(self) -> float:
        with self._lock:
            return max(0.0, self._paused_until - _monotonic())

    def wait_for_pause(self) -> None:
        """Wait until no pause holds requests (another 429 may extend it meanwhile)."""
        while (left := self.pause_left()) > 0:
            _sleep(left)

    async def await_pause(self) -> None:
        """Wait, without blocking the event loop, until no pause holds requests."""
        while (left := self.pause_left()) > 0:
            await _async_sleep(left)

    def note(self, error: PlusofonError) -> None:
        """Learn from a failed request: a 429 pauses every request for its ``Retry-After``."""
        if isinstance(error, PlusofonRateLimitError):
            wait = self.backoff(1) if error.retry_after is None else error.retry_after
            self.pause(min(wait, self.retry_after_max_seconds))

    def _options(self, worth_retrying: Callable[[PlusofonError], bool]) -> dict[str, Any]:
        """What a tenacity retryer of this policy is made with, threads or event loop alike."""
        from tenacity import retry_if_exception, stop_after_attempt

        return {
            "stop": stop_after_attempt(self.max_retries + 1),
            "wait": self._wait_seconds,
            "retry": retry_if_exception(lambda error: isinstance(error, PlusofonError) and worth_retrying(error)),
            "before_sleep": self._log_retry,
            "reraise": True,
        }

    def run(self, call: Callable[[], T], worth_retrying: Callable[[PlusofonError], bool]) -> T:
        """``call()``, tried again after the errors ``worth_retrying`` accepts, up to ``max_retries``."""
        from tenacity import Retrying

        return Retrying(sleep=lambda seconds: _sleep(seconds), **self._options(worth_retrying))(call)

    async def arun(
        self, call: Callable[..., Awaitable[T]], worth_retrying: Callable[[PlusofonError], bool], *args: Any
    ) -> T:
        """As :meth:`run`, for a coroutine function (called with ``args``): the waits are the event
        loop's, never a thread's."""
        from tenacity import AsyncRetrying

        retrying = AsyncRetrying(sleep=lambda seconds: _async_sleep(seconds), **self._options(worth_retrying))
        # The coroutine function itself: tenacity awaits only what it sees is one.
        return await retrying(call, *args)

    def _wait_seconds(self, retry_state: RetryCallState) -> float:
        error = retry_state.outcome.exception() if retry_state.outcome else None
        if isinstance(error, PlusofonRateLimitError):
            if error.retry_after is None and retry_state.attempt_number > 1:
                # No Retry-After, again: back off further, and hold the other requests as long.
                self.pause(self.backoff(retry_state.attempt_number))
            # The pause the 429 started is shared: wait out what is left of it, not a second one.
            return self.pause_left()
        return self.backoff(retry_state.attempt_number)

    def _log_retry(self, retry_state: RetryCallState) -> None:
        error = retry_state.outcome.exception() if retry_state.outcome else None
        wait = retry_state.next_action.sleep if retry_state.next_action else 0.0
        if isinstance(error, PlusofonAPIError):
            what = f"HTTP {error.status_code}" if error.status_code else error.message
            where = f"{error.method} {error.path}"
        else:
            what, where = type(error).__name__, "request"
        self.log.warning(
            "Plusofon %s failed (%s); retry %d of %d in %.1fs",
            where,
            what,
            retry_state.attempt_number,
            self.max_retries,
            wait,
        )
