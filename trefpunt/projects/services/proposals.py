"""Proposals: free to send, one per person per job, editable and withdrawable until the
client acts; the client shortlists, declines with a reason, or accepts — which hires: the
job moves to hired once, a contract is made with the proposal's milestone plan, and the
other proposals hear that somebody else was hired."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from trefpunt.accounts.models import PortfolioItem
from trefpunt.core.exceptions import Conflict, ErrorCode, PermissionDenied, ValidationFailed
from trefpunt.core.money import format_cents

from ..models import Contract, Job, Milestone, Proposal
from ..rules import MAX_MILESTONES
from ..selectors import job_get_for_user, proposal_get_for_user
from ..states import JOB_STATES, PROPOSAL_STATES
from ..webhooks import proposal_received_emit
from .common import int_clean, money_clean, raise_if, tell, text_clean

if TYPE_CHECKING:
    from trefpunt.accounts.models import User

P = Proposal.Status
OPEN_PROPOSALS = [P.SUBMITTED, P.SHORTLISTED]


def plan_clean(errors: dict[str, str], raw: Any, price: int) -> list[dict[str, Any]]:
    """A milestone plan: titles, amounts (cents) and days after hiring; the amounts add up
    to the price. Empty: one milestone for the whole price."""
    if not raw:
        return []
    if not isinstance(raw, list | tuple) or len(raw) > MAX_MILESTONES:
        errors["milestone_plan"] = _("At most %(n)d milestones.") % {"n": MAX_MILESTONES}
        return []
    plan: list[dict[str, Any]] = []
    most = Milestone._meta.get_field("title").max_length or 120
    for n, item in enumerate(raw, start=1):
        item = item if isinstance(item, dict) else {}
        title = str(item.get("title") or "").strip()
        sub: dict[str, str] = {}
        amount = int_clean(sub, "amount", item.get("amount"), 100)
        days = int_clean(sub, "days", item.get("days") or 0, 0, 3650)
        if not title or len(title) > most or sub:
            errors["milestone_plan"] = _(
                "Milestone %(n)d needs a title (at most %(most)d characters), an amount of at "
                "least 1.00 and a number of days."
            ) % {"n": n, "most": most}
            return []
        plan.append({"title": title, "amount": amount, "days": days})
    total = sum(p["amount"] for p in plan)
    if total != price:
        errors["milestone_plan"] = _(
            "The milestones add up to %(total)s and the price is %(price)s: make them equal."
        ) % {"total": format_cents(total), "price": format_cents(price)}
    return plan


def _proposal_clean(user: User, data: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, str] = {}
    price = money_clean(errors, "price", data.get("price"), 100)
    fields: dict[str, Any] = {
        "price": price,
        "duration_days": int_clean(errors, "duration_days", data.get("duration_days"), 1, 3650),
        "cover_letter": text_clean(errors, Proposal, "cover_letter", data.get("cover_letter")),
        "milestone_plan": plan_clean(errors, data.get("milestone_plan"), price)
        if "price" not in errors
        else [],
    }
    ids = [int(i) for i in data.get("portfolio_item_ids") or [] if str(i).isdigit()]
    items = list(PortfolioItem.objects.filter(owner=user, pk__in=ids)[:10])
    if len(items) != len(set(ids)):
        errors["portfolio_item_ids"] = _("Choose items from your own portfolio.")
    fields["portfolio_items"] = items
    raise_if(errors)
    return fields


def proposal_check(*, user: User, **data: Any) -> None:
    """Raise what :func:`proposal_create` would say about these fields, saving nothing."""
    _proposal_clean(user, data)


def proposal_create(*, job_id: int, user: User, **data: Any) -> Proposal:
    """Send a proposal (free). Refused: on your own job (``own_job``), a second one
    (``already_proposed``), past the cap (``cap_reached``), on a job no longer open.

    Locks: the job row (the cap and the count are kept under it)."""
    access = job_get_for_user(job_id=job_id, user=user)
    if access.can_manage:
        raise PermissionDenied(
            _("You cannot send a proposal to your own job."), code=ErrorCode.OWN_JOB
        )
    fields = _proposal_clean(user, data)
    items = fields.pop("portfolio_items")
    with transaction.atomic(durable=True):
        job = Job.objects.select_for_update().get(pk=access.job.pk)
        if job.status != Job.Status.OPEN:
            raise JOB_STATES.wrong_state(job, _("send a proposal"))
        if Proposal.objects.filter(job=job, freelancer=user).exists():
            raise Conflict(
                _("You already sent a proposal for this job; edit that one instead."),
                code=ErrorCode.ALREADY_PROPOSED,
            )
        if job.proposal_count >= job.proposal_cap:
            raise Conflict(
                _("This job has all the proposals it takes (%(n)d).") % {"n": job.proposal_cap},
                code=ErrorCode.CAP_REACHED,
            )
        proposal = Proposal.objects.create(job=job, freelancer=user, **fields)
        proposal.portfolio_items.set(items)
        Job.objects.filter(pk=job.pk).update(proposal_count=F("proposal_count") + 1)
        tell(
            client_people_of_job(job),
            "projects.proposal",
            path=proposal.get_absolute_url(),
            proposal_id=proposal.pk,
        )
        proposal_received_emit(job, proposal)
    return proposal


def client_people_of_job(job: Job) -> list[int]:
    from trefpunt.accounts.models import Membership, Role

    if job.organisation_id is None:
        return [job.created_by_id]
    return list(
        Membership.objects.filter(
            organisation_id=job.organisation_id, role__in=[Role.OWNER, Role.ADMIN]
        ).values_list("user_id", flat=True)
    )


def proposal_edit(*, proposal_id: int, user: User, **data: Any) -> Proposal:
    """Change a proposal until the client acts on it (shortlist, decline, hire)."""
    access = proposal_get_for_user(proposal_id=proposal_id, user=user)
    if not access.is_author:
        raise PermissionDenied(_("Only its author edits a proposal."), code=ErrorCode.FORBIDDEN)
    proposal = access.proposal
    PROPOSAL_STATES.check(proposal, P.SUBMITTED, _("edit the proposal"))
    fields = _proposal_clean(user, data)
    items = fields.pop("portfolio_items")
    with transaction.atomic(durable=True):
        if access.proposal.job.status != Job.Status.OPEN:
            raise JOB_STATES.wrong_state(access.proposal.job, _("edit the proposal"))
        PROPOSAL_STATES.move(
            proposal, P.SUBMITTED, action=_("edit the proposal"), actor=user, **fields
        )
        proposal.portfolio_items.set(items)
    return proposal


def proposal_withdraw(*, proposal_id: int, user: User) -> Proposal:
    access = proposal_get_for_user(proposal_id=proposal_id, user=user)
    if not access.is_author:
        raise PermissionDenied(_("Only its author withdraws a proposal."), code=ErrorCode.FORBIDDEN)
    proposal = access.proposal
    with transaction.atomic(durable=True):
        Job.objects.select_for_update().filter(pk=proposal.job_id).first()
        PROPOSAL_STATES.move(
            proposal,
            P.WITHDRAWN,
            action=_("withdraw the proposal"),
            actor=user,
            event="withdrawn",
        )
        Job.objects.filter(pk=proposal.job_id, proposal_count__gt=0).update(
            proposal_count=F("proposal_count") - 1
        )
    return proposal


def _for_client(proposal_id: int, user: User) -> Proposal:
    access = proposal_get_for_user(proposal_id=proposal_id, user=user)
    if not access.can_manage:
        raise PermissionDenied(
            _("Only the client decides on proposals."), code=ErrorCode.NOT_A_MANAGER
        )
    if access.proposal.job.status != Job.Status.OPEN:
        raise JOB_STATES.wrong_state(access.proposal.job, _("decide on proposals"))
    return access.proposal


def proposal_shortlist(*, proposal_id: int, user: User) -> Proposal:
    proposal = _for_client(proposal_id, user)
    with transaction.atomic(durable=True):
        PROPOSAL_STATES.move(
            proposal, P.SHORTLISTED, action=_("shortlist"), actor=user, event="shortlisted"
        )
    return proposal


def proposal_decline(*, proposal_id: int, user: User, reason: str) -> Proposal:
    """Decline with a reason the freelancer reads."""
    errors: dict[str, str] = {}
    reason = text_clean(errors, Proposal, "decline_reason", reason)
    if errors:
        raise ValidationFailed(fields={"reason": errors["decline_reason"]})
    proposal = _for_client(proposal_id, user)
    with transaction.atomic(durable=True):
        PROPOSAL_STATES.move(
            proposal,
            P.DECLINED,
            action=_("decline"),
            actor=user,
            event="declined",
            decline_reason=reason,
        )
        tell(
            [proposal.freelancer_id],
            "projects.declined",
            path=proposal.get_absolute_url(),
            proposal_id=proposal.pk,
        )
    return proposal


def _milestones_from(proposal: Proposal) -> list[dict[str, Any]]:
    plan: Sequence[dict[str, Any]] = proposal.milestone_plan or [
        {"title": _("The whole job"), "amount": proposal.price, "days": proposal.duration_days}
    ]
    today = timezone.localdate()
    return [
        {
            "position": n,
            "title": str(item["title"]),
            "amount": int(item["amount"]),
            "due_date": today + timedelta(days=int(item.get("days") or proposal.duration_days)),
        }
        for n, item in enumerate(plan)
    ]


def proposal_accept(*, proposal_id: int, user: User, idempotency_key: str = "") -> Contract:
    """Hire: the job moves open → hired once (two accepts at once hire one freelancer), the
    proposal is accepted, a contract is made with its milestones (not funded yet: the client
    funds the first before work starts), and the other open proposals are told.

    Locks: the job row, then the proposal."""
    proposal = _for_client(proposal_id, user)
    if idempotency_key and JOB_STATES.replayed(proposal.job_id, "hired", idempotency_key):
        return Contract.objects.get(job_id=proposal.job_id)
    bps = settings.FEES_BPS["project"]
    with transaction.atomic(durable=True):
        job = Job.objects.select_for_update().get(pk=proposal.job_id)
        JOB_STATES.move(
            job,
            Job.Status.HIRED,
            action=_("hire"),
            actor=user,
            event="hired",
            idempotency_key=idempotency_key,
            data={"proposal": proposal.pk},
            hired_at=timezone.now(),
        )
        PROPOSAL_STATES.move(proposal, P.ACCEPTED, action=_("hire"), actor=user, event="accepted")
        contract = Contract.objects.create(
            job=job,
            proposal=proposal,
            client=job.created_by,
            organisation=job.organisation,
            freelancer=proposal.freelancer,
            title=job.title,
            currency=job.currency,
            client_fee_bps=int(bps["client"]),
            crowd_fee_bps=int(bps["crowd"]),
        )
        Milestone.objects.bulk_create(
            [Milestone(contract=contract, **m) for m in _milestones_from(proposal)]
        )
        others = Proposal.objects.filter(job=job, status__in=OPEN_PROPOSALS).exclude(pk=proposal.pk)
        not_selected = list(others.values_list("freelancer_id", flat=True))
        others.update(status=P.NOT_SELECTED)
        tell(
            [proposal.freelancer_id],
            "projects.hired",
            path=contract.get_absolute_url(),
            contract_id=contract.pk,
        )
        tell(not_selected, "projects.job_closed", path=job.get_absolute_url(), job_id=job.pk)
    return contract
