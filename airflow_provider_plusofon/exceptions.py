"""Exceptions raised by the Plusofon provider.

Kept free of Airflow imports so that the pure reconciliation core can raise them too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


class PlusofonError(Exception):
    """Base class of every error this provider raises."""


class PlusofonConfigError(PlusofonError, ValueError):
    """The Airflow connection lacks something the hook needs (Client ID, token, a usable option)."""


class PlusofonAPIError(PlusofonError):
    """
    The Plusofon API answered with an error, or did not answer usefully.

    :param message: what went wrong, as the API said it when it said anything.
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
        self.errors: dict[str, list[str]] = {k: list(v) for k, v in (errors or {}).items()}
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
    429: too many requests.

    :param retry_after: seconds the server asked us to wait, when it said.
    """

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        self.retry_after = retry_after
        super().__init__(message, **kwargs)


class PlusofonServerError(PlusofonAPIError):
    """5xx, or an answer that is not the JSON the API documents (a proxy's HTML error page)."""


class PlusofonTransportError(PlusofonAPIError):
    """No answer at all: the connection failed, was reset, or timed out."""


class PlusofonRequestRejected(PlusofonAPIError):
    """The API answered ``{"success": false, "message": ...}``, whatever the HTTP status."""


class CreateWebhooksError(PlusofonError):
    """
    Some webhooks of a batch create failed; the others were created and are reported.

    :param created: the webhooks created, with their ids.
    :param failures: ``(body, error)`` for each webhook that was not created.
    """

    def __init__(self, created: Sequence[Mapping[str, Any]], failures: Sequence[tuple[Mapping[str, Any], Exception]]):
        self.created = [dict(c) for c in created]
        self.failures = list(failures)
        lines = [f"{body.get('url')} ({body.get('event')}): {error}" for body, error in self.failures]
        super().__init__(
            f"{len(self.failures)} of {len(self.failures) + len(self.created)} creates failed:\n"
            + "\n".join(f"  - {line}" for line in lines)
        )


class WebhookSpecError(PlusofonError, ValueError):
    """
    One or more webhook specs are invalid. Raised before any request is sent.

    :param problems: every problem found, each naming the spec, the field and the bad value.
    """

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        count = len(self.problems)
        header = f"{count} problem{'s' if count != 1 else ''} in the webhook specs:"
        super().__init__("\n".join([header, *(f"  - {p}" for p in self.problems)]))


class AmbiguousWebhookError(PlusofonError):
    """Several existing webhooks share one identity and the caller did not ask to de-duplicate."""


class UnsafePlanError(PlusofonError):
    """The plan breaks a safety limit (``max_deletes``, pruning with no specs); nothing was written."""


class PartialApplyError(PlusofonError):
    """
    Applying a plan failed part way. What was done stays done; re-running converges.

    :param done: summary of the changes that were applied before the failure.
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
