"""``Idempotency-Key`` for every state-changing API request.

A client that retries a POST (timeout, lost connection) with the same key gets
the first answer back, marked ``Idempotent-Replayed: true``, and nothing runs
twice. The same key with a different request is refused; a request still
running answers 409. Keys are scoped per user. Services that move money also
take the key themselves, so even a crash between their commit and the record
update cannot book twice.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.utils.translation import gettext

from .exceptions import ApplicationError, Conflict, ErrorCode, IdempotencyKeyReused

HEADER = "Idempotency-Key"
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def _error(exc: ApplicationError) -> JsonResponse:
    return JsonResponse(exc.as_dict(), status=exc.status)


def request_owner(request: HttpRequest) -> str | None:
    from trefpunt.accounts.services import api_token_authenticate

    auth = request.headers.get("Authorization", "")
    if auth.lower().startswith("bearer "):
        user = api_token_authenticate(auth[7:].strip())
        return f"user:{user.pk}" if user else None
    if getattr(request, "user", None) is not None and request.user.is_authenticated:
        return f"user:{request.user.pk}"
    return None


def request_fingerprint(request: HttpRequest) -> str:
    """What makes two requests the same request. A multipart upload is read through its
    parsed fields and files (its raw body may be larger than Django keeps in memory)."""
    head = [str(request.method).encode(), request.path.encode()]
    if request.content_type != "multipart/form-data":
        return hashlib.sha256(b"\n".join([*head, request.body])).hexdigest()
    digest = hashlib.sha256(b"\n".join([*head, b"multipart"]))
    for name, values in sorted(request.POST.lists()):
        digest.update(f"\nfield:{name}:{len(values)}".encode("utf-8", "surrogatepass"))
        for value in values:
            digest.update(b"\n" + hashlib.sha256(value.encode("utf-8", "surrogatepass")).digest())
    for name, files in sorted(request.FILES.lists()):
        digest.update(f"\nfile:{name}:{len(files)}".encode("utf-8", "surrogatepass"))
        for upload in files:
            part = hashlib.sha256(str(upload.name).encode("utf-8", "surrogatepass"))
            for chunk in upload.chunks():
                part.update(chunk)
            upload.seek(0)
            digest.update(b"\n" + part.digest())
    return digest.hexdigest()


class IdempotencyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        key = request.headers.get(HEADER)
        if (
            key is None
            or request.method not in UNSAFE_METHODS
            or not request.path.startswith("/api/")
        ):
            return self.get_response(request)
        if not 1 <= len(key) <= 200 or not key.isprintable():
            return _error(
                ApplicationError(
                    f"{HEADER} must be 1 to 200 printable characters.",
                    code=ErrorCode.BAD_IDEMPOTENCY_KEY,
                )
            )
        owner = request_owner(request)
        if owner is None:  # the endpoint answers 401 itself
            return self.get_response(request)
        try:
            fingerprint = request_fingerprint(request)
        except (RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent):
            from .api_schema import request_too_large

            return _error(request_too_large())
        except MultiPartParserError:
            return _error(ApplicationError(gettext("The request body could not be read.")))
        from .models import IdempotencyRecord

        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(
                    owner=owner, key=key, fingerprint=fingerprint
                )
        except IntegrityError:
            existing = IdempotencyRecord.objects.get(owner=owner, key=key)
            if existing.fingerprint != fingerprint:
                return _error(IdempotencyKeyReused())
            if existing.status_code is None:
                return _error(
                    Conflict(
                        "A request with this Idempotency-Key is still running.",
                        code=ErrorCode.IDEMPOTENCY_IN_PROGRESS,
                    )
                )
            replay = HttpResponse(
                bytes(existing.body),
                status=existing.status_code,
                content_type=existing.content_type,
            )
            replay["Idempotent-Replayed"] = "true"
            return replay
        request.idempotency_key = key  # type: ignore[attr-defined]
        try:
            response = self.get_response(request)
        except Exception:
            record.delete()
            raise
        if response.status_code >= 500 or getattr(response, "streaming", False):
            # A server error is not an answer; let the retry run again.
            record.delete()
            return response
        record.status_code = response.status_code
        record.content_type = response.get("Content-Type", "")
        record.body = response.content
        record.save(update_fields=["status_code", "content_type", "body"])
        return response


def idempotency_key_for(request: HttpRequest, scope: str) -> str:
    """The key a money service should use for this request, or ``""`` without a header."""
    key = getattr(request, "idempotency_key", None) or request.headers.get(HEADER, "")
    if not key:
        return ""
    return f"{scope}:{hashlib.sha256(key.encode()).hexdigest()[:40]}"
