"""Exceptions raised by the Plusofon provider.

Kept free of Airflow imports so that the core and the HTTP client can raise them too. Each error
says whether waiting could fix it (``transient``) and whether a write that met it may have been
applied all the same (``may_have_taken_effect``): the client's retries, the create that must
never be sent twice and the sensor's "not yet" all read these two attributes, nothing else.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

# The statuses a server or proxy sends when it is overloaded or restarting: worth asking again.
TRANSIENT_SERVER_STATUS = frozenset({500, 502, 503, 504})


class PlusofonError(Exception):
    """Base class of every error this provider raises."""

    @property
    def transient(self) -> bool:
        """Whether waiting and asking again could fix it (the API was unreachable, limited or failing)."""
        return False

    @property
    def may_have_taken_effect(self) -> bool:
        """Whether the write that met this error may have been applied by the server all the same."""
        return False


class PlusofonConfigError(PlusofonError, ValueError):
    """The connection (or the client's settings) cannot work: a missing, malformed or unusable value."""


class PlusofonAPIError(PlusofonError):
    """
    The Plusofon API answered with an error, or did not answer usefully.

    :param message: what went wrong, as the API said it when it said anything (already redacted).
    :param status_code: HTTP status, ``None`` when no answer arrived (connection error, timeout).
    :param errors: Laravel's per-field validation errors (``{"url": ["..."]}``), if any.
    :param method: HTTP method of the failed request.
    :param path: path of the failed request (never the full URL with credentials).
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        errors: Mapping[str, Sequence[str]] | None = None,
        method: str | None = None,
        path: str | None = None,
    ) -> None:
        self.message = message
        self.status_code = status_code
        self.errors: dict[str, list[str]] = {
            str(field): [str(m) for m in messages] if isinstance(messages, list | tuple) else [str(messages)]
            for field, messages in (errors or {}).items()
        }
        self.method = method
        self.path = path
        super().__init__(self._describe())

    def _describe(self) -> str:
        where = f"{self.method} {self.path}" if self.method and self.path else "Plusofon API"
        status = f"HTTP {self.status_code}" if self.status_code is not None else "no response"
        text = f"{where} failed ({status}): {self.message}"
        if self.errors:
            details = "; ".join(f"{field}: {', '.join(msgs)}" for field, msgs in sorted(self.errors.items()))
            text += f" [{details}]"
        return text


class PlusofonAuthError(PlusofonAPIError):
    """401/403: the Client ID or the API token is wrong. Retrying cannot help."""


class PlusofonNotFoundError(PlusofonAPIError):
    """404: the webhook (or the endpoint) does not exist."""


class PlusofonValidationError(PlusofonAPIError):
    """422: the API rejected the body; ``errors`` holds the per-field messages."""


class PlusofonRateLimitError(PlusofonAPIError):
    """
    429: too many requests. The server refused the request, so nothing was applied.

    :param retry_after: seconds the server asked us to wait, when it said.
    """

    @property
    def transient(self) -> bool:
        return True

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        self.retry_after = retry_after
        super().__init__(message, **kwargs)


class PlusofonServerError(PlusofonAPIError):
    """5xx: the server failed, possibly after it had stored a write."""

    @property
    def transient(self) -> bool:
        return self.status_code in TRANSIENT_SERVER_STATUS

    @property
    def may_have_taken_effect(self) -> bool:
        return True


class PlusofonInvalidResponseError(PlusofonAPIError):
    """
    An answer the client cannot trust: not the JSON the API documents, a paginator that
    contradicts itself, list items without a valid id, an answer larger than the cap. Asking again
    would bring the same answer, so it is not retried, and nothing is decided on it. The server
    did answer, so a write that met it may have been applied.
    """

    @property
    def may_have_taken_effect(self) -> bool:
        return True


class PlusofonTransportError(PlusofonAPIError):
    """
    No answer at all: the connection failed, was reset, or timed out.

    :param request_sent: whether the request may have reached the server (``False`` only when the
        connection could not even be opened, so a write certainly was not applied).
    """

    @property
    def transient(self) -> bool:
        return True

    def __init__(self, message: str, *, request_sent: bool = True, **kwargs: Any) -> None:
        self.request_sent = request_sent
        super().__init__(message, **kwargs)

    @property
    def may_have_taken_effect(self) -> bool:
        return self.request_sent


class PlusofonRedirectError(PlusofonAPIError):
    """
    The API answered with a redirect. It is never followed: the token would go with it to
    wherever it points. Set the connection's host to the address the API really answers on.
    """


class PlusofonRequestRejectedError(PlusofonAPIError):
    """The API answered ``{"success": false, "message": ...}``, whatever the HTTP status."""


# The name of 0.1.0, kept so that code catching it goes on working.
PlusofonRequestRejected = PlusofonRequestRejectedError


class PlusofonListingChangedError(PlusofonError):
    """
    The account kept changing while it was listed (another actor created, deleted or edited
    webhooks between our page reads), read after read, up to the bound. Nothing was decided on it,
    so nothing was written; waiting for the other actor to finish can fix it.
    """

    @property
    def transient(self) -> bool:
        return True


class PlusofonPagingLimitError(PlusofonAPIError):
    """The listing needs more pages than the configured ``max_pages`` allows."""


class CreateOutcomeUnknownError(PlusofonAPIError):
    """
    A create's answer was lost (reset, timeout or 5xx) and the webhook is not in the list.

    It may be stored later (a store that lags its answers), so it is never sent again in the same
    run: that could make a duplicate. Run the task again: the next attempt plans afresh and either
    finds the webhook or creates it.
    """

    @property
    def may_have_taken_effect(self) -> bool:
        return True


class WebhookSpecError(PlusofonError, ValueError):
    """
    One or more webhook specs are invalid. Raised before any request is sent.

    :param problems: every problem found, each naming the spec, the field and the bad value (or,
        for a field that can hold a secret, only its shape).
    """

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        count = len(self.problems)
        header = f"{count} problem{'s' if count != 1 else ''} in the webhook specs:"
        super().__init__("\n".join([header, *(f"  - {p}" for p in self.problems)]))


class SealKeyChangedError(PlusofonError):
    """
    The connection's API token changed since specs were sealed with it (a deferred sensor's specs,
    see :func:`~airflow_provider_plusofon.redaction.seal`): they cannot be compared any more, and
    must be sealed again from the specs themselves.
    """


class AmbiguousWebhookError(PlusofonError):
    """Several existing webhooks share one identity and the caller did not ask to de-duplicate."""


class UnsafePlanError(PlusofonError):
    """The plan breaks a safety limit (``max_deletes``, pruning with no specs); nothing was written."""


class StalePlanError(PlusofonError):
    """
    The plan made now is not the plan that was approved: what would be written changed, or a
    webhook the plan touches changed since. Raised before any write.

    :param approved_plan_id: the id that was approved.
    :param plan_id: the id of the plan made now.
    :param plan: the plan made now, as the task log shows it.
    """

    def __init__(self, approved_plan_id: str, plan_id: str, plan: str) -> None:
        self.approved_plan_id = approved_plan_id
        self.plan_id = plan_id
        self.plan = plan
        super().__init__(
            f"the plan changed since it was approved (approved {approved_plan_id}, now {plan_id}); nothing was "
            f"written. Review the new plan and approve it again:\n{plan}"
        )


class PartialApplyError(PlusofonError):
    """
    Applying a plan failed part way. What was done stays done; re-running converges.

    :param done: the changes that were applied before the failure (``created``, ``updated``,
        ``deleted``), including creates whose ids could not be looked up (``id`` is ``None``).
    :param failures: one line per action that failed.
    """

    def __init__(self, done: Mapping[str, Any], failures: Sequence[str]) -> None:
        self.done = dict(done)
        self.failures = list(failures)
        applied = ", ".join(f"{len(v)} {k}" for k, v in self.done.items() if isinstance(v, list) and v)
        super().__init__(
            f"{len(self.failures)} change(s) failed; already applied: {applied or 'nothing'}. "
            "Re-run the task to converge.\n" + "\n".join(f"  - {f}" for f in self.failures)
        )
