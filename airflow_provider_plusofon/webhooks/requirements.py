"""Whether the account has what the specs require, and what "not yet" means. No Airflow import here.

The sensor (in a worker) and its trigger (in the triggerer) both check through :func:`check_once`,
so an API that is down or rate limited means "check again later" for both, and anything else
(bad credentials, an answer that cannot be trusted) ends the wait, in one place.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from airflow_provider_plusofon.api import PlusofonClient, PlusofonConnectionConfig
from airflow_provider_plusofon.exceptions import PlusofonError, SealKeyChangedError
from airflow_provider_plusofon.redaction import seal, seal_0_1
from airflow_provider_plusofon.webhooks.plan import plan_changes
from airflow_provider_plusofon.webhooks.reconcile import read_account
from airflow_provider_plusofon.webhooks.spec import WebhookSpec


def check_requirements(
    client: PlusofonClient, specs: Sequence[WebhookSpec], *, sealed: bool = False, sealed_by_0_1: bool = False
) -> dict[str, Any]:
    """
    Which specs the account satisfies (identity and every named field) and which it does not.

    :param sealed: the specs' secret values are sealed (see :func:`~airflow_provider_plusofon.redaction.seal`
        with the client's ``seal_key``); the account's are sealed the same way before comparing.
    :param sealed_by_0_1: they were sealed as 0.1.0 sealed them (a trigger it stored).
    """
    actual = read_account(client, specs)
    return plan_changes(specs, sealed_view(actual, client.config, sealed, sealed_by_0_1)).requirements()


def sealed_view(
    actual: Sequence[Mapping[str, Any]], config: PlusofonConnectionConfig, sealed: bool, sealed_by_0_1: bool
) -> Sequence[Mapping[str, Any]]:
    """The account's webhooks as sealed specs compare with them: sealed the same way, or as they are."""
    if not sealed:
        return actual
    sealer = seal_0_1 if sealed_by_0_1 else seal
    return [sealer(webhook, config.seal_key) for webhook in actual]


def check_seal(config: PlusofonConnectionConfig, *, sealed: bool, seal_check: str | None) -> None:
    """
    Raise :class:`SealKeyChangedError` when specs sealed with ``seal_check`` cannot be compared
    with this connection's (its token changed since): sealed values would never match.
    """
    if sealed and seal_check is not None and seal_check != config.seal_check:
        raise SealKeyChangedError(
            "the connection's API token changed since these specs were sealed; they must be sealed again"
        )


@dataclass(frozen=True)
class Check:
    """
    One look at the account for a waiting task.

    :param result: what :func:`check_requirements` found (``None`` when the API could not be read).
    :param unavailable: why the API could not be read this time, when waiting could fix it.
    :param plan_id: the ``plan_id`` of the plan that would make the account match (specs not
        sealed only: it is then the id an ``EnsureWebhooksOperator`` shows for the same specs).
    """

    result: dict[str, Any] | None
    unavailable: PlusofonError | None = None
    plan_id: str | None = None

    @property
    def done(self) -> bool:
        return self.result is not None and bool(self.result["all_satisfied"])

    @property
    def waiting_reason(self) -> str:
        """A log line for a check that could not read the account."""
        return f"Plusofon API unavailable, will check again: {self.unavailable}"


def check_once(
    client: PlusofonClient, specs: Sequence[WebhookSpec], *, sealed: bool = False, seal_check: str | None = None
) -> Check:
    """
    Check the requirements once. An error waiting could fix (the API unreachable, rate limited
    or failing, after the client's retries) is "not yet"; any other error is raised.

    :param seal_check: the ``seal_check`` of the settings the specs were sealed with; when the
        connection's differs (its token changed), :class:`SealKeyChangedError` is raised before
        any request: sealed values compared with another key would never match.
    """
    check_seal(client.config, sealed=sealed, seal_check=seal_check)
    try:
        # A trigger stored by 0.1.0 has no seal_check, and its specs are sealed as 0.1.0 sealed.
        return Check(check_requirements(client, specs, sealed=sealed, sealed_by_0_1=seal_check is None))
    except PlusofonError as error:
        return unavailable(error)


def unavailable(error: PlusofonError) -> Check:
    """A check that could not read the account: "not yet" when waiting could fix it, else raised."""
    if error.transient:
        return Check(None, error)
    raise error
