"""Concurrency on PostgreSQL: real row locks, transactions at once."""

from __future__ import annotations

import pytest

from trefpunt.core.exceptions import Conflict
from trefpunt.core.testing import run_concurrently
from trefpunt.ideas import services
from trefpunt.ideas.models import Idea, Participant, RewardPayment, Vote
from trefpunt.ledger.models import JournalEntry

from .factories import (
    REWARD,
    assert_money_consistent,
    balance,
    escrow_balance,
    make_user,
    open_call,
    post,
    stage,
)

pytestmark = [pytest.mark.race, pytest.mark.django_db(transaction=True)]


def test_the_same_vote_twice_at_once_counts_once() -> None:
    call = open_call(make_user())
    idea = post(call)
    voter = make_user()

    results = run_concurrently(lambda i: services.idea_vote(idea_id=idea.pk, user=voter), workers=4)

    assert all(isinstance(r, Vote) for r in results), results
    idea.refresh_from_db()
    assert (idea.score, idea.voter_count) == (1, 1)
    assert Vote.objects.filter(idea=idea).count() == 1


def test_many_voters_at_once_are_each_counted() -> None:
    call = open_call(make_user())
    idea = post(call)
    voters = [make_user() for _ in range(6)]

    run_concurrently(lambda i: services.idea_vote(idea_id=idea.pk, user=voters[i]), workers=6)

    idea.refresh_from_db()
    assert (idea.score, idea.voter_count) == (6, 6)


def test_two_budget_votes_at_once_cannot_overspend() -> None:
    call = open_call(make_user(), voting_mode="budget", budget_points=10)
    ideas = [post(call), post(call)]
    voter = make_user()

    results = run_concurrently(
        lambda i: services.idea_vote(idea_id=ideas[i].pk, user=voter, points=6), workers=2
    )

    assert sum(isinstance(r, Vote) for r in results) == 1
    assert sum(isinstance(r, Conflict) for r in results) == 1
    assert Participant.objects.get(call=call, user=voter).points_spent == 6
    assert sum(Idea.objects.filter(call=call).values_list("score", flat=True)) == 6


def test_two_stage_changes_at_once_pay_the_reward_once() -> None:
    client = make_user()
    call = open_call(client, rewards=2)
    author = make_user()
    idea = post(call, author)
    selected, done = stage(call, "selected"), stage(call, "done")
    targets = [selected, selected]

    results = run_concurrently(
        lambda i: services.idea_stage_move(
            idea_id=idea.pk, user=client, stage_id=targets[i].pk, reason="Chosen"
        ),
        workers=2,
    )

    assert sum(isinstance(r, Idea) for r in results) == 1, results
    assert sum(isinstance(r, Conflict) for r in results) == 1, results
    assert RewardPayment.objects.filter(idea=idea).count() == 1
    assert balance(author) == REWARD
    assert JournalEntry.objects.filter(idempotency_key__contains=f":reward:{idea.pk}:").count() == 1
    # A later move away and back does not pay again either.
    services.idea_stage_move(idea_id=idea.pk, user=client, stage_id=done.pk, reason="Built")
    services.idea_stage_move(idea_id=idea.pk, user=client, stage_id=selected.pk, reason="Again")
    assert balance(author) == REWARD
    assert_money_consistent()


def test_two_ideas_reaching_the_last_reward_at_once_pay_one() -> None:
    client = make_user()
    call = open_call(client, rewards=1)
    ideas = [post(call), post(call)]
    selected = stage(call, "selected")

    results = run_concurrently(
        lambda i: services.idea_stage_move(
            idea_id=ideas[i].pk, user=client, stage_id=selected.pk, reason="Chosen"
        ),
        workers=2,
    )

    assert sum(isinstance(r, Idea) for r in results) == 1, results
    assert RewardPayment.objects.filter(call=call).count() == 1
    assert escrow_balance(call) == 0
    assert_money_consistent()


def test_close_and_a_stage_change_at_once_leave_the_escrow_balanced() -> None:
    client = make_user()
    call = open_call(client, rewards=2)
    idea = post(call)
    services.idea_stage_move(
        idea_id=idea.pk, user=client, stage_id=stage(call, "under_review").pk, reason="Looking"
    )
    actions = [
        lambda: services.call_close(call_id=call.pk, user=client),
        lambda: services.idea_stage_move(
            idea_id=idea.pk, user=client, stage_id=stage(call, "selected").pk, reason="Yes"
        ),
    ]

    run_concurrently(lambda i: actions[i](), workers=2)

    assert escrow_balance(call) == 0
    assert_money_consistent()


def test_the_same_idea_sent_twice_at_once_is_posted_once() -> None:
    call = open_call(make_user())
    author = make_user()

    results = run_concurrently(lambda i: post(call, author, title="Paper bags"), workers=3)

    assert all(isinstance(r, Idea) for r in results), results
    assert Idea.objects.filter(call=call).count() == 1
