"""Dawid-Skene and one-coin Dawid-Skene: EM over per-worker confusion matrices.

Model: item ``i`` has a hidden true class ``z_i`` drawn from the class prior; worker ``w``
answers ``l`` with probability ``confusion[w, z_i, l]``, independently of other answers.
EM alternates

- M-step: expected confusion counts from the current item posteriors (one gather and one
  weighted ``bincount`` per class over ``worker * K + label``), plus a Dirichlet pseudo-count
  (``smoothing``, default 0.5 = Jeffreys) in every cell, and the smoothed class prior;
- E-step: per-answer log-probabilities by one fancy-indexed gather of
  ``log confusion[worker, :, label]``, summed per item, then normalised with the log-sum-exp
  shift.

Both steps are whole-array operations; the only Python loops are over EM iterations and over
the K classes. Answers that arrive grouped by item (ordered by item, as a database query can
return them) take a faster path: ``np.repeat`` and ``np.add.reduceat`` instead of
``np.take`` and ``bincount`` for the item-side gather and sum (see ``_model.AnswerIndex``).

EM starts from the majority-vote shares (soft), like crowd-kit, and stops when the
observed-data log-likelihood changes by less than ``tol`` per answer (default 1e-6; the
likelihood is a sum over answers, so a per-answer tolerance means the same thing for 20 and
for 2,000,000 answers) or after ``max_iter`` iterations (``converged`` says which; ``tol=0``
runs exactly ``max_iter`` iterations). The returned confusion matrices and prior are the
ones that produced the returned posteriors, so :func:`~.adaptive.item_posterior` on an item's
answers reproduces ``posterior`` exactly.

Gold items (``gold_items`` / ``gold_labels``) keep their known label as a one-hot posterior in
every iteration, so they anchor the confusion estimates of the workers who answered them.
With gold, EM also runs from a second start — worker confusions learned from the gold items
alone — and the fit with the higher likelihood wins: when most of the crowd errs the same
way, the majority-vote start lands in the mirrored solution, which a few clamped gold rows
cannot undo on their own.

Degenerate input is defined, never a crash or NaN:

- no answers: every item unanswered (label ``-1``, confidence ``0``), uniform confusions,
  uniform prior, ``n_iterations == 0``;
- an item nobody answered: label ``-1``, confidence ``0``, zero posterior row (unless it is a
  gold item: then its gold label with confidence ``1``);
- one class: every answered item label ``0``, confidence ``1``;
- one item, or a worker with a single answer: the smoothing keeps every confusion cell
  strictly positive, so the worker moves the posterior but cannot make it 0/1;
- one worker (more generally, answers that never overlap): nothing in the data tells a good
  worker from one who always answers wrongly, so — with a symmetric prior — EM settles on an
  uninformative confusion matrix and every posterior stays close to the class prior (so the
  labels follow the prior, with low confidence). That is the honest Bayesian answer; use
  majority vote for a batch without redundancy;
- exact ties between classes: lowest label index, reported in ``tied``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from ._arrays import BoolArray, FloatArray, IntArray, check_answers, check_gold
from ._model import (
    DEFAULT_SMOOTHING,
    AnswerIndex,
    class_prior_t,
    decide,
    smoothed_rows,
    soft_confusion_counts_t,
    worker_skill,
)
from .results import CategoricalResult

DEFAULT_TOL = 1e-6
DEFAULT_MAX_ITER = 100


def _check_options(smoothing: float, tol: float, max_iter: int) -> None:
    if not (math.isfinite(smoothing) and smoothing > 0):
        # Zero smoothing would allow log(0) for a cell no answer fell into.
        raise ValueError(f"smoothing must be a positive finite number, got {smoothing!r}")
    if not (math.isfinite(tol) and tol >= 0):
        raise ValueError(f"tol must be a non-negative finite number, got {tol!r}")
    if isinstance(max_iter, bool) or not isinstance(max_iter, int) or max_iter < 0:
        raise ValueError(f"max_iter must be a non-negative integer, got {max_iter!r}")


def _one_coin_confusion(counts: FloatArray, smoothing: float) -> FloatArray:
    """One skill per worker: right with probability ``s``, else a uniformly wrong class.

    The pseudo-counts are those of the full model summed over its K rows (``K * smoothing``
    correct out of ``K * K * smoothing``), so a worker without answers sits at chance.
    """
    n_workers, n_classes, _ = counts.shape
    if n_classes <= 1:
        return np.ones((n_workers, n_classes, n_classes))
    correct = np.trace(counts, axis1=1, axis2=2)
    total = counts.sum(axis=(1, 2))
    skill = (correct + n_classes * smoothing) / (total + n_classes * n_classes * smoothing)
    confusion = np.repeat(((1.0 - skill) / (n_classes - 1))[:, None, None], n_classes, axis=1)
    confusion = np.repeat(confusion, n_classes, axis=2)
    diag = np.arange(n_classes)
    confusion[:, diag, diag] = skill[:, None]
    return confusion


def _e_step(
    index: AnswerIndex,
    pair: IntArray,
    log_confusion: FloatArray,
    log_prior: FloatArray,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Class-major posteriors ``(K, n_items)``, log-normalisers and unnormalised log-posteriors.

    Class-major layout keeps every per-class row contiguous: the per-item sums write rows, and
    the max / sum over classes are element-wise reductions over K rows instead of short
    strided reductions over n_items rows (profiling showed the row-major version spent a
    quarter of the E-step in ``max(axis=1)``).
    """
    n_classes = log_confusion.shape[1]
    # table[k, w * K + l] = log confusion[w, k, l]; gathering its columns by ``pair`` gives a
    # (K, n_answers) array with contiguous rows.
    table = np.ascontiguousarray(log_confusion.transpose(1, 0, 2).reshape(n_classes, -1))
    log_post = index.sum(np.take(table, pair, axis=1))
    log_post += log_prior[:, None]
    shift = log_post.max(axis=0)
    post = np.subtract(log_post, shift)
    np.exp(post, out=post)
    norm = post.sum(axis=0)
    post /= norm
    return post, shift + np.log(norm), log_post


@dataclass
class _Run:
    post: FloatArray
    confusion: FloatArray
    prior: FloatArray
    log_likelihood: float
    iterations: int
    converged: bool


def _em(
    start: FloatArray,
    index: AnswerIndex,
    pair: IntArray,
    n_workers: int,
    g_items: IntArray,
    g_labels: IntArray,
    unanswered: IntArray,
    free_answered: BoolArray,
    one_coin: bool,
    smoothing: float,
    tol: float,
    max_iter: int,
) -> _Run:
    """EM from the class-major posterior ``start`` (M-step first)."""
    n_classes = start.shape[0]
    post = start
    confusion = smoothed_rows(np.zeros((n_workers, n_classes, n_classes)), smoothing)
    prior = class_prior_t(np.zeros((n_classes, 0)), smoothing)
    log_likelihood = 0.0
    previous = -np.inf
    iterations = 0
    for iterations in range(1, max_iter + 1):
        counts = soft_confusion_counts_t(pair, index.gather(post), n_workers)
        if one_coin:
            confusion = _one_coin_confusion(counts, smoothing)
        else:
            confusion = smoothed_rows(counts, smoothing)
        prior = class_prior_t(post, smoothing)
        post, log_norm, log_post = _e_step(index, pair, np.log(confusion), np.log(prior))
        post[:, unanswered] = 0.0
        post[:, g_items] = 0.0
        post[g_labels, g_items] = 1.0
        log_likelihood = float(log_norm[free_answered].sum() + log_post[g_labels, g_items].sum())
        if abs(log_likelihood - previous) < tol * pair.size:
            return _Run(post, confusion, prior, log_likelihood, iterations, True)
        previous = log_likelihood
    return _Run(post, confusion, prior, log_likelihood, iterations, False)


def _fit(
    method: str,
    one_coin: bool,
    items: ArrayLike,
    workers: ArrayLike,
    labels: ArrayLike,
    n_items: int,
    n_workers: int,
    n_classes: int,
    gold_items: ArrayLike | None,
    gold_labels: ArrayLike | None,
    smoothing: float,
    tol: float,
    max_iter: int,
) -> CategoricalResult:
    it, wk, lb = check_answers(items, workers, labels, n_items, n_workers, n_classes)
    g_items, g_labels = check_gold(gold_items, gold_labels, n_items, n_classes)
    _check_options(smoothing, tol, max_iter)
    n_answers = np.bincount(it, minlength=n_items).astype(np.intp)
    worker_n_answers = np.bincount(wk, minlength=n_workers).astype(np.intp)
    answered: BoolArray = n_answers > 0
    is_gold = np.zeros(n_items, dtype=np.bool_)
    is_gold[g_items] = True
    known = answered | is_gold

    # Internally posteriors are class-major, (K, n_items); see _e_step. Start from the
    # majority-vote shares (soft, so permuting labels permutes the start too).
    votes = np.bincount(lb * n_items + it, minlength=n_classes * n_items)
    post = votes.reshape(n_classes, n_items) / np.maximum(n_answers, 1)
    post[:, g_items] = 0.0
    post[g_labels, g_items] = 1.0
    run = _Run(
        post=post,
        confusion=smoothed_rows(np.zeros((n_workers, n_classes, n_classes)), smoothing),
        prior=class_prior_t(np.zeros((n_classes, 0)), smoothing),
        log_likelihood=0.0,
        iterations=0,
        converged=True,
    )
    if it.size and n_classes:
        em_args = (
            AnswerIndex(it, n_items),
            wk * n_classes + lb,
            n_workers,
            g_items,
            g_labels,
            np.flatnonzero(~answered),
            answered & ~is_gold,
            one_coin,
            smoothing,
            tol,
            max_iter,
        )
        run = _em(post, *em_args)
        if g_items.size:
            # A second start from the gold items alone (every other posterior zero, so the
            # first M-step learns the workers from gold only). When most of the crowd is
            # wrong in the same way, majority vote starts EM in the mirrored solution and
            # gold rows alone cannot pull it out; the gold start can. Keep the better fit.
            gold_only = np.zeros_like(post)
            gold_only[g_labels, g_items] = 1.0
            other = _em(gold_only, *em_args)
            if other.log_likelihood > run.log_likelihood:
                run = other

    posterior = np.ascontiguousarray(run.post.T)
    labels_out, confidence, tied = decide(posterior, known)
    return CategoricalResult(
        method=method,
        labels=labels_out,
        confidence=confidence,
        posterior=posterior,
        tied=tied,
        n_answers=n_answers,
        worker_confusion=run.confusion,
        worker_skill=worker_skill(run.confusion, run.prior),
        worker_n_answers=worker_n_answers,
        class_prior=run.prior,
        n_iterations=run.iterations,
        converged=run.converged,
        log_likelihood=run.log_likelihood,
    )


def dawid_skene(
    items: ArrayLike,
    workers: ArrayLike,
    labels: ArrayLike,
    *,
    n_items: int,
    n_workers: int,
    n_classes: int,
    gold_items: ArrayLike | None = None,
    gold_labels: ArrayLike | None = None,
    smoothing: float = DEFAULT_SMOOTHING,
    tol: float = DEFAULT_TOL,
    max_iter: int = DEFAULT_MAX_ITER,
) -> CategoricalResult:
    """Dawid-Skene with a full K x K confusion matrix per worker (see the module docstring).

    ``gold_items[j]`` is known to have label ``gold_labels[j]``; those items stay fixed.
    """
    return _fit(
        "ds",
        False,
        items,
        workers,
        labels,
        n_items,
        n_workers,
        n_classes,
        gold_items,
        gold_labels,
        smoothing,
        tol,
        max_iter,
    )


def one_coin_dawid_skene(
    items: ArrayLike,
    workers: ArrayLike,
    labels: ArrayLike,
    *,
    n_items: int,
    n_workers: int,
    n_classes: int,
    gold_items: ArrayLike | None = None,
    gold_labels: ArrayLike | None = None,
    smoothing: float = DEFAULT_SMOOTHING,
    tol: float = DEFAULT_TOL,
    max_iter: int = DEFAULT_MAX_ITER,
) -> CategoricalResult:
    """Dawid-Skene with one skill per worker (right with ``s``, else uniformly wrong).

    Fewer parameters than :func:`dawid_skene`, so steadier for workers with few answers, but
    blind to class-specific bias (a worker who always answers "no" looks half right).
    """
    return _fit(
        "ods",
        True,
        items,
        workers,
        labels,
        n_items,
        n_workers,
        n_classes,
        gold_items,
        gold_labels,
        smoothing,
        tol,
        max_iter,
    )
