"""The REST API: one NinjaAPI at /api/v1/ mounting each app's router.

Errors all have one shape: ``{"error": {"code", "message", "fields"}}``.
Callers authenticate with a personal access token (``Authorization: Bearer``)
or, from the browser, with their session (CSRF-checked).
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import HttpBearer, SessionAuth

from trefpunt.accounts.services import api_token_authenticate
from trefpunt.core.exceptions import ApplicationError, NotFound, ValidationFailed

logger = logging.getLogger(__name__)


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = api_token_authenticate(token)
        if user is not None:
            request.user = user
        return user


api = NinjaAPI(
    title="Trefpunt API",
    version="1",
    description="Contests, idea calls, microtasks and projects on Trefpunt. "
    "Authenticate with a personal access token: `Authorization: Bearer tp_…`. "
    "Send an `Idempotency-Key` header with every POST that moves money; a retry with the "
    "same key returns the first answer.",
    auth=[TokenAuth(), SessionAuth()],
    urls_namespace="api",
)


def _error(
    request: HttpRequest,
    code: str,
    message: str,
    status: int,
    fields: dict[str, list[str]] | None = None,
) -> HttpResponse:
    return api.create_response(
        request,
        {"error": {"code": code, "message": message, "fields": fields or {}}},
        status=status,
    )


@api.exception_handler(ApplicationError)
def application_error(request: HttpRequest, exc: ApplicationError) -> HttpResponse:
    return api.create_response(request, exc.as_dict(), status=exc.status)


@api.exception_handler(NinjaValidationError)
def validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    fields: dict[str, list[str]] = {}
    for error in exc.errors:
        loc = [
            str(part)
            for part in error.get("loc", [])
            if part not in {"body", "query", "path", "form", "file", "payload", "header"}
        ]
        fields.setdefault(".".join(loc) or "__all__", []).append(str(error.get("msg", "")))
    return api.create_response(request, ValidationFailed(fields=fields).as_dict(), status=422)


@api.exception_handler(AuthenticationError)
def authentication_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return _error(
        request,
        "unauthenticated",
        gettext("Send a valid personal access token: Authorization: Bearer tp_…"),
        401,
    )


@api.exception_handler(Http404)
def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return api.create_response(request, NotFound().as_dict(), status=404)


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return _error(request, "http_error", str(exc), exc.status_code)


@api.exception_handler(Exception)
def server_error(request: HttpRequest, exc: Exception) -> HttpResponse:
    if settings.DEBUG and getattr(settings, "API_RAISE_SERVER_ERRORS", False):
        raise exc
    logger.exception("API error on %s %s", request.method, request.path)
    return _error(request, "server_error", gettext("Something went wrong on our side."), 500)


def _mount() -> None:
    from trefpunt.accounts.api import router as accounts_router
    from trefpunt.community.api import router as community_router
    from trefpunt.contests.api import router as contests_router
    from trefpunt.ideas.api import router as ideas_router
    from trefpunt.ledger.api import router as ledger_router
    from trefpunt.microtasks.api import router as microtasks_router

    api.add_router("/", accounts_router)
    api.add_router("/wallet", ledger_router)
    api.add_router("/", contests_router)
    api.add_router("/", microtasks_router)
    api.add_router("/", ideas_router)
    api.add_router("/", community_router)


_mount()
