"""RetryPolicy by itself: how often, how long, what each retry says, and the pause a 429 shares.

The ``waits`` fixture (tests/conftest.py) records every wait and moves the policy's clock by as
much; jitter is pinned by patching ``random.uniform``, so each wait is asserted to the digit.
"""

from __future__ import annotations

import asyncio

import pytest

from airflow_provider_plusofon.api import retry as retry_module
from airflow_provider_plusofon.api.retry import RetryPolicy, safe_to_resend, transient
from airflow_provider_plusofon.exceptions import (
    PlusofonAPIError,
    PlusofonListingChangedError,
    PlusofonRateLimitError,
    PlusofonServerError,
    PlusofonTransportError,
)
from tests.conftest import LogLines as Lines


@pytest.fixture
def jitter(monkeypatch: pytest.MonkeyPatch) -> list[tuple[float, float]]:
    """Jitter of exactly 0.25 s; the bounds it was asked for are recorded."""
    asked: list[tuple[float, float]] = []

    def uniform(low: float, high: float) -> float:
        asked.append((low, high))
        return 0.25

    monkeypatch.setattr(retry_module.random, "uniform", uniform)
    return asked


def failing(*errors: BaseException, result: str = "done"):
    """A call that raises each error in turn, then returns ``result``; ``calls`` counts the tries."""
    remaining = list(errors)

    def call() -> str:
        call.calls += 1  # type: ignore[attr-defined]
        if remaining:
            raise remaining.pop(0)
        return result

    call.calls = 0  # type: ignore[attr-defined]
    return call


def server_error(status: int = 503) -> PlusofonServerError:
    return PlusofonServerError("Service Unavailable", status_code=status, method="GET", path="/api/v1/webhooks")


def test_backoff_doubles_from_half_a_second_to_thirty_plus_up_to_half_a_second_of_jitter(jitter):
    policy = RetryPolicy(max_retries=3)
    assert [policy.backoff(n) for n in range(1, 9)] == [0.75, 1.25, 2.25, 4.25, 8.25, 16.25, 30.25, 30.25]
    assert set(jitter) == {(0, 0.5)}


def test_each_retry_is_logged_with_what_failed_where_and_how_long_it_waits(jitter, waits):
    log = Lines()
    call = failing(server_error(503), server_error(502))
    assert RetryPolicy(max_retries=3, logger=log).run(call, transient) == "done"
    assert log.lines == [
        "Plusofon GET /api/v1/webhooks failed (HTTP 503); retry 1 of 3 in 0.8s",
        "Plusofon GET /api/v1/webhooks failed (HTTP 502); retry 2 of 3 in 1.2s",
    ]
    assert waits == [0.75, 1.25]
    assert call.calls == 3


def test_a_retry_without_an_answer_says_what_happened_instead_of_a_status(jitter, waits):
    log = Lines()
    lost = PlusofonTransportError("connection reset", method="POST", path="/api/v1/webhooks")
    RetryPolicy(max_retries=2, logger=log).run(failing(lost), transient)
    assert log.lines == ["Plusofon POST /api/v1/webhooks failed (connection reset); retry 1 of 2 in 0.8s"]


def test_a_retry_of_an_error_that_is_not_an_answer_names_its_kind(jitter, waits):
    log = Lines()
    changing = PlusofonListingChangedError("the account kept changing")
    RetryPolicy(max_retries=1, logger=log).run(failing(changing), transient)
    assert log.lines == ["Plusofon request failed (PlusofonListingChangedError); retry 1 of 1 in 0.8s"]


def test_retries_stop_after_max_retries_and_the_last_error_is_raised(jitter, waits):
    errors = [server_error(500), server_error(502), server_error(503), server_error(504)]
    call = failing(*errors)
    with pytest.raises(PlusofonServerError) as caught:
        RetryPolicy(max_retries=3, logger=Lines()).run(call, transient)
    assert caught.value is errors[3]
    assert call.calls == 4
    assert waits == [0.75, 1.25, 2.25]


def test_no_retries_means_one_try(waits):
    call = failing(server_error())
    with pytest.raises(PlusofonServerError):
        RetryPolicy(max_retries=0, logger=Lines()).run(call, transient)
    assert (call.calls, waits) == (1, [])


def test_what_is_not_worth_retrying_is_raised_at_once(waits):
    log = Lines()
    rejected = PlusofonAPIError("The url field is required.", status_code=422, method="POST", path="/api/v1/webhooks")
    call = failing(rejected)
    with pytest.raises(PlusofonAPIError) as caught:
        RetryPolicy(max_retries=3, logger=log).run(call, transient)
    assert caught.value is rejected
    assert (call.calls, waits, log.lines) == (1, [], [])


def test_an_error_of_another_library_is_never_retried(waits):
    call = failing(KeyError("id"))
    with pytest.raises(KeyError):
        RetryPolicy(max_retries=3, logger=Lines()).run(call, lambda error: True)
    assert (call.calls, waits) == (1, [])


def test_a_create_is_resent_only_when_nothing_can_have_been_stored(waits):
    never_connected = PlusofonTransportError("refused", request_sent=False, method="POST", path="/api/v1/webhooks")
    reset_after_sending = PlusofonTransportError("reset", method="POST", path="/api/v1/webhooks")
    limited = PlusofonRateLimitError("Too Many Attempts.", retry_after=1, status_code=429)
    assert safe_to_resend(never_connected) and safe_to_resend(limited)
    assert not safe_to_resend(reset_after_sending) and not safe_to_resend(server_error(503))
    call = failing(reset_after_sending)
    with pytest.raises(PlusofonTransportError):
        RetryPolicy(max_retries=3, logger=Lines()).run(call, safe_to_resend)
    assert call.calls == 1


def test_a_429_waits_its_retry_after_once_and_holds_every_other_request_as_long(waits):
    policy = RetryPolicy(max_retries=3, logger=Lines())
    limited = PlusofonRateLimitError("Too Many Attempts.", retry_after=7, status_code=429)

    def call() -> str:
        if not waits:
            policy.note(limited)  # as the client does when it meets the 429
            raise limited
        return "done"

    assert policy.run(call, transient) == "done"
    assert waits == [7]
    assert policy.pause_left() == 0.0
    policy.note(limited)
    assert policy.pause_left() == 7


def test_a_retry_after_over_sixty_seconds_pauses_sixty(waits):
    policy = RetryPolicy(max_retries=3)
    policy.note(PlusofonRateLimitError("Too Many Attempts.", retry_after=3600, status_code=429))
    assert policy.pause_left() == 60.0


@pytest.mark.parametrize(
    ("retry_after", "expected"),
    [
        (None, [0.75, 1.25]),  # the pause note() set (backoff 1), then, with no Retry-After again, backoff 2
        (1, [1, 1]),  # what the server says each time, never a backoff on top
    ],
)
def test_a_429_met_twice_waits_its_retry_after_or_a_growing_backoff(jitter, waits, retry_after, expected):
    policy = RetryPolicy(max_retries=3, logger=Lines())
    limited = PlusofonRateLimitError("Too Many Attempts.", retry_after=retry_after, status_code=429)

    def call() -> str:
        if len(waits) < 2:
            policy.note(limited)
            raise limited
        return "done"

    assert policy.run(call, transient) == "done"
    assert waits == expected


def test_a_longer_pause_already_running_stays(waits):
    policy = RetryPolicy(max_retries=1)
    policy.pause(10)
    policy.pause(1)
    assert policy.pause_left() == 10
    policy.wait_for_pause()
    assert waits == [10]
    assert policy.pause_left() == 0.0


def test_other_errors_do_not_pause(waits):
    policy = RetryPolicy(max_retries=1)
    policy.note(server_error())
    assert policy.pause_left() == 0.0


def test_waiting_for_a_pause_that_is_extended_meanwhile_waits_until_it_ends(monkeypatch, waits):
    policy = RetryPolicy(max_retries=1)
    policy.pause(2)
    sleep = retry_module._sleep

    def extend_once(seconds: float) -> None:
        sleep(seconds)
        if len(waits) == 1:
            policy.pause(3)  # another 429 arrives while this one waits

    monkeypatch.setattr(retry_module, "_sleep", extend_once)
    policy.wait_for_pause()
    assert waits == [2, 3]


def test_the_event_loop_variant_retries_and_waits_alike(jitter, waits):
    log = Lines()
    errors = [server_error(503)]

    async def call(suffix: str) -> str:
        if errors:
            raise errors.pop()
        return "done" + suffix

    policy = RetryPolicy(max_retries=2, logger=log)
    assert asyncio.run(policy.arun(call, transient, "!")) == "done!"
    assert waits == [0.75]
    assert log.lines == ["Plusofon GET /api/v1/webhooks failed (HTTP 503); retry 1 of 2 in 0.8s"]
    policy.pause(4)
    asyncio.run(policy.await_pause())
    assert waits == [0.75, 4]


def test_the_first_429_without_retry_after_is_paused_once_not_twice(monkeypatch, waits):
    jitters = iter([0.1, 0.4, 0.4, 0.4])
    monkeypatch.setattr(retry_module.random, "uniform", lambda low, high: next(jitters))
    policy = RetryPolicy(max_retries=1, logger=Lines())
    bare = PlusofonRateLimitError("Too Many Attempts.", status_code=429)

    def call() -> str:
        if not waits:
            policy.note(bare)  # pauses a backoff with jitter 0.1
            raise bare
        return "done"

    assert policy.run(call, transient) == "done"
    assert waits == [0.6]


def test_the_event_loop_waits_out_a_pause_under_a_second_too(waits):
    policy = RetryPolicy(max_retries=1)
    policy.pause(0.5)
    asyncio.run(policy.await_pause())
    assert waits == [0.5]


def test_retries_are_logged_under_the_module_unless_a_logger_is_given():
    assert RetryPolicy(max_retries=1).log.name == "airflow_provider_plusofon.api.retry"
    given = Lines()
    assert RetryPolicy(max_retries=1, logger=given).log is given
