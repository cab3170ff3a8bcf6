"""Batch definition, publishing (escrow funding), closing (refunds) and raising the reward."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from trefpunt.accounts.tests.factories import OrganisationFactory, UserFactory
from trefpunt.core.exceptions import (
    Conflict,
    ErrorCode,
    InsufficientFunds,
    NotFound,
    ValidationFailed,
)
from trefpunt.core.money import format_cents
from trefpunt.ledger.models import EntryKind, JournalEntry
from trefpunt.ledger.services import wallet_for_organisation, wallet_for_user
from trefpunt.ledger.tests.factories import fund_wallet
from trefpunt.microtasks.models import Answer, Batch, Item, Lease
from trefpunt.microtasks.selectors import batch_funding, batch_money
from trefpunt.microtasks.services import (
    answer_approve,
    answer_reject,
    batch_close,
    batch_create,
    batch_publish,
    batch_reward_raise,
    batch_settle,
    batch_update,
    items_upload,
    lease_answer,
)
from trefpunt.microtasks.tests.factories import (
    SENTIMENT_FORM,
    TEXT_DISPLAY,
    BatchFactory,
    claim,
    published_batch,
    revenue_balance,
)
from trefpunt.microtasks.tests.money import assert_escrow_adds_up, escrow_of

pytestmark = pytest.mark.django_db


def test_batch_create_refuses_a_reward_of_zero(user):
    with pytest.raises(ValidationFailed) as exc:
        batch_create(user=user, title="Zero", form=SENTIMENT_FORM, display=TEXT_DISPLAY, reward=0)
    assert set(exc.value.fields) == {"reward"}
    assert "between €\xa00.01" in exc.value.fields["reward"][0]
    assert not Batch.objects.exists()


def test_batch_create_reports_every_bad_field(user):
    with pytest.raises(ValidationFailed) as exc:
        batch_create(
            user=user,
            title="x",
            form='[{"name": "a", "label": "A", "type": "single"',
            display=[],
            reward=10,
            estimated_seconds=20,
            min_answers=3,
            max_answers=2,
            lease_seconds=10,
            languages="xx",
            min_approval_rate=1.5,
        )
    assert set(exc.value.fields) == {
        "title",
        "form",
        "display",
        "max_answers",
        "lease_seconds",
        "languages",
        "min_approval_rate",
    }
    assert exc.value.fields["form"][0].startswith("Not valid JSON (line 1")


def test_batch_create_refuses_a_reward_below_the_minimum_hourly_pay(user, settings):
    settings.MICROTASK_MIN_HOURLY_CENTS = 1400
    with pytest.raises(ValidationFailed) as exc:
        BatchFactory.create(user=user, reward=5, estimated_seconds=20)
    assert "Raise the reward to at least €\xa00.08" in exc.value.fields["reward"][0]
    assert BatchFactory.create(user=user, reward=8, estimated_seconds=20).reward == 8


def test_batch_create_for_an_organisation_needs_admin_rights(user):
    organisation = OrganisationFactory.create()
    with pytest.raises(ValidationFailed) as exc:
        BatchFactory.create(user=user, organisation_slug=organisation.slug)
    assert "organisation" in exc.value.fields


def test_batch_update_changes_a_draft_only(user):
    batch = BatchFactory.create(user=user, items=2)
    batch = batch_update(
        batch_id=batch.pk,
        user=user,
        title="New title",
        form=SENTIMENT_FORM,
        display=TEXT_DISPLAY,
        reward=12,
        min_answers=2,
        max_answers=4,
    )
    assert (batch.title, batch.min_answers, batch.max_answers) == ("New title", 2, 4)
    assert set(Item.objects.filter(batch=batch).values_list("answers_target", flat=True)) == {2}
    with pytest.raises(ValidationFailed) as exc:
        batch_update(
            batch_id=batch.pk,
            user=user,
            title="New title",
            form=SENTIMENT_FORM,
            display=[{"column": "photo", "widget": "image"}],
            reward=12,
        )
    assert "no column “photo”" in exc.value.fields["display"][0]


def test_batch_publish_funds_items_times_max_answers_plus_fee(user, settings):
    settings.FEES_BPS = {"microtask": {"client": 2000, "crowd": 0}}
    batch = BatchFactory.create(user=user, items=5, reward=10, min_answers=2, max_answers=3)
    funding = batch_funding(batch=batch)
    assert (funding.slots, funding.cost_per_answer, funding.total) == (15, 12, 180)
    fund_wallet(wallet_for_user(user=user), user, 500)
    batch = batch_publish(batch_id=batch.pk, user=user)
    assert batch.status == Batch.Status.OPEN
    assert batch.client_fee_bps == 2000
    assert escrow_of(batch).balance == 180
    assert wallet_for_user(user=user).balance == 320
    assert assert_escrow_adds_up(batch).funded == 180


def test_batch_publish_twice_funds_once(user):
    batch = published_batch(owner=user, items=3)
    again = batch_publish(batch_id=batch.pk, user=user)
    assert again.status == Batch.Status.OPEN
    assert JournalEntry.objects.filter(reference=f"batch:{batch.pk}").count() == 1


def test_batch_publish_with_too_little_money_names_the_shortfall(user):
    batch = BatchFactory.create(user=user, items=50, reward=10)  # 50 × 3 × 12 = 1800
    fund_wallet(wallet_for_user(user=user), user, 1000)
    with pytest.raises(InsufficientFunds) as exc:
        batch_publish(batch_id=batch.pk, user=user)
    assert exc.value.code == ErrorCode.INSUFFICIENT_FUNDS
    assert format_cents(800) in exc.value.fields["wallet"][0]
    batch.refresh_from_db()
    assert batch.status == Batch.Status.DRAFT
    assert not JournalEntry.objects.filter(reference=f"batch:{batch.pk}").exists()
    assert batch_funding(batch=batch).shortfall == 800


def test_batch_publish_needs_items(user):
    batch = BatchFactory.create(user=user)
    with pytest.raises(Conflict) as exc:
        batch_publish(batch_id=batch.pk, user=user)
    assert exc.value.code == ErrorCode.NO_ITEMS


def test_batch_publish_pays_from_the_organisation_wallet(user):
    organisation = OrganisationFactory.create(user=user)
    batch = BatchFactory.create(user=user, items=2, organisation_slug=organisation.slug)
    wallet = wallet_for_organisation(organisation=organisation)
    fund_wallet(wallet, user, 500)
    batch_publish(batch_id=batch.pk, user=user)
    assert wallet_for_organisation(organisation=organisation).balance == 500 - 72
    assert escrow_of(batch).funder_id == wallet.pk


def test_batch_services_refuse_another_clients_batch(user):
    batch = published_batch(items=2)
    for call in (
        lambda: batch_publish(batch_id=batch.pk, user=user),
        lambda: batch_close(batch_id=batch.pk, user=user),
        lambda: batch_reward_raise(batch_id=batch.pk, user=user, reward=20),
        lambda: items_upload(batch_id=batch.pk, user=user, content=b"text\na\n", filename="a.csv"),
    ):
        with pytest.raises(NotFound):
            call()


def test_batch_close_refunds_all_but_what_answers_and_live_leases_may_still_cost(user):
    batch = published_batch(owner=user, items=4, min_answers=1, max_answers=3)  # 12 slots × 12
    worker, holder = UserFactory.create(), UserFactory.create()
    answer = lease_answer(
        lease_id=claim(batch, worker).pk, worker=worker, answer={"sentiment": "pos"}
    )
    live = claim(batch, holder)
    batch = batch_close(batch_id=batch.pk, user=user)
    # One pending answer and one live lease stay reserved; ten slots are refunded.
    money = assert_escrow_adds_up(batch)
    assert (money.funded, money.refunded, escrow_of(batch).balance) == (144, 120, 24)
    # One answer never stops an item early (``services.stopping``): every item closes early.
    assert set(Item.objects.filter(batch=batch).values_list("status", flat=True)) == {
        Item.Status.CLOSED,
    }
    # The lease holder may still finish; the answer is paid from what was kept.
    late = lease_answer(lease_id=live.pk, worker=holder, answer={"sentiment": "neg"})
    answer_approve(answer_id=answer.pk, user=user)
    answer_approve(answer_id=late.pk, user=user)
    money = assert_escrow_adds_up(batch)
    assert (money.rewards_paid, money.fees_paid, escrow_of(batch).balance) == (20, 4, 0)
    assert money.funded == money.rewards_paid + money.fees_paid + money.refunded


def test_batch_close_twice_refunds_once(user):
    batch = published_batch(owner=user, items=2)
    batch_close(batch_id=batch.pk, user=user)
    batch_close(batch_id=batch.pk, user=user)
    assert (
        JournalEntry.objects.filter(
            reference=f"batch:{batch.pk}", kind=EntryKind.ESCROW_REFUND
        ).count()
        == 1
    )
    assert escrow_of(batch).balance == 0


def test_batch_settle_refunds_after_the_lease_runs_out_and_the_rejection_stands(user):
    batch = published_batch(owner=user, items=2, min_answers=1, max_answers=1)  # 2 × 12
    worker, holder = UserFactory.create(), UserFactory.create()
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        answer = lease_answer(
            lease_id=claim(batch, worker).pk, worker=worker, answer={"sentiment": "pos"}
        )
        claim(batch, holder)
        batch_close(batch_id=batch.pk, user=user)
        answer_reject(answer_id=answer.pk, user=user, reason="Did not read the review")
        assert escrow_of(batch).balance == 24
        clock.shift(timedelta(minutes=11))  # the lease ran out
        assert batch_settle(batch_id=batch.pk) == 12
        assert Lease.objects.get(worker=holder).status == Lease.Status.EXPIRED
        clock.shift(timedelta(days=7))  # the appeal period is over: the rejection stands
        assert batch_settle(batch_id=batch.pk) == 12
        assert batch_settle(batch_id=batch.pk) == 0
    money = assert_escrow_adds_up(batch)
    assert (money.funded, money.rewards_paid, money.refunded, escrow_of(batch).balance) == (
        24,
        0,
        24,
        0,
    )


def test_batch_reward_raise_tops_up_escrow_and_pays_the_difference(user, settings):
    settings.FEES_BPS = {"microtask": {"client": 2000, "crowd": 0}}
    batch = published_batch(owner=user, items=2, min_answers=2, max_answers=2, extra_funds=1000)
    workers = [UserFactory.create(), UserFactory.create()]
    answers = [
        lease_answer(lease_id=claim(batch, w).pk, worker=w, answer={"sentiment": "pos"})
        for w in workers
    ]
    answer_approve(answer_id=answers[0].pk, user=user)
    assert wallet_for_user(user=workers[0]).balance == 10
    batch = batch_reward_raise(batch_id=batch.pk, user=user, reward=15)
    assert batch.reward == 15
    # Approved answer topped up to 15; the pending one will be paid 15.
    assert wallet_for_user(user=workers[0]).balance == 15
    answer_approve(answer_id=answers[1].pk, user=user)
    assert wallet_for_user(user=workers[1]).balance == 15
    assert revenue_balance() == 6
    # Raising to the same reward again changes nothing.
    # The escrow was topped up to cover the two open slots, the pending answer and the
    # approved answer's difference at 18 each: 2 × 18 + 18 + 6 = 60, it held 48 − 12 = 36.
    topup = JournalEntry.objects.get(idempotency_key=f"batch:{batch.pk}:raise:15")
    assert topup.postings.get(account=escrow_of(batch)).amount == 24
    # Raising to the same reward again changes nothing.
    batch_reward_raise(batch_id=batch.pk, user=user, reward=15)
    assert JournalEntry.objects.filter(kind=EntryKind.ESCROW_FUND).count() == 2
    batch = batch_close(batch_id=batch.pk, user=user)
    money = assert_escrow_adds_up(batch)
    assert escrow_of(batch).balance == 0
    assert (money.rewards_paid, money.fees_paid) == (30, 6)
    assert money.funded == money.rewards_paid + money.fees_paid + money.refunded


def test_batch_reward_raise_refuses_a_lower_reward(user):
    batch = published_batch(owner=user, items=1)
    with pytest.raises(ValidationFailed) as exc:
        batch_reward_raise(batch_id=batch.pk, user=user, reward=5)
    assert exc.value.code == ErrorCode.INVALID
    assert format_cents(10) in exc.value.fields["reward"][0]  # the current reward


def test_batch_reward_raise_without_money_names_the_shortfall(user):
    batch = published_batch(owner=user, items=40)  # 40 × 3 × 12 = 1440
    with pytest.raises(InsufficientFunds) as exc:
        batch_reward_raise(batch_id=batch.pk, user=user, reward=100)
    assert exc.value.code == ErrorCode.INSUFFICIENT_FUNDS
    assert format_cents(40 * 3 * 120 - 40 * 3 * 12) in exc.value.fields["wallet"][0]
    batch.refresh_from_db()
    assert batch.reward == 10


def test_batch_money_counts_answers_at_the_reward_paid(user):
    batch = published_batch(owner=user, items=1, min_answers=1, max_answers=1)
    worker = UserFactory.create()
    answer = lease_answer(
        lease_id=claim(batch, worker).pk, worker=worker, answer={"sentiment": "neu"}
    )
    answer_approve(answer_id=answer.pk, user=user)
    money = batch_money(batch=batch)
    assert (money.funded, money.rewards_paid, money.fees_paid, money.in_escrow) == (12, 10, 2, 0)
    assert Answer.objects.get().paid_reward == 10
