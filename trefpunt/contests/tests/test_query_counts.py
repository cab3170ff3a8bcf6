"""Every page ``bench/web.py`` times at 100,000 contests runs a fixed number of queries,
whatever the data: measured once on a small site, then again after it grew (pages made two
rows long, so deep pages and filters are reached with a handful of rows)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from trefpunt.accounts.models import User
from trefpunt.contests.models import Contest, Entry
from trefpunt.contests.selectors import ContestFilters, contest_list_public
from trefpunt.contests.services import entry_rate
from trefpunt.core.pagination import BoundedPaginator
from trefpunt.core.selectors import home_figures
from trefpunt.microtasks.models import Batch
from trefpunt.microtasks.services import (
    lease_answer,
    lease_answer_page,
    lease_claim,
    lease_claim_page,
)
from trefpunt.microtasks.tests.factories import published_batch

from .factories import enter, make_user, published

SMALL_PAGE = 2
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _small_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("trefpunt.contests.views.contests.LIST_PAGE_SIZE", SMALL_PAGE)
    monkeypatch.setattr("trefpunt.contests.views.contests.DASHBOARD_PAGE_SIZE", SMALL_PAGE)
    monkeypatch.setattr("trefpunt.contests.views.judging.JUDGE_PAGE_SIZE", SMALL_PAGE)


def browser(user: User | None = None) -> Client:
    session = Client()
    if user is not None:
        session.force_login(user)
    return session


def _grow(client: User, member: User, big: Contest) -> None:
    for _ in range(2):
        published_batch(items=4)
    for _ in range(4):
        contest = published(client, prizes=[20000, 10000])
        enter(contest, member)
        enter(contest)
    for _ in range(4):
        entry = enter(big)
        entry_rate(entry_id=entry.pk, user=client, rating=4, feedback="ok")
    enter(big, member)


def _addresses(big: Contest, entry: Entry, batch: Batch, member: User) -> list[tuple[str, str]]:
    """(who, address) of every page the web bench times."""
    return [
        ("anon", "/en/"),
        ("anon", "/en/contests/"),
        ("anon", "/en/contests/?page=3"),
        ("anon", "/en/contests/?page=last"),
        ("anon", "/en/contests/?prize_min=100"),
        ("anon", "/en/contests/?prize_max=1000"),
        ("anon", "/en/contests/?prize_min=100&page=2"),
        ("anon", "/en/contests/?q=bakery+logo"),
        ("member", "/api/v1/contests"),
        ("member", "/api/v1/contests?page=2&page_size=2"),
        ("client", "/en/contests/dashboard/"),
        ("client", "/en/contests/dashboard/?page=2"),
        ("member", "/en/contests/my-entries/"),
        ("member", "/en/contests/my-entries/?page=2"),
        ("anon", big.get_absolute_url()),
        ("client", reverse("contests:judge", kwargs={"pk": big.pk})),
        ("client", reverse("contests:judge", kwargs={"pk": big.pk}) + "?page=2"),
        ("anon", entry.get_absolute_url()),
        ("client", f"/api/v1/contests/{big.pk}/entries"),
        ("anon", "/en/microtasks/"),
        ("member", "/en/microtasks/"),
        ("anon", f"/en/microtasks/batches/{batch.pk}/"),
        ("member", f"/en/microtasks/batches/{batch.pk}/work/"),
        ("member", "/api/v1/batches"),
        ("client", "/en/wallet/"),
        ("client", "/api/v1/wallet/transactions"),
        ("anon", member.profile.get_absolute_url()),
    ]


def _counts(
    sessions: dict[str, Client], addresses: list[tuple[str, str]], assert_max: Any
) -> list[int]:
    counts = []
    for who, address in addresses:
        # Each page without what the pages keep in the cache (``contests.fragments``): the
        # full work, as on a first visit, and never a piece another address left (the
        # public list keeps its pages' ids, which ``?page=3`` of a short list shares with
        # page 1).
        cache.clear()
        with assert_max(40) as captured:
            assert sessions[who].get(address).status_code == 200, address
        counts.append(len(captured.captured_queries))
    return counts


def test_every_bench_page_runs_a_constant_number_of_queries(django_assert_max_num_queries):
    client, member = make_user(), make_user()
    big = published(client, max_entries_per_entrant=10)
    entry = enter(big, member)
    enter(big)
    batch = published_batch(items=4)
    assert lease_claim(batch_id=batch.pk, worker=member) is not None
    sessions = {"anon": browser(), "client": browser(client), "member": browser(member)}
    addresses = _addresses(big, entry, batch, member)
    small = _counts(sessions, addresses, django_assert_max_num_queries)
    _grow(client, member, big)
    grown = _counts(sessions, addresses, django_assert_max_num_queries)
    assert [
        (address, before, after)
        for (_who, address), before, after in zip(addresses, small, grown, strict=True)
        if after > before
    ] == []


# A constant of the code compared with a parameter in a prepared statement: after five runs
# PostgreSQL keeps a generic plan, which cannot use a partial index on such a column
# (``WHERE status = 'open'``) and scans instead: the worker's batch list took 55 ms where it
# took 0.7 with the constant written in (``core.db.sql_literal``). Prepared statements are
# logged with their placeholders; the ORM's, bound on the client, with their values.
_CONSTANT_AS_PARAMETER = re.compile(
    r"(?:WHERE|AND|OR|ON|FILTER \()\s+\(?(?:\w+\.)?\"?(?:status|kind|role|active)\"?"
    r"\s*(?:=|<>|!=|IN\s*\(|=\s*ANY\s*\()\s*%",
    re.IGNORECASE,
)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's prepared statements")
def test_prepared_statements_write_the_codes_constants_in():
    client, member = make_user(), make_user()
    big = published(client, max_entries_per_entrant=10)
    entry = enter(big, member)
    batch = published_batch(items=4, min_answers=1, max_answers=1)
    sessions = {"anon": browser(), "client": browser(client), "member": browser(member)}
    with CaptureQueriesContext(connection) as captured:
        lease = lease_claim(batch_id=batch.pk, worker=member)
        assert lease is not None
        lease_answer(lease_id=lease.pk, worker=member, answer={"sentiment": "pos"})
        pages = lease_claim_page(batch_id=batch.pk, worker=member, size=2)
        lease_answer_page(
            worker=member, answers=[(page.pk, {"sentiment": "pos"}) for page in pages]
        )
        assert lease_claim(batch_id=batch.pk, worker=member) is not None
        for who, address in _addresses(big, entry, batch, member):
            cache.clear()
            assert sessions[who].get(address).status_code == 200, address
    prepared = {q["sql"] for q in captured.captured_queries if "%s" in q["sql"] or "%(" in q["sql"]}
    assert len(prepared) >= 20
    assert [sql for sql in prepared if _CONSTANT_AS_PARAMETER.search(sql)] == []


def test_contest_text_filter_matches_every_word_in_title_or_summary():
    client = make_user()
    bakery = published(client, title="A logo for a bakery", summary="Warm and simple.")
    garage = published(client, title="A logo for a garage", summary="Bold, works on a van.")

    def found(text: str) -> set[int]:
        return {c.pk for c in contest_list_public(filters=ContestFilters(q=text))}

    assert found("logo") == {bakery.pk, garage.pk}
    assert found("bakery logo") == {bakery.pk}
    assert found("garage warm") == set()
    assert found("simple") == {bakery.pk}
    assert found("bak") == {bakery.pk}
    # Punctuation and tsquery syntax are words' edges, never an error.
    assert found("van & | ! :* (") == {garage.pk}
    assert found("&|!") == {bakery.pk, garage.pk}


def test_contest_list_api_says_when_its_count_is_a_lower_bound():
    client = make_user()
    for _ in range(3):
        published(client)
    body = browser(make_user()).get("/api/v1/contests").json()
    assert (body["count"], body["count_capped"]) == (3, False)
    bounded = BoundedPaginator(contest_list_public(), 1, max_rows=2)
    assert (bounded.count, bounded.capped, bounded.num_pages) == (2, True, 2)


def test_home_figures_are_counted_once_a_minute(django_assert_num_queries):
    client = make_user()
    published(client, prizes=[20000, 10000])
    first = home_figures()
    published(client, prizes=[5000])
    with django_assert_num_queries(0):
        assert home_figures() == first
    assert first.open_contests == 1
    assert first.prizes_in_escrow == 30000


def test_contest_list_cached_filter_forms_follow_the_query_and_its_errors():
    session = browser()
    assert 'value="bakery"' in session.get("/en/contests/?q=bakery").content.decode()
    garage = session.get("/en/contests/?q=garage").content.decode()
    assert 'value="garage"' in garage and 'value="bakery"' not in garage
    wrong = session.get("/en/contests/?prize_min=50&prize_max=10").content.decode()
    assert wrong.count("Enter an amount of at least 50.") == 2
    assert "Enter an amount" not in session.get("/en/contests/?prize_min=50").content.decode()


def test_judging_page_counts_the_contests_entries_once(django_assert_max_num_queries):
    """Unfiltered, the grid's count is the contest's entry count (``access.entry_count``):
    read once, not twice."""
    client = make_user()
    big = published(client)
    for _ in range(3):
        enter(big)
    judge = reverse("contests:judge", kwargs={"pk": big.pk})
    session = browser(client)
    for address in (judge, judge + "?page=1"):
        with django_assert_max_num_queries(40) as captured:
            page = session.get(address).content.decode()
        counts = [
            q["sql"]
            for q in captured.captured_queries
            if "COUNT(" in q["sql"] and '"contests_entry"' in q["sql"]
        ]
        assert len(counts) == 1, counts
        assert "3 entries" in page


def test_client_dashboard_reads_only_the_columns_its_rows_show():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = make_user()
    contest = published(client, title="A logo for a bakery", prizes=[20000, 10000])
    enter(contest)
    with CaptureQueriesContext(connection) as captured:
        page = browser(client).get("/en/contests/dashboard/").content.decode()
    assert "A logo for a bakery" in page and "300.00" in page
    assert not [
        q for q in captured.captured_queries if '"contests_contest"."description"' in q["sql"]
    ]


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="the dashboard's written-out statements are PostgreSQL's (elsewhere the ORM's)",
)
def test_client_dashboard_statements_list_what_its_queryset_lists(monkeypatch):
    """``client_dashboard_pages`` gives, page by page (the deep ones in two steps), the rows
    ``client_dashboard`` gives: the user's own contests and those of organisations they own
    or administer, not a plain member's organisation's, nobody else's; newest first."""
    from datetime import timedelta

    import time_machine

    from trefpunt.accounts.services import invitation_accept, organisation_invite
    from trefpunt.contests.models import Handover
    from trefpunt.contests.selectors import (
        CLIENT_ROW_VALUES,
        client_dashboard,
        client_dashboard_pages,
    )
    from trefpunt.contests.services import contest_award, contest_close_entries

    from .factories import make_organisation

    monkeypatch.setattr("trefpunt.core.pagination.ONE_STEP_OFFSET_MAX", 2)
    client, other = make_user(), make_user()
    administered, joined = make_organisation(other), make_organisation(other)
    for organisation, role in ((administered, "admin"), (joined, "member")):
        _invitation, token = organisation_invite(
            organisation=organisation, inviter=other, email=client.email, role=role
        )
        invitation_accept(token=token, user=client)
    awarded = published(client)
    entry = enter(awarded)
    with time_machine.travel(awarded.entry_deadline + timedelta(minutes=1), tick=False):
        contest_close_entries(contest_id=awarded.pk)
    contest_award(contest_id=awarded.pk, user=client, awards={1: entry.pk})
    Handover.objects.filter(contest=awarded).update(status=Handover.Status.DELIVERED)
    for _ in range(3):
        published(client)
        published(other, organisation=administered)
        published(other, organisation=joined)
        published(other)
    expected = list(client_dashboard(user=client).values_list(*CLIENT_ROW_VALUES, named=True))
    assert len(expected) == 7 and any(r.handover_waiting for r in expected)
    paginator = client_dashboard_pages(user=client, per_page=2)
    assert paginator is not None and paginator.count == 7
    shown = [tuple(r) for n in paginator.page_range for r in paginator.page(n).object_list]
    assert shown == [tuple(r) for r in expected]
    alone = client_dashboard_pages(user=other, per_page=50)
    assert alone is not None
    mine = list(client_dashboard(user=other).values_list(*CLIENT_ROW_VALUES, named=True))
    assert [tuple(r) for r in alone.page(1).object_list] == [tuple(r) for r in mine]


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="the entrant's written-out statements are PostgreSQL's (elsewhere the ORM's)",
)
def test_entrant_statements_list_what_its_queryset_lists(monkeypatch):
    """``entrant_entries_pages`` gives, page by page (the deep ones in two steps), the rows
    ``entrant_entries`` gives: the user's own entries only, newest first."""
    from trefpunt.contests.selectors import (
        ENTRANT_ROW_VALUES,
        entrant_entries,
        entrant_entries_pages,
    )

    monkeypatch.setattr("trefpunt.core.pagination.ONE_STEP_OFFSET_MAX", 2)
    member, client = make_user(), make_user()
    for _ in range(3):
        contest = published(client, max_entries_per_entrant=2)
        enter(contest, member)
        enter(contest)
    rated = enter(contest, member)
    entry_rate(entry_id=rated.pk, user=client, rating=3, feedback="Close")
    expected = list(entrant_entries(user=member).values_list(*ENTRANT_ROW_VALUES, named=True))
    assert len(expected) == 4
    paginator = entrant_entries_pages(user=member, per_page=1)
    assert paginator is not None and paginator.count == 4
    shown = [tuple(r) for n in paginator.page_range for r in paginator.page(n).object_list]
    assert shown == [tuple(r) for r in expected]


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="the entrant's facts are one written-out statement on PostgreSQL only",
)
def test_entrant_dashboard_reads_no_list_it_has_nothing_for(django_assert_num_queries):
    """Most people have no payment, invitation or handover: one statement says so, and the
    three lists are not read."""
    from trefpunt.contests.selectors import entrant_dashboard

    member = make_user()
    enter(published(make_user()), member)
    with django_assert_num_queries(1):
        dash = entrant_dashboard(user=member)
    assert (dash.payment_count, dash.earned_net) == (0, 0)
    assert dash.payments == dash.invitations == dash.handovers_to_deliver == []


def _entry_state(entry: Entry) -> tuple[Any, ...]:
    """An entry as the judging grid reads it: its own fields, its entrant's, the entrant's
    profile's and its current version's."""

    def fields(instance: Any) -> dict[str, Any]:
        meta = type(instance)._meta
        return {f.attname: getattr(instance, f.attname) for f in meta.concrete_fields}

    version = entry.current_version
    return (
        fields(entry),
        fields(entry.entrant),
        fields(entry.entrant.profile),
        fields(version) if version is not None else None,
    )


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="the manager's written-out entry statements are PostgreSQL's (elsewhere the ORM's)",
)
def test_manager_entry_statements_list_what_the_grids_queryset_lists(
    monkeypatch, django_assert_num_queries
):
    """``entry_pages_for_manager`` gives, for every filter of the judging grid and the API,
    for the client and for staff, page by page (the deep ones in two steps), the entries
    ``entries_without_contest(entry_list_for_viewer(...))`` gives, with their entrant,
    profile and current version loaded; nobody else gets the statements."""
    from trefpunt.contests.selectors import (
        EntryFilters,
        contest_access_for_manager,
        contest_get_for_user,
        entries_without_contest,
        entry_list_for_viewer,
        entry_pages_for_manager,
    )
    from trefpunt.contests.services import entry_decline, entry_finalist_set, entry_withdraw

    monkeypatch.setattr("trefpunt.core.pagination.ONE_STEP_OFFSET_MAX", 2)
    client, member, staff = make_user(), make_user(), make_user(is_staff=True)
    contest = published(client, max_entries_per_entrant=3)
    entries = [enter(contest, member), *(enter(contest) for _ in range(6))]
    entry_rate(entry_id=entries[0].pk, user=client, rating=5)
    entry_rate(entry_id=entries[1].pk, user=client, rating=2)
    entry_finalist_set(entry_id=entries[2].pk, user=client, finalist=True)
    entry_decline(entry_id=entries[3].pk, user=client, reason="Not what the brief asks for.")
    entry_withdraw(entry_id=entries[4].pk, user=entries[4].entrant)
    Entry.objects.filter(pk=entries[5].pk).update(is_flagged=True)
    managers = [
        contest_access_for_manager(contest_id=contest.pk, user=client, prizes=False),
        contest_get_for_user(contest_id=contest.pk, user=staff, prizes=False),
    ]
    every = [
        EntryFilters(),
        EntryFilters(unrated=True),
        EntryFilters(rated_min=4),
        EntryFilters(finalists=True),
        EntryFilters(flagged=True),
        EntryFilters(status=Entry.Status.DECLINED),
        EntryFilters(mine=True),
        EntryFilters(unrated=True, flagged=True),
    ]
    for access in managers:
        for filters in every:
            queryset = entries_without_contest(
                entry_list_for_viewer(access=access, filters=filters).prefetch_related(None)
            )
            expected = [_entry_state(e) for e in queryset]
            paginator = entry_pages_for_manager(access=access, filters=filters, per_page=2)
            assert paginator is not None
            assert paginator.count == len(expected), filters
            pages = [list(paginator.page(n).object_list) for n in paginator.page_range]
            with django_assert_num_queries(0):
                shown = [_entry_state(e) for page in pages for e in page]
            assert shown == expected, filters
    entrant = contest_get_for_user(contest_id=contest.pk, user=member, prizes=False)
    assert entry_pages_for_manager(access=entrant, filters=EntryFilters(), per_page=2) is None
