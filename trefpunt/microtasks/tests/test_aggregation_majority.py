"""Majority vote, weighted majority vote and the id/label encoding. No database."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trefpunt.microtasks.aggregation import (
    accuracy_to_weight,
    agreement_weights,
    encode_answers,
    majority_vote,
    weighted_majority_vote,
)


def test_majority_vote_counts_votes_and_reports_share() -> None:
    result = majority_vote(
        [0, 0, 0, 1, 1], [0, 1, 2, 0, 1], [1, 1, 0, 2, 2], n_items=2, n_workers=3, n_classes=3
    )
    assert np.array_equal(result.labels, [1, 2])
    assert np.allclose(result.confidence, [2 / 3, 1.0])
    assert np.array_equal(result.tied, [False, False])
    assert np.array_equal(result.n_answers, [3, 2])


def test_majority_vote_breaks_ties_to_the_lowest_label_and_reports_them() -> None:
    result = majority_vote(
        [0, 0, 1, 1], [0, 1, 0, 1], [2, 1, 0, 2], n_items=2, n_workers=2, n_classes=3
    )
    assert np.array_equal(result.labels, [1, 0])
    assert np.array_equal(result.tied, [True, True])
    assert np.allclose(result.confidence, [0.5, 0.5])


def test_weighted_majority_vote_lets_a_heavy_worker_win() -> None:
    items, workers, labels = [0, 0, 0], [0, 1, 2], [1, 0, 0]
    plain = majority_vote(items, workers, labels, n_items=1, n_workers=3, n_classes=2)
    weighted = weighted_majority_vote(
        items, workers, labels, n_items=1, n_workers=3, n_classes=2, weights=[3.0, 1.0, 1.0]
    )
    assert plain.labels[0] == 0
    assert weighted.labels[0] == 1
    assert weighted.confidence[0] == pytest.approx(0.6)


def test_weighted_majority_vote_with_all_zero_weights_ties_every_class() -> None:
    result = weighted_majority_vote(
        [0, 0], [0, 1], [1, 1], n_items=1, n_workers=2, n_classes=2, weights=[0.0, 0.0]
    )
    assert result.labels[0] == 0
    assert bool(result.tied[0])
    assert np.allclose(result.posterior[0], [0.5, 0.5])


@pytest.mark.parametrize("weights", [[1.0], [1.0, -1.0], [1.0, float("nan")]])
def test_weighted_majority_vote_rejects_bad_weights(weights) -> None:
    with pytest.raises(ValueError, match="weights"):
        weighted_majority_vote([0], [0], [0], n_items=1, n_workers=2, n_classes=2, weights=weights)


def test_accuracy_to_weight_is_zero_at_chance_and_grows_with_accuracy() -> None:
    weights = accuracy_to_weight([0.2, 0.25, 0.5, 0.9, 1.0], 4)
    assert weights[0] == 0.0
    assert weights[1] == pytest.approx(0.0, abs=1e-12)
    assert np.all(np.diff(weights[1:]) > 0)
    assert np.isfinite(weights[-1])


def test_agreement_weights_favour_the_worker_who_agrees_with_others() -> None:
    # Workers 0-2 always agree; worker 3 always contradicts them.
    items = np.repeat(np.arange(20), 4)
    workers = np.tile(np.arange(4), 20)
    truth = np.arange(20) % 2
    labels = np.where(workers == 3, 1 - truth[items], truth[items])
    weights = agreement_weights(items, workers, labels, n_items=20, n_workers=4, n_classes=2)
    # Each loyal worker agrees with two of the three others: log-odds of 2/3 is log 2.
    assert weights[3] == 0.0
    assert np.allclose(weights[:3], np.log(2.0), atol=0.05)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 4), st.integers(0, 3)), max_size=40))
def test_majority_vote_matches_a_direct_count(answers) -> None:
    items = np.array([a[0] for a in answers], dtype=int)
    workers = np.array([a[1] for a in answers], dtype=int)
    labels = np.array([a[2] for a in answers], dtype=int)
    result = majority_vote(items, workers, labels, n_items=6, n_workers=5, n_classes=4)
    # One vote per worker and item: a worker's repeated answers share it.
    given: dict[tuple[int, int], int] = {}
    for i, w in zip(items.tolist(), workers.tolist(), strict=True):
        given[i, w] = given.get((i, w), 0) + 1
    counts = np.zeros((6, 4))
    for i, w, lb in zip(items.tolist(), workers.tolist(), labels.tolist(), strict=True):
        counts[i, lb] += 1.0 / given[i, w]
    best = counts.max(axis=1)
    answered = counts.sum(axis=1) > 0
    top = counts >= best[:, None] - 1e-9
    expected = np.where(answered, top.argmax(axis=1), -1)
    assert np.array_equal(result.labels, expected)
    assert np.array_equal(result.tied, answered & (top.sum(axis=1) > 1))
    assert np.all(np.isfinite(result.worker_confusion))


def test_encode_answers_assigns_codes_and_decodes_back() -> None:
    enc = encode_answers(
        ["q2", "q1", "q2"], ["ann", "bob", "bob"], ["yes", "no", "yes"], item_ids=["q0"]
    )
    assert enc.item_ids == ("q0", "q2", "q1")
    assert enc.worker_ids == ("ann", "bob")
    assert enc.label_names == ("no", "yes")
    assert enc.items.tolist() == [1, 2, 1]
    assert enc.workers.tolist() == [0, 1, 1]
    assert enc.labels.tolist() == [1, 0, 1]
    assert enc.decode_labels([1, -1, 0]) == ["yes", None, "no"]


def test_encode_answers_label_codes_do_not_depend_on_answer_order() -> None:
    a = encode_answers(["1", "2"], ["w", "w"], ["b", "a"])
    b = encode_answers(["2", "1"], ["w", "w"], ["a", "b"])
    assert a.label_names == b.label_names == ("a", "b")


def test_encode_answers_keeps_given_label_order_and_unused_labels() -> None:
    enc = encode_answers(["1"], ["w"], ["maybe"], label_names=["yes", "no"])
    assert enc.label_names == ("yes", "no", "maybe")
    assert enc.labels.tolist() == [2]


def test_encode_answers_rejects_mismatched_lengths_and_repeated_ids() -> None:
    with pytest.raises(ValueError, match="same length"):
        encode_answers(["1"], ["w", "v"], ["a"])
    with pytest.raises(ValueError, match="twice"):
        encode_answers(["1"], ["w"], ["a"], item_ids=["1", "1"])
