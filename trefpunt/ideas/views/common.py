"""What the idea-call views share."""

from __future__ import annotations

from typing import Any

from django.http import FileResponse, Http404, HttpRequest
from django.utils.cache import patch_vary_headers

from trefpunt.core.files import file_open


def is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def file_response(
    field_file: Any, filename: str, *, as_attachment: bool, content_type: str | None = None
) -> FileResponse:
    """Stream a private file (covers, attachments) after the caller checked access."""
    if not field_file:
        raise Http404
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
