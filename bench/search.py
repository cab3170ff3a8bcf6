"""Benchmark search on PostgreSQL: 100,000 contests, idea calls, ideas and batches and 20,000
people in the index, then searches with facets.

    python bench/search.py [--things 100000] [--people 20000] [--rounds 20]

Loads the documents into the PostgreSQL database of ``DATABASE_URL`` (default
``postgres://postgres@127.0.0.1:5432/bench_search``, created and migrated when missing; the
documents are written in batches of 2,000 rows the way ``discovery.indexing`` writes them, so
the generated ``tsvector`` column and its GIN index are filled by PostgreSQL as in production),
unless it already holds them. Then runs a mix of searches — words, prefixes, Dutch and English
stems, organisation names, with and without facet filters, and a page of people sorted by
track record — ``--rounds`` times each, through ``discovery.selectors.search`` (what the page
and the API call).

Printed: p50 and p95 milliseconds per search (aim: p95 under 50 ms), the load average, and the
number of SQL queries per search, which must be the same for every query that finds something.
A search counts and ranks at most ``selectors.POOL`` (1,000) matches; "≥" marks a count that
is a lower bound.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.common import database_ensure, django_setup

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/bench_search"

NL = [
    "logo",
    "ontwerp",
    "bakkerij",
    "brood",
    "winkel",
    "verpakking",
    "nieuwe",
    "huisstijl",
    "campagne",
    "illustratie",
    "vertaling",
    "recept",
    "duurzaam",
    "fiets",
    "buurt",
    "tuin",
    "energie",
    "website",
    "app",
    "naam",
    "slogan",
    "koffie",
    "kaas",
    "markt",
    "zomer",
    "winter",
    "feest",
    "school",
    "sport",
    "water",
    "groen",
    "stad",
    "dorp",
]
EN = [
    "logo",
    "design",
    "bakery",
    "bread",
    "shop",
    "packaging",
    "new",
    "identity",
    "campaign",
    "illustration",
    "translation",
    "recipe",
    "sustainable",
    "bike",
    "neighbourhood",
    "garden",
    "energy",
    "website",
    "app",
    "name",
    "slogan",
    "coffee",
    "cheese",
    "market",
    "summer",
    "winter",
    "party",
    "school",
    "sport",
    "water",
    "green",
    "city",
    "village",
    "review",
    "label",
    "sentiment",
]
ORGS = ["Bakkerij Van der Meulen", "Woonhaven Rivierenland", "Vlot Labs", "Kaashandel Noord"]
KINDS = [("contest", 0.4), ("ideacall", 0.1), ("idea", 0.4), ("batch", 0.1)]
CATEGORIES = ["logo", "brand_identity", "illustration", "web_app_design", "naming", "slogan"]
SKILLS = ["logo-design", "illustration", "copywriting", "translation", "photography", "ux"]

SEARCHES: list[dict[str, object]] = [
    {"q": "logo"},
    {"q": "logo", "kind": "contest"},
    {"q": "bakkerij", "kind": "contest", "band": 2},
    {"q": "ontwerpen"},
    {"q": "designs", "language": "en"},
    {"q": "verpak"},
    {"q": "green city", "status": "open"},
    {"q": "Van der Meulen"},
    {"q": "illustratie", "kind": "person", "sort": "score"},
    {"q": "", "kind": "contest", "category": "logo"},
]


def sentence(rnd: random.Random, words: list[str], n: int) -> str:
    return " ".join(rnd.choice(words) for _ in range(n))


def load(things: int, people: int) -> None:
    from django.db import transaction
    from django.utils import timezone

    from trefpunt.discovery.indexing import amount_band, documents_write
    from trefpunt.discovery.models import SearchDocument

    have = SearchDocument.objects.count()
    if have >= things + people:
        print(f"index holds {have} documents already")
        return
    SearchDocument.objects.all().delete()
    rnd = random.Random(12)
    now = timezone.now()
    started = time.perf_counter()
    rows: list[SearchDocument] = []

    def flush() -> None:
        with transaction.atomic():
            documents_write(rows)
        rows.clear()

    kinds = [k for k, _w in KINDS]
    weights = [w for _k, w in KINDS]
    for i in range(things):
        kind = rnd.choices(kinds, weights)[0]
        lang = rnd.choice(["nl", "en"])
        words = NL if lang == "nl" else EN
        amount = rnd.choice([None, 5_000, 30_000, 120_000, 400_000])
        org = rnd.choice(ORGS)
        rows.append(
            SearchDocument(
                kind=kind,
                object_id=i + 1,
                title=sentence(rnd, words, 5).capitalize(),
                body=sentence(rnd, words, 60),
                names=org,
                keywords=rnd.choice(CATEGORIES).replace("_", " "),
                category=rnd.choice(CATEGORIES) if kind == "contest" else "",
                tags="",
                status=rnd.choice(["open", "judging", "completed"]),
                languages=f" {lang} ",
                amount=amount,
                band=amount_band(amount),
                currency="EUR",
                url_key=str(i + 1),
                detail={"by": {"name": org}},
                score=rnd.randint(0, 5000),
                published_at=now,
                updated_at=now,
            )
        )
        if len(rows) >= 2000:
            flush()
    for i in range(people):
        skills = rnd.sample(SKILLS, 2)
        rows.append(
            SearchDocument(
                kind="person",
                object_id=i + 1,
                title=f"{rnd.choice(['Anna', 'Daan', 'Fatima', 'Joost', 'Lotte'])} {i}",
                body=sentence(rnd, rnd.choice([NL, EN]), 30),
                names=f"@member-{i}",
                keywords=" ".join(skills),
                category=skills[0],
                tags=f" {' '.join(skills)} ",
                languages=" nl en ",
                url_key=f"member-{i}",
                detail={"track": {"contests_won": rnd.randint(0, 3)}},
                score=rnd.randint(0, 100),
                published_at=now,
                updated_at=now,
            )
        )
        if len(rows) >= 2000:
            flush()
    if rows:
        flush()
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE discovery_searchdocument")
    print(f"loaded {things} things + {people} people in {time.perf_counter() - started:.0f} s")


def run(rounds: int) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from trefpunt.discovery.selectors import SearchQuery, search

    print(f"load average at start: {os.getloadavg()[0]:.1f}")
    timings: list[float] = []
    query_counts: dict[str, set[int]] = {"found": set(), "browse": set()}
    for search_args in SEARCHES:
        mine = []
        for _ in range(rounds):
            with CaptureQueriesContext(connection) as ctx:
                started = time.perf_counter()
                results = search(SearchQuery(**search_args))  # type: ignore[arg-type]
                mine.append((time.perf_counter() - started) * 1000)
            if results.total:
                key = "found" if search_args.get("q") else "browse"
                query_counts[key].add(len(ctx.captured_queries))
        timings += mine
        at_least = "≥" if results.count_is_lower_bound else " "
        print(
            f"  {search_args!s:58} {at_least}{results.total:>6} results"
            f"  p50 {statistics.median(mine):6.1f} ms  queries {len(ctx.captured_queries)}"
        )
    timings.sort()
    p50 = statistics.median(timings)
    p95 = timings[int(len(timings) * 0.95) - 1]
    print(
        f"search with facets: p50 {p50:.1f} ms, p95 {p95:.1f} ms over {len(timings)} searches"
        f" (load average {os.getloadavg()[0]:.1f})"
    )
    print(
        f"queries per search with words that finds something: {sorted(query_counts['found'])}"
        f"; without words (nothing to highlight): {sorted(query_counts['browse'])}"
    )
    return 0 if len(query_counts["found"]) == 1 and len(query_counts["browse"]) <= 1 else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--things", type=int, default=100_000)
    parser.add_argument("--people", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", DEFAULT_URL)
    if not url.startswith("postgres"):
        print("bench/search.py measures PostgreSQL: set DATABASE_URL=postgres://…")
        return 2
    database_ensure(url)
    django_setup(url)
    load(args.things, args.people)
    return run(args.rounds)


if __name__ == "__main__":
    sys.exit(main())
