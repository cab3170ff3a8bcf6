"""Concurrency on PostgreSQL: real row locks, two transactions at once."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from trefpunt.accounts.models import User
from trefpunt.contests.models import Contest, Entry, Payment
from trefpunt.contests.services import (
    contest_award,
    contest_close_entries,
    contest_guarantee,
    contest_publish,
)
from trefpunt.core.exceptions import Conflict
from trefpunt.core.testing import run_concurrently
from trefpunt.ledger.models import JournalEntry
from trefpunt.ledger.tests.factories import funded_wallet

from .factories import (
    assert_money_consistent,
    draft,
    enter,
    escrow_of,
    judging_end,
    make_user,
    published,
    wallet_balance,
)

pytestmark = [pytest.mark.race, pytest.mark.django_db(transaction=True)]


def _judging_contest() -> tuple[User, Contest, Entry, Entry]:
    client = make_user()
    contest = published(client, prizes=[30000])
    a = enter(contest)
    b = enter(contest)
    with time_machine.travel(contest.entry_deadline + timedelta(minutes=1), tick=False):
        contest = contest_close_entries(contest_id=contest.pk)
    return client, contest, a, b


def test_contest_award_twice_at_once_pays_exactly_once():
    client, contest, a, b = _judging_contest()
    choice = [a, b]
    results = run_concurrently(
        lambda i: contest_award(contest_id=contest.pk, user=client, awards={1: choice[i].pk}),
        workers=2,
    )
    wins = [r for r in results if isinstance(r, Contest)]
    conflicts = [r for r in results if isinstance(r, Conflict)]
    assert len(wins) == 1 and len(conflicts) == 1, results
    assert Payment.objects.filter(contest=contest).count() == 1
    assert wallet_balance(a.entrant) + wallet_balance(b.entrant) == 28500
    assert Entry.objects.filter(contest=contest, status=Entry.Status.WINNER).count() == 1
    assert escrow_of(contest) == 0
    assert_money_consistent()


def test_contest_guarantee_racing_a_manual_award_pays_exactly_once():
    client, contest, a, b = _judging_contest()

    def act(i: int) -> Contest:
        if i == 0:
            return contest_award(contest_id=contest.pk, user=client, awards={1: a.pk})
        return contest_guarantee(contest_id=contest.pk)

    with time_machine.travel(judging_end(contest) + timedelta(seconds=1), tick=False):
        results = run_concurrently(act, workers=2)
    conflicts = [r for r in results if isinstance(r, Conflict)]
    assert len(conflicts) == 1, results
    contest.refresh_from_db()
    paid = sum(p.gross for p in Payment.objects.filter(contest=contest))
    assert paid == 30000
    if contest.status == Contest.Status.AWARDED:
        assert wallet_balance(a.entrant) == 28500
    else:
        assert contest.status == Contest.Status.COMPLETED
        assert wallet_balance(a.entrant) == wallet_balance(b.entrant) == 14250
    assert escrow_of(contest) == 0
    assert_money_consistent()


def test_contest_publish_twice_at_once_funds_exactly_once():
    client = make_user()
    contest = draft(client)
    funded_wallet(client, 100000)
    results = run_concurrently(
        lambda i: contest_publish(contest_id=contest.pk, user=client), workers=2
    )
    assert sum(isinstance(r, Contest) for r in results) == 1, results
    assert sum(isinstance(r, Conflict) for r in results) == 1, results
    assert wallet_balance(client) == 100000 - 33000
    assert JournalEntry.objects.filter(reference=f"contest:{contest.pk}").count() == 1
    assert_money_consistent()


def test_entry_submit_at_once_respects_the_limit_per_entrant():
    contest = published(make_user(), max_entries_per_entrant=1)
    entrant = make_user()
    results = run_concurrently(lambda i: enter(contest, entrant, seed=i + 1), workers=2)
    assert sum(isinstance(r, Entry) for r in results) == 1, results
    assert Entry.objects.filter(contest=contest, entrant=entrant).count() == 1
