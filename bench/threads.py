"""Benchmark conversations at scale on PostgreSQL: a client with 1,000 threads and 100,000
messages opens the inbox, the header badge and one long thread.

    python bench/threads.py [--threads 1000] [--messages 100000] [--runs 200]

The client runs a published microtask batch; each of ``--threads`` workers asked about it in
their own thread (the ``batch`` kind, so the inbox resolves real targets), and the
``--messages`` messages are spread over the threads, half of them unread. Rows are
bulk-inserted into the database of ``DATABASE_URL`` (default
``postgres://postgres@127.0.0.1:5432/bench_threads``, created and migrated when missing;
only 127.0.0.1).

Each page is fetched ``--runs`` times through Django's test client (the whole stack:
middleware, session, selectors, templates) and timed; the same pages for a person with one
thread of three messages run interleaved as the baseline, so the ratio says what the size
costs whatever the machine's load. Printed: p50/p95 per page, the ratio of p50s, the number
of queries per page for both people (must be equal: constant queries) and the load average.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import database_ensure, django_setup, load_average, pct

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/bench_threads"


def world(threads: int, messages: int, run: str) -> tuple[int, int, list[int]]:
    """Bulk-load the big client, the small baseline person, and their threads. Returns the
    two user ids and a long thread's id per person."""
    from django.db import transaction
    from django.utils import timezone

    from trefpunt.accounts.models import Profile, User
    from trefpunt.community.models import Message, Thread, ThreadMember
    from trefpunt.microtasks.models import Batch

    now = timezone.now()
    with transaction.atomic():
        people = User.objects.bulk_create(
            User(email=f"bench-{run}-{n}@example.org", password="!") for n in range(threads + 2)
        )
        Profile.objects.bulk_create(
            Profile(user=u, handle=f"b{run}x{n}", display_name=f"Worker {n}")
            for n, u in enumerate(people)
        )
        big, small, workers = people[0], people[1], people[2:]
        batches = Batch.objects.bulk_create(
            Batch(
                owner=owner,
                title=f"Bench batch {run} {n}",
                instructions="Read the review and pick its sentiment.",
                form=[],
                display=[],
                reward=10,
                status=Batch.Status.OPEN,
            )
            for n, owner in enumerate((big, small))
        )
        per = max(1, messages // threads)
        made = Thread.objects.bulk_create(
            [
                Thread(
                    subject="batch",
                    subject_id=batches[0].pk,
                    key=str(w.pk),
                    created_by=w,
                    last_message_at=now,
                    message_count=per,
                )
                for w in workers
            ]
            + [
                Thread(
                    subject="batch",
                    subject_id=batches[1].pk,
                    key=str(workers[0].pk),
                    created_by=workers[0],
                    last_message_at=now,
                    message_count=3,
                )
            ]
        )
        members = []
        for n, thread in enumerate(made[:-1]):
            members += [
                ThreadMember(thread=thread, user=big, read_count=per // 2, last_message_at=now),
                ThreadMember(thread=thread, user=workers[n], read_count=per, last_message_at=now),
            ]
        members += [
            ThreadMember(thread=made[-1], user=small, read_count=1, last_message_at=now),
            ThreadMember(thread=made[-1], user=workers[0], read_count=3, last_message_at=now),
        ]
        ThreadMember.objects.bulk_create(members, batch_size=5000)
        rows = (
            Message(
                thread=thread,
                number=k + 1,
                author=workers[n] if k % 2 == 0 else big,
                body=f"Message {k + 1}: does *sarcasm* count as negative?",
            )
            for n, thread in enumerate(made[:-1])
            for k in range(per)
        )
        Message.objects.bulk_create(rows, batch_size=5000)
        Message.objects.bulk_create(
            Message(thread=made[-1], number=k + 1, author=workers[0], body="Hello")
            for k in range(3)
        )
    return big.pk, small.pk, [made[0].pk, made[-1].pk]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1000)
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    if not (1 <= args.threads <= 20_000 and 1 <= args.messages <= 2_000_000 and args.runs >= 1):
        sys.exit("--threads 1..20000, --messages 1..2000000, --runs >= 1")
    url = os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL)
    database_ensure(url)
    django_setup(url)

    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from trefpunt.accounts.models import User

    started = time.perf_counter()
    big, small, (long_thread, short_thread) = world(
        args.threads, args.messages, str(time.time_ns())
    )
    print(
        f"loaded {args.threads:,} threads, {args.messages:,} messages "
        f"in {time.perf_counter() - started:.1f} s"
    )
    pages = {
        "inbox": ("/en/messages/", "/en/messages/"),
        "badge": ("/en/notifications/badge/", "/en/notifications/badge/"),
        "thread": (f"/en/messages/{long_thread}/", f"/en/messages/{short_thread}/"),
    }
    clients = []
    for pk in (big, small):
        browser = Client(HTTP_HOST="127.0.0.1")
        browser.force_login(User.objects.get(pk=pk))
        clients.append(browser)
    print(f"{'page':<8} {'big p50':>9} {'big p95':>9} {'base p50':>9} {'ratio':>6} queries")
    for name, paths in pages.items():
        timings: list[list[float]] = [[], []]
        queries = []
        for side in (0, 1):
            with CaptureQueriesContext(connection) as seen:
                assert clients[side].get(paths[side]).status_code == 200
            queries.append(len(seen))
        for _ in range(args.runs):
            for side in (0, 1):  # interleaved: both see the same load
                t0 = time.perf_counter()
                clients[side].get(paths[side])
                timings[side].append((time.perf_counter() - t0) * 1000)
        p50, base = pct(timings[0], 0.5), pct(timings[1], 0.5)
        print(
            f"{name:<8} {p50:>7.1f}ms {pct(timings[0], 0.95):>7.1f}ms {base:>7.1f}ms "
            f"{p50 / base:>6.2f} {queries[0]} vs {queries[1]}"
        )
    from trefpunt.community.selectors import inbox_for_user

    users = [User.objects.get(pk=pk) for pk in (big, small)]
    listed: list[list[float]] = [[], []]
    for _ in range(args.runs):
        for side in (0, 1):
            t0 = time.perf_counter()
            inbox_for_user(user=users[side])
            listed[side].append((time.perf_counter() - t0) * 1000)
    p50, base = pct(listed[0], 0.5), pct(listed[1], 0.5)
    print(
        f"{'list':<8} {p50:>7.1f}ms {pct(listed[0], 0.95):>7.1f}ms {base:>7.1f}ms "
        f"{p50 / base:>6.2f} (the inbox selector alone: the first 50 threads)"
    )
    print(load_average())


if __name__ == "__main__":
    main()
