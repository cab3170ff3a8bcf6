"""Synthetic answer sets drawn from a known Dawid-Skene model, for tests and the benchmark.

Planting the truth and the confusion matrices lets a test check that the estimate recovers
them, which real datasets (with their unknown, correlated errors) cannot.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from ._arrays import FloatArray, IntArray

# Worker mix for mixed_skill_confusions: (share, low, high) of "informedness", the fraction of
# the way from chance (1/K) to perfect accuracy. The last group answers uniformly at random.
_MIX = ((0.50, 0.50, 0.90), (0.25, 0.25, 0.50), (0.15, 0.05, 0.25), (0.10, 0.0, 0.0))


@dataclass(frozen=True, eq=False)
class PlantedDataset:
    """Answers plus the truth and model parameters they were drawn from."""

    items: IntArray
    workers: IntArray
    labels: IntArray
    truth: IntArray
    confusion: FloatArray
    prior: FloatArray

    @property
    def n_items(self) -> int:
        return int(self.truth.shape[0])

    @property
    def n_workers(self) -> int:
        return int(self.confusion.shape[0])

    @property
    def n_classes(self) -> int:
        return int(self.prior.shape[0])


def one_coin_confusions(
    rng: np.random.Generator, accuracy: ArrayLike, n_classes: int
) -> FloatArray:
    """Confusions with the given per-worker accuracy; the error mass is split at random."""
    acc = np.asarray(accuracy, dtype=np.float64)
    n_workers = acc.shape[0]
    errors = rng.dirichlet(np.ones(max(n_classes - 1, 1)), size=(n_workers, n_classes))
    confusion = np.empty((n_workers, n_classes, n_classes))
    for k in range(n_classes):
        others = np.arange(n_classes) != k
        confusion[:, k, k] = acc
        confusion[:, k, others] = (1.0 - acc)[:, None] * errors[:, k, : n_classes - 1]
    return confusion


def mixed_skill_confusions(rng: np.random.Generator, n_workers: int, n_classes: int) -> FloatArray:
    """Half good workers, a quarter mediocre, some poor, one in ten answering at random."""
    shares = np.array([m[0] for m in _MIX])
    group = rng.choice(len(_MIX), size=n_workers, p=shares / shares.sum())
    low = np.array([m[1] for m in _MIX])[group]
    high = np.array([m[2] for m in _MIX])[group]
    informedness = rng.uniform(low, high)
    chance = 1.0 / n_classes
    confusion = one_coin_confusions(rng, chance + (1.0 - chance) * informedness, n_classes)
    confusion[group == len(_MIX) - 1] = chance
    return confusion


def _distinct_workers(
    rng: np.random.Generator, n_items: int, n_workers: int, per_item: int
) -> IntArray:
    if per_item > n_workers:
        raise ValueError("answers_per_item cannot exceed n_workers")
    if n_items * n_workers <= 4_000_000:
        keys = rng.random((n_items, n_workers))
        return np.argpartition(keys, per_item - 1, axis=1)[:, :per_item].astype(np.intp)
    # Large and sparse: draw with replacement and redraw the rows that repeat a worker.
    chosen = rng.integers(0, n_workers, size=(n_items, per_item))
    while True:
        ordered = np.sort(chosen, axis=1)
        repeat = (ordered[:, 1:] == ordered[:, :-1]).any(axis=1)
        if not repeat.any():
            return chosen.astype(np.intp)
        chosen[repeat] = rng.integers(0, n_workers, size=(int(repeat.sum()), per_item))


def sample_answers(
    rng: np.random.Generator,
    confusion: FloatArray,
    prior: ArrayLike,
    *,
    n_items: int,
    answers_per_item: int,
) -> PlantedDataset:
    """Draw truths from ``prior`` and ``answers_per_item`` answers per item from distinct workers.

    Answers are ordered item by item, the order a database query by item would return.
    """
    pri = np.asarray(prior, dtype=np.float64)
    n_workers, n_classes, _ = confusion.shape
    truth = rng.choice(n_classes, size=n_items, p=pri).astype(np.intp)
    workers = _distinct_workers(rng, n_items, n_workers, answers_per_item).reshape(-1)
    items = np.repeat(np.arange(n_items, dtype=np.intp), answers_per_item)
    cumulative = np.cumsum(confusion, axis=2)[workers, truth[items]]
    draws = rng.random(items.shape[0])
    labels = np.minimum((draws[:, None] > cumulative).sum(axis=1), n_classes - 1)
    return PlantedDataset(
        items=items,
        workers=workers,
        labels=labels.astype(np.intp),
        truth=truth,
        confusion=confusion,
        prior=pri,
    )


def mixed_skill_dataset(
    seed: int,
    *,
    n_items: int,
    n_workers: int,
    n_classes: int,
    answers_per_item: int,
) -> PlantedDataset:
    """A reproducible dataset with :func:`mixed_skill_confusions` workers and a skewed prior."""
    rng = np.random.default_rng(seed)
    prior = rng.dirichlet(np.full(n_classes, 5.0))
    confusion = mixed_skill_confusions(rng, n_workers, n_classes)
    return sample_answers(rng, confusion, prior, n_items=n_items, answers_per_item=answers_per_item)
