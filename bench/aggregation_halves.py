"""Held-out check of the default aggregator: random halves of every shared dataset.

    python bench/aggregation_halves.py [--datasets DIR] [--seeds 3]

A change that wins only on the shared datasets as they are is tuning. Here every dataset is
also cut, for each seed, into a random half of its *workers* (``wh``: all their answers, the
others' none) and a random half of its *answers* (``ah``), workers renumbered; the default
(``ds``) is scored against the best of majority vote, Wawa and one-coin DS (ours or
crowd-kit's, whichever is higher) and crowd-kit's DawidSkene on each, as in
``bench/aggregation.py``. It prints one line per (dataset, cut) and a summary: the mean and
worst difference and how many cuts are more than 0.1 point below the best.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.aggregation import (
    Dataset,
    _fit_labels,
    crowdkit_classes,
    default_datasets,
    load_folder,
    print_table,
)

BASELINES = ("mv", "wmv", "ods", "ck:mv", "ck:wmv", "ck:ods", "ck:ds")


def renumbered(d: Dataset, keep: np.ndarray) -> Dataset:
    """The answers where ``keep`` holds, workers renumbered 0..n-1."""
    unique, inverse = np.unique(d.workers[keep], return_inverse=True)
    return replace(
        d,
        items=d.items[keep],
        workers=inverse.astype(np.intp),
        labels=d.labels[keep],
        n_workers=int(unique.size),
    )


def cuts(d: Dataset, seeds: int) -> list[tuple[str, Dataset]]:
    out = [("all", d)]
    for seed in range(seeds):
        rng = np.random.default_rng(100 + seed)
        half_workers = rng.random(d.n_workers) < 0.5
        out.append((f"wh{seed}", renumbered(d, half_workers[d.workers])))
        out.append((f"ah{seed}", renumbered(d, rng.random(d.items.size) < 0.5)))
    return out


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=Path, default=None)
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args(argv)
    folder = args.datasets or default_datasets()
    real = [load_folder(p) for p in sorted(folder.iterdir()) if (p / "answer.csv").exists()]
    ck: dict[str, Any] = crowdkit_classes()
    methods = [m for m in BASELINES if not m.startswith("ck:") or m[3:] in ck]
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    body, gaps = [], []
    for data in real:
        for name, cut in cuts(data, args.seeds):
            acc = {m: cut.accuracy(_fit_labels(m, cut, ck)) for m in [*methods, "ds"]}
            best_method = max(methods, key=lambda m: acc[m])
            gap = acc["ds"] - acc[best_method]
            gaps.append(gap)
            body.append(
                [
                    data.name,
                    name,
                    f"{acc['ds']:.2f}",
                    best_method,
                    f"{acc[best_method]:.2f}",
                    f"{gap:+.2f}",
                ]
            )
    print_table(["dataset", "cut", "ds", "best baseline", "its accuracy", "ds - best"], body)
    arr = np.asarray(gaps)
    print(
        f"\nds - best: mean {arr.mean():+.3f} pt, worst {arr.min():+.2f} pt, "
        f"{int((arr < -0.1).sum())} of {arr.size} cuts more than 0.1 pt below"
    )
    print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
