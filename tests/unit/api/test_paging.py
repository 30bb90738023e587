"""The list endpoint's paging rules (api/paging.py), with no I/O: the listing generator is driven
with pages by hand, so each rule is seen deciding on the exact pages it is given."""

from __future__ import annotations

import pytest

from airflow_provider_plusofon.api.paging import (
    Shifted,
    _pages_spanned_by_newest,
    check_page,
    kept_changing,
    newest_first,
    page_count,
    read_listing,
    unique_by_id,
)
from airflow_provider_plusofon.exceptions import (
    PlusofonInvalidResponseError,
    PlusofonListingChangedError,
    PlusofonPagingLimitError,
)


def page(number: int, ids: list[int], *, per_page: int = 15, total: int | None = None, last_page=None, **extra) -> dict:
    answer = {"current_page": number, "data": [{"id": i} for i in ids], "per_page": per_page, **extra}
    if total is not None:
        answer["total"] = total
    if last_page is not None:
        answer["last_page"] = last_page
    return answer


def account(size: int, per_page: int = 15) -> dict[int, dict]:
    """Every page of an account of ``size`` webhooks (ids 1..size, oldest first), as the API pages it."""
    last = max(1, -(-size // per_page))
    ids = list(range(1, size + 1))
    return {
        n: page(n, ids[(n - 1) * per_page : n * per_page], per_page=per_page, total=size, last_page=last)
        for n in range(1, last + 1)
    }


def drive(pages: dict[int, dict], max_pages: int = 100) -> tuple[list[list[int]], list[int]]:
    """Run a listing over ``pages``: the batches of page numbers it asked for, and the ids it returned."""
    listing, asked = read_listing(max_pages), []
    try:
        wanted = next(listing)
        while True:
            asked.append(wanted)
            wanted = listing.send([pages[n] for n in wanted])
    except StopIteration as done:
        return asked, [item["id"] for item in done.value]


# -- reading a listing ---------------------------------------------------------------------------


def test_page_one_then_every_proven_page_at_once():
    asked, ids = drive(account(40))
    assert asked == [[1], [2, 3]]
    assert ids == list(range(1, 41))


def test_one_page_account_is_read_in_one_request():
    assert drive(account(14)) == ([[1]], list(range(1, 15)))
    assert drive(account(0)) == ([[1]], [])


def test_without_a_paginator_pages_are_followed_one_by_one_while_the_server_says_there_is_more():
    pages = {
        1: {"data": [{"id": 1}], "next_page_url": "x?page=2"},
        2: {"data": [{"id": 2}], "next_page_url": "x?page=3"},
        3: {"data": [{"id": 3}], "next_page_url": None},
    }
    assert drive(pages) == ([[1], [2], [3]], [1, 2, 3])
    # an empty page ends it even when it points at another
    pages[3] = {"data": [], "next_page_url": "x?page=4"}
    assert drive(pages) == ([[1], [2], [3]], [1, 2])


def test_max_pages_bounds_the_listing_before_the_pages_beyond_it_are_asked_for():
    with pytest.raises(
        PlusofonPagingLimitError, match=r"the list has 3 or more pages, more than max_pages=2"
    ) as caught:
        drive(account(40), max_pages=2)
    assert "raise the connection's extra 'max_pages'" in str(caught.value)
    assert (caught.value.method, caught.value.path) == ("GET", "/api/v1/webhooks")
    assert drive(account(40), max_pages=3)[1] == list(range(1, 41))
    # followed one by one: the limit stops the page beyond it from being asked for
    endless = {n: {"data": [{"id": n}], "next_page_url": "more"} for n in range(1, 10)}
    asked: list[list[int]] = []
    listing = read_listing(3)
    wanted = next(listing)
    with pytest.raises(PlusofonPagingLimitError, match=r"the list has 4 or more pages, more than max_pages=3"):
        while True:
            asked.append(wanted)
            wanted = listing.send([endless[n] for n in wanted])
    assert asked == [[1], [2], [3]]


def test_a_server_that_ignores_the_page_number_is_not_taken_for_a_listing():
    first = account(40)[1]
    with pytest.raises(PlusofonInvalidResponseError) as caught:
        drive({1: first, 2: {**first, "current_page": 2}, 3: {**first, "current_page": 3}})
    assert "page 2 of the list: it repeats only webhooks of earlier pages; the server may ignore ?page=" in str(
        caught.value
    )
    follow = {1: {"data": [{"id": 1}], "next_page_url": "x"}, 2: {"data": [{"id": 1}], "next_page_url": "x"}}
    with pytest.raises(PlusofonInvalidResponseError, match=r"page 2 of the list: it repeats only webhooks"):
        drive(follow)
    # Page 3 repeating page 2 is caught too: every page read counts as seen, not only page 1.
    again = {**follow, 2: {"data": [{"id": 2}], "next_page_url": "x"}, 3: {"data": [{"id": 2}], "next_page_url": None}}
    with pytest.raises(PlusofonInvalidResponseError, match=r"page 3 of the list: it repeats only webhooks"):
        drive(again)


@pytest.mark.parametrize(
    ("change", "why"),
    [
        (lambda p: {**p[2], "total": 41}, "total changed between pages"),
        (lambda p: {**p[2], "last_page": 4}, "last_page changed between pages"),
        (lambda p: {**p[2], "data": p[2]["data"][:-1]}, "a page before the last was not full"),
        (lambda p: {**p[2], "data": [*p[2]["data"][:-1], {"id": 1}]}, "a webhook was listed on two pages"),
    ],
)
def test_pages_that_contradict_each_other_are_a_shifted_read(change, why):
    pages = account(40)
    pages[2] = change(pages)
    with pytest.raises(Shifted, match=f"^{why}$"):
        drive(pages)


def test_pages_holding_another_number_of_webhooks_than_total_are_a_shifted_read():
    pages = account(40)
    pages[3] = {**pages[3], "data": pages[3]["data"][:-1]}
    with pytest.raises(Shifted, match=r"^the pages hold another number of webhooks than total says$"):
        drive(pages)


def test_kept_changing_says_how_many_reads_saw_the_account_change():
    error = kept_changing(5)
    assert isinstance(error, PlusofonListingChangedError)
    assert str(error) == (
        "the account kept changing while it was listed (5 reads in a row saw webhooks created, deleted or "
        "edited meanwhile); nothing was decided on it. Try again when the other changes are done"
    )


# -- one page, checked ---------------------------------------------------------------------------


def test_a_page_is_a_paginator_with_valid_ids_and_quoted_ids_become_ints():
    checked = check_page({"current_page": "2", "data": [{"id": "7", "url": "u"}, {"id": 8}]}, 2)
    assert checked["data"] == [{"id": 7, "url": "u"}, {"id": 8}]
    assert check_page({"data": []}, 3) == {"data": []}  # current_page is optional


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ([], "page 2 of the list: the answer is not a paginator with a 'data' array"),
        ({"data": {"id": 1}}, "page 2 of the list: the answer is not a paginator with a 'data' array"),
        ({"current_page": 3, "data": []}, "page 2 of the list: asked for page 2, the answer says it is page '3'"),
        ({"data": [{"id": 1}, {"id": 0}]}, "page 2 of the list: item 1 has no valid id (got an integer)"),
        ({"data": [{"id": "secret-ish"}]}, "item 0 has no valid id (got a string of 10 characters)"),
        ({"data": [{"id": 1}, "x"]}, "item 1 has no valid id (got a string of 1 characters); the listing cannot be"),
    ],
)
def test_a_page_the_client_cannot_trust_is_named_by_its_number_and_what_is_wrong(answer, message):
    with pytest.raises(PlusofonInvalidResponseError) as caught:
        check_page(answer, 2)
    assert message in str(caught.value)
    assert (caught.value.status_code, caught.value.method, caught.value.path) == (200, "GET", "/api/v1/webhooks")


def test_a_long_page_number_in_an_answer_is_cut_short():
    with pytest.raises(PlusofonInvalidResponseError) as caught:
        check_page({"current_page": "9" * 50, "data": []}, 2)
    assert "the answer says it is page '" + "9" * 20 + "'" in str(caught.value)


# -- how many pages page 1 proves ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "count"),
    [
        ({"last_page": 3, "total": 40, "per_page": 15}, 3),
        ({"last_page": 3}, 3),
        ({"total": 45, "per_page": 15}, 3),
        ({"total": 46, "per_page": 15}, 4),
        ({"total": 0, "per_page": 15}, 1),
        ({"total": 1, "per_page": 1}, 1),
        ({"total": 40}, None),
        ({"total": 40, "per_page": 0}, None),
        ({"total": 40, "per_page": True}, None),
        ({"total": True, "per_page": 15}, None),
        ({"total": -1, "per_page": 15}, None),
        ({"total": "40", "per_page": 15}, None),
        ({}, None),
    ],
)
def test_page_count_is_what_page_one_proves(first, count):
    assert page_count(first) == count


@pytest.mark.parametrize(
    ("last_page", "shown"),
    [(0, "an integer"), (-1, "an integer"), (True, "a boolean"), ("3", "a string of 1 characters"), (2.0, "a number")],
)
def test_a_last_page_that_is_not_a_positive_integer_is_refused(last_page, shown):
    with pytest.raises(PlusofonInvalidResponseError) as caught:
        page_count({"last_page": last_page})
    assert caught.value.message == f"page 1 of the list: last_page is not a positive integer (got {shown})"


def test_a_paginator_that_contradicts_itself_is_refused():
    with pytest.raises(PlusofonInvalidResponseError) as caught:
        page_count({"last_page": 2, "total": 40, "per_page": 15})
    assert caught.value.message == (
        "page 1 of the list: the paginator contradicts itself: last_page=2, but total=40 and per_page=15 make 3 page(s)"
    )


def test_a_webhook_read_twice_is_kept_once_as_first_seen():
    items = [{"id": 1, "url": "a"}, {"id": 1, "url": "b"}, {"id": 2, "url": "c"}, {"id": 1, "url": "d"}]
    assert unique_by_id(items) == [{"id": 1, "url": "a"}, {"id": 2, "url": "c"}]


# -- where new webhooks are looked up --------------------------------------------------------------


@pytest.mark.parametrize(
    ("count", "total", "last_page", "pages"),
    [
        (10, 40, 3, 1),  # the 10 on the last page
        (11, 40, 3, 2),
        (25, 40, 3, 2),
        (26, 40, 3, 3),
        (15, 45, 3, 1),  # a full last page
        (16, 45, 3, 2),
        (31, 45, 3, 3),
        (2, 16, 2, 2),  # one on the last page: the second reaches back a page
        (1, 0, 1, 1),  # an empty account: as many pages as the items fill
        (16, 0, 1, 2),
    ],
)
def test_the_newest_items_span_the_last_pages_they_fill(count, total, last_page, pages):
    assert _pages_spanned_by_newest(count, 15, total, last_page) == pages


def test_new_webhooks_are_looked_up_from_the_last_page_back():
    first = account(100)[1]  # 7 pages, 10 webhooks on the last
    assert newest_first(first, 1, 1) == [[7], [6], [5], [4], [3], [2]]
    assert newest_first(first, 1, 4) == [[7], [6, 5, 4, 3], [2]]
    assert newest_first(first, 10, 2) == [[7], [6, 5], [4, 3], [2]]
    assert newest_first(first, 11, 1) == [[7, 6], [5, 4], [3, 2]]
    assert newest_first(first, 30, 2) == [[7, 6, 5], [4, 3, 2]]


def test_without_total_and_per_page_the_last_pages_are_read_one_batch_at_a_time():
    assert newest_first({"last_page": 4}, 20, 2) == [[4], [3, 2]]
    assert newest_first({"last_page": 1}, 20, 2) == []
    assert newest_first({"data": []}, 5, 2) == []  # one page: nothing after it
    # per_page without a usable total says nothing of how the newest items spread
    assert newest_first({"last_page": 4, "per_page": 15}, 20, 2) == [[4], [3, 2]]
    assert newest_first({"last_page": 4, "per_page": 15, "total": True}, 20, 2) == [[4], [3, 2]]
