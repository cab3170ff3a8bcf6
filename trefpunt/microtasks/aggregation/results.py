"""Result objects returned by the aggregation methods.

They are plain frozen dataclasses of numpy arrays so the platform can store them (one row per
item, one row per worker) without knowing which method produced them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._arrays import BoolArray, FloatArray, IntArray


@dataclass(frozen=True, eq=False)
class CategoricalResult:
    """Aggregated labels of a categorical (single-choice) question.

    Per item (arrays of length ``n_items``):

    - ``labels``: the chosen label index, or ``-1`` for an item nobody answered.
    - ``confidence``: the probability of that label (``posterior[i, labels[i]]``), ``0.0`` for
      an unanswered item. For majority votes this is the (weighted) vote share.
    - ``posterior``: ``(n_items, n_classes)`` probabilities; rows of unanswered items are all
      zero, so ``posterior.sum(axis=1)`` is 1 exactly for answered items.
    - ``tied``: the top score was shared by two or more labels and the lowest label index was
      taken. Always reported so that nobody mistakes a coin flip for agreement.
    - ``n_answers``: answers received by the item.

    Per worker (length ``n_workers``):

    - ``worker_confusion``: ``(n_workers, n_classes, n_classes)``, row = true class, column =
      the worker's answer, each row sums to 1. A worker without answers gets the uninformative
      uniform matrix.
    - ``worker_skill``: the probability that the worker answers correctly, under the estimated
      class prior (``sum_k prior[k] * confusion[w, k, k]``); ``1 / n_classes`` = chance.
    - ``worker_n_answers``: answers given by the worker.

    ``class_prior`` is the estimated share of each true class. ``n_iterations`` and
    ``converged`` describe the EM run (``0`` and ``True`` for one-pass methods) and
    ``log_likelihood`` is the final observed-data log-likelihood (``0.0`` when not defined).
    """

    method: str
    labels: IntArray
    confidence: FloatArray
    posterior: FloatArray
    tied: BoolArray
    n_answers: IntArray
    worker_confusion: FloatArray
    worker_skill: FloatArray
    worker_n_answers: IntArray
    class_prior: FloatArray
    n_iterations: int = 0
    converged: bool = True
    log_likelihood: float = 0.0
    # The hierarchical Dawid-Skene's pseudo-answers behind each row of ``worker_confusion``
    # (``(n_workers, n_classes)``): what one answer weighs in its worker's row, for the
    # stopping rule's leave-one-answer-out evidence (``adaptive.fitted_answer_ll``).
    worker_row_mass: FloatArray | None = None

    @property
    def n_items(self) -> int:
        return int(self.labels.shape[0])

    @property
    def n_workers(self) -> int:
        return int(self.worker_skill.shape[0])

    @property
    def n_classes(self) -> int:
        return int(self.class_prior.shape[0])

    @property
    def answered(self) -> BoolArray:
        """Items with at least one answer (or a gold label)."""
        return np.asarray(self.labels >= 0)


@dataclass(frozen=True, eq=False)
class NumericResult:
    """Aggregated values of a numeric question.

    ``values[i]`` is the aggregate (median or trimmed mean) of item ``i``; an item nobody
    answered gets ``0.0`` and ``n_answers == 0`` — check ``n_answers``, never the value, to
    tell "no answer" from "answered zero". ``spread`` is a robust measure of disagreement
    (median absolute deviation for the median, the standard deviation of the kept values for
    the trimmed mean), ``0.0`` for fewer than two answers.
    """

    method: str
    values: FloatArray
    spread: FloatArray
    n_answers: IntArray


@dataclass(frozen=True, eq=False)
class TextResult:
    """Aggregated answers of a short-text question.

    ``answers[i]`` is the most common original spelling within the winning group of
    normalised answers (``None`` for an unanswered item); ``normalized[i]`` is the group's
    normalised form (``None`` likewise). ``confidence``, ``tied`` and ``n_answers`` are as in
    :class:`CategoricalResult`.
    """

    answers: list[str | None]
    normalized: list[str | None]
    confidence: FloatArray
    tied: BoolArray
    n_answers: IntArray
