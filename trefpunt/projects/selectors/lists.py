"""Lists of jobs, proposals and contracts, and what reviews show; each runs a fixed number
of queries whatever the number of rows (the tests count them)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from django.db.models import (
    Case,
    Count,
    Exists,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from trefpunt.ledger.references import ReferenceLabel
from trefpunt.moderation.selectors import hidden_ids

from ..models import Contract, Delivery, Dispute, Job, Milestone, Proposal, Review
from ..rules import REVIEW_REVEAL_DAYS
from .access import PUBLISHED, authed, contracts_visible_q, jobs_visible_q, managed_q

if TYPE_CHECKING:
    from .access import AnyUser

M = Milestone.Status


@dataclass(frozen=True)
class JobFilters:
    skill: str = ""
    budget_min: int | None = None  # cents: jobs whose budget reaches at least this
    budget_max: int | None = None  # cents: jobs whose budget starts at most at this
    posted_days: int | None = None  # posted within the last n days
    max_proposals: int | None = None  # jobs with at most n proposals so far
    status: str = ""
    q: str = ""


def job_list_for_user(*, user: AnyUser, filters: JobFilters | None = None) -> QuerySet[Job]:
    """Published jobs the user may see, open first then newest."""
    f = filters or JobFilters()
    qs = (
        Job.objects.filter(jobs_visible_q(user), status__in=PUBLISHED)
        .select_related("organisation", "created_by__profile")
        .prefetch_related("skills")
    )
    if f.status in {Job.Status.OPEN, Job.Status.HIRED, Job.Status.CLOSED}:
        qs = qs.filter(status=f.status)
    if f.skill:
        qs = qs.filter(skills__slug=f.skill)
    if f.budget_min is not None:
        qs = qs.filter(budget_max__gte=f.budget_min)
    if f.budget_max is not None:
        qs = qs.filter(budget_min__lte=f.budget_max)
    if f.posted_days:
        qs = qs.filter(published_at__gte=timezone.now() - timedelta(days=f.posted_days))
    if f.max_proposals is not None:
        qs = qs.filter(proposal_count__lte=f.max_proposals)
    if f.q:
        qs = qs.filter(Q(title__icontains=f.q) | Q(description__icontains=f.q))
    open_first = Case(When(status=Job.Status.OPEN, then=Value(0)), default=Value(1))
    return qs.distinct().order_by(open_first, "-published_at", "-id")


def jobs_managed_by(*, user: AnyUser) -> QuerySet[Job]:
    """The client's jobs with how many proposals wait for a decision."""
    return (
        Job.objects.filter(managed_q(user))
        .select_related("organisation")
        .annotate(waiting=Count("proposals", filter=Q(proposals__status=Proposal.Status.SUBMITTED)))
        .order_by("-created_at", "-id")
    )


# The client's triage order: the hired one, then the shortlist, then those waiting for a
# decision; the ones already decided last. (Ordering by the status text put "submitted"
# above "shortlisted".)
TRIAGE_ORDER = Case(
    *(
        When(status=status, then=Value(n))
        for n, status in enumerate(
            [
                Proposal.Status.ACCEPTED,
                Proposal.Status.SHORTLISTED,
                Proposal.Status.SUBMITTED,
                Proposal.Status.NOT_SELECTED,
            ]
        )
    ),
    default=Value(9),
)


def proposal_list_for_job(*, job: Job) -> QuerySet[Proposal]:
    """A job's proposals for its client (withdrawn ones and those staff hid left out),
    the shortlist first, then cheapest first."""
    return (
        Proposal.objects.filter(job=job)
        .exclude(status=Proposal.Status.WITHDRAWN)
        .exclude(pk__in=hidden_ids("projects.proposal"))
        .select_related("freelancer__profile", "job")
        .prefetch_related("portfolio_items")
        .order_by(TRIAGE_ORDER, "price", "id")
    )


def proposals_of_user(*, user: AnyUser) -> QuerySet[Proposal]:
    person = authed(user)
    if person is None:
        return Proposal.objects.none()
    return (
        Proposal.objects.filter(freelancer=person)
        .select_related("job__organisation", "job__created_by__profile", "freelancer__profile")
        .order_by("-created_at", "-id")
    )


def contract_list_for_user(*, user: AnyUser) -> QuerySet[Contract]:
    """The contracts the user is a side of, with their money figures, counted as
    :func:`contract_money` counts them: the total leaves out cancelled milestones, and paid
    (before the crowd fee) takes in the freelancer's share of a settled dispute."""
    settled = Dispute.objects.filter(contract=OuterRef("pk")).values("freelancer_share")[:1]
    return (
        Contract.objects.filter(contracts_visible_q(user))
        .select_related("organisation", "client__profile", "freelancer__profile", "job")
        .annotate(
            total=Sum("milestones__amount", filter=~Q(milestones__status=M.CANCELLED)),
            paid=Coalesce(
                Sum("milestones__amount", filter=Q(milestones__status=M.RELEASED)), Value(0)
            )
            + Coalesce(Subquery(settled), Value(0)),
            in_escrow=Sum(
                "milestones__amount",
                filter=Q(milestones__status__in=[M.FUNDED, M.SUBMITTED, M.CHANGES, M.DISPUTED]),
            ),
            waiting=Count("milestones", filter=Q(milestones__status=M.SUBMITTED)),
        )
        .order_by("status", "-created_at", "-id")
    )


def milestones_of(*, contract: Contract) -> list[Milestone]:
    return list(
        Milestone.objects.filter(contract=contract).prefetch_related(
            Prefetch("deliveries", queryset=Delivery.objects.prefetch_related("files"))
        )
    )


def contract_money(milestones: list[Milestone], dispute: Dispute | None = None) -> dict[str, int]:
    """What both sides see at all times: the total, in escrow, paid, refunded.

    ``paid`` is released before the crowd fee, like the milestone amounts it sits beside:
    the approved milestones' amounts plus the freelancer's share of a settled dispute
    (``paid_net`` is what reached the freelancer's wallet, after the fee)."""
    settled = dispute.freelancer_share if dispute is not None else None
    return {
        "total": sum(m.amount for m in milestones if m.status != M.CANCELLED),
        "in_escrow": sum(m.amount for m in milestones if m.in_escrow),
        "paid": sum(m.amount for m in milestones if m.status == M.RELEASED) + (settled or 0),
        "paid_net": sum(m.paid_net for m in milestones),
        "refunded": sum(m.refunded for m in milestones),
        "waiting_funding": sum(m.amount for m in milestones if m.status == M.PENDING),
    }


def reviews_revealed(contract: Contract, reviews: list[Review], now: object = None) -> bool:
    """Both sides are in, or the window after the end has passed."""
    if len({r.of_freelancer for r in reviews}) == 2:
        return True
    when = now or timezone.now()
    return contract.ended_at is not None and when >= contract.ended_at + timedelta(  # type: ignore[operator]
        days=REVIEW_REVEAL_DAYS
    )


def contract_reviews_for(*, contract: Contract, user: AnyUser) -> list[Review]:
    """The reviews of one contract ``user`` may read: their own always, the rest once
    revealed."""
    reviews = list(Review.objects.filter(contract=contract).select_related("author__profile"))
    person = authed(user)
    mine = [r for r in reviews if person is not None and r.author_id == person.pk]
    if not reviews_revealed(contract, reviews):
        return mine
    # A review staff hid stays for its author only.
    hidden = set(hidden_ids("projects.review").values_list("object_id", flat=True))
    return [r for r in reviews if r.pk not in hidden or r in mine]


def revealed_reviews_q() -> Q:
    """Reviews that are revealed and not hidden by staff, as a filter (for profiles and
    track records)."""
    cutoff = timezone.now() - timedelta(days=REVIEW_REVEAL_DAYS)
    both = Exists(
        Review.objects.filter(contract=OuterRef("contract")).exclude(
            of_freelancer=OuterRef("of_freelancer")
        )
    )
    return (Q(both) | Q(contract__ended_at__lte=cutoff)) & ~Q(pk__in=hidden_ids("projects.review"))


def reviews_of_user(*, user_id: int) -> QuerySet[Review]:
    return (
        Review.objects.filter(revealed_reviews_q(), subject_id=user_id)
        .select_related("author__profile", "contract")
        .order_by("-created_at", "-id")
    )


def milestone_reference_labels(ids: Sequence[int]) -> dict[int, ReferenceLabel]:
    """Wallet lines about milestones: "Project: <title> — <milestone>", linked."""
    return {
        m.pk: ReferenceLabel(
            label=_("Project: %(title)s — %(milestone)s")
            % {"title": m.contract.title, "milestone": m.title},
            url=reverse("projects:contract", kwargs={"pk": m.contract_id}),
        )
        for m in Milestone.objects.filter(pk__in=ids).select_related("contract")
    }
