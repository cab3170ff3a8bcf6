"""Moderation pages: reporting (anyone logged in), a decision and its appeal (the
author), and the staff side: one queue, actions on content and people, the audit log and
the console with platform figures. Staff pages answer 404 to everyone else."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from trefpunt.core.exceptions import ApplicationError, NotFound
from trefpunt.core.forms import form_errors_apply
from trefpunt.core.types import AuthedRequest
from trefpunt.core.web import flash_error

from . import selectors, services
from .forms import (
    AppealForm,
    AuditFilterForm,
    QueueFilterForm,
    ReasonForm,
    ReportForm,
    SuspendForm,
)
from .models import Decision, Report
from .registry import reportable

AUDIT_PAGE = 50


def staff_only(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Staff pages do not exist for anyone else (404, also when logged out)."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if not (user.is_authenticated and user.is_staff and user.is_active):
            raise Http404
        try:
            return view(request, *args, **kwargs)
        except NotFound:
            raise Http404 from None

    return wrapped


def _back(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}):
        return target
    return default


# --- reporting --------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def report_view(request: AuthedRequest, kind: str, pk: int) -> HttpResponse:
    spec = reportable(kind)
    obj = spec.get(pk) if spec is not None else None
    if spec is None or obj is None or not spec.visible_to(obj, request.user):
        raise Http404
    form = ReportForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.report_create(
                user=request.user,
                kind=kind,
                object_id=pk,
                reason=form.cleaned_data["reason"],
                details=form.cleaned_data["details"],
            )
        except NotFound:
            raise Http404 from None
        except ApplicationError as exc:
            if exc.fields:
                form_errors_apply(form, exc)
            else:
                flash_error(request, exc)
                return redirect(_back(request, spec.link(obj) or "/"))
        else:
            messages.success(request, _("Thank you. Our team will look at it."))
            return redirect(_back(request, spec.link(obj) or "/"))
    context = {"form": form, "spec": spec, "title": spec.title(obj), "url": spec.link(obj)}
    return render(request, "moderation/report.html", context, status=422 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def decision_view(request: AuthedRequest, pk: int) -> HttpResponse:
    try:
        decision = selectors.decision_for_author(decision_id=pk, user=request.user)
    except NotFound:
        raise Http404 from None
    form = AppealForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.decision_appeal(
                user=request.user, decision_id=pk, text=form.cleaned_data["text"]
            )
        except NotFound:
            raise Http404 from None
        except ApplicationError as exc:
            flash_error(request, exc)
        else:
            messages.success(request, _("Your appeal is in. Staff will look again."))
        return redirect("moderation:decision", pk=pk)
    spec = reportable(decision.kind)
    context = {
        "decision": decision,
        "label": spec.label if spec else decision.kind,
        "form": form,
        "can_appeal": decision.author_id == request.user.pk
        and decision.active
        and decision.appealed_at is None,
    }
    return render(request, "moderation/decision.html", context)


# --- the staff queue ----------------------------------------------------------------------


@staff_only
@require_GET
def queue_view(request: AuthedRequest) -> HttpResponse:
    form = QueueFilterForm(request.GET or None)
    data: dict[str, Any] = {}
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
    status = data.get("status") or Report.Status.OPEN
    context: dict[str, Any] = {"form": form, "status": status, "reason_form": ReasonForm()}
    if status == "appeals":
        context["appeals"] = list(selectors.appeals_pending()[:100])
    else:
        context["items"] = selectors.report_queue(
            filters=selectors.QueueFilters(
                status=status,
                kind=data.get("kind") or "",
                reason=data.get("reason") or "",
                q=(data.get("q") or "").strip(),
            )
        )
    return render(request, "moderation/queue.html", context)


ACTIONS: dict[str, Callable[..., Any]] = {
    "dismiss": services.report_dismiss,
    "hide": services.content_hide,
    "take_down": services.content_take_down,
}
DONE = {
    "dismiss": gettext_lazy("Reports dismissed."),
    "hide": gettext_lazy("Hidden; the author is told why."),
    "take_down": gettext_lazy("Taken down; the money went back and the people involved are told."),
}


@staff_only
@require_POST
def content_action_view(request: AuthedRequest) -> HttpResponse:
    action = ACTIONS.get(request.POST.get("action", ""))
    kind = request.POST.get("kind", "")
    object_id = request.POST.get("object_id", "")
    if action is None or not object_id.isdigit():
        raise Http404
    try:
        action(
            staff=request.user,
            kind=kind,
            object_id=int(object_id),
            reason=request.POST.get("reason", ""),
        )
    except ApplicationError as exc:
        flash_error(request, exc)
    else:
        messages.success(request, str(DONE[request.POST["action"]]))
    return redirect(_back(request, reverse("moderation:queue")))


@staff_only
@require_POST
def appeal_decide_view(request: AuthedRequest, pk: int) -> HttpResponse:
    try:
        services.appeal_decide(
            staff=request.user,
            decision_id=pk,
            overturn=request.POST.get("decision") == "overturn",
            reason=request.POST.get("reason", ""),
        )
    except ApplicationError as exc:
        flash_error(request, exc)
    else:
        messages.success(request, _("Appeal decided; the author is told."))
    return redirect(reverse("moderation:queue") + "?status=appeals")


# --- people -------------------------------------------------------------------------------


@staff_only
@require_http_methods(["GET", "POST"])
def user_view(request: AuthedRequest, pk: int) -> HttpResponse:
    from trefpunt.accounts.models import User

    person = User.objects.select_related("profile").filter(pk=pk).first()
    if person is None:
        raise Http404
    if request.method == "POST":
        action = request.POST.get("action", "")
        form = SuspendForm(request.POST)
        reason = request.POST.get("reason", "")
        try:
            if action == "warn":
                services.user_warn(staff=request.user, user_id=pk, reason=reason)
            elif action in ("suspend", "ban"):
                days = form.cleaned_data.get("days") if form.is_valid() else None
                services.user_suspend(
                    staff=request.user, user_id=pk, reason=reason, days=days, ban=action == "ban"
                )
            elif action == "reinstate":
                services.user_reinstate(staff=request.user, user_id=pk, reason=reason)
            else:
                raise Http404
        except ApplicationError as exc:
            flash_error(request, exc)
        else:
            messages.success(request, _("Done; the person is told."))
        return redirect("moderation:user", pk=pk)
    context = {
        "person": person,
        "sanctions": list(selectors.sanctions_of(user_id=pk)),
        "reports": Report.objects.filter(author=person).order_by("-created_at")[:20],
        "decisions": Decision.objects.filter(author=person)[:20],
        "form": SuspendForm(),
    }
    return render(request, "moderation/user.html", context)


# --- audit log and console -----------------------------------------------------------------


@staff_only
@require_GET
def audit_view(request: AuthedRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET or None)
    data: dict[str, Any] = form.cleaned_data if form.is_bound and form.is_valid() else {}
    entries = selectors.audit_search(
        filters=selectors.AuditFilters(
            q=(data.get("q") or "").strip(), action=data.get("action") or ""
        )
    )
    page = Paginator(entries, AUDIT_PAGE).get_page(request.GET.get("page"))
    return render(request, "moderation/audit.html", {"form": form, "page": page})


@staff_only
@require_GET
def console_view(request: AuthedRequest) -> HttpResponse:
    return render(request, "moderation/console.html", {"figures": selectors.platform_figures()})
