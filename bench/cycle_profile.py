"""Where one uncontended worker's claim → answer cycle spends its time (PostgreSQL).

    python bench/cycle_profile.py [--items 600] [--page-size 0] [--profile 25]

Loads a batch (``scheduler.batch_load``, 3 answers per item) and lets three workers answer
it one after the other (each answers every item once), so the cycles see what a live batch
has: earlier answers on the item, a fitted quality model, completing items. The third
worker's cycles are timed: wall and CPU per cycle (and per answer with ``--page-size``),
the share in the claim and in the answer, and with ``--profile N`` the N functions with the
most cumulative time under cProfile. Fits crossed inline (every so many answers) are
counted apart: the cycles that ran one are left out of the per-cycle figures.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.scheduler import (
    ESTIMATED_SECONDS,
    _bare_answer,
    _bare_claim,
    _label,
    bare_load,
    batch_load,
    postgres_ready,
    workers_create,
)

TICK = 1 / os.sysconf("SC_CLK_TCK")


def backend_cpu(pid: int) -> float:
    """CPU seconds (user + system) a PostgreSQL backend has used so far (/proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * TICK


def bare_cpu(url: str, items: int) -> tuple[float, float]:
    """The bare loop's CPU per cycle for one uncontended worker, its third answer on each
    item as in ``main``: (this process, its PostgreSQL backend), in seconds."""
    import psycopg

    bare_load(url=url, items=items, redundancy=3)
    with psycopg.connect(url, autocommit=True) as conn:
        pid = conn.execute("SELECT pg_backend_pid()").fetchone()[0]  # type: ignore[index]
        own = backend = 0.0
        cycles = 0
        for worker_id in (1, 2, 3):
            if worker_id == 3:
                own, backend, cycles = time.process_time(), backend_cpu(pid), 0
            while (row := _bare_claim(conn, worker_id)) is not None:
                _bare_answer(conn, worker_id, *row)
                cycles += worker_id == 3
        own, backend = time.process_time() - own, backend_cpu(pid) - backend
        conn.execute("DROP TABLE bench_bare_answer, bench_bare_lease, bench_bare_item")
    return own / max(1, cycles), backend / max(1, cycles)


def _cycle(batch_id: int, worker: object, page_size: int) -> tuple[float, float, int]:
    """One claim and its answers: (claim seconds, answer seconds, items answered)."""
    from trefpunt.microtasks.services import (
        lease_answer,
        lease_answer_page,
        lease_claim,
        lease_claim_page,
    )

    worker_id = worker.pk  # type: ignore[attr-defined]
    started = time.perf_counter()
    if page_size:
        page = lease_claim_page(batch_id=batch_id, worker=worker, size=page_size)  # type: ignore[arg-type]
    else:
        lease = lease_claim(batch_id=batch_id, worker=worker)  # type: ignore[arg-type]
        page = [] if lease is None else [lease]
    claimed = time.perf_counter()
    if not page:
        return claimed - started, 0.0, 0
    if page_size:
        lease_answer_page(
            worker=worker,  # type: ignore[arg-type]
            answers=[(lease.pk, _label(lease.item_id, worker_id)) for lease in page],
            seconds=ESTIMATED_SECONDS * len(page),
        )
    else:
        lease_answer(
            lease_id=page[0].pk,
            worker=worker,  # type: ignore[arg-type]
            answer=_label(page[0].item_id, worker_id),
            seconds=ESTIMATED_SECONDS,
        )
    return claimed - started, time.perf_counter() - claimed, len(page)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=600)
    parser.add_argument("--page-size", type=int, default=0)
    parser.add_argument("--profile", type=int, default=0, help="print the top N of cProfile")
    args = parser.parse_args(argv)
    url = postgres_ready(None, "cycle profile")
    from trefpunt.accounts.models import User
    from trefpunt.microtasks.models import Batch

    run = time.strftime("%Y%m%d%H%M%S")
    batch_id = batch_load(items=args.items, redundancy=3, run=f"{run}-prof", quiet=True)
    workers = [User.objects.get(pk=pk) for pk in workers_create(n=3, run=f"{run}-prof")]
    for worker in workers[:2]:  # the first two answers of every item
        while _cycle(batch_id, worker, args.page_size)[2]:
            pass
    worker = workers[2]
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    backend_total = 0.0
    profiler = cProfile.Profile() if args.profile else None
    claims: list[float] = []
    answers: list[float] = []
    cpu: list[float] = []
    fits = 0
    load = os.getloadavg()
    answered = 0
    while True:
        fitted = Batch.objects.filter(pk=batch_id).values_list("fit_through", flat=True)[0]
        cpu_started = time.process_time()
        backend_started = backend_cpu(pid)
        if profiler:
            profiler.enable()
        claim, answer, n = _cycle(batch_id, worker, args.page_size)
        # Read before the fit check below, whose query is the bench's, not the cycle's.
        cpu_used, backend_used = time.process_time() - cpu_started, backend_cpu(pid)
        backend_used -= backend_started
        if profiler:
            profiler.disable()
        if not n:
            break
        if Batch.objects.filter(pk=batch_id).values_list("fit_through", flat=True)[0] != fitted:
            fits += 1  # a full fit ran inline: not a cycle's cost
            continue
        cpu.append(cpu_used)
        backend_total += backend_used
        claims.append(claim)
        answers.append(answer)
        answered += n
    per = max(1, args.page_size)
    what = f"page of {args.page_size}" if args.page_size else "cycle"
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print(f"{len(claims)} {what}s timed ({answered} answers), {fits} with a full fit left out")
    print(
        f"per {what}: claim {statistics.median(claims) * 1000:.2f} ms, "
        f"answer{'s' if args.page_size else ''} {statistics.median(answers) * 1000:.2f} ms "
        f"(medians), CPU {statistics.median(cpu) * 1000:.2f} ms"
    )
    backend = backend_total / len(cpu)
    print(
        f"CPU per {what}: Python {statistics.fmean(cpu) * 1000:.2f} ms (mean), "
        f"PostgreSQL backend {backend * 1000:.2f} ms (mean)"
    )
    if not args.profile:
        own, bare_backend = bare_cpu(url, args.items)
        bare = own + bare_backend
        service = (statistics.fmean(cpu) + backend) / per
        print(
            f"bare loop CPU per cycle: Python {own * 1000:.2f} ms, PostgreSQL backend "
            f"{bare_backend * 1000:.2f} ms; service CPU per answer {service * 1000:.2f} ms; "
            f"bare / service = {bare / service:.1%}"
        )
    if args.page_size:
        print(
            f"per answer: {statistics.median(claims) * 1000 / per:.2f} ms claim + "
            f"{statistics.median(answers) * 1000 / per:.2f} ms answer, "
            f"CPU {statistics.median(cpu) * 1000 / per:.2f} ms"
        )
    if profiler:
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.sort_stats("cumulative").print_stats(args.profile)
        stats.sort_stats("tottime").print_stats(args.profile)
        print(out.getvalue())
    return 0


if __name__ == "__main__":
    sys.exit(main())
