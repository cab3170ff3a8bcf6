"""Quality: each item's combined answer, updated per answer, and the batch's full fit.

When an answer arrives, the item's combined answer and confidence are updated from its own
answers and the last fit's worker estimates (``quality.item_result``, cheap): the item
completes once its confidence reaches the batch's target after the minimum answers, or
gets one more slot (up to the maximum, which publishing funded) while it is uncertain. The
full fit (``batch_aggregate``) runs in the background every N answers, on exclusions and at
close; answers of excluded workers are left out of both. Lock order for quality writes:
batch, items by id, batch-worker rows, worker-quality rows.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, F, Max, Min, OuterRef, Subquery, Sum
from django.db.models.base import ModelState
from django.utils import timezone

from ..fit_results import AnswerCodes
from ..models import Answer, Batch, BatchWorker, Item, QualificationAttempt, WorkerQuality
from ..quality import GOLD_RECORD_MIN, AnswerRow, BatchFit, batch_fit, gold_matches, item_result
from ..webhooks import items_completed_emit
from .fit_store import (
    COMPLETE,
    OPEN,
    AnswerColumns,
    ItemsSnapshot,
    ResultText,
    SideConnections,
    answers_read,
    batch_workers_store,
    changed_rows,
    fit_columns,
    gc_paused,
    items_moved,
    items_snapshot,
    items_store_guarded,
    settle_columns,
    side_connections,
    single_fields,
)
from .item_states import item_settle_unlocked
from .stopping import fit_stopping, item_stopping

# The full fit runs after the first REFIT_FIRST answers, then each time the answers since the
# last fit reach as many as that fit saw (20, 40, 80, …), and from then on every
# ``refit_every()`` answers — or every REFIT_SHARE-th of the answers the last fit saw, when
# that is more. A fit reads the whole batch (seconds at 100,000 answers), so the gaps of a
# large batch grow with it and its fits cost a fixed multiple of its answers in all, instead
# of a fit per few seconds of work. The periodic sweep fits a batch whose answers since its
# last fit will not reach the next threshold soon: quiet for REFIT_QUIET, no longer open, or
# last fitted REFIT_STALE ago.
REFIT_FIRST = 20
REFIT_SHARE = 10
REFIT_QUIET = timedelta(minutes=2)
REFIT_STALE = timedelta(minutes=30)
ITEM_CHUNK = 500
# Items a fit stores per transaction (one lock-taking read and one write each).
FIT_CHUNK = 2000


# --- per answer: the item's combined answer ---------------------------------------------


ITEM_FIELDS = [
    "answers_target",
    "status",
    "completed_at",
    "aggregated_answer",
    "confidence",
    "aggregate_details",
]


def items_rows(*, item_ids: list[int], batch_id: int) -> dict[int, list[AnswerRow]]:
    """Each item's counted answers (excluded workers left out, in answer order), each with
    its worker's estimate from the last fit: one query for all of ``item_ids`` (an item
    without counted answers maps to an empty list). Items recombined together — after a
    fit, after an exclusion — read their answers here, not one query per item."""
    worker = BatchWorker.objects.filter(batch_id=batch_id, worker_id=OuterRef("worker_id"))
    found = (
        Answer.objects.filter(item_id__in=item_ids)
        .annotate(
            estimate=Subquery(worker.values("estimate")[:1]),
            excluded=Exists(worker.filter(excluded=True)),
        )
        .filter(excluded=False)
        .order_by("item_id", "pk")
        .values_list("item_id", "pk", "worker_id", "data", "estimate")
    )
    rows: dict[int, list[AnswerRow]] = {pk: [] for pk in item_ids}
    for item_id, pk, w, d, e in found:
        rows[item_id].append(AnswerRow(worker_id=w, data=d, estimate=e, answer_id=pk))
    return rows


def item_recombine_unlocked(
    *, item: Item, batch: Batch, now: datetime, reopen: bool, rows: list[AnswerRow] | None = None
) -> None:
    """Combine the item's counted answers again and move it on: complete it when it has
    enough, give it one more slot when it is full but uncertain (up to max answers), and with
    ``reopen`` settle a finished item again (after a fit or an exclusion, ``item_states``).
    The caller holds the item's row lock and saves ``ITEM_FIELDS``; ``rows`` are the item's
    counted answers when the caller already read them (``items_rows`` otherwise)."""
    if rows is None:
        rows = items_rows(item_ids=[item.pk], batch_id=batch.pk)[item.pk]
    result = item_result(batch.form, batch.aggregation_method, batch.quality_model, rows)
    item_stopping(batch=batch, rows=rows, result=result)
    item.aggregated_answer = result.answer
    item.confidence = result.confidence
    item.aggregate_details = result.details
    item_settle_unlocked(item=item, batch=batch, counted=len(rows), now=now, reopen=reopen)


def worker_quality_refresh_unlocked(*, worker_ids: list[int]) -> None:
    """Recompute the workers' gold record over every batch from their batch rows and their
    qualification tests (``qualification``)."""
    sums = {
        row["worker_id"]: row
        for row in BatchWorker.objects.filter(worker_id__in=worker_ids)
        .order_by()
        .values("worker_id")
        .annotate(n=Sum("gold_answers"), ok=Sum("gold_correct"))
    }
    tests = {
        row["worker_id"]: row
        for row in QualificationAttempt.objects.filter(worker_id__in=worker_ids)
        .order_by()
        .values("worker_id")
        .annotate(n=Sum("total"), ok=Sum("correct"))
    }
    rows = []
    for worker_id in sorted(worker_ids):
        row = sums.get(worker_id, {"n": 0, "ok": 0})
        test = tests.get(worker_id, {"n": 0, "ok": 0})
        n = int(row["n"] or 0) + int(test["n"] or 0)
        ok = int(row["ok"] or 0) + int(test["ok"] or 0)
        rows.append(
            WorkerQuality(
                worker_id=worker_id,
                gold_answers=n,
                gold_correct=ok,
                gold_accuracy=ok / n if n >= GOLD_RECORD_MIN else None,
            )
        )
    # One upsert for all of them (a fit refreshes every worker of the batch).
    WorkerQuality.objects.bulk_create(
        rows,
        batch_size=ITEM_CHUNK,
        update_conflicts=True,
        unique_fields=["worker"],
        update_fields=["gold_answers", "gold_correct", "gold_accuracy", "updated_at"],
    )


def _gold_score_unlocked(*, batch: Batch, item: Item, answer: Answer) -> bool:
    """Count a test answer in the worker's gold record; returns whether it was right."""
    correct = gold_matches(batch.form, item.gold_answer, answer.data)
    row, _created = BatchWorker.objects.get_or_create(batch=batch, worker_id=answer.worker_id)
    BatchWorker.objects.filter(pk=row.pk).update(
        gold_answers=F("gold_answers") + 1, gold_correct=F("gold_correct") + int(correct)
    )
    worker_quality_refresh_unlocked(worker_ids=[answer.worker_id])
    return correct


def item_answer_recorded_unlocked(
    *,
    item: Item,
    answer: Answer,
    batch: Batch,
    now: datetime,
    rows: list[AnswerRow] | None = None,
) -> None:
    """Called under the item's row lock right after ``answer`` was stored and
    ``item.answers_count`` raised; the caller saves ``ITEM_FIELDS`` of ``item``.

    A test answer scores the worker. Then adaptive redundancy: the item's combined answer and
    confidence are recomputed from its counted answers with the last fit's estimates (one
    query, no re-fit); the item completes when confident enough after the minimum answers,
    or at its maximum, and gets one more slot while it is uncertain.
    """
    if item.is_gold:
        _gold_score_unlocked(batch=batch, item=item, answer=answer)
    item_recombine_unlocked(item=item, batch=batch, now=now, reopen=False, rows=rows)


# --- aggregation: the full fit -------------------------------------------------------------------


def refit_every() -> int:
    return max(1, int(getattr(settings, "MICROTASK_REFIT_EVERY", 200)))


def refit_threshold(fit_answers: int) -> int:
    """Answers since the last fit (which saw ``fit_answers``) at which the next one is due."""
    return max(min(refit_every(), max(REFIT_FIRST, fit_answers)), fit_answers // REFIT_SHARE)


def aggregate_on_commit(batch_id: int) -> None:
    from ..tasks import batch_aggregate_task

    transaction.on_commit(lambda: batch_aggregate_task.enqueue(batch_id))


def aggregate_if_due(batch: Batch, *, received: int) -> None:
    """Enqueue the full fit once the answers since the last one reach the threshold.

    Reads no rows: ``received`` (the batch's answers so far) and ``batch``'s
    ``fit_received``, ``fit_through`` and ``fit_requested_through`` come from the answer
    path's counting statement. Concurrent answers may cross the threshold together or jump
    over any exact count, so the one enqueue per fit is claimed with a conditional update;
    the periodic sweep catches a lost one."""
    if batch.fit_requested_through == batch.fit_through:
        return  # this fit's successor is already enqueued
    since = received - batch.fit_received
    if since < refit_threshold(batch.fit_answers):
        return
    claimed = (
        Batch.objects.filter(pk=batch.pk, fit_through=batch.fit_through)
        .exclude(fit_requested_through=batch.fit_through)
        .update(fit_requested_through=batch.fit_through)
    )
    if claimed:
        aggregate_on_commit(batch.pk)


def batch_aggregate(*, batch_id: int) -> bool:
    """The full fit of a batch (``_batch_aggregate``), with Python's cycle collector paused:
    the fit builds a few hundred thousand tuples and dicts, none of them in a cycle (freed
    by their reference counts), and the collector's passes over them took a third of the
    statistics' time and most of building the answer rows."""
    with gc_paused():
        return _batch_aggregate(batch_id=batch_id)


def _batch_aggregate(*, batch_id: int) -> bool:
    """The full fit of a batch: every field combined by its method over the counted answers
    (excluded workers left out), worker estimates, skill, spammer flags and gold counts
    stored, items updated. Returns whether it stored a fit; ``False`` when nothing changed
    since the last one (so running it again is harmless) or a newer fit got there first.

    The fit reads a snapshot without locks, as columns (``fit_store``). Then each item takes
    its result — or, when answers arrived since the snapshot, is combined again from its
    own answers with the new estimates — and is settled again (``item_states``): a complete
    item whose confidence fell below the target reopens, or needs review at the maximum; an
    open item that has become confident enough completes. On PostgreSQL
    (``_fit_store_postgresql``) the items are written first, by guarded statements on side
    connections, and the model and worker rows after them; elsewhere the model first, then
    the items in chunks locked by id (``_fit_items_store_locked``).
    """
    batch = Batch.objects.exclude(status=Batch.Status.DRAFT).filter(pk=batch_id).first()
    if batch is None:
        return False
    span = Answer.objects.filter(batch=batch).aggregate(first=Min("pk"), last=Max("pk"))
    first, last = span["first"] or 0, span["last"] or 0
    version = batch.quality_version
    if last == batch.fit_through and version == batch.fit_version and batch.fitted_at:
        return False
    excluded = list(
        BatchWorker.objects.filter(batch=batch, excluded=True).values_list("worker_id", flat=True)
    )
    side = side_connections()
    try:
        return _batch_fit_store(
            batch=batch, first=first, last=last, version=version, excluded=excluded, side=side
        )
    finally:
        if side is not None:
            side.close()


def _batch_fit_store(
    *,
    batch: Batch,
    first: int,
    last: int,
    version: int,
    excluded: list[int],
    side: SideConnections | None,
) -> bool:
    """``_batch_aggregate`` after its first reads (the batch's answers are ids ``first`` to
    ``last``): the snapshot, the fit and its store."""
    postgresql = connection.vendor == "postgresql"
    # The items as this snapshot sees them: the fit's results are stored only on items
    # still in this state (``fit_store.items_store_guarded``). With side connections the
    # items are read on one of them while the answers are read here; both are read after
    # ``last`` (an answer that commits between the two reads shows as a count that differs
    # from the answers read, and that item is combined again under its lock).
    if side is not None:
        snapshot = side.submit(0, _items_snapshot_on, batch.pk)
        answers = answers_read(batch_id=batch.pk, first=first, last=last, side=side)
        items = snapshot.result()
    else:
        items = items_snapshot(batch_id=batch.pk, results=postgresql)
        answers = answers_read(batch_id=batch.pk, first=first, last=last)
    totals = np.bincount(
        np.searchsorted(items.ids, answers.items), minlength=len(items.ids)
    ).astype(np.int64)
    gold_counts = _gold_counts(batch=batch, gold=items.gold, answers=answers)
    keep = ~np.isin(answers.workers, np.asarray(excluded, dtype=np.int64))
    counted = AnswerCodes(
        items=np.searchsorted(items.ids, answers.items[keep]),
        workers=answers.workers[keep],
        codes=answers.codes[keep],
        distinct=answers.distinct,
    )
    fit = batch_fit(
        form=batch.form,
        method=batch.aggregation_method,
        item_ids=items.ids,
        answers=counted,
        gold=items.gold,
        gold_counts=gold_counts,
    )
    fit_stopping(batch=batch, fit=fit, gold=items.gold)
    now = timezone.now()
    fitted = _FitDone(
        fit=fit,
        items=items,
        totals=totals,
        last=last,
        version=version,
        now=now,
        answers=len(counted),
        received=len(answers.items),
        gold_counts=gold_counts,
    )
    if postgresql:
        complete = _fit_store_postgresql(batch=batch, done=fitted, side=side)
    elif _fit_model_store(batch_id=batch.pk, done=fitted) is None:
        complete = None
    else:
        complete = _Completed(np.zeros(0, dtype=np.int64), {})
        complete.combined = _fit_items_store_locked(
            batch_id=batch.pk,
            fit=fit,
            ids=items.ids.tolist(),
            totals=dict(zip(items.ids.tolist(), totals.tolist(), strict=True)),
            last=last,
            version=version,
            now=now,
        )
    if complete is None:
        return False
    _fit_completed_tell(batch=batch, fit=fit, items=items, complete=complete)
    if bool(np.any(items.status == OPEN)):
        # The fit may have completed the last open items (no answer did).
        from .lifecycle import batch_finished_check  # lifecycle imports this module

        batch_finished_check(batch)
    return True


@dataclass
class _Completed:
    """The items a fit left complete: ``fitted`` (ids) took the fit's results, ``combined``
    were combined again under their locks (id → combined answer and confidence)."""

    fitted: np.ndarray
    combined: dict[int, tuple[Any, float | None]]


def _fit_completed_tell(
    *, batch: Batch, fit: BatchFit, items: ItemsSnapshot, complete: _Completed
) -> None:
    """Tell the owner's endpoints about the items the fit completed: those it left complete
    that its snapshot did not see complete (an answer that completes an item tells them
    itself; an item told twice is one event, ``webhooks``)."""
    ids = np.concatenate((complete.fitted, np.fromiter(complete.combined, dtype=np.int64)))
    if not len(ids) or not len(items.ids):
        return
    was = items.status[np.searchsorted(items.ids, ids).clip(0, len(items.ids) - 1)]

    def result(pk: int) -> tuple[Any, float | None]:
        if pk in complete.combined:
            return complete.combined[pk]
        found = fit.items[pk]
        return found.answer, found.confidence

    items_completed_emit(batch, ids[was != COMPLETE].tolist(), result)


def _items_snapshot_on(raw: Any, batch_id: int) -> ItemsSnapshot:
    return items_snapshot(batch_id=batch_id, results=True, raw=raw)


def _newer_fit_stored(batch: Batch, *, last: int, version: int) -> bool:
    return batch.fit_through > last or (batch.fit_through == last and batch.fit_version > version)


def _fit_model_store(*, batch_id: int, done: _FitDone) -> Batch | None:
    """Store the fit's model on the batch and its worker rows, in one transaction that
    locks the batch; ``None`` (nothing stored) when a newer fit is stored already."""
    with transaction.atomic(durable=True):
        batch = Batch.objects.select_for_update(no_key=True).get(pk=batch_id)
        if _newer_fit_stored(batch, last=done.last, version=done.version):
            return None
        batch.quality_model = done.fit.model
        batch.fit_answers = done.answers
        batch.fit_received = done.received
        batch.fit_through = done.last
        batch.fit_version = done.version
        batch.fitted_at = done.now
        batch.save(
            update_fields=[
                "quality_model",
                "fit_answers",
                "fit_received",
                "fit_through",
                "fit_version",
                "fitted_at",
            ]
        )
        _batch_workers_store_unlocked(
            batch=batch, fit=done.fit, gold_counts=done.gold_counts, now=done.now
        )
    return batch


def _gold_counts(
    *, batch: Batch, gold: dict[int, Any], answers: AnswerColumns
) -> dict[int, tuple[int, int]]:
    """Each worker's (test answers, right ones) in this batch, excluded workers included."""
    counts: dict[int, tuple[int, int]] = {}
    if not gold:
        return counts
    on_gold = np.flatnonzero(np.isin(answers.items, np.asarray(list(gold), dtype=np.int64)))
    for k in on_gold.tolist():
        item_id, worker_id = int(answers.items[k]), int(answers.workers[k])
        n, ok = counts.get(worker_id, (0, 0))
        right = gold_matches(batch.form, gold[item_id], answers.distinct[answers.codes[k]])
        counts[worker_id] = (n + 1, ok + int(right))
    return counts


@dataclass
class _FitDone:
    """A stored fit's results with the snapshot they were computed from."""

    fit: BatchFit
    items: ItemsSnapshot
    totals: np.ndarray
    last: int
    version: int
    now: datetime
    answers: int  # counted
    received: int
    gold_counts: dict[int, tuple[int, int]]


# Two fits of one batch store one after the other (their statements would lock the same
# rows in different orders): a session advisory lock on (this constant, batch id).
_FIT_STORE_LOCK = 7_150_315


def _fit_store_postgresql(
    *, batch: Batch, done: _FitDone, side: SideConnections | None
) -> _Completed | None:
    """Store a fit on PostgreSQL, items first. Every item is settled at once; those whose
    answers the snapshot saw all of and whose state or results change are written by
    guarded statements (``fit_store.items_store_guarded``), on the side connections when
    there are some; then the model and the worker rows are stored (``_fit_model_store``);
    then the items that moved on since the snapshot, and those whose answers it did not
    see all of, are combined again under their locks (``_fit_items_store_locked``).
    Returns the items it left complete, or ``None`` when the fit was not stored.

    Why in this order, and why the item statements may run outside the fit's transaction:

    - Two fits of a batch store one after the other (the session advisory lock below,
      held from the check that no newer fit is stored until the model is stored); the
      item statements also skip every row once a newer fit is stored.
    - Each item statement commits on its own and writes an item only while it is as the
      snapshot saw it, so a row it writes holds this fit's result for the very answers
      the fit read: a consistent row whatever happens to the other statements.
    - Should the fit stop halfway (an error, the process killed) before its model is
      stored, the batch still names the previous fit (``fit_through``, ``fit_version``):
      the answers since it keep the periodic sweep and the answer path asking for a fit,
      which runs again and writes the rest (those already written compare equal and are
      skipped). Items ahead of the stored model meanwhile are harmless: an answer combines
      its item again from its own answers with the stored estimates. Storing the model
      first, as before, left items with an older fit's results under a batch that said it
      was fitted, and nothing would ask for a fit until new answers came.
    - An answer during the writes either comes first (the statement waits for its row
      lock, then sees the new count and skips the row; the read after the writes finds it
      moved and combines it again under its lock, with the model stored by then) or after
      (it combines its item from its own answers, the new one included). An answer that
      read the old estimates and commits after that read is newer than ``last`` and gets
      a later fit. No answer is left out of its item's result.
    """
    items = done.items
    fields = single_fields(batch.form)
    columns = fit_columns(done.fit, items.ids, ResultText(fields) if fields else None)
    settled = settle_columns(batch=batch, items=items, fit=columns)
    seen_all = items.count == done.totals
    rows = changed_rows(items=items, fit=columns, settled=settled)
    written = rows[seen_all[rows]]
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s, %s)", [_FIT_STORE_LOCK, batch.pk])
        try:
            current = Batch.objects.only("fit_through", "fit_version").get(pk=batch.pk)
            if _newer_fit_stored(current, last=done.last, version=done.version):
                return None
            items_store_guarded(
                batch=batch,
                fit=done.fit,
                items=items,
                columns=columns,
                settled=settled,
                rows=written,
                last=done.last,
                version=done.version,
                now=done.now,
                side=side,
            )
            stored = _fit_model_store(batch_id=batch.pk, done=done)
            if stored is None:
                return None
            moved = items_moved(batch_id=batch.pk, items=items, settled=settled, side=side)
        finally:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [_FIT_STORE_LOCK, batch.pk])
    moved = sorted(set(moved) | set(items.ids[~seen_all].tolist()))
    fitted = items.ids[written[settled.status[written] == COMPLETE]]
    complete = _Completed(fitted[~np.isin(fitted, moved)], {})
    if moved:
        position = np.searchsorted(items.ids, np.asarray(moved, dtype=np.int64))
        complete.combined = _fit_items_store_locked(
            batch_id=batch.pk,
            fit=done.fit,
            ids=moved,
            totals=dict(zip(moved, done.totals[position].tolist(), strict=True)),
            last=done.last,
            version=done.version,
            now=done.now,
        )
    return complete


def _fit_items_store_locked(
    *,
    batch_id: int,
    fit: Any,
    ids: list[int],
    totals: dict[int, int],
    last: int,
    version: int,
    now: datetime,
) -> dict[int, tuple[Any, float | None]]:
    """Store the fit's item results in chunks of items locked by id (the portable path, and
    the PostgreSQL path for the items whose answers changed after the fit's snapshot): each
    item takes its result or, when answers arrived since the snapshot, is combined again
    from its own answers with the new estimates; then it is settled again. Returns the
    items it left complete: id → combined answer and confidence."""
    alias = connection.alias
    complete: dict[int, tuple[Any, float | None]] = {}
    for start in range(0, len(ids), FIT_CHUNK):
        chunk = ids[start : start + FIT_CHUNK]
        with transaction.atomic(durable=True):
            current = Batch.objects.filter(pk=batch_id, fit_through=last, fit_version=version)
            fitted = current.first()
            if fitted is None:
                break  # a newer fit stores its own results
            locked = (
                Item.objects.select_for_update(no_key=True)
                .filter(batch_id=batch_id, pk__in=chunk)
                .order_by("pk")
                .values_list(*_FIT_READ)
            )
            changed = [_item_light(dict(zip(_FIT_READ, v, strict=True)), alias) for v in locked]
            moved = [item.pk for item in changed if item.answers_count != totals.get(item.pk, 0)]
            rows = items_rows(item_ids=moved, batch_id=batch_id) if moved else {}
            for item in changed:
                if item.pk in rows:
                    item_recombine_unlocked(
                        item=item, batch=fitted, now=now, reopen=True, rows=rows[item.pk]
                    )
                else:
                    _fit_result_apply(item=item, fit=fit, batch=fitted, now=now)
                if item.status == Item.Status.COMPLETE:
                    complete[item.pk] = (item.aggregated_answer, item.confidence)
            items_store_unlocked(changed)
    return complete


def _fit_result_apply(*, item: Item, fit: Any, batch: Batch, now: datetime) -> None:
    result = fit.items[item.pk]
    item.aggregated_answer = result.answer
    item.confidence = result.confidence
    item.aggregate_details = result.details
    item_settle_unlocked(item=item, batch=batch, counted=fit.counted[item.pk], now=now, reopen=True)


# What a fit reads of each item under its lock: what settling it needs, not its data or
# its stored results (those are overwritten; PostgreSQL skips rows whose values are equal).
_FIT_READ = (
    "id",
    "batch_id",
    "answers_count",
    "answers_target",
    "is_gold",
    "status",
    "completed_at",
    "confidence",
)


def _item_light(values: dict[str, Any], alias: str = "default") -> Item:
    """An ``Item`` from a few of its columns, without ``Model.__init__`` (100,000 of them
    cost seconds): as ``Model.from_db`` builds one, with the other fields deferred."""
    item = Item.__new__(Item)
    item._state = ModelState()
    item._state.adding = False
    item._state.db = alias  # the caller's ``connection.alias``, read once (it costs a lookup)
    item.__dict__.update(values, aggregated_answer=None, aggregate_details=None)
    return item


# One statement per chunk on PostgreSQL: the new values travel as one JSON document joined
# to the rows by id (``bulk_update``'s ``CASE WHEN id = … THEN …`` per row and column took
# minutes for 100,000 items; one array parameter per column spent seconds in the driver
# quoting every element).
_ITEMS_STORE = """
UPDATE {item} AS i SET
    answers_target = v.answers_target,
    status = v.status,
    completed_at = v.completed_at,
    aggregated_answer = v.aggregated_answer,
    confidence = v.confidence,
    aggregate_details = v.aggregate_details
FROM jsonb_to_recordset(%s::jsonb) AS v(
    id bigint, answers_target integer, status text, completed_at timestamptz,
    aggregated_answer jsonb, confidence float8, aggregate_details jsonb
)
WHERE i.id = v.id AND (
    i.answers_target, i.status, i.completed_at, i.aggregated_answer, i.confidence,
    i.aggregate_details
) IS DISTINCT FROM (
    v.answers_target, v.status, v.completed_at, v.aggregated_answer, v.confidence,
    v.aggregate_details
)
"""


def _item_row(item: Item) -> dict[str, Any]:
    return {
        "id": item.pk,
        "answers_target": item.answers_target,
        "status": item.status,
        "completed_at": item.completed_at.isoformat() if item.completed_at else None,
        "aggregated_answer": item.aggregated_answer,
        "confidence": item.confidence,
        "aggregate_details": item.aggregate_details,
    }


def items_store_unlocked(items: list[Item]) -> None:
    """Write ``ITEM_FIELDS`` of ``items`` (locked by the caller): one ``UPDATE … FROM
    jsonb_to_recordset(…)`` on PostgreSQL that leaves rows with equal values alone,
    ``bulk_update`` elsewhere."""
    if not items:
        return
    if connection.vendor != "postgresql" or sorted(ITEM_FIELDS) != sorted(_ITEMS_STORE_FIELDS):
        Item.objects.bulk_update(items, ITEM_FIELDS, batch_size=ITEM_CHUNK)
        return
    payload = json.dumps([_item_row(item) for item in items])
    with connection.cursor() as cursor:
        cursor.execute(
            _ITEMS_STORE.format(item=connection.ops.quote_name(Item._meta.db_table)), [payload]
        )


# What ``_ITEMS_STORE`` writes; should ``ITEM_FIELDS`` grow, the portable path takes over.
_ITEMS_STORE_FIELDS = [
    "answers_target",
    "status",
    "completed_at",
    "aggregated_answer",
    "confidence",
    "aggregate_details",
]


def _batch_workers_store_unlocked(
    *, batch: Batch, fit: BatchFit, gold_counts: dict[int, tuple[int, int]], now: datetime
) -> None:
    """Store each worker's estimate, skill and spammer flag from the fit, and their gold
    counts recounted from the answers. Workers left out of the fit (excluded) keep their
    last estimates. The rows are locked by id first (lock order), then written in one
    statement on PostgreSQL (``fit_store.batch_workers_store``)."""
    worker_ids = sorted(set(fit.workers) | set(gold_counts))
    rows = BatchWorker.objects.select_for_update(no_key=True).filter(
        batch=batch, worker_id__in=worker_ids
    )
    existing = set(rows.order_by("pk").values_list("worker_id", flat=True))
    new = [BatchWorker(batch=batch, worker_id=w) for w in worker_ids if w not in existing]
    if new:
        BatchWorker.objects.bulk_create(new, ignore_conflicts=True)
        list(rows.order_by("pk").values_list("pk", flat=True))
    if connection.vendor == "postgresql":
        batch_workers_store(
            batch_id=batch.pk, fit=fit, worker_ids=worker_ids, gold_counts=gold_counts, now=now
        )
    else:
        _batch_workers_update(batch=batch, fit=fit, gold_counts=gold_counts, now=now)
    worker_quality_refresh_unlocked(worker_ids=worker_ids)


def _batch_workers_update(
    *, batch: Batch, fit: BatchFit, gold_counts: dict[int, tuple[int, int]], now: datetime
) -> None:
    """The portable path of ``_batch_workers_store_unlocked`` (``bulk_update``)."""
    worker_ids = sorted(set(fit.workers) | set(gold_counts))
    rows = list(BatchWorker.objects.filter(batch=batch, worker_id__in=worker_ids))
    for row in rows:
        row.gold_answers, row.gold_correct = gold_counts.get(row.worker_id, (0, 0))
        worker_fit = fit.workers.get(row.worker_id)
        if worker_fit is not None:
            row.estimate = worker_fit.estimate
            row.skill = worker_fit.skill
            row.spam_score = worker_fit.spam_score
            row.flagged_spammer = worker_fit.flagged
        row.updated_at = now
    BatchWorker.objects.bulk_update(
        rows,
        [
            "gold_answers",
            "gold_correct",
            "estimate",
            "skill",
            "spam_score",
            "flagged_spammer",
            "updated_at",
        ],
        batch_size=ITEM_CHUNK,
    )
