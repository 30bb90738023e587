"""Each error says whether waiting could fix it and whether a write that met it may have happened."""

from __future__ import annotations

import pytest

from airflow_provider_plusofon.exceptions import (
    CreateOutcomeUnknownError,
    PartialApplyError,
    PlusofonAuthError,
    PlusofonConfigError,
    PlusofonInvalidResponseError,
    PlusofonRateLimitError,
    PlusofonRedirectError,
    PlusofonRequestRejected,
    PlusofonServerError,
    PlusofonTransportError,
    PlusofonValidationError,
    WebhookSpecError,
)


@pytest.mark.parametrize(
    ("error", "transient", "may_have_taken_effect"),
    [
        (PlusofonTransportError("reset"), True, True),
        (PlusofonTransportError("refused", request_sent=False), True, False),
        (PlusofonRateLimitError("slow down", status_code=429), True, False),
        (PlusofonServerError("oops", status_code=503), True, True),
        (PlusofonServerError("not implemented", status_code=501), False, True),
        (PlusofonInvalidResponseError("html", status_code=200), False, True),
        (PlusofonAuthError("no", status_code=401), False, False),
        (PlusofonValidationError("bad", status_code=422), False, False),
        (PlusofonRequestRejected("limit", status_code=200), False, False),
        (PlusofonRedirectError("moved", status_code=307), False, False),
        (CreateOutcomeUnknownError("lost"), False, True),
        (PlusofonConfigError("bad host"), False, False),
        (WebhookSpecError(["spec #0: bad"]), False, False),
    ],
)
def test_what_waiting_can_fix_and_what_may_have_been_written(error, transient, may_have_taken_effect):
    assert (error.transient, error.may_have_taken_effect) == (transient, may_have_taken_effect)


def test_api_error_describes_where_and_how_it_failed():
    error = PlusofonValidationError(
        "invalid", status_code=422, errors={"url": ["required"], 7: "one"}, method="POST", path="/api/v1/webhooks"
    )
    assert str(error) == "POST /api/v1/webhooks failed (HTTP 422): invalid [7: one; url: required]"
    assert error.errors == {"url": ["required"], "7": ["one"]}


def test_partial_apply_error_counts_what_was_done():
    error = PartialApplyError({"created": [{"id": None}], "updated": [], "deleted": []}, ["create x: lost"])
    assert str(error).startswith("1 change(s) failed; already applied: 1 created. Re-run the task to converge.")


def test_names_that_explain_themselves_and_the_0_1_0_name_still_works():
    from airflow_provider_plusofon.exceptions import PlusofonRequestRejectedError

    assert PlusofonRequestRejected is PlusofonRequestRejectedError
    # An answer that cannot be trusted is not a server error (a 200 with a broken paginator is one).
    assert not issubclass(PlusofonInvalidResponseError, PlusofonServerError)
