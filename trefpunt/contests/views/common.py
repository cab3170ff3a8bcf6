"""What the contest pages share: htmx detection and streaming a private file."""

from __future__ import annotations

from typing import Any

from django.http import FileResponse, Http404, HttpRequest
from django.utils.cache import patch_vary_headers

from trefpunt.core.files import file_open

LIST_PAGE_SIZE = 12
DASHBOARD_PAGE_SIZE = 50
JUDGE_PAGE_SIZE = 24
DETAIL_ENTRIES = 24


def htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def file_response(
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
