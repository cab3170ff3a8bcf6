"""Test questions: uploaded with the items, mixed in unseen, scoring workers, feedback."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from trefpunt.accounts.services import api_token_create
from trefpunt.accounts.tests.factories import UserFactory
from trefpunt.core.exceptions import PermissionDenied
from trefpunt.microtasks.models import Batch, BatchWorker, Item, WorkerQuality
from trefpunt.microtasks.services import lease_answer, lease_claim
from trefpunt.microtasks.tests.crowd import crowd_batch
from trefpunt.microtasks.tests.factories import claim

pytestmark = pytest.mark.django_db


def api(user):
    _token, raw = api_token_create(user=user, name="script")
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")


def browser(user):
    client = Client()
    client.force_login(user)
    return client


def set_gold_rate(batch: Batch, rate: float) -> None:
    Batch.objects.filter(pk=batch.pk).update(gold_rate=rate)


def gold_label(crowd, item_id):
    return crowd.truth[Item.objects.get(pk=item_id).position]


def test_items_upload_reads_gold_answers_and_gives_them_the_maximum_target():
    crowd = crowd_batch(items=10, gold=3, min_answers=2, max_answers=4)
    gold = Item.objects.filter(batch=crowd.batch, is_gold=True)
    assert {i.position for i in gold} == crowd.gold_positions
    assert all(i.gold_answer == {"sentiment": crowd.truth[i.position]} for i in gold)
    assert set(gold.values_list("answers_target", flat=True)) == {4}
    assert set(
        Item.objects.filter(batch=crowd.batch, is_gold=False).values_list(
            "answers_target", flat=True
        )
    ) == {2}
    # The expected answer is not part of the item's data.
    assert all(set(i.data) == {"text"} for i in gold)


def test_lease_claim_mixes_in_test_questions_at_the_rate():
    crowd = crowd_batch(items=6, gold=2, gold_rate=1.0, min_answers=1, max_answers=1)
    worker = UserFactory.create()
    kinds = []
    while (lease := lease_claim(batch_id=crowd.batch.pk, worker=worker)) is not None:
        kinds.append(lease.item.is_gold)
        lease_answer(lease_id=lease.pk, worker=worker, answer={"sentiment": "pos"})
    # Rate 1: the tests first, then the other items (a kind that runs out falls back).
    assert kinds == [True, True, False, False, False, False]
    other = crowd_batch(items=6, gold=2, gold_rate=0.0, min_answers=1, max_answers=1)
    first = claim(other.batch, UserFactory.create())
    assert first.item.is_gold is False


def test_lease_claim_mixes_about_the_rate_of_test_questions():
    crowd = crowd_batch(items=200, gold=100, gold_rate=0.25, min_answers=1, max_answers=1)
    worker = UserFactory.create()
    kinds = []
    for _ in range(80):
        lease = claim(crowd.batch, worker)
        kinds.append(lease.item.is_gold)
        lease_answer(lease_id=lease.pk, worker=worker, answer={"sentiment": "pos"})
    assert 8 <= sum(kinds) <= 34  # 20 expected; far outside both 0 and 40 (half)


def shape(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: shape(v) for key, v in sorted(value.items())}
    if isinstance(value, list):
        return [shape(v) for v in value]
    return type(value).__name__


def test_a_test_question_looks_like_any_item_to_the_worker():
    crowd = crowd_batch(items=6, gold=3, gold_rate=1.0, min_answers=1, max_answers=1)
    ana, ben = UserFactory.create(), UserFactory.create()
    gold = api(ana).post(f"/api/v1/batches/{crowd.batch.pk}/next").json()
    set_gold_rate(crowd.batch, 0.0)
    plain = api(ben).post(f"/api/v1/batches/{crowd.batch.pk}/next").json()
    assert Item.objects.get(pk=gold["item"]["id"]).is_gold
    assert not Item.objects.get(pk=plain["item"]["id"]).is_gold
    assert shape(gold) == shape(plain)
    assert set(gold["item"]["data"]) == set(plain["item"]["data"]) == {"text"}
    assert "gold" not in str(gold).lower()

    def page(user):
        html = browser(user).get(reverse("microtasks:work", args=[crowd.batch.pk])).content
        text = html.decode()
        # The work panel (the rest of the page shows the worker's own name and tokens).
        text = text[text.index('id="mt-panel"') : text.index("</article>")]
        text = re.sub(r"Review \d+: \w+-ish text", "REVIEW", text)
        text = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "CSRF", text)
        return re.sub(r"\d+", "0", text)

    assert page(ana) == page(ben)
    assert "gold" not in page(ana).lower()


def test_lease_answer_on_a_test_question_scores_the_worker():
    crowd = crowd_batch(items=12, gold=6, gold_rate=1.0, min_answers=1, max_answers=1)
    worker = UserFactory.create()
    results = []
    for n in range(6):
        lease = claim(crowd.batch, worker)
        right = gold_label(crowd, lease.item_id)
        label = right if n % 3 else next(x for x in ("pos", "neg", "neu") if x != right)
        lease_answer(lease_id=lease.pk, worker=worker, answer={"sentiment": label})
        results.append(label == right)
        quality = WorkerQuality.objects.get(worker=worker)
        assert (quality.gold_answers, quality.gold_correct) == (n + 1, sum(results))
        # A record (which batches can require) only from five test answers on.
        assert quality.gold_accuracy == (None if n < 4 else pytest.approx(sum(results) / (n + 1)))
    row = BatchWorker.objects.get(batch=crowd.batch, worker=worker)
    assert (row.gold_answers, row.gold_correct) == (6, 4)
    # The next item is an ordinary one: it does not count.
    lease_answer(lease_id=claim(crowd.batch, worker).pk, worker=worker, answer={"sentiment": "pos"})
    assert WorkerQuality.objects.get(worker=worker).gold_answers == 6


def test_min_gold_accuracy_keeps_out_a_worker_who_fails_the_tests():
    crowd = crowd_batch(items=12, gold=6, gold_rate=1.0, min_answers=1, max_answers=1)
    worker = UserFactory.create()
    for _ in range(5):
        lease = claim(crowd.batch, worker)
        wrong = next(x for x in ("pos", "neg", "neu") if x != gold_label(crowd, lease.item_id))
        lease_answer(lease_id=lease.pk, worker=worker, answer={"sentiment": wrong})
    strict = crowd_batch(items=3, gold=0, seed=9, min_gold_accuracy=0.7)
    with pytest.raises(PermissionDenied) as exc:
        lease_claim(batch_id=strict.batch.pk, worker=worker)
    assert exc.value.code == "not_qualified"
    assert claim(strict.batch, UserFactory.create())  # a newcomer has no record: welcome


@pytest.mark.parametrize("enabled", [True, False])
def test_gold_feedback_is_shown_only_when_the_client_enables_it(enabled):
    crowd = crowd_batch(
        items=6, gold=3, gold_rate=1.0, min_answers=1, max_answers=1, gold_feedback=enabled
    )
    worker = UserFactory.create()
    client = browser(worker)
    lease = claim(crowd.batch, worker)
    right = gold_label(crowd, lease.item_id)
    response = client.post(
        reverse("microtasks:lease_answer", args=[lease.pk]),
        {"sentiment": right},
        HTTP_HX_REQUEST="true",
    )
    text = response.content.decode()
    assert ("The expected answer was" in text) is enabled
    assert ("data-mt-feedback" in text) is enabled
    # Without JavaScript: the message after the redirect.
    lease = claim(crowd.batch, worker)
    wrong = next(x for x in ("pos", "neg", "neu") if x != gold_label(crowd, lease.item_id))
    response = client.post(
        reverse("microtasks:lease_answer", args=[lease.pk]), {"sentiment": wrong}, follow=True
    )
    assert ("The expected answer was" in response.content.decode()) is enabled
    # The API tells the expected answer only when enabled.
    lease = claim(crowd.batch, worker)
    body = (
        api(worker)
        .post(
            f"/api/v1/leases/{lease.pk}/answer",
            {"answer": {"sentiment": "pos"}},
            content_type="application/json",
        )
        .json()
    )
    expected = {"sentiment": gold_label(crowd, lease.item_id)}
    assert body["expected_answer"] == (expected if enabled else None)


def test_gold_feedback_is_never_shown_for_an_ordinary_item():
    crowd = crowd_batch(
        items=4, gold=1, gold_rate=0.0, gold_feedback=True, min_answers=1, max_answers=1
    )
    worker = UserFactory.create()
    lease = claim(crowd.batch, worker)
    assert not lease.item.is_gold
    response = browser(worker).post(
        reverse("microtasks:lease_answer", args=[lease.pk]),
        {"sentiment": "pos"},
        HTTP_HX_REQUEST="true",
    )
    assert "expected answer" not in response.content.decode()
