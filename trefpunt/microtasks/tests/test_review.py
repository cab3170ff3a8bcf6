"""Review and pay: approve, reject, bulk, appeal, automatic approval; the escrow adds up."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from trefpunt.accounts.tests.factories import UserFactory
from trefpunt.core.exceptions import Conflict, NotFound, ValidationFailed
from trefpunt.ledger.models import EntryKind, JournalEntry
from trefpunt.ledger.services import wallet_for_user
from trefpunt.microtasks.models import Answer
from trefpunt.microtasks.selectors import worker_approval_counts, worker_pseudonym
from trefpunt.microtasks.services import (
    answer_appeal,
    answer_approve,
    answer_reject,
    answers_review_bulk,
    appeal_decide,
    batch_close,
    lease_answer,
)
from trefpunt.microtasks.tasks import (
    answers_auto_approve_task,
    appeals_auto_overturn_task,
    batches_settle_task,
)
from trefpunt.microtasks.tests.factories import claim, published_batch, revenue_balance
from trefpunt.microtasks.tests.money import assert_escrow_adds_up, escrow_of

pytestmark = pytest.mark.django_db
POS = {"sentiment": "pos"}


def answered(batch, worker=None):
    worker = worker or UserFactory.create()
    return lease_answer(lease_id=claim(batch, worker).pk, worker=worker, answer=POS)


def pay_entries(answer):
    return JournalEntry.objects.filter(
        kind=EntryKind.ESCROW_RELEASE, idempotency_key__startswith=f"answer:{answer.pk}:"
    ).count()


def test_answer_approve_pays_reward_and_fee_from_escrow(user):
    batch = published_batch(owner=user, items=2)
    answer = answered(batch)
    answer = answer_approve(answer_id=answer.pk, user=user)
    assert answer.status == Answer.Status.APPROVED
    assert wallet_for_user(user=answer.worker).balance == 10
    assert revenue_balance() == 2
    assert escrow_of(batch).balance == 2 * 3 * 12 - 12
    assert_escrow_adds_up(batch)


def test_answer_approve_twice_pays_once(user):
    batch = published_batch(owner=user, items=1)
    answer = answered(batch)
    answer_approve(answer_id=answer.pk, user=user)
    answer_approve(answer_id=answer.pk, user=user)
    assert pay_entries(answer) == 1
    assert wallet_for_user(user=answer.worker).balance == 10
    assert_escrow_adds_up(batch)


def test_answer_reject_needs_a_reason_and_pays_nothing(user):
    batch = published_batch(owner=user, items=1)
    answer = answered(batch)
    with pytest.raises(ValidationFailed) as exc:
        answer_reject(answer_id=answer.pk, user=user, reason=" ")
    assert "reason" in exc.value.fields
    answer = answer_reject(answer_id=answer.pk, user=user, reason="Picked without reading")
    assert (answer.status, answer.reject_reason) == (
        Answer.Status.REJECTED,
        "Picked without reading",
    )
    assert pay_entries(answer) == 0
    with pytest.raises(Conflict) as refused:
        answer_approve(answer_id=answer.pk, user=user)
    assert refused.value.code == "already_reviewed"


def test_review_refuses_another_clients_answers(user):
    batch = published_batch(items=1)
    answer = answered(batch)
    with pytest.raises(NotFound):
        answer_approve(answer_id=answer.pk, user=user)
    with pytest.raises(NotFound):
        answer_reject(answer_id=answer.pk, user=user, reason="Not mine to judge")
    with pytest.raises(NotFound):
        appeal_decide(answer_id=answer.pk, user=user, overturn=True)


def test_overturned_appeal_pays_exactly_once(user):
    batch = published_batch(owner=user, items=1)
    answer = answered(batch)
    answer_reject(answer_id=answer.pk, user=user, reason="Wrong sentiment")
    answer_appeal(
        answer_id=answer.pk, worker=answer.worker, message="Read it again, it is positive"
    )
    with pytest.raises(Conflict) as exc:
        answer_appeal(answer_id=answer.pk, worker=answer.worker, message="Please, again")
    assert exc.value.code == "already_appealed"
    appeal_decide(answer_id=answer.pk, user=user, overturn=True)
    appeal_decide(answer_id=answer.pk, user=user, overturn=True)
    answer_approve(answer_id=answer.pk, user=user)
    answer.refresh_from_db()
    assert answer.status == Answer.Status.OVERTURNED
    assert pay_entries(answer) == 1
    assert wallet_for_user(user=answer.worker).balance == 10
    # The rejection did not stand, so it does not count against the worker.
    assert worker_approval_counts(user=answer.worker) == (1, 0)
    assert_escrow_adds_up(batch)


def test_upheld_appeal_needs_a_note_and_counts_against_the_worker(user):
    batch = published_batch(owner=user, items=1)
    answer = answered(batch)
    answer_reject(answer_id=answer.pk, user=user, reason="Wrong sentiment")
    assert worker_approval_counts(user=answer.worker) == (0, 1)
    answer_appeal(answer_id=answer.pk, worker=answer.worker, message="It is positive")
    # Filing an appeal decides nothing: the rejection counts until it is overturned.
    assert worker_approval_counts(user=answer.worker) == (0, 1)
    with pytest.raises(ValidationFailed):
        appeal_decide(answer_id=answer.pk, user=user, overturn=False)
    answer = appeal_decide(answer_id=answer.pk, user=user, overturn=False, note="It says 'awful'")
    assert answer.status == Answer.Status.UPHELD
    assert worker_approval_counts(user=answer.worker) == (0, 1)
    with pytest.raises(Conflict) as exc:
        appeal_decide(answer_id=answer.pk, user=user, overturn=True)
    assert exc.value.code == "no_appeal"
    assert pay_entries(answer) == 0


def test_staff_can_decide_an_appeal(user, staff_user):
    batch = published_batch(owner=user, items=1)
    answer = answered(batch)
    answer_reject(answer_id=answer.pk, user=user, reason="Wrong sentiment")
    answer_appeal(answer_id=answer.pk, worker=answer.worker, message="It is positive")
    answer = appeal_decide(answer_id=answer.pk, user=staff_user, overturn=True)
    assert answer.status == Answer.Status.OVERTURNED
    assert wallet_for_user(user=answer.worker).balance == 10


def test_answer_appeal_only_by_the_worker_within_the_period(user):
    batch = published_batch(owner=user, items=1)
    answer = answered(batch)
    with time_machine.travel(timezone.now(), tick=False) as clock:
        answer_reject(answer_id=answer.pk, user=user, reason="Wrong sentiment")
        with pytest.raises(NotFound):
            answer_appeal(answer_id=answer.pk, worker=user, message="Not my answer")
        clock.shift(timedelta(days=7, seconds=1))
        with pytest.raises(Conflict) as exc:
            answer_appeal(answer_id=answer.pk, worker=answer.worker, message="Too late")
    assert exc.value.code == "appeal_closed"


def test_answers_review_bulk_rejects_all_pending_answers_of_one_worker(user):
    batch = published_batch(owner=user, items=4, min_answers=2, max_answers=2)
    spammer, good = UserFactory.create(), UserFactory.create()
    for _ in range(4):
        answered(batch, spammer)
    kept = answered(batch, good)
    answer_approve(answer_id=Answer.objects.filter(worker=spammer).earliest("pk").pk, user=user)
    n = answers_review_bulk(
        batch_id=batch.pk,
        user=user,
        decision="reject",
        reason="Always the first choice",
        pseudonym=worker_pseudonym(batch_id=batch.pk, user_id=spammer.pk),
    )
    assert n == 3
    assert sorted(Answer.objects.filter(worker=spammer).values_list("status", flat=True)) == [
        "approved",
        "rejected",
        "rejected",
        "rejected",
    ]
    kept.refresh_from_db()
    assert kept.status == Answer.Status.PENDING
    assert answers_review_bulk(batch_id=batch.pk, user=user, decision="approve") == 1
    assert wallet_for_user(user=good).balance == 10
    assert_escrow_adds_up(batch)


def test_answers_review_bulk_rejection_needs_a_reason(user):
    batch = published_batch(owner=user, items=1)
    answered(batch)
    with pytest.raises(ValidationFailed):
        answers_review_bulk(batch_id=batch.pk, user=user, decision="reject", reason="")
    assert Answer.objects.get().status == Answer.Status.PENDING


def test_answers_auto_approve_after_three_days_exactly_once(user):
    batch = published_batch(owner=user, items=2, min_answers=1, max_answers=1)
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        old = answered(batch)
        clock.shift(timedelta(days=2))
        recent = answered(batch)
        clock.shift(timedelta(days=1))
        assert answers_auto_approve_task.call() == 1
        assert answers_auto_approve_task.call() == 0
    old.refresh_from_db()
    recent.refresh_from_db()
    assert (old.status, old.reviewed_by, recent.status) == (
        Answer.Status.APPROVED,
        None,
        Answer.Status.PENDING,
    )
    assert pay_entries(old) == 1
    assert_escrow_adds_up(batch)


def test_appeals_auto_overturn_when_nobody_decides(user):
    batch = published_batch(owner=user, items=1)
    answer = answered(batch)
    with time_machine.travel(timezone.now(), tick=False) as clock:
        answer_reject(answer_id=answer.pk, user=user, reason="Wrong sentiment")
        answer_appeal(answer_id=answer.pk, worker=answer.worker, message="It is positive")
        clock.shift(timedelta(days=6))
        assert appeals_auto_overturn_task.call() == 0
        clock.shift(timedelta(days=1))
        assert appeals_auto_overturn_task.call() == 1
        assert appeals_auto_overturn_task.call() == 0
    answer.refresh_from_db()
    assert answer.status == Answer.Status.OVERTURNED
    assert pay_entries(answer) == 1


def test_escrow_adds_up_after_a_whole_batch(user):
    """Publish, answer, approve, reject, appeal (one overturned, one upheld), close, let the
    periods pass: funded = rewards paid + fees + refund, and the escrow is empty."""
    batch = published_batch(owner=user, items=4, min_answers=2, max_answers=3)  # 12 × 12
    workers = [UserFactory.create() for _ in range(3)]
    with time_machine.travel(timezone.now(), tick=False) as clock:
        answers = [answered(batch, w) for w in workers for _ in range(2)]  # 6 answers
        assert_escrow_adds_up(batch)
        answer_approve(answer_id=answers[0].pk, user=user)
        answer_approve(answer_id=answers[1].pk, user=user)
        for answer in answers[2:5]:
            answer_reject(answer_id=answer.pk, user=user, reason="Did not read it")
        answer_appeal(answer_id=answers[2].pk, worker=answers[2].worker, message="It is right")
        answer_appeal(answer_id=answers[3].pk, worker=answers[3].worker, message="It is right")
        appeal_decide(answer_id=answers[2].pk, user=user, overturn=True)
        appeal_decide(answer_id=answers[3].pk, user=user, overturn=False, note="Not right")
        assert_escrow_adds_up(batch)
        batch_close(batch_id=batch.pk, user=user)
        assert_escrow_adds_up(batch)
        clock.shift(timedelta(days=8))
        answers_auto_approve_task.call()  # answers[5] pending → approved
        batches_settle_task.call()  # answers[4]'s rejection now stands → refunded
    money = assert_escrow_adds_up(batch)
    # Paid: answers 0, 1, 2 (overturned), 5 → 4 × (10 + 2).
    assert (money.rewards_paid, money.fees_paid) == (40, 8)
    assert escrow_of(batch).balance == 0
    assert (money.funded, money.refunded) == (144, 96)
    assert money.funded == money.rewards_paid + money.fees_paid + money.refunded
    assert sum(wallet_for_user(user=w).balance for w in workers) == 40
    assert revenue_balance() == 8
