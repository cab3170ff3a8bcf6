"""A synthetic check of the default aggregator that no choice was made on (issue 14).

    python bench/aggregation_synthetic.py [--seeds 8] [--spam 0.08] [--classes 2 3 5]

The shared datasets are few, and every change to ``ds`` was judged on them; this draws
batches of another kind, with what the unseen datasets are said to have: 1,500 questions,
300 workers with a heavy-tailed workload (a Zipf exponent of 0.6 or 1.1 on who answers),
two, three or five classes, three or five answers per question, a skewed class prior.
A worker's accuracy on true class ``k`` is ``sigmoid(a_w + b_k + e_wk)`` (worker skill, class
difficulty, worker × class; normal with sd 1, 0.7, 0.7 around 1.5), the wrong answers split
at random, and a share of the workers (``--spam``) give one fixed answer almost always.
It prints the mean accuracy of ``ds``, majority vote, Wawa, one-coin DS and crowd-kit's
DawidSkene per setting and over all fits.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.aggregation import _ck_frame, crowdkit_classes, crowdkit_labels, print_table
from trefpunt.microtasks.aggregation import (
    dawid_skene,
    majority_vote,
    one_coin_dawid_skene,
    weighted_majority_vote,
)

N_ITEMS = 1_500
N_WORKERS = 300


def planted(
    seed: int, n_classes: int, answers: int, zipf: float, spam: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(items, workers, labels, truth) of one synthetic batch."""
    rng = np.random.default_rng(seed)
    prior = rng.dirichlet(np.full(n_classes, 2.0))
    skill = rng.normal(1.5, 1.0, N_WORKERS)
    difficulty = rng.normal(0.0, 0.7, n_classes)
    own = rng.normal(0.0, 0.7, (N_WORKERS, n_classes))
    accuracy = 1.0 / (1.0 + np.exp(-(skill[:, None] + difficulty[None, :] + own)))
    errors = rng.dirichlet(np.ones(n_classes - 1), size=(N_WORKERS, n_classes))
    confusion = np.empty((N_WORKERS, n_classes, n_classes))
    for k in range(n_classes):  # K is small
        others = np.arange(n_classes) != k
        confusion[:, k, k] = accuracy[:, k]
        confusion[:, k, others] = (1.0 - accuracy[:, k])[:, None] * errors[:, k]
    constant = rng.random(N_WORKERS) < spam
    fixed = rng.integers(0, n_classes, N_WORKERS)
    confusion[constant] = 0.02 / n_classes
    confusion[constant, :, fixed[constant]] += 0.98
    workload = np.arange(1, N_WORKERS + 1, dtype=np.float64) ** -zipf
    rng.shuffle(workload)
    # Distinct workers per question, drawn in proportion to the workload (Gumbel top-k).
    keys = np.log(workload)[None, :] - np.log(-np.log(rng.random((N_ITEMS, N_WORKERS))))
    workers = np.argpartition(-keys, answers - 1, axis=1)[:, :answers].reshape(-1)
    truth = rng.choice(n_classes, size=N_ITEMS, p=prior)
    items = np.repeat(np.arange(N_ITEMS), answers)
    cumulative = np.cumsum(confusion, axis=2)[workers, truth[items]]
    labels = np.minimum((rng.random(items.size)[:, None] > cumulative).sum(axis=1), n_classes - 1)
    return items, workers.astype(np.intp), labels.astype(np.intp), truth


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=8)
    parser.add_argument("--spam", type=float, default=0.08)
    parser.add_argument("--classes", type=int, nargs="+", default=[2, 3, 5])
    args = parser.parse_args(argv)
    ck: dict[str, Any] = crowdkit_classes()
    ours = {
        "ds": dawid_skene,
        "mv": majority_vote,
        "wmv": weighted_majority_vote,
        "ods": one_coin_dawid_skene,
    }
    methods = [*ours, *(["ck:ds"] if "ds" in ck else [])]
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    body: list[list[str]] = []
    everything: dict[str, list[float]] = {m: [] for m in methods}
    for n_classes in args.classes:
        for answers in (3, 5):
            for zipf in (0.6, 1.1):
                acc: dict[str, list[float]] = {m: [] for m in methods}
                for seed in range(args.seeds):
                    items, workers, labels, truth = planted(
                        1000 * n_classes + 10 * answers + seed, n_classes, answers, zipf, args.spam
                    )
                    sizes = {"n_items": N_ITEMS, "n_workers": N_WORKERS, "n_classes": n_classes}
                    for m in methods:
                        if m == "ck:ds":
                            frame = _ck_frame(items, workers, labels)
                            got = crowdkit_labels(ck["ds"]().fit_predict(frame), N_ITEMS)
                        else:
                            got = np.asarray(ours[m](items, workers, labels, **sizes).labels)
                        acc[m].append(100.0 * float(np.mean(got == truth)))
                for m in methods:
                    everything[m].extend(acc[m])
                body.append(
                    [str(n_classes), str(answers), f"{zipf:g}"]
                    + [f"{np.mean(acc[m]):.2f}" for m in methods]
                )
    body.append(["all", "", ""] + [f"{np.mean(everything[m]):.2f}" for m in methods])
    print_table(["classes", "answers", "zipf", *methods], body)
    print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
