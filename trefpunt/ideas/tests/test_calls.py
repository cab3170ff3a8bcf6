"""Call lifecycle: draft → open (rewards in escrow) → voting → closed (refund)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import translation

from trefpunt.core.exceptions import (
    Conflict,
    ErrorCode,
    InsufficientFunds,
    NotFound,
    ValidationFailed,
)
from trefpunt.core.models import Event
from trefpunt.ideas import services
from trefpunt.ideas.models import Idea, IdeaCall, Stage, StageChange
from trefpunt.ideas.services import call_publish
from trefpunt.ledger.tests.factories import fund_wallet

from .factories import (
    REWARD,
    assert_money_consistent,
    draft_call,
    escrow_balance,
    later,
    make_organisation,
    make_user,
    open_call,
    post,
    stage,
    wallet_of,
)

pytestmark = pytest.mark.django_db


def test_call_create_draft_has_the_default_stages_and_selected_pays() -> None:
    call = draft_call(make_user())

    keys = list(Stage.objects.filter(call=call).values_list("key", flat=True))
    assert keys == ["submitted", "under_review", "selected", "in_progress", "done", "not_selected"]
    assert call.reward_stage == stage(call, "selected")
    assert sorted(call.tags.values_list("slug", flat=True)) == ["packaging", "shops"]
    assert call.status == IdeaCall.Status.DRAFT


def test_call_create_draft_names_every_bad_field() -> None:
    with pytest.raises(ValidationFailed) as exc:
        draft_call(
            make_user(),
            title="",
            submission_deadline=later(-1),
            voting_deadline=later(-2),
            reward_amount=500,
            reward_count=0,
            audience="organisation",
        )
    assert set(exc.value.fields) >= {
        "title",
        "submission_deadline",
        "voting_deadline",
        "reward_count",
        "audience",
    }


def test_call_title_limit_comes_from_the_model() -> None:
    with pytest.raises(ValidationFailed) as exc:
        draft_call(make_user(), title="x" * 121)
    assert "120" in exc.value.fields["title"][0]


def test_call_publish_moves_rewards_and_fee_into_escrow() -> None:
    client = make_user()
    call = open_call(client, rewards=2)

    assert call.status == IdeaCall.Status.OPEN
    assert call.funded_amount == 2 * REWARD + 2000
    assert escrow_balance(call) == 22000
    assert Event.objects.filter(subject="ideacall", subject_id=call.pk, kind="published").exists()
    assert_money_consistent()


def test_call_publish_refuses_a_shortfall_with_insufficient_funds_and_moves_nothing() -> None:
    client = make_user()
    call = draft_call(client, reward_amount=REWARD, reward_count=1)
    fund_wallet(wallet_of(call), client, 5000)

    with pytest.raises(InsufficientFunds) as exc:
        call_publish(call_id=call.pk, user=client)

    assert exc.value.code == ErrorCode.INSUFFICIENT_FUNDS
    call.refresh_from_db()
    assert call.status == IdeaCall.Status.DRAFT
    assert escrow_balance(call) == 0


def test_call_publish_twice_is_refused_with_wrong_state_and_pays_once() -> None:
    client = make_user()
    call = open_call(client, rewards=1, fund_extra=20000)

    with pytest.raises(Conflict) as exc:
        call_publish(call_id=call.pk, user=client)

    assert exc.value.code == ErrorCode.WRONG_STATE
    assert escrow_balance(call) == 11000


def test_call_publish_with_the_same_key_returns_the_first_result() -> None:
    client = make_user()
    call = draft_call(client)

    call_publish(call_id=call.pk, user=client, idempotency_key="k1")
    again = call_publish(call_id=call.pk, user=client, idempotency_key="k1")

    assert again.status == IdeaCall.Status.OPEN


def test_call_publish_by_someone_else_is_not_found() -> None:
    call = draft_call(make_user())
    with pytest.raises(NotFound):
        call_publish(call_id=call.pk, user=make_user())


def test_organisation_call_is_paid_by_the_organisation_wallet() -> None:
    owner = make_user()
    organisation = make_organisation(owner)
    call = open_call(owner, rewards=1, organisation=organisation.slug, audience="organisation")

    assert call.organisation == organisation
    assert escrow_balance(call) == 11000


def test_calls_sweep_moves_open_calls_to_voting_at_the_submission_deadline() -> None:
    call = open_call(make_user())
    assert services.calls_sweep() == []

    with time_machine.travel(call.submission_deadline + timedelta(minutes=1)):
        assert services.calls_sweep() == [call.pk]
        assert services.calls_sweep() == []

    call.refresh_from_db()
    assert call.status == IdeaCall.Status.VOTING


def test_call_close_is_refused_while_ideas_wait_for_a_decision() -> None:
    client = make_user()
    call = open_call(client)
    post(call)

    with pytest.raises(Conflict) as exc:
        services.call_close(call_id=call.pk, user=client)

    assert exc.value.code == ErrorCode.UNDECIDED_IDEAS
    call.refresh_from_db()
    assert call.status == IdeaCall.Status.OPEN


def test_call_close_refusal_counts_one_waiting_idea_in_the_singular() -> None:
    client = make_user()
    call = open_call(client)
    post(call)

    with translation.override("nl"), pytest.raises(Conflict) as exc:
        services.call_close(call_id=call.pk, user=client)

    assert exc.value.code == ErrorCode.UNDECIDED_IDEAS
    assert exc.value.message.startswith("1 idee heeft nog geen besluit")


def test_call_close_with_one_reason_answers_every_waiting_idea_and_refunds() -> None:
    client = make_user()
    call = open_call(client, rewards=2)
    waiting = post(call)
    decided = post(call, title="Paper bags")
    services.idea_stage_move(
        idea_id=decided.pk, user=client, stage_id=stage(call, "under_review").pk, reason="Looking"
    )

    services.call_close(call_id=call.pk, user=client, reason="We chose other ideas, thank you!")

    call.refresh_from_db()
    assert call.status == IdeaCall.Status.CLOSED
    waiting.refresh_from_db()
    assert waiting.stage.key == "not_selected"
    change = StageChange.objects.get(idea=waiting)
    assert change.reason == "We chose other ideas, thank you!"
    assert Idea.objects.get(pk=decided.pk).stage.key == "under_review"
    assert escrow_balance(call) == 0
    assert_money_consistent()


def test_call_close_twice_is_refused_with_wrong_state() -> None:
    client = make_user()
    call = open_call(client)
    services.call_close(call_id=call.pk, user=client)

    with pytest.raises(Conflict) as exc:
        services.call_close(call_id=call.pk, user=client)
    assert exc.value.code == ErrorCode.WRONG_STATE


def test_call_stage_save_renames_and_adds_stages() -> None:
    client = make_user()
    call = draft_call(client)
    review = stage(call, "under_review")

    services.call_stage_save(call_id=call.pk, user=client, name="Bij het team", stage_id=review.pk)
    added = services.call_stage_save(call_id=call.pk, user=client, name="Pilot", kind="accepted")

    review.refresh_from_db()
    assert review.label == "Bij het team"
    assert added.position == 6 and added.kind == "accepted"


def test_call_invite_only_for_invite_only_calls() -> None:
    client = make_user()
    call = draft_call(client)
    with pytest.raises(Conflict) as exc:
        services.call_invite(call_id=call.pk, user=client, who=make_user().email)
    assert exc.value.code == ErrorCode.NOT_PRIVATE
