"""Time the pages people open most at scale on PostgreSQL, under gunicorn with concurrent
clients, beside a trivial view served the same way.

    python bench/web.py [--contests 100000] [--entries 1000000] [--people 55000]
                        [--client-contests 1370] [--member-entries 10000]
                        [--big-contests 5] [--big-entries 2000]
                        [--batches 20] [--batch-items 100000]
                        [--clients 8] [--repeat 15] [--workers 4] [--pages NAME,…]
                        [--cost-only]

Builds (once; a later run with the same sizes reuses it, other sizes rebuild it) in the
PostgreSQL database of ``DATABASE_URL`` (default
``postgres://postgres@127.0.0.1:5432/h_hotweb_bench``; only 127.0.0.1), with
``INSERT … SELECT … FROM generate_series`` (the database makes the rows; seconds, not
minutes): ``--people`` people with profiles; ``--contests`` public contests in every status
(20 % open, 10 % judging, the rest decided) with one prize each of € 50–5,000; one client who
runs ``--client-contests`` of them, among them ``--big-contests`` open contests with
``--big-entries`` entries each; ``--entries`` entries in all, skewed like real life (the big
contests, then about ten per contest), of which ``--member-entries`` are one crowd member's;
``--batches`` open microtask batches with ``--batch-items`` items in all, each created, funded
and published through the services by a client of its own, its items copied in (the crowd
member holds a live lease on an item of the first, so its work page shows a task).

Then it serves ``bench/web_wsgi.py`` (the real application plus a trivial view) with
gunicorn (``--workers`` sync workers) on 127.0.0.1 and has ``--clients`` threads each request
every page ``--repeat`` times (a new connection per request, as a sync worker closes it),
printing p50 / p95 / p99, the p95 of the trivial view served the same way right before the
page and the page's p95 as a multiple of it, how many pages stay under a p95 of 50 ms,
the p50 of one client alone (5 requests first), the queries per page, their time in the
database and the CPU time of one request (through Django's test client in this process, with
``DEBUG`` off) and the page size, with
the load average before and after.
"""

from __future__ import annotations

import argparse
import functools
import http.client
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import LOCAL_HOSTS, database_ensure, django_setup, load_average, pct

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/h_hotweb_bench"
PORT = 8765
P95_TARGET_MS = 50
MEMBER_EMAIL = "web-member@example.org"
CLIENT_EMAIL = "web-client@example.org"


@dataclass(frozen=True)
class Sizes:
    contests: int
    entries: int
    people: int
    client_contests: int
    member_entries: int
    big_contests: int
    big_entries: int
    batches: int
    batch_items: int


@dataclass(frozen=True)
class Dataset:
    client_id: int
    member_id: int
    big_contest_id: int
    big_entry_id: int
    batch_id: int
    payer_id: int


# --- the dataset ------------------------------------------------------------------------------


def series_insert(model: Any, source: str, exprs: dict[str, str], params: list[Any]) -> None:
    """``INSERT INTO model SELECT … FROM source``: the columns in ``exprs`` from SQL
    expressions over ``source``; every other column the model's default (``now()`` for
    auto timestamps), so the rows look like the ones the services write."""
    from django.db import connection

    template = model()
    columns: list[str] = []
    values: list[str] = []
    defaults: list[Any] = []
    for field in model._meta.concrete_fields:
        if field.primary_key or getattr(field, "generated", False):
            continue
        columns.append(f'"{field.column}"')
        if field.column in exprs:
            values.append(exprs[field.column])
            continue
        value = getattr(template, field.attname)
        if value is None and (
            getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)
        ):
            values.append("now()")
        else:
            values.append("%s")
            defaults.append(field.get_db_prep_save(value, connection))
    sql = (
        f"INSERT INTO {model._meta.db_table} ({', '.join(columns)}) "
        f"SELECT {', '.join(values)} FROM {source}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*defaults, *params])


def people_build(sizes: Sizes) -> tuple[int, int, int]:
    """The people; returns (first crowd member's id, the client's id, the member's id)."""
    from django.contrib.auth.hashers import make_password

    from trefpunt.accounts.models import Profile, User

    series_insert(
        User,
        "(SELECT g, %s::text AS client, %s::text AS member, %s::text AS pw"
        f" FROM generate_series(0::bigint, {sizes.people - 1}) g) s",
        {
            "email": "CASE s.g WHEN 0 THEN s.client WHEN 1 THEN s.member"
            " ELSE 'web-' || s.g || '@example.org' END",
            "password": "s.pw",
        },
        [CLIENT_EMAIL, MEMBER_EMAIL, make_password(None)],
    )
    client_id = User.objects.get(email=CLIENT_EMAIL).pk
    member_id = User.objects.get(email=MEMBER_EMAIL).pk
    series_insert(
        Profile,
        "accounts_user u",
        {"user_id": "u.id", "handle": "'web' || u.id", "display_name": "'Person ' || u.id"},
        [],
    )
    return member_id + 1, client_id, member_id


def contests_build(sizes: Sizes, first_person: int, client_id: int) -> None:
    from trefpunt.contests.models import Category, Contest, Prize

    statuses = ["open"] * 2 + ["judging"] + ["awarded"] * 3 + ["completed"] * 4
    source = (
        f"(SELECT g, CASE WHEN g < {sizes.big_contests} THEN 'open'"
        " ELSE (%s::text[])[1 + (g * 31) %% 10] END AS st, %s::text[] AS cats,"
        " now() - (1 + (g * 7) %% 1000) * interval '1 day' - g * interval '1 second' AS pub"
        f" FROM generate_series(0::bigint, {sizes.contests - 1}) g) s"
    )
    deadline = (
        "CASE s.st WHEN 'open' THEN now() + (1 + (s.g * 13) %% 2000) * interval '1 hour'"
        " ELSE s.pub + interval '14 days' END"
    )
    people = sizes.people - 2
    series_insert(
        Contest,
        source,
        {
            "title": "'Contest ' || s.g || ': a logo for shop ' || (s.g %% 977)",
            "category": "s.cats[1 + s.g %% 8]",
            "created_by_id": f"CASE WHEN s.g < {sizes.client_contests} THEN {client_id}"
            f" ELSE {first_person} + (s.g * 7919) %% {people} END",
            "status": "s.st",
            "entry_deadline": deadline,
            "published_at": "s.pub",
            "judging_ends_at": f"CASE s.st WHEN 'open' THEN NULL ELSE {deadline}"
            " + interval '7 days' END",
            "prize_total": "(1 + (s.g * 17) %% 100) * 5000",
            "created_at": "s.pub",
            "updated_at": "s.pub",
        },
        [statuses, [c.value for c in Category]],
    )
    series_insert(
        Prize,
        "contests_contest c",
        {"contest_id": "c.id", "position": "1", "amount": "c.prize_total"},
        [],
    )


def entries_build(sizes: Sizes, first_person: int, member_id: int) -> None:
    from django.db.models import Min

    from trefpunt.contests.models import Contest, Entry

    first_contest = Contest.objects.aggregate(m=Min("pk"))["m"]
    big, per_big, n = sizes.big_contests, sizes.big_entries, sizes.contests
    big_total = big * per_big
    rest = max(1, sizes.entries - big_total)
    stride = max(1, rest // max(1, sizes.member_entries))
    source = (
        f"(SELECT g, g - {big_total} AS h,"
        f" CASE WHEN g < {big_total} THEN g %% {big} ELSE (g - {big_total}) %% {n} END AS idx"
        f" FROM generate_series(0::bigint, {sizes.entries - 1}) g) s"
    )
    series_insert(
        Entry,
        source,
        {
            "contest_id": f"{first_contest} + s.idx",
            "entrant_id": f"CASE WHEN s.h >= 0 AND s.h %% {stride} = 0"
            f" AND s.h / {stride} < {sizes.member_entries} THEN {member_id}"
            f" ELSE {first_person} + (s.g * 7919) %% {sizes.people - 2} END",
            "number": f"CASE WHEN s.g < {big_total} THEN s.g / {big} + 1"
            f" ELSE s.h / {n} + 1 + CASE WHEN s.idx < {big} THEN {per_big} ELSE 0 END END",
            "title": "'Entry ' || s.g",
            "status": "CASE WHEN s.g %% 50 = 3 THEN 'withdrawn' ELSE 'submitted' END",
            "originality_declared": "true",
            "rating": "CASE WHEN s.g %% 3 = 0 THEN 1 + s.g %% 5 END",
            "is_flagged": "s.g %% 97 = 0",
            "created_at": "now() - s.g * interval '1 second'",
            "updated_at": "now() - s.g * interval '1 second'",
        },
        [],
    )


def batches_build(sizes: Sizes) -> None:
    """The microtask batches, through the services (the scheduler bench's loader)."""
    from bench.scheduler import batch_load

    per_batch = max(1, sizes.batch_items // sizes.batches)
    for n in range(sizes.batches):
        items = per_batch if n else sizes.batch_items - per_batch * (sizes.batches - 1)
        batch_load(items=items, redundancy=3, run=f"web-{n}", quiet=True)


def lease_hold(batch_id: int, member_id: int) -> None:
    """The member's live lease on an item of the first batch, kept alive for the run (a
    GET of the work page shows it and takes none)."""
    from datetime import timedelta

    from django.utils import timezone

    from trefpunt.accounts.models import User
    from trefpunt.microtasks.models import Lease
    from trefpunt.microtasks.services import lease_claim

    lease = lease_claim(batch_id=batch_id, worker=User.objects.get(pk=member_id))
    assert lease is not None
    Lease.objects.filter(pk=lease.pk).update(expires_at=timezone.now() + timedelta(days=1))


def dataset_build(sizes: Sizes) -> Dataset:
    """The dataset, built unless one of these sizes is there."""
    from django.db import connection

    from trefpunt.accounts.models import User
    from trefpunt.contests.models import Contest, Entry
    from trefpunt.microtasks.models import Batch, Item

    contests_there = (
        Contest.objects.count() == sizes.contests
        and Entry.objects.count() == sizes.entries
        and User.objects.filter(email=MEMBER_EMAIL).exists()
    )
    batches = Batch.objects.count()
    built = contests_there and batches == sizes.batches
    built = built and Item.objects.count() == sizes.batch_items
    if contests_there and not batches:  # a dataset of before the batches: add them
        started = time.perf_counter()
        batches_build(sizes)
        print(f"built {sizes.batch_items:,} batch items in {time.perf_counter() - started:.0f} s")
    elif not built:
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE accounts_user RESTART IDENTITY CASCADE")
        first_person, client_id, member_id = people_build(sizes)
        contests_build(sizes, first_person, client_id)
        entries_build(sizes, first_person, member_id)
        batches_build(sizes)
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
        print(
            f"built {sizes.people:,} people, {sizes.contests:,} contests,"
            f" {sizes.entries:,} entries and {sizes.batch_items:,} batch items in"
            f" {time.perf_counter() - started:.0f} s"
        )
    big = Contest.objects.filter(created_by__email=CLIENT_EMAIL, status="open").order_by("pk")
    big_contest = big.first()
    assert big_contest is not None
    batch = Batch.objects.order_by("pk").first()
    assert batch is not None
    member_id = User.objects.get(email=MEMBER_EMAIL).pk
    lease_hold(batch.pk, member_id)
    return Dataset(
        client_id=User.objects.get(email=CLIENT_EMAIL).pk,
        member_id=member_id,
        big_contest_id=big_contest.pk,
        big_entry_id=Entry.objects.filter(contest=big_contest).order_by("number")[1000].pk,
        batch_id=batch.pk,
        payer_id=batch.owner_id,
    )


# --- the pages --------------------------------------------------------------------------------


def pages_list(data: Dataset) -> list[tuple[str, str, str]]:
    """(label, who, address): who is ``anon``, ``client``, ``member`` or ``payer`` (the
    client of the first batch: deposits and escrow in the wallet)."""
    c, e, b = data.big_contest_id, data.big_entry_id, data.batch_id
    return [
        ("home", "anon", "/en/"),
        ("contest list, page 1", "anon", "/en/contests/"),
        ("contest list, page 500", "anon", "/en/contests/?page=500"),
        ("contest list, last page", "anon", "/en/contests/?page=last"),
        ("prize filter ≥ € 2,000", "anon", "/en/contests/?prize_min=2000"),
        ("prize filter ≤ € 100", "anon", "/en/contests/?prize_max=100"),
        ("prize filter, page 300", "anon", "/en/contests/?prize_min=1000&page=300"),
        ("text filter 'shop 42'", "anon", "/en/contests/?q=shop+42"),
        ("API list, page 1", "member", "/api/v1/contests"),
        ("API list, page 400", "member", "/api/v1/contests?page=400"),
        ("client dashboard", "client", "/en/contests/dashboard/"),
        ("client dashboard, page 20", "client", "/en/contests/dashboard/?page=20"),
        ("member's entries page", "member", "/en/contests/my-entries/"),
        ("member's entries, page 100", "member", "/en/contests/my-entries/?page=100"),
        ("contest detail (2,000 entries)", "anon", f"/en/contests/{c}/"),
        ("judging page", "client", f"/en/contests/{c}/judge/"),
        ("judging page, page 60", "client", f"/en/contests/{c}/judge/?page=60"),
        ("entry page", "anon", f"/en/contests/entries/{e}/"),
        ("API entries of a contest", "client", f"/api/v1/contests/{c}/entries"),
        ("batch list", "anon", "/en/microtasks/"),
        ("batch list, worker", "member", "/en/microtasks/"),
        ("batch page (5,000 items)", "anon", f"/en/microtasks/batches/{b}/"),
        ("work page, worker", "member", f"/en/microtasks/batches/{b}/work/"),
        ("API batches, worker", "member", "/api/v1/batches"),
        ("wallet", "payer", "/en/wallet/"),
        ("API wallet transactions", "payer", "/api/v1/wallet/transactions"),
        ("profile (10,000 entries)", "anon", f"/en/@web{data.member_id}/"),
    ]


def sessions_make(data: Dataset) -> dict[str, str]:
    """Session cookies of the client, the member and the payer (in Redis as in production
    when ``TREFPUNT_REDIS_URL`` is set, otherwise in the database: either way every
    gunicorn worker reads them)."""
    from django.conf import settings
    from django.test import Client

    from trefpunt.accounts.models import User

    cookies = {"anon": ""}
    for who, pk in (
        ("client", data.client_id),
        ("member", data.member_id),
        ("payer", data.payer_id),
    ):
        browser = Client()
        browser.force_login(User.objects.get(pk=pk))
        cookies[who] = (
            f"{settings.SESSION_COOKIE_NAME}={browser.cookies[settings.SESSION_COOKIE_NAME].value}"
        )
    return cookies


@dataclass(frozen=True)
class Cost:
    """One request of a page in this process: its statements and their milliseconds (wall
    time per statement, on the last request, when prepared statements run on the plans
    they keep), and the CPU milliseconds this process spent (the median of three, of 15
    with ``--cost-only``; unlike wall time, barely moved by other processes' load)."""

    queries: int
    db_ms: float
    cpu_ms: float


def _timed(spent: list[float], execute: Any, *args: Any) -> Any:
    """An execute wrapper: each statement's wall time, onto ``spent``."""
    started = time.perf_counter()
    try:
        return execute(*args)
    finally:
        spent.append(time.perf_counter() - started)


def queries_count(
    pages: list[tuple[str, str, str]], cookies: dict[str, str], rounds: int = 3
) -> dict[str, Cost]:
    """What each page costs, through the test client in this process (after one request to
    warm caches, as the served pages are warm too)."""
    from django.conf import settings
    from django.db import connection
    from django.test import Client

    settings.ALLOWED_HOSTS = ["testserver", "127.0.0.1"]
    counts: dict[str, Cost] = {}
    for label, who, address in pages:
        browser = Client()
        if cookies[who]:
            browser.cookies[settings.SESSION_COOKIE_NAME] = cookies[who].split("=", 1)[1]
        browser.get(address)
        cpu = []
        for _ in range(rounds):
            started = time.process_time()
            browser.get(address)
            cpu.append((time.process_time() - started) * 1000)
        # Last: by then a prepared statement runs on the plan it keeps (from its sixth run).
        spent: list[float] = []
        with connection.execute_wrapper(functools.partial(_timed, spent)):
            response = browser.get(address)
        if response.status_code != 200:
            sys.exit(f"{address}: HTTP {response.status_code}")
        counts[label] = Cost(len(spent), sum(spent) * 1000, sorted(cpu)[len(cpu) // 2])
    return counts


def statements_replanned() -> list[str]:
    """This process's prepared statements that got a custom plan on each of more than
    five runs (PostgreSQL plans those again every time), by their first 90 characters."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT statement, custom_plans FROM pg_prepared_statements"
            " WHERE custom_plans > 5 ORDER BY custom_plans DESC"
        )
        rows = cursor.fetchall()
    return [f"{runs:4d} runs: {' '.join(sql.split())[:90]}" for sql, runs in rows]


def serve(url: str, workers: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "trefpunt.settings.base",
        "TREFPUNT_DEBUG": "0",
        "TREFPUNT_DB_CONN_MAX_AGE": "60",
        "TREFPUNT_LOG_LEVEL": "WARNING",
        "TREFPUNT_ALLOWED_HOSTS": "127.0.0.1",
    }
    gunicorn = Path(sys.executable).with_name("gunicorn")
    process = subprocess.Popen(
        [
            str(gunicorn),
            "bench.web_wsgi:application",
            *("-w", str(workers), "-b", f"127.0.0.1:{PORT}", "--log-level", "warning"),
        ],
        cwd=Path(__file__).resolve().parents[1],
        env=env,
    )
    for _ in range(100):
        time.sleep(0.2)
        try:
            status, _body = fetch("/bench-trivial/", "")[:2]
            if status == 200:
                return process
        except OSError:
            continue
    process.terminate()
    sys.exit("gunicorn did not start")


def fetch(address: str, cookie: str) -> tuple[int, int, float]:
    """(status, bytes, seconds) of one GET on a new connection."""
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=60)
    conn.request("GET", address, headers={"Cookie": cookie} if cookie else {})
    response = conn.getresponse()
    body = response.read()
    conn.close()
    return response.status, len(body), time.perf_counter() - started


def hammer(address: str, cookie: str, clients: int, repeat: int) -> tuple[list[float], int]:
    """``clients`` threads each GET ``address`` ``repeat`` times; the times and the size."""
    times: list[float] = []
    sizes: list[int] = []
    errors: list[str] = []
    lock = threading.Lock()

    def client() -> None:
        for _ in range(repeat):
            status, size, seconds = fetch(address, cookie)
            with lock:
                times.append(seconds)
                sizes.append(size)
                if status != 200:
                    errors.append(f"{address}: HTTP {status}")

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        sys.exit(errors[0])
    return times, max(sizes)


def measure(args: argparse.Namespace, url: str, data: Dataset) -> None:
    pages = pages_list(data)
    if args.pages:
        wanted = [w.strip() for w in args.pages.split(",")]
        pages = [p for p in pages if any(w in p[0] for w in wanted)]
    cookies = sessions_make(data)
    counts = queries_count(pages, cookies, 15 if args.cost_only else 3)
    if args.cost_only:
        print(f"{load_average()}; in this process, one request (median of 15)")
        print(f"{'page':32} {'queries':>7} {'db ms':>6} {'cpu ms':>6}")
        for label, _who, _address in pages:
            cost = counts[label]
            print(f"{label:32} {cost.queries:7d} {cost.db_ms:6.1f} {cost.cpu_ms:6.1f}")
        replanned = statements_replanned()
        print(f"prepared statements planned on every run: {len(replanned)}")
        for statement in replanned:
            print(f"  {statement}")
        print(f"{load_average()} after")
        return
    server = serve(url, args.workers)
    try:
        print(f"{load_average()} before; gunicorn {args.workers} workers, {args.clients} clients")
        print(
            f"{'page':32} {'1 client':>8} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7}"
            f" {'triv p95':>8} {'p95/triv':>8} {'queries':>7} {'db ms':>6} {'cpu ms':>6}"
            f" {'KB':>5}"
        )
        trivial = "/bench-trivial/"
        hammer(trivial, "", args.clients, args.repeat)  # every worker up and connected
        summary: list[tuple[str, float, float]] = []
        for label, who, address in pages:
            # The trivial view right before each page, so each ratio compares like with like
            # on a machine whose load changes from minute to minute.
            reference = pct(hammer(trivial, "", args.clients, args.repeat)[0], 0.95) * 1000
            # One client first (also warms every worker's caches a little), then many.
            alone = pct(hammer(address, cookies[who], 1, 5)[0], 0.5) * 1000
            times, size = hammer(address, cookies[who], args.clients, args.repeat)
            p50, p95, p99 = (pct(times, q) * 1000 for q in (0.5, 0.95, 0.99))
            cost = counts[label]
            summary.append((label, p95, reference))
            print(
                f"{label:32} {alone:8.1f} {p50:7.1f} {p95:7.1f} {p99:7.1f} {reference:8.1f}"
                f" {p95 / reference:8.1f} {cost.queries:7d} {cost.db_ms:6.1f}"
                f" {cost.cpu_ms:6.1f} {size / 1024:5.0f}"
            )
        under = sum(1 for _label, p95, _ref in summary if p95 < P95_TARGET_MS)
        print(f"pages with p95 under {P95_TARGET_MS} ms: {under} of {len(summary)}")
        print(f"{load_average()} after")
    finally:
        server.terminate()
        server.wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--contests", type=int, default=100_000)
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--people", type=int, default=55_000)
    parser.add_argument("--client-contests", type=int, default=1370)
    parser.add_argument("--member-entries", type=int, default=10_000)
    parser.add_argument("--big-contests", type=int, default=5)
    parser.add_argument("--big-entries", type=int, default=2000)
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--batch-items", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--pages", default="", help="only pages whose label contains one of these")
    parser.add_argument(
        "--cost-only",
        action="store_true",
        help="print queries, database and CPU ms per page in this process; serve nothing",
    )
    args = parser.parse_args(argv)
    sizes = Sizes(
        contests=args.contests,
        entries=args.entries,
        people=args.people,
        client_contests=args.client_contests,
        member_entries=args.member_entries,
        big_contests=args.big_contests,
        big_entries=args.big_entries,
        batches=args.batches,
        batch_items=args.batch_items,
    )
    if not 10 <= sizes.contests <= 1_000_000 or not 10 <= sizes.people <= 1_000_000:
        parser.error("--contests and --people from 10 to 1,000,000")
    if not 1 <= sizes.big_contests <= sizes.client_contests <= sizes.contests:
        parser.error("1 ≤ --big-contests ≤ --client-contests ≤ --contests")
    if sizes.entries < sizes.big_contests * sizes.big_entries + sizes.member_entries:
        parser.error("--entries must hold the big contests' and the member's entries")
    if not 1 <= sizes.batches <= sizes.batch_items <= 10_000_000:
        parser.error("1 ≤ --batches ≤ --batch-items ≤ 10,000,000")
    url = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    from urllib.parse import urlsplit

    if not url.startswith(("postgres://", "postgresql://")):
        sys.exit("The web bench needs PostgreSQL: set DATABASE_URL=postgres://…")
    if (urlsplit(url).hostname or "") not in LOCAL_HOSTS:
        sys.exit("DATABASE_URL must point at 127.0.0.1; this bench stays local.")
    database_ensure(url)
    os.environ.setdefault("TREFPUNT_DEBUG", "0")  # as served: no template debugging
    # As served (``serve``): the connection outlives a request, and so do its prepared
    # statements; closed after every request, each request would prepare them anew.
    os.environ.setdefault("TREFPUNT_DB_CONN_MAX_AGE", "60")
    if os.environ.get("TREFPUNT_REDIS_URL"):
        # Sessions in Redis, as production keeps them (``settings/production.py``): every
        # gunicorn worker reads them, and a request reads no session row from PostgreSQL.
        os.environ.setdefault("TREFPUNT_SESSION_ENGINE", "django.contrib.sessions.backends.cache")
    django_setup(url)
    measure(args, url, dataset_build(sizes))
    return 0


if __name__ == "__main__":
    sys.exit(main())
