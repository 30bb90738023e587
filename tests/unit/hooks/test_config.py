"""PlusofonConnectionConfig: every setting checked once, every problem at once, no secret shown."""

from __future__ import annotations

import pytest

from airflow_provider_plusofon.exceptions import PlusofonConfigError
from airflow_provider_plusofon.hooks.client import PlusofonClient
from airflow_provider_plusofon.hooks.config import PlusofonConnectionConfig
from tests.conftest import BASE, CLIENT_ID, TOKEN
from tests.unit.hooks.test_client import item, mock_pages


@pytest.mark.parametrize(
    "base_url",
    [
        "ftp://plusofon.test",
        "file:///etc/passwd",
        "plusofon.test",
        "http://",
        "http://user:pw@plusofon.test",
        "http://h:x",
    ],
)
def test_a_base_url_that_is_not_http_is_a_config_error_at_once(requests_mock, base_url):
    with pytest.raises(PlusofonConfigError, match="base URL"):
        PlusofonConnectionConfig(base_url=base_url, client_id=CLIENT_ID, token=TOKEN)
    assert requests_mock.call_count == 0


def test_token_and_client_id_are_stripped_of_surrounding_whitespace(requests_mock):
    config = PlusofonConnectionConfig(base_url=BASE, client_id=f" {CLIENT_ID}\n", token=f"  {TOKEN}\r\n")
    mock_pages(requests_mock, [[item(1)]])
    PlusofonClient(config).list_webhooks()
    assert requests_mock.last_request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert requests_mock.last_request.headers["Client"] == CLIENT_ID


@pytest.mark.parametrize(
    "token", ["tok-SE\nCRET-4f1c9a", "tok-SE CRET-4f1c9a", "tok-SE\x00CRET-4f1c9a", "tok-SÉCRET-4f1c9a"]
)
def test_a_token_with_control_characters_inside_is_refused_without_being_shown(requests_mock, token):
    with pytest.raises(PlusofonConfigError, match=r"API token .* has spaces, line breaks or non-ASCII") as caught:
        PlusofonConnectionConfig(base_url=BASE, client_id=CLIENT_ID, token=token, conn_id="plusofon_default")
    assert "SE" not in str(caught.value).replace("SPACES", "")
    assert "CRET" not in str(caught.value)
    assert requests_mock.call_count == 0


def test_every_problem_of_the_settings_is_reported_at_once():
    with pytest.raises(PlusofonConfigError) as caught:
        PlusofonConnectionConfig(base_url="ftp://x", client_id="", token="", timeout="nan", max_retries=99)
    text = str(caught.value)
    for expected in ("base URL", "Client ID", "API token", "'timeout'", "'max_retries'"):
        assert expected in text


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("timeout", "nan"),
        ("timeout", float("inf")),
        ("timeout", "-inf"),
        ("timeout", 0),
        ("max_retries", "1.5"),
        ("max_retries", 21),
        ("max_retries", "nan"),
        ("max_pages", 0),
        ("verify", "tr\nue"),
    ],
)
def test_settings_that_are_not_finite_or_out_of_range_are_refused_where_read(name, value):
    with pytest.raises(PlusofonConfigError, match=name if name != "verify" else "'verify'"):
        PlusofonConnectionConfig(base_url=BASE, client_id=CLIENT_ID, token=TOKEN, **{name: value})
