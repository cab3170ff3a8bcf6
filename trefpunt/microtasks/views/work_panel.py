"""The work panel both work pages share (one item at a time, or a page of items): its
context, how it is rendered (the whole page, or the ``#panel`` fragment for htmx) and the
feedback after a test question."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from .. import selectors
from ..formspec import answer_display
from ..models import Answer, Batch, Lease
from ..rendering import item_render, markdown_render
from .common import answer_form_fields, is_htmx


def panel_context(
    request: HttpRequest,
    batch: Batch,
    lease: Lease | None,
    *,
    notice: str = "",
    stopped: str = "",
    exhausted: bool = False,
    values: dict[str, Any] | None = None,
    errors: dict[str, list[str]] | None = None,
    feedback: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "batch": batch,
        "feedback": feedback,
        "lease": lease,
        "item_html": item_render(batch.display, lease.item.data) if lease else "",
        "fields": answer_form_fields(batch, values, errors) if lease else [],
        "notice": notice,
        "stopped": stopped,
        "exhausted": exhausted,
        "form_error": bool(errors),
        "answered": selectors.answers_count_for_worker(batch=batch, worker_id=request.user.pk),
    }


def render_work(
    request: HttpRequest, batch: Batch, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    if is_htmx(request):
        return render(request, "microtasks/work.html#panel", context, status=status)
    context["instructions"] = markdown_render(batch.instructions)
    return render(request, "microtasks/work.html", context, status=status)


def gold_feedback(batch: Batch, answer: Answer) -> dict[str, Any] | None:
    """What the worker is told after answering a test question, when the client enabled it:
    the expected answer and whether theirs matched. ``None`` for every other answer, so an
    item shows nothing of being a test before it is answered."""
    item = answer.item
    if not (batch.gold_feedback and item.is_gold and item.gold_answer):
        return None
    from ..quality import gold_matches

    return {
        "expected": answer_display(
            [f for f in batch.form if f["name"] in item.gold_answer], item.gold_answer
        ),
        "correct": gold_matches(batch.form, item.gold_answer, answer.data),
    }


def feedback_text(feedback: dict[str, Any]) -> str:
    expected = "; ".join(value for _label, value in feedback["expected"])
    if feedback["correct"]:
        return _("Right: the expected answer was “%(answer)s”.") % {"answer": expected}
    return _("The expected answer was “%(answer)s”.") % {"answer": expected}
