"""Dawid-Skene and one-coin Dawid-Skene: recovery, invariance, gold anchoring, degenerate input.

Pure numpy; no database.
"""

from __future__ import annotations

import importlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trefpunt.microtasks.aggregation import (
    CategoricalResult,
    dawid_skene,
    item_posterior,
    majority_vote,
    one_coin_dawid_skene,
    weighted_majority_vote,
)
from trefpunt.microtasks.aggregation.synthetic import one_coin_confusions, sample_answers

# The module (its name is shadowed by the function in the package).
ds_module = importlib.import_module("trefpunt.microtasks.aggregation.dawid_skene")
METHODS = [majority_vote, weighted_majority_vote, dawid_skene, one_coin_dawid_skene]


def assert_well_formed(result: CategoricalResult) -> None:
    """Shapes, no NaN, probabilities in range, and the unanswered-item contract."""
    arrays = [
        result.confidence,
        result.posterior,
        result.worker_confusion,
        result.worker_skill,
        result.class_prior,
    ]
    assert all(np.all(np.isfinite(a)) for a in arrays)
    assert result.posterior.shape == (result.n_items, result.n_classes)
    assert result.worker_confusion.shape == (result.n_workers, result.n_classes, result.n_classes)
    assert np.all((result.confidence >= 0) & (result.confidence <= 1))
    assert np.allclose(result.worker_confusion.sum(axis=2), 1.0)
    answered = result.labels >= 0
    assert np.allclose(result.posterior[answered].sum(axis=1), 1.0)
    assert np.all(result.posterior[~answered] == 0.0)
    assert np.all(result.confidence[~answered] == 0.0)
    picked = result.posterior[answered, result.labels[answered]]
    assert np.allclose(result.confidence[answered], picked)


def good_workers_dataset(seed: int, n_classes: int) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    accuracy = rng.uniform(0.75, 0.92, size=40)
    confusion = one_coin_confusions(rng, accuracy, n_classes)
    prior = rng.dirichlet(np.full(n_classes, 4.0))
    data = sample_answers(rng, confusion, prior, n_items=1500, answers_per_item=7)
    return data.items, data.workers, data.labels, data.truth, confusion


# derandomize: statistical checks run on a fixed sequence of seeds so CI cannot flake.
@settings(max_examples=8, deadline=None, derandomize=True)
@given(seed=st.integers(0, 2**32 - 1), n_classes=st.integers(2, 4))
def test_dawid_skene_recovers_planted_labels_and_confusions(seed: int, n_classes: int) -> None:
    items, workers, labels, truth, confusion = good_workers_dataset(seed, n_classes)
    result = dawid_skene(
        items, workers, labels, n_items=truth.size, n_workers=40, n_classes=n_classes
    )
    assert result.converged
    assert np.mean(result.labels == truth) >= 0.95
    error = np.abs(result.worker_confusion - confusion)
    # Each confusion row is estimated from the worker's answers on that true class; allow four
    # binomial standard errors of that many answers plus the smoothing's pull.
    class_counts = np.bincount(truth, minlength=n_classes)
    row_answers = result.worker_n_answers[:, None] * class_counts / truth.size
    allowed = 4.0 * np.sqrt(0.25 / row_answers) + n_classes / row_answers
    assert np.all(error <= allowed[:, :, None])
    # Typical errors are a fraction of that bound (about 0.2 of it for an unbiased estimate).
    assert np.mean(error / allowed[:, :, None]) < 0.35
    assert_well_formed(result)


@settings(max_examples=8, deadline=None, derandomize=True)
@given(seed=st.integers(0, 2**32 - 1))
def test_dawid_skene_beats_majority_vote_with_a_biased_crowd(seed: int) -> None:
    # Ten workers who say "0" for a third of the true 1s outvote fewer good workers; only a
    # per-class confusion model can undo that bias.
    rng = np.random.default_rng(seed)
    confusion = np.empty((16, 2, 2))
    confusion[:10] = [[0.95, 0.05], [0.45, 0.55]]
    confusion[10:] = [[0.9, 0.1], [0.1, 0.9]]
    data = sample_answers(rng, confusion, [0.5, 0.5], n_items=1500, answers_per_item=7)
    sizes = {"n_items": data.n_items, "n_workers": 16, "n_classes": 2}
    ds = dawid_skene(data.items, data.workers, data.labels, **sizes)
    mv = majority_vote(data.items, data.workers, data.labels, **sizes)
    assert np.mean(ds.labels == data.truth) > np.mean(mv.labels == data.truth) + 0.03


@settings(max_examples=6, deadline=None, derandomize=True)
@given(seed=st.integers(0, 2**32 - 1))
def test_one_coin_dawid_skene_recovers_planted_skills(seed: int) -> None:
    rng = np.random.default_rng(seed)
    accuracy = rng.uniform(0.55, 0.95, size=30)
    confusion = one_coin_confusions(rng, accuracy, 3)
    data = sample_answers(rng, confusion, [0.3, 0.3, 0.4], n_items=2000, answers_per_item=6)
    result = one_coin_dawid_skene(
        data.items, data.workers, data.labels, n_items=data.n_items, n_workers=30, n_classes=3
    )
    estimated = np.diagonal(result.worker_confusion, axis1=1, axis2=2)[:, 0]
    assert np.abs(estimated - accuracy).max() < 0.12
    assert np.mean(result.labels == data.truth) >= 0.93


random_answers = st.integers(1, 40).flatmap(
    lambda n: st.tuples(
        st.lists(st.integers(0, 7), min_size=n, max_size=n),
        st.lists(st.integers(0, 5), min_size=n, max_size=n),
        st.lists(st.integers(0, 2), min_size=n, max_size=n),
        st.randoms(use_true_random=False),
    )
)


# derandomize: a fixed sequence of examples, so CI runs the same ones every time (rare
# failures are kept below as fixed cases once found).
@settings(max_examples=60, deadline=None, derandomize=True)
@given(data=random_answers)
@pytest.mark.parametrize("method", [dawid_skene, one_coin_dawid_skene, majority_vote])
def test_permuting_items_workers_and_labels_permutes_the_result(method, data) -> None:
    items_l, workers_l, labels_l, rnd = data
    item_map = np.array(rnd.sample(range(8), 8))
    worker_map = np.array(rnd.sample(range(6), 6))
    label_map = np.array(rnd.sample(range(3), 3))
    _assert_permuted(method, (items_l, workers_l, labels_l), (item_map, worker_map, label_map))


# Two examples a longer random search found where ds's estimated prior strengths followed a
# rounding error: one worker row at exactly half an expected answer, and a moment estimate
# whose denominator was zero but for rounding (``MIN_EXPECTED_ANSWERS``, ``NO_SPREAD``).
@pytest.mark.parametrize(
    ("answers", "maps"),
    [
        (
            (
                [1, 2, 0, 2, 1, 0, 0, 2, 2, 0, 1, 1, 2, 2, 1, 0, 1, 2, 2, 1, 1],
                [2, 0, 1, 1, 0, 0, 2, 2, 1, 0, 1, 0, 0, 0, 0, 0, 0, 2, 0, 1, 0],
                [2, 0, 1, 1, 0, 0, 2, 2, 1, 0, 1, 0, 0, 0, 0, 0, 0, 2, 0, 1, 0],
            ),
            ([0, 7, 2, 5, 3, 1, 6, 4], [1, 0, 5, 2, 4, 3], [1, 2, 0]),
        ),
        (
            (
                [2, 4, 2, 2, 6, 4, 0, 0, 4, 2, 1, 2, 5, 0, 0, 4],
                [1, 4, 5, 5, 1, 5, 2, 4, 3, 4, 1, 2, 4, 0, 3, 2],
                [1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 2, 0, 0, 0, 2],
            ),
            ([5, 1, 3, 4, 6, 2, 0, 7], [1, 0, 4, 2, 5, 3], [2, 1, 0]),
        ),
    ],
)
def test_permuting_found_examples_permutes_the_ds_result(answers, maps) -> None:
    _assert_permuted(dawid_skene, answers, tuple(np.array(m) for m in maps))


def _assert_permuted(method, answers, maps) -> None:
    items, workers, labels = (np.array(column) for column in answers)
    item_map, worker_map, label_map = maps
    sizes = {"n_items": 8, "n_workers": 6, "n_classes": 3}
    # tol=0 runs exactly max_iter iterations on both sides, so the comparison does not hinge
    # on both runs stopping at the same iteration.
    options = {"tol": 0.0, "max_iter": 25} if method is not majority_vote else {}
    base = method(items, workers, labels, **sizes, **options)
    moved = method(item_map[items], worker_map[workers], label_map[labels], **sizes, **options)
    back = moved.posterior[item_map][:, label_map]
    assert np.allclose(back, base.posterior, atol=1e-6)
    assert np.array_equal(moved.tied[item_map], base.tied)
    untied = ~base.tied & (base.labels >= 0)
    assert np.array_equal(moved.labels[item_map][untied], label_map[base.labels[untied]])
    moved_conf = moved.worker_confusion[worker_map][:, label_map][:, :, label_map]
    assert np.allclose(moved_conf, base.worker_confusion, atol=1e-6)


def test_dawid_skene_result_does_not_depend_on_answer_order() -> None:
    items, workers, labels, truth, _ = good_workers_dataset(7, 3)
    order = np.random.default_rng(1).permutation(items.size)
    sizes = {"n_items": truth.size, "n_workers": 40, "n_classes": 3}
    a = dawid_skene(items, workers, labels, **sizes)
    b = dawid_skene(items[order], workers[order], labels[order], **sizes)
    assert np.array_equal(a.labels, b.labels)
    assert np.allclose(a.posterior, b.posterior, atol=1e-6)


def test_dawid_skene_gives_the_same_result_for_grouped_and_scattered_answers() -> None:
    # Answers grouped by item take the repeat/reduceat path; scattered ones the bincount path.
    # Reverse the item groups and leave two items unanswered so the grouped path must scatter.
    items, workers, labels, truth, _ = good_workers_dataset(9, 3)
    grouped = np.argsort(-items, kind="stable")
    scattered = np.random.default_rng(2).permutation(items.size)
    sizes = {"n_items": truth.size + 2, "n_workers": 40, "n_classes": 3}
    a = dawid_skene(items[grouped], workers[grouped], labels[grouped], **sizes)
    b = dawid_skene(items[scattered], workers[scattered], labels[scattered], **sizes)
    assert np.array_equal(a.labels, b.labels)
    assert np.allclose(a.posterior, b.posterior, atol=1e-9)
    assert a.labels[-2:].tolist() == [-1, -1]


def test_dawid_skene_posterior_is_reproduced_by_the_cheap_item_update() -> None:
    items, workers, labels, truth, _ = good_workers_dataset(3, 3)
    result = dawid_skene(items, workers, labels, n_items=truth.size, n_workers=40, n_classes=3)
    rows = [
        item_posterior(
            result.class_prior, result.worker_confusion, workers[items == i], labels[items == i]
        )
        for i in range(25)
    ]
    assert np.allclose(np.array(rows), result.posterior[:25], atol=1e-9)


def test_gold_items_keep_their_label_against_the_crowd() -> None:
    # Every worker says 1 on item 0; gold says it is 0.
    items = np.array([0, 0, 0, 1, 1, 1, 2, 2, 2])
    workers = np.array([0, 1, 2, 0, 1, 2, 0, 1, 2])
    labels = np.array([1, 1, 1, 0, 0, 1, 1, 1, 0])
    result = dawid_skene(
        items, workers, labels, n_items=3, n_workers=3, n_classes=2, gold_items=[0], gold_labels=[0]
    )
    assert result.labels[0] == 0
    assert result.confidence[0] == 1.0
    assert np.array_equal(result.posterior[0], [1.0, 0.0])


def test_gold_anchoring_fixes_a_crowd_that_mostly_answers_wrong() -> None:
    # Workers are right 25 % of the time: without gold, EM settles on the flipped labelling
    # (it fits equally well); a tenth of the items with known labels pins the orientation.
    rng = np.random.default_rng(11)
    confusion = one_coin_confusions(rng, np.full(20, 0.25), 2)
    data = sample_answers(rng, confusion, [0.5, 0.5], n_items=600, answers_per_item=7)
    sizes = {"n_items": 600, "n_workers": 20, "n_classes": 2}
    gold = np.arange(0, 600, 10)
    plain = dawid_skene(data.items, data.workers, data.labels, **sizes)
    anchored = dawid_skene(
        data.items,
        data.workers,
        data.labels,
        gold_items=gold,
        gold_labels=data.truth[gold],
        **sizes,
    )
    assert np.mean(plain.labels == data.truth) < 0.2
    assert np.mean(anchored.labels == data.truth) > 0.9
    assert np.array_equal(anchored.labels[gold], data.truth[gold])


def test_one_coin_dawid_skene_keeps_gold_labels() -> None:
    items = np.array([0, 0, 1, 1])
    workers = np.array([0, 1, 0, 1])
    labels = np.array([1, 1, 0, 0])
    result = one_coin_dawid_skene(
        items, workers, labels, n_items=2, n_workers=2, n_classes=2, gold_items=[0], gold_labels=[0]
    )
    assert result.labels[0] == 0
    assert result.confidence[0] == 1.0


def test_gold_item_without_answers_reports_its_gold_label() -> None:
    result = dawid_skene(
        [0, 0], [0, 1], [1, 1], n_items=2, n_workers=2, n_classes=2, gold_items=[1], gold_labels=[0]
    )
    assert result.labels[1] == 0
    assert result.confidence[1] == 1.0
    assert result.n_answers[1] == 0


def test_dawid_skene_on_synthetic_mixed_skill_stops_and_reports_convergence() -> None:
    items, workers, labels, truth, _ = good_workers_dataset(5, 2)
    capped = dawid_skene(
        items, workers, labels, n_items=truth.size, n_workers=40, n_classes=2, max_iter=1
    )
    full = dawid_skene(items, workers, labels, n_items=truth.size, n_workers=40, n_classes=2)
    assert capped.n_iterations == 1
    assert not capped.converged
    assert full.converged
    assert 1 < full.n_iterations < 100


@pytest.mark.parametrize("method", METHODS)
def test_no_answers_gives_unanswered_items(method) -> None:
    result = method([], [], [], n_items=3, n_workers=2, n_classes=2)
    assert_well_formed(result)
    assert np.array_equal(result.labels, [-1, -1, -1])
    assert np.array_equal(result.confidence, [0.0, 0.0, 0.0])
    assert np.allclose(result.worker_confusion, 0.5)
    assert np.allclose(result.worker_skill, 0.5)


@pytest.mark.parametrize("method", METHODS)
def test_empty_batch_gives_empty_result(method) -> None:
    result = method([], [], [], n_items=0, n_workers=0, n_classes=0)
    assert result.labels.shape == (0,)
    assert result.posterior.shape == (0, 0)
    assert result.worker_confusion.shape == (0, 0, 0)


@pytest.mark.parametrize("method", METHODS)
def test_items_without_classes_are_unanswered(method) -> None:
    result = method([], [], [], n_items=2, n_workers=1, n_classes=0)
    assert np.array_equal(result.labels, [-1, -1])
    assert np.array_equal(result.confidence, [0.0, 0.0])


@pytest.mark.parametrize("method", METHODS)
def test_unanswered_item_among_answered_ones(method) -> None:
    result = method([0, 0, 2, 2], [0, 1, 0, 1], [1, 1, 0, 0], n_items=3, n_workers=2, n_classes=2)
    assert_well_formed(result)
    assert result.labels[1] == -1
    assert result.confidence[1] == 0.0
    assert result.n_answers[1] == 0
    assert result.labels[0] == 1
    assert result.labels[2] == 0


@pytest.mark.parametrize("method", [majority_vote, weighted_majority_vote])
def test_votes_with_one_worker_follow_that_worker(method) -> None:
    labels = np.array([0, 1, 1, 0, 1])
    result = method(
        np.arange(5), np.zeros(5, dtype=int), labels, n_items=5, n_workers=1, n_classes=2
    )
    assert_well_formed(result)
    assert np.array_equal(result.labels, labels)
    assert np.all(result.confidence > 0.5)


def test_one_coin_em_with_one_worker_stays_uncertain() -> None:
    # Without a second opinion a good worker and a contrary one explain the answers equally
    # well, so the symmetric one-coin model must not claim confidence in either reading.
    labels = np.array([0, 1, 1, 0, 1])
    result = one_coin_dawid_skene(
        np.arange(5), np.zeros(5, dtype=int), labels, n_items=5, n_workers=1, n_classes=2
    )
    assert_well_formed(result)
    assert np.all(result.labels >= 0)
    assert np.all(result.confidence < 0.6)


def test_hierarchical_em_with_one_worker_follows_them_with_the_prior_confidence() -> None:
    # The hierarchical prior says a worker is better than chance (0.75 for two classes), and
    # one worker without overlap gives no evidence beyond that: follow them, at about 0.75.
    labels = np.array([0, 1, 1, 0, 1])
    result = dawid_skene(
        np.arange(5), np.zeros(5, dtype=int), labels, n_items=5, n_workers=1, n_classes=2
    )
    assert_well_formed(result)
    assert np.array_equal(result.labels, labels)
    assert np.allclose(result.confidence, 0.75, atol=0.05)


@pytest.mark.parametrize("method", METHODS)
def test_one_item_takes_the_majority(method) -> None:
    result = method([0, 0, 0], [0, 1, 2], [2, 2, 1], n_items=1, n_workers=3, n_classes=3)
    assert_well_formed(result)
    assert result.labels[0] == 2


@pytest.mark.parametrize("method", METHODS)
def test_one_class_is_certain(method) -> None:
    result = method([0, 1, 1], [0, 0, 1], [0, 0, 0], n_items=2, n_workers=2, n_classes=1)
    assert_well_formed(result)
    assert np.array_equal(result.labels, [0, 0])
    assert np.array_equal(result.confidence, [1.0, 1.0])


@pytest.mark.parametrize("method", METHODS)
def test_worker_with_one_answer_gets_a_finite_confusion(method) -> None:
    items = np.array([0, 0, 1, 1, 2, 2, 2])
    workers = np.array([0, 1, 0, 1, 0, 1, 2])
    labels = np.array([0, 0, 1, 1, 0, 0, 1])
    result = method(items, workers, labels, n_items=3, n_workers=4, n_classes=2)
    assert_well_formed(result)
    assert result.worker_n_answers[2] == 1
    assert np.all(result.worker_confusion[2] > 0.0)
    assert np.all(result.worker_confusion[2] < 1.0)
    assert np.allclose(result.worker_confusion[3], 0.5)


@pytest.mark.parametrize("method", [dawid_skene, one_coin_dawid_skene])
@pytest.mark.parametrize(
    ("option", "value"), [("smoothing", 0.0), ("smoothing", float("nan")), ("max_iter", -1)]
)
def test_invalid_em_options_are_rejected(method, option, value) -> None:
    with pytest.raises(ValueError, match=option):
        method([0], [0], [0], n_items=1, n_workers=1, n_classes=2, **{option: value})


@pytest.mark.parametrize(
    ("items", "workers", "labels", "message"),
    [
        ([0, 5], [0, 0], [0, 1], "items"),
        ([0, 1], [0, -1], [0, 1], "workers"),
        ([0, 1], [0, 0], [0, 2], "labels"),
        ([0, 1], [0], [0, 1], "same length"),
        ([0.0, 1.0], [0, 0], [0, 1], "integers"),
    ],
)
def test_out_of_range_answers_are_rejected(items, workers, labels, message) -> None:
    with pytest.raises(ValueError, match=message):
        dawid_skene(items, workers, labels, n_items=2, n_workers=1, n_classes=2)


def test_gold_must_be_consistent() -> None:
    with pytest.raises(ValueError, match="gold"):
        dawid_skene([0], [0], [0], n_items=1, n_workers=1, n_classes=2, gold_items=[0])


@pytest.mark.parametrize("dense", [True, False])
@pytest.mark.parametrize("weighted", [True, False])
def test_blocked_passes_equal_the_whole_array_ones(dense: bool, weighted: bool) -> None:
    """The grouped path works in blocks of whole items (a block of 7 answers here, so items
    straddle block bounds and one long item is a block of its own); the per-item sums and
    the per-code counts equal those of the general path (answers in another order)."""
    from trefpunt.microtasks.aggregation._model import AnswerIndex

    rng = np.random.default_rng(5)
    per_item = [3, 1, 12, 2, 5, 4, 4, 1, 6]
    items = np.repeat(np.arange(len(per_item)), per_item)
    n_items = len(per_item) if dense else len(per_item) + 3
    if not dense:
        items = items + 3  # items 0-2 have no answers
    codes = rng.integers(0, 10, size=items.size)
    weight = rng.random(items.size) if weighted else None
    table = rng.normal(size=(3, 10))
    per_item_values = rng.random((3, n_items))
    blocked = AnswerIndex(items, n_items, block=7)
    assert len(blocked.blocks) > 3
    shuffle = rng.permutation(items.size)
    general = AnswerIndex(items[shuffle], n_items)
    assert general.starts is None
    w_shuffled = None if weight is None else weight[shuffle]
    expected = general.sum_table(table, codes[shuffle], w_shuffled)
    assert np.allclose(blocked.sum_table(table, codes, weight), expected, atol=1e-12)
    expected_counts = general.pair_counts(per_item_values, codes[shuffle], w_shuffled, 10)
    got = blocked.pair_counts(per_item_values, codes, weight, 10)
    assert np.allclose(got, expected_counts, atol=1e-12)
    # each item's answers are added in the same order: the same sums to the last bit
    assert np.array_equal(
        blocked.sum_table(table, codes, weight),
        AnswerIndex(items, n_items).sum_table(table, codes, weight),
    )


def thin_biased_batch(seed: int) -> tuple[np.ndarray, ...]:
    """60 questions (40 % of class 1, a quarter hard), each answered by 20 people with their
    own sensitivity and specificity, every person's answers cut into workers of five (as a
    crowd of many people with few answers each looks)."""
    rng = np.random.default_rng(seed)
    n_items, people, per = 60, 20, 5
    truth = (rng.random(n_items) < 0.4).astype(np.intp)
    sensitivity = rng.uniform(0.55, 1.0, people)
    specificity = rng.uniform(0.3, 1.0, people)
    ease = np.where(rng.random(n_items) < 0.25, 0.6, 1.0)
    items = np.concatenate([rng.permutation(n_items) for _ in range(people)])
    person = np.repeat(np.arange(people), n_items)
    right = np.where(truth[items] == 1, sensitivity[person], specificity[person]) * ease[items]
    labels = np.where(rng.random(items.size) < right, truth[items], 1 - truth[items])
    workers = np.arange(items.size) // per
    return items, workers, labels, truth


def test_thin_batches_also_run_em_from_the_vote_shares_and_keep_the_likelier_fit(monkeypatch):
    # With five answers per worker EM stays near its start; a second start from the plain
    # vote shares finds fits of higher likelihood that the soft-majority start misses.
    thin = ds_module._thin
    gains, right = [], {True: 0, False: 0}
    for seed in range(40):
        items, workers, labels, truth = thin_biased_batch(seed)
        sizes = {"n_items": truth.size, "n_workers": int(workers.max()) + 1, "n_classes": 2}
        assert thin(workers, sizes["n_workers"], 2)
        fits = {}
        for second in (True, False):
            monkeypatch.setattr(ds_module, "_thin", lambda *_args, on=second: on)
            fits[second] = dawid_skene(items, workers, labels, **sizes)
            right[second] += int(np.sum(fits[second].labels == truth))
        gains.append(fits[True].log_likelihood - fits[False].log_likelihood)
    assert min(gains) >= -1e-9  # never a less likely fit
    assert sum(g > 1.0 for g in gains) >= 2  # and clearly likelier ones
    assert right[True] > right[False]


def test_only_batches_of_thin_workers_take_the_second_start() -> None:
    thick = np.repeat(np.arange(10), 200)  # 200 answers each: 50 per cell of a 2 x 2 matrix
    assert not ds_module._thin(thick, 10, 2)
    assert ds_module._thin(thick, 10, 5)  # 8 per cell of a 5 x 5 matrix
    thin = np.arange(100) // 5
    assert ds_module._thin(thin, 20, 2)
