from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import get_user_model
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import get_language_from_path


class LanguageCookieMiddleware:
    """Remember the language of the last language-prefixed page a visitor opened.

    The language switch is a plain link to ``/nl/…`` or ``/en/…`` (works without
    JavaScript and tells search engines about the other version); this cookie makes
    the choice stick for ``/`` and for pages without a prefix, such as the payment
    provider's checkout.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        language = get_language_from_path(request.path_info)
        if language and request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME) != language:
            response.set_cookie(
                settings.LANGUAGE_COOKIE_NAME,
                language,
                max_age=365 * 24 * 3600,
                samesite="Lax",
                secure=settings.SESSION_COOKIE_SECURE,
            )
        return response


class UserLanguageMiddleware:
    """Remember, on the account, the language a logged-in person last used the site in, so
    that the emails and notices sent to them later (from a background worker, without a
    request) speak it. One cheap update, only when it changes."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        language = get_language_from_path(request.path_info)
        user = getattr(request, "user", None)
        if (
            language
            and user is not None
            and user.is_authenticated
            and getattr(user, "language", language) != language
        ):
            get_user_model()._default_manager.filter(pk=user.pk).update(language=language)
            user.language = language
        return self.get_response(request)


class FormAddressPageMiddleware:
    """A page instead of a blank 405 when a browser opens an address that only takes a
    submitted form: after a session ran out, the form's POST is sent to the login with the
    form's address as ``next``, and the login then opens it with GET. The page says that
    nothing was sent and links to the page the form belongs to, one step up the address
    (``/nl/contests/4/enter/`` → ``/nl/contests/4/``). Only for pages in a language: the
    API answers in its own error shape."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            response.status_code != 405
            or request.method != "GET"
            or response.content
            or not get_language_from_path(request.path_info)
        ):
            return response
        back = request.path.rstrip("/").rsplit("/", 1)[0] + "/"
        page = render(request, "405.html", {"back": back}, status=405)
        if response.has_header("Allow"):
            page["Allow"] = response["Allow"]
        return page


class ApiRequestLimitsMiddleware:
    """Refuse, before anything reads it, an API request no endpoint can take, in the API's
    error shape: a body over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (413 ``too_large``; Django would
    answer its HTML 400 page, or ninja a 500) and a NUL character in the path (404: no
    object's address holds one, and PostgreSQL refuses to look it up). Multipart uploads
    are left to Django's per-field limits and each endpoint's file limits: their files
    stream to disk."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith("/api/"):
            return self.get_response(request)
        from .api_schema import request_too_large
        from .exceptions import NotFound

        if "\x00" in request.path:
            return JsonResponse(NotFound().as_dict(), status=404)
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if (
            length > settings.DATA_UPLOAD_MAX_MEMORY_SIZE
            and request.content_type != "multipart/form-data"
        ):
            error = request_too_large()
            return JsonResponse(error.as_dict(), status=error.status)
        return self.get_response(request)
