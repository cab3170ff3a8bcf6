"""The worker's qualification test of a batch: its test questions on one page, sent at once."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from trefpunt.core.exceptions import ApplicationError, NotFound, ValidationFailed
from trefpunt.core.types import AuthedRequest
from trefpunt.core.web import flash_error, not_found_as_404

from .. import services
from ..models import Batch, Item
from ..rendering import item_render, markdown_render
from .common import answer_form_fields


def prefixed_fields(
    batch: Batch,
    prefix: str,
    values: dict[str, Any] | None,
    errors: dict[str, list[str]] | None = None,
) -> list[dict[str, Any]]:
    """The answer form with every input named ``prefix + field name`` (several items on one
    page)."""
    fields = answer_form_fields(batch, values, errors)
    for field in fields:
        field["input"] = f"{prefix}{field['name']}"
    return fields


def answer_from_post(form: list[dict[str, Any]], data: Any, prefix: str) -> dict[str, Any]:
    answer: dict[str, Any] = {}
    for field in form:
        name = f"{prefix}{field['name']}"
        answer[field["name"]] = (
            data.getlist(name) if field["type"] == "multiple" else data.get(name, "")
        )
    return answer


def _render(
    request: AuthedRequest,
    batch: Batch,
    number: int,
    items: list[Item],
    values: dict[int, dict[str, Any]],
    errors: dict[str, Any],
    status: int = 200,
) -> HttpResponse:
    questions = [
        {
            "item": item,
            "html": item_render(batch.display, item.data),
            "fields": prefixed_fields(batch, f"q{item.pk}-", values.get(item.pk)),
            "error": errors.get(f"q{item.pk}", ""),
        }
        for item in items
    ]
    return render(
        request,
        "microtasks/qualification.html",
        {
            "batch": batch,
            "number": number,
            "questions": questions,
            "errors": errors,
            "instructions": markdown_render(batch.instructions),
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
@not_found_as_404
def qualification_view(request: AuthedRequest, pk: int) -> HttpResponse:
    try:
        batch, number, items = services.qualification_start(batch_id=pk, worker=request.user)
    except NotFound:
        raise
    except ApplicationError as exc:
        flash_error(request, exc)
        return redirect("microtasks:batch_detail", pk=pk)
    if request.method == "GET":
        return _render(request, batch, number, items, {}, {})
    values = {item.pk: answer_from_post(batch.form, request.POST, f"q{item.pk}-") for item in items}
    try:
        sent = int(request.POST.get("attempt", ""))
    except ValueError:
        sent = 0
    try:
        attempt = services.qualification_submit(
            batch_id=pk, worker=request.user, number=sent, answers=values
        )
    except ValidationFailed as exc:
        errors = {k: " ".join(v) for k, v in exc.fields.items()}
        return _render(request, batch, number, items, values, errors, status=422)
    except ApplicationError as exc:
        flash_error(request, exc)
        return redirect("microtasks:batch_detail", pk=pk)
    result = {"correct": attempt.correct, "total": attempt.total}
    if attempt.passed:
        messages.success(
            request,
            _("Passed: %(correct)d of %(total)d right. You can start working.") % result,
        )
        return redirect("microtasks:batch_detail", pk=pk)
    messages.warning(request, _("Not passed: %(correct)d of %(total)d right.") % result)
    return redirect("microtasks:batch_detail", pk=pk)
