"""Job pages: the list with filters, the job page, the draft form, publish, close, the
client's suggested freelancers and invitations, and the dashboards."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from trefpunt.accounts.models import Skill
from trefpunt.accounts.selectors import organisations_user_can_post_for
from trefpunt.core.exceptions import ApplicationError, ValidationFailed
from trefpunt.core.forms import errors_with_check
from trefpunt.core.money import parse_amount
from trefpunt.core.types import AuthedRequest
from trefpunt.core.web import file_response, flash_error, not_found_as_404, post_action

from .. import selectors, services
from ..models import Contract, Job, JobAttachment, Milestone, Proposal
from ..selectors.matches import freelancer_matches, track_records
from ..states import JOB_STATES

LIST_PAGE_SIZE = 12
# The list's number filters, as the API bounds them (``api.JobQuery``).
MAX_POSTED_DAYS = 3650
MAX_PROPOSAL_FILTER = 1000


def _int(value: Any, low: int = 0, high: int = 2**31 - 1) -> int | None:
    """A whole number from a query or form field; ``None`` when it is missing, does not
    parse or falls outside ``low``–``high`` (a filter typed by hand must not reach the
    database or a date calculation out of range)."""
    try:
        number = int(str(value)) if str(value or "").strip() else None
    except ValueError:
        return None
    return number if number is not None and low <= number <= high else None


def _cents(value: Any) -> int | None:
    try:
        return parse_amount(str(value)) if str(value or "").strip() else None
    except ValidationFailed:
        return None


# The list's filters that narrow it when set (the status counts when it is not "open").
FILTER_NAMES = ("q", "skill", "budget_min", "budget_max", "posted", "max_proposals")


@require_GET
def job_list_view(request: HttpRequest) -> HttpResponse:
    g = request.GET
    filters = selectors.JobFilters(
        skill=str(g.get("skill", ""))[:40],
        budget_min=_cents(g.get("budget_min")),
        budget_max=_cents(g.get("budget_max")),
        posted_days=_int(g.get("posted"), 1, MAX_POSTED_DAYS),
        max_proposals=_int(g.get("max_proposals"), 0, MAX_PROPOSAL_FILTER),
        status=str(g.get("status", "open") if "status" in g else "open")[:10],
        q=str(g.get("q", "")).strip()[:200],
    )
    page = Paginator(
        selectors.job_list_for_user(user=request.user, filters=filters), LIST_PAGE_SIZE
    )
    return render(
        request,
        "projects/list.html",
        {
            "page": page.get_page(g.get("page")),
            "filters": filters,
            "skills": list(
                Skill.objects.filter(jobs__isnull=False).distinct().order_by("name")[:100]
            ),
            "get": g,
            "active_filters": sum(1 for name in FILTER_NAMES if g.get(name))
            + (filters.status != "open"),
        },
    )


@require_GET
@not_found_as_404
def job_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    access = selectors.job_get_for_user(job_id=pk, user=request.user)
    job = access.job
    context: dict[str, Any] = {"access": access, "job": job}
    if access.can_see_proposals:
        proposals = list(selectors.proposal_list_for_job(job=job))
        context["proposals"] = proposals
        context["records"] = track_records([p.freelancer_id for p in proposals])
    if access.can_invite:
        context["matches"] = freelancer_matches(job=job)
    contract = Contract.objects.filter(job=job).first()
    if contract is not None and selectors.contract_access(contract, request.user).can_view:
        context["contract"] = contract
    return render(request, "projects/job.html", context)


def _job_data(request: AuthedRequest) -> dict[str, Any]:
    """The job form's fields for the services. An amount that does not parse fails here,
    together with what the services say about the other fields: one round trip shows
    every error."""
    post = request.POST
    data: dict[str, Any] = {
        "title": post.get("title", ""),
        "description": post.get("description", ""),
        "duration": post.get("duration", Job.Duration.WEEKS),
        "visibility": post.get("visibility", Job.Visibility.PUBLIC),
        "proposal_cap": post.get("proposal_cap") or 30,
        "organisation": post.get("post_as") or None,
        "skills": post.getlist("skills"),
    }
    amounts: dict[str, list[str]] = {}
    for name in ("budget_min", "budget_max"):
        raw = post.get(name, "")
        data[name] = None
        if not raw.strip() and name == "budget_max":
            continue
        try:
            data[name] = parse_amount(raw, field=name)
        except ValidationFailed as exc:
            amounts.update(exc.fields)
    if not amounts:
        return data
    # The services fill an empty upper end from the lower one: both are the amounts' own.
    raise errors_with_check(
        amounts,
        lambda: services.job_draft_check(user=request.user, **data),
        own={"budget_min", "budget_max"},
    )


def _form_context(
    request: AuthedRequest, job: Job | None, errors: dict[str, list[str]]
) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if request.method == "POST":
        values = {k: request.POST.get(k, "") for k in request.POST}
        values["skills"] = request.POST.getlist("skills")
    elif job is not None:
        values = {
            "title": job.title,
            "description": job.description,
            "budget_min": f"{job.budget_min / 100:.2f}",
            "budget_max": f"{job.budget_max / 100:.2f}",
            "duration": job.duration,
            "visibility": job.visibility,
            "proposal_cap": job.proposal_cap,
            "skills": [s.slug for s in job.skills.all()],
        }
    return {
        "job": job,
        "values": values,
        "errors": errors,
        "skills": list(Skill.objects.order_by("name")[:300]),
        "organisations": list(organisations_user_can_post_for(user=request.user)),
        "durations": Job.Duration.choices,
        "visibilities": Job.Visibility.choices,
    }


@login_required
@require_http_methods(["GET", "POST"])
def job_create_view(request: AuthedRequest) -> HttpResponse:
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        try:
            job = services.job_create_draft(
                user=request.user,
                attachments=request.FILES.getlist("attachments"),
                **_job_data(request),
            )
        except ValidationFailed as exc:
            errors = exc.fields or {"general": [exc.message]}
        else:
            messages.success(request, _("Draft saved. Check it, then publish it."))
            return redirect("projects:job", pk=job.pk)
    return render(
        request,
        "projects/form.html",
        _form_context(request, None, errors),
        status=422 if errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
@not_found_as_404
def job_edit_view(request: AuthedRequest, pk: int) -> HttpResponse:
    job = selectors.job_get_for_manager(job_id=pk, user=request.user)
    if job.status != Job.Status.DRAFT:
        # A bookmark or the back button after publishing: the form could not be saved.
        flash_error(request, JOB_STATES.wrong_state(job, _("edit the job")))
        return redirect("projects:job", pk=pk)
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        try:
            services.job_update_draft(
                job_id=pk,
                user=request.user,
                attachments=request.FILES.getlist("attachments"),
                **_job_data(request),
            )
        except ValidationFailed as exc:
            errors = exc.fields or {"general": [exc.message]}
        except ApplicationError as exc:
            errors = {"general": [exc.message]}
        else:
            messages.success(request, _("Draft saved."))
            return redirect("projects:job", pk=pk)
    return render(
        request,
        "projects/form.html",
        _form_context(request, job, errors),
        status=422 if errors else 200,
    )


@login_required
@require_POST
def job_publish_view(request: AuthedRequest, pk: int) -> HttpResponse:
    return post_action(
        request,
        lambda: services.job_publish(job_id=pk, user=request.user),
        _("Published. Freelancers can now send proposals, for free."),
        Job(pk=pk).get_absolute_url(),
    )


@login_required
@require_POST
def job_close_view(request: AuthedRequest, pk: int) -> HttpResponse:
    return post_action(
        request,
        lambda: services.job_close(job_id=pk, user=request.user),
        _("The job is closed."),
        Job(pk=pk).get_absolute_url(),
    )


@login_required
@require_POST
def job_invite_view(request: AuthedRequest, pk: int) -> HttpResponse:
    return post_action(
        request,
        lambda: services.job_invite(
            job_id=pk, user=request.user, invitee_id=_int(request.POST.get("user")) or 0
        ),
        _("Invitation sent."),
        Job(pk=pk).get_absolute_url() + "#matches",
    )


@require_GET
@not_found_as_404
def job_attachment_view(request: HttpRequest, pk: int) -> HttpResponseBase:
    """A job's attachment, for whoever may see the job."""
    attachment = JobAttachment.objects.filter(pk=pk).first()
    if attachment is None:
        raise Http404
    selectors.job_get_for_user(job_id=attachment.job_id, user=request.user)
    return file_response(
        attachment.file,
        attachment.original_name,
        as_attachment=True,
        content_type=attachment.content_type,
    )


# --- dashboards ------------------------------------------------------------------------------


@login_required
@require_GET
def freelancer_dashboard_view(request: AuthedRequest) -> HttpResponse:
    """My proposals, my contracts, and what is due: milestones to deliver."""
    contracts = list(
        selectors.contract_list_for_user(user=request.user).filter(freelancer=request.user)[:50]
    )
    due = list(
        Milestone.objects.filter(
            contract__freelancer=request.user,
            contract__status=Contract.Status.ACTIVE,
            status__in=[Milestone.Status.FUNDED, Milestone.Status.CHANGES],
        )
        .select_related("contract")
        .order_by("due_date", "pk")[:50]
    )
    invitations = list(
        request.user.job_invitations.filter(job__status=Job.Status.OPEN)
        .select_related("job")
        .order_by("-created_at")[:20]
    )
    return render(
        request,
        "projects/dashboard_freelancer.html",
        {
            "proposals": list(selectors.proposals_of_user(user=request.user)[:50]),
            "contracts": contracts,
            "due": due,
            "invitations": invitations,
        },
    )


@login_required
@require_GET
def client_dashboard_view(request: AuthedRequest) -> HttpResponse:
    """What needs my decision: proposals waiting, deliveries to answer, milestones to fund."""
    jobs = list(selectors.jobs_managed_by(user=request.user)[:50])
    contracts = list(
        selectors.contract_list_for_user(user=request.user).exclude(freelancer=request.user)[:50]
    )
    decisions = list(
        Milestone.objects.filter(
            Q(status=Milestone.Status.SUBMITTED) | Q(status=Milestone.Status.PENDING, position=0),
            contract__in=[c.pk for c in contracts if c.status == Contract.Status.ACTIVE],
        )
        .select_related("contract")
        .order_by("submitted_at", "pk")[:50]
    )
    return render(
        request,
        "projects/dashboard_client.html",
        {"jobs": jobs, "contracts": contracts, "decisions": decisions, "Proposal": Proposal},
    )
