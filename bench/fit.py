"""Benchmark the full fit of a large microtask batch on PostgreSQL.

    python bench/fit.py [--items 100000] [--answers 3] [--workers 300] [--repeat 2]

Loads a published batch of ``--items`` items with ``--answers`` answers each from
``--workers`` workers (items, leases and answers arrive by ``COPY``; the batch is created,
funded and published through the services, as in ``bench/scheduler.py``) into the database
of ``DATABASE_URL`` (default ``postgres://postgres@127.0.0.1:5432/bench_scheduler``; only
127.0.0.1), then times ``batch_aggregate`` — the full fit the task worker runs every so many
answers — and, in the same run, the statistics alone (``quality.batch_fit`` on the same
answers, already in memory), so the rest is reading and moving rows. Each repeat makes the
fit see new work (its ``quality_version`` goes up): the first run stores every item's first
result, later runs find the same results and write no item row. Inside each fit the
statistics, the worker rows and the item results are timed apart.
Prints the load average with the figures.
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

from bench.scheduler import (
    DEFAULT_DATABASE_URL,
    _local_only,
    batch_load,
    database_ensure,
    django_setup,
)


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
        columns = "batch_id, item_id, worker_id, status, created_at, expires_at, finished_at"
        with raw.copy(f"COPY {Lease._meta.db_table} ({columns}) FROM STDIN") as copy:
            for item, worker in pairs:
                copy.write_row((batch_id, item, worker, "submitted", now, later, now))
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


PHASES = ("batch_fit", "_batch_workers_store_unlocked", "_fit_items_store_guarded")


def phases_timed() -> dict[str, float]:
    """Time the parts of ``batch_aggregate`` (the statistics, the worker rows, the items'
    results) by wrapping them in the aggregation service module; the rest is reading."""
    import functools

    from trefpunt.microtasks.services import aggregation

    spent: dict[str, float] = dict.fromkeys(PHASES, 0.0)
    for name in PHASES:
        original = getattr(aggregation, name, None)
        if original is None:
            continue

        @functools.wraps(original)
        def timed(*args: Any, _name: str = name, _original: Any = original, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return _original(*args, **kwargs)
            finally:
                spent[_name] += time.perf_counter() - started

        setattr(aggregation, name, timed)
    return spent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--answers", type=int, default=3)
    parser.add_argument("--workers", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args(argv)
    if not 1 <= args.items <= 1_000_000 or not 1 <= args.answers <= 10:
        parser.error("--items up to 1,000,000, --answers up to 10")
    if not args.answers <= args.workers <= 10_000 or not 1 <= args.repeat <= 10:
        parser.error("--workers between --answers and 10,000, --repeat up to 10")
    url = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    if not url.startswith(("postgres://", "postgresql://")):
        sys.exit("The fit bench needs PostgreSQL: set DATABASE_URL=postgres://…")
    _local_only(url, "DATABASE_URL")
    database_ensure(url)
    django_setup(url)
    from django.core.management import call_command
    from django.db.models import F

    from trefpunt.microtasks.models import Answer, Batch, Item
    from trefpunt.microtasks.quality import batch_fit
    from trefpunt.microtasks.services import batch_aggregate

    call_command("migrate", verbosity=0)
    run = time.strftime("%Y%m%d%H%M%S")
    started = time.perf_counter()
    batch_id = batch_load(items=args.items, redundancy=args.answers, run=f"fit-{run}", quiet=True)
    answers_load(batch_id=batch_id, answers=args.answers, workers=args.workers, run=run)
    print(
        f"loaded {args.items:,} items × {args.answers} answers from {args.workers} workers"
        f" in {time.perf_counter() - started:.1f} s"
    )
    batch = Batch.objects.get(pk=batch_id)
    item_ids = list(
        Item.objects.filter(batch_id=batch_id).order_by("pk").values_list("pk", flat=True)
    )
    answers = list(
        Answer.objects.filter(batch_id=batch_id)
        .order_by("item_id", "pk")
        .values_list("item_id", "worker_id", "data")
    )
    spent = phases_timed()
    for attempt in range(1, args.repeat + 1):
        for name in spent:
            spent[name] = 0.0
        Batch.objects.filter(pk=batch_id).update(quality_version=F("quality_version") + 1)
        load = os.getloadavg()[0]
        started = time.perf_counter()
        batch_fit(
            form=batch.form,
            method=batch.aggregation_method,
            item_ids=item_ids,
            answers=answers,
            gold={},
            gold_counts={},
        )
        statistics = time.perf_counter() - started
        started = time.perf_counter()
        stored = batch_aggregate(batch_id=batch_id)
        full = time.perf_counter() - started
        complete = Item.objects.filter(batch_id=batch_id, status=Item.Status.COMPLETE).count()
        print(
            f"run {attempt}: full fit {full:.2f} s (stored: {stored}), statistics alone"
            f" {statistics:.2f} s = {statistics / full:.0%} of it; items complete"
            f" {complete:,}; load average {load:.2f} → {os.getloadavg()[0]:.2f}"
        )
        reading = full - sum(spent.values())
        print(
            f"  inside the fit: statistics {spent['batch_fit']:.2f} s, worker rows"
            f" {spent['_batch_workers_store_unlocked']:.2f} s, item results"
            f" {spent['_fit_items_store_guarded']:.2f} s, reading and the rest {reading:.2f} s"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
