"""Peak memory of ``trefpunt aggregate`` on a 200 MB answers file, against the file's size.

    python bench/aggregation_cli_memory.py [--answers 6000000] [--classes 3] [--keep DIR]

Writes a synthetic ``question,worker,answer`` CSV (mixed-skill workers, fixed seed; ids
padded so that the file is about 33 bytes a row, about 200 MB for 6,000,000 answers) to a
temporary directory, runs the CLI on it in a fresh interpreter and reads that process's peak
resident memory (``ru_maxrss`` of the child). Prints the file size, the peak, their ratio
and the load average. Issue 14 asks for a peak under 4x the file size.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from trefpunt.microtasks.aggregation.synthetic import mixed_skill_dataset

SEED = 20240514


def write_file(path: Path, n_answers: int, n_classes: int) -> None:
    per_item = 10
    data = mixed_skill_dataset(
        SEED,
        n_items=n_answers // per_item,
        n_workers=20_000,
        n_classes=n_classes,
        answers_per_item=per_item,
    )
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("question,worker,answer\n")
        chunk = 500_000
        for start in range(0, data.items.size, chunk):
            stop = start + chunk
            rows = zip(
                data.items[start:stop].tolist(),
                data.workers[start:stop].tolist(),
                data.labels[start:stop].tolist(),
                strict=True,
            )
            handle.write("".join(f"item-{i:09d},worker-{w:07d},label-{lb}\n" for i, w, lb in rows))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answers", type=int, default=6_000_000)
    parser.add_argument("--classes", type=int, default=3)
    parser.add_argument("--method", default="ds")
    args = parser.parse_args(argv)
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "answers.csv"
        write_file(path, args.answers, args.classes)
        size = path.stat().st_size
        script = (
            "import sys; from trefpunt.microtasks.aggregation.cli import main; "
            "sys.exit(main(sys.argv[1:], sys.stdout, sys.stderr))"
        )
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-c", script, str(path), "--method", args.method],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            check=False,
        )
        seconds = time.perf_counter() - start
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024  # KiB on Linux
    print(f"answers: {args.answers:,}, classes: {args.classes}, method: {args.method}")
    print(f"file size: {size / 1e6:.1f} MB")
    print(f"peak memory of the CLI: {peak / 1e6:.1f} MB = {peak / size:.2f}x the file")
    print(f"time: {seconds:.1f} s, exit status {done.returncode}")
    if done.stderr:
        print(done.stderr.decode().strip())
    print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"- [{'x' if peak < 4 * size else ' '}] peak under 4x the file size")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
