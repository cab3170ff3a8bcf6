"""How fast the similar-ideas suggestion answers for an idea call with many ideas.

Loads one published call with ``--ideas`` ideas (default 10,000; generated Dutch and English
texts about shops, packaging, offices and travel, each with its stored features, as
``idea_submit`` stores them) into the PostgreSQL database of ``DATABASE_URL`` (default
``postgres://postgres@127.0.0.1:5432/bench_ideas``, created and migrated when missing), then
times ``selectors.similar_ideas`` — what the form's "similar ideas while typing" box and
``GET /api/v1/ideas/similar`` call — for ``--queries`` typed texts:

* **cold**: the first suggestion after the call's ideas changed (the process builds the
  call's index from the stored features);
* **warm**: every later suggestion (one signature query, the index lookup, one query for the
  ideas shown);
* **after a new idea**: the first suggestion after somebody posted an idea (``idea_submit``):
  the index is brought up to date with the few changed ideas instead of being rebuilt.

Prints p50/p95/max of each and ``uptime`` (the machine is shared: the load average says
how much the figures were disturbed).

    python bench/ideas_similar.py [--ideas 10000] [--queries 300]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import database_ensure, django_setup, load_average, pct

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/bench_ideas"

SUBJECTS_EN = [
    "reusable cups", "paper bags", "refill station", "bulk bins", "cardboard trays",
    "digital receipts", "bike parking", "solar panels", "night lights", "water taps",
    "loyalty points", "delivery boxes", "glass jars", "compost bins", "shared cars",
    "team lunches", "standing desks", "quiet rooms", "train tickets", "plant walls",
]  # fmt: skip
SUBJECTS_NL = [
    "herbruikbare bekers", "papieren tassen", "navulstation", "bulkbakken", "kartonnen bakjes",
    "digitale bonnen", "fietsenstalling", "zonnepanelen", "nachtverlichting", "watertappunten",
    "spaarpunten", "bezorgdozen", "glazen potten", "compostbakken", "deelauto's",
    "teamlunches", "sta-bureaus", "stilteruimtes", "treinkaartjes", "plantenwanden",
]  # fmt: skip
PLACES_EN = ["in the shop", "at the office", "in the canteen", "at the checkout", "online"]
PLACES_NL = ["in de winkel", "op kantoor", "in de kantine", "bij de kassa", "in de webwinkel"]
VERBS_EN = ["introduce", "replace", "offer", "reward", "stop using", "test", "expand"]
VERBS_NL = ["invoeren", "vervangen", "aanbieden", "belonen", "afschaffen", "testen", "uitbreiden"]
WHY_EN = [
    "so we waste less packaging", "because customers ask for it", "to save energy",
    "which cuts costs", "so staff travel less", "to make the place greener",
]  # fmt: skip
WHY_NL = [
    "zodat we minder verpakking weggooien", "omdat klanten erom vragen", "om energie te besparen",
    "wat kosten scheelt", "zodat medewerkers minder reizen", "om alles groener te maken",
]  # fmt: skip


def text(rnd: random.Random) -> tuple[str, str]:
    if rnd.random() < 0.5:
        subject, place = rnd.choice(SUBJECTS_EN), rnd.choice(PLACES_EN)
        title = f"{rnd.choice(VERBS_EN).capitalize()} {subject} {place}"
        body = (
            f"We could {rnd.choice(VERBS_EN)} {subject} {place} {rnd.choice(WHY_EN)}. "
            f"Also {rnd.choice(SUBJECTS_EN)} {rnd.choice(PLACES_EN)}, {rnd.choice(WHY_EN)}."
        )
    else:
        subject, place = rnd.choice(SUBJECTS_NL), rnd.choice(PLACES_NL)
        title = f"{subject.capitalize()} {place} {rnd.choice(VERBS_NL)}"
        body = (
            f"Laten we {subject} {place} {rnd.choice(VERBS_NL)}, {rnd.choice(WHY_NL)}. "
            f"Daarnaast {rnd.choice(SUBJECTS_NL)} {rnd.choice(PLACES_NL)}, {rnd.choice(WHY_NL)}."
        )
    return title, body


def call_load(ideas: int, seed: int) -> int:
    """A published call through the services; its ideas bulk-inserted with the features the
    service stores (posting 10,000 ideas one by one would only take longer)."""
    from datetime import timedelta

    from django.utils import timezone

    from trefpunt.accounts.services import user_create
    from trefpunt.ideas.models import Idea, IdeaAuthor, Stage
    from trefpunt.ideas.services import call_create_draft, call_publish
    from trefpunt.ideas.similarity import features

    run = f"{int(time.time())}-{seed}"
    client = user_create(email=f"bench-ideas-{run}@example.org", password=None)
    authors = [
        user_create(email=f"bench-idea-{run}-{i}@example.org", password=None) for i in range(20)
    ]
    call = call_create_draft(
        user=client,
        title=f"Similar-ideas bench {run}",
        question="How can we be greener?",
        audience="public",
        submission_deadline=timezone.now() + timedelta(days=5),
        voting_deadline=timezone.now() + timedelta(days=9),
        voting_mode="up",
        tags=[],
    )
    call_publish(call_id=call.pk, user=client)
    entry = Stage.objects.get(call=call, kind=Stage.Kind.NEW)
    rnd = random.Random(seed)
    now = timezone.now()
    started = time.perf_counter()
    batch = []
    for i in range(ideas):
        title, body = text(rnd)
        batch.append(
            Idea(
                call=call,
                author=authors[i % len(authors)],
                title=title,
                description=body,
                stage=entry,
                features=features(title, body),
                indexed_at=now,
            )
        )
    created = Idea.objects.bulk_create(batch, batch_size=1000)
    IdeaAuthor.objects.bulk_create(
        [IdeaAuthor(idea=idea, user_id=idea.author_id) for idea in created], batch_size=1000
    )
    print(f"loaded {ideas:,} ideas into call {call.pk} in {time.perf_counter() - started:.1f} s")
    return call.pk


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ideas", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--cold", type=int, default=5, help="cold rebuilds to time")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL)
    database_ensure(url)
    django_setup(url)

    from trefpunt.ideas.models import IdeaCall
    from trefpunt.ideas.selectors import similar_ideas
    from trefpunt.ideas.similarity import INDEXES

    call = IdeaCall.objects.get(pk=call_load(args.ideas, args.seed))
    rnd = random.Random(args.seed + 1)
    typed = [text(rnd) for _ in range(args.queries)]

    cold = []
    for title, body in typed[: args.cold]:
        INDEXES.clear()
        started = time.perf_counter()
        similar_ideas(call=call, title=title, description=body)
        cold.append((time.perf_counter() - started) * 1000)

    warm, found = [], 0
    for title, body in typed:
        started = time.perf_counter()
        hits = similar_ideas(call=call, title=title, description=body)
        warm.append((time.perf_counter() - started) * 1000)
        found += bool(hits)

    from trefpunt.accounts.services import user_create
    from trefpunt.ideas.services import idea_submit

    poster = user_create(email=f"bench-poster-{time.time_ns()}@example.org", password=None)
    fresh = []
    for title, body in typed[:20]:
        idea_submit(call_id=call.pk, user=poster, title=title, description=body)
        started = time.perf_counter()
        similar_ideas(call=call, title=title, description=body)
        fresh.append((time.perf_counter() - started) * 1000)

    print(f"call with {args.ideas:,} ideas, {len(typed)} typed texts ({found} with suggestions)")
    print(
        f"warm suggestion: p50 {pct(warm, 0.5):.1f} ms, p95 {pct(warm, 0.95):.1f} ms, "
        f"max {max(warm):.1f} ms"
    )
    print(
        f"cold (index rebuilt from stored features), {len(cold)} runs: "
        f"p50 {pct(cold, 0.5):.0f} ms, max {max(cold):.0f} ms"
    )
    print(
        f"first suggestion after a new idea, {len(fresh)} runs: "
        f"p50 {pct(fresh, 0.5):.1f} ms, p95 {pct(fresh, 0.95):.1f} ms"
    )
    print(load_average())


if __name__ == "__main__":
    main()
