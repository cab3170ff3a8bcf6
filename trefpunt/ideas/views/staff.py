"""Staff pages: suspicious voting (bursts of votes from new accounts) and reports."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from trefpunt.core.exceptions import ApplicationError
from trefpunt.core.types import AuthedRequest
from trefpunt.core.web import flash_error

from .. import selectors, services
from ..models import Report


@staff_member_required
@require_GET
def staff_voting_view(request: AuthedRequest) -> HttpResponse:
    return render(request, "ideas/staff_voting.html", {"bursts": selectors.vote_bursts()})


@staff_member_required
@require_GET
def staff_reports_view(request: AuthedRequest) -> HttpResponse:
    """Reports on ideas and comments are worked in the one moderation queue now; this page
    shows the older ones filed before that."""
    old = list(selectors.reports_open()[:100])
    if not old:
        return redirect(reverse("moderation:queue") + "?kind=ideas.idea")
    return render(request, "ideas/staff_reports.html", {"reports": old})


@staff_member_required
@require_POST
def staff_report_action_view(request: AuthedRequest, pk: int) -> HttpResponse:
    report = Report.objects.filter(pk=pk).first()
    action = request.POST.get("action")
    try:
        if report is None:
            pass
        elif action == "hide" and report.comment_id:
            services.comment_hide(comment_id=report.comment_id, staff=request.user)
        elif action == "hide":
            services.idea_hide(idea_id=report.idea_id, staff=request.user, reason=report.reason)
        else:
            services.report_dismiss(report_id=pk, staff=request.user)
    except ApplicationError as exc:
        flash_error(request, exc)
    else:
        messages.success(request, _("Report handled."))
    return redirect("ideas:staff_reports")
