"""Contract pages: milestones, money, deliveries and history for both sides; fund (with a
sandbox deposit of the shortfall), deliver, ask for changes and approve, each behind a
confirm step that states the amounts; end, disputes, reviews, delivered files."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from trefpunt.core.exceptions import ApplicationError, NotFound, ValidationFailed
from trefpunt.core.models import Event
from trefpunt.core.money import parse_amount, split_bps
from trefpunt.core.types import AuthedRequest
from trefpunt.core.web import file_response, flash_error, not_found_as_404, post_action
from trefpunt.ledger.funded import funding_quote

from .. import selectors, services
from ..models import DeliveryFile, Dispute, Milestone, Review
from ..services.common import milestone_work

# The contract's trail in words: (subject, kind) → the line, with the milestone's title.
HISTORY_LINES: dict[tuple[str, str], Any] = {
    ("milestone", "funded"): gettext_lazy("“%(milestone)s” funded: the money is in escrow"),
    ("milestone", "delivered"): gettext_lazy("“%(milestone)s” delivered"),
    ("milestone", "changes_requested"): gettext_lazy("Changes requested on “%(milestone)s”"),
    ("milestone", "released"): gettext_lazy("“%(milestone)s” approved and paid"),
    ("milestone", "auto_released"): gettext_lazy("“%(milestone)s” approved automatically and paid"),
    ("milestone", "refunded"): gettext_lazy("“%(milestone)s” refunded to the client"),
    ("contract", "dispute_opened"): gettext_lazy("Dispute opened"),
    ("contract", "ended"): gettext_lazy("Contract ended"),
    ("dispute", "to_staff"): gettext_lazy("Dispute handed to staff"),
    ("dispute", "resolved"): gettext_lazy("Dispute settled"),
}


@dataclass(frozen=True)
class HistoryLine:
    created_at: datetime
    text: str
    actor: Any


def _history(
    contract_id: int, milestones: list[Milestone], dispute: Dispute | None
) -> list[HistoryLine]:
    """The contract's, its milestones' and its dispute's events, newest first, as lines
    people read (the events keep their codes; the page shows words)."""
    from django.db.models import Q

    titles = {m.pk: m.title for m in milestones}
    trail = Q(subject="contract", subject_id=contract_id) | Q(
        subject="milestone", subject_id__in=list(titles)
    )
    if dispute is not None:
        trail |= Q(subject="dispute", subject_id=dispute.pk)
    events = (
        Event.objects.filter(trail)
        .select_related("actor__profile")
        .order_by("-created_at", "-id")[:100]
    )
    lines = []
    for event in events:
        kind = event.kind
        if kind == "released" and (event.data or {}).get("auto"):
            kind = "auto_released"
        text = HISTORY_LINES.get((event.subject, kind))
        lines.append(
            HistoryLine(
                created_at=event.created_at,
                text=str(text) % {"milestone": titles.get(event.subject_id, "")}
                if text is not None
                else f"{event.subject} · {event.kind}",
                actor=event.actor,
            )
        )
    return lines


@require_GET
@not_found_as_404
def contract_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    access = selectors.contract_get_for_user(contract_id=pk, user=request.user)
    contract = access.contract
    milestones = selectors.milestones_of(contract=contract)
    dispute = Dispute.objects.filter(contract=contract).select_related("offer_by").first()
    all_reviews = list(Review.objects.filter(contract=contract))
    mine = next(
        (
            r
            for r in all_reviews
            if request.user.is_authenticated and r.author_id == request.user.pk
        ),
        None,
    )
    return render(
        request,
        "projects/contract.html",
        {
            "access": access,
            "contract": contract,
            "milestones": [
                (m, access.can_fund(m), access.can_deliver(m), access.can_answer(m))
                for m in milestones
            ],
            "money": selectors.contract_money(milestones, dispute),
            "dispute": dispute,
            "reviews": selectors.contract_reviews_for(contract=contract, user=request.user),
            "revealed": selectors.reviews_revealed(contract, all_reviews),
            "my_review": mine,
            "history": _history(contract.pk, milestones, dispute),
        },
    )


def _milestone_access(pk: int, user: Any) -> tuple[Milestone, selectors.ContractAccess]:
    milestone = Milestone.objects.select_related("contract").filter(pk=pk).first()
    if milestone is None:
        raise Http404
    access = selectors.contract_access(milestone.contract, user)
    if not access.can_view:
        raise Http404
    return milestone, access


ACTIONS = {"fund", "deliver", "changes", "approve"}


@login_required
@require_http_methods(["GET", "POST"])
def milestone_action_view(request: AuthedRequest, pk: int, action: str) -> HttpResponseBase:
    """A confirm step that states the amounts, then the move. ``fund`` starts a deposit of
    the shortfall through the payment provider and comes back here."""
    if action not in ACTIONS:
        raise Http404
    milestone, access = _milestone_access(pk, request.user)
    contract = milestone.contract
    if request.method == "POST":
        try:
            if action == "fund":
                if request.POST.get("deposit"):
                    deposit = services.milestone_deposit_shortfall(
                        milestone_id=pk, user=request.user, return_path=request.path
                    )
                    return redirect(deposit.checkout_url)
                services.milestone_fund(milestone_id=pk, user=request.user)
                messages.success(request, _("Funded. The money is in escrow; the work can start."))
            elif action == "deliver":
                services.milestone_deliver(
                    milestone_id=pk,
                    user=request.user,
                    message=request.POST.get("message", ""),
                    files=request.FILES.getlist("files"),
                )
                messages.success(request, _("Delivered. The client has 14 days to answer."))
            elif action == "changes":
                services.milestone_request_changes(
                    milestone_id=pk, user=request.user, reason=request.POST.get("reason", "")
                )
                messages.success(request, _("Changes requested. The money stays in escrow."))
            else:
                services.milestone_approve(milestone_id=pk, user=request.user)
                messages.success(request, _("Approved. The freelancer is paid."))
        except NotFound:
            raise Http404 from None
        except ValidationFailed as exc:
            flash_error(request, exc)
            return redirect("projects:milestone", pk=pk, action=action)
        except ApplicationError as exc:
            flash_error(request, exc)
            return redirect("projects:milestone", pk=pk, action=action)
        return redirect("projects:contract", pk=contract.pk)
    amount, fee = services.milestone_funding_total(milestone)
    crowd_fee = split_bps(milestone.amount, contract.crowd_fee_bps)
    context: dict[str, Any] = {
        "milestone": milestone,
        "contract": contract,
        "access": access,
        "action": action,
        "amount": amount,
        "client_fee": milestone.client_fee if milestone.status != Milestone.Status.PENDING else fee,
        "crowd_fee": crowd_fee,
        "net": milestone.amount - crowd_fee,
        "deliveries": list(milestone.deliveries.prefetch_related("files")),
        "allowed": {
            "fund": access.can_fund(milestone),
            "deliver": access.can_deliver(milestone),
            "changes": access.can_answer(milestone),
            "approve": access.can_answer(milestone),
        }[action],
    }
    if action == "fund":
        context["quote"] = funding_quote(work=milestone_work(milestone), total=amount + fee)
    return render(request, "projects/milestone_confirm.html", context)


def _date(raw: str) -> date | None:
    """A date field as the browser sends it (``2030-01-31``); empty is no date."""
    if not raw.strip():
        return None
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        raise ValidationFailed(fields={"due_date": _("Enter a date like 2030-01-31.")}) from None


@login_required
@require_POST
def milestone_add_view(request: AuthedRequest, pk: int) -> HttpResponse:
    def add() -> Any:
        return services.milestone_add(
            contract_id=pk,
            user=request.user,
            title=request.POST.get("title", ""),
            amount=parse_amount(request.POST.get("amount", "")),
            due_date=_date(request.POST.get("due_date") or ""),
        )

    return post_action(request, add, _("Milestone added."), f"/projects/contracts/{pk}/")


@login_required
@require_POST
@not_found_as_404
def contract_end_view(request: AuthedRequest, pk: int) -> HttpResponse:
    try:
        contract = services.contract_end(contract_id=pk, user=request.user)
    except NotFound:
        raise
    except ApplicationError as exc:
        flash_error(request, exc)
    else:
        if contract.status == contract.Status.ENDED:
            messages.success(request, _("The contract has ended."))
        else:
            messages.success(
                request,
                _(
                    "You asked to end the contract. Money in escrow goes back once the other "
                    "side agrees."
                ),
            )
    return redirect("projects:contract", pk=pk)


@login_required
@require_POST
@not_found_as_404
def dispute_view(request: AuthedRequest, pk: int, step: str) -> HttpResponse:
    post = request.POST
    try:
        if step == "open":
            services.dispute_open(contract_id=pk, user=request.user, reason=post.get("reason", ""))
            messages.success(
                request, _("Dispute opened. Propose a split the other side can accept.")
            )
        elif step == "propose":
            services.dispute_offer(
                contract_id=pk,
                user=request.user,
                freelancer_amount=parse_amount(post.get("amount", ""), field="freelancer_amount"),
            )
            messages.success(request, _("Split proposed."))
        elif step == "accept":
            services.dispute_accept(
                contract_id=pk, user=request.user, freelancer_amount=post.get("offer", "")
            )
            messages.success(request, _("Split accepted. The money has moved."))
        elif step == "staff":
            services.dispute_escalate(contract_id=pk, user=request.user)
            messages.success(request, _("Staff will decide the split."))
        elif step == "decide":
            services.dispute_decide(
                contract_id=pk,
                user=request.user,
                freelancer_amount=parse_amount(post.get("amount", ""), field="freelancer_amount"),
                reason=post.get("reason", ""),
            )
            messages.success(request, _("Decided. The money has moved."))
        else:
            raise Http404
    except NotFound:
        raise
    except ApplicationError as exc:
        flash_error(request, exc)
    return redirect("projects:contract", pk=pk)


@login_required
@require_POST
def review_view(request: AuthedRequest, pk: int) -> HttpResponse:
    return post_action(
        request,
        lambda: services.review_create(
            contract_id=pk,
            user=request.user,
            rating=request.POST.get("rating"),
            text=request.POST.get("text", ""),
        ),
        _("Thank you. Your review shows once the other side has written theirs, or after 14 days."),
        f"/projects/contracts/{pk}/#reviews",
    )


@require_GET
@not_found_as_404
def delivery_file_view(request: HttpRequest, pk: int) -> HttpResponseBase:
    row = DeliveryFile.objects.select_related("delivery__milestone__contract").filter(pk=pk).first()
    if (
        row is None
        or not selectors.contract_access(row.delivery.milestone.contract, request.user).can_view
    ):
        raise Http404
    return file_response(
        row.file, row.original_name, as_attachment=True, content_type=row.content_type
    )
