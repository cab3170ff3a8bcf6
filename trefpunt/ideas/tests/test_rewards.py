"""Stage decisions with reasons, and rewards paid once from escrow."""

from __future__ import annotations

import pytest
from django.core import mail

from trefpunt.accounts.models import PortfolioItem
from trefpunt.core.exceptions import Conflict, ErrorCode, NotFound, ValidationFailed
from trefpunt.ideas import services
from trefpunt.ideas.models import Idea, IdeaAuthor, RewardPayment, StageChange

from .factories import (
    REWARD,
    assert_money_consistent,
    balance,
    escrow_balance,
    make_organisation,
    make_user,
    open_call,
    post,
    stage,
)

pytestmark = pytest.mark.django_db


def move(idea, user, key: str, reason: str = "Because.") -> None:
    services.idea_stage_move(
        idea_id=idea.pk, user=user, stage_id=stage(idea.call, key).pk, reason=reason
    )


def test_stage_move_records_the_public_reason_and_tells_author_and_followers(
    django_capture_on_commit_callbacks,
) -> None:
    client = make_user()
    call = open_call(client)
    author, follower = make_user(), make_user()
    idea = post(call, author)
    services.follow_set(user=follower, idea_id=idea.pk, follow=True)

    with django_capture_on_commit_callbacks(execute=True):
        move(idea, client, "under_review", "Our kitchen team is testing this.")

    change = StageChange.objects.get(idea=idea)
    assert (change.from_stage.key, change.to_stage.key) == ("submitted", "under_review")
    assert change.reason == "Our kitchen team is testing this."
    bodies = {m.to[0]: m.body for m in mail.outbox}
    assert "Our kitchen team is testing this." in bodies[author.email]
    assert follower.email in bodies


def test_stage_move_needs_a_reason_and_a_decision_stage() -> None:
    client = make_user()
    call = open_call(client)
    idea = post(call)
    with pytest.raises(ValidationFailed) as exc:
        services.idea_stage_move(
            idea_id=idea.pk, user=client, stage_id=stage(call, "submitted").pk, reason=""
        )
    assert set(exc.value.fields) == {"reason", "stage"}


def test_stage_move_to_the_same_stage_is_refused() -> None:
    client = make_user()
    call = open_call(client)
    idea = post(call)
    move(idea, client, "under_review")
    with pytest.raises(Conflict) as exc:
        move(idea, client, "under_review")
    assert exc.value.code == ErrorCode.SAME_STAGE


def test_stage_move_by_a_participant_is_not_found() -> None:
    call = open_call(make_user())
    idea = post(call)
    with pytest.raises(NotFound):
        move(idea, make_user(), "selected")


def test_stage_move_only_from_the_stage_the_client_saw() -> None:
    from trefpunt.ideas.stages import StageMachine

    client = make_user()
    call = open_call(client)
    idea = post(call)
    seen = stage(call, "submitted")
    move(idea, client, "under_review")  # meanwhile, somebody else decided

    machine = StageMachine(list(call.stages.all()), from_stage=seen)
    with pytest.raises(Conflict) as exc:
        machine.move(idea, str(stage(call, "selected").pk), action="move the idea")

    assert exc.value.code == ErrorCode.WRONG_STATE
    assert "Under review" in exc.value.message


def test_reaching_the_reward_stage_pays_the_author_once() -> None:
    client = make_user()
    call = open_call(client, rewards=2)
    author = make_user()
    idea = post(call, author)

    move(idea, client, "selected")
    move(idea, client, "in_progress")
    move(idea, client, "selected")

    assert balance(author) == REWARD  # the crowd fee for ideas is 0 by default
    assert RewardPayment.objects.filter(idea=idea).count() == 1
    assert escrow_balance(call) == 22000 - REWARD - 1000
    assert_money_consistent()


def test_reward_of_a_merged_idea_is_split_between_both_authors() -> None:
    client = make_user()
    call = open_call(client, rewards=1, reward_amount=10001)
    anna, bram = make_user(), make_user()
    kept, duplicate = post(call, anna), post(call, bram)
    services.idea_merge(idea_id=duplicate.pk, into_id=kept.pk, user=client)

    move(kept, client, "selected")

    assert (balance(anna), balance(bram)) == (5001, 5000)
    assert_money_consistent()


def test_rewards_used_up_refuses_the_reward_stage() -> None:
    client = make_user()
    call = open_call(client, rewards=1)
    first, second = post(call), post(call)
    move(first, client, "selected")
    with pytest.raises(Conflict) as exc:
        move(second, client, "selected")
    assert exc.value.code == ErrorCode.REWARDS_USED_UP
    second.refresh_from_db()
    assert second.stage.key == "submitted"
    move(second, client, "done")


def test_unspent_rewards_are_refunded_at_close() -> None:
    client = make_user()
    call = open_call(client, rewards=3)
    move(post(call), client, "selected")

    services.call_close(call_id=call.pk, user=client, reason="Thanks!")

    assert escrow_balance(call) == 0
    # 3 rewards + 10 % fee were funded; one reward and its share of the fee were used.
    assert balance(client) == 33000 - REWARD - 1000
    assert_money_consistent()


def test_rewarded_idea_joins_the_portfolio_only_in_a_public_call() -> None:
    client = make_user()
    public = open_call(client, rewards=1)
    author = make_user()
    move(post(public, author), client, "selected")
    assert PortfolioItem.objects.get(owner=author).source == PortfolioItem.Source.IDEA

    owner = make_user()
    organisation = make_organisation(owner)
    private = open_call(owner, rewards=1, organisation=organisation.slug, audience="organisation")
    insider = make_user()
    from .factories import join

    insider = join(organisation, owner)
    move(post(private, insider), owner, "selected")
    assert balance(insider) == REWARD
    assert not PortfolioItem.objects.filter(owner=insider).exists()


def test_a_rewarded_idea_cannot_be_merged_away() -> None:
    client = make_user()
    call = open_call(client, rewards=2)
    paid, other = post(call, title="Deposit cups"), post(call, title="Cups with a deposit")
    services.idea_stage_move(
        idea_id=paid.pk, user=client, stage_id=stage(call, "selected").pk, reason="Pilot"
    )

    with pytest.raises(Conflict) as exc:
        services.idea_merge(idea_id=paid.pk, into_id=other.pk, user=client)

    assert exc.value.code == ErrorCode.WRONG_STATE
    assert Idea.objects.get(pk=paid.pk).status == Idea.Status.ACTIVE
    assert not IdeaAuthor.objects.filter(idea=other, user=paid.author).exists()
    assert_money_consistent()
