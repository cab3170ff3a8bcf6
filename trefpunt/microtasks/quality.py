"""From stored answers to combined answers and worker estimates (reads only; no writes).

The statistics live in :mod:`.aggregation` (pure numpy). This module turns a batch's form
and answers into the arrays those methods take, and their results into what the database
stores. Two speeds, as the issue asks:

- :func:`batch_fit` — the full fit over every counted answer of a batch (background task
  every N answers and at close, ``services.batch_aggregate``);
- :func:`item_result` — one item from its own answers and the stored estimates of the last
  fit (in the request that stores an answer, under the item's row lock). For Dawid-Skene and
  one-coin Dawid-Skene this is Bayes' rule with the fitted class prior and each worker's
  fitted confusion matrix, which reproduces the fit's posterior exactly for an item the fit
  saw (``aggregation.item_posterior``); a worker the fit has not seen counts as the pooled,
  answer-weighted average worker. Weighted majority vote uses the fitted weights, majority
  vote the vote share. Before the first fit every method uses the vote share.

Per field type (the client picks the method for single-choice fields on the batch form):

- **single choice**: majority vote, weighted majority vote, Dawid-Skene (default) or
  one-coin Dawid-Skene over the field's choices; test questions anchor (Dawid-Skene) or
  weight (weighted vote) the fit;
- **multiple choice**: per-option majority — an option is in the combined answer when more
  than half of the answers picked it; the field's confidence is the share behind its least
  certain option. Treating each set as one label would split the votes over up to 2^k sets;
- **number**: the median; the 10 % trimmed mean and the median absolute deviation are kept
  in the details and shown next to it;
- **short text**: majority over normalised text (Unicode NFKC, case-folded, whitespace
  collapsed), shown in its most common spelling.

An item's ``confidence`` is that of the form's *primary* field: the first single-choice
field, else the first multiple-choice field, else the first text field. A form with numbers
only has no confidence; its items complete at the minimum answers. ``agreement`` is the share
of the item's answers that agree with the combined answer on the primary field.

Worker quality (skill, spammer score) always comes from Dawid-Skene on the first
single-choice field, anchored on the test questions, whatever method combines the labels.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .aggregation import (
    CategoricalResult,
    GoldScores,
    agreement_weights,
    confusion_for_updates,
    dawid_skene,
    detect_spammers,
    gold_scores,
    item_posterior,
    majority_vote,
    median,
    normalize_text,
    one_coin_dawid_skene,
    pooled_confusion,
    text_majority,
    trimmed_mean,
    weighted_majority_vote,
    weights_from_gold,
    wilson_interval,
)
from .fit_results import (
    AnswerCodes,
    FitCounts,
    FitItems,
    ItemColumns,
    ItemResult,
    OtherColumn,
    SingleColumn,
    finish,
    first_seen,
    label_table,
)

MODEL_VERSION = 1
# A worker's gold accuracy is recorded (and can keep them out of batches) from this many
# test answers on; see ``models.WorkerQuality``.
GOLD_RECORD_MIN = 5
TRIM = 0.1

Data = dict[str, Any]


@dataclass(frozen=True)
class AnswerRow:
    """One counted answer: who gave it, what they answered, and the worker's stored estimate
    (``BatchWorker.estimate``; ``None`` when the last fit did not see them)."""

    worker_id: int
    data: Data
    estimate: dict[str, Any] | None = None
    answer_id: int | None = None  # known where the stopping rule needs it (which the fit saw)


@dataclass
class WorkerFit:
    estimate: dict[str, Any]
    skill: float | None = None
    spam_score: float | None = None
    flagged: bool = False


@dataclass
class BatchFit:
    model: dict[str, Any]
    items: Mapping[int, ItemResult]
    # Counted answers per item in the fit (to tell which items changed since).
    counted: Mapping[int, int]
    workers: dict[int, WorkerFit] = field(default_factory=dict)
    # The items' results as columns (``items`` builds each one from them).
    columns: ItemColumns | None = None


# --- the form ----------------------------------------------------------------------------


def primary_field(form: Sequence[dict[str, Any]]) -> dict[str, Any] | None:
    """The field whose confidence decides when an item has enough answers."""
    for kind in ("single", "multiple", "text"):
        for spec in form:
            if spec["type"] == kind:
                return spec
    return None


def _choices(spec: dict[str, Any]) -> list[str]:
    return [c["value"] for c in spec.get("choices", [])]


def _has_value(value: Any) -> bool:
    return value is not None and value != "" and value != []


def gold_matches(form: Sequence[dict[str, Any]], gold: Data | None, data: Data) -> bool:
    """Whether an answer gives the expected answer on every field the test question fixes.
    Text compares in normal form; numbers by value; a multiple choice as a set."""
    if not gold:
        return False
    kinds = {spec["name"]: spec["type"] for spec in form}
    for name, expected in gold.items():
        given = data.get(name)
        kind = kinds.get(name)
        if kind == "text":
            if not isinstance(given, str) or normalize_text(given) != normalize_text(str(expected)):
                return False
        elif kind == "number":
            if not isinstance(given, int | float) or not math.isclose(
                float(given), float(expected), rel_tol=1e-9, abs_tol=1e-9
            ):
                return False
        elif kind == "multiple":
            if set(given or []) != set(expected or []):
                return False
        elif given != expected:
            return False
    return True


def gold_interval(correct: int, answers: int) -> tuple[float, float] | None:
    """95 % Wilson interval of a gold accuracy; ``None`` without gold answers."""
    if not answers:
        return None
    low, high = wilson_interval(np.asarray([correct]), np.asarray([answers]))
    return float(low[0]), float(high[0])


# --- one field over many items (shared by the fit and the per-item path) -------------------


def _vote_shares(labels: np.ndarray, n_classes: int, weights: np.ndarray | None) -> np.ndarray:
    scores = np.bincount(labels, weights=weights, minlength=n_classes).astype(np.float64)
    total = scores.sum()
    if total <= 0:
        return np.full(n_classes, 1.0 / n_classes)
    return np.asarray(scores / total)


def _multiple_field(
    spec: dict[str, Any], items: np.ndarray, values: list[list[str]], n_items: int
) -> tuple[list[list[str]], np.ndarray, np.ndarray]:
    """Per-option majority: (selected options per item, confidence, agreement)."""
    options = _choices(spec)
    n = np.bincount(items, minlength=n_items).astype(np.float64)
    picked = np.zeros((n_items, len(options)))
    for k, option in enumerate(options):
        chose = np.asarray([option in v for v in values], dtype=np.float64)
        picked[:, k] = np.bincount(items, weights=chose, minlength=n_items)
    share = picked / np.maximum(n, 1.0)[:, None]
    selected = share > 0.5
    confidence = np.where(n > 0, np.maximum(share, 1.0 - share).min(axis=1, initial=1.0), 0.0)
    chosen = [[o for o, s in zip(options, row, strict=True) if s] for row in selected.tolist()]
    same = np.asarray(
        [set(v) == set(chosen[i]) for i, v in zip(items.tolist(), values, strict=True)],
        dtype=np.float64,
    )
    agreement = np.bincount(items, weights=same, minlength=n_items) / np.maximum(n, 1.0)
    return chosen, confidence, agreement


def _number_value(value: float) -> int | float:
    """A combined number as an answer holds it: whole numbers as int (the median of an even
    count of whole numbers may be a half)."""
    if float(value).is_integer() and abs(value) < 2**53:
        return int(value)
    return round(float(value), 6)


# --- the per-item path ---------------------------------------------------------------------


def _model_field(model: dict[str, Any] | None, spec: dict[str, Any]) -> dict[str, Any] | None:
    if not model or model.get("version") != MODEL_VERSION:
        return None
    entry = model.get("fields", {}).get(spec["name"])
    if not entry or entry.get("classes") != _choices(spec):
        return None
    return entry


def row_confusions(
    rows: list[AnswerRow], name: str, entry: dict[str, Any]
) -> tuple[np.ndarray, np.ndarray]:
    """``(n, K, K)``: each answer's worker matrix for the field from their stored estimate,
    the fit's pooled worker where there is none or it has another shape; and which rows
    have their own."""
    pooled = np.asarray(entry["pooled"], dtype=np.float64)
    k = pooled.shape[0]
    matrices, own = [], []
    for r in rows:
        found = (r.estimate or {}).get(name, {}).get("confusion")
        matrix = np.asarray(found, dtype=np.float64) if found is not None else pooled
        own.append(matrix.shape == (k, k))
        matrices.append(matrix if own[-1] else pooled)
    return np.stack(matrices), np.asarray(own, dtype=np.bool_)


def _single_posterior(
    spec: dict[str, Any],
    method: str,
    model: dict[str, Any] | None,
    rows: list[AnswerRow],
) -> tuple[np.ndarray, np.ndarray] | None:
    """(posterior over the choices, vote counts) of one item, or ``None`` without answers."""
    classes = _choices(spec)
    name = spec["name"]
    index = {c: k for k, c in enumerate(classes)}
    used = [r for r in rows if r.data.get(name) in index]
    if not used:
        return None
    labels = np.asarray([index[r.data[name]] for r in used], dtype=np.intp)
    counts = np.bincount(labels, minlength=len(classes))
    entry = _model_field(model, spec)
    k = len(classes)
    if entry is not None and method in ("ds", "ods"):
        matrices, _own = row_confusions(used, name, entry)
        posterior = item_posterior(
            np.asarray(entry["prior"], dtype=np.float64),
            matrices,
            np.arange(len(used)),
            labels,
        )
    elif entry is not None and method == "wmv":
        default = float(entry.get("pooled_weight", 1.0))
        weights = np.asarray(
            [float((r.estimate or {}).get(name, {}).get("weight", default)) for r in used]
        )
        posterior = _vote_shares(labels, k, weights)
    else:
        posterior = _vote_shares(labels, k, None)
    return posterior, counts


def item_result(
    form: Sequence[dict[str, Any]],
    method: str,
    model: dict[str, Any] | None,
    rows: list[AnswerRow],
) -> ItemResult:
    """Combine one item's counted answers with the stored estimates (see module docstring)."""
    if not rows:
        return ItemResult(answer=None, confidence=None, details=None)
    answer: Data = {}
    fields: dict[str, Any] = {}
    for spec in form:
        name = spec["name"]
        kind = spec["type"]
        if kind == "single":
            found = _single_posterior(spec, method, model, rows)
            if found is None:
                answer[name] = None
                continue
            posterior, counts = found
            label = int(np.argmax(posterior))
            answer[name] = _choices(spec)[label]
            fields[name] = {
                "confidence": float(posterior[label]),
                "agreement": float(counts[label] / counts.sum()),
                "answers": int(counts.sum()),
            }
        else:
            values = [r.data.get(name) for r in rows if _has_value(r.data.get(name))]
            result = _other_field(spec, np.zeros(len(values), dtype=np.intp), values, 1)
            answer[name] = result[0][0]
            if result[1][0]:
                fields[name] = result[1][0]
    primary = primary_field(form)
    return finish(primary["name"] if primary else None, answer, fields, len(rows))


def _other_field(
    spec: dict[str, Any], items: np.ndarray, values: list[Any], n_items: int
) -> tuple[list[Any], list[dict[str, Any]]]:
    """Multiple choice, number or text over many items: (value per item, details per item)."""
    kind = spec["type"]
    n = np.bincount(items, minlength=n_items)
    out: list[Any] = [None if kind != "multiple" else [] for _ in range(n_items)]
    details: list[dict[str, Any]] = [{} for _ in range(n_items)]
    if not len(values):
        return out, details
    if kind == "multiple":
        chosen, confidence, agreement = _multiple_field(spec, items, values, n_items)
        for i in np.flatnonzero(n).tolist():
            out[i] = chosen[i]
            details[i] = {
                "confidence": float(confidence[i]),
                "agreement": float(agreement[i]),
                "answers": int(n[i]),
            }
    elif kind == "number":
        numbers = np.asarray([float(v) for v in values])
        med = median(items, numbers, n_items=n_items)
        trimmed = trimmed_mean(items, numbers, n_items=n_items, proportion=TRIM)
        for i in np.flatnonzero(n).tolist():
            out[i] = _number_value(float(med.values[i]))
            details[i] = {
                "median": float(med.values[i]),
                "trimmed_mean": round(float(trimmed.values[i]), 6),
                "spread": round(float(med.spread[i]), 6),
                "answers": int(n[i]),
            }
    else:
        texts = [str(v) for v in values]
        voted = text_majority(items, texts, n_items=n_items)
        for i in np.flatnonzero(n).tolist():
            out[i] = voted.answers[i]
            details[i] = {
                "confidence": float(voted.confidence[i]),
                "agreement": float(voted.confidence[i]),
                "answers": int(n[i]),
            }
    return out, details


# --- the full fit ----------------------------------------------------------------------------


def _gold_scores_for(
    worker_ids: Sequence[int], gold_counts: dict[int, tuple[int, int]], n_classes: int
) -> GoldScores:
    n_gold = np.asarray([gold_counts.get(w, (0, 0))[0] for w in worker_ids], dtype=np.intp)
    n_correct = np.asarray([gold_counts.get(w, (0, 0))[1] for w in worker_ids], dtype=np.intp)
    lower, upper = wilson_interval(n_correct, n_gold)
    return GoldScores(
        n_gold=n_gold,
        n_correct=n_correct,
        accuracy=n_correct / np.maximum(n_gold, 1),
        lower=lower,
        upper=upper,
        chance=1.0 / n_classes if n_classes else 1.0,
    )


def _fit_single(
    method: str,
    it: np.ndarray,
    wk: np.ndarray,
    lb: np.ndarray,
    sizes: dict[str, int],
    gold_items: np.ndarray,
    gold_labels: np.ndarray,
) -> tuple[CategoricalResult, np.ndarray | None]:
    """The client's method on one single-choice field; also returns wmv's worker weights."""
    if method == "mv":
        return majority_vote(it, wk, lb, **sizes), None
    if method == "wmv":
        fallback = agreement_weights(it, wk, lb, **sizes)
        scores = gold_scores(it, wk, lb, gold_items=gold_items, gold_labels=gold_labels, **sizes)
        weights = weights_from_gold(scores, fallback, sizes["n_classes"])
        return weighted_majority_vote(it, wk, lb, weights=weights, **sizes), weights
    fit = one_coin_dawid_skene if method == "ods" else dawid_skene
    return fit(it, wk, lb, gold_items=gold_items, gold_labels=gold_labels, **sizes), None


def _workers_rate(
    workers: dict[int, WorkerFit],
    worker_ids: list[int],
    quality: CategoricalResult,
    gold_counts: dict[int, tuple[int, int]],
    n_classes: int,
) -> None:
    """Each worker's skill, spammer score and flag from the Dawid-Skene fit of the first
    single-choice field."""
    report = detect_spammers(quality, gold=_gold_scores_for(worker_ids, gold_counts, n_classes))
    for j, w in enumerate(worker_ids):
        if quality.worker_n_answers[j]:
            workers[w].skill = float(quality.worker_skill[j])
            workers[w].spam_score = float(report.score[j])
        workers[w].flagged = bool(report.flagged[j])


def batch_fit(
    *,
    form: Sequence[dict[str, Any]],
    method: str,
    item_ids: Sequence[int] | np.ndarray,
    answers: Iterable[tuple[int, int, Data]] | AnswerCodes,
    gold: dict[int, Data],
    gold_counts: dict[int, tuple[int, int]],
) -> BatchFit:
    """Fit every field of a batch over its counted answers: ``(item id, worker id, data)``
    rows, or :class:`~.fit_results.AnswerCodes` (items as positions in ``item_ids``).

    ``gold`` maps test items to their expected answers; ``gold_counts`` gives each worker's
    (gold answers, correct) in this batch, for spammer detection. The items' results are
    kept as columns (``BatchFit.columns``); ``BatchFit.items`` builds each one on demand.
    """
    ids = np.asarray(item_ids, dtype=np.int64).reshape(-1)
    codes = answers if isinstance(answers, AnswerCodes) else _answer_codes(ids, answers)
    n_items = len(ids)
    worker_order, all_workers = first_seen(codes.workers)
    worker_ids = worker_order.tolist()
    n_workers = len(worker_ids)
    all_items = np.asarray(codes.items, dtype=np.intp)
    counted = np.bincount(all_items, minlength=n_items)
    item_index = {item_id: i for i, item_id in enumerate(ids.tolist())} if gold else {}

    columns: list[SingleColumn | OtherColumn] = []
    model: dict[str, Any] = {"version": MODEL_VERSION, "method": method, "fields": {}}
    workers = {w: WorkerFit(estimate={}) for w in worker_ids}
    primary_single = next((s for s in form if s["type"] == "single"), None)

    for spec in form:
        name = spec["name"]
        if spec["type"] != "single":
            has = np.asarray([_has_value(d.get(name)) for d in codes.distinct], dtype=np.bool_)
            present = has[codes.codes] if len(codes) else np.zeros(0, dtype=np.bool_)
            values = [codes.distinct[c].get(name) for c in codes.codes[present].tolist()]
            per_item, details = _other_field(spec, all_items[present], values, n_items)
            columns.append(OtherColumn(name=name, values=per_item, details=details))
            continue
        classes = _choices(spec)
        index = {c: k for k, c in enumerate(classes)}
        table = label_table(codes.distinct, name, index)
        labels = table[codes.codes] if len(codes) else np.zeros(0, dtype=np.intp)
        mask = labels >= 0
        it = all_items[mask]
        wk = all_workers[mask]
        lb = labels[mask]
        sizes = {"n_items": n_items, "n_workers": n_workers, "n_classes": len(classes)}
        gold_pairs = sorted(
            (item_index[i], index[g[name]])
            for i, g in gold.items()
            if i in item_index and g.get(name) in index
        )
        gold_items = np.asarray([p[0] for p in gold_pairs], dtype=np.intp)
        gold_labels = np.asarray([p[1] for p in gold_pairs], dtype=np.intp)
        result, weights = _fit_single(method, it, wk, lb, sizes, gold_items, gold_labels)
        votes = np.bincount(it * len(classes) + lb, minlength=n_items * len(classes)).reshape(
            n_items, len(classes)
        )
        n_field = votes.sum(axis=1)
        confusion = confusion_for_updates(result)
        mass = result.worker_row_mass
        for j, w in enumerate(worker_ids):
            entry: dict[str, Any] = {"confusion": np.round(confusion[j], 6).tolist()}
            if weights is not None:
                entry["weight"] = round(float(weights[j]), 6)
            if mass is not None:
                entry["mass"] = np.round(mass[j], 6).tolist()
            workers[w].estimate[name] = entry
        answered_by = result.worker_n_answers
        model["fields"][name] = {
            "classes": classes,
            "prior": np.round(result.class_prior, 9).tolist(),
            "pooled": np.round(pooled_confusion(result), 6).tolist(),
            "pooled_weight": (
                round(float(np.average(weights, weights=answered_by)), 6)
                if weights is not None and answered_by.sum()
                else 1.0
            ),
        }
        safe = np.maximum(result.labels, 0)
        columns.append(
            SingleColumn(
                name=name,
                classes=classes,
                labels=result.labels,
                confidence=result.confidence,
                agreement=votes[np.arange(n_items), safe] / np.maximum(n_field, 1),
                answers=n_field,
                it=it,
                wk=wk,
                lb=lb,
            )
        )
        if spec is primary_single:
            quality = (
                result
                if method == "ds"
                else dawid_skene(
                    it, wk, lb, gold_items=gold_items, gold_labels=gold_labels, **sizes
                )
            )
            _workers_rate(workers, worker_ids, quality, gold_counts, len(classes))

    primary = primary_field(form)
    item_columns = ItemColumns(
        ids=ids,
        counted=counted,
        fields=columns,
        primary=primary["name"] if primary else None,
    )
    return BatchFit(
        model=model,
        items=FitItems(item_columns),
        counted=FitCounts(item_columns),
        workers=workers,
        columns=item_columns,
    )


def _answer_codes(ids: np.ndarray, rows: Iterable[tuple[int, int, Data]]) -> AnswerCodes:
    """Answer rows as codes, each its own distinct answer."""
    found = list(rows)
    position = {item_id: i for i, item_id in enumerate(ids.tolist())}
    return AnswerCodes(
        items=np.asarray([position[i] for i, _w, _d in found], dtype=np.intp),
        workers=np.asarray([w for _i, w, _d in found], dtype=np.int64),
        codes=np.arange(len(found), dtype=np.intp),
        distinct=[d for _i, _w, d in found],
    )
