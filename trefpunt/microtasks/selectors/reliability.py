"""The calibration of a batch's confidence, measured on its test questions.

Test (gold) questions are combined like every other item, from the workers' answers, so the
share of them whose combined answer matches the known answer, per band of stated
confidence, says whether "95 %" means 95 %: the reliability table on the results page.

**Early stopping** (:func:`batch_stop_reliability`). An ordinary question stops before its
maximum answers when the stopping rule says so (``services.stopping``); a test question
never does — it collects its maximum so it can measure the workers. To check the rule where
it acts, each test question's answers are taken in the order they arrived and the rule is
asked after each one, exactly as when an answer arrives (the last full fit's estimates, the
same :func:`~..services.stopping.item_stopping` and
:func:`~..aggregation.adaptive.may_stop`): the first answer at which it would have stopped
the question below its maximum gives the stated stopping confidence, and the combined answer
at that point is right or not. "When the platform says 95 %, about 95 % of such items are
right" holds when the two columns agree. The estimates come from a fit that also saw the
test question's later answers and its known answer, so the check is slightly kind to the
rule; with few test questions it says nothing, and the page says so.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from itertools import groupby
from typing import Any

from django.db.models import Exists, OuterRef, Subquery

from ..aggregation.adaptive import DEFAULT_MIN_AGREEING, calibration_from, may_stop
from ..models import Answer, Batch, BatchWorker, Item
from ..quality import AnswerRow, ItemResult, gold_matches, item_result
from ..services.stopping import item_stopping

# Bands of stated confidence, lower bounds; the last band runs to 100 % inclusive.
BANDS = (0.0, 0.5, 0.8, 0.9, 0.95, 0.99)
# Fewer test questions stopped early than this, and the observed share says too little to
# call the stated confidence honest or not (at 95 %, 20 questions: ± 10 points, 2 sigma).
MIN_STOPPED = 20
# Test questions replayed at most (the most recent), so the page stays quick on big batches.
MAX_REPLAYED = 2000


@dataclass(frozen=True)
class ReliabilityRow:
    low: float
    high: float
    items: int
    stated: float  # mean stated confidence in the band
    observed: float  # share of those test questions combined right


@dataclass(frozen=True)
class StopReliability:
    """Test questions replayed through the stopping rule (see the module docstring)."""

    calibrated: bool  # the batch's stopping rule has its calibration: it can stop early
    replayed: int  # test questions with answers and a known answer
    rows: list[ReliabilityRow]  # the ones it would have stopped early, by stated band
    stopped: int
    stated: float  # mean stated stopping confidence of those
    observed: float  # share of those combined right at the stop

    @property
    def enough(self) -> bool:
        return self.stopped >= MIN_STOPPED


def _rows(entries: Iterable[tuple[float, bool]]) -> list[ReliabilityRow]:
    """(stated confidence, right) pairs grouped into ``BANDS``."""
    bands: dict[int, list[tuple[float, bool]]] = {}
    for confidence, ok in entries:
        band = max(k for k, low in enumerate(BANDS) if confidence >= low)
        bands.setdefault(band, []).append((confidence, ok))
    out = []
    for band in sorted(bands):
        pairs = bands[band]
        out.append(
            ReliabilityRow(
                low=BANDS[band],
                high=BANDS[band + 1] if band + 1 < len(BANDS) else 1.0,
                items=len(pairs),
                stated=sum(c for c, _ok in pairs) / len(pairs),
                observed=sum(ok for _c, ok in pairs) / len(pairs),
            )
        )
    return out


def batch_reliability(*, batch: Batch) -> list[ReliabilityRow]:
    """One row per band that holds combined test questions (one query); empty without."""
    rows = Item.objects.filter(
        batch=batch, is_gold=True, confidence__isnull=False, aggregated_answer__isnull=False
    ).values_list("confidence", "gold_answer", "aggregated_answer")
    return _rows(
        (confidence, gold_matches(batch.form, gold, combined))
        for confidence, gold, combined in rows
        if gold and confidence is not None and combined is not None
    )


def _gold_answers(batch: Batch) -> dict[int, tuple[Any, list[AnswerRow]]]:
    """The known answer and the counted answers of the batch's most recent answered test
    questions, in the order they arrived, each with its worker's estimate from the last fit
    (one query)."""
    worker = BatchWorker.objects.filter(batch_id=batch.pk, worker_id=OuterRef("worker_id"))
    gold_ids = (
        Item.objects.filter(batch=batch, is_gold=True, answers_count__gt=0)
        .order_by("-pk")
        .values("pk")[:MAX_REPLAYED]
    )
    rows = (
        Answer.objects.filter(batch=batch, item_id__in=Subquery(gold_ids))
        .annotate(
            estimate=Subquery(worker.values("estimate")[:1]),
            excluded=Exists(worker.filter(excluded=True)),
        )
        .filter(excluded=False)
        .order_by("item_id", "created_at", "pk")
        .values_list("item_id", "item__gold_answer", "worker_id", "data", "estimate", "pk")
    )
    out = {}
    for item_id, group in groupby(rows, key=lambda r: r[0]):
        answers = list(group)
        out[item_id] = (
            answers[0][1],
            [
                AnswerRow(worker_id=w, data=d, estimate=e, answer_id=pk)
                for _i, _g, w, d, e, pk in answers
            ],
        )
    return out


def _stop_point(batch: Batch, rows: list[AnswerRow]) -> tuple[float, dict[str, Any]] | None:
    """(stopping confidence, combined answer) at the first answer after which the rule
    would have stopped the question below the batch's maximum; ``None`` if it never would."""
    for n in range(batch.min_answers, min(len(rows), batch.max_answers - 1) + 1):
        prefix = rows[:n]
        result: ItemResult = item_result(
            batch.form, batch.aggregation_method, batch.quality_model, prefix
        )
        item_stopping(batch=batch, rows=prefix, result=result)
        stop = (result.details or {}).get("stop")
        if stop is None or result.answer is None:
            return None  # not a single-choice primary field: the plain rule, not replayed
        if may_stop(
            stop["confidence"],
            n,
            stop["agreeing"],
            target=batch.confidence_target,
            min_answers=batch.min_answers,
            min_agreeing=DEFAULT_MIN_AGREEING,
        ):
            return float(stop["confidence"]), result.answer
    return None


def batch_stop_reliability(*, batch: Batch, answered_gold: int | None = None) -> StopReliability:
    """The test questions replayed through the stopping rule: those it would have stopped
    early, by band of stated stopping confidence, with the share combined right (one
    query; none before the rule has a calibration when the caller gives ``answered_gold``,
    the number of combined test questions, as :func:`batch_reliability` counts them; no
    writes)."""
    _t, calibration = calibration_from((batch.quality_model or {}).get("stop"))
    if calibration is None:
        if answered_gold is None:
            answered_gold = Item.objects.filter(
                batch=batch, is_gold=True, answers_count__gt=0, gold_answer__isnull=False
            ).count()
        return StopReliability(False, answered_gold, [], 0, 0.0, 0.0)
    answers = {k: v for k, v in _gold_answers(batch).items() if v[0]}
    entries = []
    for gold, rows in answers.values():
        point = _stop_point(batch, rows)
        if point is not None:
            entries.append((point[0], gold_matches(batch.form, gold, point[1])))
    stopped = len(entries)
    return StopReliability(
        calibrated=True,
        replayed=len(answers),
        rows=_rows(entries),
        stopped=stopped,
        stated=sum(c for c, _ok in entries) / stopped if stopped else 0.0,
        observed=sum(ok for _c, ok in entries) / stopped if stopped else 0.0,
    )
