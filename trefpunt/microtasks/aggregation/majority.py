"""Majority vote and weighted majority vote over integer-coded answers.

Contract for degenerate input (shared by every method in this package):

- no answers at all, or an item nobody answered: label ``-1``, confidence ``0.0``, a zero
  posterior row, ``tied`` False;
- one class: every answered item gets label ``0`` with confidence ``1.0``;
- a tie: the lowest label index wins and ``tied`` is True for that item;
- weights that are all zero on an item: every class ties, the posterior is uniform, label 0;
- workers without answers: uniform confusion matrix, skill ``1 / n_classes``.

Nothing returns NaN: every division has a non-zero denominator by construction.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from ._arrays import FloatArray, IntArray, check_answers, check_size, repeat_weights
from ._model import (
    DEFAULT_SMOOTHING,
    class_prior,
    decide,
    smoothed_rows,
    soft_confusion_counts,
    worker_skill,
)
from .results import CategoricalResult

# Accuracy is capped below 1 before turning it into a log-odds weight, so one worker who
# happened to agree every time cannot outvote any number of others.
_MAX_ACCURACY = 0.999


def accuracy_to_weight(accuracy: ArrayLike, n_classes: int) -> FloatArray:
    """Log-odds vote weights ``log((K - 1) * a / (1 - a))`` from per-worker accuracies.

    These are the optimal weights when each worker is right with probability ``a`` and
    otherwise picks a wrong class uniformly (the "one-coin" model). Accuracy at or below
    chance (``1 / K``) gets weight 0 rather than a negative weight: a vote against a class is
    not evidence we want a weak worker to cast. With one class every weight is 1.
    """
    acc = np.asarray(accuracy, dtype=np.float64)
    if n_classes <= 1:
        return np.ones_like(acc)
    acc = np.clip(np.nan_to_num(acc, nan=1.0 / n_classes), 1.0 / n_classes, _MAX_ACCURACY)
    # At exactly chance the log is 0 up to rounding; clamp so no weight is ever negative.
    return np.asarray(np.maximum(np.log((n_classes - 1) * acc / (1.0 - acc)), 0.0))


def vote_scores(
    items: IntArray, labels: IntArray, weights: FloatArray | None, n_items: int, n_classes: int
) -> FloatArray:
    """``(n_items, K)``: each item's votes per label (``weights`` per answer, or one each)."""
    flat = np.bincount(items * n_classes + labels, weights=weights, minlength=n_items * n_classes)
    return flat.astype(np.float64).reshape(n_items, n_classes)


def _vote(
    method: str,
    items: IntArray,
    workers: IntArray,
    labels: IntArray,
    answer_weights: FloatArray | None,
    n_items: int,
    n_workers: int,
    n_classes: int,
) -> CategoricalResult:
    n_answers = np.bincount(items, minlength=n_items).astype(np.intp)
    worker_n_answers = np.bincount(workers, minlength=n_workers).astype(np.intp)
    scores = vote_scores(items, labels, answer_weights, n_items, n_classes)
    answered = n_answers > 0
    total = scores.sum(axis=1)
    posterior = np.zeros((n_items, n_classes))
    positive = total > 0
    posterior[positive] = scores[positive] / total[positive, None]
    # Answered, but every vote weighed zero: no evidence for any class.
    if n_classes:
        posterior[answered & ~positive] = 1.0 / n_classes
    labels_out, confidence, tied = decide(posterior, answered)
    counts = soft_confusion_counts(items, workers, labels, posterior, n_workers)
    confusion = smoothed_rows(counts, DEFAULT_SMOOTHING)
    prior = class_prior(posterior, DEFAULT_SMOOTHING)
    return CategoricalResult(
        method=method,
        labels=labels_out,
        confidence=confidence,
        posterior=posterior,
        tied=tied,
        n_answers=n_answers,
        worker_confusion=confusion,
        worker_skill=worker_skill(confusion, prior),
        worker_n_answers=worker_n_answers,
        class_prior=prior,
    )


def majority_vote(
    items: ArrayLike,
    workers: ArrayLike,
    labels: ArrayLike,
    *,
    n_items: int,
    n_workers: int,
    n_classes: int,
) -> CategoricalResult:
    """Plain majority vote; confidence is the winning label's vote share.

    The per-worker confusion matrices describe agreement with the (soft) majority, the
    worker's own vote included; they are a summary, not an estimate of true skill.
    """
    it, wk, lb = check_answers(items, workers, labels, n_items, n_workers, n_classes)
    return _vote("mv", it, wk, lb, repeat_weights(it, wk, n_workers), n_items, n_workers, n_classes)


def agreement_weights(
    items: ArrayLike,
    workers: ArrayLike,
    labels: ArrayLike,
    *,
    n_items: int,
    n_workers: int,
    n_classes: int,
) -> FloatArray:
    """Worker weights from leave-one-out agreement with the other answers on the same items.

    Each answer scores the share of the *other* answers on its item that agree with it (the
    worker's own vote is left out, or everyone would agree with themselves). A worker's mean
    score, shrunk by one pseudo-answer towards the crowd's mean agreement, is read as an
    accuracy and turned into a log-odds weight by :func:`accuracy_to_weight`. Answers on items
    with a single answer carry no agreement information and are skipped.
    """
    it, wk, lb = check_answers(items, workers, labels, n_items, n_workers, n_classes)
    if it.size == 0:
        return np.ones(n_workers)
    # One vote per worker and item (repeats share it); a worker's own votes on the item are
    # left out of "the others".
    rep = repeat_weights(it, wk, n_workers)
    cell = it * n_classes + lb
    counts = vote_scores(it, lb, rep, n_items, n_classes).ravel()
    per_item = np.bincount(it, weights=rep, minlength=n_items)
    own_same = np.ones(it.size) if rep is None else _own_same_label(it, wk, lb, rep, n_workers)
    others = per_item[it] - 1.0
    informative = others > 1e-9
    agree = np.where(informative, (counts[cell] - own_same) / np.maximum(others, 1e-9), 0.0)
    answer_weight = np.ones(it.size) if rep is None else rep
    scored = np.bincount(wk, weights=informative * answer_weight, minlength=n_workers)
    total = np.bincount(wk, weights=agree * answer_weight, minlength=n_workers)
    crowd = total.sum() / scored.sum() if scored.sum() > 0 else 1.0
    accuracy = (total + crowd) / (scored + 1.0)
    return accuracy_to_weight(accuracy, n_classes)


def _own_same_label(
    items: IntArray, workers: IntArray, labels: IntArray, rep: FloatArray, n_workers: int
) -> FloatArray:
    """Per answer: the weight of its worker's votes for the same label on the same item."""
    pair = items.astype(np.int64) * max(n_workers, 1) + workers
    _u, inverse = np.unique(pair * max(int(labels.max()) + 1, 1) + labels, return_inverse=True)
    same = np.bincount(inverse.reshape(-1), weights=rep)
    return np.asarray(same[inverse.reshape(-1)])


def weighted_majority_vote(
    items: ArrayLike,
    workers: ArrayLike,
    labels: ArrayLike,
    *,
    n_items: int,
    n_workers: int,
    n_classes: int,
    weights: ArrayLike | None = None,
) -> CategoricalResult:
    """Majority vote where worker ``w``'s vote counts ``weights[w]``.

    ``weights`` (length ``n_workers``, finite, non-negative) would typically come from gold
    accuracy through :func:`accuracy_to_weight`; when omitted they are estimated with
    :func:`agreement_weights`. Confidence is the winning label's share of the weight.
    """
    it, wk, lb = check_answers(items, workers, labels, n_items, n_workers, n_classes)
    n_workers = check_size(n_workers, "n_workers")
    if weights is None:
        w = agreement_weights(it, wk, lb, n_items=n_items, n_workers=n_workers, n_classes=n_classes)
    else:
        w = np.asarray(weights, dtype=np.float64)
        if w.shape != (n_workers,):
            raise ValueError(f"weights must have shape ({n_workers},), got {w.shape}")
        if not np.all(np.isfinite(w)) or np.any(w < 0):
            raise ValueError("weights must be finite and non-negative")
    rep = repeat_weights(it, wk, n_workers)
    answer_weights = w[wk] if rep is None else w[wk] * rep
    return _vote("wmv", it, wk, lb, answer_weights, n_items, n_workers, n_classes)
