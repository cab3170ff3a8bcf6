"""Demo contests for ``trefpunt demo``: one or more in every state, with generated image
entries, ratings, feedback, finalists, a flagged near-duplicate, winners and a handover.

Runs after the accounts demo and picks its people from the database instead of relying on
exact addresses: **clients** are organisation owners (posting for their organisation) and
people with ``client`` in their email or more than €1,000 in their wallet; the **crowd** is
everyone else with a profile (not staff, not in an organisation). What is missing is created
through the accounts services. Money arrives as signed sandbox deposits.

Idempotent: each demo contest has a fixed title and is skipped when it exists.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import timedelta
from typing import IO, Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _
from PIL import Image

from trefpunt.accounts.demo import DOMAIN, demo_people, demo_people_ensure, wallet_top_up
from trefpunt.accounts.demo.showcase import Showcase
from trefpunt.accounts.models import Membership, Organisation, Role, User
from trefpunt.ledger.services import (
    wallet_for_organisation,
    wallet_for_user,
)

from .demo_art import LogoSet
from .models import Contest, Entry
from .selectors import contest_funding
from .services import (
    contest_award,
    contest_cancel,
    contest_close_entries,
    contest_create_draft,
    contest_invite,
    contest_publish,
    entry_decline,
    entry_finalist_set,
    entry_rate,
    entry_submit,
    handover_confirm,
    handover_deliver,
)

BRIEF = """## Who we are
{who}

## What we need
{need}

{wants}

## Please avoid
{avoid}
"""
LOGO_WANTS = [
    "Works small (a favicon) and large (a shop window)",
    "Works in one colour",
    "Warm, not cute",
]
LOGO_AVOID = "Clip art, stock icons and anything that looks like a supermarket brand."
# What an entry says about itself, per category (the demo entries are generated pictures).
ENTRY_NOTE = {
    "logo": "Two weights and a one-colour version are included.",
    "illustration": "Drawn at A2; the colours are print-safe.",
    "naming": "The name on a mock-up of the frame, with the story behind it.",
    "product_idea": "A sketch of the idea with the materials we would use.",
}


# --- pictures ---------------------------------------------------------------------------


def _copy_of(png: bytes) -> bytes:
    """A lazily 'borrowed' copy: cropped a little, shrunk, saved as JPEG."""
    image = Image.open(io.BytesIO(png)).convert("RGB")
    w, h = image.size
    image = image.crop((int(w * 0.02), int(h * 0.02), int(w * 0.98), int(h * 0.98)))
    image = image.resize((int(image.width * 0.7), int(image.height * 0.7)))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=75)
    return out.getvalue()


def _upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content)


def _pdf(title: str) -> bytes:
    safe = "".join(c for c in title if c.isalnum() or c == " ")
    return (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
        b"% " + safe.encode() + b"\ntrailer<</Root 1 0 R>>\n%%EOF\n"
    )


# --- people and money -----------------------------------------------------------------------


def _publish(contest: Contest, user: User, organisation: Organisation | None) -> Contest:
    funding = contest_funding(contest=contest)
    wallet = (
        wallet_for_organisation(organisation=organisation)
        if organisation
        else wallet_for_user(user=user)
    )
    wallet_top_up(wallet, user, funding.total, f"demo:contest-fund:{contest.pk}")
    return contest_publish(contest_id=contest.pk, user=user)


# --- contests -------------------------------------------------------------------------------


class _Builder:
    def __init__(self, crowd: list[User]) -> None:
        self.crowd = crowd
        self.logos = LogoSet(seed=1000)
        self.pictures: dict[str, bytes] = {}

    def exists(self, title: str) -> bool:
        return Contest.objects.filter(title=title).exists()

    def draft(
        self, poster: User, organisation: Organisation | None, title: str, **fields: Any
    ) -> Contest:
        wants = fields.pop("wants", LOGO_WANTS)
        data: dict[str, Any] = {
            "summary": "A warm, simple mark that works on bags, cups and the shop window.",
            "description": BRIEF.format(
                who=fields.pop("who", "A small business with a big heart."),
                need=fields.pop("need", "A logo we can use for the next twenty years."),
                wants="\n".join(f"- {line}" for line in wants),
                avoid=fields.pop("avoid", LOGO_AVOID),
            ),
            "category": "logo",
            "prizes": [30_000],
            "entry_deadline": timezone.now() + timedelta(days=fields.pop("days", 6)),
        }
        data.update(fields)
        return contest_create_draft(user=poster, organisation=organisation, title=title, **data)

    def enter(
        self, contest: Contest, user: User, title: str, content: bytes | None = None
    ) -> Entry:
        png = content or self.logos.new(title)
        self.pictures[title] = png
        return entry_submit(
            contest_id=contest.pk,
            user=user,
            title=title,
            description=ENTRY_NOTE.get(contest.category, ENTRY_NOTE["logo"]),
            files=[_upload(f"{title.lower().replace(' ', '-')}.png", png)],
            originality_declared=True,
            nda_accepted=True,
        )

    def entries(self, contest: Contest, titles: list[str], start: int = 0) -> list[Entry]:
        people = self.crowd[start:] + self.crowd[:start]
        return [self.enter(contest, people[i % len(people)], t) for i, t in enumerate(titles)]


def _judge(poster: User, entries: list[Entry], ratings: list[int | None]) -> None:
    feedback = [
        "Strong idea. Could the mark be a little heavier so it survives on a paper bag?",
        "Lovely colours. The type feels a bit generic; try something with more character.",
        "",
        "Close, but it reads as a coffee brand rather than a bakery.",
        "",
    ]
    for i, (entry, rating) in enumerate(zip(entries, ratings, strict=False)):
        if rating is None:
            continue
        entry_rate(
            entry_id=entry.pk,
            user=poster,
            rating=rating,
            note="shortlist" if rating >= 4 else "",
            feedback=feedback[i % len(feedback)],
        )


def load(stdout: IO[str]) -> list[tuple[str, str, str]]:
    clients, organisations, crowd = demo_people()
    demo_people_ensure(clients, crowd)
    a, b = clients[0], clients[1]
    organisation = organisations[0] if organisations else None
    org_poster = (
        Membership.objects.filter(organisation=organisation, role=Role.OWNER).first().user  # type: ignore[union-attr]
        if organisation
        else b
    )
    make = _Builder(crowd)

    def open_logo(title: str) -> None:
        contest = make.draft(
            a,
            None,
            title,
            who="A neighbourhood bakery in Zwolle: sourdough, rye and cinnamon buns since 1987.",
            prizes=[40_000, 10_000],
            finalist_stipend=2_500,
            finalists_max=3,
        )
        _publish(contest, a, None)
        entries = make.entries(
            contest,
            ["Rising sun", "Golden crust", "Wheat circle", "The corner", "Morning loaf"],
        )
        original = make.pictures["Wheat circle"]
        make.enter(contest, crowd[-1], "Round wheat", content=_copy_of(original))
        _judge(a, entries, [5, 4, None, 2, 3])
        entry_finalist_set(entry_id=entries[0].pk, user=a, finalist=True)

    def open_blind(title: str) -> None:
        contest = make.draft(
            org_poster,
            organisation,
            title,
            category="illustration",
            summary="A friendly mascot for our kids' bread club, drawn in two poses.",
            who="A family bakery with twelve shops around Haarlem.",
            need="A mascot children will want on their lunch box.",
            wants=["Two poses: waving and holding a bread roll", "Friendly, not babyish"],
            avoid="Existing cartoon characters and anything that looks like a cereal box.",
            prizes=[60_000],
            visibility=Contest.Visibility.BLIND,
            days=9,
        )
        _publish(contest, org_poster, organisation)
        make.entries(contest, ["Bun the bear", "Crumb"], start=3)

    def judging(title: str) -> None:
        contest = make.draft(
            a,
            None,
            title,
            category="naming",
            summary="A short, friendly name for an electric cargo bike for families.",
            who="A small workshop in Utrecht that builds cargo bikes to order.",
            need="A name for our new electric family model.",
            wants=["Easy to say in Dutch, German and English", "At most two words"],
            avoid="Names that are already bicycle brands.",
            prizes=[25_000],
            finalists_max=3,
        )
        _publish(contest, a, None)
        entries = make.entries(
            contest, ["Kargo", "Fietsbus", "Tandem Twee", "Bolder", "Mee"], start=2
        )
        _judge(a, entries, [4, 5, 3, 2, 4])
        entry_finalist_set(entry_id=entries[0].pk, user=a, finalist=True)
        entry_finalist_set(entry_id=entries[1].pk, user=a, finalist=True)
        entry_decline(
            entry_id=entries[3].pk,
            user=a,
            reason="This name is already a registered bicycle brand in Germany.",
            reason_code=Entry.DeclineCode.RULES,
        )
        contest_close_entries(contest_id=contest.pk, user=a)

    def awarded(title: str) -> None:
        contest = make.draft(
            b,
            None,
            title,
            category="illustration",
            summary="A poster for a two-day summer festival on the river.",
            who="A volunteer-run festival on the IJssel, free for everyone.",
            need="A poster (A2) that still reads from across the street.",
            wants=["Room for the dates and the line-up", "Summer evening light"],
            avoid="Photographs and stock illustrations.",
            prizes=[50_000, 15_000],
            finalist_stipend=3_000,
            finalists_max=3,
        )
        _publish(contest, b, None)
        entries = make.entries(
            contest,
            ["River lights", "Two days", "Bridge party", "Summer tide", "Lanterns"],
            start=4,
        )
        _judge(b, entries, [5, 3, 4, 4, 2])
        for entry in entries[:3]:
            entry_finalist_set(entry_id=entry.pk, user=b, finalist=True)
        contest_close_entries(contest_id=contest.pk, user=b)
        contest_award(contest_id=contest.pk, user=b, awards={1: entries[0].pk, 2: entries[2].pk})

    def completed(title: str) -> None:
        contest = make.draft(
            org_poster,
            organisation,
            title,
            summary="A label for our new spelt loaf, to print on paper bags.",
            prizes=[35_000],
        )
        _publish(contest, org_poster, organisation)
        entries = make.entries(
            contest, ["Spelt field", "Old grain", "Ear and oven", "Stamp", "Harvest"], start=6
        )
        _judge(org_poster, entries, [3, 5, 4, 2, 3])
        contest_close_entries(contest_id=contest.pk, user=org_poster)
        contest_award(contest_id=contest.pk, user=org_poster, awards={1: entries[1].pk})
        winner = entries[1].entrant
        handover_deliver(
            entry_id=entries[1].pk,
            user=winner,
            files=[_upload("spelt-label-final.pdf", _pdf(title))],
            note="Print-ready PDF with 3 mm bleed, plus the one-colour version.",
        )
        handover_confirm(entry_id=entries[1].pk, user=org_poster)

    def draft_only(title: str) -> None:
        make.draft(
            a,
            None,
            title,
            category="web_app_design",
            summary="A landing page for our winter pre-orders.",
            need="One page where customers pre-order Christmas bread.",
            wants=["Works on a phone first", "Three products, one order button"],
            avoid="Carousels and pop-ups.",
            prizes=[45_000],
        )

    def cancelled(title: str) -> None:
        contest = make.draft(
            b,
            None,
            title,
            category="slogan",
            summary="A slogan for our autumn campaign.",
            prizes=[15_000],
        )
        _publish(contest, b, None)
        contest_cancel(contest_id=contest.pk, user=b)

    def private(title: str) -> None:
        contest = make.draft(
            b,
            None,
            title,
            category="product_idea",
            summary="Ideas for a reusable bread bag (private, under NDA).",
            need="A reusable bag that keeps bread fresh and folds flat.",
            wants=["Washable", "Fits a large sourdough loaf"],
            avoid="Plastic.",
            prizes=[20_000],
            is_private=True,
            nda_text="Do not share the brief or your entry outside this contest.",
        )
        for person in crowd[:3]:
            contest_invite(contest_id=contest.pk, user=b, who=person.email)
        _publish(contest, b, None)
        make.enter(contest, crowd[0], "Fold-flat linen bag")

    steps: list[tuple[str, Callable[[str], None]]] = [
        ("Logo for a neighbourhood bakery", open_logo),
        ("Mascot for a kids' bread club", open_blind),
        ("Name for an electric cargo bike", judging),
        ("Poster for a summer river festival", awarded),
        ("Label for a spelt loaf", completed),
        ("Landing page for winter pre-orders", draft_only),
        ("Slogan for an autumn campaign", cancelled),
        ("Reusable bread bag ideas", private),
    ]
    _steps_run(make, steps, stdout)
    return []


def _steps_run(
    make: _Builder, steps: list[tuple[str, Callable[[str], None]]], stdout: IO[str]
) -> None:
    """Build each demo contest that does not exist yet; say what there is."""
    created = 0
    for title, build in steps:
        if make.exists(title):
            continue
        build(title)
        created += 1
    counts = (
        Contest.objects.filter(title__in=[t for t, _build in steps])
        .values_list("status")
        .order_by("status")
        .annotate(n=Count("pk"))
    )
    states = ", ".join(f"{n} {status}" for status, n in counts)
    stdout.write(f"contests: {created} new demo contests ({states}).\n")


def showcase() -> list[Showcase]:
    """What the demo's contest people can show (the demo accounts page, ``make run``)."""
    rows: list[Showcase] = []
    demo = Contest.objects.filter(created_by__email__iendswith=f"@{DOMAIN}").select_related(
        "created_by"
    )
    judging = demo.filter(status=Contest.Status.JUDGING, organisation__isnull=True).first()
    if judging is not None:
        rows.append(
            Showcase(
                judging.created_by.email,
                "client",
                _("Judges “%(title)s”: finalists, ratings, and the award with its confirm step.")
                % {"title": judging.title},
                url=judging.get_absolute_url(),
                lead=True,
            )
        )
    others = demo.exclude(pk=judging.pk) if judging is not None else demo
    for contest in others.order_by("pk"):
        rows.append(
            Showcase(
                contest.created_by.email,
                "client",
                _("Posted the contest “%(title)s” (%(status)s).")
                % {"title": contest.title, "status": contest.get_status_display()},
                url=contest.get_absolute_url(),
            )
        )
    winners = (
        Entry.objects.filter(status=Entry.Status.WINNER, contest__in=demo)
        .select_related("entrant", "contest")
        .order_by("contest_id", "pk")
    )
    for n, entry in enumerate(winners):
        rows.append(
            Showcase(
                entry.entrant.email,
                "crowd member who won",
                _("Won “%(title)s”: the prize in the wallet, the handover of the files.")
                % {"title": entry.contest.title},
                url=entry.get_absolute_url(),
                lead=n == 0,
            )
        )
    return rows
