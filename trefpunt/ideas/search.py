"""How idea calls and ideas index (``discovery.registry``): published public calls, and the
active ideas in them. Organisation-only and invite-only calls, drafts, their ideas, and ideas
taken down or merged away are never indexed."""

from __future__ import annotations

from django.db.models import QuerySet
from django.urls import reverse
from django.utils.translation import gettext_lazy

from trefpunt.core.markdown import markdown_text
from trefpunt.discovery.registry import Document, SearchKind, register, same
from trefpunt.discovery.text import guess_language

from .models import Idea, IdeaCall, Stage

PUBLIC_CALL_STATUSES = [IdeaCall.Status.OPEN, IdeaCall.Status.VOTING, IdeaCall.Status.CLOSED]


def calls_public() -> QuerySet[IdeaCall]:
    """The rule that keeps private calls out: public audience, published, not taken down,
    not posted by an account that is suspended or banned now."""
    from trefpunt.moderation.selectors import hidden_ids, locked_user_ids

    return (
        IdeaCall.objects.filter(audience=IdeaCall.Audience.PUBLIC, status__in=PUBLIC_CALL_STATUSES)
        .exclude(pk__in=hidden_ids("ideas.call"))  # taken down by staff
        .exclude(created_by__in=locked_user_ids())
        .select_related("organisation", "created_by__profile")
        .prefetch_related("tags")
    )


def ideas_public() -> QuerySet[Idea]:
    """Active ideas of public, published calls that staff did not take down."""
    from trefpunt.moderation.selectors import hidden_ids

    return (
        Idea.objects.filter(
            status=Idea.Status.ACTIVE,
            call__audience=IdeaCall.Audience.PUBLIC,
            call__status__in=PUBLIC_CALL_STATUSES,
        )
        .exclude(call_id__in=hidden_ids("ideas.call"))
        .select_related("call", "author__profile", "stage")
    )


def _by(user: object, organisation: object = None) -> dict[str, str]:
    if organisation is not None:
        return {"name": organisation.name, "org": organisation.slug}  # type: ignore[attr-defined]
    profile = getattr(user, "profile", None)
    if profile is None:
        return {"name": ""}
    return {"name": profile.display_name, "handle": profile.handle}


def call_document(call: IdeaCall) -> Document:
    by = _by(call.created_by, call.organisation if call.organisation_id else None)
    tags = list(call.tags.all())
    text = f"{call.title} {call.question} {call.description}"
    return Document(
        title=call.title,
        body=f"{call.question}\n{markdown_text(call.description)}",
        names=by["name"],
        keywords=" ".join(t.name for t in tags),
        tags=[t.slug for t in tags],
        status=call.status,
        languages=[lang for lang in [guess_language(text)] if lang],
        amount=call.reward_budget or None,
        currency=call.currency,
        url_key=str(call.pk),
        detail={
            "by": by,
            "summary": call.question,
            "deadline": call.submission_deadline.isoformat(),
        },
        score=call.reward_budget // 100,
        published_at=call.published_at,
        updated_at=call.updated_at,
    )


def idea_document(idea: Idea) -> Document:
    by = _by(idea.author)
    return Document(
        title=idea.title,
        body=markdown_text(idea.description),
        names=by["name"],
        keywords=idea.call.title,
        category="",
        status=idea.stage.kind,
        languages=[lang for lang in [guess_language(f"{idea.title} {idea.description}")] if lang],
        url_key=str(idea.pk),
        detail={"by": by, "call": idea.call.title, "call_id": idea.call_id},
        score=idea.score,
        published_at=idea.created_at,
        updated_at=idea.updated_at,
    )


def register_search() -> None:
    from trefpunt.accounts.models import Organisation, Profile

    register(
        SearchKind(
            name="ideacall",
            label=gettext_lazy("Idea calls"),
            model=IdeaCall,
            public=calls_public,
            document=call_document,
            url=lambda key: reverse("ideas:call", kwargs={"pk": int(key)}),
            events={"ideacall": same},
            follows={
                Organisation: lambda org: IdeaCall.objects.filter(organisation=org).values_list(
                    "pk", flat=True
                ),
            },
            status_labels=lambda: {str(k): str(v) for k, v in IdeaCall.Status.choices},
            order=20,
        )
    )
    register(
        SearchKind(
            name="idea",
            label=gettext_lazy("Ideas"),
            model=Idea,
            public=ideas_public,
            document=idea_document,
            url=lambda key: reverse("ideas:idea", kwargs={"pk": int(key)}),
            events={"idea": same},
            follows={
                IdeaCall: lambda call: Idea.objects.filter(call=call).values_list("pk", flat=True),
                Profile: lambda profile: Idea.objects.filter(author_id=profile.user_id).values_list(
                    "pk", flat=True
                ),
            },
            status_labels=lambda: {str(k): str(v) for k, v in Stage.Kind.choices},
            order=30,
        )
    )


def track_compute(user_ids: object) -> dict[int, dict[str, int]]:
    """Ideas posted, and ideas the client took further (an accepted stage)."""
    from django.db.models import Count, Q

    rows = (
        Idea.objects.filter(author_id__in=user_ids)  # type: ignore[misc]
        .exclude(status=Idea.Status.HIDDEN)
        .values("author_id")
        .annotate(
            posted=Count("pk"),
            selected=Count("pk", filter=Q(stage__kind=Stage.Kind.ACCEPTED)),
        )
        .order_by()
    )
    return {
        r["author_id"]: {"ideas_posted": r["posted"], "ideas_selected": r["selected"]} for r in rows
    }


def register_track_record() -> None:
    from trefpunt.discovery.registry import TrackPart, register_track

    register_track(
        TrackPart(
            name="ideas",
            compute=track_compute,
            events={
                "idea": lambda event: Idea.objects.filter(pk=event.subject_id).values_list(
                    "author_id", flat=True
                )
            },
            follows={Idea: lambda idea: [idea.author_id]},
            score=lambda f: 5 * f.get("ideas_selected", 0) + f.get("ideas_posted", 0) // 2,
            order=20,
        )
    )
