"""The worker's pages: batches to work on, a batch, the work page (claim, answer, skip),
the answers given and an appeal.

The work page swaps in the next item after an answer or a skip with htmx when it is there
(``microtasks/work.html#panel``). Claiming an item is a POST, so no GET ever takes a lease.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from trefpunt.core.exceptions import ApplicationError, NotFound, ValidationFailed
from trefpunt.core.forms import form_errors_apply
from trefpunt.core.types import AuthedRequest
from trefpunt.core.web import (
    flash_error,
    not_found_as_404,
)

from .. import selectors, services
from ..forms import (
    AppealForm,
)
from ..formspec import answer_display
from ..models import Answer, Batch, Item, Lease
from ..rendering import item_render, markdown_render
from ..selectors.rules import worker_test_status
from .common import answer_form_fields, is_htmx, page_of

HISTORY_PAGE_SIZE = 50

# --- workers: batches, work, history ------------------------------------------------------


@require_GET
def batch_list_view(request: HttpRequest) -> HttpResponse:
    """Open for visitors too: what each batch pays and asks, with "log in to start"."""
    if request.user.is_authenticated:
        rows = selectors.batches_available(user=request.user)
    else:
        rows = selectors.batches_open_for_visitors()
    return render(
        request,
        "microtasks/batch_list.html",
        {
            "rows": [r for r in rows if r.qualifies or not request.user.is_authenticated],
            "other_rows": [r for r in rows if not r.qualifies and request.user.is_authenticated],
            "minimum_hourly": selectors.min_hourly_cents(),
        },
    )


@require_GET
@not_found_as_404
def batch_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    batch = selectors.batch_for_worker(batch_id=pk)
    seconds = batch.median_seconds or batch.estimated_seconds
    access = selectors.batch_access(batch, request.user)
    test = (
        worker_test_status(batch=batch, user=access.user)
        if access.user is not None and not access.manages and batch.test_questions
        else None
    )
    return render(
        request,
        "microtasks/batch_detail.html",
        {
            "batch": batch,
            "access": access,
            "test": test,
            "instructions": markdown_render(batch.instructions),
            "seconds": seconds,
            "hourly": selectors.hourly_cents(reward=batch.reward, seconds=seconds),
            "items_left": Item.objects.filter(batch=batch, status=Item.Status.OPEN).count(),
        },
    )


def _answer_from_post(form: list[dict[str, Any]], data: Any) -> dict[str, Any]:
    answer: dict[str, Any] = {}
    for field in form:
        name = field["name"]
        if field["type"] == "multiple":
            answer[name] = data.getlist(name)
        else:
            answer[name] = data.get(name, "")
    return answer


def _panel_context(
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
        "answered": Answer.objects.filter(batch=batch, worker_id=request.user.pk).count(),
    }


def _render_work(
    request: HttpRequest, batch: Batch, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    if is_htmx(request):
        return render(request, "microtasks/work.html#panel", context, status=status)
    context["instructions"] = markdown_render(batch.instructions)
    return render(request, "microtasks/work.html", context, status=status)


def _claim_next(request: AuthedRequest, batch: Batch) -> tuple[Lease | None, str]:
    try:
        return services.lease_claim(batch_id=batch.pk, worker=request.user), ""
    except NotFound:
        raise
    except ApplicationError as exc:
        return None, exc.message


@login_required
@require_http_methods(["GET", "POST"])
@not_found_as_404
def work_view(request: AuthedRequest, pk: int) -> HttpResponse:
    """GET shows the item the worker holds (no lease is taken by a GET); POST claims one."""
    batch = selectors.batch_for_worker(batch_id=pk)
    if request.method == "POST":
        return _after_item(request, batch, "")
    lease = selectors.lease_live_for_worker(batch=batch, user=request.user)
    return _render_work(request, batch, _panel_context(request, batch, lease))


def _gold_feedback(batch: Batch, answer: Answer) -> dict[str, Any] | None:
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


def _feedback_text(feedback: dict[str, Any]) -> str:
    expected = "; ".join(value for _label, value in feedback["expected"])
    if feedback["correct"]:
        return _("Right: the expected answer was “%(answer)s”.") % {"answer": expected}
    return _("The expected answer was “%(answer)s”.") % {"answer": expected}


def _after_item(
    request: AuthedRequest, batch: Batch, notice: str, feedback: dict[str, Any] | None = None
) -> HttpResponse:
    """After an answer or a skip: the next item (htmx) or a redirect to the work page."""
    lease, stopped = _claim_next(request, batch)
    exhausted = lease is None and not stopped
    if is_htmx(request):
        context = _panel_context(
            request,
            batch,
            lease,
            notice=notice,
            stopped=stopped,
            exhausted=exhausted,
            feedback=feedback,
        )
        return _render_work(request, batch, context)
    if feedback:
        (messages.success if feedback["correct"] else messages.warning)(
            request, _feedback_text(feedback)
        )
    if notice:
        messages.success(request, notice)
    if stopped:
        messages.error(request, stopped)
    elif exhausted:
        messages.info(request, _("There is nothing more for you in this batch right now."))
    return redirect("microtasks:work", pk=batch.pk)


@login_required
@require_POST
@not_found_as_404
def lease_answer_view(request: AuthedRequest, pk: int) -> HttpResponse:
    lease = selectors.lease_for_worker(lease_id=pk, user=request.user)
    batch = lease.batch
    raw = _answer_from_post(batch.form, request.POST)
    try:
        stored = services.lease_answer(lease_id=lease.pk, worker=request.user, answer=raw)
    except ValidationFailed as exc:
        errors = exc.fields or {"__all__": [exc.message]}
        context = _panel_context(request, batch, lease, values=raw, errors=errors)
        return _render_work(request, batch, context, status=200 if is_htmx(request) else 422)
    except NotFound:
        raise
    except ApplicationError as exc:
        return _after_item(request, batch, exc.message)
    return _after_item(request, batch, _("Answer saved."), _gold_feedback(batch, stored))


@login_required
@require_POST
@not_found_as_404
def lease_skip_view(request: AuthedRequest, pk: int) -> HttpResponse:
    lease = selectors.lease_for_worker(lease_id=pk, user=request.user)
    try:
        services.lease_skip(lease_id=lease.pk, worker=request.user)
    except NotFound:
        raise
    except ApplicationError as exc:
        return _after_item(request, lease.batch, exc.message)
    return _after_item(request, lease.batch, _("Skipped. You will not see this item again."))


@login_required
@require_GET
def answer_history_view(request: AuthedRequest) -> HttpResponse:
    page = page_of(request, selectors.answers_of_worker(user=request.user), HISTORY_PAGE_SIZE)
    now = timezone.now()
    rows = [
        {
            "answer": answer,
            "display": answer_display(answer.batch.form, answer.data),
            "access": selectors.answer_access(answer, worker=True, now=now),
        }
        for answer in page.object_list
    ]
    return render(
        request,
        "microtasks/history.html",
        {
            "page": page,
            "rows": rows,
            "earnings": selectors.worker_earnings(user=request.user),
            "standing": selectors.worker_standing(user=request.user),
            "appeal_days": selectors.appeal_days(),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
@not_found_as_404
def answer_appeal_view(request: AuthedRequest, pk: int) -> HttpResponse:
    answer = selectors.answer_for_worker(answer_id=pk, user=request.user)
    form = AppealForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.answer_appeal(
                answer_id=pk, worker=request.user, message=form.cleaned_data["message"]
            )
        except ValidationFailed as exc:
            form_errors_apply(form, exc)
        except ApplicationError as exc:
            flash_error(request, exc)
            return redirect("microtasks:answer_history")
        else:
            messages.success(
                request,
                ngettext(
                    "Appeal sent. The client decides within %(n)d day.",
                    "Appeal sent. The client decides within %(n)d days.",
                    selectors.appeal_days(),
                )
                % {"n": selectors.appeal_days()},
            )
            return redirect("microtasks:answer_history")
    return render(
        request,
        "microtasks/appeal.html",
        {
            "answer": answer,
            "form": form,
            "display": answer_display(answer.batch.form, answer.data),
            "item_html": item_render(answer.batch.display, answer.item.data),
            "access": selectors.answer_access(answer, worker=True),
            "appeal_days": selectors.appeal_days(),
        },
    )
