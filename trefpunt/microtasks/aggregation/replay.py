"""Replay a finished dataset through adaptive redundancy, with the platform's stopping rule
(:mod:`.adaptive`): the simulator behind ``trefpunt aggregate --replay-adaptive`` and the
benchmark. It runs once per answer in Python; the platform's own code path handles one answer
per request."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from ._arrays import BoolArray, FloatArray, IntArray, check_answers, check_size, summed_by_row
from .adaptive import (
    DEFAULT_MIN_AGREEING,
    DEFAULT_MIN_ANSWERS,
    DEFAULT_REFIT_EVERY,
    DEFAULT_TARGET,
    Fitter,
    StopCalibration,
    agreeing_workers,
    confusion_for_updates,
    may_stop,
    stop_confidences,
    stop_model_fit,
    tempered_posterior,
)
from .dawid_skene import dawid_skene
from .results import CategoricalResult
from .spam import detect_spammers


@dataclass(frozen=True, eq=False)
class ReplayResult:
    """Outcome of :func:`replay_adaptive`.

    ``used[j]`` says whether answer ``j`` (in the caller's order) was asked for; ``result`` is
    the final fit over the used answers only; ``confidence`` its calibrated confidence per
    item (the fit's posterior tempered with ``temperature``); ``stated`` the calibrated
    confidence each item had when it last stopped (0 for items that ran out of answers
    first), for the reliability table; ``n_refits`` counts the periodic re-fits.
    """

    used: BoolArray
    answers_used: int
    answers_total: int
    result: CategoricalResult
    confidence: FloatArray
    temperature: float
    stated: FloatArray
    stopped_early: BoolArray
    n_refits: int


@dataclass
class _Stopping:
    """The replay's view of the platform's stopping state between two fits."""

    prior: FloatArray
    confusion: FloatArray
    temperature: float
    flagged: BoolArray
    loglik: FloatArray  # (n_items, K) summed evidence of the fitted answers
    fitted_ll: FloatArray  # (n_fitted, K) each fitted answer's evidence, without itself
    calibration: StopCalibration | None = None


def _refit(
    fit: Fitter,
    it: IntArray,
    wk: IntArray,
    lb: IntArray,
    sizes: dict[str, int],
    gold: dict[str, IntArray],
    stop: dict[str, Any] | None = None,
    previous: StopCalibration | None = None,
) -> tuple[CategoricalResult, _Stopping]:
    fitted = fit(it, wk, lb, **sizes, **gold)
    model = stop_model_fit(
        fitted.class_prior,
        confusion_for_updates(fitted),
        it,
        wk,
        lb,
        mass=fitted.worker_row_mass,
        flagged=detect_spammers(fitted).flagged,
        calibrate=stop is not None,
        previous=previous,
        gold_items=gold.get("gold_items"),
        gold_labels=gold.get("gold_labels"),
        **(stop or {}),
    )
    loglik = summed_by_row(model.answer_ll, it, sizes["n_items"])
    state = _Stopping(
        prior=model.prior,
        confusion=model.confusion,
        temperature=model.temperature,
        flagged=model.flagged,
        loglik=loglik,
        fitted_ll=model.answer_ll,
        calibration=model.calibration,
    )
    return fitted, state


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
    min_agreeing: int = DEFAULT_MIN_AGREEING,
    max_answers: int | None = None,
    refit_every: int = DEFAULT_REFIT_EVERY,
    seed: int = 0,
    leave_one_out: bool = True,
    calibrate: bool = True,
    gold_items: ArrayLike | None = None,
    gold_labels: ArrayLike | None = None,
    fit: Fitter = dawid_skene,
) -> ReplayResult:
    """Replay a finished dataset through calibrated adaptive redundancy.

    The answers are replayed in random order (``seed``); an answer to an item that has
    stopped is skipped (it would never have been asked). After each answer the item's
    calibrated confidence — the posterior from the last fit's class prior and worker
    matrices, the evidence divided by the fitted temperature (:func:`fit_temperature`) —
    is compared with ``target``; the item stops when it also has ``min_answers`` answers and
    ``min_agreeing`` distinct workers not flagged as spammers gave the leading answer, or
    when its supply (its answers in the file, at most ``max_answers``) runs out. With
    ``leave_one_out`` (the default) the confidence is the lowest the leader keeps when any
    one of the item's answers is left out: a lead that rests on one answer the model trusts
    too much (a correlated error, an over-rated worker) does not stop the item. Every
    ``refit_every`` used answers a full fit refreshes the estimates and re-decides every
    item: one whose confidence fell below the target reopens while it has supply left (as
    the platform does after a fit). Before the first fit no item stops early.

    The answers an item has in the dataset are its supply. This loop runs once per answer
    in Python; it is a simulator for the benchmark and the CLI, not the platform's code
    path, which handles one answer per request.
    """
    it, wk, lb = check_answers(items, workers, labels, n_items, n_workers, n_classes)
    refit_every = check_size(refit_every, "refit_every")
    if refit_every == 0:
        raise ValueError("refit_every must be positive")
    if not 0.0 < target <= 1.0:
        raise ValueError(f"target must lie in (0, 1], got {target!r}")
    gold: dict[str, IntArray] = {}
    if gold_items is not None and gold_labels is not None:
        gold = {
            "gold_items": np.asarray(gold_items, dtype=np.intp),
            "gold_labels": np.asarray(gold_labels, dtype=np.intp),
        }
    stop: dict[str, Any] | None = None
    if calibrate:
        stop = {
            "target": target,
            "min_answers": min_answers,
            "min_agreeing": min_agreeing,
            "seed": seed,
        }
    supply = np.bincount(it, minlength=n_items)
    replay = _Replay(
        it,
        wk,
        lb,
        sizes={"n_items": n_items, "n_workers": n_workers, "n_classes": n_classes},
        cap=supply if max_answers is None else np.minimum(supply, max_answers),
        rule=_Rule(target, min_answers, min_agreeing, leave_one_out, calibrate),
    )
    since_refit = 0
    n_refits = 0
    for j in np.random.default_rng(seed).permutation(it.size).tolist():
        if not replay.record(j):
            continue
        since_refit += 1
        if since_refit >= refit_every:
            since_refit = 0
            n_refits += 1
            replay.refit(fit, gold, stop)
    used = replay.used
    final, last = _refit(fit, it[used], wk[used], lb[used], replay.sizes, gold)
    calibrated = tempered_posterior(last.prior, last.loglik, last.temperature)
    confidence = np.where(final.labels >= 0, calibrated[np.arange(n_items), final.labels], 0.0)
    return ReplayResult(
        used=used,
        answers_used=int(used.sum()),
        answers_total=int(it.size),
        result=final,
        confidence=confidence,
        temperature=last.temperature,
        stated=replay.stated,
        stopped_early=replay.early,
        n_refits=n_refits,
    )


@dataclass(frozen=True)
class _Rule:
    """The stopping rule's settings for one replay."""

    target: float
    min_answers: int
    min_agreeing: int
    leave_one_out: bool
    calibrate: bool


class _Replay:
    """The per-answer state of :func:`replay_adaptive` between two fits."""

    def __init__(
        self,
        it: IntArray,
        wk: IntArray,
        lb: IntArray,
        *,
        sizes: dict[str, int],
        cap: IntArray,
        rule: _Rule,
    ) -> None:
        n_items, n_classes = sizes["n_items"], sizes["n_classes"]
        self.it, self.wk, self.lb = it, wk, lb
        self.sizes = sizes
        self.cap = cap
        self.rule = rule
        self.used = np.zeros(it.size, dtype=np.bool_)
        self.asked = np.zeros(n_items, dtype=np.intp)
        self.complete = cap == 0
        self.early = np.zeros(n_items, dtype=np.bool_)
        self.stated = np.zeros(n_items)
        self.voters: set[tuple[int, int, int]] = set()
        self.agree = np.zeros((n_items, n_classes), dtype=np.intp)
        self.state: _Stopping | None = None
        self.answer_ll = np.zeros((it.size, n_classes))
        self.on_item: list[list[int]] = [[] for _ in range(n_items)]

    def record(self, j: int) -> bool:
        """Ask answer ``j`` unless its item has stopped; say whether it was asked."""
        i = int(self.it[j])
        if self.complete[i]:
            return False
        self.used[j] = True
        self.asked[i] += 1
        w, label = int(self.wk[j]), int(self.lb[j])
        if (i, w, label) not in self.voters:
            self.voters.add((i, w, label))
            if self.state is None or not self.state.flagged[w]:
                self.agree[i, label] += 1
        self.on_item[i].append(j)
        if self.state is None:
            self.complete[i] = self.asked[i] >= self.cap[i]
            return True
        self.answer_ll[j] = np.log(self.state.confusion[w, :, label])
        self.state.loglik[i] += self.answer_ll[j]
        self.decide(np.array([i]))
        return True

    def refit(self, fit: Fitter, gold: dict[str, IntArray], stop: dict[str, Any] | None) -> None:
        """Refresh the estimates from every used answer and re-decide every asked item."""
        used, it, wk, lb = self.used, self.it, self.wk, self.lb
        previous = self.state.calibration if self.state is not None else None
        # Stopped items no longer feed the calibration; the last one fitted is kept.
        _fitted, state = _refit(fit, it[used], wk[used], lb[used], self.sizes, gold, stop, previous)
        self.state = state
        self.answer_ll[used] = state.fitted_ll
        counted = used & ~state.flagged[wk]
        self.agree = agreeing_workers(
            it[counted],
            wk[counted],
            lb[counted],
            n_items=self.sizes["n_items"],
            n_classes=self.sizes["n_classes"],
        )
        self.decide(np.flatnonzero(self.asked > 0))

    def decide(self, rows: IntArray) -> None:
        state, rule = self.state, self.rule
        assert state is not None
        js = self._answers_of(rows)
        pos = np.full(self.sizes["n_items"], -1, dtype=np.intp)
        pos[rows] = np.arange(rows.size)
        leader, conf = stop_confidences(
            state.prior,
            state.loglik[rows],
            self.answer_ll[js],
            pos[self.it[js]],
            state.temperature,
            state.calibration,
            leave_one_out=rule.leave_one_out,
            calibrate=rule.calibrate,
        )
        sure = may_stop(
            conf,
            self.asked[rows],
            self.agree[rows, leader],
            target=rule.target,
            min_answers=rule.min_answers,
            min_agreeing=rule.min_agreeing,
        )
        out = self.cap[rows] <= self.asked[rows]
        self.complete[rows] = sure | out
        self.early[rows] = sure & ~out
        self.stated[rows] = np.where(sure, conf, 0.0)

    def _answers_of(self, rows: IntArray) -> IntArray:
        """The used answers of the items ``rows``."""
        if rows.size == 1:
            return np.asarray(self.on_item[int(rows[0])], dtype=np.intp)
        inside = np.zeros(self.sizes["n_items"], dtype=np.bool_)
        inside[rows] = True
        return np.flatnonzero(self.used & inside[self.it])
