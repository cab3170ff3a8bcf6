"""Spammer detection: workers whose answers carry (almost) no information about the truth.

Two independent signals, either of which flags a worker:

1. **Confusion matrix close to rank one.** If every row of a worker's confusion matrix is the
   same, the answer does not depend on the true class — random clicking and "always answer
   yes" both look like that. Raykar & Yu (2011, "Ranking annotators for crowdsourced labeling
   tasks") measure it with the spammer score

       S = 1 / (K (K - 1)) * sum over class pairs c < c' of || A[c] - A[c'] ||^2

   which is 0 for a rank-one matrix and 1 for a perfect worker (for K = 2 it is
   ``(sensitivity + specificity - 1) ** 2``). A consistently *wrong* worker also scores high:
   their answers are informative, and Dawid-Skene reads them correctly. A worker is flagged when
   ``S < threshold`` after at least ``min_answers`` answers; below that the estimate is mostly
   smoothing and noise. The default threshold 0.05 corresponds, for a two-class worker who is
   equally good on both classes, to an accuracy below about 61 %.
2. **Gold accuracy at chance.** After at least ``min_gold_answers`` gold answers, a worker is
   flagged when even the optimistic end of the 95 % Wilson interval of their gold accuracy is
   below the point halfway between chance (``1 / K``) and perfect. Using the upper bound
   errs on the side of the worker: a few unlucky gold answers do not get anyone excluded.

Degenerate cases: workers below the answer minimums are never flagged; with fewer than two
classes no answer can be wrong, so every score is 1.0 and nobody is flagged.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from ._arrays import BoolArray, FloatArray
from .gold import GoldScores
from .results import CategoricalResult

DEFAULT_SPAMMER_THRESHOLD = 0.05
DEFAULT_MIN_ANSWERS = 20
DEFAULT_MIN_GOLD_ANSWERS = 10


@dataclass(frozen=True, eq=False)
class SpammerReport:
    """Per worker: Raykar-Yu score and flags (``flagged = by_confusion | by_gold``)."""

    score: FloatArray
    flagged: BoolArray
    by_confusion: BoolArray
    by_gold: BoolArray


def spammer_scores(confusion: ArrayLike) -> FloatArray:
    """Raykar-Yu spammer score per worker from ``(n_workers, K, K)`` confusion matrices.

    Uses ``sum_{c,c'} |A_c - A_c'|^2 = 2K sum_c |A_c|^2 - 2 |sum_c A_c|^2`` so the cost is
    linear in K^2 per worker rather than K^3.
    """
    conf = np.asarray(confusion, dtype=np.float64)
    if conf.ndim != 3 or conf.shape[1] != conf.shape[2]:
        raise ValueError(f"confusion must have shape (n_workers, K, K), got {conf.shape}")
    n_classes = conf.shape[1]
    if n_classes < 2:
        return np.ones(conf.shape[0])
    row_norms = np.einsum("wkl,wkl->w", conf, conf)
    column_sums = conf.sum(axis=1)
    spread = n_classes * row_norms - np.einsum("wl,wl->w", column_sums, column_sums)
    return np.asarray(np.clip(spread / (n_classes * (n_classes - 1)), 0.0, 1.0))


def detect_spammers(
    result: CategoricalResult,
    *,
    gold: GoldScores | None = None,
    threshold: float = DEFAULT_SPAMMER_THRESHOLD,
    min_answers: int = DEFAULT_MIN_ANSWERS,
    min_gold_answers: int = DEFAULT_MIN_GOLD_ANSWERS,
) -> SpammerReport:
    """Flag spammers from a fitted result (Dawid-Skene preferred) and optional gold scores."""
    score = spammer_scores(result.worker_confusion)
    enough = result.worker_n_answers >= min_answers
    by_confusion = enough & (score < threshold) & (result.n_classes >= 2)
    by_gold = np.zeros(result.n_workers, dtype=np.bool_)
    if gold is not None and result.n_classes >= 2:
        if gold.n_gold.shape != (result.n_workers,):
            raise ValueError("gold scores and result cover different numbers of workers")
        useful = gold.chance + (1.0 - gold.chance) / 2.0
        by_gold = (gold.n_gold >= min_gold_answers) & (gold.upper < useful)
    return SpammerReport(
        score=score,
        flagged=by_confusion | by_gold,
        by_confusion=by_confusion,
        by_gold=by_gold,
    )
