"""The REST API: one NinjaAPI at /api/v1/ mounting each app's router.

Errors all have one shape: ``{"error": {"code", "message", "fields"}}``, declared for every
operation in the OpenAPI document. Callers authenticate with a personal access token
(``Authorization: Bearer``) or, from the browser, with their session (CSRF-checked). A request
that is neither answers 401, whatever its method. Input rules (text, numbers, sizes) live in
``core.api_schema``.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import (
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.http import Http404, HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.utils.translation import gettext
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import HttpBearer, SessionAuth
from ninja.utils import check_csrf

from trefpunt.accounts.services import api_token_authenticate
from trefpunt.core.api_schema import (
    ApiParser,
    DocumentedNinjaAPI,
    error_message,
    request_too_large,
)
from trefpunt.core.exceptions import (
    ApplicationError,
    ErrorCode,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)

logger = logging.getLogger(__name__)


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = api_token_authenticate(token)
        if user is not None:
            request.user = user
        return user


class BrowserSessionAuth(SessionAuth):
    """The browser's session, CSRF-checked. A request without a logged-in session is not
    this caller at all (it falls through to 401), instead of failing the CSRF check first:
    a script with a missing or revoked token must learn it is unauthenticated."""

    def _get_key(self, request: HttpRequest) -> str | None:
        if not request.user.is_authenticated:
            return None
        if not getattr(request, "_ninja_csrf_exempt", False) and check_csrf(request):
            raise PermissionDenied(
                gettext("CSRF check failed: send the page's CSRF token with the request."),
                code=ErrorCode.CSRF_FAILED,
            )
        return request.COOKIES.get(self.param_name)


api = DocumentedNinjaAPI(
    title="Trefpunt API",
    version="1",
    description="Contests, idea calls, microtasks and projects on Trefpunt. "
    "Authenticate with a personal access token: `Authorization: Bearer tp_…`. "
    "Send an `Idempotency-Key` header with every POST that moves money; a retry with the "
    "same key returns the first answer.",
    auth=[TokenAuth(), BrowserSessionAuth()],
    parser=ApiParser(),
    urls_namespace="api",
)


def _error(
    request: HttpRequest,
    code: ErrorCode,
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
    """Per field: ninja's location starts with where the value came from (``body``,
    ``query``, ``form``, …) and, in a JSON body, the endpoint's parameter name; the rest is the
    field's path in the request (a field may itself be called ``form``)."""
    fields: dict[str, list[str]] = {}
    for error in exc.errors:
        loc = [str(part) for part in error.get("loc", [])]
        loc = loc[2:] if loc[:1] == ["body"] else loc[1:]
        fields.setdefault(".".join(loc) or "__all__", []).append(error_message(error))
    return api.create_response(request, ValidationFailed(fields=fields).as_dict(), status=422)


@api.exception_handler(AuthenticationError)
def authentication_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return _error(
        request,
        ErrorCode.UNAUTHENTICATED,
        gettext("Send a valid personal access token: Authorization: Bearer tp_…"),
        401,
    )


@api.exception_handler(Http404)
def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return api.create_response(request, NotFound().as_dict(), status=404)


_HTTP_ERROR_CODES = {
    400: ErrorCode.BAD_REQUEST,
    401: ErrorCode.UNAUTHENTICATED,
    403: ErrorCode.FORBIDDEN,
    404: ErrorCode.NOT_FOUND,
    413: ErrorCode.TOO_LARGE,
    429: ErrorCode.RATE_LIMITED,
}


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    """Ninja's own refusals (a body that is not JSON: 400)."""
    code = _HTTP_ERROR_CODES.get(exc.status_code, ErrorCode.BAD_REQUEST)
    message = str(exc)
    if exc.status_code == 400:
        message = gettext("The request body is not valid JSON.")
    return _error(request, code, message, exc.status_code)


@api.exception_handler(RequestDataTooBig)
@api.exception_handler(TooManyFieldsSent)
@api.exception_handler(TooManyFilesSent)
def too_large(request: HttpRequest, exc: SuspiciousOperation) -> HttpResponse:
    """Form fields past Django's limits (a JSON body that large never gets here: the
    ``ApiRequestLimitsMiddleware`` answers first)."""
    return application_error(request, request_too_large())


@api.exception_handler(SuspiciousOperation)
@api.exception_handler(MultiPartParserError)
def bad_request(request: HttpRequest, exc: Exception) -> HttpResponse:
    return _error(
        request, ErrorCode.BAD_REQUEST, gettext("The request body could not be read."), 400
    )


@api.exception_handler(Exception)
def server_error(request: HttpRequest, exc: Exception) -> HttpResponse:
    if settings.DEBUG and getattr(settings, "API_RAISE_SERVER_ERRORS", False):
        raise exc
    logger.exception("API error on %s %s", request.method, request.path)
    return _error(
        request, ErrorCode.SERVER_ERROR, gettext("Something went wrong on our side."), 500
    )


def _mount() -> None:
    from trefpunt.accounts.api import router as accounts_router
    from trefpunt.community.api import router as community_router
    from trefpunt.contests.api import router as contests_router
    from trefpunt.discovery.api import router as discovery_router
    from trefpunt.ideas.api import router as ideas_router
    from trefpunt.ledger.api import router as ledger_router
    from trefpunt.microtasks.api import router as microtasks_router
    from trefpunt.projects.api import router as projects_router
    from trefpunt.webhooks.api import router as webhooks_router

    api.add_router("/", accounts_router)
    api.add_router("/wallet", ledger_router)
    api.add_router("/", contests_router)
    api.add_router("/", microtasks_router)
    api.add_router("/", ideas_router)
    api.add_router("/", projects_router)
    api.add_router("/", community_router)
    api.add_router("/", webhooks_router)
    api.add_router("/", discovery_router)


_mount()
