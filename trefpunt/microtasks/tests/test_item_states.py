"""Consistent item states (issue 14): the 6-item batch seen in the browser. Two agreeing
answers no longer close an item at "100 %" (no early stop before the batch is calibrated);
items that stopped early reopen when the next full fit lowers their stopping confidence;
the batch is not listed to a worker with nothing left; the escrow for the answers never
needed is refunded at close, and a batch with nothing left closes by itself; an appeal
filed changes no approval rate; hourly pay waits for a robust median; numbers in
attributes stay numbers."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import override

from trefpunt.accounts.tests.factories import UserFactory
from trefpunt.ledger.models import EntryKind, JournalEntry
from trefpunt.microtasks.models import Batch, Item
from trefpunt.microtasks.selectors import (
    answer_cost,
    batch_access,
    batch_median_seconds,
    batch_money,
    batches_available,
    worker_standing,
)
from trefpunt.microtasks.services import (
    answer_appeal,
    answer_approve,
    answer_reject,
    appeal_decide,
    batch_aggregate,
    batch_close,
    batch_fair_pay_check,
    batches_finish_sweep,
    lease_answer,
)
from trefpunt.microtasks.tasks import batches_finish_task
from trefpunt.microtasks.tests.factories import claim, published_batch, trust_workers
from trefpunt.microtasks.tests.money import assert_escrow_adds_up, escrow_of

pytestmark = pytest.mark.django_db

LABELS = ["pos", "neg", "neu", "pos", "neg", "neu"]


def answer_all(batch, worker, labels=LABELS):
    """The worker claims and answers every item the scheduler gives them."""
    answers = []
    while (lease := _claim_or_none(batch, worker)) is not None:
        label = labels[lease.item.position - 1]
        answers.append(lease_answer(lease_id=lease.pk, worker=worker, answer={"sentiment": label}))
    return answers


def _claim_or_none(batch, worker):
    from trefpunt.microtasks.services import lease_claim

    return lease_claim(batch_id=batch.pk, worker=worker)


def listed_to(worker):
    return [row.batch.pk for row in batches_available(user=worker)]


def items_of(batch):
    return list(Item.objects.filter(batch=batch).order_by("position"))


def test_six_item_batch_reopens_after_the_fit_and_refunds_at_close():
    batch = published_batch(items=6, min_answers=2, max_answers=5, reward=12)
    cost = answer_cost(reward=batch.reward, client_fee_bps=batch.client_fee_bps)
    funded = batch_money(batch=batch).funded
    assert funded == 6 * 5 * cost
    a, b, c, d = (UserFactory.create() for _ in range(4))
    answers = answer_all(batch, a) + answer_all(batch, b)

    # Two agreeing answers are a unanimous vote, but the batch cannot be calibrated yet:
    # no item stops early (the browser showed all six closed at "100 %").
    assert [(i.status, i.answers_count, i.answers_target) for i in items_of(batch)] == [
        (Item.Status.OPEN, 2, 3)
    ] * 6
    # A worker who saw every item has nothing left: not listed, no "Start working".
    assert batch.pk not in listed_to(a)
    access = batch_access(batch, a)
    assert (access.nothing_left, access.can_work) == (True, False)
    page = _client(a).get(reverse("microtasks:batch_detail", args=[batch.pk]))
    assert b"Start working" not in page.content
    assert b"nothing more for you" in page.content
    # A new worker is offered it.
    assert batch.pk in listed_to(c)
    assert batch_access(batch, c).can_work

    # With the estimates of a calibrated fit that trusts these workers, a third agreeing
    # answer stops each item at 3 of its 5 answers.
    trust_workers(batch)
    answers += answer_all(batch, c)
    assert [(i.status, i.answers_count) for i in items_of(batch)] == [(Item.Status.COMPLETE, 3)] * 6
    assert batch.pk not in listed_to(d)

    # The next full fit sees six items only: it cannot fit a temperature, so its stopping
    # confidence is 0 and every item reopens for one more answer, within the maximum.
    assert batch_aggregate(batch_id=batch.pk)
    items = items_of(batch)
    assert all(i.aggregate_details["stop"]["confidence"] == 0.0 for i in items)
    assert [(i.status, i.answers_count, i.answers_target) for i in items] == [
        (Item.Status.OPEN, 3, 4)
    ] * 6
    batch.refresh_from_db()
    assert batch.status == Batch.Status.OPEN
    assert batch.pk not in listed_to(c)
    assert batch.pk in listed_to(d)

    # d answers all six, then one more worker answers three of them up to the maximum:
    # those finish (complete or needs review by their confidence), the other three stay
    # open, so the batch does not close by itself.
    answers += answer_all(batch, d)
    e = UserFactory.create()
    for _ in range(3):
        lease = claim(batch, e)
        label = LABELS[lease.item.position - 1]
        answers.append(lease_answer(lease_id=lease.pk, worker=e, answer={"sentiment": label}))
    batch_aggregate(batch_id=batch.pk)
    items = items_of(batch)
    at_max = [i for i in items if i.answers_count == batch.max_answers]
    assert len(at_max) == 3
    for item in at_max:
        expected = (
            Item.Status.COMPLETE
            if item.confidence >= batch.confidence_target
            else Item.Status.REVIEW
        )
        assert item.status == expected
    assert {i.status for i in items if i not in at_max} == {Item.Status.OPEN}
    assert batches_finish_sweep(now=timezone.now() + timedelta(hours=25)) == 0

    # The client closes it: the escrow gives back every answer that was never needed.
    batch = batch_close(batch_id=batch.pk, user=batch.owner)
    unused = 6 * batch.max_answers - len(answers)
    assert unused == 3
    money = assert_escrow_adds_up(batch)
    assert money.refunded == unused * cost
    assert escrow_of(batch).balance == len(answers) * cost
    assert (
        JournalEntry.objects.filter(
            reference=batch.escrow_reference, kind=EntryKind.ESCROW_REFUND
        ).count()
        == 1
    )
    assert batch.pk not in listed_to(UserFactory.create())


def test_a_batch_with_nothing_left_closes_by_itself_and_refunds():
    # Every item finishes at its maximum of two: nothing is left to answer, so a day later
    # the batch closes itself and the escrow keeps exactly the answers given.
    batch = published_batch(items=6, min_answers=2, max_answers=3, reward=12)
    cost = answer_cost(reward=batch.reward, client_fee_bps=batch.client_fee_bps)
    answers = []
    for _ in range(3):
        answers += answer_all(batch, UserFactory.create())
    batch_aggregate(batch_id=batch.pk)
    assert not Item.objects.filter(batch=batch, status=Item.Status.OPEN).exists()
    assert batches_finish_sweep() == 0
    assert batches_finish_sweep(now=timezone.now() + timedelta(hours=25)) == 1
    batch.refresh_from_db()
    assert batch.status == Batch.Status.CLOSED
    money = assert_escrow_adds_up(batch)
    assert money.refunded == 0
    assert escrow_of(batch).balance == len(answers) * cost


def test_a_full_fit_marks_an_uncertain_item_at_its_maximum_for_review():
    batch = published_batch(items=6, min_answers=2, max_answers=2, reward=12)
    a, b = UserFactory.create(), UserFactory.create()
    answer_all(batch, a)
    answer_all(batch, b)
    assert {i.status for i in items_of(batch)} == {Item.Status.COMPLETE}

    batch_aggregate(batch_id=batch.pk)

    items = items_of(batch)
    assert all(i.confidence < batch.confidence_target for i in items)
    assert {i.status for i in items} == {Item.Status.REVIEW}
    batches_finish_task.call()  # a day has not passed: nothing closes
    batch.refresh_from_db()
    assert batch.status == Batch.Status.OPEN
    client = _client(batch.owner)
    page = client.get(reverse("microtasks:results", args=[batch.pk]) + "?show=review")
    assert page.content.count(b'data-status="review"') == 6


def test_an_appeal_filed_does_not_change_the_approval_rate():
    batch = published_batch(items=6, min_answers=1, max_answers=1, reward=12)
    worker = UserFactory.create()
    answers = answer_all(batch, worker)
    for answer in answers[:5]:
        answer_approve(answer_id=answer.pk, user=batch.owner)
    answer_reject(answer_id=answers[5].pk, user=batch.owner, reason="Not the sentiment.")
    before = worker_standing(user=worker)
    assert (before.approval_rate, before.decided_answers) == (5 / 6, 6)

    answer_appeal(answer_id=answers[5].pk, worker=worker, message="It is positive.")

    assert worker_standing(user=worker) == before
    appeal_decide(answer_id=answers[5].pk, user=batch.owner, overturn=True)
    assert worker_standing(user=worker).approval_rate == 1.0


def test_hourly_pay_waits_for_enough_answers_and_takes_a_robust_median(settings):
    settings.MICROTASK_MIN_HOURLY_CENTS = 1  # no fair-pay pause in this test
    batch = published_batch(items=30, min_answers=1, max_answers=1, reward=12, estimated_seconds=30)
    fast, steady = UserFactory.create(), [UserFactory.create() for _ in range(3)]
    with time_machine.travel(timezone.now(), tick=False) as clock:
        # One worker clicks through 15 items in a second each.
        for _ in range(15):
            lease = claim(batch, fast)
            clock.shift(timedelta(seconds=1))
            lease_answer(lease_id=lease.pk, worker=fast, answer={"sentiment": "pos"})
        assert batch_median_seconds(batch_id=batch.pk) == (15, None)
        batch.refresh_from_db()
        assert batch.median_seconds is None
        detail = _client(steady[0]).get(reverse("microtasks:batch_detail", args=[batch.pk]))
        # Shown from the client's estimate (30 s: € 14.40), not from 1 s (€ 432).
        assert "432" not in detail.content.decode()
        assert b"client&#x27;s estimate" in detail.content or b"client's estimate" in (
            detail.content
        )
        for worker in steady:
            for _ in range(2):
                lease = claim(batch, worker)
                clock.shift(timedelta(seconds=40))
                lease_answer(lease_id=lease.pk, worker=worker, answer={"sentiment": "pos"})
    # 21 answers, 4 workers: the median over workers' medians is 40 s, not the 1 s that 15
    # of the 21 answers took.
    assert batch_median_seconds(batch_id=batch.pk) == (21, 40.0)
    batch_fair_pay_check(batch_id=batch.pk)
    batch.refresh_from_db()
    assert batch.median_seconds == 40


def test_confidence_meter_keeps_a_decimal_point_in_dutch():
    batch = published_batch(items=6, min_answers=2, max_answers=2, reward=12)
    answer_all(batch, UserFactory.create())
    answer_all(batch, UserFactory.create())
    batch_aggregate(batch_id=batch.pk)
    client = _client(batch.owner)
    with override("nl"):
        page = client.get(
            reverse("microtasks:results", args=[batch.pk]), HTTP_ACCEPT_LANGUAGE="nl"
        ).content.decode()
    meters = re.findall(r"<meter [^>]*>", page)
    assert meters
    for meter in meters:
        assert re.search(r'value="0\.\d+"', meter), meter
        assert "," not in meter


def _client(user):
    client = Client()
    client.force_login(user)
    return client


def test_a_fit_that_leaves_no_item_open_tells_the_owner_the_batch_finished(
    django_capture_on_commit_callbacks,
):
    from trefpunt.community.models import Notification
    from trefpunt.microtasks.notifications import BATCH_FINISHED

    batch = published_batch(items=6, min_answers=2, max_answers=5)
    for worker in (UserFactory.create(), UserFactory.create()):
        answer_all(batch, worker)
    assert {i.status for i in items_of(batch)} == {Item.Status.OPEN}
    # No answer completes an item now: the fit settles them (with the maximum at the
    # answers they have, each completes or needs review), and no item is left open.
    Batch.objects.filter(pk=batch.pk).update(max_answers=2)
    Item.objects.filter(batch=batch).update(answers_target=2)
    finished = Notification.objects.filter(user=batch.owner, kind=BATCH_FINISHED)
    assert not finished.exists()
    with django_capture_on_commit_callbacks(execute=True):
        assert batch_aggregate(batch_id=batch.pk)
    assert Item.Status.OPEN not in {i.status for i in items_of(batch)}
    assert finished.count() == 1
