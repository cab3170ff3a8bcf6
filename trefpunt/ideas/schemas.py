"""Input and output shapes of the idea-calls API. Amounts are integer cents; text limits
come from the models (``limit``), defined there once."""

from __future__ import annotations

from datetime import datetime

from ninja import Schema
from pydantic import Field

from trefpunt.accounts.schemas import PersonOut
from trefpunt.core.api_schema import InSchema

from .models import Comment, Idea, IdeaCall, IdeaUpdate, StageChange, limit


class StageOut(Schema):
    id: int
    name: str
    kind: str
    position: int
    ideas: int | None = None


class IdeaCallOut(Schema):
    id: int
    url: str
    title: str
    question: str
    description: str
    status: str
    audience: str
    posted_by: PersonOut
    organisation: str | None = Field(None, description="slug of the organisation posting")
    submission_deadline: datetime
    voting_deadline: datetime
    voting_mode: str
    budget_points: int
    currency: str
    reward_amount: int
    reward_count: int
    reward_stage_id: int | None
    rewards_paid: int
    tags: list[str]
    stages: list[StageOut]
    idea_count: int
    answered_count: int
    published_at: datetime | None
    closed_at: datetime | None
    close_reason: str
    funded_amount: int | None = Field(None, description="managers only")


class IdeaCallPage(Schema):
    items: list[IdeaCallOut]
    count: int
    page: int
    pages: int


class IdeaCallIn(InSchema):
    title: str = Field(..., max_length=limit(IdeaCall, "title"))
    question: str = Field(..., max_length=limit(IdeaCall, "question"))
    description: str = Field("", max_length=limit(IdeaCall, "description"))
    audience: str = IdeaCall.Audience.PUBLIC
    submission_deadline: datetime
    voting_deadline: datetime
    voting_mode: str = IdeaCall.VotingMode.UP
    budget_points: int = Field(10, ge=1, le=1000)
    reward_amount: int = Field(0, ge=0, description="cents per rewarded idea")
    reward_count: int = Field(0, ge=0, le=100)
    tags: list[str] = Field(default_factory=list, max_length=20)
    organisation: str | None = Field(None, description="slug; post for this organisation")


class IdeaCallPatch(InSchema):
    title: str | None = Field(None, max_length=limit(IdeaCall, "title"))
    question: str | None = Field(None, max_length=limit(IdeaCall, "question"))
    description: str | None = Field(None, max_length=limit(IdeaCall, "description"))
    audience: str | None = None
    submission_deadline: datetime | None = None
    voting_deadline: datetime | None = None
    voting_mode: str | None = None
    budget_points: int | None = Field(None, ge=1, le=1000)
    reward_amount: int | None = Field(None, ge=0)
    reward_count: int | None = Field(None, ge=0, le=100)
    reward_stage_id: int | None = None
    tags: list[str] | None = Field(None, max_length=20)
    organisation: str | None = None


class CloseIn(InSchema):
    reason: str = Field("", max_length=limit(IdeaCall, "close_reason"))


class IdeaOut(Schema):
    id: int
    call_id: int
    url: str
    title: str
    description: str
    status: str
    stage: StageOut
    authors: list[PersonOut]
    tags: list[str]
    improves_id: int | None
    merged_into_id: int | None
    score: int
    voter_count: int
    comment_count: int
    my_points: int | None = Field(None, description="your vote: 1, or your points; 0 = none")
    created_at: datetime


class IdeaPage(Schema):
    items: list[IdeaOut]
    count: int
    page: int
    pages: int


class IdeaIn(InSchema):
    title: str = Field(..., max_length=limit(Idea, "title"))
    description: str = Field(..., max_length=limit(Idea, "description"))
    tags: list[str] = Field(default_factory=list, max_length=20)
    improves_id: int | None = None


class IdeaPatch(InSchema):
    title: str = Field(..., max_length=limit(Idea, "title"))
    description: str = Field(..., max_length=limit(Idea, "description"))
    tags: list[str] = Field(default_factory=list, max_length=20)


class UpdateIn(InSchema):
    text: str = Field(..., max_length=limit(IdeaUpdate, "text"))


class VoteIn(InSchema):
    points: int | None = Field(None, ge=1, le=1000, description="budget voting only")


class StageIn(InSchema):
    stage_id: int
    reason: str = Field(..., max_length=limit(StageChange, "reason"))


class MergeIn(InSchema):
    into: int = Field(..., description="the idea to keep")


class FollowIn(InSchema):
    follow: bool = True


class CommentIn(InSchema):
    body: str = Field(..., max_length=limit(Comment, "body"))
    parent_id: int | None = None


class CommentOut(Schema):
    id: int
    idea_id: int
    parent_id: int | None
    author: PersonOut
    body: str
    hidden: bool
    created_at: datetime
    edited_at: datetime | None


class CommentPage(Schema):
    items: list[CommentOut]
    count: int
    page: int
    pages: int


class SimilarOut(Schema):
    id: int
    url: str
    title: str
    score: float
    stage: str


class SimilarPage(Schema):
    items: list[SimilarOut]
    threshold: float
