"""The full fit's columnar shortcuts give what the per-item construction gives: each item's
answer and details text formed from the columns equal ``ResultText`` of its ``ItemResult``,
the vectorised rounding equals Python's ``round``, the sort-based distinct values equal
``np.unique``'s. No database."""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import pytest

from trefpunt.microtasks.aggregation._arrays import rounded, sorted_distinct
from trefpunt.microtasks.models import Batch
from trefpunt.microtasks.quality import batch_fit
from trefpunt.microtasks.services.fit_store import (
    ResultText,
    _distinct,
    _distinct_columns,
    _fit_columns_by_item,
    fit_columns,
    single_fields,
)
from trefpunt.microtasks.services.stopping import fit_stopping

FORMS: list[list[dict[str, Any]]] = [
    [{"name": "label", "type": "single", "choices": [{"value": v} for v in "abc"]}],
    [
        {"name": "kind", "type": "single", "choices": [{"value": v} for v in ("x", "y")]},
        {"name": 'a"%', "type": "single", "choices": [{"value": v} for v in ("ÿ", "z", "w")]},
    ],
]


def _random_fit(rng: random.Random, form: list[dict[str, Any]], method: str) -> Any:
    n_items = rng.randint(1, 60)
    item_ids = sorted(rng.sample(range(1, 10_000), n_items))
    workers = list(range(100, 100 + rng.randint(1, 12)))
    truth = {pk: {f["name"]: rng.choice(f["choices"])["value"] for f in form} for pk in item_ids}
    answers = []
    for pk in item_ids:
        for worker in rng.sample(workers, rng.randint(0, min(5, len(workers)))):
            data: dict[str, Any] = {}
            for f in form:
                if rng.random() < 0.1:
                    continue  # a field left out
                right = rng.random() < 0.75
                value = truth[pk][f["name"]] if right else rng.choice(f["choices"])["value"]
                data[f["name"]] = value if rng.random() > 0.03 else "not a choice"
            answers.append((pk, worker, data))
    gold = {pk: truth[pk] for pk in item_ids if rng.random() < 0.1}
    fit = batch_fit(
        form=form, method=method, item_ids=item_ids, answers=answers, gold=gold, gold_counts={}
    )
    batch = Batch(form=form, confidence_target=0.9, min_answers=2, max_answers=5)
    if rng.random() < 0.7:
        fit_stopping(batch=batch, fit=fit, gold=gold)
    return fit, np.asarray(item_ids, dtype=np.int64)


@pytest.mark.parametrize("method", [m.value for m in Batch.Method])
def test_result_texts_from_the_columns_equal_those_of_each_item_result(method):
    rng = random.Random(f"texts-{method}")
    for _ in range(40):
        form = rng.choice(FORMS)
        fit, ids = _random_fit(rng, form, method)
        fields = single_fields(form)
        assert fields is not None
        by_columns = fit_columns(fit, ids, ResultText(fields))
        # The per-item construction (``ItemResult`` per item, ``ResultText`` on its dicts).
        fit.columns, columns = None, fit.columns
        by_item = _fit_columns_by_item(fit, ids, ResultText(fields))
        fit.columns = columns
        assert by_columns.answer_text == by_item.answer_text
        assert by_columns.details_text == by_item.details_text
        for name in ("counted", "confidence", "has_stop", "stop_confidence", "stop_agreeing"):
            np.testing.assert_array_equal(getattr(by_columns, name), getattr(by_item, name))


def test_rounded_is_pythons_round():
    rng = np.random.default_rng(6)
    halves = (np.arange(50_000) + 0.5) / 1e6
    values = np.concatenate(
        [
            rng.random(50_000),
            rng.normal(size=20_000) * 1e4,
            halves,
            np.nextafter(halves, 1.0),
            np.nextafter(halves, 0.0),
            [0.0, -0.0, -4e-7, 0.1234565, 0.9999995, 1e300, np.inf, -np.inf, np.nan, 5e-324],
        ]
    )
    expected = [round(v, 6) for v in values.tolist()]
    got = rounded(values, 6)
    for a, b in zip(got, expected, strict=True):
        assert (a == b and np.signbit(a) == np.signbit(b)) or (a != a and b != b)


def test_sort_based_distinct_values_equal_numpys():
    rng = np.random.default_rng(7)
    for values in (
        rng.integers(0, 50, 1000),
        rng.integers(-(2**40), 2**40, 1000),
        np.zeros(0, dtype=np.int64),
        np.asarray([3]),
    ):
        np.testing.assert_array_equal(sorted_distinct(values), np.unique(values))
        distinct, inverse = _distinct(values)
        want, want_inverse = np.unique(values, return_inverse=True)
        np.testing.assert_array_equal(distinct, want)
        np.testing.assert_array_equal(inverse, want_inverse.reshape(-1))
    code = rng.integers(0, 4, (3, 500))
    combos, inverse = _distinct_columns(code, [4, 4, 4])
    np.testing.assert_array_equal(combos[:, inverse], code)
    assert combos.shape[1] == np.unique(code, axis=1).shape[1]
