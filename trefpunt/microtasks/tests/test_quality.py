"""Adaptive redundancy, the full fit and exclusion, through the real services."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from trefpunt.accounts.tests.factories import UserFactory
from trefpunt.core.exceptions import NotFound, PermissionDenied
from trefpunt.microtasks import services
from trefpunt.microtasks.models import Answer, Batch, BatchWorker, Item
from trefpunt.microtasks.quality import AnswerRow, item_result
from trefpunt.microtasks.selectors import worker_pseudonym
from trefpunt.microtasks.services import (
    REFIT_QUIET,
    REFIT_STALE,
    batch_aggregate,
    batch_close,
    batch_worker_exclude,
    batches_aggregate_sweep,
    lease_answer,
    lease_claim,
    refit_threshold,
)
from trefpunt.microtasks.tasks import batch_aggregate_task
from trefpunt.microtasks.tests.crowd import SimWorker, accurate, crowd_batch, work
from trefpunt.microtasks.tests.factories import (
    claim,
    fits_enqueued,
    published_batch,
    trust_workers,
)

pytestmark = pytest.mark.django_db


def answer(batch, label, worker=None):
    worker = worker or UserFactory.create()
    lease = claim(batch, worker)
    lease_answer(lease_id=lease.pk, worker=worker, answer={"sentiment": label})
    return worker, lease.item_id


def test_an_agreeing_item_does_not_stop_early_before_the_batch_is_calibrated():
    # Three agreeing answers are a unanimous vote, but nothing has yet shown how often such a
    # vote is right in this batch: the stopping rule does not stop the item before its
    # maximum (the browser showed items closed at "100 %" that a fit then put at 64 %).
    batch = published_batch(items=1, min_answers=3, max_answers=7)
    for _ in range(3):
        answer(batch, "pos")
    item = Item.objects.get(batch=batch)
    assert (item.status, item.answers_count, item.answers_target) == ("open", 3, 4)
    assert item.aggregated_answer == {"sentiment": "pos"}
    assert (item.aggregate_details or {})["stop"] == {"confidence": 0.0, "agreeing": 0}


def test_lease_answer_stops_an_agreeing_item_at_min_answers_once_calibrated():
    batch = trust_workers(published_batch(items=1, min_answers=3, max_answers=7))
    answer(batch, "pos")
    answer(batch, "pos")
    item = Item.objects.get(batch=batch)
    # Two agreeing workers are not enough, however sure the model is.
    assert (item.status, (item.aggregate_details or {})["stop"]["agreeing"]) == ("open", 2)
    answer(batch, "pos")
    item = Item.objects.get(batch=batch)
    assert (item.status, item.answers_count, item.answers_target) == ("complete", 3, 3)
    assert item.aggregated_answer == {"sentiment": "pos"}
    assert (item.aggregate_details or {})["stop"]["agreeing"] == 3
    assert (item.aggregate_details or {})["stop"]["confidence"] >= batch.confidence_target
    assert lease_claim(batch_id=batch.pk, worker=UserFactory.create()) is None


def test_a_full_fit_stores_the_stopping_rule_and_each_items_stopping_confidence():
    batch = published_batch(items=2, min_answers=3, max_answers=5)
    for _ in range(3):
        answer(batch, "neg")
    assert batch_aggregate(batch_id=batch.pk)
    batch.refresh_from_db()
    stop = (batch.quality_model or {})["stop"]
    # Two items cannot calibrate anything: no temperature, no calibration, no early stop.
    assert (stop["field"], stop["temperature"], stop["edges"], stop["flagged"]) == (
        "sentiment",
        None,
        [],
        [],
    )
    answered = Item.objects.filter(batch=batch, answers_count=3).get()
    assert (answered.aggregate_details or {})["stop"] == {"confidence": 0.0, "agreeing": 3}
    assert answered.status == Item.Status.OPEN


def test_lease_answer_asks_for_more_on_a_contested_item_up_to_max():
    batch = published_batch(items=1, min_answers=3, max_answers=5)
    targets = []
    for label in ["pos", "neg", "pos", "neg"]:
        answer(batch, label)
        item = Item.objects.get(batch=batch)
        targets.append((item.status, item.answers_target))
    # Two answers: below the minimum; three and four split: one more slot each time.
    assert targets == [("open", 3), ("open", 3), ("open", 4), ("open", 5)]
    answer(batch, "pos")
    item = Item.objects.get(batch=batch)
    # At its maximum and still below the target: finished, for the client to review.
    assert (item.status, item.answers_count, item.answers_target) == ("review", 5, 5)
    assert item.confidence == pytest.approx(0.6)
    assert lease_claim(batch_id=batch.pk, worker=UserFactory.create()) is None


def test_lease_answer_uses_the_fitted_worker_estimates():
    """After a fit, an item's confidence is Bayes' rule with the workers' confusion
    matrices: a worker the fit found unreliable moves it less than a reliable one."""
    crowd = crowd_batch(items=40, gold=0, min_answers=2, max_answers=2, gold_rate=0.0)
    rng = random.Random(3)
    good = [SimWorker(UserFactory.create(), accurate(crowd.truth, 0.95, rng)) for _ in range(3)]
    poor = SimWorker(UserFactory.create(), accurate(crowd.truth, 0.4, rng))
    work(crowd.batch, [*good, poor])
    assert batch_aggregate(batch_id=crowd.batch.pk)
    batch = Batch.objects.get(pk=crowd.batch.pk)
    estimates = dict(BatchWorker.objects.filter(batch=batch).values_list("worker_id", "estimate"))
    by_good = item_result(
        batch.form,
        "ds",
        batch.quality_model,
        [AnswerRow(good[0].user.pk, {"sentiment": "pos"}, estimates[good[0].user.pk])],
    )
    by_poor = item_result(
        batch.form,
        "ds",
        batch.quality_model,
        [AnswerRow(poor.user.pk, {"sentiment": "pos"}, estimates[poor.user.pk])],
    )
    assert by_good.confidence is not None and by_poor.confidence is not None
    assert by_good.confidence > by_poor.confidence
    # The per-answer path reproduces the fit for an item the fit saw.
    item = Item.objects.filter(batch=batch, answers_count=2).order_by("pk").first()
    assert item is not None
    rows = [
        AnswerRow(a.worker_id, a.data, estimates[a.worker_id])
        for a in Answer.objects.filter(item=item).order_by("pk")
    ]
    assert item_result(batch.form, "ds", batch.quality_model, rows).confidence == pytest.approx(
        item.confidence
    )


def test_batch_aggregate_is_idempotent():
    batch = published_batch(items=4, min_answers=3, max_answers=3)
    for label in ["pos", "pos", "neg"] * 4:
        answer(batch, label)

    def state():
        items = list(
            Item.objects.filter(batch=batch)
            .order_by("pk")
            .values_list("aggregated_answer", "confidence", "aggregate_details", "status")
        )
        workers = list(
            BatchWorker.objects.filter(batch=batch)
            .order_by("worker_id")
            .values_list("worker_id", "estimate", "skill", "flagged_spammer")
        )
        fit = Batch.objects.filter(pk=batch.pk).values_list(
            "quality_model", "fit_answers", "fit_through", "fitted_at"
        )
        return items, workers, list(fit)

    assert batch_aggregate_task.call(batch.pk) is True
    first = state()
    assert first[2][0][1] == 12
    assert batch_aggregate_task.call(batch.pk) is False
    assert batch_aggregate(batch_id=batch.pk) is False
    assert state() == first


def test_lease_answer_enqueues_the_fit_after_the_first_answers(
    django_capture_on_commit_callbacks,
):
    batch = published_batch(items=10, min_answers=3, max_answers=3)
    for _ in range(19):
        with django_capture_on_commit_callbacks(execute=True):
            answer(batch, "pos")
    assert Batch.objects.get(pk=batch.pk).fitted_at is None
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        answer(batch, "pos")
    assert fits_enqueued(callbacks) == 1
    batch.refresh_from_db()
    model = batch.quality_model or {}
    assert (batch.fit_answers, model["method"]) == (20, "ds")
    assert model["fields"]["sentiment"]["classes"] == ["pos", "neg", "neu"]


def test_lease_answer_enqueues_one_fit_however_many_answers_pass_the_threshold(
    django_capture_on_commit_callbacks,
):
    # Concurrent answers can jump over the exact threshold or cross it together: every
    # answer at or past it may enqueue, but only the first claims the fit.
    batch = published_batch(items=20, min_answers=3, max_answers=3)
    enqueued = 0
    for _ in range(26):
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            answer(batch, "pos")
        enqueued += fits_enqueued(callbacks)
    assert enqueued == 1
    batch.refresh_from_db()
    assert (batch.fitted_at, batch.fit_requested_through) == (None, 0)
    assert batch_aggregate(batch_id=batch.pk) is True
    # The fit saw 26 answers: the next one is due 26 answers later, once.
    for n in range(27):
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            answer(batch, "neg" if n % 2 else "pos")
        enqueued += fits_enqueued(callbacks)
    assert enqueued == 2


def test_lease_answer_enqueues_the_fit_when_concurrent_answers_jumped_the_threshold(
    monkeypatch, django_capture_on_commit_callbacks
):
    batch = published_batch(items=10, min_answers=3, max_answers=3)
    for _ in range(19):
        answer(batch, "pos")
    # The 20th and 21st answers commit together: both checks see 21, neither sees 20.
    with monkeypatch.context() as patched:
        patched.setattr(services.aggregation, "aggregate_if_due", lambda *a, **k: None)
        answer(batch, "pos")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        answer(batch, "pos")
    assert fits_enqueued(callbacks) == 1
    assert Batch.objects.get(pk=batch.pk).fit_answers == 21


def test_batches_aggregate_sweep_fits_only_batches_with_news():
    fresh = published_batch(items=2, min_answers=1, max_answers=1)
    stale = published_batch(items=2, min_answers=1, max_answers=1)
    answer(fresh, "pos")
    answer(stale, "neg")
    assert batches_aggregate_sweep() == 2
    assert batches_aggregate_sweep() == 0
    answer(stale, "neg")
    with time_machine.travel(timezone.now() + REFIT_QUIET + timedelta(seconds=1)):
        assert batches_aggregate_sweep() == 1
    assert Batch.objects.get(pk=stale.pk).fit_answers == 2


def test_batches_aggregate_sweep_leaves_a_busy_batch_to_the_answer_path():
    # A fit reads the whole batch: an open batch still receiving answers is fitted at the
    # answer path's thresholds, not on every sweep; when it stops, it is fitted.
    batch = published_batch(items=6, min_answers=1, max_answers=1)
    answer(batch, "pos")
    assert batches_aggregate_sweep() == 1
    start = timezone.now()
    for minute in range(1, 4):
        with time_machine.travel(start + timedelta(minutes=minute)):
            answer(batch, "neg")
            assert batches_aggregate_sweep() == 0
    with time_machine.travel(start + timedelta(minutes=3) + REFIT_QUIET + timedelta(seconds=1)):
        assert batches_aggregate_sweep() == 1
    assert Batch.objects.get(pk=batch.pk).fit_answers == 4
    # Busy for longer than REFIT_STALE since its last fit: fitted anyway (a missed enqueue).
    later = start + timedelta(minutes=6) + REFIT_STALE
    with time_machine.travel(later):
        answer(batch, "pos")
        assert batches_aggregate_sweep() == 1
    # Answers since the last fit and the batch paused: nothing more will come, fit it.
    answer(batch, "pos")
    Batch.objects.filter(pk=batch.pk).update(status=Batch.Status.PAUSED)
    assert batches_aggregate_sweep() == 1


@pytest.mark.parametrize(
    ("fit_answers", "threshold"),
    [
        (0, 20),
        (20, 20),
        (40, 40),
        (160, 160),
        (200, 200),
        (1_999, 200),
        (5_000, 500),
        (300_000, 30_000),
    ],
)
def test_refit_threshold_doubles_then_steps_then_grows_with_the_batch(fit_answers, threshold):
    assert refit_threshold(fit_answers) == threshold


def test_batch_close_runs_the_final_fit(django_capture_on_commit_callbacks):
    batch = published_batch(items=2, min_answers=2, max_answers=2)
    answer(batch, "neg")
    with django_capture_on_commit_callbacks(execute=True):
        batch_close(batch_id=batch.pk, user=batch.owner)
    batch.refresh_from_db()
    assert (batch.status, batch.fit_answers) == ("closed", 1)
    assert Item.objects.filter(batch=batch, aggregated_answer={"sentiment": "neg"}).count() == 1


def test_batch_worker_exclude_takes_their_answers_out_and_reopens_the_item(
    django_capture_on_commit_callbacks,
):
    batch = trust_workers(
        published_batch(
            items=1, min_answers=3, max_answers=5, aggregation_method="mv", confidence_target=0.6
        )
    )
    spammer, _ = answer(batch, "neg")
    answer(batch, "neg")
    answer(batch, "neg")
    item = Item.objects.get(batch=batch)
    assert (item.status, item.aggregated_answer, item.confidence) == (
        "complete",
        {"sentiment": "neg"},
        pytest.approx(1.0),
    )
    pseudonym = worker_pseudonym(batch_id=batch.pk, user_id=spammer.pk)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        row = batch_worker_exclude(batch_id=batch.pk, user=batch.owner, pseudonym=pseudonym)
    # One re-fit queued (the search index's freshness bumps are callbacks of their own).
    refits = [c for c in callbacks if "aggregate_on_commit" in getattr(c, "func", c).__qualname__]
    assert row.excluded and len(refits) == 1
    item.refresh_from_db()
    # Two counted answers, below the minimum: one more is needed.
    assert (item.status, item.answers_target) == ("open", 4)
    assert item.aggregated_answer == {"sentiment": "neg"}
    assert (item.aggregate_details or {})["answers"] == 2
    with pytest.raises(PermissionDenied) as exc:
        lease_claim(batch_id=batch.pk, worker=spammer)
    assert exc.value.code == "not_qualified"
    # Excluding again changes nothing.
    batch_worker_exclude(batch_id=batch.pk, user=batch.owner, pseudonym=pseudonym)
    assert Batch.objects.get(pk=batch.pk).quality_version == 1
    answer(batch, "neg")
    item.refresh_from_db()
    # The exclusion's fit (one item) could not calibrate the stopping rule: no early stop.
    assert (item.status, item.answers_count, item.answers_target) == ("open", 4, 5)
    assert item.aggregated_answer == {"sentiment": "neg"}
    assert batch_aggregate(batch_id=batch.pk)
    # The fit counts the three answers of the others, not the excluded worker's.
    assert Batch.objects.get(pk=batch.pk).fit_answers == 3
    assert BatchWorker.objects.get(batch=batch, worker=spammer).estimate is None


def test_batch_worker_exclude_never_opens_an_item_beyond_max_answers():
    batch = published_batch(
        items=1, min_answers=2, max_answers=2, aggregation_method="mv", confidence_target=0.9
    )
    spammer, _ = answer(batch, "neg")
    answer(batch, "pos")
    pseudonym = worker_pseudonym(batch_id=batch.pk, user_id=spammer.pk)
    batch_worker_exclude(batch_id=batch.pk, user=batch.owner, pseudonym=pseudonym)
    item = Item.objects.get(batch=batch)
    assert (item.status, item.answers_target, item.answers_count) == ("complete", 2, 2)


def test_batch_worker_exclude_of_a_stranger_is_not_found():
    batch = published_batch(items=1)
    with pytest.raises(NotFound):
        batch_worker_exclude(batch_id=batch.pk, user=UserFactory.create(), pseudonym="w-x")


def test_batch_aggregate_combines_again_an_item_answered_after_its_snapshot(monkeypatch):
    # The fit writes an item's result only while the item is as its snapshot saw it; an item
    # answered in between (here: while the statistics run) is combined again from all of its
    # answers, with the new estimates, instead of taking the fit's older result.
    from trefpunt.microtasks.services import aggregation

    batch = published_batch(items=2, min_answers=3, max_answers=5, gold_rate=0)
    answer(batch, "pos")
    answer(batch, "neg")
    fit_real = aggregation.batch_fit
    late: list[int] = []

    def fit_then_answer(**kwargs):
        fitted = fit_real(**kwargs)
        late.append(answer(batch, "neg")[1])
        return fitted

    monkeypatch.setattr(aggregation, "batch_fit", fit_then_answer)
    assert batch_aggregate(batch_id=batch.pk) is True
    item = Item.objects.get(pk=late[0])
    # The fit saw pos and neg (a tie); the item has pos, neg, neg.
    assert item.answers_count == 3
    assert item.aggregated_answer == {"sentiment": "neg"}


def test_answers_the_fit_saw_weigh_without_themselves_when_an_item_is_reconsidered():
    # A worker's matrix was fitted on their own answers; scored with it, those answers vouch
    # for themselves (a thin crowd's items stopped at a stated 0.99 of which 93 % kept their
    # answer). The answer path scores the answers the last fit saw without themselves, as
    # the fit's calibration does, and newer answers by their workers' matrices as they are.
    from trefpunt.microtasks.services.aggregation import items_rows
    from trefpunt.microtasks.services.stopping import item_stopping

    crowd = crowd_batch(items=12, gold=0, seed=5, min_answers=3, max_answers=5)
    rng = random.Random(5)
    for _ in range(25):  # a thin crowd of unequal workers: three answers each
        skill = rng.choice([0.4, 0.6, 0.95, 1.0])
        worker, answer_of = UserFactory.create(), accurate(crowd.truth, skill, rng)
        for _n in range(3):
            lease = lease_claim(batch_id=crowd.batch.pk, worker=worker)
            if lease is None:
                break
            label = answer_of(Item.objects.get(pk=lease.item_id))
            lease_answer(lease_id=lease.pk, worker=worker, answer={"sentiment": label})
    assert batch_aggregate(batch_id=crowd.batch.pk)
    batch = Batch.objects.get(pk=crowd.batch.pk)
    model = batch.quality_model or {}
    model["stop"].update({"temperature": 1.0, "edges": [0.0], "levels": [1.0]})  # identity
    estimates = BatchWorker.objects.filter(batch=batch).values_list("estimate", flat=True)
    assert all(len((e or {})["sentiment"]["mass"]) == 3 for e in estimates)  # stored by the fit
    fitted_through = batch.fit_through

    def confidence(rows):
        result = item_result(batch.form, batch.aggregation_method, model, rows)
        item_stopping(batch=batch, rows=rows, result=result)
        return (result.details or {})["stop"]["confidence"]

    ids = list(Item.objects.filter(batch=batch).values_list("pk", flat=True))
    pairs = []
    for rows in items_rows(item_ids=ids, batch_id=batch.pk).values():
        as_fitted = [AnswerRow(r.worker_id, r.data, r.estimate) for r in rows]  # no ids
        pairs.append((confidence(rows), confidence(as_fitted)))
        batch.fit_through = min(r.answer_id or 0 for r in rows) - 1  # a fit before them all
        assert confidence(rows) == confidence(as_fitted)
        batch.fit_through = fitted_through
    assert all(without <= within + 1e-9 for without, within in pairs)
    # How much weaker depends on how far the crowd's workers are from the pooled one (here
    # little: thin workers are mostly the crowd); weaker it is, for most items.
    assert sum(without < within for without, within in pairs) >= len(pairs) // 2
