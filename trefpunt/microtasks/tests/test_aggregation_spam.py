"""Gold scoring (Wilson intervals) and spammer detection. No database."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trefpunt.microtasks.aggregation import (
    dawid_skene,
    detect_spammers,
    gold_scores,
    spammer_scores,
    weights_from_gold,
    wilson_interval,
)
from trefpunt.microtasks.aggregation.synthetic import one_coin_confusions, sample_answers


def crowd_with_one_random_and_one_constant_worker(seed: int):
    """20 good workers, worker 20 answers uniformly at random, worker 21 always answers 0."""
    rng = np.random.default_rng(seed)
    confusion = one_coin_confusions(rng, np.full(22, 0.85), 3)
    confusion[20] = 1.0 / 3
    confusion[21] = [1.0, 0.0, 0.0]
    return sample_answers(rng, confusion, [0.4, 0.3, 0.3], n_items=600, answers_per_item=5)


def test_wilson_interval_matches_known_values() -> None:
    lower, upper = wilson_interval([8, 0, 10], [10, 10, 10])
    assert lower[0] == pytest.approx(0.4902, abs=1e-4)
    assert upper[0] == pytest.approx(0.9433, abs=1e-4)
    assert lower[1] == 0.0
    assert upper[2] == pytest.approx(1.0)


def test_wilson_interval_without_trials_is_uninformative() -> None:
    lower, upper = wilson_interval([0], [0])
    assert lower[0] == 0.0
    assert upper[0] == 1.0


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 500).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_wilson_interval_contains_the_observed_share(counts) -> None:
    successes, trials = counts
    lower, upper = wilson_interval([successes], [trials])
    assert 0.0 <= lower[0] <= successes / trials <= upper[0] <= 1.0


def test_gold_scores_count_each_workers_gold_answers() -> None:
    # Items 0 and 1 are gold (labels 1 and 0); item 2 is not.
    scores = gold_scores(
        [0, 1, 2, 0, 1, 2],
        [0, 0, 0, 1, 1, 1],
        [1, 0, 1, 0, 0, 1],
        gold_items=[0, 1],
        gold_labels=[1, 0],
        n_items=3,
        n_workers=3,
        n_classes=2,
    )
    assert scores.n_gold.tolist() == [2, 2, 0]
    assert scores.n_correct.tolist() == [2, 1, 0]
    assert scores.accuracy.tolist() == [1.0, 0.5, 0.0]
    assert scores.lower[2] == 0.0
    assert scores.upper[2] == 1.0
    assert scores.chance == 0.5


def test_weights_from_gold_replace_fallback_only_for_workers_with_gold() -> None:
    scores = gold_scores(
        [0, 0], [0, 1], [1, 0], gold_items=[0], gold_labels=[1], n_items=1, n_workers=3, n_classes=2
    )
    weights = weights_from_gold(scores, [7.0, 7.0, 7.0], 2)
    assert weights[0] > 0.0
    assert weights[1] == 0.0
    assert weights[2] == 7.0


def test_spammer_score_is_one_for_perfect_and_zero_for_rank_one() -> None:
    perfect = np.eye(3)
    constant = np.tile([0.2, 0.5, 0.3], (3, 1))
    scores = spammer_scores(np.stack([perfect, constant]))
    assert scores[0] == pytest.approx(1.0)
    assert scores[1] == pytest.approx(0.0)


@settings(max_examples=100, deadline=None)
@given(st.floats(0.0, 1.0), st.floats(0.0, 1.0))
def test_spammer_score_for_two_classes_is_squared_youden_index(sensitivity, specificity) -> None:
    confusion = np.array([[[specificity, 1 - specificity], [1 - sensitivity, sensitivity]]])
    assert spammer_scores(confusion)[0] == pytest.approx((sensitivity + specificity - 1) ** 2)


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_random_and_constant_workers_are_flagged_and_good_ones_are_not(seed: int) -> None:
    data = crowd_with_one_random_and_one_constant_worker(seed)
    result = dawid_skene(
        data.items, data.workers, data.labels, n_items=600, n_workers=22, n_classes=3
    )
    report = detect_spammers(result)
    assert bool(report.flagged[20])
    assert bool(report.flagged[21])
    assert not report.flagged[:20].any()
    assert report.score[:20].min() > report.score[20:].max()


def test_spammer_needs_enough_answers_before_being_flagged() -> None:
    data = crowd_with_one_random_and_one_constant_worker(1)
    result = dawid_skene(
        data.items, data.workers, data.labels, n_items=600, n_workers=22, n_classes=3
    )
    report = detect_spammers(result, min_answers=int(result.worker_n_answers.max()) + 1)
    assert not report.flagged.any()


def test_worker_at_chance_on_gold_is_flagged_and_a_good_one_is_not() -> None:
    rng = np.random.default_rng(4)
    n_gold = 30
    truth = rng.integers(0, 2, n_gold)
    guesser = rng.integers(0, 2, n_gold)
    careful = np.where(rng.random(n_gold) < 0.9, truth, 1 - truth)
    items = np.concatenate([np.arange(n_gold), np.arange(n_gold)])
    workers = np.repeat([0, 1], n_gold)
    labels = np.concatenate([guesser, careful])
    sizes = {"n_items": n_gold, "n_workers": 2, "n_classes": 2}
    result = dawid_skene(items, workers, labels, **sizes)
    gold = gold_scores(
        items, workers, labels, gold_items=np.arange(n_gold), gold_labels=truth, **sizes
    )
    report = detect_spammers(result, gold=gold, min_answers=10**6)
    assert report.by_gold.tolist() == [True, False]
    assert report.flagged.tolist() == [True, False]


def test_gold_flags_wait_for_enough_gold_answers() -> None:
    sizes = {"n_items": 3, "n_workers": 1, "n_classes": 2}
    result = dawid_skene([0, 1, 2], [0, 0, 0], [1, 1, 1], **sizes)
    gold = gold_scores(
        [0, 1, 2], [0, 0, 0], [1, 1, 1], gold_items=[0, 1, 2], gold_labels=[0, 0, 0], **sizes
    )
    report = detect_spammers(result, gold=gold)
    assert not report.by_gold[0]


def test_nobody_is_flagged_with_a_single_class() -> None:
    result = dawid_skene(
        np.arange(30),
        np.zeros(30, dtype=int),
        np.zeros(30, dtype=int),
        n_items=30,
        n_workers=1,
        n_classes=1,
    )
    report = detect_spammers(result, min_answers=1)
    assert report.score.tolist() == [1.0]
    assert not report.flagged.any()
