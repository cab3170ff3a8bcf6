"""The privacy page: download everything, or delete the account."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from trefpunt.core.exceptions import ApplicationError
from trefpunt.core.types import AuthedRequest

from .services import account_delete, account_delete_problems, personal_data_export


def export_response(user: object) -> FileResponse:
    archive = personal_data_export(user=user)  # type: ignore[arg-type]
    name = f"trefpunt-data-{timezone.now():%Y%m%d}.zip"
    response = FileResponse(
        archive, as_attachment=True, filename=name, content_type="application/zip"
    )
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_GET
def privacy_view(request: AuthedRequest) -> HttpResponse:
    return render(
        request,
        "privacy/privacy.html",
        {"problems": account_delete_problems(user=request.user)},
    )


@login_required
@require_GET
def export_view(request: AuthedRequest) -> FileResponse:
    return export_response(request.user)


@login_required
@require_http_methods(["POST"])
def delete_view(request: AuthedRequest) -> HttpResponse:
    user = request.user
    error = ""
    if not user.check_password(request.POST.get("password", "")):
        error = _("That is not your password.")
    elif request.POST.get("confirm") != "yes":
        error = _("Tick the box to confirm that you want to delete your account.")
    if not error:
        try:
            account_delete(user=user)
        except ApplicationError as exc:
            error = exc.message
    if error:
        problems = account_delete_problems(user=user)
        context = {"problems": problems, "delete_error": error}
        return render(request, "privacy/privacy.html", context, status=400)
    logout(request)
    messages.success(request, _("Your account is deleted. Thank you for having been here."))
    return redirect("home")
