"""Idea-calls API under /api/v1/: thin endpoints over the services and selectors.

A call or idea the caller may not see (a draft, an organisation-only or invite-only call
they are not in) → 404; a refused action → 403/409 with its error code. ``publish``,
``close`` and ``stage`` move money and honour ``Idempotency-Key``.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from ninja import Query, Router, Status
from pydantic import Field

from trefpunt.accounts.schemas import person_out
from trefpunt.core.api_schema import PAGE_MAX, InSchema, api_page
from trefpunt.core.idempotency import idempotency_key_for
from trefpunt.core.types import AuthedRequest
from trefpunt.core.web import absolute_url

from . import selectors, services
from .models import Comment, Idea, IdeaCall, RewardedIdea, Stage
from .schemas import (
    CloseIn,
    CommentIn,
    CommentOut,
    CommentPage,
    FollowIn,
    IdeaCallIn,
    IdeaCallOut,
    IdeaCallPage,
    IdeaCallPatch,
    IdeaIn,
    IdeaOut,
    IdeaPage,
    IdeaPatch,
    MergeIn,
    SimilarPage,
    StageIn,
    UpdateIn,
    VoteIn,
)
from .similarity import SUGGEST_MIN_SCORE

router = Router(tags=["idea calls"])
PAGE_SIZE = 20
PAGE_SIZE_MAX = 100


def _stage(stage: Stage, counts: dict[int, int] | None = None) -> dict[str, Any]:
    return {
        "id": stage.pk,
        "name": stage.label,
        "kind": stage.kind,
        "position": stage.position,
        "ideas": counts.get(stage.pk, 0) if counts is not None else None,
    }


def _call_out(call: IdeaCall, *, manages: bool) -> dict[str, Any]:
    poster = person_out(call.created_by)
    if call.organisation_id and call.organisation:
        poster = {"handle": "", "display_name": call.organisation.name}
    return {
        "id": call.pk,
        "url": absolute_url(call.get_absolute_url()),
        "title": call.title,
        "question": call.question,
        "description": call.description,
        "status": call.status,
        "audience": call.audience,
        "posted_by": poster,
        "organisation": call.organisation.slug if call.organisation else None,
        "submission_deadline": call.submission_deadline,
        "voting_deadline": call.voting_deadline,
        "voting_mode": call.voting_mode,
        "budget_points": call.budget_points,
        "currency": call.currency,
        "reward_amount": call.reward_amount,
        "reward_count": call.reward_count,
        "reward_stage_id": call.reward_stage_id,
        "rewards_paid": call.rewards_paid,  # type: ignore[attr-defined]
        "tags": [t.name for t in call.tags.all()],
        "stages": [_stage(s) for s in call.stages.all()],
        "idea_count": call.idea_count,  # type: ignore[attr-defined]
        "answered_count": call.answered_count,  # type: ignore[attr-defined]
        "published_at": call.published_at,
        "closed_at": call.closed_at,
        "close_reason": call.close_reason,
        "funded_amount": call.funded_amount if manages else None,
    }


def _count(qs: Any) -> Subquery:
    return Subquery(
        qs.values("call").annotate(n=Count("pk")).values("n"), output_field=IntegerField()
    )


def _with_figures(qs: Any) -> Any:
    """Idea, answer and reward counts as subqueries: a constant number of queries."""
    active = Idea.objects.filter(call=OuterRef("pk"), status=Idea.Status.ACTIVE)
    return qs.prefetch_related("tags", "stages").annotate(
        idea_count=Coalesce(_count(active), Value(0)),
        answered_count=Coalesce(_count(active.exclude(stage__kind=Stage.Kind.NEW)), Value(0)),
        rewards_paid=Coalesce(_count(RewardedIdea.objects.filter(call=OuterRef("pk"))), Value(0)),
    )


def _call_by_id(call_id: int, user: Any) -> tuple[IdeaCall, bool]:
    access = selectors.call_get_for_user(call_id=call_id, user=user)
    call = _with_figures(
        IdeaCall.objects.select_related("organisation", "created_by__profile")
    ).get(pk=access.call.pk)
    return call, access.can_manage


def _idea_out(idea: Idea) -> dict[str, Any]:
    credits = list(idea.credits.all())
    return {
        "id": idea.pk,
        "call_id": idea.call_id,
        "url": absolute_url(idea.get_absolute_url()),
        "title": idea.title,
        "description": idea.description,
        "status": idea.status,
        "stage": _stage(idea.stage),
        "authors": [person_out(c.user) for c in credits] or [person_out(idea.author)],
        "tags": [t.name for t in idea.tags.all()],
        "improves_id": idea.improves_id,
        "merged_into_id": idea.merged_into_id,
        "score": idea.score,
        "voter_count": idea.voter_count,
        "comment_count": idea.comment_count,
        "my_points": getattr(idea, "my_points", None),
        "created_at": idea.created_at,
    }


def _idea_by_id(idea_id: int, user: Any) -> Idea:
    access = selectors.idea_get_for_user(idea_id=idea_id, user=user)
    return selectors.idea_loaded(access=access)


# --- calls ----------------------------------------------------------------------------------


class CallQuery(InSchema):
    status: str = ""
    tag: str = ""
    organisation: str = ""
    q: str = ""
    page: int = Field(1, ge=1, le=PAGE_MAX)
    page_size: int = Field(PAGE_SIZE, ge=1, le=PAGE_SIZE_MAX)


@router.get("/idea-calls", response=IdeaCallPage, summary="List idea calls")
def call_list_api(request: AuthedRequest, filters: Query[CallQuery]) -> dict[str, Any]:
    """The published calls you may see: public ones, your organisations', the ones you were
    invited to and the ones you run."""
    qs = _with_figures(
        selectors.call_list_for_user(
            user=request.user,
            filters=selectors.CallFilters(
                status=filters.status,
                tag=filters.tag,
                organisation=filters.organisation,
                q=filters.q.strip(),
            ),
        )
    )
    items, count, number, pages = api_page(qs, filters.page, filters.page_size)
    managed = selectors.access.managed_organisation_ids(request.user)

    def manages(c: IdeaCall) -> bool:
        return (
            c.organisation_id in managed
            if c.organisation_id
            else c.created_by_id == request.user.pk
        )

    return {
        "items": [_call_out(c, manages=manages(c)) for c in items],
        "count": count,
        "page": number,
        "pages": pages,
    }


@router.post("/idea-calls", response={201: IdeaCallOut}, summary="Create a draft idea call")
def call_create_api(request: AuthedRequest, payload: IdeaCallIn) -> Status[dict[str, Any]]:
    call = services.call_create_draft(user=request.user, **payload.dict())
    out, _manages = _call_by_id(call.pk, request.user)
    return Status(201, _call_out(out, manages=True))


@router.get("/idea-calls/{call_id}", response=IdeaCallOut, summary="Get an idea call")
def call_get_api(request: AuthedRequest, call_id: int) -> dict[str, Any]:
    call, manages = _call_by_id(call_id, request.user)
    return _call_out(call, manages=manages)


@router.patch("/idea-calls/{call_id}", response=IdeaCallOut, summary="Update a draft")
def call_update_api(request: AuthedRequest, call_id: int, payload: IdeaCallPatch) -> dict[str, Any]:
    current, _manages = _call_by_id(call_id, request.user)
    data = {
        "title": current.title,
        "question": current.question,
        "description": current.description,
        "audience": current.audience,
        "submission_deadline": current.submission_deadline,
        "voting_deadline": current.voting_deadline,
        "voting_mode": current.voting_mode,
        "budget_points": current.budget_points,
        "reward_amount": current.reward_amount,
        "reward_count": current.reward_count,
        "tags": [t.name for t in current.tags.all()],
        "organisation": current.organisation.slug if current.organisation else None,
    }
    data.update(payload.dict(exclude_unset=True))
    services.call_update_draft(call_id=call_id, user=request.user, **data)
    call, manages = _call_by_id(call_id, request.user)
    return _call_out(call, manages=manages)


@router.post(
    "/idea-calls/{call_id}/publish", response=IdeaCallOut, summary="Publish: rewards into escrow"
)
def call_publish_api(request: AuthedRequest, call_id: int) -> dict[str, Any]:
    services.call_publish(
        call_id=call_id,
        user=request.user,
        idempotency_key=idempotency_key_for(request, f"ideacall:{call_id}:publish"),
    )
    call, manages = _call_by_id(call_id, request.user)
    return _call_out(call, manages=manages)


@router.post(
    "/idea-calls/{call_id}/close", response=IdeaCallOut, summary="Close; refund unspent rewards"
)
def call_close_api(request: AuthedRequest, call_id: int, payload: CloseIn) -> dict[str, Any]:
    services.call_close(
        call_id=call_id,
        user=request.user,
        reason=payload.reason,
        idempotency_key=idempotency_key_for(request, f"ideacall:{call_id}:close"),
    )
    call, manages = _call_by_id(call_id, request.user)
    return _call_out(call, manages=manages)


# --- ideas ----------------------------------------------------------------------------------


class IdeaQuery(InSchema):
    sort: str = "votes"
    stage: int | None = None
    tag: str = ""
    page: int = Field(1, ge=1, le=PAGE_MAX)
    page_size: int = Field(PAGE_SIZE, ge=1, le=PAGE_SIZE_MAX)


@router.get("/idea-calls/{call_id}/ideas", response=IdeaPage, summary="List the ideas of a call")
def idea_list_api(
    request: AuthedRequest, call_id: int, filters: Query[IdeaQuery]
) -> dict[str, Any]:
    access = selectors.call_get_for_user(call_id=call_id, user=request.user)
    qs = selectors.idea_list_for_call(
        access=access,
        filters=selectors.IdeaFilters(
            sort=filters.sort if filters.sort in selectors.SORTS else "votes",
            stage=filters.stage,
            tag=filters.tag,
        ),
    )
    items, count, number, pages = api_page(qs, filters.page, filters.page_size)
    return {"items": [_idea_out(i) for i in items], "count": count, "page": number, "pages": pages}


@router.post("/idea-calls/{call_id}/ideas", response={201: IdeaOut}, summary="Post an idea")
def idea_create_api(
    request: AuthedRequest, call_id: int, payload: IdeaIn
) -> Status[dict[str, Any]]:
    idea = services.idea_submit(
        call_id=call_id,
        user=request.user,
        title=payload.title,
        description=payload.description,
        tags=payload.tags,
        improves_id=payload.improves_id,
    )
    return Status(201, _idea_out(_idea_by_id(idea.pk, request.user)))


class SimilarQuery(InSchema):
    call: int = Field(..., ge=1)
    text: str = Field("", max_length=3000, description="the description typed so far")
    title: str = Field("", max_length=200, description="the title typed so far")


@router.get("/ideas/similar", response=SimilarPage, summary="Similar ideas of a call for a text")
def idea_similar_api(request: AuthedRequest, query: Query[SimilarQuery]) -> dict[str, Any]:
    access = selectors.call_get_for_user(call_id=query.call, user=request.user)
    hits = selectors.similar_ideas(call=access.call, title=query.title, description=query.text)
    return {
        "items": [
            {
                "id": i.pk,
                "url": absolute_url(i.get_absolute_url()),
                "title": i.title,
                "score": round(score, 4),
                "stage": i.stage.label,
            }
            for i, score in hits
        ],
        "threshold": SUGGEST_MIN_SCORE,
    }


@router.get("/ideas/{idea_id}", response=IdeaOut, summary="Get an idea")
def idea_get_api(request: AuthedRequest, idea_id: int) -> dict[str, Any]:
    return _idea_out(_idea_by_id(idea_id, request.user))


@router.patch("/ideas/{idea_id}", response=IdeaOut, summary="Edit your idea (before votes)")
def idea_update_api(request: AuthedRequest, idea_id: int, payload: IdeaPatch) -> dict[str, Any]:
    services.idea_edit(idea_id=idea_id, user=request.user, **payload.dict())
    return _idea_out(_idea_by_id(idea_id, request.user))


@router.post("/ideas/{idea_id}/updates", response={201: IdeaOut}, summary="Add an update")
def idea_add_update_api(
    request: AuthedRequest, idea_id: int, payload: UpdateIn
) -> Status[dict[str, Any]]:
    services.idea_update_add(idea_id=idea_id, user=request.user, text=payload.text)
    return Status(201, _idea_out(_idea_by_id(idea_id, request.user)))


@router.post("/ideas/{idea_id}/vote", response=IdeaOut, summary="Vote (or set your points)")
def idea_vote_api(request: AuthedRequest, idea_id: int, payload: VoteIn) -> dict[str, Any]:
    services.idea_vote(idea_id=idea_id, user=request.user, points=payload.points)
    return _idea_out(_idea_by_id(idea_id, request.user))


@router.post("/ideas/{idea_id}/unvote", response=IdeaOut, summary="Take your vote back")
def idea_unvote_api(request: AuthedRequest, idea_id: int) -> dict[str, Any]:
    services.idea_unvote(idea_id=idea_id, user=request.user)
    return _idea_out(_idea_by_id(idea_id, request.user))


@router.post("/ideas/{idea_id}/stage", response=IdeaOut, summary="Move to a stage, with a reason")
def idea_stage_api(request: AuthedRequest, idea_id: int, payload: StageIn) -> dict[str, Any]:
    services.idea_stage_move(
        idea_id=idea_id,
        user=request.user,
        stage_id=payload.stage_id,
        reason=payload.reason,
        idempotency_key=idempotency_key_for(request, f"idea:{idea_id}:stage"),
    )
    return _idea_out(_idea_by_id(idea_id, request.user))


@router.post(
    "/ideas/{idea_id}/merge", response=IdeaOut, summary="Merge a duplicate; returns the kept idea"
)
def idea_merge_api(request: AuthedRequest, idea_id: int, payload: MergeIn) -> dict[str, Any]:
    kept = services.idea_merge(
        idea_id=idea_id,
        into_id=payload.into,
        user=request.user,
        idempotency_key=idempotency_key_for(request, f"idea:{idea_id}:merge"),
    )
    return _idea_out(_idea_by_id(kept.pk, request.user))


@router.post("/ideas/{idea_id}/follow", response=FollowIn, summary="Follow or unfollow an idea")
def idea_follow_api(request: AuthedRequest, idea_id: int, payload: FollowIn) -> dict[str, Any]:
    return {
        "follow": services.follow_set(user=request.user, idea_id=idea_id, follow=payload.follow)
    }


def _comment_out(comment: Comment) -> dict[str, Any]:
    hidden = comment.hidden_at is not None
    return {
        "id": comment.pk,
        "idea_id": comment.idea_id,
        "parent_id": comment.parent_id,
        "author": person_out(comment.author),
        "body": "" if hidden else comment.body,
        "hidden": hidden,
        "created_at": comment.created_at,
        "edited_at": comment.edited_at,
    }


class CommentQuery(InSchema):
    page: int = Field(1, ge=1, le=PAGE_MAX)
    page_size: int = Field(PAGE_SIZE, ge=1, le=PAGE_SIZE_MAX)


@router.get("/ideas/{idea_id}/comments", response=CommentPage, summary="List the comments")
def comment_list_api(
    request: AuthedRequest, idea_id: int, filters: Query[CommentQuery]
) -> dict[str, Any]:
    access = selectors.idea_get_for_user(idea_id=idea_id, user=request.user)
    items, count, number, pages = api_page(
        selectors.idea_comment_list(idea=access.idea), filters.page, filters.page_size
    )
    return {
        "items": [_comment_out(c) for c in items],
        "count": count,
        "page": number,
        "pages": pages,
    }


@router.post("/ideas/{idea_id}/comments", response={201: CommentOut}, summary="Comment or reply")
def comment_create_api(
    request: AuthedRequest, idea_id: int, payload: CommentIn
) -> Status[dict[str, Any]]:
    comment = services.comment_create(
        idea_id=idea_id, user=request.user, body=payload.body, parent_id=payload.parent_id
    )
    return Status(201, _comment_out(comment))
