"""What is secret in a webhook, and how text from outside is made safe to show."""

from __future__ import annotations

import pytest

from airflow_provider_plusofon.redaction import redact, redact_url, safe_text, seal, secret_values, secrets_of, shape

SECRET = "s3cr3t-value-81"


def test_secret_values_are_header_and_param_values_and_the_urls_user_info():
    webhook = {
        "url": f"https://crm:{SECRET}@crm.example.com/x",
        "headers": [{"name": "X-A", "value": "a-value"}, {"name": "X-Empty", "value": ""}, "junk", {"name": "X-N"}],
        "params": [{"name": "p", "value": "param-value"}],
    }
    assert secret_values(webhook) == ["a-value", "param-value", f"crm:{SECRET}", "crm", SECRET]
    assert secrets_of([webhook, webhook, "junk", None]) == secret_values(webhook)
    assert secrets_of("https://u:p@x") == []
    # a token as the user name, percent-encoded parts, and a URL too malformed for urlsplit
    assert secret_values({"url": "https://tok-123@h.example/x"}) == ["tok-123"]
    assert secret_values({"url": "https://a%40b:p%2Fw@h.example/x"}) == ["a%40b:p%2Fw", "a%40b", "p%2Fw", "a@b", "p/w"]
    assert secret_values({"url": "http://user:pa[ss@host/x"}) == ["user:pa[ss", "user", "pa[ss"]


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (f"https://crm:{SECRET}@crm.example.com:8443/x?a=1", "https://***@crm.example.com:8443/x?a=1"),
        (f"https://:{SECRET}@crm.example.com/x", "https://***@crm.example.com/x"),
        ("https://tok-SECRET@crm.example.com/x", "https://***@crm.example.com/x"),
        ("https://a@b@crm.example.com/x", "https://***@crm.example.com/x"),
        ("http://user:pa[ss@host/x", "http://***@host/x"),
        ("https://crm.example.com/x@y", "https://crm.example.com/x@y"),
        ("https://crm.example.com/x?mail=a@b", "https://crm.example.com/x?mail=a@b"),
        ("https://crm.example.com/x", "https://crm.example.com/x"),
        ("http://[::1", "http://[::1"),
        (None, None),
    ],
)
def test_redact_url_hides_the_whole_user_info(url, shown):
    assert redact_url(url) == shown


def test_safe_text_redacts_before_it_cuts():
    text = "x" * 95 + SECRET + "tail"
    shown = safe_text(text, [SECRET], limit=100)
    for size in range(3, len(SECRET) + 1):
        assert SECRET[:size] not in shown
    assert shown.startswith("x" * 95 + "***")


def test_redact_replaces_longest_first_and_ignores_empty_secrets():
    assert redact("token-abc and token", ["token", "token-abc", "", None]) == "*** and ***"


@pytest.mark.parametrize(
    ("value", "described"),
    [
        (SECRET, "a string of 15 characters"),
        ({"X-Auth": SECRET}, "a mapping with keys 'X-Auth'"),
        ({f"k{i}": SECRET for i in range(10)}, "a mapping with keys " + ", ".join(f"'k{i}'" for i in range(10))),
        (
            {f"k{i}": SECRET for i in range(12)},
            "a mapping with keys " + ", ".join(f"'k{i}'" for i in range(10)) + " and 2 more",
        ),
        ([SECRET, SECRET], "a list of 2 items"),
        (None, "null"),
        (True, "a boolean"),
        (3, "an integer"),
        (1.5, "a number"),
        (object(), "a value of type object"),
    ],
)
def test_shape_says_what_a_value_is_without_what_it_holds(value, described):
    assert shape(value) == described
    assert SECRET not in shape(value)


def test_seal_replaces_secret_values_by_keyed_digests_that_still_compare():
    webhook = {
        "url": f"https://crm:{SECRET}@crm.example.com/x",
        "event": "create",
        "headers": [{"name": "X-A", "value": SECRET}, {"name": "X-B", "value": "other"}],
        "params": [{"name": "p", "value": SECRET}],
    }
    sealed = seal(webhook, b"key-one")
    assert SECRET not in str(sealed["headers"]) + str(sealed["params"]) + sealed["url"]
    assert sealed["event"] == "create"  # only secrets are sealed
    assert sealed["url"].startswith("https://sealed-") and sealed["url"].endswith("@crm.example.com/x")
    assert "crm:" not in sealed["url"]
    assert sealed == seal(webhook, b"key-one")  # the same values seal the same way ...
    assert sealed["headers"][0]["value"] != sealed["headers"][1]["value"]  # ... and different ones differently
    assert seal(webhook, b"key-two")["headers"][0]["value"] != sealed["headers"][0]["value"]  # keyed
    assert seal({"url": "https://a.example", "headers": "junk"}, b"k") == {
        "url": "https://a.example",
        "headers": "junk",
    }


def test_seal_0_1_seals_as_0_1_0_did_for_the_triggers_it_stored():
    from airflow_provider_plusofon.redaction import seal_0_1

    webhook = {
        "url": f"https://crm:{SECRET}@crm.example.com/x",
        "headers": [{"name": "X-A", "value": SECRET}],
        "params": [{"name": "p", "value": "kept-as-it-was"}],
    }
    sealed = seal_0_1(webhook, b"key-one")
    assert sealed["params"] == webhook["params"]
    assert sealed["url"].startswith("https://crm:sealed-") and SECRET not in sealed["url"]
    assert sealed["headers"] == seal(webhook, b"key-one")["headers"]
