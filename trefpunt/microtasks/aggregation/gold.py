"""Scoring workers on gold items (items whose answer the client knows).

A worker's gold accuracy comes with a Wilson score interval because the counts are small: 4
out of 5 is not "80 %", it is "somewhere between 38 % and 96 %", and decisions such as
excluding a worker must look at the interval, not the point.

Degenerate cases: a worker with no gold answers gets ``n_gold == 0``, ``accuracy == 0.0`` and
the uninformative interval ``[0, 1]``; no gold items at all gives that for everyone.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from ._arrays import FloatArray, IntArray, check_answers, check_gold
from .majority import accuracy_to_weight

# Two-sided 95 % normal quantile.
DEFAULT_Z = 1.959963984540054


@dataclass(frozen=True, eq=False)
class GoldScores:
    """Per worker: gold answers, correct ones, accuracy and its Wilson interval.

    ``chance`` is ``1 / n_classes``, the accuracy of answering at random (uniformly).
    """

    n_gold: IntArray
    n_correct: IntArray
    accuracy: FloatArray
    lower: FloatArray
    upper: FloatArray
    chance: float


def wilson_interval(
    successes: ArrayLike, trials: ArrayLike, z: float = DEFAULT_Z
) -> tuple[FloatArray, FloatArray]:
    """Wilson score interval for a binomial proportion; ``[0, 1]`` where ``trials == 0``.

    Preferred over the normal approximation because it stays inside [0, 1] and behaves at
    0 % and 100 % with few trials, which is exactly the gold situation.
    """
    s = np.asarray(successes, dtype=np.float64)
    n = np.asarray(trials, dtype=np.float64)
    if np.any(n < 0) or np.any(s < 0) or np.any(s > n):
        raise ValueError("need 0 <= successes <= trials")
    safe_n = np.maximum(n, 1.0)
    p = s / safe_n
    z2 = z * z
    denom = 1.0 + z2 / safe_n
    centre = (p + z2 / (2.0 * safe_n)) / denom
    half = z * np.sqrt(p * (1.0 - p) / safe_n + z2 / (4.0 * safe_n * safe_n)) / denom
    # At 0 % and 100 % the bound is exactly 0 or 1; computing it would leave rounding dust.
    lower = np.where((n > 0) & (s > 0), np.clip(centre - half, 0.0, 1.0), 0.0)
    upper = np.where((n > 0) & (s < n), np.clip(centre + half, 0.0, 1.0), 1.0)
    return lower, upper


def gold_scores(
    items: ArrayLike,
    workers: ArrayLike,
    labels: ArrayLike,
    *,
    gold_items: ArrayLike,
    gold_labels: ArrayLike,
    n_items: int,
    n_workers: int,
    n_classes: int,
    z: float = DEFAULT_Z,
) -> GoldScores:
    """Score every worker on the answers they gave to gold items."""
    it, wk, lb = check_answers(items, workers, labels, n_items, n_workers, n_classes)
    g_items, g_labels = check_gold(gold_items, gold_labels, n_items, n_classes)
    expected = np.full(n_items, -1, dtype=np.intp)
    expected[g_items] = g_labels
    on_gold = expected[it] >= 0
    correct = on_gold & (expected[it] == lb)
    n_gold = np.bincount(wk[on_gold], minlength=n_workers).astype(np.intp)
    n_correct = np.bincount(wk[correct], minlength=n_workers).astype(np.intp)
    accuracy = n_correct / np.maximum(n_gold, 1)
    lower, upper = wilson_interval(n_correct, n_gold, z)
    return GoldScores(
        n_gold=n_gold,
        n_correct=n_correct,
        accuracy=accuracy,
        lower=lower,
        upper=upper,
        chance=1.0 / n_classes if n_classes else 1.0,
    )


def weights_from_gold(gold: GoldScores, fallback: ArrayLike, n_classes: int) -> FloatArray:
    """Vote weights for weighted majority vote: from gold where a worker has gold answers.

    Gold accuracy is taken as the posterior mean under a Jeffreys prior,
    ``(correct + 0.5) / (gold + 1)``, so a worker with one lucky gold answer does not get the
    maximum weight; workers without gold answers keep their ``fallback`` weight (e.g. from
    :func:`~.majority.agreement_weights`).
    """
    fb = np.asarray(fallback, dtype=np.float64)
    if fb.shape != gold.n_gold.shape:
        raise ValueError("fallback must have one weight per worker")
    accuracy = (gold.n_correct + 0.5) / (gold.n_gold + 1.0)
    return np.where(gold.n_gold > 0, accuracy_to_weight(accuracy, n_classes), fb)
