"""Adaptive redundancy on the platform: the same stopping rule as the replay and the CLI.

The rule lives in ``aggregation.adaptive`` (:func:`~..aggregation.adaptive.stop_model_fit`,
:func:`~..aggregation.adaptive.stop_confidence`, :func:`~..aggregation.adaptive.may_stop`);
this module only feeds it the batch's stored estimates:

- after every full fit, :func:`fit_stopping` fits the temperature and the prefix
  calibration on the batch's counted answers of the form's primary single-choice field,
  stores them in the fit's model (``model["stop"]``, with the workers flagged as spammers)
  and gives every item its stopping confidence and the number of distinct unflagged
  workers behind its leading answer (``details["stop"]``);
- when an answer arrives, :func:`item_stopping` computes the same two numbers for the
  item from its own answers and the stored estimates.

Both score an answer the fit saw by its worker's matrix without that answer
(``adaptive.fitted_answer_ll``, from the rows' pseudo-answers the fit stores as ``mass`` in
each worker's estimate), so a thin worker's answers do not vouch for themselves.

``item_states.item_has_enough`` then lets an item stop before its maximum only when
``may_stop`` says so. Until the batch can be calibrated (items with at least three times
the minimum answers, ``adaptive.MIN_PREFIX_PAIRS`` of them confident) the stopping
confidence is 0 and no item stops early: a vote of two agreeing answers is not 95 % sure.
A form whose primary field is not single choice keeps the plain rule (its confidence at the
target after the minimum answers).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..aggregation._arrays import rounded, summed_by_row
from ..aggregation.adaptive import (
    DEFAULT_MIN_AGREEING,
    agreeing_workers,
    calibration_from,
    fitted_answer_ll,
    stop_confidence,
    stop_confidences,
    stop_model_fit,
)
from ..fit_results import FitItems
from ..models import Batch
from ..quality import AnswerRow, BatchFit, ItemResult, primary_field, row_confusions

Data = dict[str, Any]


def _single_primary(form: list[dict[str, Any]]) -> dict[str, Any] | None:
    spec = primary_field(form)
    return spec if spec is not None and spec["type"] == "single" else None


def fit_stopping(*, batch: Batch, fit: BatchFit, gold: dict[int, Data]) -> None:
    """Fit the stopping rule after a full fit and write it into ``fit`` (its model, and each
    item's stopping figures into ``fit.columns``: integer arrays from the fit's own
    answers of the field, no Python object per answer or item)."""
    spec = _single_primary(batch.form)
    entry = fit.model.get("fields", {}).get(spec["name"]) if spec else None
    columns = fit.columns
    column = columns.single(spec["name"]) if spec and columns is not None else None
    if spec is None or entry is None or not fit.workers or columns is None or column is None:
        return
    name = spec["name"]
    index = {c: k for k, c in enumerate(entry["classes"])}
    n_items = len(columns.ids)
    it, wk, lb = column.it, column.wk, column.lb
    worker_ids = list(fit.workers)
    estimates = [fit.workers[w].estimate[name] for w in worker_ids]
    confusion = np.stack([np.asarray(e["confusion"]) for e in estimates])
    mass = np.stack([np.asarray(e["mass"]) for e in estimates]) if _with_mass(estimates) else None
    flagged = np.asarray([fit.workers[w].flagged for w in worker_ids], dtype=np.bool_)
    item_pos = {pk: n for n, pk in enumerate(columns.ids.tolist())} if gold else {}
    gold_pairs = sorted(
        (item_pos[i], index[g[name]])
        for i, g in gold.items()
        if i in item_pos and g.get(name) in index
    )
    _t, previous = calibration_from((batch.quality_model or {}).get("stop"))
    model = stop_model_fit(
        np.asarray(entry["prior"], dtype=np.float64),
        confusion,
        it,
        wk,
        lb,
        mass=mass,
        flagged=flagged,
        target=batch.confidence_target,
        min_answers=batch.min_answers,
        min_agreeing=DEFAULT_MIN_AGREEING,
        gold_items=np.asarray([p[0] for p in gold_pairs], dtype=np.intp),
        gold_labels=np.asarray([p[1] for p in gold_pairs], dtype=np.intp),
        previous=previous,
    )
    fit.model["stop"] = {
        "field": name,
        **model.stored(),
        "flagged": [w for w, f in zip(worker_ids, flagged.tolist(), strict=True) if f],
    }
    leader, conf = stop_confidences(
        model.prior,
        summed_by_row(model.answer_ll, it, n_items),
        model.answer_ll,
        it,
        model.temperature,
        model.calibration,
    )
    ok = ~flagged[wk]
    agree = agreeing_workers(it[ok], wk[ok], lb[ok], n_items=n_items, n_classes=len(index))
    columns.stop_confidence = rounded(conf, 6)
    columns.stop_agreeing = agree[np.arange(n_items), leader]
    for pk, result in fit.items.built().items() if isinstance(fit.items, FitItems) else ():
        n = columns.position(pk)
        if result.details is not None:
            result.details["stop"] = {
                "confidence": columns.stop_confidence[n],
                "agreeing": int(columns.stop_agreeing[n]),
            }


def _with_mass(estimates: list[dict[str, Any]]) -> bool:
    """Whether every worker's estimate has its rows' pseudo-answers (the hierarchical
    Dawid-Skene's; other methods and fits stored before them have none)."""
    return bool(estimates) and all(e.get("mass") is not None for e in estimates)


def item_stopping(*, batch: Batch, rows: list[AnswerRow], result: ItemResult) -> None:
    """The item's stopping confidence and agreeing workers from its own answers and the last
    fit's stored estimates, written into ``result.details["stop"]``."""
    spec = _single_primary(batch.form)
    if spec is None or result.details is None:
        return
    name = spec["name"]
    model = batch.quality_model or {}
    entry = model.get("fields", {}).get(name)
    stop = model.get("stop") or {}
    temperature, calibration = calibration_from(stop)
    classes = entry["classes"] if entry else [c["value"] for c in spec.get("choices", [])]
    index = {c: k for k, c in enumerate(classes)}
    used = [r for r in rows if r.data.get(name) in index]
    flagged = set(stop.get("flagged", []))
    if entry is None or calibration is None or not used:
        result.details["stop"] = {"confidence": 0.0, "agreeing": 0}
        return
    prior = np.maximum(np.asarray(entry["prior"], dtype=np.float64), 1e-12)
    lls = _rows_evidence(batch=batch, name=name, entry=entry, index=index, used=used, prior=prior)
    leader, conf = stop_confidence(prior, lls, temperature, calibration)
    behind = {
        r.worker_id for r in used if index[r.data[name]] == leader and r.worker_id not in flagged
    }
    result.details["stop"] = {"confidence": round(conf, 6), "agreeing": len(behind)}


def _rows_evidence(
    *,
    batch: Batch,
    name: str,
    entry: dict[str, Any],
    index: dict[str, int],
    used: list[AnswerRow],
    prior: np.ndarray,
) -> np.ndarray:
    """``(n, K)``: each answer's evidence as the full fit scores it. The answers the last
    fit saw (ids up to ``fit_through``, their workers' estimates with row pseudo-answers)
    without themselves (``fitted_answer_ll``), the newer ones by their workers' matrices:
    the evidence the calibration was fitted on."""
    k = len(index)
    stack, own = row_confusions(used, name, entry)
    masses: dict[int, np.ndarray] = {}  # position of a fitted answer → its row masses
    for n, r in enumerate(used):
        mass = np.asarray((r.estimate or {}).get(name, {}).get("mass") or [], dtype=np.float64)
        fitted = r.answer_id is not None and r.answer_id <= batch.fit_through
        if own[n] and fitted and mass.shape == (k,):
            masses[n] = mass
    labels = np.asarray([index[r.data[name]] for r in used], dtype=np.intp)
    lls = np.log(np.maximum(stack[np.arange(len(used)), :, labels], 1e-300))
    if masses:
        at = np.asarray(list(masses), dtype=np.intp)
        lls[at] = fitted_answer_ll(
            prior,
            stack[at],
            np.stack(list(masses.values())),
            np.zeros(at.size, dtype=np.intp),
            np.arange(at.size),
            labels[at],
        )
    return lls
