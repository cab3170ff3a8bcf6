"""Adaptive redundancy: per-answer posterior updates, the completion rule and the replay.

No database.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trefpunt.microtasks.aggregation import (
    confusion_for_updates,
    dawid_skene,
    item_is_complete,
    item_posterior,
    items_complete,
    pooled_confusion,
    posterior_update,
    replay_adaptive,
)
from trefpunt.microtasks.aggregation.adaptive import (
    agreeing_workers,
    answer_log_likelihoods,
    fit_stop_calibration,
    fit_temperature,
    fitted_answer_ll,
    tempered_posterior,
)
from trefpunt.microtasks.aggregation.synthetic import one_coin_confusions, sample_answers


def strong_crowd(seed: int, answers_per_item: int = 12):
    rng = np.random.default_rng(seed)
    confusion = one_coin_confusions(rng, rng.uniform(0.8, 0.95, size=30), 2)
    return sample_answers(
        rng, confusion, [0.5, 0.5], n_items=400, answers_per_item=answers_per_item
    )


def test_posterior_update_applies_bayes_rule() -> None:
    confusion = np.array([[0.9, 0.1], [0.2, 0.8]])
    updated = posterior_update([0.5, 0.5], confusion, 1)
    assert np.allclose(updated, [0.1 / 0.9, 0.8 / 0.9])


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 3), st.integers(0, 2)), min_size=1, max_size=30),
    st.randoms(use_true_random=False),
)
def test_sequential_updates_equal_the_batch_posterior_in_any_order(answers, rnd) -> None:
    rng = np.random.default_rng(rnd.randint(0, 2**32 - 1))
    confusion = rng.dirichlet(np.ones(3), size=(4, 3))
    prior = rng.dirichlet(np.ones(3))
    shuffled = rnd.sample(answers, len(answers))
    post = prior
    for worker, label in shuffled:
        post = posterior_update(post, confusion[worker], label)
    workers = [a[0] for a in answers]
    labels = [a[1] for a in answers]
    assert np.allclose(post, item_posterior(prior, confusion, workers, labels), atol=1e-9)


def test_posterior_update_keeps_ruled_out_classes_at_zero() -> None:
    updated = posterior_update([0.0, 1.0], np.array([[0.9, 0.1], [0.1, 0.9]]), 0)
    assert updated.tolist() == [0.0, 1.0]


def test_posterior_update_refuses_an_all_zero_posterior() -> None:
    with pytest.raises(ValueError, match="prior"):
        posterior_update([0.0, 0.0], np.eye(2), 0)


def test_item_posterior_survives_many_confident_answers() -> None:
    confusion = np.tile(np.array([[0.999, 0.001], [0.001, 0.999]]), (1, 1, 1))
    post = item_posterior([0.5, 0.5], confusion, np.zeros(500, dtype=int), np.zeros(500, dtype=int))
    assert np.all(np.isfinite(post))
    assert post[0] == pytest.approx(1.0)


def test_item_is_not_complete_before_min_answers_even_when_confident() -> None:
    assert not item_is_complete(0.999, 2, target=0.95, min_answers=3)
    assert item_is_complete(0.999, 3, target=0.95, min_answers=3)


def test_item_is_complete_at_max_answers_even_when_uncertain() -> None:
    assert not item_is_complete(0.6, 9, target=0.95, min_answers=3, max_answers=10)
    assert item_is_complete(0.6, 10, target=0.95, min_answers=3, max_answers=10)


def test_item_is_complete_when_the_target_is_reached() -> None:
    assert not item_is_complete(0.9499, 5)
    assert item_is_complete(0.95, 5)


def test_items_complete_takes_per_item_maximums() -> None:
    done = items_complete([0.5, 0.5, 0.99], [2, 4, 3], min_answers=3, max_answers=[2, 5, 9])
    assert done.tolist() == [True, False, True]


def test_items_complete_rejects_a_target_outside_zero_to_one() -> None:
    with pytest.raises(ValueError, match="target"):
        items_complete([0.5], [1], target=1.5)


def test_unseen_workers_get_the_pooled_confusion() -> None:
    result = dawid_skene(
        [0, 0, 1, 1], [0, 1, 0, 1], [0, 0, 1, 1], n_items=2, n_workers=3, n_classes=2
    )
    conf = confusion_for_updates(result)
    assert np.allclose(conf[2], pooled_confusion(result))
    assert np.allclose(conf[:2], result.worker_confusion[:2])
    assert conf[2, 0, 0] > 0.5


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_replay_stops_confident_items_early_but_never_before_min_answers(seed: int) -> None:
    data = strong_crowd(seed)
    replay = replay_adaptive(
        data.items,
        data.workers,
        data.labels,
        n_items=400,
        n_workers=30,
        n_classes=2,
        min_answers=3,
        target=0.95,
        refit_every=300,
        seed=seed,
    )
    used_per_item = np.bincount(data.items[replay.used], minlength=400)
    assert used_per_item.min() >= 3
    assert np.mean(used_per_item < 12) > 0.8
    # Calibration needs items with many answers first, so the saving starts late.
    assert replay.answers_used < 0.75 * replay.answers_total
    assert replay.n_refits >= 1
    assert np.mean(replay.result.labels == data.truth) >= 0.97


def test_replay_with_unreachable_target_uses_every_answer() -> None:
    data = strong_crowd(5, answers_per_item=4)
    replay = replay_adaptive(
        data.items,
        data.workers,
        data.labels,
        n_items=400,
        n_workers=30,
        n_classes=2,
        target=1.0,
        refit_every=100,
    )
    assert replay.answers_used == replay.answers_total
    assert replay.used.all()


def test_replay_respects_max_answers() -> None:
    data = strong_crowd(6)
    replay = replay_adaptive(
        data.items,
        data.workers,
        data.labels,
        n_items=400,
        n_workers=30,
        n_classes=2,
        target=1.0,
        max_answers=5,
        refit_every=100,
    )
    assert np.bincount(data.items[replay.used], minlength=400).max() == 5


def test_replay_of_no_answers_is_empty() -> None:
    replay = replay_adaptive([], [], [], n_items=2, n_workers=1, n_classes=2)
    assert replay.answers_used == 0
    assert replay.result.labels.tolist() == [-1, -1]


def _hard_items_dataset(seed: int):
    """Good workers, but on a fifth of the items most of them are fooled the same way:
    answers are not independent given the class, so Dawid-Skene is over-confident there."""
    rng = np.random.default_rng(seed)
    conf = one_coin_confusions(rng, np.full(30, 0.85), 2)
    data = sample_answers(rng, conf, np.array([0.5, 0.5]), n_items=600, answers_per_item=7)
    labels = data.labels.copy()
    hard = rng.random(600) < 0.2
    fooled = hard[data.items] & (rng.random(labels.size) < 0.6)
    labels[fooled] = 1 - data.truth[data.items[fooled]]
    return data, labels


def test_temperature_fitted_on_gold_discounts_correlated_evidence() -> None:
    data, labels = _hard_items_dataset(4)
    sizes = {"n_items": 600, "n_workers": 30, "n_classes": 2}
    fitted = dawid_skene(data.items, data.workers, labels, **sizes)
    gold = np.arange(100)
    t = fit_temperature(
        fitted, data.items, data.workers, labels, gold_items=gold, gold_labels=data.truth[gold]
    )
    assert t > 1.0
    # With independent answers there is nothing to discount.
    clean = dawid_skene(data.items, data.workers, data.labels, **sizes)
    t_clean = fit_temperature(
        clean, data.items, data.workers, data.labels, gold_items=gold, gold_labels=data.truth[gold]
    )
    assert t_clean < t


def test_tempered_posterior_at_one_is_the_model_posterior() -> None:
    data = strong_crowd(5, answers_per_item=4)
    items, workers, labels = data.items, data.workers, data.labels
    result = dawid_skene(items, workers, labels, n_items=400, n_workers=30, n_classes=2)
    summed = np.zeros((400, 2))
    np.add.at(summed, items, answer_log_likelihoods(result, workers, labels))
    assert np.allclose(tempered_posterior(result.class_prior, summed, 1.0), result.posterior)
    flat = tempered_posterior(result.class_prior, summed, math.inf)
    assert np.allclose(flat, result.class_prior)


def test_agreeing_workers_counts_each_worker_once() -> None:
    agree = agreeing_workers(
        [0, 0, 0, 0, 1], [3, 3, 4, 5, 3], [1, 1, 1, 0, 0], n_items=2, n_classes=2
    )
    assert agree.tolist() == [[1, 2], [1, 0]]


def test_replay_stops_only_with_enough_agreeing_workers() -> None:
    data, labels = _hard_items_dataset(6)
    replay = replay_adaptive(
        data.items,
        data.workers,
        labels,
        n_items=600,
        n_workers=30,
        n_classes=2,
        target=0.95,
        min_agreeing=3,
        refit_every=200,
        seed=1,
        calibrate=False,
    )
    used = replay.used
    agree = agreeing_workers(
        data.items[used], data.workers[used], labels[used], n_items=600, n_classes=2
    )
    stopped = np.flatnonzero(replay.stopped_early)
    assert stopped.size > 0
    leading = agree[stopped].max(axis=1)
    assert np.all(leading >= 3)
    assert np.all(replay.stated[stopped] >= 0.95)
    assert replay.answers_used < replay.answers_total


def test_leave_one_out_needs_a_lead_that_survives_losing_its_strongest_answer() -> None:
    data, labels = _hard_items_dataset(7)
    kwargs: dict[str, Any] = {
        "n_items": 600,
        "n_workers": 30,
        "n_classes": 2,
        "refit_every": 200,
        "seed": 2,
    }
    kwargs["calibrate"] = False
    loose = replay_adaptive(data.items, data.workers, labels, leave_one_out=False, **kwargs)
    robust = replay_adaptive(data.items, data.workers, labels, **kwargs)
    assert robust.answers_used > loose.answers_used
    wrong_loose = np.mean(
        loose.result.labels[loose.stopped_early] != data.truth[loose.stopped_early]
    )
    wrong_robust = np.mean(
        robust.result.labels[robust.stopped_early] != data.truth[robust.stopped_early]
    )
    assert wrong_robust < wrong_loose


def _calibration_for(items, workers, labels, n_items):
    result = dawid_skene(items, workers, labels, n_items=n_items, n_workers=30, n_classes=2)
    ll = answer_log_likelihoods(result, workers, labels)
    return fit_stop_calibration(result.class_prior, ll, items, labels, 1.0, target=0.95)


def test_stop_calibration_discounts_confidence_where_correlated_errors_hide() -> None:
    rng = np.random.default_rng(9)
    conf = one_coin_confusions(rng, np.full(30, 0.85), 2)
    data = sample_answers(rng, conf, np.array([0.5, 0.5]), n_items=600, answers_per_item=12)
    clean = _calibration_for(data.items, data.workers, data.labels, 600)
    labels = data.labels.copy()
    hard = rng.random(600) < 0.2
    # On hard items the first answers (in any order) are fooled together half the time.
    fooled = hard[data.items] & (rng.random(labels.size) < 0.5)
    labels[fooled] = 1 - data.truth[data.items[fooled]]
    dirty = _calibration_for(data.items, data.workers, labels, 600)
    assert clean is not None and dirty is not None
    grid = np.array([0.99, 0.999])
    assert np.all(dirty(grid) <= grid)
    assert np.all(dirty(grid) < clean(grid))
    assert dirty(np.array([0.999]))[0] < 0.98


def test_stop_calibration_needs_enough_items_to_speak() -> None:
    data = strong_crowd(3, answers_per_item=4)
    assert _calibration_for(data.items[:400], data.workers[:400], data.labels[:400], 400) is None


def test_one_stopping_rule_per_item_and_per_batch() -> None:
    """The platform's per-answer path (``stop_confidence`` on one item's answers) gives the
    confidence the replay and the full fit give the same item (``stop_confidences`` on all
    of them), and the stored form of the model round-trips."""
    from trefpunt.microtasks.aggregation.adaptive import (
        calibration_from,
        may_stop,
        stop_confidence,
        stop_confidences,
        stop_model_fit,
    )

    data = strong_crowd(4)
    sizes = {"n_items": 400, "n_workers": 30, "n_classes": 2}
    fitted = dawid_skene(data.items, data.workers, data.labels, **sizes)
    model = stop_model_fit(
        fitted.class_prior,
        confusion_for_updates(fitted),
        data.items,
        data.workers,
        data.labels,
        target=0.95,
    )
    assert model.calibration is not None and math.isfinite(model.temperature)
    answer_ll = np.log(model.confusion[data.workers, :, data.labels])
    loglik = np.zeros((400, 2))
    np.add.at(loglik, data.items, answer_ll)
    leaders, confs = stop_confidences(
        model.prior, loglik, answer_ll, data.items, model.temperature, model.calibration
    )
    temperature, calibration = calibration_from(model.stored())
    assert temperature == model.temperature
    for i in (0, 17, 399):
        mine = data.items == i
        leader, conf = stop_confidence(model.prior, answer_ll[mine], temperature, calibration)
        assert leader == leaders[i]
        assert conf == pytest.approx(confs[i], abs=1e-6)
    assert confs.max() >= 0.95  # a strong crowd stops items early once calibrated
    assert may_stop(confs, 12, 3, target=0.95).any()
    assert not may_stop(confs, 12, 2, target=0.95).any()  # two agreeing workers never do
    assert not may_stop(confs, 2, 3, target=0.95, min_answers=3).any()
    # Without a calibration nothing stops early.
    assert stop_confidence(model.prior, answer_ll[data.items == 0], 1.0, None)[1] == 0.0
    assert calibration_from(None)[1] is None


def test_a_fitted_answer_is_scored_by_its_workers_matrix_without_itself() -> None:
    # Each answer put its question's posterior into its worker's row counts; taken out
    # again, every cell it scores is at most the fitted one, most for the question's likely
    # class. A worker with a very large row mass is not moved; without masses the fitted
    # matrices stand.
    rng = np.random.default_rng(4)
    confusion = one_coin_confusions(rng, rng.uniform(0.6, 0.95, size=40), 3)
    data = sample_answers(rng, confusion, [0.5, 0.3, 0.2], n_items=60, answers_per_item=5)
    sizes = {"n_items": data.n_items, "n_workers": 40, "n_classes": 3}
    fit = dawid_skene(data.items, data.workers, data.labels, **sizes)
    assert fit.worker_row_mass is not None
    args = (fit.class_prior, fit.worker_confusion)
    answers = (data.items, data.workers, data.labels)
    fitted = np.log(fit.worker_confusion[data.workers, :, data.labels])
    without = fitted_answer_ll(*args, fit.worker_row_mass, *answers)
    assert np.all(without <= fitted + 1e-12)
    drop = fitted - without
    likely = fit.posterior[data.items].argmax(axis=1)
    rows = np.arange(data.items.size)
    assert np.all(drop[rows, likely] > 0)
    assert np.mean(drop[rows, likely] >= drop.max(axis=1) - 1e-12) > 0.9
    assert np.array_equal(fitted_answer_ll(*args, None, *answers), fitted)
    huge = np.full_like(fit.worker_row_mass, 1e12)
    assert np.allclose(fitted_answer_ll(*args, huge, *answers), fitted, atol=1e-9)
