"""Benchmark the microtask scheduler on PostgreSQL: many workers claiming and answering at once.

    python bench/scheduler.py [--items 100000] [--redundancy 3] [--workers 32]
                              [--mode processes|threads] [--timeout 3600] [--page-size 10]
    python bench/scheduler.py --serve 8765      # in a second terminal: a server for --http
    python bench/scheduler.py --http http://127.0.0.1:8765 [--items 3000] [--workers 8]

Service mode loads a batch of ``--items`` items (default 100,000) with ``--redundancy``
answers each (default 3) into the PostgreSQL database of ``DATABASE_URL`` (default
``postgres://postgres@127.0.0.1:5432/bench_scheduler``, created and migrated when missing;
items arrive by ``COPY``), publishes it through ``batch_publish`` (the escrow is funded
through the sandbox provider), then runs ``--workers`` concurrent workers (processes by
default, each with its own connection) that call ``lease_claim`` and ``lease_answer`` — the
service layer the pages and the API use — until nothing is left for them; with
``--page-size N``, ``lease_claim_page`` and ``lease_answer_page`` (a task page of N items).

HTTP mode does the same through the REST API of a server already running on 127.0.0.1 against
the same database: each of ``--workers`` clients (default 8) has its own personal access
token and loops ``POST /batches/{id}/next`` → ``POST /leases/{id}/answer`` until the server
answers 204. ``python bench/scheduler.py --serve 8765`` starts such a server (Django's
threaded development server on the bench database, without persistent connections: it runs a
thread per request, and with ``CONN_MAX_AGE`` every finished thread would keep its database
connection open until PostgreSQL refuses new clients).

Printed: claims per second, p50/p99 claim latency, and the checks — items over their target
(must be 0), duplicate (worker, item) answers (must be 0), items not complete (must be 0).
The exit status is non-zero when a check fails. Every loop is bounded in count and in time.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import LOCAL_HOSTS, database_ensure, django_setup

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/bench_scheduler"
REWARD = 5  # cents per answer
ESTIMATED_SECONDS = 10  # 5 cents in 10 s pays € 18.00 an hour
EMPTY_RETRIES = 3  # a worker told "nothing left" asks again this often before stopping


def _local_only(url: str, what: str) -> None:
    host = urlsplit(url).hostname or ""
    if host not in LOCAL_HOSTS:
        sys.exit(f"{what} must point at 127.0.0.1 (got {host or url!r}); this bench stays local.")


# --- loading -----------------------------------------------------------------------------------


def batch_load(*, items: int, redundancy: int, run: str, quiet: bool = False) -> int:
    """A published batch of ``items`` items: created and published through the services,
    the items copied in with ``COPY`` (a CSV upload would be the same rows, only slower)."""
    from django.db import connection

    from trefpunt.accounts.services import user_create
    from trefpunt.ledger.providers.sandbox import sandbox_notification, sandbox_sign
    from trefpunt.ledger.services import deposit_create, wallet_for_user, webhook_receive
    from trefpunt.microtasks.models import Batch, Item
    from trefpunt.microtasks.selectors import batch_funding
    from trefpunt.microtasks.services import batch_create, batch_publish

    client = user_create(email=f"bench-client-{run}@example.org", password=None)
    batch = batch_create(
        user=client,
        title=f"Scheduler bench {run}",
        form=[
            {
                "name": "label",
                "label": "Label",
                "type": "single",
                "choices": ["a", "b", "c"],
            }
        ],
        display=[{"column": "text", "widget": "text"}],
        reward=REWARD,
        estimated_seconds=ESTIMATED_SECONDS,
        min_answers=redundancy,
        max_answers=redundancy,
        lease_seconds=600,
    )
    started = time.perf_counter()
    columns = "batch_id, position, data, is_gold, answers_target, answers_count, status"
    with connection.cursor() as cursor:
        raw: Any = cursor.cursor
        with raw.copy(f"COPY {Item._meta.db_table} ({columns}) FROM STDIN") as copy:
            for position in range(1, items + 1):
                data = json.dumps({"text": f"item {position}"})
                copy.write_row((batch.pk, position, data, False, redundancy, 0, "open"))
        cursor.execute(f"ANALYZE {Item._meta.db_table}")
    Batch.objects.filter(pk=batch.pk).update(item_columns=["text"])
    loaded = time.perf_counter() - started
    funding = batch_funding(batch=batch)
    wallet = wallet_for_user(user=client)
    remaining = funding.total
    while remaining > 0:  # deposits have a maximum; pay in as many as needed
        from django.conf import settings

        amount = max(settings.MIN_DEPOSIT_CENTS, min(remaining, settings.MAX_DEPOSIT_CENTS))
        deposit = deposit_create(wallet=wallet, user=client, amount=amount)
        body = sandbox_notification(deposit, "paid")
        webhook_receive(provider="sandbox", body=body, headers=sandbox_sign(body))
        remaining -= amount
    batch_publish(batch_id=batch.pk, user=client)
    if not quiet:
        print(
            f"loaded {items:,} items × {redundancy} answers in {loaded:.1f} s; "
            f"escrow funded with € {funding.total / 100:,.2f}"
        )
    return int(batch.pk)


def workers_create(*, n: int, run: str) -> list[int]:
    from trefpunt.accounts.services import user_create

    return [
        user_create(email=f"bench-worker-{run}-{i}@example.org", password=None).pk for i in range(n)
    ]


# --- working -----------------------------------------------------------------------------------


@dataclass
class WorkerResult:
    claims: int = 0
    answers: int = 0
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def work_services(
    batch_id: int, user_id: int, limit: int, deadline: float, page_size: int = 0
) -> WorkerResult:
    """One worker through the service layer: claim, answer, until nothing is left for them.
    With ``page_size``, a page at a time (``lease_claim_page``, ``lease_answer_page``)."""
    from django.db import connection

    from trefpunt.accounts.models import User

    result = WorkerResult()
    worker = User.objects.get(pk=user_id)
    empty = 0
    try:
        for _ in range(limit):
            if time.monotonic() > deadline:
                result.errors.append("stopped at the time limit")
                break
            started = time.perf_counter()
            done = _service_cycle(batch_id, worker, page_size)
            result.latencies.append(time.perf_counter() - started)
            if not done:
                empty += 1
                if empty > EMPTY_RETRIES:
                    break
                time.sleep(0.05)
                continue
            empty = 0
            result.claims += 1
            result.answers += done
    except Exception as exc:  # reported, and the run fails
        result.errors.append(f"{type(exc).__name__}: {exc}")
    finally:
        connection.close()
    return result


WRONG_SHARE = 0.15  # each answer is wrong with this chance (fixed per item and worker)


def _label(item_id: int, user_id: int) -> dict[str, str]:
    """A crowd that is mostly right: the item's label is ``item id % 3``, and each worker
    misses it on about 15 % of the items, the same items on every run. (Answers that are a
    permutation per worker have no consensus at all: whether a fit then finds every item
    confident depends on which optimum it lands in, which is the estimator's matter, not
    the scheduler's.)"""
    truth = item_id % 3
    draw = random.Random(item_id * 1_000_003 + user_id)
    if draw.random() < WRONG_SHARE:
        truth = (truth + 1 + draw.randrange(2)) % 3
    return {"label": "abc"[truth]}


def _service_cycle(batch_id: int, worker: Any, page_size: int) -> int:
    """One claim and its answers; returns how many items were answered (0: none left)."""
    from trefpunt.microtasks.services import (
        lease_answer,
        lease_answer_page,
        lease_claim,
        lease_claim_page,
    )

    if page_size:
        page = lease_claim_page(batch_id=batch_id, worker=worker, size=page_size)
        if page:
            lease_answer_page(
                worker=worker,
                answers=[(lease.pk, _label(lease.item_id, worker.pk)) for lease in page],
                seconds=ESTIMATED_SECONDS * len(page),
            )
        return len(page)
    lease = lease_claim(batch_id=batch_id, worker=worker)
    if lease is None:
        return 0
    lease_answer(
        lease_id=lease.pk,
        worker=worker,
        answer=_label(lease.item_id, worker.pk),
        seconds=ESTIMATED_SECONDS,
    )
    return 1


def postgres_ready(url: str | None, bench: str) -> str:
    """The bench database (``url``, else ``DATABASE_URL``, else the default): PostgreSQL on
    127.0.0.1, created when missing, Django set up on it and migrated. Returns its URL."""
    url = url or os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    if not url.startswith(("postgres://", "postgresql://")):
        sys.exit(f"The {bench} bench needs PostgreSQL: set DATABASE_URL=postgres://…")
    _local_only(url, "DATABASE_URL")
    database_ensure(url)
    django_setup(url)
    return url


def _process_init(url: str) -> None:
    django_setup(url, migrate=False)


def _process_work(args: tuple[int, int, int, float, int]) -> WorkerResult:
    return work_services(*args)


def _request(url: str, token: str, payload: dict[str, Any] | None = None) -> tuple[int, Any]:
    body = json.dumps(payload or {}).encode()
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def work_http(base: str, batch_id: int, token: str, limit: int, deadline: float) -> WorkerResult:
    """One API client: POST next, POST answer, until the server answers 204."""
    result = WorkerResult()
    empty = 0
    for _ in range(limit):
        if time.monotonic() > deadline:
            result.errors.append("stopped at the time limit")
            break
        started = time.perf_counter()
        status, lease = _request(f"{base}/api/v1/batches/{batch_id}/next", token)
        result.latencies.append(time.perf_counter() - started)
        if status == 204:
            empty += 1
            if empty > EMPTY_RETRIES:
                break
            time.sleep(0.05)
            continue
        if status != 200:
            result.errors.append(f"next: HTTP {status} {lease}")
            break
        empty = 0
        result.claims += 1
        choice = lease["form"][0]["choices"][lease["item"]["id"] % 3]["value"]
        status, answer = _request(
            f"{base}/api/v1/leases/{lease['id']}/answer",
            token,
            {"answer": {"label": choice}, "seconds": ESTIMATED_SECONDS},
        )
        if status != 201:
            result.errors.append(f"answer: HTTP {status} {answer}")
            break
        result.answers += 1
    return result


# --- the bare loop: what PostgreSQL itself can do --------------------------------------------

# The reference the service layer is compared with, run first in the same process on the same
# database: three plain tables shaped like items, leases and answers, and per cycle two short
# transactions — a claim (one statement: pick an open item the worker never leased, with room
# for a lease, ``FOR UPDATE SKIP LOCKED``, and insert the lease) and an answer (lock the item,
# close the lease, insert the answer, count it on the item). No Django, no quality features.
BARE_SCHEMA = """
DROP TABLE IF EXISTS bench_bare_answer, bench_bare_lease, bench_bare_item;
CREATE TABLE bench_bare_item (
    id bigserial PRIMARY KEY,
    answers_count integer NOT NULL DEFAULT 0,
    answers_target integer NOT NULL,
    status text NOT NULL DEFAULT 'open',
    CHECK (answers_count <= answers_target)
);
CREATE INDEX bench_bare_item_open ON bench_bare_item (answers_count DESC, id)
    WHERE status = 'open';
CREATE TABLE bench_bare_lease (
    id bigserial PRIMARY KEY,
    item_id bigint NOT NULL REFERENCES bench_bare_item,
    worker_id integer NOT NULL,
    status text NOT NULL,
    expires_at timestamptz NOT NULL
);
CREATE INDEX bench_bare_lease_item ON bench_bare_lease (item_id, worker_id);
CREATE TABLE bench_bare_answer (
    id bigserial PRIMARY KEY,
    item_id bigint NOT NULL REFERENCES bench_bare_item,
    worker_id integer NOT NULL,
    lease_id bigint NOT NULL UNIQUE REFERENCES bench_bare_lease,
    data jsonb NOT NULL,
    UNIQUE (worker_id, item_id)
);
"""

# Two statements in one transaction: the pick takes the row lock without waiting, the insert
# counts again in a statement of its own (a fresh snapshot). Picking and inserting in one
# statement (a CTE) over-assigns: its snapshot predates the lock, so it misses a lease that
# another claim committed in between (the first version of this loop did, within a second).
BARE_PICK = """
SELECT i.id FROM bench_bare_item i
WHERE i.status = 'open'
  AND NOT EXISTS (
      SELECT 1 FROM bench_bare_lease s WHERE s.item_id = i.id AND s.worker_id = %(worker)s
  )
  AND i.answers_count + (
      SELECT count(*) FROM bench_bare_lease l
      WHERE l.item_id = i.id AND l.status = 'active' AND l.expires_at > now()
  ) < i.answers_target
ORDER BY i.answers_count DESC, i.id
LIMIT 1
FOR NO KEY UPDATE SKIP LOCKED
"""
BARE_INSERT = """
INSERT INTO bench_bare_lease (item_id, worker_id, status, expires_at)
SELECT i.id, %(worker)s, 'active', now() + interval '10 minutes' FROM bench_bare_item i
WHERE i.id = %(item)s AND i.status = 'open'
  AND NOT EXISTS (
      SELECT 1 FROM bench_bare_lease s WHERE s.item_id = i.id AND s.worker_id = %(worker)s
  )
  AND i.answers_count + (
      SELECT count(*) FROM bench_bare_lease l
      WHERE l.item_id = i.id AND l.status = 'active' AND l.expires_at > now()
  ) < i.answers_target
RETURNING id, item_id
"""


def _bare_claim(conn: Any, worker_id: int) -> tuple[int, int] | None:
    for _attempt in range(5):
        with conn.transaction():
            pick = conn.execute(BARE_PICK, {"worker": worker_id}).fetchone()
            if pick is None:
                return None
            row = conn.execute(BARE_INSERT, {"worker": worker_id, "item": pick[0]}).fetchone()
            if row is not None:
                return int(row[0]), int(row[1])
    return None


def bare_load(*, url: str, items: int, redundancy: int) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(BARE_SCHEMA)
        with conn.cursor().copy("COPY bench_bare_item (answers_target) FROM STDIN") as copy:
            for _ in range(items):
                copy.write_row((redundancy,))
        conn.execute("ANALYZE bench_bare_item")


def work_bare(url: str, worker_id: int, limit: int, deadline: float) -> WorkerResult:
    """One worker of the bare loop: claim, answer, until nothing is left for them."""
    import psycopg

    result = WorkerResult()
    empty = 0
    with psycopg.connect(url, autocommit=True) as conn:
        for _ in range(limit):
            if time.monotonic() > deadline:
                result.errors.append("stopped at the time limit")
                break
            started = time.perf_counter()
            row = _bare_claim(conn, worker_id)
            result.latencies.append(time.perf_counter() - started)
            if row is None:
                empty += 1
                if empty > EMPTY_RETRIES:
                    break
                time.sleep(0.05)
                continue
            empty = 0
            result.claims += 1
            lease_id, item_id = row
            if not _bare_answer(conn, worker_id, lease_id, item_id):
                result.errors.append("lease ran out")
                continue
            result.answers += 1
    return result


def _bare_answer(conn: Any, worker_id: int, lease_id: int, item_id: int) -> bool:
    """The bare loop's answer, one transaction: lock the item, close the lease (only a live
    one), insert the answer, count it on the item. Returns whether the lease was usable."""
    with conn.transaction():
        conn.execute("SELECT id FROM bench_bare_item WHERE id = %s FOR NO KEY UPDATE", [item_id])
        used = conn.execute(
            "UPDATE bench_bare_lease SET status = 'submitted'"
            " WHERE id = %s AND status = 'active' AND expires_at > now()",
            [lease_id],
        ).rowcount
        if not used:
            return False
        conn.execute(
            "INSERT INTO bench_bare_answer (item_id, worker_id, lease_id, data)"
            " VALUES (%s, %s, %s, %s)",
            [item_id, worker_id, lease_id, json.dumps({"label": "abc"[item_id % 3]})],
        )
        conn.execute(
            "UPDATE bench_bare_item SET answers_count = answers_count + 1,"
            " status = CASE WHEN answers_count + 1 >= answers_target"
            " THEN 'complete' ELSE status END WHERE id = %s",
            [item_id],
        )
    return True


def _process_bare(args: tuple[str, int, int, float]) -> WorkerResult:
    return work_bare(*args)


def run_bare(args: argparse.Namespace, url: str) -> tuple[float, list[WorkerResult]]:
    """The bare loop with as many workers and items as the service run; returns its wall
    time and results after checking it kept the same promises."""
    import psycopg

    bare_load(url=url, items=args.items, redundancy=args.redundancy)
    limit = args.items * args.redundancy + EMPTY_RETRIES + 1
    deadline = time.monotonic() + args.timeout
    jobs = [(url, 1_000_000 + i, limit, deadline) for i in range(args.workers)]
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        results = list(pool.map(_process_bare, jobs))
    wall = time.perf_counter() - started
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT (SELECT count(*) FROM bench_bare_answer),"
            " (SELECT count(*) FROM bench_bare_item WHERE status <> 'complete'),"
            " (SELECT count(*) FROM bench_bare_item WHERE answers_count > answers_target)"
        ).fetchone()
        conn.execute("DROP TABLE bench_bare_answer, bench_bare_lease, bench_bare_item")
    assert row is not None
    answers, incomplete, over = row
    claims = sum(r.claims for r in results)
    latencies = [x for r in results for x in r.latencies]
    errors = [e for r in results for e in r.errors]
    print()
    print("bare loop (psycopg, SKIP LOCKED claim + answer, two transactions), PostgreSQL")
    print(f"  load average before     {load_before:.2f}")
    print(f"  cycles                  {claims:,} in {wall:.1f} s")
    print(f"  cycles per second       {claims / wall:,.0f}")
    print(f"  claim latency p50       {percentile(latencies, 0.50) * 1000:.1f} ms")
    print(f"  claim latency p99       {percentile(latencies, 0.99) * 1000:.1f} ms")
    print(f"  answers {answers:,}, items not complete {incomplete}, over-assigned {over}")
    for error in errors[:5]:
        print(f"  error: {error}")
    return wall, results


# --- checks and report ---------------------------------------------------------------------------


def checks(batch_id: int) -> dict[str, int]:
    from django.db.models import Count, F, Q

    from trefpunt.microtasks.models import Answer, Item, Lease

    items = Item.objects.filter(batch_id=batch_id)
    over = (
        items.annotate(n=Count("answers"))
        .filter(Q(n__gt=F("answers_target")) | Q(answers_count__gt=F("answers_target")))
        .count()
    )
    duplicates = (
        Answer.objects.filter(batch_id=batch_id)
        .values("worker_id", "item_id")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
        .count()
    )
    return {
        "over_assigned": over,
        "duplicates": duplicates,
        # Finished: complete, or every answer in and the confidence still below the target
        # ("needs review", counted apart); an item still open or short of answers is not.
        "incomplete": items.filter(
            Q(status=Item.Status.OPEN) | Q(answers_count__lt=F("answers_target"))
        ).count(),
        "review": items.filter(status=Item.Status.REVIEW).count(),
        "answers": Answer.objects.filter(batch_id=batch_id).count(),
        "active_leases": Lease.objects.filter(batch_id=batch_id, status="active").count(),
    }


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def report(
    *,
    label: str,
    results: list[WorkerResult],
    wall: float,
    batch_id: int,
    expected: int,
    load_before: float | None = None,
) -> bool:
    from trefpunt.ledger.selectors import ledger_verify

    claims = sum(r.claims for r in results)
    answered = sum(r.answers for r in results)
    latencies = [x for r in results for x in r.latencies]
    errors = [e for r in results for e in r.errors]
    found = checks(batch_id)
    ledger = ledger_verify()
    print()
    print(f"{label}")
    print(f"  workers                 {len(results)}")
    if load_before is not None:
        print(f"  load average before     {load_before:.2f}, after {os.getloadavg()[0]:.2f}")
    print(f"  claims                  {claims:,} in {wall:.1f} s")
    print(f"  claims per second       {claims / wall:,.0f}")
    print(f"  answers per second      {answered / wall:,.0f}")
    print(f"  cycle latency p50       {percentile(latencies, 0.50) * 1000:.1f} ms")
    print(f"  cycle latency p99       {percentile(latencies, 0.99) * 1000:.1f} ms")
    print(f"  claim calls             {len(latencies):,} (incl. the final 'nothing left')")
    if latencies:
        print(f"  cycle latency mean      {statistics.fmean(latencies) * 1000:.1f} ms")
    print(f"  answers stored          {found['answers']:,} (expected {expected:,})")
    print(f"  over-assigned items     {found['over_assigned']}")
    print(f"  duplicate answers       {found['duplicates']}")
    print(f"  items not finished      {found['incomplete']}")
    print(f"  items in needs review   {found['review']} (all answers in, confidence below target)")
    print(f"  leases still active     {found['active_leases']}")
    print(f"  ledger problems         {len(ledger)}")
    for error in errors[:10]:
        print(f"  error: {error}")
    ok = (
        found["over_assigned"] == 0
        and found["duplicates"] == 0
        and found["incomplete"] == 0
        and found["answers"] == expected
        and not errors
        and not ledger
    )
    print(f"  result                  {'OK' if ok else 'FAILED'}")
    return ok


def statements_probe(*, cycles: int, run: str, page_size: int = 0) -> tuple[list[int], list[int]]:
    """Statements one claim and one answer send (with ``page_size``: one page's claim and
    its answers), counted on a small batch of its own by one uncontended worker (``cycles``
    claims × 1 answer per item; the fits it crosses run inline, as in the work phase)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from trefpunt.accounts.models import User
    from trefpunt.microtasks.services import (
        lease_answer,
        lease_answer_page,
        lease_claim,
        lease_claim_page,
    )

    size = page_size or 1
    batch_id = batch_load(items=cycles * size, redundancy=1, run=f"{run}-probe", quiet=True)
    worker = User.objects.get(pk=workers_create(n=1, run=f"{run}-probe")[0])
    claims: list[int] = []
    answers: list[int] = []
    for _ in range(cycles):
        with CaptureQueriesContext(connection) as claimed:
            if page_size:
                page = lease_claim_page(batch_id=batch_id, worker=worker, size=page_size)
            else:
                lease = lease_claim(batch_id=batch_id, worker=worker)
                page = [] if lease is None else [lease]
        claims.append(len(claimed))
        if not page:
            break
        with CaptureQueriesContext(connection) as answered:
            if page_size:
                lease_answer_page(
                    worker=worker,
                    answers=[(lease.pk, {"label": "a"}) for lease in page],
                    seconds=ESTIMATED_SECONDS * len(page),
                )
            else:
                lease_answer(
                    lease_id=page[0].pk,
                    worker=worker,
                    answer={"label": "a"},
                    seconds=ESTIMATED_SECONDS,
                )
        answers.append(len(answered))
    return claims, answers


def run_services(args: argparse.Namespace, url: str) -> bool:
    from django.db import connections

    run = time.strftime("%Y%m%d%H%M%S")
    what = f"page of {args.page_size}" if args.page_size else "claim"
    claims, answers = statements_probe(cycles=40, run=run, page_size=args.page_size)
    print(
        f"statements per {what:<9} median {statistics.median(claims):.0f}, max {max(claims)}\n"
        f"statements per answer{'s' if args.page_size else ''}  "
        f"median {statistics.median(answers):.0f},"
        f" mean {statistics.fmean(answers):.1f} (fits included), max {max(answers)}"
    )
    batch_id = batch_load(items=args.items, redundancy=args.redundancy, run=run)
    worker_ids = workers_create(n=args.workers, run=run)
    connections.close_all()  # nothing shared with the worker processes
    bare_rate = None
    if not args.no_bare:
        bare_wall, bare_results = run_bare(args, url)
        bare_rate = sum(r.claims for r in bare_results) / bare_wall
    limit = args.items * args.redundancy + EMPTY_RETRIES + 1
    deadline = time.monotonic() + args.timeout
    jobs = [(batch_id, user_id, limit, deadline, args.page_size) for user_id in worker_ids]
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    if args.mode == "threads":
        with ThreadPoolExecutor(max_workers=args.workers) as pool:
            results = list(pool.map(lambda job: work_services(*job), jobs))
    else:
        with ProcessPoolExecutor(
            max_workers=args.workers, initializer=_process_init, initargs=(url,)
        ) as pool:
            results = list(pool.map(_process_work, jobs))
    wall = time.perf_counter() - started
    ok = report(
        label=f"service layer, {args.mode}, {what}s, PostgreSQL",
        results=results,
        wall=wall,
        batch_id=batch_id,
        expected=args.items * args.redundancy,
        load_before=load_before,
    )
    rate = sum(r.answers for r in results) / wall
    if bare_rate:
        print()
        print(
            f"service layer answers / bare loop cycles: {rate:,.0f} / {bare_rate:,.0f} per s"
            f" = {rate / bare_rate:.1%}  (load average now {os.getloadavg()[0]:.2f})"
        )
    return ok


def run_http(args: argparse.Namespace) -> bool:
    from trefpunt.accounts.models import User
    from trefpunt.accounts.services import api_token_create

    base = args.http.rstrip("/")
    _local_only(base, "--http")
    try:
        with urllib.request.urlopen(f"{base}/api/v1/openapi.json", timeout=10) as response:
            response.read()
    except OSError as exc:
        sys.exit(f"No server answers at {base} ({exc}). Start one on the same database first.")
    run = time.strftime("%Y%m%d%H%M%S")
    batch_id = batch_load(items=args.items, redundancy=args.redundancy, run=run)
    tokens = [
        api_token_create(user=User.objects.get(pk=pk), name="bench")[1]
        for pk in workers_create(n=args.workers, run=run)
    ]
    limit = args.items * args.redundancy + EMPTY_RETRIES + 1
    deadline = time.monotonic() + args.timeout
    started = time.perf_counter()
    results: list[WorkerResult] = [WorkerResult() for _ in tokens]
    lock = threading.Lock()

    def one(i: int) -> None:
        outcome = work_http(base, batch_id, tokens[i], limit, deadline)
        with lock:
            results[i] = outcome

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(tokens))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=args.timeout + 60)
    wall = time.perf_counter() - started
    return report(
        label=f"HTTP API at {base}, {len(tokens)} clients",
        results=results,
        wall=wall,
        batch_id=batch_id,
        expected=args.items * args.redundancy,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=None, help="default 100000 (HTTP: 3000)")
    parser.add_argument("--redundancy", type=int, default=3)
    parser.add_argument("--workers", type=int, default=None, help="default 32 (HTTP: 8)")
    parser.add_argument("--mode", choices=["processes", "threads"], default="processes")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds for the work phase")
    parser.add_argument(
        "--no-bare", action="store_true", help="skip the bare PostgreSQL loop run first"
    )
    parser.add_argument(
        "--page-size",
        type=int,
        default=0,
        help="claim and answer task pages of this many items (lease_claim_page, "
        "lease_answer_page); default: one item at a time (lease_claim, lease_answer)",
    )
    parser.add_argument("--http", metavar="URL", help="run through the API of this server")
    parser.add_argument(
        "--serve", metavar="PORT", type=int, help="run a local server on the bench database"
    )
    args = parser.parse_args(argv)
    args.items = args.items or (3000 if args.http else 100_000)
    args.workers = args.workers or (8 if args.http else 32)
    if not 1 <= args.workers <= 64:
        parser.error("--workers must be between 1 and 64")
    if not args.serve and args.workers < args.redundancy:
        parser.error(
            f"--workers must be at least --redundancy ({args.redundancy}): an item needs"
            " that many different workers, so fewer can never finish the batch"
        )
    if not 1 <= args.items <= 1_000_000:
        parser.error("--items must be between 1 and 1,000,000")
    if not 0 <= args.page_size <= 50:
        parser.error("--page-size must be between 1 and 50 (0: one item at a time)")
    url = postgres_ready(None, "scheduler")
    if args.serve:
        from django.conf import settings
        from django.core.management import call_command

        settings.DATABASES["default"]["CONN_MAX_AGE"] = 0
        print(f"serving the bench database on http://127.0.0.1:{args.serve}/ (Ctrl-C stops)")
        call_command("runserver", f"127.0.0.1:{args.serve}", use_reloader=False, use_threading=True)
        return 0
    runner: Callable[[], bool] = (
        (lambda: run_http(args)) if args.http else (lambda: run_services(args, url))
    )
    return 0 if runner() else 1


if __name__ == "__main__":
    sys.exit(main())
