"""Qualification tests (issue 14): a batch asks for a short test of its test questions; a
worker who passes may work on it (or on every batch of the client), one who fails may try
again up to the attempts; every test answer counts in the worker's record."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from trefpunt.accounts.tests.factories import UserFactory
from trefpunt.core.exceptions import Conflict, ErrorCode, PermissionDenied
from trefpunt.ledger.services import wallet_for_user
from trefpunt.ledger.tests.factories import fund_wallet
from trefpunt.microtasks.models import Batch, QualificationAttempt, WorkerQuality
from trefpunt.microtasks.selectors import batch_access, batch_funding
from trefpunt.microtasks.services import (
    batch_publish,
    batch_test_set,
    items_upload,
    lease_claim,
    qualification_start,
    qualification_submit,
)
from trefpunt.microtasks.tests.crowd import crowd_csv
from trefpunt.microtasks.tests.factories import BatchFactory

pytestmark = pytest.mark.django_db

TRUTH = {p: ["pos", "neg", "neu"][p % 3] for p in range(1, 11)}
GOLD = {1, 2, 3, 4, 5}


def batch_with_test(owner=None, *, questions=4, scope=Batch.TestScope.BATCH, publish=True):
    owner = owner or UserFactory.create()
    batch = BatchFactory.create(user=owner, min_answers=1, max_answers=1)
    items_upload(batch_id=batch.pk, user=owner, content=crowd_csv(TRUTH, GOLD), filename="t.csv")
    batch_test_set(
        batch_id=batch.pk,
        user=owner,
        questions=questions,
        pass_mark=0.75,
        attempts=2,
        scope=scope,
    )
    if publish:
        fund_wallet(wallet_for_user(user=owner), owner, batch_funding(batch=batch).total + 500)
        batch = batch_publish(batch_id=batch.pk, user=owner)
    return batch


def take(batch, worker, right):
    """Answer the attempt's questions, the first ``right`` of them correctly."""
    _batch, number, items = qualification_start(batch_id=batch.pk, worker=worker)
    answers = {}
    for n, item in enumerate(items):
        assert item.gold_answer is not None
        truth = item.gold_answer["sentiment"]
        wrong = next(label for label in ("pos", "neg", "neu") if label != truth)
        answers[item.pk] = {"sentiment": truth if n < right else wrong}
    return qualification_submit(batch_id=batch.pk, worker=worker, number=number, answers=answers)


def test_qualification_a_worker_must_pass_the_test_before_claiming():
    batch = batch_with_test()
    worker = UserFactory.create()
    with pytest.raises(PermissionDenied) as exc:
        lease_claim(batch_id=batch.pk, worker=worker)
    assert exc.value.code == ErrorCode.NOT_QUALIFIED
    assert not batch_access(batch, worker).can_work

    failed = take(batch, worker, right=2)
    assert (failed.number, failed.correct, failed.total, failed.passed) == (1, 2, 4, False)
    passed = take(batch, worker, right=3)
    assert (passed.number, passed.passed) == (2, True)

    assert lease_claim(batch_id=batch.pk, worker=worker) is not None
    with pytest.raises(Conflict) as again:
        qualification_start(batch_id=batch.pk, worker=worker)
    assert again.value.code == ErrorCode.TEST_PASSED
    # Every test answer counts in the worker's record on test questions.
    quality = WorkerQuality.objects.get(worker=worker)
    assert (quality.gold_answers, quality.gold_correct) == (8, 5)


def test_qualification_attempts_run_out_and_a_resent_attempt_is_refused():
    batch = batch_with_test()
    worker = UserFactory.create()
    _b, number, items = qualification_start(batch_id=batch.pk, worker=worker)
    take(batch, worker, right=0)
    with pytest.raises(Conflict) as resent:
        qualification_submit(
            batch_id=batch.pk,
            worker=worker,
            number=number,
            answers={i.pk: {"sentiment": "pos"} for i in items},
        )
    assert resent.value.code == ErrorCode.TEST_ATTEMPTS_USED
    take(batch, worker, right=1)
    with pytest.raises(Conflict) as used:
        qualification_start(batch_id=batch.pk, worker=worker)
    assert used.value.code == ErrorCode.TEST_ATTEMPTS_USED
    assert QualificationAttempt.objects.filter(worker=worker).count() == 2


def test_qualification_for_the_client_covers_their_other_batches_only():
    owner = UserFactory.create()
    first = batch_with_test(owner, scope=Batch.TestScope.CLIENT)
    second = batch_with_test(owner)
    other = batch_with_test()
    worker = UserFactory.create()
    take(first, worker, right=4)
    assert lease_claim(batch_id=second.pk, worker=worker) is not None
    with pytest.raises(PermissionDenied):
        lease_claim(batch_id=other.pk, worker=worker)


def test_qualification_publish_needs_enough_test_questions():
    owner = UserFactory.create()
    batch = batch_with_test(owner, questions=6, publish=False)
    fund_wallet(wallet_for_user(user=owner), owner, batch_funding(batch=batch).total + 500)
    with pytest.raises(Conflict) as exc:
        batch_publish(batch_id=batch.pk, user=owner)
    assert exc.value.code == ErrorCode.TEST_NEEDS_GOLD


def test_qualification_page_grades_a_worker_in_the_browser_form():
    batch = batch_with_test()
    worker = UserFactory.create()
    client = Client()
    client.force_login(worker)
    detail = client.get(reverse("microtasks:batch_detail", args=[batch.pk])).content.decode()
    assert "Take the qualification test" in detail
    url = reverse("microtasks:qualification", args=[batch.pk])
    page = client.get(url)
    items = [q["item"] for q in page.context["questions"]]
    assert len(items) == 4
    incomplete = client.post(url, {"attempt": "1"})
    assert incomplete.status_code == 422
    data = {"attempt": "1"} | {f"q{i.pk}-sentiment": i.gold_answer["sentiment"] for i in items}
    done = client.post(url, data, follow=True)
    assert "Passed: 4 of 4 right." in done.content.decode()
    assert QualificationAttempt.objects.get(worker=worker).passed
