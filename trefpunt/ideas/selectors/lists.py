"""Lists of calls and ideas, scoped by ``access.calls_visible_q``; each runs a fixed number of
queries whatever the number of ideas, votes and comments (the tests count them)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING

from django.db.models import (
    Case,
    Count,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from trefpunt.ledger.references import ReferenceLabel

from ..models import CallTag, Comment, Idea, IdeaAuthor, IdeaCall, Stage, StageChange, Vote
from .access import PUBLISHED, IdeaAccess, IdeaCallAccess, authed, calls_visible_q

if TYPE_CHECKING:
    from .access import AnyUser

TRENDING_DAYS = 7


@dataclass(frozen=True)
class CallFilters:
    status: str = ""
    tag: str = ""
    organisation: str = ""
    q: str = ""


def _idea_count() -> Subquery:
    return Subquery(
        Idea.objects.filter(call=OuterRef("pk"), status=Idea.Status.ACTIVE)
        .values("call")
        .annotate(n=Count("pk"))
        .values("n"),
        output_field=IntegerField(),
    )


def call_list_for_user(*, user: AnyUser, filters: CallFilters | None = None) -> QuerySet[IdeaCall]:
    """Published calls the user may see (public ones, their organisations', the ones they
    were invited to, the ones they run), open first, with their idea counts."""
    f = filters or CallFilters()
    qs = (
        IdeaCall.objects.filter(calls_visible_q(user), status__in=PUBLISHED)
        .select_related("organisation", "created_by__profile")
        .prefetch_related("tags")
        .annotate(idea_count=Coalesce(_idea_count(), Value(0)))
    )
    if f.status in {s.value for s in IdeaCall.Status} - {IdeaCall.Status.DRAFT}:
        qs = qs.filter(status=f.status)
    if f.tag:
        qs = qs.filter(tags__slug=f.tag)
    if f.organisation:
        qs = qs.filter(organisation__slug=f.organisation)
    if f.q:
        qs = qs.filter(Q(title__icontains=f.q) | Q(question__icontains=f.q))
    running_first = Case(
        When(status=IdeaCall.Status.OPEN, then=Value(0)),
        When(status=IdeaCall.Status.VOTING, then=Value(1)),
        default=Value(2),
    )
    return (
        qs.distinct()
        .annotate(running_first=running_first)
        .order_by("running_first", "submission_deadline", "-id")
    )


def call_tags_in_lists(*, user: AnyUser) -> list[str]:
    """Tag names of the calls the user may see, for the list's filter."""
    return sorted(
        set(
            CallTag.objects.filter(
                call__in=IdeaCall.objects.filter(calls_visible_q(user), status__in=PUBLISHED)
            ).values_list("slug", flat=True)
        )
    )[:100]


def calls_managed_by(*, user: AnyUser) -> QuerySet[IdeaCall]:
    """The client dashboard's calls, with how many ideas still wait for a decision."""
    person = authed(user)
    if person is None:
        return IdeaCall.objects.none()
    from .access import managed_organisation_ids

    waiting = Subquery(
        Idea.objects.filter(
            call=OuterRef("pk"), status=Idea.Status.ACTIVE, stage__kind=Stage.Kind.NEW
        )
        .values("call")
        .annotate(n=Count("pk"))
        .values("n"),
        output_field=IntegerField(),
    )
    return (
        IdeaCall.objects.filter(
            Q(created_by=person, organisation__isnull=True)
            | Q(organisation_id__in=managed_organisation_ids(person))
        )
        .select_related("organisation")
        .annotate(idea_count=Coalesce(_idea_count(), Value(0)))
        .annotate(waiting=Coalesce(waiting, Value(0)))
        .order_by("-waiting", "status", "-created_at")
    )


# --- ideas of a call -------------------------------------------------------------------


@dataclass(frozen=True)
class IdeaFilters:
    sort: str = "votes"  # votes | newest | trending | discussed
    stage: int | None = None
    tag: str = ""


SORTS = ("votes", "newest", "trending", "discussed")


def _idea_base(user: AnyUser) -> QuerySet[Idea]:
    qs = Idea.objects.select_related("author__profile", "stage", "improves").prefetch_related(
        "tags",
        Prefetch("credits", queryset=IdeaAuthor.objects.select_related("user__profile")),
    )
    person = authed(user)
    mine = Vote.objects.filter(idea=OuterRef("pk"), voter=person) if person else None
    return qs.annotate(
        my_points=Coalesce(Subquery(mine.values("points")[:1]), Value(0))
        if mine is not None
        else Value(0, output_field=IntegerField())
    )


def idea_loaded(*, access: IdeaAccess) -> Idea:
    """One idea with what the API shows of it (credits, tags, the viewer's vote)."""
    return _idea_base(access.user).get(pk=access.idea.pk)


def idea_list_for_call(
    *, access: IdeaCallAccess, filters: IdeaFilters | None = None
) -> QuerySet[Idea]:
    f = filters or IdeaFilters()
    qs = _idea_base(access.user).filter(call=access.call, status=Idea.Status.ACTIVE)
    if f.stage:
        qs = qs.filter(stage_id=f.stage)
    if f.tag:
        qs = qs.filter(tags__slug=f.tag)
    if f.sort == "newest":
        return qs.order_by("-created_at", "-id")
    if f.sort == "discussed":
        return qs.order_by("-comment_count", "-score", "-id")
    if f.sort == "trending":
        since = timezone.now() - timedelta(days=TRENDING_DAYS)
        recent = Subquery(
            Vote.objects.filter(idea=OuterRef("pk"), created_at__gte=since)
            .values("idea")
            .annotate(n=Count("pk"))
            .values("n"),
            output_field=IntegerField(),
        )
        return qs.annotate(recent=Coalesce(recent, Value(0))).order_by("-recent", "-score", "-id")
    return qs.order_by("-score", "-voter_count", "-created_at", "-id")


@dataclass(frozen=True)
class StageCount:
    stage: Stage
    count: int


@dataclass(frozen=True)
class CallOverview:
    stages: list[StageCount]
    total: int
    answered: int
    tags: list[CallTag] = field(default_factory=list)

    @property
    def waiting(self) -> int:
        return self.total - self.answered


def call_overview(*, call: IdeaCall) -> CallOverview:
    """How many active ideas are in each stage and how many got an answer (three queries)."""
    stages = list(Stage.objects.filter(call=call))
    counts = dict(
        Idea.objects.filter(call=call, status=Idea.Status.ACTIVE)
        .values_list("stage_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    rows = [StageCount(s, counts.get(s.pk, 0)) for s in stages]
    total = sum(r.count for r in rows)
    answered = sum(r.count for r in rows if r.stage.is_answer)
    return CallOverview(rows, total, answered, list(CallTag.objects.filter(call=call)))


def points_left(*, access: IdeaCallAccess) -> int | None:
    """Points the viewer may still spend (budget voting), ``None`` otherwise."""
    if not access.call.is_budget or access.user is None:
        return None
    spent = sum(
        Vote.objects.filter(call=access.call, voter=access.user).values_list("points", flat=True)
    )
    return max(0, access.call.budget_points - spent)


# --- one idea ---------------------------------------------------------------------------


@dataclass(frozen=True)
class VoteSummary:
    voters: int
    score: int
    new_accounts: int


def idea_votes(*, idea: Idea) -> VoteSummary:
    row = Vote.objects.filter(idea=idea).aggregate(
        n=Count("pk"), new=Count("pk", filter=Q(new_account=True))
    )
    return VoteSummary(row["n"] or 0, idea.score, row["new"] or 0)


def idea_comments(*, access: IdeaAccess) -> list[Comment]:
    """Top-level comments with their replies (two queries); hidden ones stay in place as a
    note, so a thread keeps its shape."""
    replies = Comment.objects.select_related("author__profile").order_by("created_at", "id")
    return list(
        Comment.objects.filter(idea=access.idea, parent__isnull=True)
        .select_related("author__profile")
        .prefetch_related(Prefetch("replies", queryset=replies))
        .order_by("created_at", "id")
    )


def idea_comment_list(*, idea: Idea) -> QuerySet[Comment]:
    return (
        Comment.objects.filter(idea=idea)
        .select_related("author__profile")
        .order_by("created_at", "id")
    )


def idea_stage_history(*, idea: Idea) -> list[StageChange]:
    return list(
        StageChange.objects.filter(idea=idea)
        .select_related("from_stage", "to_stage", "actor__profile")
        .order_by("created_at", "id")
    )


def idea_improvements(*, idea: Idea) -> list[Idea]:
    return list(
        Idea.objects.filter(improves=idea, status=Idea.Status.ACTIVE)
        .select_related("author__profile", "stage")
        .order_by("-score", "id")
    )


def idea_credits(*, idea: Idea) -> list[IdeaAuthor]:
    return list(IdeaAuthor.objects.filter(idea=idea).select_related("user__profile", "merged_from"))


def idea_merged_from(*, idea: Idea) -> list[Idea]:
    return list(Idea.objects.filter(merged_into=idea).select_related("author__profile"))


def ideas_of_author(*, user: AnyUser) -> QuerySet[Idea]:
    person = authed(user)
    if person is None:
        return Idea.objects.none()
    return (
        Idea.objects.filter(Q(author=person) | Q(credits__user=person))
        .exclude(status=Idea.Status.HIDDEN)
        .select_related("call", "stage", "merged_into")
        .distinct()
        .order_by("-created_at", "-id")
    )


def ideas_followed(*, user: AnyUser) -> QuerySet[Idea]:
    person = authed(user)
    if person is None:
        return Idea.objects.none()
    return (
        Idea.objects.filter(follows__user=person, status=Idea.Status.ACTIVE)
        .exclude(author=person)
        .select_related("call", "stage")
        .order_by("-updated_at", "-id")
    )


def votes_of_user(*, user: AnyUser) -> QuerySet[Vote]:
    person = authed(user)
    if person is None:
        return Vote.objects.none()
    return (
        Vote.objects.filter(voter=person, idea__status=Idea.Status.ACTIVE)
        .select_related("idea__stage", "call")
        .order_by("-created_at", "-id")
    )


def waiting_ideas(*, call: IdeaCall) -> QuerySet[Idea]:
    """The client dashboard: ideas without a decision first, most voted first."""
    return (
        Idea.objects.filter(call=call, status=Idea.Status.ACTIVE)
        .select_related("author__profile", "stage")
        .order_by("stage__position", "-score", "id")
    )


def call_reference_labels(ids: Sequence[int]) -> dict[int, ReferenceLabel]:
    """Wallet lines about idea calls: "Idea call: <title>", linked (only the payer and the
    paid authors have such a line)."""
    return {
        pk: ReferenceLabel(
            label=_("Idea call: %(title)s") % {"title": title},
            url=reverse("ideas:call", kwargs={"pk": pk}),
        )
        for pk, title in IdeaCall.objects.filter(pk__in=ids).values_list("pk", "title")
    }
