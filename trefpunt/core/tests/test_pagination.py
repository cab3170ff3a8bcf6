"""``BoundedPaginator``: the same rows in the same order whichever way a page is loaded; near
the top in one query, deeper in two (ids, then rows)."""

from __future__ import annotations

import pytest

from trefpunt.contests.models import Contest
from trefpunt.contests.selectors import contest_list_public
from trefpunt.contests.tests.factories import make_user, published
from trefpunt.core import pagination
from trefpunt.core.pagination import BoundedPaginator

pytestmark = pytest.mark.django_db


def test_bounded_paginator_loads_pages_near_the_top_in_one_query(
    monkeypatch: pytest.MonkeyPatch, django_assert_num_queries
):
    client = make_user()
    for _ in range(5):
        published(client)
    expected = list(contest_list_public().values_list("pk", flat=True))
    monkeypatch.setattr(pagination, "ONE_STEP_OFFSET_MAX", 2)
    pages = {}
    paginator = BoundedPaginator(contest_list_public().prefetch_related(None), 2)
    assert paginator.count == 5
    for number, queries in ((1, 1), (2, 1), (3, 2)):
        # Pages 1 and 2 skip 0 and 2 rows (one step); page 3 skips 4 (ids, then rows).
        with django_assert_num_queries(queries):
            pages[number] = [c.pk for c in paginator.page(number).object_list]
    assert pages[1] + pages[2] + pages[3] == expected
    assert all(isinstance(c, Contest) for c in paginator.page(3).object_list)
    ids_page = paginator.get_page_ids(99)
    assert (ids_page.number, list(ids_page.object_list)) == (3, expected[4:])


def test_bounded_paginator_reads_rows_another_way_without_counting_through_their_joins(
    monkeypatch: pytest.MonkeyPatch, django_assert_num_queries
):
    client = make_user()
    for _ in range(5):
        published(client)
    contests = contest_list_public().prefetch_related(None).select_related(None)
    expected = list(contests.values_list("pk", flat=True))
    monkeypatch.setattr(pagination, "ONE_STEP_OFFSET_MAX", 2)
    rows = contests.values_list("pk", "created_by__email", named=True)
    paginator = BoundedPaginator(contests, 2, rows=rows)
    with django_assert_num_queries(1) as counted:
        assert paginator.count == 5
    assert "accounts_user" not in counted.captured_queries[0]["sql"]
    pages = [list(paginator.page(n).object_list) for n in (1, 2, 3)]
    assert [r.pk for page in pages for r in page] == expected
    assert {r.created_by__email for page in pages for r in page} == {client.email}
