"""Take-downs move money: on PostgreSQL, racing them against each other and against the
client's own money moves never refunds twice nor pays and refunds the same escrow."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from trefpunt.contests.models import Contest, Payment
from trefpunt.contests.services import contest_award, contest_cancel, contest_close_entries
from trefpunt.contests.tests.factories import (
    assert_money_consistent,
    enter,
    escrow_of,
    make_user,
    published,
    wallet_balance,
)
from trefpunt.core.exceptions import ApplicationError
from trefpunt.core.testing import run_concurrently
from trefpunt.ledger.models import EntryKind, JournalEntry
from trefpunt.moderation import services
from trefpunt.moderation.models import Decision

pytestmark = [pytest.mark.race, pytest.mark.django_db(transaction=True)]


def _take_down(contest: Contest, staff: object) -> Decision:
    return services.content_take_down(
        staff=staff,  # type: ignore[arg-type]
        kind="contests.contest",
        object_id=contest.pk,
        reason="Scam.",
    )


def test_two_take_downs_at_once_refund_once():
    client = make_user()
    contest = published(client)
    held, before = escrow_of(contest), wallet_balance(client)
    staff = [make_user(is_staff=True), make_user(is_staff=True)]

    results = run_concurrently(lambda i: _take_down(contest, staff[i]), workers=2)

    assert sum(isinstance(r, Decision) for r in results) == 1, results
    assert sum(isinstance(r, ApplicationError) for r in results) == 1, results
    refunds = JournalEntry.objects.filter(
        reference=f"contest:{contest.pk}", kind=EntryKind.ESCROW_REFUND
    )
    assert refunds.count() == 1
    assert wallet_balance(client) == before + held and escrow_of(contest) == 0
    assert Decision.objects.count() == 1
    assert_money_consistent()


def test_a_take_down_racing_the_clients_cancel_refunds_once():
    client = make_user()
    contest = published(client)
    held, before = escrow_of(contest), wallet_balance(client)
    staff = make_user(is_staff=True)
    moves = [
        lambda: _take_down(contest, staff),
        lambda: contest_cancel(contest_id=contest.pk, user=client),
    ]

    results = run_concurrently(lambda i: moves[i](), workers=2)

    assert sum(isinstance(r, ApplicationError) for r in results) == 1, results
    assert wallet_balance(client) == before + held and escrow_of(contest) == 0
    assert Contest.objects.get(pk=contest.pk).status == Contest.Status.CANCELLED
    assert_money_consistent()


def test_a_take_down_racing_the_award_either_pays_or_refunds():
    client = make_user()
    contest = published(client, prizes=[30000])
    winner = enter(contest)
    enter(contest)
    with time_machine.travel(contest.entry_deadline + timedelta(minutes=1), tick=False):
        contest = contest_close_entries(contest_id=contest.pk)
    staff = make_user(is_staff=True)
    moves = [
        lambda: _take_down(contest, staff),
        lambda: contest_award(contest_id=contest.pk, user=client, awards={1: winner.pk}),
    ]

    results = run_concurrently(lambda i: moves[i](), workers=2)

    assert sum(isinstance(r, ApplicationError) for r in results) == 1, results
    paid = Payment.objects.filter(contest=contest).exists()
    refunded = JournalEntry.objects.filter(
        reference=f"contest:{contest.pk}", kind=EntryKind.ESCROW_REFUND
    ).exists()
    assert paid != refunded
    assert escrow_of(contest) == 0 or paid
    assert_money_consistent()
