"""Building blocks shared by the vote and EM methods: soft confusion counts and summaries.

Kept apart from the methods so majority vote can describe workers with the same confusion
matrices Dawid-Skene estimates, without importing the EM code.
"""

from __future__ import annotations

import numpy as np

from ._arrays import BoolArray, FloatArray, IntArray, argmax_with_ties, sorted_distinct

# Pseudo-count added to every cell of a confusion matrix and to every class of the prior.
# 0.5 is the Krichevsky-Trofimov / Jeffreys choice: the posterior mean of a multinomial under
# the non-informative Jeffreys prior Dirichlet(1/2, ..., 1/2). It keeps every probability
# strictly positive (no log(0), no NaN) and shrinks workers with few answers towards
# "uninformative" instead of "perfect". It was chosen on theory and synthetic data, not on the
# shared datasets; bench/README.md shows how the results depend on it.
DEFAULT_SMOOTHING = 0.5


# Answers per block of the blocked passes below: a block's per-answer temporaries (K rows of
# this many float64) stay in the processor's cache instead of streaming K x n_answers arrays
# through memory twice per EM step.
BLOCK_ANSWERS = 1 << 16


class AnswerIndex:
    """Answers prepared for repeated per-item gathers and sums (one EM run does dozens).

    The general path gathers with ``np.take`` and sums with one weighted ``bincount`` per
    class. When the answers come grouped by item — as a query ordered by item returns them,
    checked here in one pass — gathering an item's value onto its answers is ``np.repeat`` and
    summing per item is ``np.add.reduceat``: both stream through memory in order and measured
    two to three times faster than the general path on 1,000,000 answers. The grouped path
    also works in blocks of whole items (about ``BLOCK_ANSWERS`` answers each), so the
    ``(K, n_answers)`` temporaries of an EM step never exist at full size
    (:meth:`sum_table`, :meth:`pair_counts`).
    """

    def __init__(self, items: IntArray, n_items: int, block: int = 0) -> None:
        self.items = items
        self.block = block or BLOCK_ANSWERS
        self.n_items = n_items
        self.starts: IntArray | None = None
        self.segment_items: IntArray | None = None
        self.counts: IntArray | None = None
        self.dense = False
        self.blocks: list[tuple[int, int, int, int]] = []
        if items.size == 0:
            return
        change = np.empty(items.size, dtype=np.bool_)
        change[0] = True
        np.not_equal(items[1:], items[:-1], out=change[1:])
        starts = np.flatnonzero(change)
        segment_items = items[starts]
        increasing = bool(np.all(segment_items[1:] > segment_items[:-1]))
        if not increasing and sorted_distinct(segment_items).size != starts.size:
            return  # some item's answers are not contiguous: general path
        self.starts = starts
        self.segment_items = segment_items
        self.counts = np.diff(np.append(starts, items.size))
        self.dense = segment_items.size == n_items and bool(
            np.array_equal(segment_items, np.arange(n_items))
        )
        self.blocks = _blocks(starts, items.size, self.block)

    def gather(self, per_item: FloatArray) -> FloatArray:
        """``(K, n_items)`` → ``(K, n_answers)``: each answer gets its item's column."""
        if self.counts is None or self.segment_items is None:
            return np.take(per_item, self.items, axis=1)
        source = per_item if self.dense else per_item[:, self.segment_items]
        return np.repeat(source, self.counts, axis=1)

    def sum(self, per_answer: FloatArray) -> FloatArray:
        """``(K, n_answers)`` → ``(K, n_items)``: per-item sums; 0 for unanswered items."""
        n_classes = per_answer.shape[0]
        if self.starts is None or self.segment_items is None:
            out = np.empty((n_classes, self.n_items))
            for k in range(n_classes):  # loop over classes only: K is small and fixed
                out[k] = np.bincount(self.items, weights=per_answer[k], minlength=self.n_items)
            return out
        sums = np.add.reduceat(per_answer, self.starts, axis=1)
        if self.dense:
            return sums
        out = np.zeros((n_classes, self.n_items))
        out[:, self.segment_items] = sums
        return out

    def sum_table(
        self, table: FloatArray, codes: IntArray, weight: FloatArray | None
    ) -> FloatArray:
        """``(K, n_items)`` sums over each item's answers of ``table[:, codes]`` (times
        ``weight``): ``sum(take(table, codes) * weight)`` without the full-size temporary.
        Each item's answers are added in the same order either way, so the result is the
        same to the last bit."""
        if self.starts is None or self.segment_items is None:
            per_answer = np.take(table, codes, axis=1)
            if weight is not None:
                per_answer *= weight
            return self.sum(per_answer)
        out = np.empty((table.shape[0], self.starts.size))
        for s0, s1, a0, a1 in self.blocks:
            part = np.take(table, codes[a0:a1], axis=1)
            if weight is not None:
                part *= weight[a0:a1]
            out[:, s0:s1] = np.add.reduceat(part, self.starts[s0:s1] - a0, axis=1)
        if self.dense:
            return out
        full = np.zeros((table.shape[0], self.n_items))
        full[:, self.segment_items] = out
        return full

    def pair_counts(
        self, per_item: FloatArray, codes: IntArray, weight: FloatArray | None, size: int
    ) -> FloatArray:
        """``(K, size)``: for each code, the sum of ``per_item[:, item]`` (times ``weight``)
        over the answers with that code — one weighted ``bincount`` per class, per block."""
        n_classes = per_item.shape[0]
        # Each block's bincounts allocate ``size`` cells per class: with more codes than a
        # block has answers / 4, blocking would cost more than it saves.
        if self.counts is None or self.segment_items is None or 4 * size > self.block:
            gathered = self.gather(per_item)
            if weight is not None:
                gathered *= weight
            return _class_bincounts(codes, gathered, size)
        source = per_item if self.dense else per_item[:, self.segment_items]
        out = np.zeros((n_classes, size))
        for s0, s1, a0, a1 in self.blocks:
            part = np.repeat(source[:, s0:s1], self.counts[s0:s1], axis=1)
            if weight is not None:
                part *= weight[a0:a1]
            out += _class_bincounts(codes[a0:a1], part, size)
        return out


def _blocks(starts: IntArray, n_answers: int, block: int) -> list[tuple[int, int, int, int]]:
    """``(first segment, end segment, first answer, end answer)`` of blocks of whole
    segments with about ``block`` answers each (a longer segment is a block of its own)."""
    cuts = np.searchsorted(starts, np.arange(block, n_answers, block), side="right") - 1
    bounds = sorted_distinct(np.concatenate(([0], cuts[cuts > 0], [starts.size])))
    answer_bounds = np.append(starts, n_answers)[bounds]
    return [
        (int(bounds[j]), int(bounds[j + 1]), int(answer_bounds[j]), int(answer_bounds[j + 1]))
        for j in range(bounds.size - 1)
    ]


def _class_bincounts(codes: IntArray, per_answer: FloatArray, size: int) -> FloatArray:
    """``(K, size)``: one weighted ``bincount`` of ``codes`` per row of ``per_answer``."""
    n_classes = per_answer.shape[0]
    out = np.empty((n_classes, size))
    for k in range(n_classes):  # loop over classes only: K is small and fixed
        out[k] = np.bincount(codes, weights=per_answer[k], minlength=size)
    return out


def soft_confusion_counts(
    items: IntArray,
    workers: IntArray,
    labels: IntArray,
    posterior: FloatArray,
    n_workers: int,
) -> FloatArray:
    """Expected counts ``C[w, k, l]``: mass of answers ``l`` by worker ``w`` on true class ``k``.

    ``posterior`` is ``(n_items, K)``; see :func:`soft_confusion_counts_t` for the fast path.
    """
    n_classes = posterior.shape[1]
    pair = workers * n_classes + labels
    per_answer = np.take(np.ascontiguousarray(posterior.T), items, axis=1)
    return soft_confusion_counts_t(pair, per_answer, n_workers)


def soft_confusion_counts_t(pair: IntArray, per_answer: FloatArray, n_workers: int) -> FloatArray:
    """:func:`soft_confusion_counts` from the item posteriors gathered onto the answers.

    ``pair`` is ``worker * K + label`` per answer and ``per_answer`` is ``(K, n_answers)``
    with contiguous rows; one weighted ``bincount`` per true class over ``pair`` — no loop
    over answers or workers.
    """
    n_classes = per_answer.shape[0]
    if pair.size == 0 or n_classes == 0:
        return np.zeros((n_workers, n_classes, n_classes))
    counts = _class_bincounts(pair, per_answer, n_workers * n_classes)
    return counts.reshape(n_classes, n_workers, n_classes).transpose(1, 0, 2)


def smoothed_rows(counts: FloatArray, smoothing: float) -> FloatArray:
    """Normalise the last axis after adding ``smoothing`` to every cell (never 0/0)."""
    n_classes = counts.shape[-1]
    if n_classes == 0:
        return counts.copy()
    padded = counts + smoothing
    return np.asarray(padded / padded.sum(axis=-1, keepdims=True))


def class_prior(posterior: FloatArray, smoothing: float) -> FloatArray:
    """Share of each true class over the items, smoothed; uniform when nothing is known.

    Rows of unanswered items are zero, so they drop out of the sum by construction.
    """
    return class_prior_t(np.ascontiguousarray(posterior.T), smoothing)


def class_prior_t(posterior_t: FloatArray, smoothing: float) -> FloatArray:
    """:func:`class_prior` on a class-major ``(K, n_items)`` posterior."""
    if posterior_t.shape[0] == 0:
        return np.zeros(0)
    totals = posterior_t.sum(axis=1) + smoothing
    return np.asarray(totals / totals.sum())


def worker_skill(confusion: FloatArray, prior: FloatArray) -> FloatArray:
    """Probability of a correct answer under the class prior: ``sum_k prior[k] * C[w, k, k]``."""
    if confusion.shape[1] == 0:
        return np.zeros(confusion.shape[0])
    diagonal = np.diagonal(confusion, axis1=1, axis2=2)
    return np.asarray(diagonal @ prior)


def decide(posterior: FloatArray, answered: BoolArray) -> tuple[IntArray, FloatArray, BoolArray]:
    """Labels, confidences and ties from posteriors, applying the unanswered-item contract."""
    labels, confidence, tied = argmax_with_ties(posterior)
    labels[~answered] = -1
    confidence[~answered] = 0.0
    tied[~answered] = False
    return labels, confidence, tied
