"""The conditions the aggregation bench simulates on the shared datasets (issue 14).

Unseen datasets of the same kinds have many workers with few answers, several classes and
repeated answers by the same worker on the same question. These transforms make the shared
datasets look like that, with fixed seeds, so a method tuned to the shared datasets as they
are would show its weakness here:

- ``thin5``: every worker's answers are split, in random order, into pseudo-workers of at
  most five answers (many workers, few answers each);
- ``r3``: every question keeps three of its answers, chosen at random (low redundancy);
- ``rep``: a fifth of the answers are given again once or twice by the same worker, the
  same answer with probability 0.8, else a random class (repeats that may disagree);
- ``all``: ``r3``, then ``thin5``, then ``rep``.

``small_batches`` draws the small-batch sweep: batches of 3-12 questions with a truth
label, three answers each, from a randomly chosen dataset, workers renumbered per batch.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

# bench.aggregation.Dataset (a dataclass; imported the other way round).
DatasetLike = Any


def _rank_within(groups: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(stable order by group, rank of each element within its group in that order)."""
    order = np.argsort(groups, kind="stable")
    g = groups[order]
    start = np.r_[0, np.flatnonzero(g[1:] != g[:-1]) + 1]
    lengths = np.diff(np.r_[start, g.size])
    rank = np.arange(g.size) - np.repeat(start, lengths)
    return order, rank


def thin_workers(d: DatasetLike, chunk: int = 5, seed: int = 1) -> DatasetLike:
    shuffle = np.random.default_rng(seed).permutation(d.items.size)
    workers = d.workers[shuffle]
    order, rank = _rank_within(workers)
    pseudo = np.empty_like(workers)
    pseudo[order] = workers[order] * (d.items.size + 1) + rank // chunk
    unique, inverse = np.unique(pseudo, return_inverse=True)
    return replace(
        d,
        items=d.items[shuffle],
        workers=inverse.astype(np.intp),
        labels=d.labels[shuffle],
        n_workers=int(unique.size),
    )


def low_redundancy(d: DatasetLike, keep: int = 3, seed: int = 2) -> DatasetLike:
    key = np.random.default_rng(seed).random(d.items.size)
    order = np.lexsort((key, d.items))
    _o, rank = _rank_within(d.items[order])
    chosen = order[rank < keep]
    return replace(d, items=d.items[chosen], workers=d.workers[chosen], labels=d.labels[chosen])


def add_repeats(
    d: DatasetLike, share: float = 0.2, same: float = 0.8, seed: int = 3
) -> DatasetLike:
    rng = np.random.default_rng(seed)
    picked = np.flatnonzero(rng.random(d.items.size) < share)
    again = np.repeat(picked, rng.integers(1, 3, size=picked.size))
    labels = d.labels[again].copy()
    changed = rng.random(again.size) > same
    labels[changed] = rng.integers(0, d.n_classes, size=int(changed.sum()))
    return replace(
        d,
        items=np.r_[d.items, d.items[again]],
        workers=np.r_[d.workers, d.workers[again]],
        labels=np.r_[d.labels, labels],
    )


CONDITIONS: dict[str, Callable[[DatasetLike], DatasetLike]] = {
    "thin5": thin_workers,
    "r3": low_redundancy,
    "rep": add_repeats,
    "all": lambda d: add_repeats(thin_workers(low_redundancy(d))),
}


@dataclass
class SmallBatch:
    dataset: str
    items: np.ndarray
    workers: np.ndarray
    labels: np.ndarray
    n_items: int
    n_workers: int
    n_classes: int
    truth: np.ndarray

    @property
    def sizes(self) -> dict[str, int]:
        return {"n_items": self.n_items, "n_workers": self.n_workers, "n_classes": self.n_classes}

    def unanimous(self) -> np.ndarray:
        """Per item: the label every answer gave (at least two answers), else -1."""
        out = np.full(self.n_items, -1, dtype=np.intp)
        for i in range(self.n_items):
            given = self.labels[self.items == i]
            if given.size >= 2 and np.all(given == given[0]):
                out[i] = given[0]
        return out


def small_batches(
    datasets: list[DatasetLike], n_batches: int = 300, seed: int = 7, answers: int = 3
) -> Iterator[SmallBatch]:
    rng = np.random.default_rng(seed)
    truth_of = [
        dict(zip(d.truth_items.tolist(), d.truth_labels.tolist(), strict=True)) for d in datasets
    ]
    for _ in range(n_batches):
        k = int(rng.integers(len(datasets)))
        d = datasets[k]
        n_items = int(rng.integers(3, 13))
        questions = rng.choice(d.truth_items, size=n_items, replace=False)
        items, workers, labels = [], [], []
        for j, q in enumerate(questions.tolist()):
            rows = np.flatnonzero(d.items == q)
            pick = rng.choice(rows, size=min(answers, rows.size), replace=False)
            items.extend([j] * pick.size)
            workers.extend(d.workers[pick].tolist())
            labels.extend(d.labels[pick].tolist())
        unique, renumbered = np.unique(np.asarray(workers), return_inverse=True)
        yield SmallBatch(
            dataset=d.name,
            items=np.asarray(items, dtype=np.intp),
            workers=renumbered.astype(np.intp),
            labels=np.asarray(labels, dtype=np.intp),
            n_items=n_items,
            n_workers=int(unique.size),
            n_classes=d.n_classes,
            truth=np.asarray([truth_of[k][q] for q in questions.tolist()], dtype=np.intp),
        )
