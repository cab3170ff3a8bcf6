"""Input and output shapes of the projects API. Amounts are integer cents; text limits come
from the models (``limit``), defined there once."""

from __future__ import annotations

from datetime import date, datetime

from ninja import Schema
from pydantic import Field

from trefpunt.accounts.schemas import PersonOut
from trefpunt.core.api_schema import InSchema

from .models import Delivery, Dispute, Job, Milestone, Proposal, Review, limit
from .rules import MAX_AMOUNT_CENTS, MAX_MILESTONES

Cents = Field(..., ge=100, le=MAX_AMOUNT_CENTS, description="integer cents")


class JobOut(Schema):
    id: int
    url: str
    title: str
    description: str
    status: str
    visibility: str
    posted_by: PersonOut
    organisation: str | None
    skills: list[str]
    currency: str
    budget_min: int
    budget_max: int
    duration: str
    proposal_cap: int
    proposal_count: int
    published_at: datetime | None
    can_propose: bool = False


class JobPage(Schema):
    items: list[JobOut]
    count: int
    page: int
    pages: int


class JobIn(InSchema):
    title: str = Field(..., max_length=limit(Job, "title"))
    description: str = Field(..., max_length=20000)
    skills: list[str] = Field(default_factory=list, max_length=10)
    budget_min: int = Cents
    budget_max: int | None = Field(None, ge=100, le=MAX_AMOUNT_CENTS)
    duration: str = Field(Job.Duration.WEEKS, max_length=10)
    visibility: str = Field(Job.Visibility.PUBLIC, max_length=10)
    proposal_cap: int = Field(30, ge=1, le=200)
    organisation: str | None = Field(None, max_length=60)


class JobPatch(InSchema):
    title: str | None = Field(None, max_length=limit(Job, "title"))
    description: str | None = Field(None, max_length=20000)
    skills: list[str] | None = Field(None, max_length=10)
    budget_min: int | None = Field(None, ge=100, le=MAX_AMOUNT_CENTS)
    budget_max: int | None = Field(None, ge=100, le=MAX_AMOUNT_CENTS)
    duration: str | None = Field(None, max_length=10)
    visibility: str | None = Field(None, max_length=10)
    proposal_cap: int | None = Field(None, ge=1, le=200)


class PlanItem(InSchema):
    title: str = Field(..., max_length=limit(Milestone, "title"))
    amount: int = Cents
    days: int = Field(0, ge=0, le=3650)


class ProposalIn(InSchema):
    price: int = Cents
    duration_days: int = Field(..., ge=1, le=3650)
    cover_letter: str = Field(..., max_length=limit(Proposal, "cover_letter") or 5000)
    milestone_plan: list[PlanItem] = Field(default_factory=list, max_length=MAX_MILESTONES)
    portfolio_item_ids: list[int] = Field(default_factory=list, max_length=10)


class ProposalOut(Schema):
    id: int
    url: str
    job_id: int
    job_title: str
    freelancer: PersonOut
    price: int
    duration_days: int
    cover_letter: str
    milestone_plan: list[PlanItem]
    status: str
    decline_reason: str
    created_at: datetime


class ProposalPage(Schema):
    items: list[ProposalOut]
    count: int
    page: int
    pages: int


class ProposalDeclineIn(InSchema):
    reason: str = Field(..., max_length=limit(Proposal, "decline_reason"))


class MilestoneOut(Schema):
    id: int
    position: int
    title: str
    amount: int
    client_fee: int
    due_date: date | None
    status: str
    changes_count: int
    submitted_at: datetime | None
    auto_approve_at: datetime | None
    released_at: datetime | None
    auto_approved: bool
    paid_net: int
    refunded: int


class MilestoneIn(InSchema):
    title: str = Field(..., max_length=limit(Milestone, "title"))
    amount: int = Cents
    due_date: date | None = None


class MilestonePage(Schema):
    items: list[MilestoneOut]
    count: int


class DeliverIn(InSchema):
    message: str = Field(..., max_length=5000)


class ChangesIn(InSchema):
    reason: str = Field(..., max_length=5000)


class ContractMoneyOut(Schema):
    total: int
    in_escrow: int
    paid: int
    paid_net: int
    refunded: int
    waiting_funding: int


class DisputeOut(Schema):
    status: str
    reason: str
    amount: int
    step_deadline: datetime
    offer_freelancer: int | None
    offer_by_freelancer: bool | None
    freelancer_share: int | None
    decision_reason: str


class ReviewOut(Schema):
    author: PersonOut
    about_freelancer: bool
    rating: int
    text: str
    created_at: datetime


class ContractOut(Schema):
    id: int
    url: str
    title: str
    job_id: int
    status: str
    client: PersonOut
    freelancer: PersonOut
    currency: str
    client_fee_bps: int
    crowd_fee_bps: int
    end_requested: bool
    ended_at: datetime | None
    money: ContractMoneyOut | None = None
    milestones: list[MilestoneOut] = Field(default_factory=list)
    dispute: DisputeOut | None = None
    reviews: list[ReviewOut] = Field(default_factory=list)
    reviews_revealed: bool = False


class ContractPage(Schema):
    items: list[ContractOut]
    count: int
    page: int
    pages: int


class DisputeIn(InSchema):
    reason: str = Field(..., max_length=limit(Dispute, "reason") or 5000)


class SplitIn(InSchema):
    freelancer_amount: int = Field(..., ge=0, le=MAX_AMOUNT_CENTS)


class ReviewIn(InSchema):
    rating: int = Field(..., ge=1, le=5)
    text: str = Field(..., max_length=limit(Review, "text") or 3000)


class MatchOut(Schema):
    freelancer: PersonOut
    user_id: int
    score: float
    skills: list[str]
    completed: int
    rating: float | None
    wins: int
    portfolio: int
    invited: bool


class InviteIn(InSchema):
    user_id: int = Field(..., ge=1)


__all__ = ["Delivery"]
