"""How contests index (``discovery.registry``): published contests that are not private, with
the organisation's or the client's name, the category in every language and the prize total.
Drafts, cancelled and private contests are never indexed; their NDA text never is either."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext_lazy

from trefpunt.core.markdown import markdown_text
from trefpunt.discovery.registry import Document, SearchKind, register, same
from trefpunt.discovery.text import guess_language

from .models import Category, Contest, Prize

PUBLIC_STATUSES = [
    Contest.Status.OPEN,
    Contest.Status.JUDGING,
    Contest.Status.AWARDED,
    Contest.Status.COMPLETED,
]


def contests_public() -> QuerySet[Contest]:
    """The rule that keeps private contests out: published, not private, not cancelled, and
    not posted by an account that is suspended or banned now."""
    from trefpunt.moderation.selectors import locked_user_ids

    return (
        Contest.objects.filter(is_private=False, status__in=PUBLIC_STATUSES)
        .exclude(created_by__in=locked_user_ids())
        .select_related("organisation", "created_by__profile")
        .prefetch_related("prizes")
    )


def category_names(value: str) -> str:
    """A category's name in every language, so either finds it."""
    names = []
    for code in ("en", "nl"):
        with translation.override(code):
            names.append(str(Category(value).label))
    return " ".join(dict.fromkeys(names))


def poster(contest: Any) -> dict[str, str]:
    """Who posted it, as a result shows and links it: the organisation, or the person."""
    if contest.organisation_id:
        return {"name": contest.organisation.name, "org": contest.organisation.slug}
    profile = getattr(contest.created_by, "profile", None)
    if profile is None:
        return {"name": ""}
    return {"name": profile.display_name, "handle": profile.handle}


def contest_document(contest: Contest) -> Document:
    by = poster(contest)
    prize_total = sum(p.amount for p in contest.prizes.all())
    return Document(
        title=contest.title,
        body=f"{contest.summary}\n{markdown_text(contest.description)}",
        names=by["name"],
        keywords=category_names(contest.category),
        category=contest.category,
        tags=[contest.category],
        status=contest.status,
        languages=[
            lang
            for lang in [guess_language(f"{contest.title} {contest.summary} {contest.description}")]
            if lang
        ],
        amount=prize_total,
        currency=contest.currency,
        url_key=str(contest.pk),
        detail={
            "by": by,
            "deadline": contest.entry_deadline.isoformat(),
            "summary": contest.summary,
        },
        score=prize_total // 100,
        published_at=contest.published_at,
        updated_at=contest.updated_at,
    )


def register_search() -> None:
    from trefpunt.accounts.models import Organisation, Profile

    register(
        SearchKind(
            name="contest",
            label=gettext_lazy("Contests"),
            model=Contest,
            public=contests_public,
            document=contest_document,
            url=lambda key: reverse("contests:detail", kwargs={"pk": int(key)}),
            events={"contest": same},
            follows={
                Prize: lambda prize: [prize.contest_id],
                Organisation: lambda org: Contest.objects.filter(organisation=org).values_list(
                    "pk", flat=True
                ),
                Profile: lambda profile: Contest.objects.filter(
                    created_by_id=profile.user_id, organisation__isnull=True
                ).values_list("pk", flat=True),
            },
            category_labels=lambda: {str(k): str(v) for k, v in Category.choices},
            status_labels=lambda: {str(k): str(v) for k, v in Contest.Status.choices},
            order=10,
        )
    )


def track_compute(user_ids: Any) -> dict[int, dict[str, Any]]:
    """Contests entered, finalist places, wins, and the ratings clients gave (as an average:
    a single rating stays between the client and the entrant)."""
    from django.db.models import Avg, Count, Q

    from .models import Entry

    rows = (
        Entry.objects.filter(entrant_id__in=user_ids)
        .exclude(status=Entry.Status.WITHDRAWN)
        .values("entrant_id")
        .annotate(
            entered=Count("contest", distinct=True),
            finalist=Count(
                "pk",
                filter=Q(finalist_at__isnull=False)
                | Q(status__in=[Entry.Status.FINALIST, Entry.Status.WINNER]),
            ),
            won=Count("pk", filter=Q(status=Entry.Status.WINNER)),
            rated=Count("rating"),
            rating=Avg("rating"),
        )
        .order_by()
    )
    return {
        r["entrant_id"]: {
            "contests_entered": r["entered"],
            "contests_finalist": r["finalist"],
            "contests_won": r["won"],
            "ratings_received": r["rated"],
            "rating_average": round(float(r["rating"]), 1) if r["rating"] else None,
        }
        for r in rows
    }


def _entrants_of_contest(event: Any) -> list[int]:
    """Awarding or completing a contest changes its entrants' track records."""
    from .models import Entry

    if event.kind not in {"awarded", "guarantee", "completed"}:
        return []
    return list(
        Entry.objects.filter(contest_id=event.subject_id)
        .values_list("entrant_id", flat=True)
        .distinct()
    )


def _entrant_of_entry(event: Any) -> list[int]:
    from .models import Entry

    return list(Entry.objects.filter(pk=event.subject_id).values_list("entrant_id", flat=True))


def register_track_record() -> None:
    from trefpunt.discovery.registry import TrackPart, register_track

    from .models import Entry

    register_track(
        TrackPart(
            name="contests",
            compute=track_compute,
            events={"contest": _entrants_of_contest, "entry": _entrant_of_entry},
            # A new entry counts at once; its later moves record "entry" events.
            follows={Entry: lambda entry: [entry.entrant_id]},
            score=lambda f: (
                10 * f.get("contests_won", 0)
                + 3 * f.get("contests_finalist", 0)
                + f.get("contests_entered", 0)
            ),
            order=10,
        )
    )
