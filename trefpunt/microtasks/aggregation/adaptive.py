"""Adaptive redundancy: stop asking about an item once its answer is certain enough.

Two speeds, matching how the platform runs:

- **per answer** (in the request that stores the answer): :func:`posterior_update` multiplies
  the item's posterior by the answering worker's confusion column — O(K), no database-wide
  work — and :func:`item_is_complete` decides whether the item leaves the pool;
- **periodically** (a background task every N answers and at batch close): a full
  Dawid-Skene re-fit refreshes every worker's confusion matrix and every posterior.

Workers the last fit has not seen yet are scored with :func:`pooled_confusion`, the
answer-weighted average worker, rather than the uniform matrix a fit gives a worker without
answers: the uniform matrix would make a newcomer's answers count for nothing.

:func:`~.replay.replay_adaptive` (in ``replay.py``) simulates that loop on a finished
dataset for the benchmark: it replays the answers in random order, skips answers to items
that were already complete (those would never have been asked), refits every
``refit_every`` used answers, and finally aggregates the used answers with one more fit, as
the platform does at batch close.

Degenerate cases: an item whose posterior is all zero (no answers yet) must start from the
class prior — :func:`posterior_update` refuses an all-zero posterior instead of guessing;
before the first refit no item completes early (there are no worker estimates yet), only by
reaching ``max_answers``; an item with fewer available answers than ``min_answers`` completes
when they run out.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from ._arrays import BoolArray, FloatArray, IntArray, sorted_distinct, summed_by_row
from .results import CategoricalResult

DEFAULT_TARGET = 0.95
DEFAULT_MIN_ANSWERS = 3
DEFAULT_REFIT_EVERY = 500

Fitter = Callable[..., CategoricalResult]


def item_posterior(
    prior: ArrayLike, confusion: ArrayLike, workers: ArrayLike, labels: ArrayLike
) -> FloatArray:
    """Posterior over the true class of one item from its answers (worker, label pairs).

    ``prior`` is ``(K,)``, ``confusion`` is ``(n_workers, K, K)``; computed in log space so
    that many confident answers cannot underflow to 0/0. With the prior and confusions of a
    Dawid-Skene result this reproduces that result's posterior row for the item.
    """
    log_post = np.log(np.asarray(prior, dtype=np.float64))
    conf = np.asarray(confusion, dtype=np.float64)
    w = np.asarray(workers, dtype=np.intp).reshape(-1)
    lb = np.asarray(labels, dtype=np.intp).reshape(-1)
    if w.shape != lb.shape:
        raise ValueError("workers and labels must have the same length")
    log_post = log_post + np.log(conf[w, :, lb]).sum(axis=0)
    return _normalise_log(log_post)


def posterior_update(posterior: ArrayLike, worker_confusion: ArrayLike, label: int) -> FloatArray:
    """Posterior after one more answer ``label`` from a worker with ``worker_confusion`` (K x K).

    Bayes' rule with the current estimates: ``p'(k) ∝ p(k) * confusion[k, label]``. Classes
    with probability 0 (e.g. ruled out by gold) stay at 0.
    """
    post = np.asarray(posterior, dtype=np.float64)
    conf = np.asarray(worker_confusion, dtype=np.float64)
    if post.ndim != 1 or conf.shape != (post.shape[0], post.shape[0]):
        raise ValueError("posterior must be (K,) and worker_confusion (K, K)")
    if not post.any():
        raise ValueError("posterior is all zero; start an unanswered item from the class prior")
    with np.errstate(divide="ignore"):
        log_post = np.log(post) + np.log(conf[:, label])
    return _normalise_log(log_post)


def _normalise_log(log_post: FloatArray) -> FloatArray:
    shifted = np.exp(log_post - log_post.max())
    return np.asarray(shifted / shifted.sum())


def item_is_complete(
    confidence: float,
    n_answers: int,
    *,
    target: float = DEFAULT_TARGET,
    min_answers: int = DEFAULT_MIN_ANSWERS,
    max_answers: int | None = None,
) -> bool:
    """Whether an item needs no more answers.

    Complete when it has ``max_answers`` answers, or at least ``min_answers`` and its
    confidence (largest posterior probability) has reached ``target``. ``min_answers`` guards
    against one confident-looking answer from a worker the model over-trusts.
    """
    return bool(
        items_complete(
            np.asarray([confidence]),
            np.asarray([n_answers]),
            target=target,
            min_answers=min_answers,
            max_answers=max_answers,
        )[0]
    )


def items_complete(
    confidence: ArrayLike,
    n_answers: ArrayLike,
    *,
    target: float = DEFAULT_TARGET,
    min_answers: int = DEFAULT_MIN_ANSWERS,
    max_answers: int | ArrayLike | None = None,
) -> BoolArray:
    """Vectorised :func:`item_is_complete`; ``max_answers`` may differ per item."""
    if not 0.0 < target <= 1.0:
        raise ValueError(f"target must lie in (0, 1], got {target!r}")
    conf = np.asarray(confidence, dtype=np.float64)
    n = np.asarray(n_answers)
    done = (n >= min_answers) & (conf >= target)
    if max_answers is not None:
        done |= n >= np.asarray(max_answers)
    return np.asarray(done)


def pooled_confusion(result: CategoricalResult) -> FloatArray:
    """The answer-weighted average confusion matrix: our best guess for an unseen worker."""
    k = result.n_classes
    weights = result.worker_n_answers.astype(np.float64)
    if weights.sum() == 0:
        return np.full((k, k), 1.0 / k) if k else np.zeros((0, 0))
    pooled = np.tensordot(weights, result.worker_confusion, axes=1) / weights.sum()
    return np.asarray(pooled)


def confusion_for_updates(result: CategoricalResult) -> FloatArray:
    """Worker confusions for per-answer updates: fitted ones, pooled for unseen workers."""
    conf = result.worker_confusion.copy()
    conf[result.worker_n_answers == 0] = pooled_confusion(result)
    return conf


# Candidate temperatures for :func:`fit_temperature`: 1 (the model as fitted) up to 8 (an
# answer's evidence counts an eighth). A grid, not an optimiser: the held-out likelihood is
# flat near its maximum and a grid cannot wander off on degenerate input.
TEMPERATURES = (1.0, 1.25, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 12.0, 16.0)
# Gold items needed before the temperature is fitted on gold instead of on held-out answers.
MIN_GOLD_FOR_CALIBRATION = 20
DEFAULT_MIN_AGREEING = 3


def answer_log_likelihoods(
    result: CategoricalResult, workers: ArrayLike, labels: ArrayLike
) -> FloatArray:
    """``(n_answers, K)``: ``log confusion[worker, k, label]`` per answer, fitted workers as
    fitted, workers the fit did not see as the pooled worker."""
    conf = confusion_for_updates(result)
    w = np.asarray(workers, dtype=np.intp)
    lb = np.asarray(labels, dtype=np.intp)
    return np.asarray(np.log(conf[w, :, lb]))


def tempered_posterior(
    prior: ArrayLike, log_likelihood: ArrayLike, temperature: float
) -> FloatArray:
    """Posterior rows from the class prior and summed answer log-likelihoods ``(n, K)`` with
    the answers' evidence divided by ``temperature`` (1 = the model's own posterior)."""
    ll = np.atleast_2d(np.asarray(log_likelihood, dtype=np.float64))
    log_post = np.log(np.asarray(prior, dtype=np.float64))[None, :] + ll / temperature
    log_post -= log_post.max(axis=1, keepdims=True)
    post = np.exp(log_post)
    return np.asarray(post / post.sum(axis=1, keepdims=True))


def fit_temperature(
    result: CategoricalResult,
    items: ArrayLike,
    workers: ArrayLike,
    labels: ArrayLike,
    *,
    gold_items: ArrayLike | None = None,
    gold_labels: ArrayLike | None = None,
) -> float:
    """How much to discount the model's evidence so that its confidence is honest.

    Dawid-Skene treats answers as independent given the true class; real answers are not
    (hard items fool several workers at once), so its posteriors are over-confident. The
    temperature ``T`` divides every answer's log-likelihood; it is chosen on the grid
    ``TEMPERATURES`` by one of two likelihoods, both of data the posterior did not use:

    - with at least ``MIN_GOLD_FOR_CALIBRATION`` gold items that have answers: the
      likelihood of the gold labels under the tempered posteriors of those items (the
      answers on gold items, not their known labels) — temperature scaling on gold;
    - otherwise the likelihood of each answer predicted from the *other* answers on its
      item (leave one answer out): for answer ``j`` on item ``i``,
      ``p(l_j) = sum_k post_{-j}(k) * confusion[w_j, k, l_j]`` with ``post_{-j}`` the
      tempered posterior from the item's other answers. If answers agree less than the
      model's confidence predicts, a higher temperature predicts them better.

    Both need no truth beyond what the platform has. Returns 1.0 when there is nothing to
    learn from (no item with two answers, no gold).
    """
    it = np.asarray(items, dtype=np.intp)
    lb = np.asarray(labels, dtype=np.intp)
    if it.size == 0 or result.n_classes < 2:
        return 1.0
    return temperature_from(
        np.maximum(result.class_prior, 1e-12),
        answer_log_likelihoods(result, workers, lb),
        it,
        gold_items=gold_items,
        gold_labels=gold_labels,
    )


def temperature_from(
    prior: FloatArray,
    per_answer: FloatArray,
    items: IntArray,
    *,
    gold_items: ArrayLike | None = None,
    gold_labels: ArrayLike | None = None,
) -> float:
    """:func:`fit_temperature` from the class prior and the answers' log-likelihoods
    ``(n_answers, K)`` (what the platform stores of a fit, not a whole result)."""
    it = np.asarray(items, dtype=np.intp)
    n_classes = prior.shape[0]
    if it.size == 0 or n_classes < 2:
        return 1.0
    n_items = int(it.max()) + 1
    if gold_items is not None and np.asarray(gold_items).size:
        n_items = max(n_items, int(np.asarray(gold_items).max()) + 1)
    summed = summed_by_row(per_answer, it, n_items)
    if gold_items is not None and gold_labels is not None:
        g_items = np.asarray(gold_items, dtype=np.intp)
        g_labels = np.asarray(gold_labels, dtype=np.intp)
        answered = np.bincount(it, minlength=n_items)[g_items] > 0
        if int(answered.sum()) >= MIN_GOLD_FOR_CALIBRATION:
            rows, truth = summed[g_items[answered]], g_labels[answered]
            scores = [
                float(
                    np.log(tempered_posterior(prior, rows, t)[np.arange(truth.size), truth]).sum()
                )
                for t in TEMPERATURES
            ]
            return TEMPERATURES[int(np.argmax(scores))]
    return _split_half_temperature(prior, per_answer, it, summed)


def _split_half_temperature(
    prior: FloatArray, per_answer: FloatArray, it: IntArray, summed: FloatArray
) -> float:
    counts = np.bincount(it, minlength=summed.shape[0])
    # Split each item with enough answers into two random halves: the tempered posterior from
    # half A should give the label half B points to the probability it really has.
    rng = np.random.default_rng(0)
    key = rng.random(it.size)
    order = np.lexsort((key, it))
    sorted_items = it[order]
    starts = np.r_[0, np.flatnonzero(sorted_items[1:] != sorted_items[:-1]) + 1]
    rank = np.empty(it.size, dtype=np.intp)
    rank[order] = np.arange(it.size) - np.repeat(starts, np.diff(np.r_[starts, it.size]))
    enough = counts >= 2 * HALF_MIN
    in_a = rank < counts[it] // 2
    half_a = summed_by_row(per_answer[in_a], it[in_a], summed.shape[0])
    half_b = summed - half_a
    candidates = np.flatnonzero(enough)
    if candidates.size < MIN_SPLIT_ITEMS:
        return NO_CALIBRATION
    post_b = tempered_posterior(prior, half_b[candidates], 1.0)
    reference = post_b.argmax(axis=1)
    sure = post_b.max(axis=1) >= SPLIT_REFERENCE
    if int(sure.sum()) < MIN_SPLIT_ITEMS:
        return NO_CALIBRATION
    split_rows, reference = candidates[sure], reference[sure]
    scores = []
    for t in TEMPERATURES:
        post_a = tempered_posterior(prior, half_a[split_rows], t)
        picked = post_a[np.arange(split_rows.size), reference]
        scores.append(float(np.log(np.maximum(picked, 1e-300)).sum()))
    return TEMPERATURES[int(np.argmax(scores))]


HALF_MIN = 2
# Without enough items to calibrate on, the evidence counts for nothing: no item stops
# on confidence, only on running out of answers.
NO_CALIBRATION = math.inf
MIN_SPLIT_ITEMS = 20
SPLIT_REFERENCE = 0.9


# Prefix calibration: items with at least three times ``min_answers`` answers give one
# (confidence, agreed) pair per prefix of at most a third of their answers; fewer than
# ``MIN_PREFIX_PAIRS`` pairs above the target leave the evidence uncalibrated (no early stop).
MIN_PREFIX_PAIRS = 30
# At most this many items (a random sample) are used to calibrate: the calibration is
# fitted per item in Python, and a few thousand items pin it down (a fit of a batch with
# 100,000 items of 10 answers would otherwise spend ten seconds here).
MAX_CALIBRATION_ITEMS = 5000


@dataclass(frozen=True, eq=False)
class StopCalibration:
    """A monotone map from the stopping confidence to how often stopping there kept the
    answer that the item's later answers gave: ``levels[i]`` holds from ``edges[i]`` up."""

    edges: FloatArray
    levels: FloatArray

    def __call__(self, confidence: ArrayLike) -> FloatArray:
        conf = np.asarray(confidence, dtype=np.float64)
        at = np.searchsorted(self.edges, conf, side="right") - 1
        out = np.where(at >= 0, self.levels[np.maximum(at, 0)], 0.0)
        return np.asarray(np.minimum(out, conf))


def leave_one_out_confidence(
    prior: ArrayLike, answer_ll: ArrayLike, temperature: float
) -> tuple[int, float]:
    """Leader and the lowest tempered probability it keeps when any one answer is left out
    (the plain tempered probability for a single answer)."""
    ll = np.asarray(answer_ll, dtype=np.float64).reshape(-1, np.asarray(prior).shape[0])
    total = ll.sum(axis=0)
    post = tempered_posterior(prior, total, temperature)[0]
    leader = int(post.argmax())
    conf = float(post[leader])
    if ll.shape[0] > 1:
        conf = min(conf, float(tempered_posterior(prior, total - ll, temperature)[:, leader].min()))
    return leader, conf


def _isotonic(x: FloatArray, y: FloatArray, w: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Pool-adjacent-violators on ``y`` sorted by ``x``; each block's level is its successes
    over its size plus one (one pseudo-failure per block: an honest, slightly low estimate)."""
    order = np.argsort(x, kind="stable")
    xs, ys, ws = x[order], y[order], w[order]
    sums: list[float] = []
    sizes: list[float] = []
    starts: list[float] = []
    for xv, yv, wv in zip(xs.tolist(), ys.tolist(), ws.tolist(), strict=True):
        sums.append(yv * wv)
        sizes.append(wv)
        starts.append(xv)
        while len(sums) > 1 and sums[-2] / sizes[-2] >= sums[-1] / sizes[-1]:
            s, n = sums.pop(), sizes.pop()
            starts.pop()
            sums[-1] += s
            sizes[-1] += n
    levels = np.asarray(sums) / (np.asarray(sizes) + 1.0)
    return np.asarray(starts), np.maximum.accumulate(levels)


def fit_stop_calibration(
    prior: ArrayLike,
    answer_ll: ArrayLike,
    items: ArrayLike,
    labels: ArrayLike,
    temperature: float,
    *,
    target: float,
    min_answers: int = DEFAULT_MIN_ANSWERS,
    min_agreeing: int = DEFAULT_MIN_AGREEING,
    seed: int = 0,
) -> StopCalibration | None:
    """How often stopping an item at a given confidence keeps the answer it would get from
    more answers, measured on the batch's own items.

    Every item with at least ``3 * min_answers`` answers (a random sample of
    ``MAX_CALIBRATION_ITEMS`` when there are more) is put in a random order: each
    prefix of ``min_answers`` up to a third of its answers whose leader has
    ``min_agreeing`` answers gives a pair (its leave-one-out confidence, whether its leader
    equals the leader of the item's other answers — held out, at least twice as many). The
    pairs' isotonic fit, each item's pairs sharing a weight of one (they are not
    independent: the effective sample is the number of items), is the calibration. Unlike a
    temperature fitted on the likelihood, this looks only at the confidences where items
    stop, and an item that several workers get wrong the same way at first counts against
    that confidence. Returns None when the pairs at or above ``target`` weigh less than
    ``MIN_PREFIX_PAIRS`` items: then no item should stop early.
    """
    pr = np.asarray(prior, dtype=np.float64)
    ll = np.asarray(answer_ll, dtype=np.float64)
    it = np.asarray(items, dtype=np.intp)
    lb = np.asarray(labels, dtype=np.intp)
    if it.size == 0:
        return None
    rng = np.random.default_rng(seed)
    order = np.lexsort((rng.random(it.size), it))
    sorted_items = it[order]
    starts = np.r_[0, np.flatnonzero(sorted_items[1:] != sorted_items[:-1]) + 1]
    ends = np.r_[starts[1:], it.size]
    conf_out: list[float] = []
    agree_out: list[float] = []
    weight_out: list[float] = []
    long_enough = (ends - starts) >= 3 * min_answers
    if int(long_enough.sum()) > MAX_CALIBRATION_ITEMS:
        # A sample is enough to calibrate on (the loop below runs per item in Python).
        chosen = np.random.default_rng(seed + 1).choice(
            np.flatnonzero(long_enough), MAX_CALIBRATION_ITEMS, replace=False
        )
        long_enough = np.zeros_like(long_enough)
        long_enough[chosen] = True
    for a, b in zip(starts[long_enough].tolist(), ends[long_enough].tolist(), strict=True):
        n = b - a
        rows = ll[order[a:b]]
        lab = lb[order[a:b]]
        cum = np.cumsum(rows, axis=0)
        lengths = np.arange(min_answers, n // 3 + 1)
        if lengths.size == 0:
            continue
        totals = cum[lengths - 1]  # (P, K)
        # The reference is the leader of the answers after the prefix: held out, and at
        # least twice as many as the prefix has (what asking on would have given).
        reference = tempered_posterior(pr, cum[-1] - totals, temperature).argmax(axis=1)
        post = tempered_posterior(pr, totals, temperature)
        leader = post.argmax(axis=1)
        conf = post[np.arange(lengths.size), leader]
        # Leave each answer of the prefix out: (P, n, K), answers past the prefix masked.
        out = tempered_posterior(
            pr, (totals[:, None, :] - rows[None, :, :]).reshape(-1, pr.size), temperature
        )
        out = out.reshape(lengths.size, n, pr.size)[np.arange(lengths.size), :, leader]
        inside = np.arange(n)[None, :] < lengths[:, None]
        conf = np.minimum(conf, np.where(inside, out, 1.0).min(axis=1))
        votes = np.cumsum(lab[:, None] == np.arange(pr.size)[None, :], axis=0)[lengths - 1]
        ok = votes[np.arange(lengths.size), leader] >= min_agreeing
        kept = int(ok.sum())
        conf_out.extend(conf[ok].tolist())
        agree_out.extend((leader[ok] == reference[ok]).astype(float).tolist())
        weight_out.extend([1.0 / max(kept, 1)] * kept)
    confs, weights = np.asarray(conf_out), np.asarray(weight_out)
    if float(weights[confs >= target].sum()) < MIN_PREFIX_PAIRS:
        return None
    edges, levels = _isotonic(confs, np.asarray(agree_out), weights)
    return StopCalibration(edges=edges, levels=levels)


def agreeing_workers(
    items: ArrayLike, workers: ArrayLike, labels: ArrayLike, *, n_items: int, n_classes: int
) -> IntArray:
    """``(n_items, K)``: distinct workers whose answers on the item include each label."""
    it = np.asarray(items, dtype=np.intp)
    w = np.asarray(workers, dtype=np.int64)
    lb = np.asarray(labels, dtype=np.intp)
    if it.size == 0:
        return np.zeros((n_items, n_classes), dtype=np.intp)
    key = sorted_distinct((it.astype(np.int64) * n_classes + lb) * (int(w.max()) + 1) + w)
    cell = key // (int(w.max()) + 1)
    return np.bincount(cell, minlength=n_items * n_classes).reshape(n_items, n_classes)


# --- the stopping rule: one module for the replay, the CLI, the full fit and each answer ---


@dataclass
class StopModel:
    """What the stopping rule needs from the last full fit: the class prior, every worker's
    confusion matrix (the pooled worker for those the fit did not see), the temperature,
    the spammer flags and the prefix calibration (``None``: no early stop yet)."""

    prior: FloatArray
    confusion: FloatArray
    temperature: float
    flagged: BoolArray
    calibration: StopCalibration | None
    # The fitted answers' evidence the temperature and calibration were fitted on
    # (:func:`fitted_answer_ll`), ``(n_answers, K)`` in the order given.
    answer_ll: FloatArray

    def stored(self) -> dict[str, Any]:
        """The temperature and calibration as JSON (the platform keeps the prior and the
        matrices with the fit's other estimates)."""
        cal = self.calibration
        return {
            "temperature": self.temperature if math.isfinite(self.temperature) else None,
            "edges": [] if cal is None else np.round(cal.edges, 9).tolist(),
            "levels": [] if cal is None else np.round(cal.levels, 9).tolist(),
        }


def calibration_from(stored: dict[str, Any] | None) -> tuple[float, StopCalibration | None]:
    """(temperature, calibration) from :meth:`StopModel.stored`; no stop without one."""
    if not stored or not stored.get("edges"):
        return NO_CALIBRATION, None
    edges = np.asarray(stored["edges"], dtype=np.float64)
    levels = np.asarray(stored.get("levels") or [], dtype=np.float64)
    if edges.shape != levels.shape:
        return NO_CALIBRATION, None
    temperature = stored.get("temperature")
    return (
        NO_CALIBRATION if temperature is None else float(temperature),
        StopCalibration(edges=edges, levels=levels),
    )


def fitted_answer_ll(
    prior: ArrayLike,
    confusion: ArrayLike,
    mass: ArrayLike | None,
    items: ArrayLike,
    workers: ArrayLike,
    labels: ArrayLike,
) -> FloatArray:
    """``(n_answers, K)``: each answer the fit saw scored by its worker's matrix *without
    that answer* — leave-one-answer-out, from the row's pseudo-answers ``mass`` ``(n_workers,
    K)``: the answer put ``p_k`` (its question's posterior) into cell ``(k, label)`` of row
    ``k``, so without it the cell is ``(confusion · mass − p_k) / (mass − p_k)``. The
    question's posterior is the one the fit's matrices give it (prior and the in-sample
    evidence of its answers). Without ``mass`` (a method without row counts), the matrices
    as fitted.

    Why: a worker with five answers has a matrix fitted on those five. Scored with it, the
    answers that agree with the crowd look reliable on exactly the questions they agree on,
    in the prefixes the calibration learns from as in the questions that stop: cut into
    five-answer workers, zheng_d_possent stopped questions at a stated 0.991 of which 93.4 %
    kept their answer, and lost 5.1 points against all answers."""
    pr = np.maximum(np.asarray(prior, dtype=np.float64), 1e-12)
    conf = np.asarray(confusion, dtype=np.float64)
    it = np.asarray(items, dtype=np.intp)
    wk = np.asarray(workers, dtype=np.intp)
    lb = np.asarray(labels, dtype=np.intp)
    cell = conf[wk, :, lb]
    in_sample = np.log(np.maximum(cell, 1e-300))
    if mass is None or it.size == 0:
        return np.asarray(in_sample)
    share = tempered_posterior(pr, summed_by_row(in_sample, it, int(it.max()) + 1), 1.0)[it]
    rows = np.asarray(mass, dtype=np.float64)[wk]
    left = rows - share
    without = np.where(
        left > _MASS_LEFT, (cell * rows - share) / np.maximum(left, _MASS_LEFT), cell
    )
    return np.asarray(np.log(np.clip(without, _CELL_MIN, 1.0)))


# A row with less than this many pseudo-answers besides the answer keeps its fitted cell;
# a cell is never put below this probability.
_MASS_LEFT = 1e-3
_CELL_MIN = 1e-6


def stop_model_fit(
    prior: ArrayLike,
    confusion: ArrayLike,
    items: ArrayLike,
    workers: ArrayLike,
    labels: ArrayLike,
    *,
    mass: ArrayLike | None = None,
    flagged: ArrayLike | None = None,
    target: float = DEFAULT_TARGET,
    min_answers: int = DEFAULT_MIN_ANSWERS,
    min_agreeing: int = DEFAULT_MIN_AGREEING,
    calibrate: bool = True,
    seed: int = 0,
    gold_items: ArrayLike | None = None,
    gold_labels: ArrayLike | None = None,
    previous: StopCalibration | None = None,
) -> StopModel:
    """The stopping rule's estimates after a full fit (prior and ``confusion`` from
    :func:`confusion_for_updates` of that fit, with ``mass`` its rows' pseudo-answers): the
    temperature (:func:`temperature_from`) and the prefix calibration
    (:func:`fit_stop_calibration`) on the batch's own answers, each scored without itself
    (:func:`fitted_answer_ll`; ``answer_ll`` of the result, for the caller's questions).
    When the answers no longer give a calibration (stopped items stop feeding it),
    ``previous`` is kept."""
    pr = np.maximum(np.asarray(prior, dtype=np.float64), 1e-12)
    conf = np.asarray(confusion, dtype=np.float64)
    it = np.asarray(items, dtype=np.intp)
    lb = np.asarray(labels, dtype=np.intp)
    per_answer = fitted_answer_ll(pr, conf, mass, it, workers, lb)
    temperature = temperature_from(
        pr, per_answer, it, gold_items=gold_items, gold_labels=gold_labels
    )
    calibration = None
    if calibrate and math.isfinite(temperature):
        calibration = fit_stop_calibration(
            pr,
            per_answer,
            it,
            lb,
            temperature,
            target=target,
            min_answers=min_answers,
            min_agreeing=min_agreeing,
            seed=seed,
        )
    if calibration is None:
        calibration = previous
    return StopModel(
        prior=pr,
        confusion=conf,
        temperature=temperature,
        flagged=(
            np.zeros(conf.shape[0], dtype=np.bool_)
            if flagged is None
            else np.asarray(flagged, dtype=np.bool_)
        ),
        calibration=calibration,
        answer_ll=per_answer,
    )


def stop_confidences(
    prior: FloatArray,
    loglik: FloatArray,
    answer_ll: FloatArray,
    answer_row: IntArray,
    temperature: float,
    calibration: StopCalibration | None,
    *,
    leave_one_out: bool = True,
    calibrate: bool = True,
) -> tuple[IntArray, FloatArray]:
    """Leader and stopping confidence of each row of ``loglik`` (summed answer
    log-likelihoods ``(n, K)``; ``answer_ll[j]`` belongs to row ``answer_row[j]``).

    The confidence is the leader's tempered probability, with ``leave_one_out`` the lowest
    it keeps when any one answer of the row is left out, mapped through ``calibration``;
    without a calibration (or a finite temperature) it is 0: no early stop before the batch
    can be calibrated."""
    n = loglik.shape[0]
    post = tempered_posterior(prior, loglik, temperature) if n else np.zeros_like(loglik)
    leader = post.argmax(axis=1) if n else np.zeros(0, dtype=np.intp)
    conf = post[np.arange(n), leader]
    if leave_one_out and answer_row.size:
        out = np.ones(n)
        held = tempered_posterior(prior, loglik[answer_row] - answer_ll, temperature)
        np.minimum.at(out, answer_row, held[np.arange(answer_row.size), leader[answer_row]])
        conf = np.minimum(conf, out)
    if calibrate:
        usable = calibration is not None and math.isfinite(temperature)
        conf = calibration(conf) if usable and calibration is not None else conf * 0.0
    return np.asarray(leader, dtype=np.intp), np.asarray(conf)


def stop_confidence(
    prior: ArrayLike,
    answer_ll: ArrayLike,
    temperature: float,
    calibration: StopCalibration | None,
) -> tuple[int, float]:
    """:func:`stop_confidences` of one item from its answers' log-likelihoods ``(n, K)``:
    what the platform computes when an answer arrives."""
    pr = np.asarray(prior, dtype=np.float64)
    ll = np.asarray(answer_ll, dtype=np.float64).reshape(-1, pr.shape[0])
    if ll.shape[0] == 0 or not math.isfinite(temperature):
        return (int(pr.argmax()) if pr.size else -1), 0.0
    leader, conf = stop_confidences(
        pr,
        ll.sum(axis=0)[None, :],
        ll,
        np.zeros(ll.shape[0], dtype=np.intp),
        temperature,
        calibration,
    )
    return int(leader[0]), float(conf[0])


def may_stop(
    confidence: ArrayLike,
    n_answers: ArrayLike,
    n_agreeing: ArrayLike,
    *,
    target: float = DEFAULT_TARGET,
    min_answers: int = DEFAULT_MIN_ANSWERS,
    min_agreeing: int = DEFAULT_MIN_AGREEING,
) -> BoolArray:
    """Whether an item may stop before its maximum: at least ``min_answers`` answers,
    ``min_agreeing`` distinct workers not flagged as spammers giving the leading answer, and
    the stopping confidence (:func:`stop_confidences`) at ``target``."""
    return np.asarray(
        (np.asarray(n_answers) >= min_answers)
        & (np.asarray(n_agreeing) >= min_agreeing)
        & (np.asarray(confidence, dtype=np.float64) >= target)
    )
