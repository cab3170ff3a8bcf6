"""Aggregating numeric answers (counts, amounts, measurements): median and trimmed mean.

Both are robust to a few wild answers (a typo, an extra zero), which a plain mean is not.
Answers are sorted once by (item, value) and every per-item statistic is then index
arithmetic on that order, so there is no Python loop over items.

Degenerate cases: an item nobody answered gets value ``0.0``, spread ``0.0`` and
``n_answers == 0`` (check ``n_answers``; the value is a placeholder, never NaN); one answer
gives that answer with spread ``0.0``; non-finite answers are rejected with ``ValueError``
because no robust statistic can make sense of them.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from ._arrays import FloatArray, IntArray, as_index_array, check_size
from .results import NumericResult

DEFAULT_TRIM = 0.1


def _sorted_by_item(
    items: ArrayLike, values: ArrayLike, n_items: int
) -> tuple[IntArray, FloatArray, IntArray, IntArray]:
    n_items = check_size(n_items, "n_items")
    it = as_index_array(items, "items", n_items)
    vals = np.asarray(values, dtype=np.float64).reshape(-1)
    if vals.shape != it.shape:
        raise ValueError("items and values must have the same length")
    if not np.all(np.isfinite(vals)):
        raise ValueError("values must be finite numbers")
    order = np.lexsort((vals, it))
    counts = np.bincount(it, minlength=n_items).astype(np.intp)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1])).astype(np.intp)
    return it[order], vals[order], counts, starts


def _segment_median(sorted_vals: FloatArray, counts: IntArray, starts: IntArray) -> FloatArray:
    out = np.zeros(counts.shape[0])
    has = counts > 0
    lo = starts[has] + (counts[has] - 1) // 2
    hi = starts[has] + counts[has] // 2
    out[has] = (sorted_vals[lo] + sorted_vals[hi]) / 2.0
    return out


def median(items: ArrayLike, values: ArrayLike, *, n_items: int) -> NumericResult:
    """Per-item median (mean of the two middle answers for an even count).

    ``spread`` is the median absolute deviation from that median.
    """
    it, vals, counts, starts = _sorted_by_item(items, values, n_items)
    med = _segment_median(vals, counts, starts)
    deviation = np.abs(vals - med[it])
    order = np.lexsort((deviation, it))
    mad = _segment_median(deviation[order], counts, starts)
    return NumericResult(method="median", values=med, spread=mad, n_answers=counts)


def trimmed_mean(
    items: ArrayLike, values: ArrayLike, *, n_items: int, proportion: float = DEFAULT_TRIM
) -> NumericResult:
    """Per-item mean after dropping ``floor(proportion * n)`` answers at each end.

    ``proportion`` must lie in ``[0, 0.5)``; at least one answer is always kept. ``spread`` is
    the (population) standard deviation of the kept answers.
    """
    if not 0.0 <= proportion < 0.5:
        raise ValueError(f"proportion must lie in [0, 0.5), got {proportion!r}")
    it, vals, counts, starts = _sorted_by_item(items, values, n_items)
    n_items = counts.shape[0]
    cut = np.floor(counts * proportion).astype(np.intp)
    rank = np.arange(it.size) - starts[it]
    keep = (rank >= cut[it]) & (rank < (counts - cut)[it])
    kept = np.bincount(it, weights=keep.astype(np.float64), minlength=n_items)
    denom = np.maximum(kept, 1.0)
    mean = np.bincount(it, weights=np.where(keep, vals, 0.0), minlength=n_items) / denom
    centred = np.where(keep, vals - mean[it], 0.0)
    var = np.bincount(it, weights=centred * centred, minlength=n_items) / denom
    return NumericResult(method="trimmed_mean", values=mean, spread=np.sqrt(var), n_answers=counts)
