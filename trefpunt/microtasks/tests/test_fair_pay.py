"""The platform minimum hourly pay: a batch paying below it after its first answers pauses."""

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from trefpunt.accounts.tests.factories import UserFactory
from trefpunt.core.exceptions import Conflict, ValidationFailed
from trefpunt.core.models import Event
from trefpunt.ledger.services import wallet_for_user
from trefpunt.microtasks.models import Batch
from trefpunt.microtasks.selectors import fair_pay_advice
from trefpunt.microtasks.services import (
    answer_approve,
    batch_resume,
    batch_reward_raise,
    lease_answer,
)
from trefpunt.microtasks.tasks import batches_fair_pay_task
from trefpunt.microtasks.tests.factories import claim, published_batch
from trefpunt.microtasks.tests.money import assert_escrow_adds_up

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _minimum(settings):
    settings.MICROTASK_MIN_HOURLY_CENTS = 1400  # € 14.00 an hour


def answer_in(batch, seconds, clock, n=1):
    answers = []
    for _ in range(n):
        worker = UserFactory.create()
        lease = claim(batch, worker)
        clock.shift(timedelta(seconds=seconds))
        answers.append(lease_answer(lease_id=lease.pk, worker=worker, answer={"sentiment": "pos"}))
    return answers


def test_fair_pay_pauses_a_batch_below_the_minimum_after_twenty_answers(
    django_capture_on_commit_callbacks,
):
    # 10 cents at a median of 60 s is € 6.00 an hour.
    batch = published_batch(items=30, min_answers=1, max_answers=1, reward=10, estimated_seconds=20)
    with time_machine.travel(timezone.now(), tick=False) as clock:
        answer_in(batch, 60, clock, n=19)
        batch.refresh_from_db()
        assert batch.status == Batch.Status.OPEN
        with django_capture_on_commit_callbacks(execute=True):
            answer_in(batch, 60, clock)
    batch.refresh_from_db()
    assert (batch.status, batch.pause_reason, batch.median_seconds) == (
        Batch.Status.PAUSED,
        Batch.PauseReason.FAIR_PAY,
        60,
    )
    advice = fair_pay_advice(batch=batch)
    assert advice is not None
    assert (advice["hourly"], advice["reward_needed"]) == (600, 24)
    assert "raise the reward" in mail.outbox[0].subject
    assert "at least €\xa00.24" in mail.outbox[0].body
    assert mail.outbox[0].to == [batch.owner.email]
    assert f"/microtasks/manage/{batch.pk}/" in mail.outbox[0].body
    assert list(
        Event.objects.filter(subject="batch", subject_id=batch.pk).values_list("kind", "actor")
    )[-1] == ("paused_fair_pay", None)


def test_fair_pay_notice_is_queued_and_written_in_the_clients_language(
    django_capture_on_commit_callbacks,
):
    owner = UserFactory.create(language="nl")
    batch = published_batch(
        owner=owner, items=30, min_answers=1, max_answers=1, reward=10, estimated_seconds=20
    )
    with time_machine.travel(timezone.now(), tick=False) as clock:
        answer_in(batch, 60, clock, n=19)
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            answer_in(batch, 60, clock)
    assert not mail.outbox  # queued: nothing is sent in the answer's request
    for callback in callbacks:
        callback()
    assert len(mail.outbox) == 1
    assert "minstens €\xa00,24" in mail.outbox[0].body


def test_fair_pay_leaves_a_batch_above_the_minimum_open():
    # 10 cents at a median of 20 s is € 18.00 an hour.
    batch = published_batch(items=30, min_answers=1, max_answers=1, reward=10, estimated_seconds=20)
    with time_machine.travel(timezone.now(), tick=False) as clock:
        answer_in(batch, 20, clock, n=25)
    batch.refresh_from_db()
    assert (batch.status, batch.median_seconds) == (Batch.Status.OPEN, 20)
    assert batches_fair_pay_task.call() == 0
    assert not mail.outbox


def test_fair_pay_raise_tops_up_given_answers_and_reopens():
    owner = UserFactory.create()
    batch = published_batch(
        owner=owner, items=25, min_answers=1, max_answers=1, reward=10, extra_funds=2000
    )
    with time_machine.travel(timezone.now(), tick=False) as clock:
        answers = answer_in(batch, 60, clock, n=20)
    answer_approve(answer_id=answers[0].pk, user=owner)
    with pytest.raises(Conflict) as exc:
        batch_resume(batch_id=batch.pk, user=owner)
    assert exc.value.code == "fair_pay"
    with pytest.raises(ValidationFailed) as invalid:
        batch_reward_raise(batch_id=batch.pk, user=owner, reward=20)
    assert "at least €\xa00.24" in invalid.value.fields["reward"][0]
    batch = batch_reward_raise(batch_id=batch.pk, user=owner, reward=24)
    assert (batch.status, batch.pause_reason) == (Batch.Status.OPEN, "")
    assert wallet_for_user(user=answers[0].worker).balance == 24
    answer_approve(answer_id=answers[1].pk, user=owner)
    assert wallet_for_user(user=answers[1].worker).balance == 24
    assert_escrow_adds_up(batch)


def test_fair_pay_sweep_pauses_large_batches_too(settings):
    batch = published_batch(items=25, min_answers=1, max_answers=1, reward=10)
    with time_machine.travel(timezone.now(), tick=False) as clock:
        settings.MICROTASK_FAIR_PAY_MIN_ANSWERS = 1000  # the inline check does not fire
        answer_in(batch, 60, clock, n=21)
        batch.refresh_from_db()
        assert batch.status == Batch.Status.OPEN
        settings.MICROTASK_FAIR_PAY_MIN_ANSWERS = 20
        assert batches_fair_pay_task.call() == 1
    batch.refresh_from_db()
    assert batch.pause_reason == Batch.PauseReason.FAIR_PAY
