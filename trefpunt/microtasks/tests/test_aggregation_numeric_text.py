"""Numeric (median, trimmed mean) and short-text aggregation. No database."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trefpunt.microtasks.aggregation import median, normalize_text, text_majority, trimmed_mean

numeric_answers = st.lists(
    st.tuples(st.integers(0, 4), st.floats(-1e6, 1e6, allow_nan=False)), max_size=40
)


def test_median_ignores_a_wild_answer() -> None:
    result = median([0, 0, 0, 1, 1], [10.0, 11.0, 1e9, 4.0, 6.0], n_items=3)
    assert result.values.tolist() == [11.0, 5.0, 0.0]
    assert result.n_answers.tolist() == [3, 2, 0]
    assert result.spread.tolist() == [1.0, 1.0, 0.0]


def test_trimmed_mean_drops_the_extremes() -> None:
    result = trimmed_mean([0] * 5, [1.0, 2.0, 3.0, 4.0, 100.0], n_items=1, proportion=0.2)
    assert result.values[0] == pytest.approx(3.0)
    assert result.spread[0] == pytest.approx(math.sqrt(2 / 3))


def test_numeric_unanswered_items_are_zero_with_no_answers() -> None:
    for result in (median([], [], n_items=2), trimmed_mean([], [], n_items=2)):
        assert result.values.tolist() == [0.0, 0.0]
        assert result.n_answers.tolist() == [0, 0]


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_numeric_rejects_non_finite_answers(bad: float) -> None:
    with pytest.raises(ValueError, match="finite"):
        median([0], [bad], n_items=1)


def test_trimmed_mean_rejects_trimming_half_or_more() -> None:
    with pytest.raises(ValueError, match="proportion"):
        trimmed_mean([0], [1.0], n_items=1, proportion=0.5)


@settings(max_examples=100, deadline=None)
@given(numeric_answers)
def test_median_matches_numpy_per_item(answers) -> None:
    items = np.array([a[0] for a in answers], dtype=int)
    values = np.array([a[1] for a in answers], dtype=float)
    result = median(items, values, n_items=5)
    expected = [
        float(np.median(values[items == i])) if np.any(items == i) else 0.0 for i in range(5)
    ]
    assert np.allclose(result.values, expected)


@settings(max_examples=100, deadline=None)
@given(numeric_answers, st.sampled_from([0.0, 0.1, 0.25, 0.4]))
def test_trimmed_mean_matches_a_sort_and_slice_reference(answers, proportion) -> None:
    items = np.array([a[0] for a in answers], dtype=int)
    values = np.array([a[1] for a in answers], dtype=float)
    result = trimmed_mean(items, values, n_items=5, proportion=proportion)
    groups = [np.sort(values[items == i]) for i in range(5)]
    cuts = [math.floor(len(g) * proportion) for g in groups]
    kept = [g[c : len(g) - c] for g, c in zip(groups, cuts, strict=True)]
    expected = [float(k.mean()) if k.size else 0.0 for k in kept]
    assert np.allclose(result.values, expected, rtol=1e-9, atol=1e-6)


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("  Amsterdam  ", "amsterdam"),
        ("AMSTERDAM\t\nCentraal", "amsterdam centraal"),
        ("Straße", "strasse"),
        ("ﬁsh", "fish"),
        ("Ｆｕｌｌ　width", "full width"),
        ("", ""),
    ],
)
def test_normalize_text_folds_case_width_and_whitespace(raw: str, normal: str) -> None:
    assert normalize_text(raw) == normal


def test_text_majority_groups_spellings_and_shows_the_common_one() -> None:
    result = text_majority(
        [0, 0, 0, 0, 1, 1],
        ["Amsterdam", "amsterdam ", "Amsterdam", "Rotterdam", "b", "a"],
        n_items=3,
    )
    assert result.answers == ["Amsterdam", "a", None]
    assert result.normalized == ["amsterdam", "a", None]
    assert result.confidence.tolist() == [0.75, 0.5, 0.0]
    assert result.tied.tolist() == [False, True, False]
    assert result.n_answers.tolist() == [4, 2, 0]


def test_text_majority_rejects_mismatched_lengths() -> None:
    with pytest.raises(ValueError, match="same length"):
        text_majority([0, 0], ["a"], n_items=1)
