"""Pages of conversations: the inbox, a thread (new messages appear without reloading, by
htmx polling; without JavaScript the page works with plain reloads), starting a thread on a
piece of work, editing, files, and the staff queue of held messages."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from trefpunt.core.exceptions import ApplicationError, ValidationFailed
from trefpunt.core.types import AuthedRequest
from trefpunt.core.web import file_response, flash_error, not_found_as_404

from . import selectors, services
from .models import Message
from .selectors import ThreadAccess


@login_required
def inbox_view(request: AuthedRequest) -> HttpResponse:
    rows = selectors.inbox_for_user(user=request.user)
    return render(request, "community/inbox.html", {"rows": rows})


def _rows(access: ThreadAccess, items: list[Message], receipts: bool) -> list[tuple]:
    """Each message with whether the viewer may still edit it and who read up to it."""
    now = timezone.now()
    read_by = selectors.thread_read_by(access=access) if receipts else {}
    return [(m, access.can_edit(m, now), read_by.get(m.number, [])) for m in items]


def _thread_context(
    access: ThreadAccess, errors: dict[str, list[str]] | None = None, before: str = ""
) -> dict[str, Any]:
    """The latest page of messages, or with ``before`` (a message number) the page before
    it; an earlier page does not poll for new messages."""
    earlier = int(before) if before.isdigit() else None
    items = selectors.thread_messages(access=access, before=earlier)
    return {
        "access": access,
        "items": _rows(access, items, receipts=True),
        "last": items[-1].number if items else 0,
        "first": items[0].number if items else 0,
        "paged_back": earlier is not None,
        "errors": errors or {},
    }


@require_http_methods(["GET", "POST"])
@not_found_as_404
def thread_view(request: HttpRequest, pk: int) -> HttpResponse:
    """GET shows the thread and marks it read; POST adds a message (the form, with or without
    htmx). A public thread (Q&A) can be read without logging in."""
    access = selectors.thread_get_for_user(thread_id=pk, user=request.user)
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        if not access.can_post:
            raise Http404
        try:
            services.message_post(
                thread_id=pk,
                user=request.user,  # type: ignore[arg-type]
                body=request.POST.get("body", ""),
                files=request.FILES.getlist("files"),
            )
        except ValidationFailed as exc:
            errors = exc.fields
        except ApplicationError as exc:
            flash_error(request, exc)
        else:
            return redirect("community:thread", pk=pk)
        access = selectors.thread_get_for_user(thread_id=pk, user=request.user)
    services.thread_read(access=access)
    return render(
        request,
        "community/thread.html",
        _thread_context(access, errors, before=request.GET.get("before", "")),
        status=422 if errors else 200,
    )


@require_GET
@not_found_as_404
def thread_since_view(request: HttpRequest, pk: int, after: int) -> HttpResponse:
    """The htmx poll: messages after number ``after`` and a new poller, marks them read."""
    access = selectors.thread_get_for_user(thread_id=pk, user=request.user)
    items = selectors.thread_messages(access=access, after=after)
    services.thread_read(access=access)
    return render(
        request,
        "community/thread.html#since",
        {
            "access": access,
            "items": _rows(access, items, receipts=False),
            "last": items[-1].number if items else after,
        },
    )


@login_required
@require_POST
@not_found_as_404
def thread_start_view(request: AuthedRequest) -> HttpResponseRedirect:
    """Open (or start) the conversation on a piece of work: the work's page posts its
    subject, id and key here."""
    try:
        subject_id = int(request.POST.get("subject_id", ""))
    except ValueError:
        raise Http404 from None
    thread = services.thread_open(
        user=request.user,
        subject=request.POST.get("subject", ""),
        subject_id=subject_id,
        key=request.POST.get("key", ""),
    )
    return redirect("community:thread", pk=thread.pk)


@login_required
@require_POST
@not_found_as_404
def message_edit_view(request: AuthedRequest, pk: int) -> HttpResponseRedirect:
    try:
        message = services.message_edit(
            message_id=pk, user=request.user, body=request.POST.get("body", "")
        )
    except ApplicationError as exc:
        flash_error(request, exc)
        thread_id = request.POST.get("thread", "")
        return (
            redirect("community:thread", pk=int(thread_id))
            if thread_id.isdigit()
            else redirect("community:inbox")
        )
    return redirect(f"/messages/{message.thread_id}/#m{message.number}")


@require_GET
@not_found_as_404
def attachment_view(request: HttpRequest, pk: int) -> HttpResponseBase:
    attachment = selectors.attachment_get_for_user(attachment_id=pk, user=request.user)
    return file_response(
        attachment.file,
        attachment.name,
        as_attachment=not attachment.content_type.startswith("image/"),
        content_type=attachment.content_type,
    )


@login_required
@require_http_methods(["GET", "POST"])
def held_messages_view(request: AuthedRequest) -> HttpResponse:
    if not request.user.is_staff:
        raise Http404
    if request.method == "POST":
        try:
            services.held_message_decide(
                message_id=int(request.POST.get("message", "0") or 0),
                staff=request.user,
                release=request.POST.get("decision") == "release",
            )
        except ApplicationError as exc:
            flash_error(request, exc)
        else:
            messages.success(request, _("Decided."))
        return redirect("community:held")
    # Held messages are in the one moderation queue (as reports raised by the platform).
    return redirect(reverse("moderation:queue") + "?kind=community.message&reason=held")
