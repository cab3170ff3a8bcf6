"""Contest pages. Thin: parse the form, call one service or selector, render.

Every action is a plain POST that works without JavaScript and redirects back;
judging actions sent by htmx (``HX-Request``) get the re-rendered entry card
(``contests/judge.html#entry_card``) instead. Files are streamed only through
``entry_file_view`` and friends, after the visibility rules in ``selectors``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Case, Count, Value, When
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from trefpunt.accounts.selectors import organisations_user_can_post_for
from trefpunt.core.exceptions import ApplicationError, NotFound, ValidationFailed
from trefpunt.core.files import file_open
from trefpunt.core.forms import form_errors_apply
from trefpunt.core.money import split_bps
from trefpunt.core.types import AuthedRequest
from trefpunt.core.web import (
    flash_error,
    next_url,
    not_found_as_404,
    post_action,
    redirect_back,
)

from . import selectors, services
from .forms import (
    AttachmentForm,
    ContestFilterForm,
    ContestForm,
    EntryForm,
    FilesForm,
    FinalistRoundForm,
    InviteForm,
    JudgeFilterForm,
    ReasonForm,
)
from .models import Contest, ContestAttachment, Entry, Handover, HandoverFile

LIST_PAGE_SIZE = 12
JUDGE_PAGE_SIZE = 24
DETAIL_ENTRIES = 24


def _htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


# --- list, detail ---------------------------------------------------------------------------


@require_GET
def contest_list_view(request: HttpRequest) -> HttpResponse:
    form = ContestFilterForm(request.GET or None)
    # A wrong value in one filter (shown next to it) must not drop the others.
    data: dict[str, Any] = {}
    if form.is_bound:
        form.is_valid()
        data = form.cleaned_data
    filters = selectors.ContestFilters(
        category=data.get("category") or "",
        status=data.get("status") or "",
        prize_min=data["prize_min"] * 100 if data.get("prize_min") is not None else None,
        prize_max=data["prize_max"] * 100 if data.get("prize_max") is not None else None,
        ends_soon=bool(data.get("ends_soon")),
        q=(data.get("q") or "").strip(),
    )
    page = Paginator(selectors.contest_list_public(filters=filters), LIST_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    # The same filters once more for phones, folded away (ids prefixed to stay unique).
    phone_form = ContestFilterForm(request.GET or None, auto_id="phone-%s")
    if phone_form.is_bound:
        phone_form.is_valid()
    active = sum(1 for name in form.fields if request.GET.get(name))
    return render(
        request,
        "contests/list.html",
        {"form": form, "phone_form": phone_form, "active_filters": active, "page": page},
    )


def _detail_context(request: HttpRequest, access: selectors.ContestAccess) -> dict[str, Any]:
    contest = access.contest
    user = access.user
    # Winners first once the contest is decided; otherwise in order of submission.
    entries_qs = selectors.entry_list_for_viewer(access=access).order_by(
        Case(When(status=Entry.Status.WINNER, then=Value(0)), default=Value(1)), "number"
    )
    entries = list(entries_qs[:DETAIL_ENTRIES])
    counts = dict(contest.entries.values_list("status").annotate(n=Count("pk")).order_by())
    entry_total = sum(n for status, n in counts.items() if status != Entry.Status.WITHDRAWN)
    mine = [e for e in entries if user is not None and e.entrant_id == user.pk]
    can_enter = (
        user is not None
        and not access.can_manage
        and contest.status == Contest.Status.OPEN
        and contest.entry_deadline > timezone.now()
    )
    my_count = (
        contest.entries.filter(entrant=user).exclude(status=Entry.Status.WITHDRAWN).count()
        if can_enter
        else 0
    )
    return {
        "my_count": my_count,
        "limit_reached": my_count >= contest.max_entries_per_entrant,
        "others_shown": len(mine) < len(entries),
        "contest": contest,
        "access": access,
        "prizes": list(contest.prizes.all()),
        "prize_total": sum(p.amount for p in contest.prizes.all()),
        "attachments": list(contest.attachments.all()),
        "entries": entries,
        "entries_more": entry_total > len(entries) and access.sees_all_entries,
        "entry_total": entry_total,
        "finalist_count": counts.get(Entry.Status.FINALIST, 0),
        "my_entries": mine,
        "can_enter": can_enter,
        "show_entries": not contest.is_blind
        or access.sees_all_entries
        or contest.status in {Contest.Status.AWARDED, Contest.Status.COMPLETED},
        "now": timezone.now(),
        "handovers": (
            list(Handover.objects.filter(contest=contest).select_related("entry"))
            if access.can_manage
            and contest.status in {Contest.Status.AWARDED, Contest.Status.COMPLETED}
            else []
        ),
    }


@require_GET
@not_found_as_404
def contest_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    access = selectors.contest_get_for_user(contest_id=pk, user=request.user)
    context = _detail_context(request, access)
    context["entry_form"] = EntryForm()
    return render(request, "contests/detail.html", context)


# --- drafts ---------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def contest_create_view(request: AuthedRequest) -> HttpResponse:
    organisations = list(organisations_user_can_post_for(user=request.user))
    form = ContestForm(request.POST or None, organisations=organisations)
    if request.method == "POST" and form.is_valid():
        try:
            contest = services.contest_create_draft(user=request.user, **form.service_fields())
        except ValidationFailed as exc:
            _draft_errors_apply(form, exc)
        else:
            messages.success(
                request, _("Draft saved. Check the brief, then publish to open it for entries.")
            )
            return redirect("contests:detail", pk=contest.pk)
    elif request.method == "POST":
        _draft_errors_complete(form, request.user)
    return render(
        request,
        "contests/form.html",
        {"form": form, "contest": None},
        status=422 if form.errors else 200,
    )


def _draft_errors_apply(form: ContestForm, exc: ValidationFailed) -> None:
    form.service_errors_add(exc)
    if not form.errors:
        form.add_error(None, exc.message)


def _draft_errors_complete(form: ContestForm, user: Any) -> None:
    """The form could not parse some fields: let the service judge the others now, so the
    client sees every problem at once instead of one round at a time."""
    try:
        services.contest_draft_check(user=user, **form.service_fields())
    except ValidationFailed as exc:
        form.service_errors_add(exc)


@login_required
@require_http_methods(["GET", "POST"])
@not_found_as_404
def contest_edit_view(request: AuthedRequest, pk: int) -> HttpResponse:
    """The draft's brief, reference files and invitations; once open, only the reference
    files and the invitations (a private contest can invite more people while it is open)."""
    contest = selectors.contest_get_for_manager(contest_id=pk, user=request.user)
    if contest.status not in {Contest.Status.DRAFT, Contest.Status.OPEN}:
        messages.error(request, _("Only a draft can be edited."))
        return redirect("contests:detail", pk=pk)
    if contest.status != Contest.Status.DRAFT:
        if request.method == "POST":
            messages.error(request, _("The brief can no longer change: the contest is open."))
        return _edit_page(request, contest)
    organisations = list(organisations_user_can_post_for(user=request.user))
    form = ContestForm(
        request.POST or None,
        organisations=organisations,
        initial=ContestForm.initial_for(contest),
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.contest_update_draft(contest_id=pk, user=request.user, **form.service_fields())
        except ValidationFailed as exc:
            _draft_errors_apply(form, exc)
        else:
            messages.success(request, _("Draft saved."))
            return redirect("contests:detail", pk=pk)
    elif request.method == "POST":
        _draft_errors_complete(form, request.user)
    return _edit_page(request, contest, form=form)


def _edit_page(
    request: AuthedRequest,
    contest: Contest,
    *,
    form: ContestForm | None = None,
    attachment_form: AttachmentForm | None = None,
    invite_form: InviteForm | None = None,
) -> HttpResponse:
    failed = any(f is not None and f.errors for f in (form, attachment_form, invite_form))
    return render(
        request,
        "contests/form.html",
        {
            "form": form,
            "contest": contest,
            "attachments": list(contest.attachments.all()),
            "attachment_form": attachment_form or AttachmentForm(),
            "invite_form": invite_form or InviteForm(),
            "invitations": list(contest.invitations.select_related("user__profile")),
        },
        status=422 if failed else 200,
    )


@login_required
@require_POST
@not_found_as_404
def attachment_add_view(request: AuthedRequest, pk: int) -> HttpResponse:
    contest = selectors.contest_get_for_manager(contest_id=pk, user=request.user)
    form = AttachmentForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.contest_attachment_add(
                contest_id=pk, user=request.user, upload=form.cleaned_data["file"]
            )
        except ApplicationError as exc:
            form_errors_apply(form, exc)
        else:
            messages.success(request, _("Reference file added."))
            return redirect(reverse("contests:edit", kwargs={"pk": pk}) + "#files")
    return _edit_page(request, contest, attachment_form=form)


@login_required
@require_POST
@not_found_as_404
def attachment_remove_view(request: AuthedRequest, pk: int, aid: int) -> HttpResponse:
    try:
        services.contest_attachment_remove(contest_id=pk, user=request.user, attachment_id=aid)
        messages.success(request, _("Reference file removed."))
    except ApplicationError as exc:
        if isinstance(exc, NotFound):
            raise
        messages.error(request, exc.message)
    return redirect(reverse("contests:edit", kwargs={"pk": pk}) + "#files")


@require_GET
@not_found_as_404
def attachment_download_view(request: HttpRequest, pk: int, aid: int) -> HttpResponseBase:
    access = selectors.contest_get_for_user(contest_id=pk, user=request.user)
    attachment = ContestAttachment.objects.filter(contest=access.contest, pk=aid).first()
    if attachment is None:
        raise Http404
    return _file_response(attachment.file, attachment.original_name, as_attachment=True)


@login_required
@require_POST
@not_found_as_404
def contest_invite_view(request: AuthedRequest, pk: int) -> HttpResponse:
    contest = selectors.contest_get_for_manager(contest_id=pk, user=request.user)
    form = InviteForm(request.POST)
    if form.is_valid():
        try:
            invitation = services.contest_invite(
                contest_id=pk, user=request.user, who=form.cleaned_data["who"]
            )
        except ApplicationError as exc:
            form_errors_apply(form, exc)
        else:
            messages.success(
                request,
                _("%(name)s is invited.") % {"name": invitation.user.profile.display_name},
            )
            return redirect(reverse("contests:edit", kwargs={"pk": pk}) + "#invitations")
    return _edit_page(request, contest, invite_form=form)


# --- publish, cancel, close -------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
@not_found_as_404
def contest_publish_view(request: AuthedRequest, pk: int) -> HttpResponse:
    """The funding summary; publishes, or starts a deposit of exactly the shortfall and comes
    back here after the payment."""
    contest = selectors.contest_get_for_manager(contest_id=pk, user=request.user)
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "deposit":
                deposit = services.contest_deposit_shortfall(
                    contest_id=pk, user=request.user, return_path=request.path
                )
                return redirect(deposit.checkout_url)
            services.contest_publish(contest_id=pk, user=request.user)
        except ApplicationError as exc:
            if isinstance(exc, NotFound):
                raise
            flash_error(request, exc)
            return redirect("contests:publish", pk=pk)
        messages.success(request, _("Published. Your contest is open for entries."))
        return redirect("contests:detail", pk=pk)
    if contest.status != Contest.Status.DRAFT:
        return redirect("contests:detail", pk=pk)
    funding = selectors.contest_funding(contest=contest)
    return render(
        request,
        "contests/publish.html",
        {"contest": contest, "funding": funding, "prizes": list(contest.prizes.all())},
    )


def _simple_action(
    request: AuthedRequest, pk: int, action: Callable[[], Any], success: str
) -> HttpResponseRedirect:
    return post_action(request, action, success, reverse("contests:detail", kwargs={"pk": pk}))


@login_required
@require_POST
def contest_cancel_view(request: AuthedRequest, pk: int) -> HttpResponse:
    return _simple_action(
        request,
        pk,
        lambda: services.contest_cancel(contest_id=pk, user=request.user),
        _("The contest is cancelled; the money in escrow is back in the wallet."),
    )


@login_required
@require_POST
def contest_close_view(request: AuthedRequest, pk: int) -> HttpResponse:
    return _simple_action(
        request,
        pk,
        lambda: services.contest_close_entries(contest_id=pk, user=request.user),
        _("Entries are closed. Time to judge."),
    )


@login_required
@require_POST
def finalist_round_view(request: AuthedRequest, pk: int) -> HttpResponse:
    form = FinalistRoundForm(request.POST)
    if form.is_valid():
        try:
            services.contest_finalist_round_open(
                contest_id=pk, user=request.user, deadline=form.cleaned_data["deadline"]
            )
        except NotFound:
            raise Http404 from None
        except ApplicationError as exc:
            form_errors_apply(form, exc)
        else:
            messages.success(request, _("Finalist round started; the finalists were told."))
            return redirect_back(request, reverse("contests:judge", kwargs={"pk": pk}))
    return _judge_page(request, pk, finalist_round_form=form)


# --- entering -----------------------------------------------------------------------------------


@login_required
@require_POST
@not_found_as_404
def entry_create_view(request: AuthedRequest, pk: int) -> HttpResponse:
    access = selectors.contest_get_for_user(contest_id=pk, user=request.user)
    form = EntryForm(request.POST, request.FILES)
    if form.is_valid():
        data = form.cleaned_data
        try:
            entry = services.entry_submit(
                contest_id=pk,
                user=request.user,
                title=data["title"],
                description=data.get("description", ""),
                files=data.get("files") or [],
                originality_declared=bool(data.get("originality_declared")),
                nda_accepted=bool(data.get("nda_accepted")),
            )
        except ValidationFailed as exc:
            form_errors_apply(form, exc)
        except NotFound:
            raise
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Your entry #%(n)d is in.") % {"n": entry.number})
            return redirect("contests:entry", pk=entry.pk)
    context = _detail_context(request, access)
    context["entry_form"] = form
    return render(request, "contests/detail.html", context, status=422)


# --- judging ------------------------------------------------------------------------------------


def _judge_filters(form: JudgeFilterForm) -> selectors.EntryFilters:
    if not form.is_valid():
        return selectors.EntryFilters()
    show = form.cleaned_data.get("show") or ""
    return selectors.EntryFilters(
        unrated=show == "unrated",
        finalists=show == "finalists",
        flagged=show == "flagged",
        status=Entry.Status.DECLINED if show == "declined" else "",
        rated_min=form.cleaned_data.get("rated_min"),
    )


@login_required
@require_GET
@not_found_as_404
def judge_view(request: AuthedRequest, pk: int) -> HttpResponse:
    return _judge_page(request, pk)


def _judge_page(
    request: AuthedRequest, pk: int, finalist_round_form: FinalistRoundForm | None = None
) -> HttpResponse:
    """The judging grid; with a finalist round form that failed, its errors show next to its
    field (422)."""
    try:
        contest = selectors.contest_get_for_manager(contest_id=pk, user=request.user)
    except NotFound:
        raise Http404 from None
    access = selectors.contest_access(contest, request.user)
    form = JudgeFilterForm(request.GET or None)
    entries = selectors.entry_list_for_viewer(access=access, filters=_judge_filters(form))
    page = Paginator(entries, JUDGE_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "contests/judge.html",
        {
            "contest": contest,
            "form": form,
            "page": page,
            "judging_open": contest.status in services.JUDGING_STATES,
            "finalist_round_form": finalist_round_form or FinalistRoundForm(),
            "next": reverse("contests:judge", kwargs={"pk": pk})
            if finalist_round_form is not None
            else request.get_full_path(),
        },
        status=422 if finalist_round_form is not None and finalist_round_form.errors else 200,
    )


_JUDGE_FIELDS = ("note", "feedback", "reason", "reason_code")


def _entry_card(
    request: AuthedRequest,
    entry_id: int,
    *,
    error: str = "",
    errors: dict[str, list[str]] | None = None,
    open_form: str = "",
    full_page: bool = False,
) -> HttpResponse:
    """The judging card of one entry, with the errors of the action just tried next to its
    fields and the text the client typed kept. ``full_page`` wraps it in a page (a plain
    POST that failed: without JavaScript there is no card to swap)."""
    try:
        access = selectors.entry_get_for_user(entry_id=entry_id, user=request.user)
        entry = selectors.entry_list_for_viewer(access=access.contest).get(pk=entry_id)
    except (NotFound, Entry.DoesNotExist):
        # Withdrawn while the grid was open: managers no longer see it.
        gone = Entry.objects.select_related("contest").filter(pk=entry_id).first()
        if gone is None or not selectors.contest_can_manage(gone.contest, request.user):
            raise Http404 from None
        return render(request, "contests/judge.html#entry_gone", {"entry_id": entry_id})
    contest = access.contest.contest
    values = {name: request.POST[name] for name in _JUDGE_FIELDS if name in request.POST}
    context = {
        "entry": entry,
        "contest": contest,
        "judging_open": contest.status in services.JUDGING_STATES,
        "next": next_url(request),
        "card_error": error,
        "errors": errors or {},
        "values": values if (error or errors) else {},
        "open_form": open_form,
    }
    if full_page:
        return render(request, "contests/judge_entry.html", context, status=422)
    return render(request, "contests/judge.html#entry_card", context)


def _judge_action(
    request: AuthedRequest,
    pk: int,
    action: Callable[[], Any],
    form: str = "",
    success: Callable[[Any], str] | None = None,
) -> HttpResponse:
    """Run a judging action; answer htmx with the card, a plain POST with a redirect back to
    the card (and a message saying what happened), or, when a field was wrong, with a page
    showing the card and the error next to the field."""
    error = ""
    errors: dict[str, list[str]] = {}
    result: Any = None
    try:
        result = action()
    except NotFound:
        raise Http404 from None
    except ValidationFailed as exc:
        errors = dict(exc.fields)
        if not errors:
            error = exc.message
    except ApplicationError as exc:
        error = exc.message
    if _htmx(request):
        return _entry_card(
            request, pk, error=error, errors=errors, open_form=form if errors else ""
        )
    if errors:
        return _entry_card(request, pk, errors=errors, open_form=form, full_page=True)
    if error:
        messages.error(request, error)
    elif success is not None:
        messages.success(request, success(result))
    contest_id = Entry.objects.filter(pk=pk).values_list("contest_id", flat=True).first()
    back = redirect_back(request, reverse("contests:judge", kwargs={"pk": contest_id or 0}))
    back["Location"] += f"#entry-{pk}"
    return back


@login_required
@require_POST
def entry_rate_view(request: AuthedRequest, pk: int) -> HttpResponse:
    post = request.POST

    def act() -> Entry:
        changes: dict[str, Any] = {}
        if "rating" in post:
            raw = post["rating"].strip()
            if raw in {"", "0", "clear"}:
                changes["rating"] = None
            else:
                try:
                    changes["rating"] = int(raw)
                except ValueError:
                    raise ValidationFailed(
                        fields={"rating": _("Rate from 1 to 5 stars.")}
                    ) from None
        if "note" in post:
            changes["note"] = post["note"]
        if "feedback" in post:
            changes["feedback"] = post["feedback"]
        return services.entry_rate(entry_id=pk, user=request.user, **changes)

    return _judge_action(
        request,
        pk,
        act,
        form="notes" if "rating" not in post else "",
        success=lambda entry: _("Entry #%(n)d saved.") % {"n": entry.number},
    )


@login_required
@require_POST
def entry_finalist_view(request: AuthedRequest, pk: int) -> HttpResponse:
    finalist = request.POST.get("finalist", "1") not in {"0", "false", ""}
    return _judge_action(
        request,
        pk,
        lambda: services.entry_finalist_set(entry_id=pk, user=request.user, finalist=finalist),
        success=lambda entry: (
            (
                _("Entry #%(n)d is a finalist.")
                if finalist
                else _("Entry #%(n)d is no longer a finalist.")
            )
            % {"n": entry.number}
        ),
    )


@login_required
@require_POST
def entry_decline_view(request: AuthedRequest, pk: int) -> HttpResponse:
    return _judge_action(
        request,
        pk,
        lambda: services.entry_decline(
            entry_id=pk,
            user=request.user,
            reason=request.POST.get("reason", ""),
            reason_code=request.POST.get("reason_code", Entry.DeclineCode.FIT),
        ),
        form="decline",
        success=lambda entry: (
            _("Entry #%(n)d declined; the entrant is told your reason.") % {"n": entry.number}
        ),
    )


@login_required
@require_http_methods(["GET", "POST"])
@not_found_as_404
def contest_award_view(request: AuthedRequest, pk: int) -> HttpResponse:
    contest = selectors.contest_get_for_manager(contest_id=pk, user=request.user)
    access = selectors.contest_access(contest, request.user)
    prizes = list(contest.prizes.all())
    candidates = list(
        selectors.entry_list_for_viewer(access=access).filter(status__in=selectors.ACTIVE_ENTRY)
    )
    candidates.sort(key=lambda e: (-(e.rating or 0), e.status != Entry.Status.FINALIST, e.number))
    errors: dict[str, list[str]] = {}
    chosen: dict[int, int] = {}
    if request.method == "POST":
        for prize in prizes:
            raw = request.POST.get(f"prize_{prize.position}", "")
            if raw.isdigit():
                chosen[prize.position] = int(raw)
        try:
            services.contest_award(contest_id=pk, user=request.user, awards=chosen)
        except NotFound:
            raise
        except ValidationFailed as exc:
            errors = exc.fields or {"__all__": [exc.message]}
        except ApplicationError as exc:
            errors = {"__all__": [exc.message]}
        else:
            messages.success(
                request, _("Prizes awarded and paid. The winners can now hand over the files.")
            )
            return redirect("contests:detail", pk=pk)
    return render(
        request,
        "contests/award.html",
        {
            "contest": contest,
            "prizes": [
                {
                    "prize": p,
                    "net": p.amount - split_bps(p.amount, contest.crowd_fee_bps),
                    "field": f"prize_{p.position}",
                    "chosen": chosen.get(p.position),
                    "errors": errors.get(f"prize_{p.position}", []),
                }
                for p in prizes
            ],
            "candidates": candidates,
            "finalist_count": sum(1 for e in candidates if e.status == Entry.Status.FINALIST),
            "prizes_left_over": len(prizes) > len(candidates),
            "errors": errors.get("__all__", []) + errors.get("awards", []),
            "can_award": contest.status == Contest.Status.JUDGING,
        },
        status=422 if errors else 200,
    )


# --- one entry ----------------------------------------------------------------------------------


@require_GET
@not_found_as_404
def entry_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _entry_page(request, pk)


def _entry_page(
    request: HttpRequest,
    pk: int,
    *,
    revise_form: FilesForm | None = None,
    report_form: ReasonForm | None = None,
) -> HttpResponse:
    """The entry page; with a bound form that failed, that form shows its errors next to its
    fields (422)."""
    access = selectors.entry_get_for_user(entry_id=pk, user=request.user)
    entry = access.entry
    contest = access.contest.contest
    now = timezone.now()
    insider = access.can_see_original
    context: dict[str, Any] = {
        "entry": entry,
        "contest": contest,
        "access": access,
        "versions": list(selectors.entry_versions(entry=entry)) if insider else [],
        "files": list(entry.current_version.files.all()) if entry.current_version else [],
        "flags": list(selectors.entry_flags(entry=entry))
        if access.contest.sees_all_entries
        else [],
        "can_withdraw": access.is_entrant
        and entry.is_active
        and contest.status == Contest.Status.OPEN
        and contest.entry_deadline > now,
        "can_revise": access.is_entrant and services.entry_revision_allowed(contest, entry, now),
        "can_report": request.user.is_authenticated
        and not access.is_entrant
        and not access.contest.can_manage,
        "can_portfolio": access.is_entrant
        and not contest.is_private
        and contest.status in {Contest.Status.AWARDED, Contest.Status.COMPLETED}
        and entry.status != Entry.Status.WITHDRAWN,
        "handover": Handover.objects.filter(entry=entry).first() if insider else None,
        "revise_form": revise_form or FilesForm(),
        "report_form": report_form or ReasonForm(),
    }
    failed = (revise_form is not None and revise_form.errors) or (
        report_form is not None and report_form.errors
    )
    return render(request, "contests/entry.html", context, status=422 if failed else 200)


@login_required
@require_POST
def entry_withdraw_view(request: AuthedRequest, pk: int) -> HttpResponse:
    try:
        entry = services.entry_withdraw(entry_id=pk, user=request.user)
    except NotFound:
        raise Http404 from None
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Entry #%(n)d is withdrawn.") % {"n": entry.number})
    return redirect("contests:entry", pk=pk)


@login_required
@require_POST
def entry_revise_view(request: AuthedRequest, pk: int) -> HttpResponse:
    form = FilesForm(request.POST, request.FILES)
    form.is_valid()
    try:
        version = services.entry_revise(
            entry_id=pk,
            user=request.user,
            files=form.cleaned_data.get("files") or [],
            note=form.cleaned_data.get("note", ""),
        )
    except NotFound:
        raise Http404 from None
    except ValidationFailed as exc:
        form_errors_apply(form, exc)
        return _entry_page(request, pk, revise_form=form)
    except ApplicationError as exc:
        flash_error(request, exc)
    else:
        messages.success(request, _("Version %(n)d is in.") % {"n": version.number})
    return redirect("contests:entry", pk=pk)


@login_required
@require_POST
def entry_report_view(request: AuthedRequest, pk: int) -> HttpResponse:
    form = ReasonForm(request.POST)
    try:
        services.entry_report(entry_id=pk, user=request.user, reason=request.POST.get("reason", ""))
    except NotFound:
        raise Http404 from None
    except ValidationFailed as exc:
        form.is_valid()
        form.errors.clear()
        form_errors_apply(form, exc)
        return _entry_page(request, pk, report_form=form)
    except ApplicationError as exc:
        flash_error(request, exc)
    else:
        messages.success(request, _("Thank you. The client and our staff will look at it."))
    return redirect("contests:entry", pk=pk)


@login_required
@require_POST
def entry_portfolio_view(request: AuthedRequest, pk: int) -> HttpResponse:
    try:
        services.entry_portfolio_add(entry_id=pk, user=request.user)
    except NotFound:
        raise Http404 from None
    except ApplicationError as exc:
        flash_error(request, exc)
    else:
        messages.success(request, _("Added to your portfolio."))
    return redirect("contests:entry", pk=pk)


# --- handover -------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
@not_found_as_404
def handover_view(request: AuthedRequest, pk: int) -> HttpResponse:
    handover, access = selectors.handover_get_for_user(entry_id=pk, user=request.user)
    form = FilesForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        form.is_valid()
        try:
            services.handover_deliver(
                entry_id=pk,
                user=request.user,
                files=form.cleaned_data.get("files") or [],
                note=form.cleaned_data.get("note", ""),
            )
        except ValidationFailed as exc:
            form_errors_apply(form, exc)
        except NotFound:
            raise
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Files delivered. The client has 7 days to confirm."))
            return redirect("contests:handover", pk=pk)
    return render(
        request,
        "contests/handover.html",
        {
            "handover": handover,
            "entry": access.entry,
            "contest": access.contest.contest,
            "access": access,
            "form": form,
            "transfer": getattr(handover, "rights_transfer", None),
            "auto_confirm_at": handover.delivered_at + services.AUTO_CONFIRM_AFTER
            if handover.delivered_at
            else None,
            "agreement": services.RIGHTS_AGREEMENT_TEXT,
        },
    )


@login_required
@require_POST
def handover_confirm_view(request: AuthedRequest, pk: int) -> HttpResponse:
    try:
        services.handover_confirm(entry_id=pk, user=request.user)
    except NotFound:
        raise Http404 from None
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Receipt confirmed; the rights transfer is recorded."))
    return redirect("contests:handover", pk=pk)


# --- files --------------------------------------------------------------------------------------


def _file_response(
    field_file: Any, filename: str, *, as_attachment: bool, content_type: str | None = None
) -> FileResponse:
    try:
        handle = file_open(field_file)
    except (FileNotFoundError, ValueError):
        raise Http404 from None
    response = FileResponse(
        handle, as_attachment=as_attachment, filename=filename, content_type=content_type
    )
    # The same URL answers the watermarked or the clean image depending on who asks: never
    # let a cache hand one viewer's answer to another (or to the same browser after login).
    response["Cache-Control"] = "private, max-age=600"
    patch_vary_headers(response, ["Cookie"])
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_GET
@not_found_as_404
def entry_file_view(request: HttpRequest, pk: int, variant: str) -> HttpResponseBase:
    """One file of an entry. ``original`` (always a download, up to the upload limit) only
    for the entrant, the client and staff; ``thumb`` and ``preview`` (shown inline, at most
    480 and 1200 pixels) give them a clean downscaled image and everyone else who may see
    the entry the watermarked one. Anything else: 404."""
    entry_file, access = selectors.entry_file_get_for_user(file_id=pk, user=request.user)
    privileged = access.can_see_original
    stem = entry_file.original_name.rsplit(".", 1)[0] or "file"
    if variant == "original":
        if not privileged:
            raise Http404
        return _file_response(
            entry_file.file,
            entry_file.original_name,
            as_attachment=True,
            content_type=entry_file.content_type,
        )
    if not entry_file.is_image or variant not in {"thumb", "preview"}:
        raise Http404
    if variant == "thumb":
        source = entry_file.thumb if privileged else entry_file.thumb_public
        return _file_response(source, f"{stem}-thumb.webp", as_attachment=False)
    if privileged and entry_file.preview_clean:
        return _file_response(entry_file.preview_clean, f"{stem}-preview.webp", as_attachment=False)
    if privileged:
        # Files stored before clean previews existed: the clean thumbnail, never the
        # full-size original inline.
        return _file_response(entry_file.thumb, f"{stem}-thumb.webp", as_attachment=False)
    return _file_response(entry_file.preview, f"{stem}-preview.webp", as_attachment=False)


@login_required
@require_GET
@not_found_as_404
def handover_file_view(request: AuthedRequest, pk: int) -> HttpResponseBase:
    record = HandoverFile.objects.select_related("handover").filter(pk=pk).first()
    if record is None:
        raise Http404
    selectors.handover_get_for_user(entry_id=record.handover.entry_id, user=request.user)
    return _file_response(
        record.file, record.original_name, as_attachment=True, content_type=record.content_type
    )


# --- dashboards and staff ----------------------------------------------------------------------


@login_required
@require_GET
def client_dashboard_view(request: AuthedRequest) -> HttpResponse:
    contests = selectors.client_dashboard(user=request.user)
    return render(request, "contests/dashboard_client.html", {"contests": contests})


@login_required
@require_GET
def entrant_dashboard_view(request: AuthedRequest) -> HttpResponse:
    return render(
        request,
        "contests/dashboard_entrant.html",
        {"dash": selectors.entrant_dashboard(user=request.user)},
    )


@login_required
@require_http_methods(["GET", "POST"])
def staff_flags_view(request: AuthedRequest) -> HttpResponse:
    if not request.user.is_staff:
        raise Http404
    if request.method == "POST":
        decision = request.POST.get("decision", "")
        try:
            if decision in {"uphold", "overturn"}:
                services.entry_decline_review(
                    entry_id=int(request.POST.get("entry", "0")),
                    staff=request.user,
                    uphold=decision == "uphold",
                )
                messages.success(
                    request,
                    _("Decline upheld: the entry no longer shares in the guarantee.")
                    if decision == "uphold"
                    else _("Decline overturned: the entry keeps its share in the guarantee."),
                )
            else:
                services.flag_dismiss(
                    flag_id=int(request.POST.get("flag", "0")), staff=request.user
                )
                messages.success(request, _("Flag dismissed."))
        except (NotFound, ValueError):
            messages.error(request, _("Not found; someone may have handled it already."))
        except ApplicationError as exc:
            messages.error(request, exc.message)
        return redirect("contests:staff_flags")
    flags = selectors.flag_list_for_staff().filter(dismissed_at__isnull=True)
    page = Paginator(flags, 30).get_page(request.GET.get("page"))
    return render(
        request,
        "contests/staff_flags.html",
        {"page": page, "declines": list(selectors.declines_pending_review()[:100])},
    )
