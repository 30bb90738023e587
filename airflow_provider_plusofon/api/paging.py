"""The list endpoint's paging rules, with no I/O: what a page must look like, how many there are,
in which order to read them. No Airflow import here.

Paging is bounded by what page 1 proves (``last_page``, or ``total``/``per_page``), stops at a
page that brings no new id, and never goes past ``max_pages``. The listing itself is a generator
(:func:`read_listing`) that says which pages to fetch and is sent them, so that any sender, a
thread pool today or an event loop, drives the same rules.

A listing is read while others may change the account: a read whose pages contradict each other
(another ``total``, an id on two pages, a page short of ``per_page`` before the last) raises
:class:`Shifted`, and the reader reads again, at most :data:`MAX_LISTING_READS` times. A read that
contradicts nothing can still have missed a webhook that moved onto a page already read; only a
second read equal to it (:func:`same_listing`) proves it a snapshot.
"""

from __future__ import annotations

import math
from collections.abc import Generator, Iterable, Mapping, Sequence
from typing import Any

from airflow_provider_plusofon.api.ids import WEBHOOKS_PATH, listed_id
from airflow_provider_plusofon.exceptions import (
    PlusofonInvalidResponseError,
    PlusofonListingChangedError,
    PlusofonPagingLimitError,
)
from airflow_provider_plusofon.redaction import shape

# Yields the page numbers to fetch next (in any order, at once), is sent their checked pages in
# that order, and returns every webhook listed, each id once.
Listing = Generator[list[int], list[dict[str, Any]], list[dict[str, Any]]]
# Reads of a listing before concluding that the account will not hold still long enough.
MAX_LISTING_READS = 5


class Shifted(Exception):
    """The pages of one read contradict each other: the account changed while it was read."""


def kept_changing(reads: int) -> PlusofonListingChangedError:
    """The error once ``reads`` reads in a row saw the account change."""
    return PlusofonListingChangedError(
        f"the account kept changing while it was listed ({reads} reads in a row saw webhooks created, deleted or "
        "edited meanwhile); nothing was decided on it. Try again when the other changes are done"
    )


def same_listing(one: Sequence[Mapping[str, Any]], other: Sequence[Mapping[str, Any]]) -> bool:
    """Whether two reads of the list saw the same webhooks, with the same list fields, in the same order."""
    return [dict(item) for item in one] == [dict(item) for item in other]


def invalid(text: str, *, page: int) -> PlusofonInvalidResponseError:
    """The error for a page of the list the client cannot trust."""
    return PlusofonInvalidResponseError(
        f"page {page} of the list: {text}", status_code=200, method="GET", path=WEBHOOKS_PATH
    )


def _positive_int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def check_page(answer: Any, page: int) -> dict[str, Any]:
    """One page of the list, checked: a paginator whose ``data`` items each have a valid id."""
    if not isinstance(answer, dict) or not isinstance(answer.get("data"), list):
        raise invalid("the answer is not a paginator with a 'data' array", page=page)
    current = answer.get("current_page")
    if current is not None and str(current) != str(page):
        raise invalid(f"asked for page {page}, the answer says it is page {str(current)[:20]!r}", page=page)
    items = []
    for position, item in enumerate(answer["data"]):
        webhook_id = listed_id(item.get("id")) if isinstance(item, dict) else None
        if webhook_id is None:
            found = shape(item.get("id")) if isinstance(item, dict) else shape(item)
            raise invalid(f"item {position} has no valid id (got {found}); the listing cannot be trusted", page=page)
        items.append({**item, "id": webhook_id})
    return {**answer, "data": items}


def page_count(first: Mapping[str, Any]) -> int | None:
    """How many pages the list has, as far as page 1 proves it (``None``: it does not say)."""
    last_page, total, per_page = (first.get(key) for key in ("last_page", "total", "per_page"))
    proven = None
    if _positive_int(per_page) and isinstance(total, int) and not isinstance(total, bool) and total >= 0:
        proven = max(1, math.ceil(total / per_page))  # type: ignore[operator]
    if last_page is None:
        return proven
    if not _positive_int(last_page):
        raise invalid(f"last_page is not a positive integer (got {shape(last_page)})", page=1)
    if proven is not None and last_page != proven:
        raise invalid(
            f"the paginator contradicts itself: last_page={last_page}, but total={total} and "
            f"per_page={per_page} make {proven} page(s)",
            page=1,
        )
    return int(last_page)


def check_page_limit(pages: int, max_pages: int) -> None:
    if pages > max_pages:
        raise PlusofonPagingLimitError(
            f"the list has {pages} or more pages, more than max_pages={max_pages}; raise the "
            "connection's extra 'max_pages' if the account really is that large",
            method="GET",
            path=WEBHOOKS_PATH,
        )


def unique_by_id(items: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Each id once, first seen first: items can shift between pages while we page."""
    seen: set[Any] = set()
    unique = []
    for item in items:
        if item["id"] in seen:
            continue
        seen.add(item["id"])
        unique.append(dict(item))
    return unique


def _add_new_ids(seen: set[int], page: Mapping[str, Any], number: int) -> None:
    # A server that ignores ?page= answers page 1 every time: that must not pass for a listing.
    ids = {item["id"] for item in page["data"]}
    if ids and ids <= seen:
        raise invalid("it repeats only webhooks of earlier pages; the server may ignore ?page=", page=number)
    seen |= ids


def read_listing(max_pages: int) -> Listing:
    """Every webhook on the account: page 1, then the pages it proves, fetched at once."""
    [first] = yield [1]
    return (yield from read_rest(first, max_pages))


def read_rest(first: dict[str, Any], max_pages: int) -> Listing:
    """Every webhook, given page 1 as already fetched. Without a full paginator, page numbers are
    followed one by one while the server says there is more."""
    count = page_count(first)
    seen = {item["id"] for item in first["data"]}
    pages = [first]
    if count is not None:
        check_page_limit(count, max_pages)
        rest = (yield list(range(2, count + 1))) if count > 1 else []
        for number, page in enumerate(rest, start=2):
            _add_new_ids(seen, page, number)
        pages += rest
        _check_one_read(pages)
        return unique_by_id(item for page in pages for item in page["data"])
    number = 1
    while pages[-1].get("next_page_url") and pages[-1]["data"]:
        check_page_limit(number + 1, max_pages)
        number += 1
        [page] = yield [number]
        _add_new_ids(seen, page, number)
        pages.append(page)
    _check_one_read(pages)
    return unique_by_id(item for page in pages for item in page["data"])


def check_same_paginator(first: Mapping[str, Any], pages: Iterable[Mapping[str, Any]]) -> None:
    """Raise :class:`Shifted` when a page says another ``total`` or ``last_page`` than page 1."""
    for page in pages:
        for key in ("total", "last_page"):
            if page.get(key) != first.get(key):
                raise Shifted(f"{key} changed between pages")


def _check_one_read(pages: Sequence[Mapping[str, Any]]) -> None:
    """Raise :class:`Shifted` when the pages of one read contradict each other."""
    first = pages[0]
    check_same_paginator(first, pages)
    ids = [item["id"] for page in pages for item in page["data"]]
    if len(ids) != len(set(ids)):
        raise Shifted("a webhook was listed on two pages")
    per_page = _positive_int(first.get("per_page"))
    if per_page and any(len(page["data"]) != per_page for page in pages[:-1]):
        raise Shifted("a page before the last was not full")
    total = first.get("total")
    if isinstance(total, int) and not isinstance(total, bool) and per_page and total != len(ids):
        raise Shifted("the pages hold another number of webhooks than total says")


def _pages_spanned_by_newest(count: int, per_page: int, total: int, last_page: int) -> int:
    """How many pages, from the last back, the ``count`` newest items fill."""
    on_last_page = min(per_page, total - (last_page - 1) * per_page)
    if count <= on_last_page or on_last_page <= 0:
        return max(1, math.ceil(count / per_page))
    return 1 + math.ceil((count - on_last_page) / per_page)


def newest_first(first: Mapping[str, Any], newest: int, batch_at_least: int) -> list[list[int]]:
    """
    The pages after page 1 in batches from the last back, for looking up ``newest`` new items:
    accounts list oldest first as a rule, so new webhooks fill the last pages. The first batch
    is as many last pages as they can span; the others at least ``batch_at_least`` pages each.
    Page 1 must have proven the page count (see :func:`page_count`).
    """
    count = page_count(first) or 1
    per_page, total = _positive_int(first.get("per_page")), first.get("total")
    batch = 1
    if per_page and isinstance(total, int) and not isinstance(total, bool):
        batch = _pages_spanned_by_newest(newest, per_page, total, count)
    remaining, batches = list(range(count, 1, -1)), []
    while remaining:
        batches.append(remaining[:batch])
        remaining = remaining[batch:]
        batch = max(batch, batch_at_least)
    return batches
