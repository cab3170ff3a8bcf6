"""Proposal pages: the form (free to send), the proposal page, the client's side-by-side
triage, and the one-button moves (withdraw, shortlist, decline with a reason, hire)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from trefpunt.accounts.models import PortfolioItem
from trefpunt.core.exceptions import ApplicationError, NotFound, ValidationFailed
from trefpunt.core.forms import errors_with_check
from trefpunt.core.money import parse_amount
from trefpunt.core.types import AuthedRequest
from trefpunt.core.web import flash_error, next_url, not_found_as_404

from .. import selectors, services
from ..models import Proposal
from ..selectors.matches import track_records


def plan_parse(text: str) -> list[dict[str, Any]]:
    """One milestone a line: ``title | amount | days`` (amount as typed: 200 or 200,50)."""
    plan = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split("|")]
        if len(parts) < 2:
            raise ValidationFailed(
                fields={
                    "milestone_plan": _("Line %(n)d: write “title | amount | days”.") % {"n": n}
                }
            )
        plan.append(
            {
                "title": parts[0],
                "amount": parse_amount(parts[1], field="milestone_plan"),
                "days": int(parts[2]) if len(parts) > 2 and parts[2].isdigit() else 0,
            }
        )
    return plan


def plan_text(plan: list[dict[str, Any]]) -> str:
    return "\n".join(f"{p['title']} | {p['amount'] / 100:.2f} | {p.get('days', 0)}" for p in plan)


def _data(request: AuthedRequest) -> dict[str, Any]:
    """The proposal form's fields for the services. A price or plan that does not parse
    fails here, together with what the services say about the other fields."""
    post = request.POST
    errors: dict[str, list[str]] = {}
    data: dict[str, Any] = {
        "duration_days": post.get("duration_days"),
        "cover_letter": post.get("cover_letter", ""),
        "portfolio_item_ids": post.getlist("portfolio_items"),
    }
    try:
        data["price"] = parse_amount(post.get("price", ""), field="price")
    except ValidationFailed as exc:
        errors.update(exc.fields)
    try:
        data["milestone_plan"] = plan_parse(post.get("milestone_plan", ""))
    except ValidationFailed as exc:
        errors.update(exc.fields)
    if not errors:
        return data
    checked = {"price": None, "milestone_plan": [], **data}
    raise errors_with_check(
        errors, lambda: services.proposal_check(user=request.user, **checked), own=errors
    )


def _form(
    request: AuthedRequest, access: Any, proposal: Proposal | None, errors: Any
) -> HttpResponse:
    if request.method == "POST":
        values: dict[str, Any] = {k: request.POST.get(k, "") for k in request.POST}
    elif proposal is not None:
        values = {
            "price": f"{proposal.price / 100:.2f}",
            "duration_days": proposal.duration_days,
            "cover_letter": proposal.cover_letter,
            "milestone_plan": plan_text(proposal.milestone_plan),
        }
    else:
        values = {}
    return render(
        request,
        "projects/propose.html",
        {
            "access": access,
            "job": access.job,
            "proposal": proposal,
            "values": values,
            "errors": errors,
            "portfolio": list(PortfolioItem.objects.filter(owner=request.user)[:30]),
        },
        status=422 if errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
@not_found_as_404
def proposal_create_view(request: AuthedRequest, pk: int) -> HttpResponse:
    access = selectors.job_get_for_user(job_id=pk, user=request.user)
    if access.my_proposal is not None:
        return redirect("projects:proposal", pk=access.my_proposal.pk)
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        try:
            proposal = services.proposal_create(job_id=pk, user=request.user, **_data(request))
        except ValidationFailed as exc:
            errors = exc.fields or {"general": [exc.message]}
        except NotFound:
            raise
        except ApplicationError as exc:
            flash_error(request, exc)
            return redirect("projects:job", pk=pk)
        else:
            messages.success(request, _("Your proposal is sent. It cost you nothing."))
            return redirect("projects:proposal", pk=proposal.pk)
    return _form(request, access, None, errors)


@login_required
@require_http_methods(["GET", "POST"])
@not_found_as_404
def proposal_edit_view(request: AuthedRequest, pk: int) -> HttpResponse:
    paccess = selectors.proposal_get_for_user(proposal_id=pk, user=request.user)
    if not paccess.is_author:
        raise Http404
    access = selectors.job_get_for_user(job_id=paccess.proposal.job_id, user=request.user)
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        try:
            services.proposal_edit(proposal_id=pk, user=request.user, **_data(request))
        except ValidationFailed as exc:
            errors = exc.fields or {"general": [exc.message]}
        except ApplicationError as exc:
            flash_error(request, exc)
            return redirect("projects:proposal", pk=pk)
        else:
            messages.success(request, _("Proposal updated."))
            return redirect("projects:proposal", pk=pk)
    return _form(request, access, paccess.proposal, errors)


@require_GET
@not_found_as_404
def proposal_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    access = selectors.proposal_get_for_user(proposal_id=pk, user=request.user)
    proposal = access.proposal
    return render(
        request,
        "projects/proposal.html",
        {
            "access": access,
            "proposal": proposal,
            "job": proposal.job,
            "record": track_records([proposal.freelancer_id])[proposal.freelancer_id],
        },
    )


@login_required
@require_GET
@not_found_as_404
def proposal_compare_view(request: AuthedRequest, pk: int) -> HttpResponse:
    """The client's triage: the proposals side by side (price, time, plan, track record),
    with shortlist, decline with a reason, and hire."""
    job = selectors.job_get_for_manager(job_id=pk, user=request.user)
    proposals = list(selectors.proposal_list_for_job(job=job))
    shown = request.GET.get("show", "open")
    if shown == "open":
        proposals = [
            p
            for p in proposals
            if p.status in {Proposal.Status.SUBMITTED, Proposal.Status.SHORTLISTED}
        ]
    elif shown == "shortlisted":
        proposals = [p for p in proposals if p.status == Proposal.Status.SHORTLISTED]
    records = track_records([p.freelancer_id for p in proposals])
    rows = [
        (p, records[p.freelancer_id], selectors.proposal_access(p, request.user)) for p in proposals
    ]
    return render(
        request,
        "projects/compare.html",
        {"job": job, "rows": rows, "shown": shown},
    )


@login_required
@require_POST
@not_found_as_404
def proposal_action_view(request: AuthedRequest, pk: int, action: str) -> HttpResponse:
    try:
        if action == "withdraw":
            services.proposal_withdraw(proposal_id=pk, user=request.user)
            messages.success(request, _("Proposal withdrawn."))
        elif action == "shortlist":
            services.proposal_shortlist(proposal_id=pk, user=request.user)
            messages.success(request, _("Shortlisted."))
        elif action == "decline":
            services.proposal_decline(
                proposal_id=pk, user=request.user, reason=request.POST.get("reason", "")
            )
            messages.success(request, _("Declined. The freelancer reads your reason."))
        elif action == "accept":
            contract = services.proposal_accept(proposal_id=pk, user=request.user)
            messages.success(
                request, _("Hired. Fund the first milestone so that the work can start.")
            )
            return redirect("projects:contract", pk=contract.pk)
        else:
            raise Http404
    except NotFound:
        raise
    except ApplicationError as exc:
        flash_error(request, exc)
    return redirect(next_url(request) or Proposal(pk=pk).get_absolute_url())
