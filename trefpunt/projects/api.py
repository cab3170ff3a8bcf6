"""Projects API under /api/v1/: thin endpoints over the services and selectors.

A job, proposal or contract the caller may not see → 404 (also by guessed ids); a refused
action → 403/409 with its error code. ``accept``, ``fund``, ``approve`` and the dispute's
``accept`` move money and honour ``Idempotency-Key``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from ninja import Query, Router, Status
from pydantic import Field

from trefpunt.accounts.schemas import person_out
from trefpunt.core.api_schema import PAGE_MAX, InSchema, api_page
from trefpunt.core.exceptions import NotFound
from trefpunt.core.idempotency import idempotency_key_for
from trefpunt.core.types import AuthedRequest
from trefpunt.core.web import absolute_url

from . import selectors, services
from .models import Contract, Dispute, Job, Milestone, Proposal, Review
from .rules import AUTO_APPROVE_DAYS
from .schemas import (
    ChangesIn,
    ContractOut,
    ContractPage,
    DeliverIn,
    DisputeIn,
    InviteIn,
    JobIn,
    JobOut,
    JobPage,
    JobPatch,
    MatchOut,
    MilestoneIn,
    MilestoneOut,
    MilestonePage,
    ProposalDeclineIn,
    ProposalIn,
    ProposalOut,
    ProposalPage,
    ReviewIn,
    ReviewOut,
    SplitIn,
)
from .selectors.matches import freelancer_matches

router = Router(tags=["projects"])
PAGE_SIZE = 20
PAGE_SIZE_MAX = 100


def _job_out(job: Job, *, can_propose: bool = False) -> dict[str, Any]:
    poster = person_out(job.created_by)
    if job.organisation_id and job.organisation:
        poster = {"handle": "", "display_name": job.organisation.name}
    return {
        "id": job.pk,
        "url": absolute_url(job.get_absolute_url()),
        "title": job.title,
        "description": job.description,
        "status": job.status,
        "visibility": job.visibility,
        "posted_by": poster,
        "organisation": job.organisation.slug if job.organisation else None,
        "skills": [s.name for s in job.skills.all()],
        "currency": job.currency,
        "budget_min": job.budget_min,
        "budget_max": job.budget_max,
        "duration": job.duration,
        "proposal_cap": job.proposal_cap,
        "proposal_count": job.proposal_count,
        "published_at": job.published_at,
        "can_propose": can_propose,
    }


def _job_get(job_id: int, user: Any) -> dict[str, Any]:
    access = selectors.job_get_for_user(job_id=job_id, user=user)
    return _job_out(access.job, can_propose=access.can_propose)


def _proposal_out(p: Proposal) -> dict[str, Any]:
    return {
        "id": p.pk,
        "url": absolute_url(p.get_absolute_url()),
        "job_id": p.job_id,
        "job_title": p.job.title,
        "freelancer": person_out(p.freelancer),
        "price": p.price,
        "duration_days": p.duration_days,
        "cover_letter": p.cover_letter,
        "milestone_plan": p.milestone_plan,
        "status": p.status,
        "decline_reason": p.decline_reason,
        "created_at": p.created_at,
    }


def _proposal_get(proposal_id: int, user: Any) -> dict[str, Any]:
    return _proposal_out(
        selectors.proposal_get_for_user(proposal_id=proposal_id, user=user).proposal
    )


def _milestone_out(m: Milestone) -> dict[str, Any]:
    waiting = m.status == Milestone.Status.SUBMITTED and m.submitted_at is not None
    return {
        "id": m.pk,
        "position": m.position,
        "title": m.title,
        "amount": m.amount,
        "client_fee": m.client_fee,
        "due_date": m.due_date,
        "status": m.status,
        "changes_count": m.changes_count,
        "submitted_at": m.submitted_at,
        "auto_approve_at": m.submitted_at + timedelta(days=AUTO_APPROVE_DAYS)  # type: ignore[operator]
        if waiting
        else None,
        "released_at": m.released_at,
        "auto_approved": m.auto_approved,
        "paid_net": m.paid_net,
        "refunded": m.refunded,
    }


def _dispute_out(d: Dispute, contract: Contract) -> dict[str, Any]:
    return {
        "status": d.status,
        "reason": d.reason,
        "amount": d.amount,
        "step_deadline": d.step_deadline,
        "offer_freelancer": d.offer_freelancer,
        "offer_by_freelancer": None
        if d.offer_by_id is None
        else d.offer_by_id == contract.freelancer_id,
        "freelancer_share": d.freelancer_share,
        "decision_reason": d.decision_reason,
    }


def _review_out(r: Review) -> dict[str, Any]:
    return {
        "author": person_out(r.author),
        "about_freelancer": r.of_freelancer,
        "rating": r.rating,
        "text": r.text,
        "created_at": r.created_at,
    }


def _contract_summary(c: Contract) -> dict[str, Any]:
    return {
        "id": c.pk,
        "url": absolute_url(c.get_absolute_url()),
        "title": c.title,
        "job_id": c.job_id,
        "status": c.status,
        "client": person_out(c.client),
        "freelancer": person_out(c.freelancer),
        "currency": c.currency,
        "client_fee_bps": c.client_fee_bps,
        "crowd_fee_bps": c.crowd_fee_bps,
        "end_requested": c.end_requested_by_id is not None,
        "ended_at": c.ended_at,
    }


def _contract_get(contract_id: int, user: Any) -> dict[str, Any]:
    access = selectors.contract_get_for_user(contract_id=contract_id, user=user)
    contract = access.contract
    milestones = selectors.milestones_of(contract=contract)
    dispute = Dispute.objects.filter(contract=contract).first()
    reviews = selectors.contract_reviews_for(contract=contract, user=user)
    all_reviews = list(Review.objects.filter(contract=contract))
    return {
        **_contract_summary(contract),
        "money": selectors.contract_money(milestones, dispute),
        "milestones": [_milestone_out(m) for m in milestones],
        "dispute": _dispute_out(dispute, contract) if dispute else None,
        "reviews": [_review_out(r) for r in reviews],
        "reviews_revealed": selectors.reviews_revealed(contract, all_reviews),
    }


# --- jobs ------------------------------------------------------------------------------------


class JobQuery(InSchema):
    skill: str = Field("", max_length=40)
    budget_min: int | None = Field(None, ge=0, le=10**12)
    budget_max: int | None = Field(None, ge=0, le=10**12)
    posted_days: int | None = Field(None, ge=1, le=3650)
    max_proposals: int | None = Field(None, ge=0, le=1000)
    status: str = Field("", max_length=10)
    q: str = Field("", max_length=200)
    page: int = Field(1, ge=1, le=PAGE_MAX)
    page_size: int = Field(PAGE_SIZE, ge=1, le=PAGE_SIZE_MAX)


@router.get("/projects", response=JobPage, summary="List job posts")
def job_list_api(request: AuthedRequest, filters: Query[JobQuery]) -> dict[str, Any]:
    """Published jobs you may see: public ones, those you were invited to, your own."""
    qs = selectors.job_list_for_user(
        user=request.user,
        filters=selectors.JobFilters(
            skill=filters.skill,
            budget_min=filters.budget_min,
            budget_max=filters.budget_max,
            posted_days=filters.posted_days,
            max_proposals=filters.max_proposals,
            status=filters.status,
            q=filters.q.strip(),
        ),
    )
    items, count, number, pages = api_page(qs, filters.page, filters.page_size)
    return {"items": [_job_out(j) for j in items], "count": count, "page": number, "pages": pages}


@router.post("/projects", response={201: JobOut}, summary="Create a draft job post")
def job_create_api(request: AuthedRequest, payload: JobIn) -> Status[dict[str, Any]]:
    job = services.job_create_draft(user=request.user, **payload.dict())
    return Status(201, _job_get(job.pk, request.user))


@router.get("/projects/{job_id}", response=JobOut, summary="Get a job post")
def job_get_api(request: AuthedRequest, job_id: int) -> dict[str, Any]:
    return _job_get(job_id, request.user)


@router.patch("/projects/{job_id}", response=JobOut, summary="Update a draft")
def job_update_api(request: AuthedRequest, job_id: int, payload: JobPatch) -> dict[str, Any]:
    job = selectors.job_get_for_manager(job_id=job_id, user=request.user)
    data: dict[str, Any] = {
        "title": job.title,
        "description": job.description,
        "skills": [s.slug for s in job.skills.all()],
        "budget_min": job.budget_min,
        "budget_max": job.budget_max,
        "duration": job.duration,
        "visibility": job.visibility,
        "proposal_cap": job.proposal_cap,
        "organisation": job.organisation.slug if job.organisation else None,
    }
    data.update({k: v for k, v in payload.dict(exclude_unset=True).items() if v is not None})
    services.job_update_draft(job_id=job_id, user=request.user, **data)
    return _job_get(job_id, request.user)


@router.post("/projects/{job_id}/publish", response=JobOut, summary="Publish a draft")
def job_publish_api(request: AuthedRequest, job_id: int) -> dict[str, Any]:
    services.job_publish(job_id=job_id, user=request.user)
    return _job_get(job_id, request.user)


@router.post("/projects/{job_id}/close", response=JobOut, summary="Close without hiring")
def job_close_api(request: AuthedRequest, job_id: int) -> dict[str, Any]:
    services.job_close(job_id=job_id, user=request.user)
    return _job_get(job_id, request.user)


@router.get("/projects/{job_id}/matches", response=list[MatchOut], summary="Suggested freelancers")
def job_matches_api(request: AuthedRequest, job_id: int) -> list[dict[str, Any]]:
    """Freelancers ranked by skills, portfolio and track record (for the job's client)."""
    job = selectors.job_get_for_manager(job_id=job_id, user=request.user)
    return [
        {
            "freelancer": person_out(m.user),
            "user_id": m.user.pk,
            "score": round(m.score, 2),
            "invited": m.invited,
            **{k: m.reasons[k] for k in ("skills", "completed", "rating", "wins", "portfolio")},
        }
        for m in freelancer_matches(job=job)
    ]


@router.post("/projects/{job_id}/invitations", response={201: JobOut}, summary="Invite")
def job_invite_api(
    request: AuthedRequest, job_id: int, payload: InviteIn
) -> Status[dict[str, Any]]:
    services.job_invite(job_id=job_id, user=request.user, invitee_id=payload.user_id)
    return Status(201, _job_get(job_id, request.user))


# --- proposals -------------------------------------------------------------------------------


class ProjectPageQuery(InSchema):
    page: int = Field(1, ge=1, le=PAGE_MAX)
    page_size: int = Field(PAGE_SIZE, ge=1, le=PAGE_SIZE_MAX)


@router.get("/projects/{job_id}/proposals", response=ProposalPage, summary="A job's proposals")
def proposal_list_api(
    request: AuthedRequest, job_id: int, query: Query[ProjectPageQuery]
) -> dict[str, Any]:
    """For the job's client (and staff) only; anyone else gets 404."""
    access = selectors.job_get_for_user(job_id=job_id, user=request.user)
    if not access.can_see_proposals:
        raise NotFound()
    qs = selectors.proposal_list_for_job(job=access.job)
    items, count, number, pages = api_page(qs, query.page, query.page_size)
    return {
        "items": [_proposal_out(p) for p in items],
        "count": count,
        "page": number,
        "pages": pages,
    }


@router.post(
    "/projects/{job_id}/proposals", response={201: ProposalOut}, summary="Send a proposal (free)"
)
def proposal_create_api(
    request: AuthedRequest, job_id: int, payload: ProposalIn
) -> Status[dict[str, Any]]:
    proposal = services.proposal_create(job_id=job_id, user=request.user, **payload.dict())
    return Status(201, _proposal_get(proposal.pk, request.user))


@router.get("/proposals", response=ProposalPage, summary="Your proposals")
def my_proposals_api(request: AuthedRequest, query: Query[ProjectPageQuery]) -> dict[str, Any]:
    qs = selectors.proposals_of_user(user=request.user)
    items, count, number, pages = api_page(qs, query.page, query.page_size)
    return {
        "items": [_proposal_out(p) for p in items],
        "count": count,
        "page": number,
        "pages": pages,
    }


@router.get("/proposals/{proposal_id}", response=ProposalOut, summary="Get a proposal")
def proposal_get_api(request: AuthedRequest, proposal_id: int) -> dict[str, Any]:
    return _proposal_get(proposal_id, request.user)


@router.patch("/proposals/{proposal_id}", response=ProposalOut, summary="Edit your proposal")
def proposal_update_api(
    request: AuthedRequest, proposal_id: int, payload: ProposalIn
) -> dict[str, Any]:
    services.proposal_edit(proposal_id=proposal_id, user=request.user, **payload.dict())
    return _proposal_get(proposal_id, request.user)


@router.post("/proposals/{proposal_id}/withdraw", response=ProposalOut, summary="Withdraw")
def proposal_withdraw_api(request: AuthedRequest, proposal_id: int) -> dict[str, Any]:
    services.proposal_withdraw(proposal_id=proposal_id, user=request.user)
    return _proposal_get(proposal_id, request.user)


@router.post("/proposals/{proposal_id}/shortlist", response=ProposalOut, summary="Shortlist")
def proposal_shortlist_api(request: AuthedRequest, proposal_id: int) -> dict[str, Any]:
    services.proposal_shortlist(proposal_id=proposal_id, user=request.user)
    return _proposal_get(proposal_id, request.user)


@router.post("/proposals/{proposal_id}/decline", response=ProposalOut, summary="Decline")
def proposal_decline_api(
    request: AuthedRequest, proposal_id: int, payload: ProposalDeclineIn
) -> dict[str, Any]:
    services.proposal_decline(proposal_id=proposal_id, user=request.user, reason=payload.reason)
    return _proposal_get(proposal_id, request.user)


@router.post(
    "/proposals/{proposal_id}/accept", response=ContractOut, summary="Hire: make the contract"
)
def proposal_accept_api(request: AuthedRequest, proposal_id: int) -> dict[str, Any]:
    contract = services.proposal_accept(
        proposal_id=proposal_id,
        user=request.user,
        idempotency_key=idempotency_key_for(request, f"proposal:{proposal_id}:accept"),
    )
    return _contract_get(contract.pk, request.user)


# --- contracts -------------------------------------------------------------------------------


@router.get("/contracts", response=ContractPage, summary="Your contracts")
def contract_list_api(request: AuthedRequest, query: Query[ProjectPageQuery]) -> dict[str, Any]:
    qs = selectors.contract_list_for_user(user=request.user)
    items, count, number, pages = api_page(qs, query.page, query.page_size)
    return {
        "items": [_contract_summary(c) for c in items],
        "count": count,
        "page": number,
        "pages": pages,
    }


@router.get("/contracts/{contract_id}", response=ContractOut, summary="Get a contract")
def contract_get_api(request: AuthedRequest, contract_id: int) -> dict[str, Any]:
    return _contract_get(contract_id, request.user)


@router.post("/contracts/{contract_id}/end", response=ContractOut, summary="End (or agree to)")
def contract_end_api(request: AuthedRequest, contract_id: int) -> dict[str, Any]:
    services.contract_end(contract_id=contract_id, user=request.user)
    return _contract_get(contract_id, request.user)


@router.get("/contracts/{contract_id}/milestones", response=MilestonePage, summary="Milestones")
def milestone_list_api(request: AuthedRequest, contract_id: int) -> dict[str, Any]:
    access = selectors.contract_get_for_user(contract_id=contract_id, user=request.user)
    items = list(Milestone.objects.filter(contract=access.contract))
    return {"items": [_milestone_out(m) for m in items], "count": len(items)}


@router.post(
    "/contracts/{contract_id}/milestones", response={201: MilestoneOut}, summary="Add a milestone"
)
def milestone_add_api(
    request: AuthedRequest, contract_id: int, payload: MilestoneIn
) -> Status[dict[str, Any]]:
    milestone = services.milestone_add(contract_id=contract_id, user=request.user, **payload.dict())
    return Status(201, _milestone_out(milestone))


def _milestone_get(milestone_id: int) -> dict[str, Any]:
    return _milestone_out(Milestone.objects.get(pk=milestone_id))


@router.post("/milestones/{milestone_id}/fund", response=MilestoneOut, summary="Fund into escrow")
def milestone_fund_api(request: AuthedRequest, milestone_id: int) -> dict[str, Any]:
    services.milestone_fund(
        milestone_id=milestone_id,
        user=request.user,
        idempotency_key=idempotency_key_for(request, f"milestone:{milestone_id}:fund"),
    )
    return _milestone_get(milestone_id)


@router.post("/milestones/{milestone_id}/deliver", response=MilestoneOut, summary="Deliver work")
def milestone_deliver_api(
    request: AuthedRequest, milestone_id: int, payload: DeliverIn
) -> dict[str, Any]:
    services.milestone_deliver(
        milestone_id=milestone_id, user=request.user, message=payload.message
    )
    return _milestone_get(milestone_id)


@router.post("/milestones/{milestone_id}/approve", response=MilestoneOut, summary="Approve: pay")
def milestone_approve_api(request: AuthedRequest, milestone_id: int) -> dict[str, Any]:
    services.milestone_approve(
        milestone_id=milestone_id,
        user=request.user,
        idempotency_key=idempotency_key_for(request, f"milestone:{milestone_id}:approve"),
    )
    return _milestone_get(milestone_id)


@router.post(
    "/milestones/{milestone_id}/request-changes", response=MilestoneOut, summary="Ask for changes"
)
def milestone_changes_api(
    request: AuthedRequest, milestone_id: int, payload: ChangesIn
) -> dict[str, Any]:
    services.milestone_request_changes(
        milestone_id=milestone_id, user=request.user, reason=payload.reason
    )
    return _milestone_get(milestone_id)


# --- disputes and reviews ------------------------------------------------------------------


@router.post("/contracts/{contract_id}/dispute", response=ContractOut, summary="Open a dispute")
def dispute_open_api(
    request: AuthedRequest, contract_id: int, payload: DisputeIn
) -> dict[str, Any]:
    services.dispute_open(contract_id=contract_id, user=request.user, reason=payload.reason)
    return _contract_get(contract_id, request.user)


@router.post(
    "/contracts/{contract_id}/dispute/propose", response=ContractOut, summary="Propose a split"
)
def dispute_propose_api(
    request: AuthedRequest, contract_id: int, payload: SplitIn
) -> dict[str, Any]:
    services.dispute_offer(
        contract_id=contract_id, user=request.user, freelancer_amount=payload.freelancer_amount
    )
    return _contract_get(contract_id, request.user)


@router.post(
    "/contracts/{contract_id}/dispute/accept", response=ContractOut, summary="Accept the split"
)
def dispute_accept_api(
    request: AuthedRequest, contract_id: int, payload: SplitIn
) -> dict[str, Any]:
    services.dispute_accept(
        contract_id=contract_id, user=request.user, freelancer_amount=payload.freelancer_amount
    )
    return _contract_get(contract_id, request.user)


@router.post("/contracts/{contract_id}/review", response={201: ReviewOut}, summary="Review")
def review_create_api(
    request: AuthedRequest, contract_id: int, payload: ReviewIn
) -> Status[dict[str, Any]]:
    review = services.review_create(
        contract_id=contract_id, user=request.user, rating=payload.rating, text=payload.text
    )
    return Status(
        201, _review_out(Review.objects.select_related("author__profile").get(pk=review.pk))
    )
