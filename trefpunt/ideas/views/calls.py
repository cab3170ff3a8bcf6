"""Call pages: the list, the call page, the draft form, publish (with the sandbox deposit of
a shortfall), close, stages, invitations, the cover image, the feed and the dashboards."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.syndication.views import Feed
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from trefpunt.accounts.selectors import organisations_user_can_post_for
from trefpunt.core.exceptions import ApplicationError, NotFound, ValidationFailed
from trefpunt.core.forms import filters_for_phone, form_errors_apply, form_errors_text
from trefpunt.core.types import AuthedRequest
from trefpunt.core.web import flash_error, not_found_as_404, post_action
from trefpunt.ledger.funded import funding_quote

from .. import selectors, services
from ..forms import (
    CallFilterForm,
    CallForm,
    CloseForm,
    IdeaFilterForm,
    IdeaForm,
    InviteForm,
    StageForm,
)
from ..models import Idea, IdeaCall, Stage
from ..services.common import call_work
from .common import file_response

LIST_PAGE_SIZE = 12
IDEAS_PAGE_SIZE = 20


@require_GET
def call_list_view(request: HttpRequest) -> HttpResponse:
    form = CallFilterForm(request.GET or None)
    data: dict[str, Any] = form.cleaned_data if form.is_bound and form.is_valid() else {}
    filters = selectors.CallFilters(
        status=data.get("status") or "",
        tag=data.get("tag") or "",
        organisation=data.get("organisation") or "",
        q=(data.get("q") or "").strip(),
    )
    page = Paginator(
        selectors.call_list_for_user(user=request.user, filters=filters), LIST_PAGE_SIZE
    ).get_page(request.GET.get("page"))
    phone_form, active = filters_for_phone(form, request)
    return render(
        request,
        "ideas/list.html",
        {
            "form": form,
            "phone_form": phone_form,
            "active_filters": active,
            "page": page,
            "filters": filters,
        },
    )


def _ideas_page(request: HttpRequest, access: selectors.IdeaCallAccess, overview: Any) -> Any:
    form = IdeaFilterForm(
        request.GET or None,
        stages=[row.stage for row in overview.stages],
        tags=overview.tags,
    )
    data: dict[str, Any] = form.cleaned_data if form.is_bound and form.is_valid() else {}
    filters = selectors.IdeaFilters(
        sort=data.get("sort") or "votes", stage=data.get("stage"), tag=data.get("tag") or ""
    )
    ideas = selectors.idea_list_for_call(access=access, filters=filters)
    return form, Paginator(ideas, IDEAS_PAGE_SIZE).get_page(request.GET.get("page"))


def _detail_context(request: HttpRequest, access: selectors.IdeaCallAccess) -> dict[str, Any]:
    call = access.call
    overview = selectors.call_overview(call=call)
    filter_form, page = _ideas_page(request, access, overview)
    stages = [row.stage for row in overview.stages]
    return {
        "call": call,
        "access": access,
        "overview": overview,
        "stages": stages,
        "filter_form": filter_form,
        "page": page,
        "points_left": selectors.points_left(access=access),
        "following": services.is_following(user=access.user, call_id=call.pk),
        "rewards_paid": call.rewarded.count() if call.has_rewards else 0,
        "idea_form": IdeaForm(tags=overview.tags),
        "close_form": CloseForm(),
        "stage_form": StageForm(),
    }


@require_GET
@not_found_as_404
def call_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    access = selectors.call_get_for_user(call_id=pk, user=request.user)
    return render(request, "ideas/call.html", _detail_context(request, access))


# --- the draft ---------------------------------------------------------------------------


def _form_errors(form: CallForm, exc: ValidationFailed) -> None:
    for name, errors in exc.fields.items():
        target = {"organisation": "post_as"}.get(name, name)
        for error in errors:
            form.add_error(target if target in form.fields else None, error)
    if not exc.fields:
        form.add_error(None, exc.message)


@login_required
@require_http_methods(["GET", "POST"])
def call_create_view(request: AuthedRequest) -> HttpResponse:
    organisations = list(organisations_user_can_post_for(user=request.user))
    form = CallForm(request.POST or None, request.FILES or None, organisations=organisations)
    if request.method == "POST" and form.is_valid():
        try:
            call = services.call_create_draft(
                user=request.user, cover=form.cleaned_data.get("cover"), **form.service_fields()
            )
        except ValidationFailed as exc:
            _form_errors(form, exc)
        else:
            messages.success(
                request, _("Draft saved. Check it, then publish to open it for ideas.")
            )
            return redirect("ideas:call", pk=call.pk)
    return render(
        request,
        "ideas/form.html",
        {"form": form, "call": None},
        status=422 if form.errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
@not_found_as_404
def call_edit_view(request: AuthedRequest, pk: int) -> HttpResponse:
    call = selectors.call_get_for_manager(call_id=pk, user=request.user)
    stages = list(Stage.objects.filter(call=call))
    if call.status != IdeaCall.Status.DRAFT:
        return render(request, "ideas/form.html", _edit_context(call, None, stages))
    organisations = list(organisations_user_can_post_for(user=request.user))
    form = CallForm(
        request.POST or None,
        request.FILES or None,
        organisations=organisations,
        initial=CallForm.initial_for(call),
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.call_update_draft(
                call_id=pk,
                user=request.user,
                cover=form.cleaned_data.get("cover"),
                reward_stage_id=request.POST.get("reward_stage") or None,
                **form.service_fields(),
            )
        except ApplicationError as exc:
            if isinstance(exc, ValidationFailed):
                _form_errors(form, exc)
            else:
                form.add_error(None, exc.message)
        else:
            messages.success(request, _("Draft saved."))
            return redirect("ideas:call", pk=pk)
    return render(
        request,
        "ideas/form.html",
        _edit_context(call, form, stages),
        status=422 if form.errors else 200,
    )


def _edit_context(call: IdeaCall, form: CallForm | None, stages: list[Stage]) -> dict[str, Any]:
    return {
        "form": form,
        "call": call,
        "stages": stages,
        "stage_form": StageForm(),
        "invite_form": InviteForm(),
        "invitations": list(call.invitations.select_related("user__profile")),
    }


@login_required
@require_POST
@not_found_as_404
def call_stage_view(request: AuthedRequest, pk: int) -> HttpResponse:
    form = StageForm(request.POST)
    if form.is_valid():
        try:
            services.call_stage_save(
                call_id=pk,
                user=request.user,
                name=form.cleaned_data["name"],
                kind=form.cleaned_data["kind"],
                stage_id=form.cleaned_data.get("stage"),
            )
        except NotFound:
            raise
        except ApplicationError as exc:
            flash_error(request, exc)
        else:
            messages.success(request, _("Stages saved."))
    else:
        messages.error(request, " ".join(str(e) for errs in form.errors.values() for e in errs))
    return redirect(reverse("ideas:edit", kwargs={"pk": pk}) + "#stages")


@login_required
@require_POST
@not_found_as_404
def call_invite_view(request: AuthedRequest, pk: int) -> HttpResponse:
    form = InviteForm(request.POST)
    if form.is_valid():
        try:
            invitation = services.call_invite(
                call_id=pk, user=request.user, who=form.cleaned_data["who"]
            )
        except NotFound:
            raise
        except ApplicationError as exc:
            form_errors_apply(form, exc)
            flash_error(request, exc)
        else:
            messages.success(
                request, _("%(name)s is invited.") % {"name": invitation.user.profile.display_name}
            )
    else:
        selectors.call_get_for_manager(call_id=pk, user=request.user)
        messages.error(request, form_errors_text(form))
    return redirect(reverse("ideas:edit", kwargs={"pk": pk}) + "#invitations")


# --- publish, close ------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
@not_found_as_404
def call_publish_view(request: AuthedRequest, pk: int) -> HttpResponse:
    """The funding summary; publishes, or starts a deposit of exactly the shortfall and comes
    back here after the payment."""
    call = selectors.call_get_for_manager(call_id=pk, user=request.user)
    if request.method == "POST":
        try:
            if request.POST.get("action") == "deposit":
                deposit = services.call_deposit_shortfall(
                    call_id=pk, user=request.user, return_path=request.path
                )
                return redirect(deposit.checkout_url)
            services.call_publish(call_id=pk, user=request.user)
        except NotFound:
            raise
        except ApplicationError as exc:
            flash_error(request, exc)
            return redirect("ideas:publish", pk=pk)
        messages.success(request, _("Published. Your call is open for ideas."))
        return redirect("ideas:call", pk=pk)
    if call.status != IdeaCall.Status.DRAFT:
        return redirect("ideas:call", pk=pk)
    rewards, fee = services.call_funding_total(call)
    quote = funding_quote(work=call_work(call), total=rewards + fee)
    return render(
        request,
        "ideas/publish.html",
        {"call": call, "rewards": rewards, "fee": fee, "quote": quote},
    )


@login_required
@require_POST
@not_found_as_404
def call_close_view(request: AuthedRequest, pk: int) -> HttpResponse:
    form = CloseForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    call = selectors.call_get_for_manager(call_id=pk, user=request.user)
    return post_action(
        request,
        lambda: services.call_close(call_id=pk, user=request.user, reason=reason),
        _("The call is closed. Unspent rewards are back in the wallet.")
        if call.has_rewards
        else _("The call is closed."),
        reverse("ideas:call", kwargs={"pk": pk}),
    )


@login_required
@require_POST
def call_follow_view(request: AuthedRequest, pk: int) -> HttpResponse:
    follow = request.POST.get("follow") == "1"
    return post_action(
        request,
        lambda: services.follow_set(user=request.user, call_id=pk, follow=follow),
        _("You follow this call.") if follow else _("You no longer follow this call."),
        reverse("ideas:call", kwargs={"pk": pk}),
    )


@require_GET
@not_found_as_404
def call_cover_view(request: HttpRequest, pk: int) -> HttpResponseBase:
    access = selectors.call_get_for_user(call_id=pk, user=request.user)
    return file_response(access.call.cover_thumb, "cover.webp", as_attachment=False)


# --- feed -----------------------------------------------------------------------------------


class CallFeed(Feed):
    """The newest ideas of a public call (private calls have no feed: 404)."""

    def get_object(self, request: HttpRequest, pk: int) -> IdeaCall:
        try:
            access = selectors.call_get_for_user(call_id=pk, user=None)
        except NotFound:
            raise Http404 from None
        return access.call

    def title(self, obj: IdeaCall) -> str:
        return obj.title

    def link(self, obj: IdeaCall) -> str:
        return obj.get_absolute_url()

    def description(self, obj: IdeaCall) -> str:
        return obj.question

    def items(self, obj: IdeaCall) -> Any:
        return Idea.objects.filter(call=obj, status=Idea.Status.ACTIVE).order_by("-created_at")[:30]

    def item_title(self, item: Idea) -> str:
        return item.title

    def item_description(self, item: Idea) -> str:
        return item.description[:500]

    def item_pubdate(self, item: Idea) -> datetime:
        # Without it feed readers cannot tell a new idea from one they have seen.
        return item.created_at


call_feed_view = CallFeed()


# --- dashboards -----------------------------------------------------------------------------


@login_required
@require_GET
def client_dashboard_view(request: AuthedRequest) -> HttpResponse:
    """The calls the user runs, the one with most ideas waiting for a decision first, and
    those waiting ideas listed first."""
    calls = list(selectors.calls_managed_by(user=request.user)[:50])
    focus = next((c for c in calls if c.status != IdeaCall.Status.DRAFT), None)
    waiting = list(selectors.waiting_ideas(call=focus)[:30]) if focus else []
    return render(
        request,
        "ideas/dashboard_client.html",
        {"calls": calls, "focus": focus, "waiting": waiting},
    )


@login_required
@require_GET
def participant_dashboard_view(request: AuthedRequest) -> HttpResponse:
    votes = list(selectors.votes_of_user(user=request.user)[:50])
    spent: dict[int, int] = {}
    for vote in votes:
        spent[vote.call_id] = spent.get(vote.call_id, 0) + vote.points
    budgets = [
        (vote.call, vote.call.budget_points - spent[vote.call_id])
        for vote in {v.call_id: v for v in votes if v.call.is_budget}.values()
    ]
    return render(
        request,
        "ideas/dashboard_participant.html",
        {
            "ideas": list(selectors.ideas_of_author(user=request.user)[:50]),
            "votes": votes,
            "budgets": budgets,
            "followed": list(selectors.ideas_followed(user=request.user)[:50]),
        },
    )
