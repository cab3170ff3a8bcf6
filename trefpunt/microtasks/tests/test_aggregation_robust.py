"""The default aggregator on the conditions issue 14 names: small batches, thin workers,
repeated answers. Pure numpy, fixed seeds (statistical checks on a fixed sequence, so they
cannot flake)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from trefpunt.microtasks.aggregation import (
    dawid_skene,
    majority_vote,
    one_coin_dawid_skene,
    weighted_majority_vote,
)
from trefpunt.microtasks.aggregation._arrays import count_repeats, repeat_weights
from trefpunt.microtasks.aggregation.dawid_skene import hierarchical_confusion
from trefpunt.microtasks.aggregation.synthetic import mixed_skill_confusions, sample_answers

VOTES = [majority_vote, weighted_majority_vote, dawid_skene]


def small_batches(seed: int, n_batches: int, n_classes: int):
    """Batches of 3-12 questions x 3 answers from a crowd of mixed skill, as a self-hosted
    platform mostly sees them: every worker answers one to a few questions."""
    rng = np.random.default_rng(seed)
    crowd = mixed_skill_confusions(rng, 60, n_classes)
    prior = rng.dirichlet(np.full(n_classes, 3.0))
    for _ in range(n_batches):
        n_items = int(rng.integers(3, 13))
        yield sample_answers(rng, crowd, prior, n_items=n_items, answers_per_item=3)


@pytest.mark.parametrize("n_classes", [2, 5])
def test_small_batches_never_overturn_a_unanimous_vote_and_match_majority(n_classes) -> None:
    overturned = 0
    right = {"mv": 0, "ds": 0}
    total = 0
    for data in small_batches(11 + n_classes, 150, n_classes):
        sizes = {"n_items": data.n_items, "n_workers": data.n_workers, "n_classes": n_classes}
        ds = dawid_skene(data.items, data.workers, data.labels, **sizes)
        mv = majority_vote(data.items, data.workers, data.labels, **sizes)
        for i in range(data.n_items):
            given = data.labels[data.items == i]
            if np.all(given == given[0]) and ds.labels[i] != given[0]:
                overturned += 1
        right["ds"] += int((ds.labels == data.truth).sum())
        right["mv"] += int((mv.labels == data.truth).sum())
        total += data.n_items
    assert overturned == 0
    assert right["ds"] >= right["mv"]


def test_thin_workers_at_redundancy_three_do_not_drag_the_fit_below_majority_vote() -> None:
    # 3,000 items x 3 answers from 3,000 workers: three answers each, no worker can be
    # told apart from the crowd. Unregularised EM drifts into self-confirming solutions
    # here; the hierarchical fit must stay at least level with majority vote.
    rng = np.random.default_rng(5)
    crowd = mixed_skill_confusions(rng, 3000, 3)
    data = sample_answers(rng, crowd, np.array([0.5, 0.3, 0.2]), n_items=3000, answers_per_item=3)
    sizes = {"n_items": 3000, "n_workers": 3000, "n_classes": 3}
    ds = dawid_skene(data.items, data.workers, data.labels, **sizes)
    mv = majority_vote(data.items, data.workers, data.labels, **sizes)
    assert np.mean(ds.labels == data.truth) >= np.mean(mv.labels == data.truth) - 0.005


def test_prolific_workers_with_a_class_bias_are_read_through() -> None:
    # Ten workers, each with 600 answers; most answer "1" for half of the true 0s. Only a
    # per-worker class-specific matrix can undo that: the hierarchy must let the data speak.
    rng = np.random.default_rng(3)
    confusion = np.tile(np.array([[0.5, 0.5], [0.05, 0.95]]), (10, 1, 1))
    confusion[:3] = np.array([[0.9, 0.1], [0.1, 0.9]])
    data = sample_answers(rng, confusion, np.array([0.5, 0.5]), n_items=1200, answers_per_item=5)
    sizes = {"n_items": 1200, "n_workers": 10, "n_classes": 2}
    ds = dawid_skene(data.items, data.workers, data.labels, **sizes)
    mv = majority_vote(data.items, data.workers, data.labels, **sizes)
    assert np.mean(ds.labels == data.truth) > np.mean(mv.labels == data.truth) + 0.05
    assert ds.worker_confusion[5, 0, 1] == pytest.approx(0.5, abs=0.07)


def test_a_thin_worker_is_described_by_the_crowd() -> None:
    # Expected counts: 50 prolific workers right 80 % of the time, one worker with two answers
    # that were both "wrong". Their matrix must stay close to the crowd's, not flip.
    counts = np.zeros((51, 2, 2))
    counts[:50] = np.array([[40.0, 10.0], [10.0, 40.0]])
    counts[50] = np.array([[0.0, 1.0], [1.0, 0.0]])
    confusion = hierarchical_confusion(counts)
    assert np.all(np.diagonal(confusion[50]) > 0.5)
    assert np.allclose(confusion[:50, 0, 0], 0.8, atol=0.02)


@pytest.mark.parametrize("method", VOTES)
def test_repeated_answers_share_one_vote(method) -> None:
    # Worker 0 answers "1" three times; workers 1 and 2 answer "0" once each. Counted three
    # times worker 0 would win; as one vote the two others do.
    items = np.array([0, 0, 0, 0, 0, 1, 1, 1, 2, 2, 2])
    workers = np.array([0, 0, 0, 1, 2, 0, 1, 2, 0, 1, 2])
    labels = np.array([1, 1, 1, 0, 0, 1, 1, 1, 0, 0, 0])
    result = method(items, workers, labels, n_items=3, n_workers=3, n_classes=2)
    assert result.labels[0] == 0


@pytest.mark.parametrize("method", [*VOTES, one_coin_dawid_skene])
def test_repeats_do_not_make_the_result_depend_on_answer_order(method) -> None:
    rng = np.random.default_rng(8)
    items = rng.integers(0, 40, size=400)
    workers = rng.integers(0, 15, size=400)
    labels = rng.integers(0, 3, size=400)
    order = rng.permutation(400)
    sizes = {"n_items": 40, "n_workers": 15, "n_classes": 3}
    a = method(items, workers, labels, **sizes)
    b = method(items[order], workers[order], labels[order], **sizes)
    assert np.array_equal(a.labels, b.labels)
    assert np.allclose(a.posterior, b.posterior, atol=1e-9)


def test_repeat_weights_and_count() -> None:
    items = np.array([0, 0, 0, 1, 1])
    workers = np.array([0, 0, 1, 0, 1])
    weights = repeat_weights(items, workers, 2)
    assert weights is not None
    assert weights.tolist() == [0.5, 0.5, 1.0, 1.0, 1.0]
    assert repeat_weights(np.array([0, 1]), np.array([0, 0]), 1) is None
    assert count_repeats(items, workers, 2) == 1


def test_fit_is_the_best_iterate_by_likelihood() -> None:
    # More iterations may never lower the reported likelihood: the best iterate is kept.
    for data in small_batches(4, 20, 3):
        sizes = {"n_items": data.n_items, "n_workers": data.n_workers, "n_classes": 3}
        lls = [
            dawid_skene(data.items, data.workers, data.labels, max_iter=k, **sizes).log_likelihood
            for k in (1, 3, 10, 100)
        ]
        assert all(b >= a - 1e-9 for a, b in itertools.pairwise(lls))


def test_invalid_prior_strength_is_rejected() -> None:
    with pytest.raises(ValueError, match="prior_strength"):
        dawid_skene([0], [0], [0], n_items=1, n_workers=1, n_classes=2, prior_strength=0.0)


def test_with_several_classes_skill_and_pattern_of_errors_are_shrunk_apart() -> None:
    # 40 workers, five classes, 50 answers per class each. They differ in how often they are
    # right, also per class (30-98 %), but all err the same way, mostly to the neighbouring
    # classes; each worker's own error counts are multinomial noise around that pattern.
    # The nested prior keeps each worker's own right-shares and the crowd's pattern of
    # errors; one Dirichlet per row (the two-class model) let the spread of the right-shares
    # carry the noise of the errors into the matrices (ratio 0.51 against 0.12).
    rng = np.random.default_rng(14)
    n_classes, n_workers, per_class = 5, 40, 50
    diag = np.arange(n_classes)
    distance = np.abs(diag[:, None] - diag[None, :])
    pattern = np.where(distance == 1, 4.0, 1.0) * (distance > 0)
    pattern /= pattern.sum(axis=1, keepdims=True)
    skill = np.linspace(0.5, 0.95, n_workers)
    counts = np.zeros((n_workers, n_classes, n_classes))
    for w in range(n_workers):
        for k in range(n_classes):
            right = np.clip(skill[w] + rng.normal(0, 0.15), 0.3, 0.98)
            n_right = rng.binomial(per_class, right)
            counts[w, k] = rng.multinomial(per_class - n_right, pattern[k])
            counts[w, k, k] = n_right
    confusion = hierarchical_confusion(counts)
    own_right = counts[:, diag, diag] / per_class
    assert np.abs(confusion[:, diag, diag] - own_right).max() < 0.1
    off = confusion.copy()
    off[:, diag, diag] = 0.0
    off /= off.sum(axis=2, keepdims=True)
    own = counts.copy()
    own[:, diag, diag] = 0.0
    own /= np.maximum(own.sum(axis=2, keepdims=True), 1e-12)
    assert np.abs(off - pattern).sum() < 0.2 * np.abs(own - pattern).sum()
    assert np.allclose(confusion.sum(axis=2), 1.0)
    assert np.all(confusion > 0)
