"""The full fit as columns (``services.fit_store``): settling every item at once follows the
per-item rules, a refit that changes nothing writes no item row, a changed result is stored."""

from __future__ import annotations

import gc
import itertools
import json
import random
from datetime import datetime
from typing import Any

import numpy as np
import pytest
from django.db import connection
from django.db.models import F, Max, Min
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from trefpunt.accounts.tests.factories import UserFactory
from trefpunt.microtasks.models import Answer, Batch, Item
from trefpunt.microtasks.services import batch_aggregate, lease_answer
from trefpunt.microtasks.services.fit_store import (
    STATUSES,
    UNSURE,
    FitColumns,
    ItemsSnapshot,
    ResultText,
    settle_columns,
)
from trefpunt.microtasks.services.item_states import item_settle_unlocked
from trefpunt.microtasks.tests.factories import claim, published_batch

pytestmark = pytest.mark.django_db
postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="the portable path rewrites each chunk; the guarded statements are PostgreSQL's",
)


def _item(*, status, gold, count, target, confidence, stop):
    details = {"answers": count} if stop is None else {"answers": count, "stop": stop}
    return Item(
        is_gold=gold,
        status=status,
        answers_count=count,
        answers_target=target,
        confidence=confidence,
        aggregate_details=details,
        completed_at=None if status == "open" else timezone.now(),
    )


def test_settle_columns_follows_item_settle_unlocked_for_every_case():
    # Every combination of state, test question, answers, target, confidence, stopping
    # figures and batch state: the numpy settling and the per-item one agree.
    rng = random.Random(15)
    now = datetime(2026, 12, 6, tzinfo=timezone.get_current_timezone())
    cases = []
    for status, gold, running in itertools.product(
        ["open", "complete", "review", "closed"], [False, True], [True, False]
    ):
        for _ in range(40):
            count = rng.randint(0, 7)
            stop = rng.choice(
                [None, {"confidence": rng.choice([0.0, 0.9, 0.99]), "agreeing": rng.randint(0, 4)}]
            )
            cases.append(
                (
                    running,
                    _item(
                        status=status,
                        gold=gold,
                        count=count,
                        target=rng.randint(max(count, 1), 7),
                        confidence=rng.choice([None, 0.5, 0.95, 0.99]),
                        stop=stop,
                    ),
                    rng.randint(0, count),
                )
            )
    for running in (True, False):
        batch = Batch(
            min_answers=3,
            max_answers=5,
            confidence_target=0.95,
            status=Batch.Status.OPEN if running else Batch.Status.CLOSED,
        )
        chosen = [(item, counted) for r, item, counted in cases if r == running]
        codes = {name: k + 1 for k, name in enumerate(STATUSES)}
        snapshot = ItemsSnapshot(
            ids=np.arange(len(chosen), dtype=np.int64),
            is_gold=np.asarray([i.is_gold for i, _c in chosen]),
            count=np.asarray([i.answers_count for i, _c in chosen], dtype=np.int64),
            target=np.asarray([i.answers_target for i, _c in chosen], dtype=np.int64),
            status=np.asarray([codes[i.status] for i, _c in chosen], dtype=np.int64),
            gold={},
        )
        stops = [(i.aggregate_details or {}).get("stop") for i, _c in chosen]
        columns = FitColumns(
            counted=np.asarray([c for _i, c in chosen], dtype=np.int64),
            confidence=np.asarray(
                [np.nan if i.confidence is None else i.confidence for i, _c in chosen]
            ),
            has_stop=np.asarray([s is not None for s in stops]),
            stop_confidence=np.asarray([s["confidence"] if s else 0.0 for s in stops]),
            stop_agreeing=np.asarray([s["agreeing"] if s else 0 for s in stops], dtype=np.int64),
            answer_text=[],
            details_text=[],
        )
        settled = settle_columns(batch=batch, items=snapshot, fit=columns)
        for n, (item, counted) in enumerate(chosen):
            was_completed = item.completed_at
            item_settle_unlocked(item=item, batch=batch, counted=counted, now=now, reopen=True)
            assert STATUSES[settled.status[n] - 1] == item.status
            assert settled.target[n] == item.answers_target
            stamped = item.completed_at == now
            cleared = item.completed_at is None and was_completed is not None
            assert settled.completed[n] == (1 if stamped else 2 if cleared else 0)


def _answer(batch, label):
    worker = UserFactory.create()
    lease = claim(batch, worker)
    lease_answer(lease_id=lease.pk, worker=worker, answer={"sentiment": label})


def _answered_batch():
    batch = published_batch(items=4, min_answers=3, max_answers=3)
    for label in ["pos", "pos", "neg"] * 4:
        _answer(batch, label)
    return batch


def _refit(batch):
    Batch.objects.filter(pk=batch.pk).update(quality_version=F("quality_version") + 1)
    assert batch_aggregate(batch_id=batch.pk) is True


def _row_versions(batch):
    # Each row version has its own place (ctid): a row that was written has moved.
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, ctid::text FROM {Item._meta.db_table} WHERE batch_id = %s",  # noqa: S608
            [batch.pk],
        )
        return dict(cursor.fetchall())


@postgres_only
def test_a_refit_with_unchanged_results_writes_no_item_row():
    batch = _answered_batch()
    _refit(batch)
    before = _row_versions(batch)
    _refit(batch)
    assert _row_versions(batch) == before


def test_a_refit_stores_a_changed_result_and_only_that_row():
    batch = _answered_batch()
    _refit(batch)
    fitted = {
        i.pk: (i.aggregated_answer, i.confidence, i.aggregate_details, i.status)
        for i in Item.objects.filter(batch=batch)
    }
    spoiled = min(fitted)
    Item.objects.filter(pk=spoiled).update(
        aggregated_answer={"sentiment": "neu"}, confidence=0.1, aggregate_details={"answers": 0}
    )
    before = _row_versions(batch) if connection.vendor == "postgresql" else {}
    _refit(batch)
    after = {
        i.pk: (i.aggregated_answer, i.confidence, i.aggregate_details, i.status)
        for i in Item.objects.filter(batch=batch)
    }
    assert after == fitted
    if before:
        assert {pk for pk, v in _row_versions(batch).items() if before[pk] != v} == {spoiled}


@postgres_only
def test_result_text_is_the_text_postgresql_prints_for_the_stored_json():
    # The refit leaves a row alone when this text equals the stored one; it must be the
    # text jsonb prints for the same JSON, or nothing would ever compare equal.
    texts = ResultText([("sentiment", ["pos", "neg", "neu"]), ('a"%', ["x", "ÿ"])])
    answer = {"sentiment": "neg", 'a"%': None}
    other = {"confidence": 0.5, "agreement": 0.5, "answers": 2}
    details: dict[str, Any] = {
        "answers": 3,
        "agreement": 0.6666666666666666,
        "fields": {
            "sentiment": {"confidence": 0.9600624446656625, "agreement": 1.0, "answers": 3},
            'a"%': other,
        },
        "stop": {"confidence": 0.0, "agreeing": 2},
    }
    one_field = {"answers": 1, "agreement": None, "fields": {'a"%': other}}
    with connection.cursor() as cursor:
        for value, text in (
            (answer, texts.answer(answer)),
            ({**answer, 'a"%': "ÿ"}, texts.answer({**answer, 'a"%': "ÿ"})),
            (details, texts.details(details)),
            (one_field, texts.details(one_field)),
        ):
            cursor.execute("SELECT %s::jsonb::text", [json.dumps(value)])
            assert cursor.fetchone()[0] == text
    # Where it cannot be sure (a number in exponent notation), it says so.
    assert texts.details({**details, "agreement": 1e-05}) == UNSURE
    assert texts.answer(None) is None and texts.details(None) is None


def test_batch_aggregate_pauses_the_cycle_collector_only_while_it_runs(monkeypatch):
    from trefpunt.microtasks.services import aggregation

    batch = _answered_batch()
    seen: list[bool] = []
    fit_real = aggregation.batch_fit

    def fit_noting(**kwargs):
        seen.append(gc.isenabled())
        return fit_real(**kwargs)

    monkeypatch.setattr(aggregation, "batch_fit", fit_noting)
    assert gc.isenabled()
    _refit(batch)
    assert seen == [False]
    assert gc.isenabled()


def _answered_batch_of(items: int) -> Batch:
    batch = published_batch(items=items, min_answers=3, max_answers=3)
    rng = random.Random(items)
    for _ in range(items * 3):
        _answer(batch, rng.choice(["pos", "pos", "pos", "neg"]))
    return batch


def _stored(batch: Batch) -> dict[int, tuple[Any, ...]]:
    return {
        i.pk: (i.aggregated_answer, i.confidence, i.aggregate_details, i.status, i.answers_target)
        for i in Item.objects.filter(batch=batch)
    }


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_side_connections_write_what_the_fits_own_connection_writes(settings, monkeypatch):
    # Outside a transaction the fit reads its items and writes them on side connections, in
    # chunks side by side; the rows are those the fit's own connection writes.
    from trefpunt.microtasks.services import fit_store

    monkeypatch.setattr(fit_store, "STORE_CHUNK", 2)
    used: list[int] = []
    submit = fit_store.SideConnections.submit

    def noting(self, k, work, *args):
        used.append(k)
        return submit(self, k, work, *args)

    monkeypatch.setattr(fit_store.SideConnections, "submit", noting)
    results = {}
    for writers in (2, 0):
        settings.MICROTASK_FIT_WRITERS = writers
        batch = _answered_batch_of(7)
        # Every row differs from the fit's results, so every row is written.
        Item.objects.filter(batch=batch).update(
            aggregated_answer=None, confidence=None, aggregate_details=None
        )
        _refit(batch)
        results[writers] = sorted(_stored(batch).values(), key=repr)
    assert sorted(set(used)) == [0, 1]  # the snapshot and four chunks on two connections
    assert results[2] == results[0]
    assert all(row[1] is not None for row in results[2])


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_reads_in_halves_on_two_side_connections_are_the_reads_in_one(settings):
    # The answers (ids split in two) and the moved items (item ids split in two) are read
    # half on each connection; an answer's text in both halves is one distinct answer.
    from trefpunt.microtasks.services import fit_store

    settings.MICROTASK_FIT_WRITERS = 2
    batch = _answered_batch_of(9)
    span = Answer.objects.filter(batch=batch).aggregate(first=Min("pk"), last=Max("pk"))
    snapshot = fit_store.items_snapshot(batch_id=batch.pk)
    item = Item.objects.filter(batch=batch).latest("pk")
    # Moved on since the snapshot: it takes one more answer.
    Item.objects.filter(pk=item.pk).update(answers_target=F("answers_target") + 1)
    settled = fit_store.Settled(
        target=snapshot.target, status=snapshot.status, completed=snapshot.status * 0
    )
    side = fit_store.side_connections()
    assert side is not None and len(side) == 2
    try:
        halves = fit_store.answers_read(batch_id=batch.pk, **span, side=side)
        moved = fit_store.items_moved(batch_id=batch.pk, items=snapshot, settled=settled, side=side)
    finally:
        side.close()
    whole = fit_store.answers_read(batch_id=batch.pk, **span)

    def answers(read):
        labels = [json.dumps(read.distinct[c], sort_keys=True) for c in read.codes]
        return list(zip(read.items.tolist(), read.workers.tolist(), labels, strict=True))

    assert len(whole.items) == 27
    assert answers(halves) == answers(whole)
    assert sorted(map(json.dumps, halves.distinct)) == sorted(map(json.dumps, whole.distinct))
    assert moved == fit_store.items_moved(batch_id=batch.pk, items=snapshot, settled=settled)
    assert moved == [item.pk]


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_fit_failing_while_it_writes_its_items_stores_no_model_and_runs_again(
    settings, monkeypatch
):
    # Items first, model after: a fit that fails halfway leaves the batch naming the last
    # stored fit, so it is due again, and the next run writes the rest.
    from trefpunt.microtasks.services import fit_store

    settings.MICROTASK_FIT_WRITERS = 2
    monkeypatch.setattr(fit_store, "STORE_CHUNK", 2)
    batch = _answered_batch_of(7)
    Item.objects.filter(batch=batch).update(
        aggregated_answer=None, confidence=None, aggregate_details=None
    )
    before = Batch.objects.get(pk=batch.pk)
    store = fit_store._store_chunk
    calls = []

    def failing(raw, sql, params):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("connection lost")
        return store(raw, sql, params)

    monkeypatch.setattr(fit_store, "_store_chunk", failing)
    Batch.objects.filter(pk=batch.pk).update(quality_version=F("quality_version") + 1)
    with pytest.raises(RuntimeError):
        batch_aggregate(batch_id=batch.pk)
    after = Batch.objects.get(pk=batch.pk)
    assert (after.fit_through, after.fit_version, after.quality_model) == (
        before.fit_through,
        before.fit_version,
        before.quality_model,
    )
    monkeypatch.setattr(fit_store, "_store_chunk", store)
    assert batch_aggregate(batch_id=batch.pk) is True
    stored = _stored(batch)
    assert all(row[1] is not None for row in stored.values())
    Batch.objects.filter(pk=batch.pk).update(quality_version=F("quality_version") + 1)
    settings.MICROTASK_FIT_WRITERS = 0
    assert batch_aggregate(batch_id=batch.pk) is True
    assert _stored(batch) == stored


def _fit_with_answers_arriving(monkeypatch, *, arriving: int) -> tuple[Batch, int]:
    """A fit of a batch of 8 items with two answers each (min 3, max 4 answers) during
    which ``arriving`` of its items take a third answer, after the fit's snapshot and before
    its model is stored; returns the batch and the queries the fit sent besides those of
    the arriving answers."""
    from trefpunt.microtasks.services import aggregation

    batch = published_batch(items=8, min_answers=3, max_answers=4)
    first, second, third = UserFactory.create_batch(3)
    for worker in (first, second):
        for _ in range(8):
            lease = claim(batch, worker)
            lease_answer(lease_id=lease.pk, worker=worker, answer={"sentiment": "pos"})
    store = aggregation._fit_model_store
    theirs: list[int] = []

    def answers_arrive(**kwargs):
        before = len(queries)
        for _ in range(arriving):
            lease = claim(batch, third)
            lease_answer(lease_id=lease.pk, worker=third, answer={"sentiment": "neg"})
        theirs.append(len(queries) - before)
        return store(**kwargs)

    monkeypatch.setattr(aggregation, "_fit_model_store", answers_arrive)
    Batch.objects.filter(pk=batch.pk).update(quality_version=F("quality_version") + 1)
    with CaptureQueriesContext(connection) as queries:
        assert batch_aggregate(batch_id=batch.pk) is True
    return batch, len(queries) - sum(theirs)


def test_items_answered_during_a_fit_are_combined_again_with_one_read_of_their_answers(
    monkeypatch,
):
    # The items that took answers after the fit's snapshot are combined again from their
    # own answers under their locks, the answers of all of them read at once (one query
    # per item before: a fit under load spent seconds on them).
    _batch, one = _fit_with_answers_arriving(monkeypatch, arriving=1)
    monkeypatch.undo()
    batch, five = _fit_with_answers_arriving(monkeypatch, arriving=5)
    assert five == one
    answered = Item.objects.filter(batch=batch, answers_count=3)
    assert answered.count() == 5
    for item in answered:
        # Combined from its three answers, the one the fit did not see included.
        assert (item.aggregate_details or {})["answers"] == 3
