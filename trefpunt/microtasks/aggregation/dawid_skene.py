"""Dawid-Skene and one-coin Dawid-Skene: EM over per-worker confusion matrices.

Model: item ``i`` has a hidden true class ``z_i`` drawn from the class prior; worker ``w``
answers ``l`` with probability ``confusion[w, z_i, l]``, independently of other answers.

**The default, :func:`dawid_skene`, is hierarchical.** Plain Dawid-Skene gives every worker
K x (K - 1) free parameters; a worker with five answers then gets a confusion matrix made of
noise, and on a small batch those matrices can overturn a unanimous vote. Here each worker's
matrix has a Dirichlet prior centred on a *shared* matrix, so a worker with few answers is
described by the crowd until their own answers say otherwise:

1. **pooled matrix** ``P``: every worker's expected counts summed, plus ``POOL_STRENGTH``
   pseudo-answers per row of a weakly informative matrix that is right with probability
   halfway between chance and perfect (for two classes 0.75). That pseudo-data encodes only
   "a typical worker is better than chance", which breaks the label-swap symmetry of EM the
   way Liu, Peng & Ihler (NIPS 2012, "Variational inference for crowdsourcing") do with a
   Beta prior, and it matters only when a batch is tiny;
2. **worker skill**: the share of the worker's (expected) answers that were right, shrunk by
   ``skill_strength`` pseudo-answers towards the pooled accuracy — the one-coin estimate,
   which is steady with few answers;
3. **the worker's prior mean** ``M_w``: the pooled matrix with its diagonal moved, in
   log-odds, by the worker's skill relative to the pooled accuracy (off-diagonal cells keep
   the pooled shape of the errors). Row ``k`` takes the skill from the worker's answers on
   the other true classes only, so the row's own answers are not counted twice (once in
   its prior mean, once as data; see :func:`hierarchical_counts`);
4. **the worker's matrix**: ``(counts_w + prior_strength * M_w)`` row-normalised — the
   posterior mean of the row under ``Dirichlet(prior_strength * M_w)``. With three or more
   classes the prior is nested (:func:`_nested_counts`): each row's right-share and its
   pattern of wrong answers are shrunk separately, each with its own estimated strength.

So with a handful of answers a worker is a one-coin worker with the crowd's error pattern
(a weighted vote), with a few dozen their own class-specific errors take over (full
Dawid-Skene). With three answers per item and thin workers the fit reduces to a weighted
majority vote, which is why it is never worse than majority vote on small batches.

:func:`one_coin_dawid_skene` keeps the classic one-coin model (one skill per worker,
Jeffreys pseudo-counts), as a baseline and for the client who asks for it.

**Repeated answers** (a worker answering the same item more than once) share one vote:
each gets weight ``1 / r`` (see ``_arrays.repeat_weights``) in both EM steps.

EM starts from the majority-vote shares (soft), like crowd-kit, and stops when the
observed-data log-likelihood changes by less than ``tol`` per answer (default 1e-6; the
likelihood is a sum over answers, so a per-answer tolerance means the same thing for 20 and
for 2,000,000 answers) or after ``max_iter`` iterations (``converged`` says which; ``tol=0``
runs exactly ``max_iter`` iterations). The returned confusion matrices and prior are the
ones that produced the returned posteriors, so :func:`~.adaptive.item_posterior` on an item's
answers reproduces ``posterior`` exactly.

Both steps are whole-array operations; the only Python loops are over EM iterations and over
the K classes (the hierarchy adds O(n_workers * K^2) per iteration). Answers that arrive
grouped by item take a faster path (see ``_model.AnswerIndex``).

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
  gold item: then its gold label with confidence ``1``); a worker without answers keeps the
  uniform matrix;
- one class: every answered item label ``0``, confidence ``1``;
- one item, or a worker with a single answer: every confusion cell stays strictly positive,
  so the worker moves the posterior but cannot make it 0/1;
- one worker (more generally, answers that never overlap): nothing in the data can say how
  good the worker is; the hierarchical model follows the worker (the prior says workers are
  better than chance) with a confidence that comes mostly from that prior; plain one-coin
  Dawid-Skene stays near the class prior;
- exact ties between classes: lowest label index, reported in ``tied``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import ArrayLike

from ._arrays import BoolArray, FloatArray, IntArray, check_answers, check_gold, repeat_weights
from ._model import (
    DEFAULT_SMOOTHING,
    AnswerIndex,
    class_prior_t,
    decide,
    smoothed_rows,
    worker_skill,
)
from .majority import vote_scores
from .results import CategoricalResult

DEFAULT_TOL = 1e-6
DEFAULT_MAX_ITER = 100
# Pseudo-answers per row of the weakly informative matrix behind the pooled one, and per
# class of the class prior. Both only matter on tiny batches: with 10 per class, a batch
# of eight questions cannot talk itself into "every item is class 0" (the collapse that
# overturned unanimous votes in issue 14's small-batch sweep).
POOL_STRENGTH = 10.0
CLASS_PSEUDO = 10.0
# Bounds for the estimated prior strengths (pseudo-answers): at least one, so a worker's
# own answers never decide alone, at most 10,000, which is "everyone is the pooled worker".
STRENGTH_MIN = 1.0
STRENGTH_MAX = 1e4
# EM stops once the log-likelihood has not improved on its best for this many iterations
# and returns the best iterate (see the module docstring).
PATIENCE = 3
_EPS = 1e-6


def _check_options(smoothing: float, tol: float, max_iter: int) -> None:
    if not (math.isfinite(smoothing) and smoothing > 0):
        # Zero smoothing would allow log(0) for a cell no answer fell into.
        raise ValueError(f"smoothing must be a positive finite number, got {smoothing!r}")
    if not (math.isfinite(tol) and tol >= 0):
        raise ValueError(f"tol must be a non-negative finite number, got {tol!r}")
    if isinstance(max_iter, bool) or not isinstance(max_iter, int) or max_iter < 0:
        raise ValueError(f"max_iter must be a non-negative integer, got {max_iter!r}")


def _check_strength(value: float, name: str) -> None:
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")


def _one_coin_matrix(accuracy: FloatArray, n_classes: int) -> FloatArray:
    """``(n, K, K)`` matrices right with ``accuracy[n]``, else uniformly wrong."""
    wrong = (1.0 - accuracy) / max(n_classes - 1, 1)
    matrix = np.repeat(np.repeat(wrong[:, None, None], n_classes, axis=1), n_classes, axis=2)
    diag = np.arange(n_classes)
    matrix[:, diag, diag] = accuracy[:, None]
    return matrix


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
    return _one_coin_matrix(skill, n_classes)


def _logit(p: FloatArray) -> FloatArray:
    q = np.clip(p, _EPS, 1.0 - _EPS)
    return np.asarray(np.log(q) - np.log1p(-q))


def pooled_prior_accuracy(n_classes: int) -> float:
    """Accuracy of the weakly informative matrix behind the pooled one: halfway between
    chance and perfect (0.75 for two classes, 0.6 for five)."""
    return (1.0 + 1.0 / n_classes) / 2.0 if n_classes else 1.0


def hierarchical_counts(
    counts: FloatArray, prior_strength: float | None, skill_strength: float | None
) -> tuple[FloatArray, float, float]:
    """Expected counts plus each worker's prior pseudo-counts, ``(n_workers, K, K)``, and
    the two strengths used (estimated from the counts where given as ``None``; with three
    or more classes the first is the strength of the right-shares, see
    :func:`_nested_counts`).

    The prior of a worker's row for true class ``k`` borrows the worker's skill from their
    *other* rows only. The row's own answers enter its posterior as data; counting them in
    its prior mean too would let them weigh twice — a worker's few answers on a rare class
    would then pull their prior towards themselves — and would make the rows look closer to
    their prior means than they are, so the estimated strength came out too large.
    """
    n_classes = counts.shape[1]
    diag = np.arange(n_classes)
    base = _one_coin_matrix(np.array([pooled_prior_accuracy(n_classes)]), n_classes)[0]
    pooled_counts = counts.sum(axis=0) + POOL_STRENGTH * base
    pooled = pooled_counts / pooled_counts.sum(axis=1, keepdims=True)
    total = counts.sum(axis=(1, 2))
    correct = np.trace(counts, axis1=1, axis2=2)
    m = _beta_binomial_strength(correct, total) if skill_strength is None else skill_strength
    # Leave-row-out: the worker's and the crowd's accuracy on every row but k, (W, K) / (K,).
    row_right = np.diagonal(pooled_counts)
    row_total = pooled_counts.sum(axis=1)
    other_pooled = (row_right.sum() - row_right) / np.maximum(row_total.sum() - row_total, 1e-300)
    other_correct = correct[:, None] - counts[:, diag, diag]
    other_total = total[:, None] - counts.sum(axis=2)
    # A worker's skill is never put below chance: a thin worker who disagreed with the
    # crowd twice is a worker whose vote carries no weight, not an oracle to be inverted.
    skill = np.maximum(
        (other_correct + m * other_pooled[None, :]) / (other_total + m),
        1.0 / n_classes + _EPS,
    )
    shift = _logit(skill) - _logit(other_pooled)[None, :]
    pooled_diag = np.clip(np.diagonal(pooled), _EPS, 1.0 - _EPS)
    worker_diag = 1.0 / (1.0 + np.exp(-(_logit(pooled_diag)[None, :] + shift)))
    off_scale = (1.0 - worker_diag) / (1.0 - pooled_diag)[None, :]
    mean = pooled[None, :, :] * off_scale[:, :, None]
    mean[:, diag, diag] = worker_diag
    if n_classes >= 3:
        padded, s_right = _nested_counts(counts, mean, prior_strength)
        return padded, s_right, m
    s = _dirichlet_strength(counts, mean) if prior_strength is None else prior_strength
    return np.asarray(counts + s * mean), s, m


def _nested_counts(
    counts: FloatArray, mean: FloatArray, prior_strength: float | None
) -> tuple[FloatArray, float]:
    """With three or more classes: each row shrunk in two parts, each with its own strength.

    A row of a worker's matrix says two things: how often the worker is right on that class
    (one number) and, when wrong, which wrong answer they give (K - 2 free numbers). The
    prior is nested accordingly (a Beta for "right", a Dirichlet over the wrong answers —
    both conjugate, so the posterior mean is closed-form): the right-share is shrunk
    towards the worker's prior diagonal with strength ``s_right`` and the shares of the
    wrong answers towards the pooled pattern of errors with strength ``s_wrong``, each
    estimated by the method of moments on its own part of the counts. A single Dirichlet
    on the whole row ties the two together: the spread of the right-shares (large: workers
    really differ in skill) then lets a worker's few wrong answers define their pattern of
    errors, which on five-class data invented class-specific errors from noise. With two
    classes there is no pattern of errors and this is the plain Dirichlet row.

    Returns the padded rows (the posterior-mean matrix times the row's answers plus
    ``s_right``, so ``_normalised`` gives that matrix) and ``s_right``.
    """
    n_classes = counts.shape[1]
    diag = np.arange(n_classes)
    right = counts[:, diag, diag]
    n = counts.sum(axis=2)
    mu = np.clip(mean[:, diag, diag], _EPS, 1.0 - _EPS)
    if prior_strength is None:
        s_right = _dirichlet_strength(
            np.stack([right, n - right], axis=2), np.stack([mu, 1.0 - mu], axis=2)
        )
    else:
        s_right = prior_strength
    wrong = counts.copy()
    wrong[:, diag, diag] = 0.0
    pattern = mean.copy()
    pattern[:, diag, diag] = 0.0
    pattern /= np.maximum(pattern.sum(axis=2, keepdims=True), 1e-300)
    s_wrong = _dirichlet_strength(wrong, pattern) if prior_strength is None else prior_strength
    right_share = (right + s_right * mu) / (n + s_right)
    wrong_shares = (wrong + s_wrong * pattern) / (n - right + s_wrong)[:, :, None]
    matrix = wrong_shares * (1.0 - right_share)[:, :, None]
    matrix[:, diag, diag] = right_share
    return np.asarray(matrix * (n + s_right)[:, :, None]), s_right


def _clip_strength(rho: float) -> float:
    """Pseudo-answers ``1 / rho - 1`` from an intra-worker correlation ``rho``, bounded."""
    rho = min(max(rho, 1.0 / (STRENGTH_MAX + 1.0)), 1.0 / (STRENGTH_MIN + 1.0))
    return 1.0 / rho - 1.0


# The moment estimates below count a worker (or a row) with more than half an answer of
# expected counts. Soft posteriors and repeat weights of 1/2 make exactly 0.5 common on
# small batches, and a float rounding error either way must not decide it: relabelling the
# workers or classes once moved an estimated strength from 6.5 to 9.6 that way.
MIN_EXPECTED_ANSWERS = 0.5 + 1e-9
# Likewise a moment estimate whose denominator is zero but for rounding (every worker's
# rows holding one answer each, say) has nothing to say about the spread: the sign of the
# rounding error would make it 1 or 10,000 pseudo-answers. Below this share of the answers
# it is taken as zero (everyone is the pooled worker).
NO_SPREAD = 1e-9


def _beta_binomial_strength(correct: FloatArray, total: FloatArray) -> float:
    """Method-of-moments concentration of the workers' skills (beta-binomial, Kleinman 1973).

    The spread of the workers' observed accuracies beyond what binomial noise explains
    measures how much workers really differ; none beyond noise (thin workers) gives the
    largest strength, i.e. everyone is the pooled worker.
    """
    has = total > MIN_EXPECTED_ANSWERS
    n = total[has]
    if n.size < 2:
        return STRENGTH_MAX
    mu = float(correct[has].sum() / n.sum())
    if not 0.0 < mu < 1.0:
        return STRENGTH_MAX
    big_n = float(n.sum())
    spread = float((n * (correct[has] / n - mu) ** 2).sum()) / (mu * (1.0 - mu))
    denom = big_n - float((n * n).sum()) / big_n
    if denom <= NO_SPREAD * big_n:
        return STRENGTH_MAX
    return _clip_strength((spread - (n.size - 1)) / denom)


def _dirichlet_strength(counts: FloatArray, mean: FloatArray) -> float:
    """Method-of-moments concentration of the workers' confusion rows around their prior
    means (Dirichlet-multinomial): the rows' squared deviations beyond multinomial noise."""
    n = counts.sum(axis=2)  # (W, K)
    has = n > MIN_EXPECTED_ANSWERS
    if has.sum() < 2:
        return STRENGTH_MAX
    p = counts / np.maximum(n, 1e-12)[:, :, None]
    dev = ((p - mean) ** 2).sum(axis=2)
    purity = 1.0 - (mean * mean).sum(axis=2)
    num = float((n * dev)[has].sum() - purity[has].sum())
    den = float((purity * (n - 1.0))[has].sum())
    if den <= NO_SPREAD * float((purity * n)[has].sum()):
        return STRENGTH_MAX
    return _clip_strength(num / den)


def _normalised(padded: FloatArray, counts: FloatArray) -> FloatArray:
    """Row-normalised ``padded``; workers without answers get the uniform matrix."""
    n_classes = padded.shape[1]
    confusion = padded / padded.sum(axis=2, keepdims=True)
    confusion[counts.sum(axis=(1, 2)) <= 0] = 1.0 / max(n_classes, 1)
    return np.asarray(confusion)


def hierarchical_confusion(
    counts: FloatArray,
    prior_strength: float | None = None,
    skill_strength: float | None = None,
) -> FloatArray:
    """Worker confusion matrices shrunk towards the pooled matrix at each worker's skill.

    ``counts`` are the expected confusion counts ``(n_workers, K, K)``; see the module
    docstring for the levels. Workers without answers get the uniform matrix.
    """
    if counts.shape[1] <= 1:
        return np.ones_like(counts)
    padded, _s, _m = hierarchical_counts(counts, prior_strength, skill_strength)
    return _normalised(padded, counts)


def _e_step(
    index: AnswerIndex,
    pair: IntArray,
    weight: FloatArray | None,
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
    log_post = index.sum_table(table, pair, weight)
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
    # Each worker row's pseudo-answers behind ``confusion`` (expected answers plus the
    # prior's), ``(n_workers, K)``; the hierarchical model only.
    mass: FloatArray | None = None


@dataclass(frozen=True)
class _Options:
    model: str  # "hier" or "one_coin"
    smoothing: float
    prior_strength: float | None
    skill_strength: float | None
    tol: float
    max_iter: int


# A fit counts as likelier than another only by more than this share of the other's
# log-likelihood (plus as much again in absolute terms): a gain within floating-point noise
# is no gain, so which iterate or which start is kept never hinges on the order in which a
# sum was taken (relabelling items, workers or classes must relabel the result, and does).
LIKELIHOOD_NOISE = 1e-9


def _likelier(log_likelihood: float, than: float) -> bool:
    return log_likelihood - than > LIKELIHOOD_NOISE * (1.0 + abs(than))


def _em(
    start: FloatArray,
    index: AnswerIndex,
    pair: IntArray,
    weight: FloatArray | None,
    n_workers: int,
    g_items: IntArray,
    g_labels: IntArray,
    unanswered: IntArray,
    free_answered: BoolArray,
    opts: _Options,
) -> _Run:
    """EM from the class-major posterior ``start`` (M-step first).

    The hierarchical model re-estimates its prior strengths in every M-step, so an
    iteration is not guaranteed to raise the likelihood as a plain EM step is; the best
    iterate is kept and returned once ``PATIENCE`` iterations in a row failed to beat it
    (or the change falls below the tolerance). Without that, a fit at low redundancy can
    slide, one likelihood-lowering step after another, into "every item is one class".
    """
    n_classes = start.shape[0]
    post = start
    confusion = smoothed_rows(np.zeros((n_workers, n_classes, n_classes)), opts.smoothing)
    prior = class_prior_t(np.zeros((n_classes, 0)), opts.smoothing)
    log_likelihood = 0.0
    previous = -np.inf
    iterations = 0
    n_votes = float(weight.sum()) if weight is not None else float(pair.size)
    hierarchical = opts.model != "one_coin"
    mass: FloatArray | None = None
    best: _Run | None = None
    worse = 0
    for iterations in range(1, opts.max_iter + 1):
        counts = (
            index.pair_counts(post, pair, weight, n_workers * n_classes)
            .reshape(n_classes, n_workers, n_classes)
            .transpose(1, 0, 2)
        )
        if hierarchical:
            padded, _s, _m = hierarchical_counts(counts, opts.prior_strength, opts.skill_strength)
            confusion = _normalised(padded, counts)
            mass = padded.sum(axis=2)
            prior = class_prior_t(post, CLASS_PSEUDO)
        else:
            confusion = _one_coin_confusion(counts, opts.smoothing)
            prior = class_prior_t(post, opts.smoothing)
        post, log_norm, log_post = _e_step(index, pair, weight, np.log(confusion), np.log(prior))
        post[:, unanswered] = 0.0
        post[:, g_items] = 0.0
        post[g_labels, g_items] = 1.0
        log_likelihood = float(log_norm[free_answered].sum() + log_post[g_labels, g_items].sum())
        done = abs(log_likelihood - previous) < opts.tol * n_votes
        if hierarchical:
            if best is None or _likelier(log_likelihood, best.log_likelihood):
                best = _Run(post, confusion, prior, log_likelihood, iterations, False, mass)
                worse = 0
            else:
                worse += 1
                done = done or worse >= PATIENCE
        if done:
            if best is not None:
                return replace(best, iterations=iterations, converged=True)
            return _Run(post, confusion, prior, log_likelihood, iterations, True)
        previous = log_likelihood
    if best is not None:
        return replace(best, iterations=iterations)
    return _Run(post, confusion, prior, log_likelihood, iterations, False)


# The vote-share start runs too when at least half of the answers come from workers with
# fewer than this many answers per cell of their K x K matrix (see ``_second_start``).
THIN_ANSWERS_PER_CELL = 10


def _thin(workers: IntArray, n_workers: int, n_classes: int) -> bool:
    """Whether at least half of the answers come from workers with fewer than
    ``THIN_ANSWERS_PER_CELL * K * K`` answers (the answer-weighted median worker is thin)."""
    per_worker = np.bincount(workers, minlength=n_workers)
    thin = per_worker < THIN_ANSWERS_PER_CELL * n_classes * n_classes
    return bool(2 * per_worker[thin].sum() >= workers.size)


def _second_start(
    run: _Run,
    em: Callable[[FloatArray], _Run],
    items: IntArray,
    labels: IntArray,
    weight: FloatArray | None,
    g_items: IntArray,
    g_labels: IntArray,
) -> _Run:
    """EM once more, from the plain vote shares (crowd-kit's start); the fit with the
    higher likelihood wins. When workers have few answers each, EM hardly moves from where
    it starts: the first M-step fits each worker's matrix to the start, and the E-step then
    mostly gives the start back. From the sharper soft majority vote, bluebirds cut into
    workers of five answers stayed at majority vote (76.9 %) where the shares reach 84.3 %;
    neither start is the better one everywhere, so both run and the likelihood decides.
    Only for thin batches (``_thin``) with a split vote: with many answers per worker both
    starts end in one place (the 1,000,000-answer synthetic batch: the same labels) and
    the second run would only double the time."""
    n_classes, n_items = run.post.shape
    shares = vote_scores(items, labels, weight, n_items, n_classes).T  # class-major
    shares /= np.maximum(shares.sum(axis=0, keepdims=True), 1e-300)
    if not np.any((shares > 0.0) & (shares < 1.0)):
        # No split vote: the shares are the first start made surer, and the likelier fit
        # from them only trusts the workers more (one worker alone: 0.80, not the prior's
        # 0.75, with nothing in the data to say so).
        return run
    shares[:, g_items] = 0.0
    shares[g_labels, g_items] = 1.0
    other = em(shares)
    return other if _likelier(other.log_likelihood, run.log_likelihood) else run


def _fit(
    method: str,
    items: ArrayLike,
    workers: ArrayLike,
    labels: ArrayLike,
    n_items: int,
    n_workers: int,
    n_classes: int,
    gold_items: ArrayLike | None,
    gold_labels: ArrayLike | None,
    opts: _Options,
) -> CategoricalResult:
    it, wk, lb = check_answers(items, workers, labels, n_items, n_workers, n_classes)
    g_items, g_labels = check_gold(gold_items, gold_labels, n_items, n_classes)
    _check_options(opts.smoothing, opts.tol, opts.max_iter)
    for value, name in (
        (opts.prior_strength, "prior_strength"),
        (opts.skill_strength, "skill_strength"),
    ):
        if value is not None:
            _check_strength(value, name)
    n_answers = np.bincount(it, minlength=n_items).astype(np.intp)
    worker_n_answers = np.bincount(wk, minlength=n_workers).astype(np.intp)
    answered: BoolArray = n_answers > 0
    is_gold = np.zeros(n_items, dtype=np.bool_)
    is_gold[g_items] = True
    known = answered | is_gold
    weight = repeat_weights(it, wk, n_workers)

    # Internally posteriors are class-major, (K, n_items); see _e_step. Start from a soft
    # majority vote: the posterior if every worker were right with the base accuracy
    # (halfway between chance and perfect) and the classes equally likely — so permuting
    # labels permutes the start too, and the start knows each answer's own share of it.
    index = AnswerIndex(it, n_items)
    if it.size and n_classes:
        base = _one_coin_matrix(np.array([pooled_prior_accuracy(n_classes)]), n_classes)
        post, _norm, _log_post = _e_step(
            index,
            lb,
            weight,
            np.log(base),
            np.full(n_classes, -math.log(n_classes)),
        )
    else:
        post = np.zeros((n_classes, n_items))
    post[:, ~answered] = 0.0
    post[:, g_items] = 0.0
    post[g_labels, g_items] = 1.0
    run = _Run(
        post=post,
        confusion=smoothed_rows(np.zeros((n_workers, n_classes, n_classes)), opts.smoothing),
        prior=class_prior_t(np.zeros((n_classes, 0)), opts.smoothing),
        log_likelihood=0.0,
        iterations=0,
        converged=True,
    )
    if it.size and n_classes:
        em_args = (
            index,
            wk * n_classes + lb,
            weight,
            n_workers,
            g_items,
            g_labels,
            np.flatnonzero(~answered),
            answered & ~is_gold,
        )

        def em(start: FloatArray) -> _Run:
            return _em(start, *em_args, opts)

        run = em(post)
        if opts.model != "one_coin" and _thin(wk, n_workers, n_classes):
            run = _second_start(run, em, it, lb, weight, g_items, g_labels)
        if g_items.size:
            # A second start from the gold items alone (every other posterior zero, so the
            # first M-step learns the workers from gold only). When most of the crowd is
            # wrong in the same way, majority vote starts EM in the mirrored solution and
            # gold rows alone cannot pull it out; the gold start can. Keep the better fit.
            gold_only = np.zeros_like(post)
            gold_only[g_labels, g_items] = 1.0
            other = em(gold_only)
            if _likelier(other.log_likelihood, run.log_likelihood):
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
        worker_row_mass=run.mass,
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
    prior_strength: float | None = None,
    skill_strength: float | None = None,
    tol: float = DEFAULT_TOL,
    max_iter: int = DEFAULT_MAX_ITER,
) -> CategoricalResult:
    """Hierarchical Dawid-Skene: a full K x K confusion matrix per worker, shrunk towards the
    pooled matrix at the worker's skill (see the module docstring). ``prior_strength`` and
    ``skill_strength`` (pseudo-answers) are estimated from the data when ``None``.
    ``smoothing`` is only the starting matrices' pseudo-count.

    ``gold_items[j]`` is known to have label ``gold_labels[j]``; those items stay fixed.
    """
    opts = _Options("hier", smoothing, prior_strength, skill_strength, tol, max_iter)
    return _fit(
        "ds",
        items,
        workers,
        labels,
        n_items,
        n_workers,
        n_classes,
        gold_items,
        gold_labels,
        opts,
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
    ``smoothing`` is the Jeffreys pseudo-count of the skills and the class prior.
    """
    opts = _Options("one_coin", smoothing, None, None, tol, max_iter)
    return _fit(
        "ods",
        items,
        workers,
        labels,
        n_items,
        n_workers,
        n_classes,
        gold_items,
        gold_labels,
        opts,
    )
