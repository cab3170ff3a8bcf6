"""Time the contest pages at scale on PostgreSQL, beside a trivial view in the same run.

    python bench/web.py [--contests 100000] [--people 55000] [--client-contests 1370]
                        [--repeat 30]

Builds (once; later runs reuse it) ``--contests`` public contests in every status with prize
totals spread from € 50 to € 5,000, ``--people`` people, and one client who runs
``--client-contests`` of the contests, in the PostgreSQL database of ``DATABASE_URL``
(default ``postgres://postgres@127.0.0.1:5432/bench_web``; only 127.0.0.1), with
``bulk_create`` in batches. Then requests each page ``--repeat`` times through **Django's
test client** (the whole middleware and template stack in this process, no HTTP server) and
prints p50 / p95 and queries per page, next to a trivial view (``HttpResponse("ok")`` behind
the same middleware) timed in the same run, and the load average.

Not built (yet): entries (the issue's 1,000,000), batch items; so entry pages, judging and
the crowd member's entries page are not timed here.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.scheduler import LOCAL_HOSTS, database_ensure, django_setup

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/bench_web"
CHUNK = 5000


def dataset_build(*, contests: int, people: int, client_contests: int) -> int:
    """The dataset, built unless it is there; returns the big client's user id."""
    from django.contrib.auth.hashers import make_password
    from django.utils import timezone

    from trefpunt.accounts.models import User
    from trefpunt.contests.models import Category, Contest

    client = User.objects.filter(email="web-client@example.org").first()
    if client is not None and Contest.objects.count() >= contests:
        return int(client.pk)
    started = time.perf_counter()
    password = make_password(None)
    client = User.objects.create(email="web-client@example.org", password=password)
    for start in range(0, people, CHUNK):
        User.objects.bulk_create(
            [
                User(email=f"web-{i}@example.org", password=password)
                for i in range(start, min(people, start + CHUNK))
            ]
        )
    people_ids = list(User.objects.values_list("pk", flat=True)[:1000])
    rng = random.Random(20240501)
    now = timezone.now()
    statuses = ["open"] * 20 + ["judging"] * 10 + ["awarded"] * 30 + ["completed"] * 40
    categories = [c.value for c in Category]
    for start in range(0, contests, CHUNK):
        rows = []
        for i in range(start, min(contests, start + CHUNK)):
            status = rng.choice(statuses)
            published = now - timedelta(days=rng.randint(1, 1000), seconds=i)
            deadline = (
                now + timedelta(hours=rng.randint(1, 2000))
                if status == "open"
                else published + timedelta(days=14)
            )
            rows.append(
                Contest(
                    title=f"Contest {i}: a logo for shop {i % 977}",
                    summary="A clean logo for a small shop.",
                    category=rng.choice(categories),
                    created_by_id=client.pk if i < client_contests else rng.choice(people_ids),
                    entry_deadline=deadline,
                    judging_days=7,
                    status=status,
                    published_at=published,
                    judging_ends_at=deadline + timedelta(days=7) if status != "open" else None,
                    prize_total=rng.randint(1, 100) * 5000,
                )
            )
        Contest.objects.bulk_create(rows)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(
        f"built {contests:,} contests and {people:,} people"
        f" in {time.perf_counter() - started:.0f} s"
    )
    return int(client.pk)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contests", type=int, default=100_000)
    parser.add_argument("--people", type=int, default=55_000)
    parser.add_argument("--client-contests", type=int, default=1370)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args(argv)
    if not 1 <= args.contests <= 1_000_000 or not 1 <= args.people <= 1_000_000:
        parser.error("--contests and --people up to 1,000,000")
    if not 1 <= args.repeat <= 1000 or not 0 <= args.client_contests <= args.contests:
        parser.error("--repeat up to 1,000; --client-contests up to --contests")
    url = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    from urllib.parse import urlsplit

    if not url.startswith(("postgres://", "postgresql://")):
        sys.exit("The web bench needs PostgreSQL: set DATABASE_URL=postgres://…")
    if (urlsplit(url).hostname or "") not in LOCAL_HOSTS:
        sys.exit("DATABASE_URL must point at 127.0.0.1; this bench stays local.")
    database_ensure(url)
    django_setup(url)
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.http import HttpResponse
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import clear_url_caches, path

    from trefpunt import urls
    from trefpunt.accounts.models import User

    settings.ALLOWED_HOSTS = ["testserver", "127.0.0.1"]
    call_command("migrate", verbosity=0)
    client_id = dataset_build(
        contests=args.contests, people=args.people, client_contests=args.client_contests
    )
    urls.urlpatterns.insert(0, path("bench-trivial/", lambda request: HttpResponse("ok")))
    clear_url_caches()
    browser = Client()
    owner = Client()
    owner.force_login(User.objects.get(pk=client_id))
    pages = [
        ("trivial view (baseline)", browser, "/bench-trivial/"),
        ("home", browser, "/"),
        ("contest list, page 1", browser, "/contests/"),
        ("contest list, page 500", browser, "/contests/?page=500"),
        ("contest list, last page", browser, "/contests/?page=last"),
        ("prize filter ≥ € 2,000", browser, "/contests/?prize_min=2000"),
        ("prize filter ≤ € 100", browser, "/contests/?prize_max=100"),
        ("prize filter, page 300", browser, "/contests/?prize_min=1000&page=300"),
        ("client dashboard", owner, "/contests/dashboard/"),
        ("client dashboard, page 20", owner, "/contests/dashboard/?page=20"),
    ]
    print(f"load average before {os.getloadavg()[0]:.2f}; Django test client, one client")
    print(f"{'page':32} {'p50 ms':>8} {'p95 ms':>8} {'× trivial':>10} {'queries':>8} {'KB':>6}")
    baseline = None
    for label, client, address in pages:
        times = []
        queries = 0
        size = 0
        for _ in range(args.repeat):
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                response = client.get(address, follow=True)
                times.append(time.perf_counter() - started)
            if response.status_code != 200:
                sys.exit(f"{address}: HTTP {response.status_code}")
            queries = len(captured)
            size = len(response.content)
        times.sort()
        p50 = statistics.median(times) * 1000
        p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))] * 1000
        baseline = baseline or p50
        print(
            f"{label:32} {p50:8.1f} {p95:8.1f} {p50 / baseline:10.1f} {queries:8d}"
            f" {size / 1024:6.0f}"
        )
    print(f"load average after {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
