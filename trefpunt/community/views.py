"""The notification centre, notification preferences and one-click unsubscribe."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from trefpunt.core.exceptions import Conflict, ValidationFailed
from trefpunt.core.types import AuthedRequest
from trefpunt.core.web import not_found_as_404, path_in_language

from . import selectors, services
from .models import Delivery
from .notifications import notification_kind, unsubscribe_token_read

PER_PAGE = 30


def notification_badge_view(request: HttpRequest) -> HttpResponse:
    """The header's notifications link with its unread count; every page polls it, so a
    new notice shows without reloading. After logging out, 204: the poll swaps nothing."""
    if not request.user.is_authenticated:
        return HttpResponse(status=204)
    return render(
        request, "community/_badge.html", {"unread": selectors.unread_count(user=request.user)}
    )


@login_required
def notification_list_view(request: AuthedRequest) -> HttpResponse:
    page = Paginator(selectors.notifications_for_user(user=request.user), PER_PAGE).get_page(
        request.GET.get("page")
    )
    language = get_language() or "en"
    rows = [(notice, notice.title(language)) for notice in page.object_list]
    return render(request, "community/list.html", {"page": page, "rows": rows})


@login_required
@not_found_as_404
def notification_open_view(request: AuthedRequest, pk: int) -> HttpResponseRedirect:
    """Mark the notice read and go where it points (only ever to a page of this site), in
    the language of this request."""
    notice = services.notification_read(notification_id=pk, user=request.user)
    target = notice.path
    if not target or not url_has_allowed_host_and_scheme(target, allowed_hosts=set()):
        return redirect("community:list")
    return redirect(path_in_language(target, get_language() or settings.LANGUAGE_CODE))


@login_required
@require_POST
def notification_read_all_view(request: AuthedRequest) -> HttpResponseRedirect:
    count = services.notifications_read_all(user=request.user)
    messages.success(
        request,
        ngettext("Marked %(n)d notification as read.", "Marked %(n)d notifications as read.", count)
        % {"n": count},
    )
    return redirect("community:list")


@login_required
@require_http_methods(["GET", "POST"])
def notification_settings_view(request: AuthedRequest) -> HttpResponse:
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        choices = {
            row.kind: request.POST.get(row.kind, row.delivery)
            for row in selectors.notification_settings_for_user(user=request.user)
            if not row.essential
        }
        try:
            services.notification_settings_update(user=request.user, choices=choices)
        except ValidationFailed as exc:
            errors = exc.fields
        else:
            messages.success(request, _("Your notification settings are saved."))
            return redirect("community:settings")
    return render(
        request,
        "community/settings.html",
        {
            "rows": selectors.notification_settings_for_user(user=request.user),
            "choices": Delivery.choices,
            "errors": errors,
        },
        status=422 if errors else 200,
    )


@csrf_exempt  # the signed token is the proof; mail programs POST without a CSRF token
@require_http_methods(["GET", "POST"])
def unsubscribe_view(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows what the link turns off and a button; POST (the button, or a mail
    program's RFC 8058 one-click request) turns it off. A tampered link is a 404."""
    found = unsubscribe_token_read(token)
    if found is None:
        raise Http404
    done = False
    if request.method == "POST":
        try:
            services.notification_unsubscribe(token=token)
        except Conflict as exc:
            messages.error(request, exc.message)
        else:
            done = True
    return render(
        request, "community/unsubscribe.html", {"kind": notification_kind(found[1]), "done": done}
    )
