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

:func:`replay_adaptive` simulates that loop on a finished dataset for the benchmark: it
replays the answers in random order, skips answers to items that were already complete
(those would never have been asked), refits every ``refit_every`` used answers, and finally
aggregates the used answers with one more fit, as the platform does at batch close.

Degenerate cases: an item whose posterior is all zero (no answers yet) must start from the
class prior — :func:`posterior_update` refuses an all-zero posterior instead of guessing;
before the first refit no item completes early (there are no worker estimates yet), only by
reaching ``max_answers``; an item with fewer available answers than ``min_answers`` completes
when they run out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from ._arrays import BoolArray, FloatArray, check_answers, check_size
from .dawid_skene import dawid_skene
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


@dataclass(frozen=True, eq=False)
class ReplayResult:
    """Outcome of :func:`replay_adaptive`.

    ``used[j]`` says whether answer ``j`` (in the caller's order) was asked for; ``result`` is
    the final fit over the used answers only; ``n_refits`` counts the periodic re-fits.
    """

    used: BoolArray
    answers_used: int
    answers_total: int
    result: CategoricalResult
    n_refits: int


def replay_adaptive(
    items: ArrayLike,
    workers: ArrayLike,
    labels: ArrayLike,
    *,
    n_items: int,
    n_workers: int,
    n_classes: int,
    target: float = DEFAULT_TARGET,
    min_answers: int = DEFAULT_MIN_ANSWERS,
    max_answers: int | None = None,
    refit_every: int = DEFAULT_REFIT_EVERY,
    seed: int = 0,
    fit: Fitter = dawid_skene,
) -> ReplayResult:
    """Replay a finished dataset through adaptive redundancy (see the module docstring).

    The answers an item has in the dataset are its supply: ``max_answers`` (default: all of
    them) caps what may be asked. This loop runs once per answer in Python; it is a simulator
    for the benchmark, not the platform's code path, which handles one answer per request.
    """
    it, wk, lb = check_answers(items, workers, labels, n_items, n_workers, n_classes)
    refit_every = check_size(refit_every, "refit_every")
    if refit_every == 0:
        raise ValueError("refit_every must be positive")
    order = np.random.default_rng(seed).permutation(it.size)
    supply = np.bincount(it, minlength=n_items)
    cap = supply if max_answers is None else np.minimum(supply, max_answers)
    used = np.zeros(it.size, dtype=np.bool_)
    asked = np.zeros(n_items, dtype=np.intp)
    complete = cap == 0
    posterior: FloatArray | None = None
    confusion: FloatArray | None = None
    since_refit = 0
    n_refits = 0
    sizes = {"n_items": n_items, "n_workers": n_workers, "n_classes": n_classes}
    for j in order.tolist():
        i = int(it[j])
        if complete[i]:
            continue
        used[j] = True
        asked[i] += 1
        since_refit += 1
        if posterior is not None and confusion is not None:
            posterior[i] = posterior_update(posterior[i], confusion[wk[j]], int(lb[j]))
            complete[i] = item_is_complete(
                float(posterior[i].max()),
                int(asked[i]),
                target=target,
                min_answers=min_answers,
                max_answers=int(cap[i]),
            )
        else:
            complete[i] = asked[i] >= cap[i]
        if since_refit >= refit_every:
            since_refit = 0
            n_refits += 1
            fitted = fit(it[used], wk[used], lb[used], **sizes)
            posterior = fitted.posterior.copy()
            posterior[asked == 0] = fitted.class_prior
            confusion = confusion_for_updates(fitted)
            complete |= items_complete(
                posterior.max(axis=1),
                asked,
                target=target,
                min_answers=min_answers,
                max_answers=cap,
            )
    final = fit(it[used], wk[used], lb[used], **sizes)
    return ReplayResult(
        used=used,
        answers_used=int(used.sum()),
        answers_total=int(it.size),
        result=final,
        n_refits=n_refits,
    )
