"""Entry pages: entering, the entry (revise, withdraw, report, portfolio), the handover,
the files, and staff's flag queue.

Files are streamed only through ``entry_file_view`` and friends, after the visibility rules
in ``selectors``; what the viewer may do comes from ``selectors.EntryAccess``.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from trefpunt.core.exceptions import ApplicationError, NotFound, ValidationFailed
from trefpunt.core.forms import form_errors_apply
from trefpunt.core.types import AuthedRequest
from trefpunt.core.web import flash_error, not_found_as_404

from .. import limits, selectors, services
from ..forms import EntryForm, FilesForm, ReasonForm
from ..models import Handover, HandoverFile
from .common import file_response
from .contests import detail_context

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
    context = detail_context(access)
    context["entry_form"] = form
    return render(request, "contests/detail.html", context, status=422)


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
    insider = access.can_see_original
    context: dict[str, Any] = {
        "entry": entry,
        "contest": access.contest.contest,
        "access": access,
        "versions": list(selectors.entry_versions(entry=entry)) if insider else [],
        "files": list(entry.current_version.files.all()) if entry.current_version else [],
        "flags": list(selectors.entry_flags(entry=entry)) if access.can_see_flags else [],
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
    access = selectors.handover_get_for_user(entry_id=pk, user=request.user)
    handover = access.handover
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
            messages.success(
                request,
                ngettext(
                    "Files delivered. The client has %(n)d day to confirm.",
                    "Files delivered. The client has %(n)d days to confirm.",
                    limits.AUTO_CONFIRM_DAYS,
                )
                % {"n": limits.AUTO_CONFIRM_DAYS},
            )
            return redirect("contests:handover", pk=pk)
    return render(
        request,
        "contests/handover.html",
        {
            "handover": handover,
            "entry": access.entry.entry,
            "contest": access.entry.contest.contest,
            "access": access,
            "form": form,
            "transfer": getattr(handover, "rights_transfer", None),
            "auto_confirm_at": handover.delivered_at + limits.AUTO_CONFIRM_AFTER
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
        return file_response(
            entry_file.file,
            entry_file.original_name,
            as_attachment=True,
            content_type=entry_file.content_type,
        )
    if not entry_file.is_image or variant not in {"thumb", "preview"}:
        raise Http404
    if variant == "thumb":
        source = entry_file.thumb if privileged else entry_file.thumb_public
        return file_response(source, f"{stem}-thumb.webp", as_attachment=False)
    if privileged and entry_file.preview_clean:
        return file_response(entry_file.preview_clean, f"{stem}-preview.webp", as_attachment=False)
    if privileged:
        # Files stored before clean previews existed: the clean thumbnail, never the
        # full-size original inline.
        return file_response(entry_file.thumb, f"{stem}-thumb.webp", as_attachment=False)
    return file_response(entry_file.preview, f"{stem}-preview.webp", as_attachment=False)


@login_required
@require_GET
@not_found_as_404
def handover_file_view(request: AuthedRequest, pk: int) -> HttpResponseBase:
    record = HandoverFile.objects.select_related("handover").filter(pk=pk).first()
    if record is None:
        raise Http404
    selectors.handover_get_for_user(entry_id=record.handover.entry_id, user=request.user)
    return file_response(
        record.file, record.original_name, as_attachment=True, content_type=record.content_type
    )


# --- staff ---------------------------------------------------------------------------------


def _staff_decide(request: AuthedRequest) -> None:
    decision = request.POST.get("decision", "")
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
        services.flag_dismiss(flag_id=int(request.POST.get("flag", "0")), staff=request.user)
        messages.success(request, _("Flag dismissed."))


@login_required
@require_http_methods(["GET", "POST"])
def staff_flags_view(request: AuthedRequest) -> HttpResponse:
    if not request.user.is_staff:
        raise Http404
    if request.method == "POST":
        try:
            _staff_decide(request)
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
