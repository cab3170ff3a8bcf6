"""Benchmark the full fit of a large microtask batch on PostgreSQL.

    python bench/fit.py [--items 100000] [--answers 3] [--workers 300] [--repeat 2]
                        [--batch ID]

Loads a published batch of ``--items`` items with ``--answers`` answers each from
``--workers`` workers (items, leases and answers arrive by ``COPY``; the batch is created,
funded and published through the services, as in ``bench/scheduler.py``) into the database
of ``DATABASE_URL`` (default ``postgres://postgres@127.0.0.1:5432/bench_scheduler``; only
127.0.0.1), or takes the loaded batch ``--batch``, then times ``batch_aggregate`` — the full
fit the task worker runs every so many answers — in wall and CPU seconds, with each phase
apart (``Phases``: reading, the statistics — ``quality.batch_fit`` and the stopping rule —,
settling, comparing, writing) and the item rows it wrote, PostgreSQL's CPU seconds (the
fit's backend and those of its side connections, ``ServerCpu``), and before it the statistics
alone (``quality.batch_fit`` on the same answers, already in memory, outside the fit).
Each repeat makes the fit see new work (its ``quality_version`` goes up): the first run on
a new batch stores every item's first result, later runs find the same results and write
no item row. Prints the load average with the figures. Before the first fit the process
imports the URLconf, as the task worker does when it starts (``_worker_warm``).

``full_fit_figures(items)`` does the same for another script (``bench/aggregation.py``):
a first fit and a refit of a new batch, returned as a dict.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.scheduler import batch_load, postgres_ready


def answers_load(*, batch_id: int, answers: int, workers: int, run: str) -> None:
    """``answers`` answers per item of the batch, each from a different worker, with their
    (submitted) leases, by ``COPY``; the items' counts and the batch counter follow."""
    from django.contrib.auth.hashers import make_password
    from django.db import connection
    from django.utils import timezone

    from trefpunt.accounts.models import User
    from trefpunt.microtasks.models import Answer, AnswerTally, Item, Lease

    User.objects.bulk_create(
        [
            User(email=f"fit-{run}-{i}@example.org", password=make_password(None))
            for i in range(workers)
        ]
    )
    worker_ids = list(
        User.objects.filter(email__startswith=f"fit-{run}-").values_list("pk", flat=True)
    )
    item_ids = list(
        Item.objects.filter(batch_id=batch_id).order_by("pk").values_list("pk", flat=True)
    )
    rng = random.Random(20240501)
    now = timezone.now()
    later = now + timedelta(minutes=10)
    pairs = [(item, w) for item in item_ids for w in rng.sample(worker_ids, answers)]
    with connection.cursor() as cursor:
        raw = cursor.cursor
        columns = "batch_id, item_id, worker_id, slot, status, created_at, expires_at, finished_at"
        with raw.copy(f"COPY {Lease._meta.db_table} ({columns}) FROM STDIN") as copy:
            for item, worker in pairs:
                copy.write_row((batch_id, item, worker, 0, "submitted", now, later, now))
        cursor.execute(
            f"SELECT id, item_id, worker_id FROM {Lease._meta.db_table} WHERE batch_id = %s",
            [batch_id],
        )
        leases = cursor.fetchall()
        columns = (
            "batch_id, item_id, worker_id, lease_id, data, working_seconds, status,"
            " reject_reason, appeal_message, appeal_note, paid_reward, created_at"
        )
        with raw.copy(f"COPY {Answer._meta.db_table} ({columns}) FROM STDIN") as copy:
            for lease_id, item, worker in leases:
                label = "abc"[0 if rng.random() < 0.8 else rng.randrange(3)] if item % 2 else "b"
                data = json.dumps({"label": label})
                copy.write_row(
                    (batch_id, item, worker, lease_id, data, 10, "pending", "", "", "", 0, now)
                )
        cursor.execute(
            f"UPDATE {Item._meta.db_table} SET answers_count = %s, answers_target = %s"
            " WHERE batch_id = %s",
            [answers, answers, batch_id],
        )
        for table in (Lease, Answer, Item):
            cursor.execute(f"ANALYZE {table._meta.db_table}")
    AnswerTally.objects.create(batch_id=batch_id, shard=0, answers=len(pairs))


# The parts of ``batch_aggregate`` timed apart, as the aggregation service module names them.
PHASES = (
    ("items_snapshot", "items read"),
    ("answers_read", "answers read"),
    ("batch_fit", "statistics"),
    ("fit_stopping", "stopping rule"),
    ("_batch_workers_store_unlocked", "worker rows"),
    ("fit_columns", "results as columns"),
    ("settle_columns", "settling"),
    ("changed_rows", "comparing"),
    ("items_store_guarded", "item rows written"),
    ("items_moved", "moved items read"),
    ("_fit_items_store_locked", "recombined under lock"),
)


TICK = 1 / os.sysconf("SC_CLK_TCK")


def backend_cpu(pid: int) -> float:
    """CPU seconds (user + system) a PostgreSQL backend has used so far (/proc; the bench's
    PostgreSQL is on 127.0.0.1)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * TICK


class ServerCpu:
    """PostgreSQL's CPU seconds for a fit: the fit's own backend (before and after) and its
    side connections' backends (``fit_store.SideConnections``: read as each set closes, from
    their start). Parallel query workers are not counted (the fit's queries use none)."""

    def __init__(self) -> None:
        from trefpunt.microtasks.services import fit_store

        self.side = 0.0
        original = fit_store.SideConnections.close

        def close(connections: Any) -> None:
            for thread in connections.threads:
                thread.shutdown(wait=True)
            for opened in connections.raw:
                if opened.exception() is None:
                    self.side += backend_cpu(opened.result().info.backend_pid)
            original(connections)

        fit_store.SideConnections.close = close  # type: ignore[method-assign,assignment]

    def own(self) -> float:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            return backend_cpu(cursor.fetchone()[0])


class Phases:
    """Wall and CPU seconds of each phase of ``batch_aggregate``, by wrapping the functions
    in the aggregation service module; also the item rows the guarded writes changed."""

    def __init__(self) -> None:
        import functools

        from trefpunt.microtasks.services import aggregation

        self.wall: dict[str, float] = {}
        self.cpu: dict[str, float] = {}
        self.written = 0
        for name, _label in PHASES:
            original = getattr(aggregation, name, None)
            if original is None:
                continue

            @functools.wraps(original)
            def timed(*args: Any, _name: str = name, _original: Any = original, **kw: Any) -> Any:
                wall, cpu = time.perf_counter(), time.process_time()
                try:
                    result = _original(*args, **kw)
                finally:
                    self.wall[_name] = self.wall.get(_name, 0.0) + time.perf_counter() - wall
                    self.cpu[_name] = self.cpu.get(_name, 0.0) + time.process_time() - cpu
                if _name == "items_store_guarded":
                    self.written += int(result)
                return result

            setattr(aggregation, name, timed)

    def reset(self) -> None:
        self.wall.clear()
        self.cpu.clear()
        self.written = 0

    def statistics(self) -> float:
        return self.wall.get("batch_fit", 0.0) + self.wall.get("fit_stopping", 0.0)

    def line(self, full: float) -> str:
        parts = [
            f"{label} {self.wall[name]:.2f} s (cpu {self.cpu[name]:.2f})"
            for name, label in PHASES
            if name in self.wall
        ]
        rest = full - sum(self.wall.values())
        return "  inside the fit: " + ", ".join(parts) + f", the rest {rest:.2f} s"


def fit_once(batch_id: int, phases: Phases, server: ServerCpu) -> dict[str, float]:
    """One full fit of the batch after its quality version went up (so it finds new work)."""
    from django.db.models import F

    from trefpunt.microtasks.models import Batch
    from trefpunt.microtasks.services import batch_aggregate

    Batch.objects.filter(pk=batch_id).update(quality_version=F("quality_version") + 1)
    phases.reset()
    server.side = 0.0
    own = server.own()
    load = os.getloadavg()[0]
    wall, cpu = time.perf_counter(), time.process_time()
    stored = batch_aggregate(batch_id=batch_id)
    full = time.perf_counter() - wall
    cpu = time.process_time() - cpu
    return {
        "full": full,
        "cpu": cpu,
        "server_cpu": server.own() - own + server.side,
        "statistics": phases.statistics(),
        "written": phases.written,
        "stored": float(stored),
        "load_before": load,
        "load_after": os.getloadavg()[0],
    }


def _setup(url: str | None = None) -> None:
    postgres_ready(url, "fit")


def _worker_warm() -> None:
    """Import the URLconf, as the task worker does when it starts (``db_worker`` runs the
    system checks, which import it). A fit that finishes the batch names pages in its
    notification; without this the bench's first fit paid the import, about half a second
    a worker pays once in its life, not per fit."""
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 - the import is the point


def _load(items: int, answers: int, workers: int) -> int:
    run = time.strftime("%Y%m%d%H%M%S")
    batch_id = batch_load(items=items, redundancy=answers, run=f"fit-{run}", quiet=True)
    answers_load(batch_id=batch_id, answers=answers, workers=workers, run=run)
    return batch_id


def full_fit_figures(items: int = 100_000, *, url: str | None = None) -> dict[str, float]:
    """Load a batch of ``items`` items × 3 answers from 300 workers and time its first full
    fit (every item gets its first result) and a refit (same results, no item row written):
    seconds of each, the statistics inside the first (``quality.batch_fit`` and the
    stopping rule) and their share of it, the item rows each wrote, and the load average.
    Sets Django up on ``url`` (or ``DATABASE_URL``) unless it is already."""
    from django.conf import settings

    if not settings.configured:
        _setup(url)
    batch_id = _load(items, 3, 300)
    _worker_warm()
    phases, server = Phases(), ServerCpu()
    first = fit_once(batch_id, phases, server)
    refit = fit_once(batch_id, phases, server)
    return {
        "items": float(items),
        "first_fit_s": first["full"],
        "refit_s": refit["full"],
        "statistics_s": first["statistics"],
        "statistics_share": first["statistics"] / first["full"],
        "refit_statistics_s": refit["statistics"],
        "first_fit_cpu_s": first["cpu"],
        "first_fit_server_cpu_s": first["server_cpu"],
        "refit_cpu_s": refit["cpu"],
        "refit_server_cpu_s": refit["server_cpu"],
        "first_fit_rows": first["written"],
        "refit_rows": refit["written"],
        "load_average": first["load_before"],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--answers", type=int, default=3)
    parser.add_argument("--workers", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--batch", type=int, help="fit this already loaded batch again")
    args = parser.parse_args(argv)
    if not 1 <= args.items <= 1_000_000 or not 1 <= args.answers <= 10:
        parser.error("--items up to 1,000,000, --answers up to 10")
    if not args.answers <= args.workers <= 10_000 or not 1 <= args.repeat <= 10:
        parser.error("--workers between --answers and 10,000, --repeat up to 10")
    _setup()
    from trefpunt.microtasks.models import Answer, Batch, Item
    from trefpunt.microtasks.quality import batch_fit

    started = time.perf_counter()
    batch_id = args.batch or _load(args.items, args.answers, args.workers)
    n_items = Item.objects.filter(batch_id=batch_id).count()
    print(f"batch {batch_id}: {n_items:,} items ready in {time.perf_counter() - started:.1f} s")
    batch = Batch.objects.get(pk=batch_id)
    item_ids = list(
        Item.objects.filter(batch_id=batch_id).order_by("pk").values_list("pk", flat=True)
    )
    answers = list(
        Answer.objects.filter(batch_id=batch_id)
        .order_by("item_id", "pk")
        .values_list("item_id", "worker_id", "data")
    )
    _worker_warm()
    phases, server = Phases(), ServerCpu()
    for attempt in range(1, args.repeat + 1):
        started = time.perf_counter()
        batch_fit(
            form=batch.form,
            method=batch.aggregation_method,
            item_ids=item_ids,
            answers=answers,
            gold={},
            gold_counts={},
        )
        alone = time.perf_counter() - started
        run = fit_once(batch_id, phases, server)
        complete = Item.objects.filter(batch_id=batch_id, status=Item.Status.COMPLETE).count()
        print(
            f"run {attempt}: full fit {run['full']:.2f} s (cpu {run['cpu']:.2f} s, PostgreSQL"
            f" cpu {run['server_cpu']:.2f} s, stored:"
            f" {bool(run['stored'])}, item rows written {run['written']:,.0f}); statistics"
            f" inside {run['statistics']:.2f} s = {run['statistics'] / run['full']:.0%} of it"
            f" (batch_fit alone before it {alone:.2f} s); items complete {complete:,};"
            f" load average {run['load_before']:.2f} → {run['load_after']:.2f}"
        )
        print(phases.line(run["full"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
