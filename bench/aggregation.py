"""Benchmark answer aggregation against crowd-kit, and adaptive redundancy by replay.

    python bench/aggregation.py [--datasets DIR] [--repeat N] [--replay-seeds N]

Table 1 runs our methods (mv, wmv, ds, ods) and crowd-kit's counterparts (MajorityVote, Wawa,
DawidSkene, OneCoinDawidSkene — whichever are installed) on every dataset folder in
``../shared/datasets/truth`` (``answer.csv`` + ``truth.csv``) and on a synthetic batch of
1,000,000 answers (100,000 items x 10 answers, 1,000 workers of mixed skill, 5 classes, fixed
seed). Both sides get the same in-memory integer-coded answers: numpy arrays for us, a pandas
DataFrame built from those arrays *before* the clock starts for crowd-kit. Each timing is the
best of ``--repeat`` runs (default 5), for both sides alike. ``ratio`` is crowd-kit's time
divided by ours.

Table 2 replays each real dataset's answers in random order through adaptive redundancy
(min 3 answers, re-fit every 500 answers, several confidence targets) and compares the
answers used and the accuracy with Dawid-Skene on all answers; figures are means over
``--replay-seeds`` random orders.

The last lines check the acceptance criteria of the aggregation issue and say which hold.
crowd-kit is an optional dependency (the ``bench`` dependency group); without it the crowd-kit
rows and ratios are left out.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.aggregation_conditions import CONDITIONS, small_batches
from trefpunt.microtasks.aggregation import (
    dawid_skene,
    encode_answers,
    majority_vote,
    one_coin_dawid_skene,
    replay_adaptive,
    weighted_majority_vote,
)
from trefpunt.microtasks.aggregation.adaptive import DEFAULT_MIN_AGREEING, DEFAULT_TARGET
from trefpunt.microtasks.aggregation.synthetic import mixed_skill_dataset


def default_datasets() -> Path:
    """``$TREFPUNT_DATASETS``, else the first ``shared/datasets/truth`` above this checkout."""
    if os.environ.get("TREFPUNT_DATASETS"):
        return Path(os.environ["TREFPUNT_DATASETS"])
    for parent in Path(__file__).resolve().parents:
        candidate = parent / "shared" / "datasets" / "truth"
        if candidate.is_dir():
            return candidate
    return Path("shared/datasets/truth")


SYNTHETIC_SEED = 20240501
OURS: dict[str, Callable[..., Any]] = {
    "mv": majority_vote,
    "wmv": weighted_majority_vote,
    "ds": dawid_skene,
    "ods": one_coin_dawid_skene,
}
CROWDKIT_NAMES = {
    "mv": "MajorityVote",
    "wmv": "Wawa",
    "ds": "DawidSkene",
    "ods": "OneCoinDawidSkene",
}
REPLAY_TARGETS = (0.95, 0.99)
REPLAY_MIN_ANSWERS = 3
REPLAY_REFIT_EVERY = 500


@dataclass
class Dataset:
    name: str
    items: np.ndarray
    workers: np.ndarray
    labels: np.ndarray
    n_items: int
    n_workers: int
    n_classes: int
    truth_items: np.ndarray
    truth_labels: np.ndarray

    @property
    def sizes(self) -> dict[str, int]:
        return {"n_items": self.n_items, "n_workers": self.n_workers, "n_classes": self.n_classes}

    def accuracy(self, labels: np.ndarray) -> float:
        return float(np.mean(labels[self.truth_items] == self.truth_labels) * 100.0)


def load_folder(folder: Path) -> Dataset:
    with open(folder / "answer.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    with open(folder / "truth.csv", newline="", encoding="utf-8") as handle:
        truth = {r["question"]: r["truth"] for r in csv.DictReader(handle)}
    enc = encode_answers(
        [r["question"] for r in rows],
        [r["worker"] for r in rows],
        [r["answer"] for r in rows],
        label_names=sorted({r["answer"] for r in rows} | set(truth.values())),
    )
    item_index, label_index = enc.item_index(), enc.label_index()
    scored = [q for q in truth if q in item_index]
    return Dataset(
        name=folder.name,
        items=enc.items,
        workers=enc.workers,
        labels=enc.labels,
        n_items=enc.n_items,
        n_workers=enc.n_workers,
        n_classes=enc.n_classes,
        truth_items=np.array([item_index[q] for q in scored], dtype=np.intp),
        truth_labels=np.array([label_index[truth[q]] for q in scored], dtype=np.intp),
    )


def synthetic() -> Dataset:
    data = mixed_skill_dataset(
        SYNTHETIC_SEED, n_items=100_000, n_workers=1_000, n_classes=5, answers_per_item=10
    )
    return Dataset(
        name="synthetic_1m",
        items=data.items,
        workers=data.workers,
        labels=data.labels,
        n_items=data.n_items,
        n_workers=data.n_workers,
        n_classes=data.n_classes,
        truth_items=np.arange(data.n_items),
        truth_labels=data.truth,
    )


def best_time(fn: Callable[[], Any], repeat: int) -> tuple[Any, float]:
    best, out = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return out, best


def crowdkit_classes() -> dict[str, Any]:
    """Key -> a factory of objects with ``fit_predict(frame)``, for what crowd-kit has."""
    try:
        from crowdkit import aggregation as ck
    except ImportError:
        return {}
    found = {k: getattr(ck, v) for k, v in CROWDKIT_NAMES.items() if hasattr(ck, v)}
    if "wmv" in found:
        found["wmv"] = partial(_Wawa, ck)
    return found


class _Wawa:
    """crowd-kit's Wawa, fitted and applied as its own code does. Its ``predict`` calls
    scikit-learn's ``check_is_fitted``, which newer scikit-learn versions refuse on a class
    without scikit-learn tags; ``fit`` and the weighted ``MajorityVote`` are unaffected."""

    def __init__(self, ck: Any) -> None:
        self.ck = ck

    def fit_predict(self, frame: Any) -> Any:
        model = self.ck.Wawa().fit(frame)
        return self.ck.MajorityVote().fit(frame, skills=model.skills_).labels_


def crowdkit_labels(series: Any, n_items: int) -> np.ndarray:
    labels = series.reindex(range(n_items)).to_numpy(dtype=float, na_value=-1.0)
    return labels.astype(np.intp)


@dataclass
class Row:
    dataset: str
    method: str
    accuracy: float
    seconds: float
    ratio: float | None = None
    iterations: int | None = None


def run_methods(data: Dataset, repeat: int, ck: dict[str, Any]) -> list[Row]:
    rows: list[Row] = []
    frame = None
    if ck:
        import pandas as pd

        frame = pd.DataFrame({"task": data.items, "worker": data.workers, "label": data.labels})
    for key, fn in OURS.items():
        result, ours = best_time(
            partial(fn, data.items, data.workers, data.labels, **data.sizes), repeat
        )
        row = Row(data.name, key, data.accuracy(result.labels), ours, None, result.n_iterations)
        if key in ck and frame is not None:
            cls = ck[key]
            model = cls()
            try:
                predicted, theirs = best_time(partial(model.fit_predict, frame), repeat)
            except Exception as exc:  # a crowd-kit / scikit-learn version clash must not stop us
                print(f"crowd-kit {CROWDKIT_NAMES[key]} failed on {data.name}: {exc!r:.120}")
                rows.append(row)
                continue
            labels = crowdkit_labels(predicted, data.n_items)
            history = getattr(model, "loss_history_", None)
            rows.append(
                Row(
                    data.name,
                    f"crowd-kit {CROWDKIT_NAMES[key]}",
                    data.accuracy(labels),
                    theirs,
                    None,
                    len(history) if history is not None else None,
                )
            )
            row.ratio = theirs / ours
        rows.append(row)
    return rows


def print_table(headers: list[str], body: list[list[str]]) -> None:
    if not body:
        return
    widths = [max(len(h), *(len(r[i]) for r in body)) for i, h in enumerate(headers)]
    print("| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in body:
        print("| " + " | ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) + " |")


@dataclass
class ReplayRow:
    dataset: str
    target: float
    used: float
    total: int
    accuracy: float
    all_accuracy: float
    stated: np.ndarray  # calibrated confidence of the early-stopped truth items
    correct: np.ndarray  # whether their final answer is right


def run_replay(data: Dataset, seeds: int) -> list[ReplayRow]:
    full = dawid_skene(data.items, data.workers, data.labels, **data.sizes)
    rows = []
    for target in REPLAY_TARGETS:
        used, accuracy, stated, correct = [], [], [], []
        for seed in range(seeds):
            replay = replay_adaptive(
                data.items,
                data.workers,
                data.labels,
                n_items=data.n_items,
                n_workers=data.n_workers,
                n_classes=data.n_classes,
                target=target,
                min_answers=REPLAY_MIN_ANSWERS,
                refit_every=REPLAY_REFIT_EVERY,
                seed=seed,
            )
            used.append(replay.answers_used)
            accuracy.append(data.accuracy(replay.result.labels))
            early = replay.stopped_early[data.truth_items]
            stated.append(replay.stated[data.truth_items][early])
            correct.append(
                replay.result.labels[data.truth_items][early] == data.truth_labels[early]
            )
        rows.append(
            ReplayRow(
                data.name,
                target,
                float(np.mean(used)),
                int(data.items.size),
                float(np.mean(accuracy)),
                data.accuracy(full.labels),
                np.concatenate(stated),
                np.concatenate(correct),
            )
        )
    return rows


RELIABILITY_BINS = (0.95, 0.98, 0.99, 0.995, 0.999, 1.0000001)


def print_reliability(rows: list[ReplayRow]) -> None:
    """Stated (calibrated) confidence when an item stopped vs how often its final answer was
    right, over the early-stopped truth items of every dataset and seed, per target."""
    print("\n## Reliability of the stopping confidence (early-stopped items with a truth label)\n")
    body = []
    for target in REPLAY_TARGETS:
        stated = np.concatenate([r.stated for r in rows if r.target == target] or [np.zeros(0)])
        correct = np.concatenate([r.correct for r in rows if r.target == target] or [np.zeros(0)])
        for lo, hi in itertools.pairwise(RELIABILITY_BINS):
            inside = (stated >= lo) & (stated < hi)
            if inside.any():
                body.append(
                    [
                        f"{target:g}",
                        f"[{lo:g}, {min(hi, 1.0):g}{']' if hi > 1 else ')'}",
                        str(int(inside.sum())),
                        f"{stated[inside].mean():.4f}",
                        f"{correct[inside].mean():.4f}",
                    ]
                )
    print_table(["target", "stated", "items", "mean stated", "observed accuracy"], body)


def load_average() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg()) + f" ({os.cpu_count()} cores)"
    except OSError:
        return "n/a"


def _ck_frame(items: np.ndarray, workers: np.ndarray, labels: np.ndarray) -> Any:
    import pandas as pd

    return pd.DataFrame({"task": items, "worker": workers, "label": labels})


def _fit_labels(key: str, data: Any, ck: dict[str, Any]) -> np.ndarray:
    """Labels of one method on any dataset-like object; ``ck:`` keys are crowd-kit's."""
    if key.startswith("ck:"):
        name = key[3:]
        predicted = ck[name]().fit_predict(_ck_frame(data.items, data.workers, data.labels))
        return crowdkit_labels(predicted, data.n_items)
    result = OURS[key](data.items, data.workers, data.labels, **data.sizes)
    return np.asarray(result.labels)


def default_versus_baselines(rows: list[Row], real: list[Dataset]) -> list[tuple[str, bool]]:
    """The default (ds) beside the best of majority vote, Wawa, one-coin DS (ours or
    crowd-kit's, whichever is higher) and crowd-kit's DS, from the first table."""
    by = {(r.dataset, r.method): r.accuracy for r in rows}
    baselines = {
        "MV": ["mv", "crowd-kit MajorityVote"],
        "Wawa": ["wmv", "crowd-kit Wawa"],
        "one-coin": ["ods", "crowd-kit OneCoinDawidSkene"],
        "crowd-kit DS": ["crowd-kit DawidSkene"],
    }
    print("\n## The default (ds) against the baselines, all answers\n")
    body, checks = [], []
    for data in real:
        best_of = {
            name: max((by[data.name, k] for k in keys if (data.name, k) in by), default=0.0)
            for name, keys in baselines.items()
        }
        best = max(best_of.values())
        ours = by[data.name, "ds"]
        body.append(
            [
                data.name,
                f"{ours:.2f}",
                *(f"{v:.2f}" for v in best_of.values()),
                f"{ours - best:+.2f}",
            ]
        )
        checks.append(
            (f"ds on {data.name}: {ours - best:+.2f} pt vs best baseline", ours >= best - 0.1)
        )
    print_table(["dataset", "ds", *baselines, "ds - best"], body)
    return checks


SWEEP_METHODS = ("mv", "wmv", "ods", "ds", "ck:ds")


def small_batch_sweep(real: list[Dataset], ck: dict[str, Any]) -> list[tuple[str, bool]]:
    methods = [m for m in SWEEP_METHODS if not m.startswith("ck:") or m[3:] in ck]
    right = dict.fromkeys(methods, 0)
    overturned = dict.fromkeys(methods, 0)
    total = 0
    for batch in small_batches(real, n_batches=300, seed=7):
        unanimous = batch.unanimous()
        for m in methods:
            labels = _fit_labels(m, batch, ck)
            right[m] += int((labels == batch.truth).sum())
            overturned[m] += int(((unanimous >= 0) & (labels != unanimous)).sum())
        total += batch.n_items
    print(
        f"\n## Small-batch sweep: 300 batches of 3-12 questions x 3 answers, seed 7 "
        f"({total} questions)\n"
    )
    print_table(
        ["method", "accuracy %", "unanimous votes overturned"],
        [[m, f"{100.0 * right[m] / total:.2f}", str(overturned[m])] for m in methods],
    )
    acc = {m: 100.0 * right[m] / total for m in methods}
    return [
        (f"small batches: ds {acc['ds']:.2f}% >= mv {acc['mv']:.2f}%", acc["ds"] >= acc["mv"]),
        (f"small batches: ds overturned {overturned['ds']} unanimous votes", overturned["ds"] == 0),
    ]


COND_METHODS = ("mv", "wmv", "ods", "ck:ds", "ds")


def conditions_table(real: list[Dataset], ck: dict[str, Any]) -> list[tuple[str, bool]]:
    methods = [m for m in COND_METHODS if not m.startswith("ck:") or m[3:] in ck]
    print("\n## Unseen-like conditions (see bench/aggregation_conditions.py)\n")
    body = []
    worst_mv, worst_best = 0.0, 0.0
    gaps_best = []
    for cname, transform in CONDITIONS.items():
        for data in real:
            changed = transform(data)
            acc = {m: changed.accuracy(_fit_labels(m, changed, ck)) for m in methods}
            best = max(v for k, v in acc.items() if k != "ds")
            worst_mv = min(worst_mv, acc["ds"] - acc["mv"])
            worst_best = min(worst_best, acc["ds"] - best)
            gaps_best.append(acc["ds"] - best)
            body.append(
                [cname, data.name, *(f"{acc[m]:.2f}" for m in methods), f"{acc['ds'] - best:+.2f}"]
            )
    print_table(["condition", "dataset", *methods, "ds - best"], body)
    mean_gap = float(np.mean(gaps_best))
    print(
        f"\nds - best other: mean {mean_gap:+.2f} pt, worst {worst_best:+.2f} pt; "
        f"ds - mv worst {worst_mv:+.2f} pt"
    )
    return [
        (
            f"conditions: ds never more than 1 pt below majority vote ({worst_mv:+.2f})",
            worst_mv >= -1.0,
        )
    ]


LODO_GRID = {"CLASS_PSEUDO": (1.0, 10.0, 30.0), "POOL_STRENGTH": (2.0, 10.0, 30.0)}


def leave_one_dataset_out(real: list[Dataset]) -> None:
    """Choose the two fixed constants of the default on five datasets (mean accuracy over
    all answers, the four conditions and that dataset's small batches), score the sixth."""
    module = sys.modules[dawid_skene.__module__]
    saved = {k: getattr(module, k) for k in LODO_GRID}
    grid = [
        dict(zip(LODO_GRID, values, strict=True))
        for values in itertools.product(*LODO_GRID.values())
    ]
    score: dict[tuple[int, str], float] = {}
    for g, setting in enumerate(grid):
        for key, value in setting.items():
            setattr(module, key, value)
        for data in real:
            accs = [data.accuracy(_fit_labels("ds", data, {}))]
            for transform in CONDITIONS.values():
                changed = transform(data)
                accs.append(changed.accuracy(_fit_labels("ds", changed, {})))
            right = total = 0
            for batch in small_batches([data], n_batches=50, seed=11):
                right += int((_fit_labels("ds", batch, {}) == batch.truth).sum())
                total += batch.n_items
            accs.append(100.0 * right / total)
            score[g, data.name] = float(np.mean(accs))
    for key, value in saved.items():
        setattr(module, key, value)
    default = next(g for g, s in enumerate(grid) if all(s[k] == saved[k] for k in s))
    print("\n## Leave-one-dataset-out (mean of all answers, 4 conditions, 50 small batches)\n")
    body = []
    for data in real:
        others = [d.name for d in real if d.name != data.name]
        chosen = max(range(len(grid)), key=lambda g: np.mean([score[g, n] for n in others]))
        body.append(
            [
                data.name,
                ", ".join(f"{k}={v:g}" for k, v in grid[chosen].items()),
                f"{score[chosen, data.name]:.2f}",
                f"{score[default, data.name]:.2f}",
                f"{max(score[g, data.name] for g in range(len(grid))):.2f}",
            ]
        )
    print_table(["held out", "chosen on the others", "held-out score", "default", "best"], body)


def run_and_print_replay(real: list[Dataset], seeds: int) -> list[ReplayRow]:
    """Replay every shared dataset through adaptive redundancy and print the tables."""
    replay_rows: list[ReplayRow] = []
    for data in real:
        replay_rows.extend(run_replay(data, seeds))
    print(
        f"\n## Adaptive redundancy replay (min {REPLAY_MIN_ANSWERS} answers, re-fit every "
        f"{REPLAY_REFIT_EVERY} answers, mean of {seeds} random orders)\n"
    )
    print(
        "stop rule: leave-one-out confidence (the leader's lowest probability with any one "
        "answer left out), mapped through the batch's prefix calibration, >= target; >= "
        f"{REPLAY_MIN_ANSWERS} answers; >= {DEFAULT_MIN_AGREEING} distinct non-flagged workers "
        "giving the leading answer\n"
    )
    print_table(
        ["dataset", "target", "answers used", "saved", "accuracy %", "all answers %", "change"],
        [
            [
                r.dataset,
                f"{r.target:g}",
                f"{r.used:.0f} / {r.total}",
                f"{100.0 * (1.0 - r.used / r.total):.1f}%",
                f"{r.accuracy:.2f}",
                f"{r.all_accuracy:.2f}",
                f"{r.accuracy - r.all_accuracy:+.2f}",
            ]
            for r in replay_rows
        ],
    )

    print_reliability(replay_rows)
    return replay_rows


def acceptance_checks(
    rows: list[Row], real: list[Dataset], replay_rows: list[ReplayRow]
) -> list[tuple[str, bool]]:
    """The issue's acceptance lines, each with whether this run meets it."""
    checks: list[tuple[str, bool]] = []

    by = {(r.dataset, r.method): r for r in rows}
    for name, floor in (("zheng_d_product", 93.66), ("zheng_d_possent", 96.00)):
        if (name, "ds") in by:
            acc = by[name, "ds"].accuracy
            checks.append((f"ds on {name}: {acc:.2f}% >= {floor:.2f}%", acc >= floor))
    for data in real:
        ours_row, theirs_row = by[data.name, "ds"], by.get((data.name, "crowd-kit DawidSkene"))
        if theirs_row is not None:
            gap = ours_row.accuracy - theirs_row.accuracy
            checks.append((f"ds on {data.name}: {gap:+.2f} points vs crowd-kit", gap >= -0.3))
    if ("synthetic_1m", "ds") in by:
        ds = by["synthetic_1m", "ds"]
        checks.append((f"ds on 1M answers: {ds.seconds:.3f} s < 1.5 s", ds.seconds < 1.5))
        if ds.ratio is not None:
            other = by["synthetic_1m", "crowd-kit DawidSkene"]
            checks.append(
                (f"ds on 1M answers: {ds.ratio:.1f}x faster than crowd-kit", ds.ratio >= 5)
            )
            same = abs(ds.accuracy - other.accuracy) <= 0.1
            checks.append(
                (f"ds on 1M: {ds.accuracy:.2f}% vs crowd-kit {other.accuracy:.2f}%", same)
            )
    for r in replay_rows:
        if r.dataset == "zheng_d_possent":
            saved = 1.0 - r.used / r.total
            ok = saved >= 0.4 and r.accuracy - r.all_accuracy >= -0.5
            checks.append(
                (
                    f"adaptive on possent, target {r.target:g}: {saved * 100:.1f}% fewer answers, "
                    f"{r.accuracy - r.all_accuracy:+.2f} points",
                    ok,
                )
            )
    for r in replay_rows:
        if r.target == DEFAULT_TARGET:
            change = r.accuracy - r.all_accuracy
            checks.append(
                (
                    f"adaptive at the default target on {r.dataset}: {change:+.2f} points",
                    change >= -0.5,
                )
            )
    return checks


FULL_FIT_TARGET_S = 1.5


def full_fit_check(items: int) -> tuple[str, bool]:
    """The platform's full fit (``bench/fit.py``): first fit and refit, statistics share."""
    from bench.fit import full_fit_figures

    figures = full_fit_figures(items)
    print(f"\n## Full fit of {items:,} items × 3 answers (PostgreSQL)\n")
    print_table(
        [
            "fit",
            "seconds",
            "statistics s",
            "statistics share",
            "client cpu s",
            "PostgreSQL cpu s",
            "item rows written",
        ],
        [
            [
                "first",
                f"{figures['first_fit_s']:.2f}",
                f"{figures['statistics_s']:.2f}",
                f"{figures['statistics_share']:.0%}",
                f"{figures['first_fit_cpu_s']:.2f}",
                f"{figures['first_fit_server_cpu_s']:.2f}",
                f"{figures['first_fit_rows']:.0f}",
            ],
            [
                "refit",
                f"{figures['refit_s']:.2f}",
                f"{figures['refit_statistics_s']:.2f}",
                f"{figures['refit_statistics_s'] / figures['refit_s']:.0%}",
                f"{figures['refit_cpu_s']:.2f}",
                f"{figures['refit_server_cpu_s']:.2f}",
                f"{figures['refit_rows']:.0f}",
            ],
        ],
    )
    print(f"load average before the fits: {figures['load_average']}")
    slowest = max(figures["first_fit_s"], figures["refit_s"])
    return (
        f"full fit of {items:,} × 3 ≤ {FULL_FIT_TARGET_S} s (first {figures['first_fit_s']:.2f} s,"
        f" refit {figures['refit_s']:.2f} s)",
        slowest <= FULL_FIT_TARGET_S,
    )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=Path, default=None)
    parser.add_argument("--repeat", type=int, default=5, help="timing runs, best is kept")
    parser.add_argument("--replay-seeds", type=int, default=5)
    parser.add_argument("--no-synthetic", action="store_true", help="skip the 1M-answer batch")
    parser.add_argument("--no-replay", action="store_true", help="skip the replay tables")
    parser.add_argument("--no-conditions", action="store_true", help="skip thin/r3/rep/all")
    parser.add_argument("--lodo", action="store_true", help="leave-one-dataset-out check")
    parser.add_argument(
        "--full-fit",
        type=int,
        default=0,
        metavar="ITEMS",
        help="also time the platform's full fit of ITEMS items × 3 answers (bench/fit.py) on"
        " the PostgreSQL database of DATABASE_URL (127.0.0.1 only)",
    )
    args = parser.parse_args(argv)
    print(f"load average at start: {load_average()}\n")

    root = args.datasets or default_datasets()
    folders = sorted(p for p in root.iterdir() if (p / "answer.csv").exists())
    real = [load_folder(f) for f in folders]
    ck = crowdkit_classes()
    if not ck:
        print("crowd-kit is not installed: crowd-kit rows and ratios are left out\n")
    datasets = [*real] if args.no_synthetic else [*real, synthetic()]

    rows: list[Row] = []
    for data in datasets:
        rows.extend(run_methods(data, args.repeat, ck))
    print(f"## Accuracy and time (best of {args.repeat}; ratio = crowd-kit time / ours)\n")
    print_table(
        ["dataset", "method", "accuracy %", "time ms", "ratio", "iterations"],
        [
            [
                r.dataset,
                r.method,
                f"{r.accuracy:.2f}",
                f"{r.seconds * 1000:.1f}",
                "" if r.ratio is None else f"{r.ratio:.1f}x",
                "" if r.iterations is None else str(r.iterations),
            ]
            for r in rows
        ],
    )

    checks: list[tuple[str, bool]] = []
    checks.extend(default_versus_baselines(rows, real))
    checks.extend(small_batch_sweep(real, ck))
    if not args.no_conditions:
        checks.extend(conditions_table(real, ck))
    if args.lodo:
        leave_one_dataset_out(real)

    replay_rows = [] if args.no_replay else run_and_print_replay(real, args.replay_seeds)
    if args.full_fit:
        checks.append(full_fit_check(args.full_fit))
    print("\n## Acceptance checks\n")
    checks.extend(acceptance_checks(rows, real, replay_rows))
    for text, ok in checks:
        print(f"- [{'x' if ok else ' '}] {text}")
    print(f"\nload average at end: {load_average()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
