"""Votes: one per verified person per idea, or a budget of points; until the deadline."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from allauth.account.models import EmailAddress

from trefpunt.core.exceptions import (
    Conflict,
    ErrorCode,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from trefpunt.ideas import services
from trefpunt.ideas.models import Participant, Vote

from .factories import make_organisation, make_user, open_call, post

pytestmark = pytest.mark.django_db


def test_voting_twice_counts_once() -> None:
    call = open_call(make_user())
    idea = post(call)
    voter = make_user()

    services.idea_vote(idea_id=idea.pk, user=voter)
    services.idea_vote(idea_id=idea.pk, user=voter)

    idea.refresh_from_db()
    assert (idea.score, idea.voter_count) == (1, 1)
    assert Vote.objects.filter(idea=idea).count() == 1


def test_unvote_takes_the_vote_back_and_voting_again_counts() -> None:
    call = open_call(make_user())
    idea = post(call)
    voter = make_user()
    services.idea_vote(idea_id=idea.pk, user=voter)

    assert services.idea_unvote(idea_id=idea.pk, user=voter) is True
    assert services.idea_unvote(idea_id=idea.pk, user=voter) is False
    idea.refresh_from_db()
    assert idea.score == 0
    services.idea_vote(idea_id=idea.pk, user=voter)
    idea.refresh_from_db()
    assert idea.score == 1


def test_voting_for_your_own_idea_is_refused() -> None:
    call = open_call(make_user())
    author = make_user()
    idea = post(call, author)
    with pytest.raises(PermissionDenied) as exc:
        services.idea_vote(idea_id=idea.pk, user=author)
    assert exc.value.code == ErrorCode.OWN_IDEA


def test_voting_after_the_voting_deadline_is_refused() -> None:
    call = open_call(make_user())
    idea = post(call)
    with time_machine.travel(call.voting_deadline + timedelta(seconds=1)):
        with pytest.raises(Conflict) as exc:
            services.idea_vote(idea_id=idea.pk, user=make_user())
        with pytest.raises(Conflict) as unvote:
            services.idea_unvote(idea_id=idea.pk, user=make_user())
    assert exc.value.code == ErrorCode.VOTING_CLOSED
    assert unvote.value.code == ErrorCode.VOTING_CLOSED


def test_voting_during_the_voting_phase_is_allowed() -> None:
    call = open_call(make_user())
    idea = post(call)
    with time_machine.travel(call.submission_deadline + timedelta(minutes=1)):
        services.calls_sweep()
        services.idea_vote(idea_id=idea.pk, user=make_user())
    idea.refresh_from_db()
    assert idea.score == 1


def test_voting_needs_a_verified_email_address() -> None:
    call = open_call(make_user())
    idea = post(call)
    voter = make_user()
    EmailAddress.objects.filter(user=voter).update(verified=False)
    with pytest.raises(PermissionDenied) as exc:
        services.idea_vote(idea_id=idea.pk, user=voter)
    assert exc.value.code == ErrorCode.NOT_VERIFIED


def test_voting_in_a_call_you_may_not_see_is_not_found() -> None:
    owner = make_user()
    organisation = make_organisation(owner)
    call = open_call(owner, organisation=organisation.slug, audience="organisation")
    idea = post(call, owner)
    with pytest.raises(NotFound):
        services.idea_vote(idea_id=idea.pk, user=make_user())


def test_votes_from_accounts_made_after_the_call_opened_are_marked() -> None:
    early = make_user()
    call = open_call(make_user())
    idea = post(call)
    late = make_user()
    services.idea_vote(idea_id=idea.pk, user=early)
    services.idea_vote(idea_id=idea.pk, user=late)
    marks = dict(Vote.objects.filter(idea=idea).values_list("voter", "new_account"))
    assert marks == {early.pk: False, late.pk: True}


def test_budget_voting_spends_points_and_refuses_overspending() -> None:
    call = open_call(make_user(), voting_mode="budget", budget_points=10)
    a, b = post(call), post(call)
    voter = make_user()

    services.idea_vote(idea_id=a.pk, user=voter, points=6)
    with pytest.raises(Conflict) as exc:
        services.idea_vote(idea_id=b.pk, user=voter, points=5)
    assert exc.value.code == ErrorCode.BUDGET_EXCEEDED
    services.idea_vote(idea_id=a.pk, user=voter, points=2)  # changed: 4 points back
    services.idea_vote(idea_id=b.pk, user=voter, points=8)

    assert Participant.objects.get(call=call, user=voter).points_spent == 10
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.score, b.score) == (2, 8)
    with pytest.raises(ValidationFailed):
        services.idea_vote(idea_id=a.pk, user=voter, points=11)


def test_a_merged_idea_takes_no_votes() -> None:
    client = make_user()
    call = open_call(client)
    a, b = post(call), post(call)
    services.idea_merge(idea_id=a.pk, into_id=b.pk, user=client)
    with pytest.raises(Conflict) as exc:
        services.idea_vote(idea_id=a.pk, user=make_user())
    assert exc.value.code == ErrorCode.IDEA_MERGED
