"""Small pieces every app's views share: safe "back" redirects, service errors as flash
messages or 404s, and a POST action that does one thing and returns."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.shortcuts import redirect
from django.urls import translate_url
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme

from .exceptions import ApplicationError, NotFound, ValidationFailed


def next_url(request: HttpRequest) -> str:
    """The ``next`` the form sent, when it points back into this site; else empty."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return ""


def redirect_back(request: HttpRequest, default: str) -> HttpResponseRedirect:
    return redirect(next_url(request) or default)


def not_found_as_404(fn: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Turn a selector's or service's ``NotFound`` into the 404 page."""

    @functools.wraps(fn)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        try:
            return fn(request, *args, **kwargs)
        except NotFound:
            raise Http404 from None

    return wrapper


def flash_error(request: HttpRequest, exc: ApplicationError) -> None:
    """Show a refusal as a message; a generic "some fields are not valid" gives way to the
    field messages themselves, since a bare button has no fields to show them next to."""
    details = [m for field_messages in exc.fields.values() for m in field_messages]
    generic = exc.message == str(ValidationFailed.default_message)
    messages.error(request, " ".join(details) if details and generic else exc.message)


def post_action(
    request: HttpRequest, action: Callable[[], Any], success: str, default: str
) -> HttpResponseRedirect:
    """Run a one-button action (pause, close, cancel…): success or the refusal as a message,
    then back to where the form came from. Objects the user may not see are a 404."""
    try:
        action()
    except NotFound:
        raise Http404 from None
    except ApplicationError as exc:
        flash_error(request, exc)
    else:
        messages.success(request, success)
    return redirect_back(request, default)


def file_response(
    field_file: Any, filename: str, *, as_attachment: bool, content_type: str | None = None
) -> FileResponse:
    """Stream a stored private file to the one viewer who may see it: never cached for
    others, never run as a page (sandboxed, no sniffing). A missing file is a 404."""
    from .files import file_open

    try:
        handle = file_open(field_file)
    except (FileNotFoundError, ValueError):
        raise Http404 from None
    response = FileResponse(
        handle, as_attachment=as_attachment, filename=filename, content_type=content_type
    )
    response["Cache-Control"] = "private, max-age=600"
    patch_vary_headers(response, ["Cookie"])
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def absolute_url(path: str, language: str | None = None) -> str:
    """``path`` on this site as an absolute link (``settings.SITE_URL``: what emails, feeds
    and the API hand out), in ``language`` when given (:func:`path_in_language`); a full
    URL passes unchanged."""
    if not path or path.startswith(("http://", "https://")):
        return path
    if language:
        path = path_in_language(path, language)
    return settings.SITE_URL + (path if path.startswith("/") else "/" + path)


def path_in_language(path: str, language: str) -> str:
    """A page's path of this site in ``language``. A stored link (a notice's) keeps the
    language prefix of the request that made it, often someone else's: the client who
    hired in English notifies a freelancer who reads Dutch. A path no page answers to
    passes unchanged."""
    source = translation.get_language_from_path(path)
    if source is None or source == language:
        return path
    with translation.override(source):  # the path resolves in its own language only
        return translate_url(path, language)
