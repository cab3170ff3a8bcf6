"""What the microtask pages share: htmx detection, paging, the answer form as rendered,
and one-button batch actions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse

from trefpunt.core.types import AuthedRequest
from trefpunt.core.web import (
    post_action,
)

from ..models import Batch


def is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def page_of(request: HttpRequest, queryset: Any, size: int) -> Any:
    return Paginator(queryset, size).get_page(request.GET.get("page"))


def answer_form_fields(
    batch: Batch, values: dict[str, Any] | None, errors: dict[str, list[str]] | None
) -> list[dict[str, Any]]:
    """The answer form as the template renders it: each field with its value, its error and
    its choices numbered for the keyboard (the first choice field gets keys 1–9)."""
    values = values or {}
    errors = errors or {}
    fields = []
    keyed = False
    for field in batch.form:
        value = values.get(field["name"])
        choices = []
        takes_keys = (field["type"] in ("single", "multiple") or "scale" in field) and not keyed
        keyed = keyed or takes_keys
        selected = value if isinstance(value, list) else ([str(value)] if value else [])
        # A rating (a number on a 1–n scale) is answered by picking one of n buttons.
        offered = field.get("choices") or [
            {"value": str(n), "label": str(n)} for n in range(1, field.get("scale", 0) + 1)
        ]
        for index, choice in enumerate(offered, start=1):
            choices.append(
                {
                    **choice,
                    "key": index if takes_keys and index <= 9 else None,
                    "checked": choice["value"] in selected,
                }
            )
        fields.append(
            {
                **field,
                "input": field["name"],
                "value": "" if value is None or isinstance(value, list) else value,
                "choices": choices,
                "error": " ".join(errors.get(field["name"], [])),
            }
        )
    return fields


def batch_action(
    request: AuthedRequest, pk: int, action: Callable[[], Any], success: str
) -> HttpResponseRedirect:
    return post_action(request, action, success, reverse("microtasks:manage", kwargs={"pk": pk}))
