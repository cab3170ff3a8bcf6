"""The client's review of a batch: the review queue (htmx swaps the reviewed row,
``microtasks/review.html#answer_row``), appeals, answers per item, results, workers and
exclusion, export; and the staff's open appeals."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.http.response import HttpResponseBase, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from trefpunt.core.exceptions import ApplicationError, NotFound, ValidationFailed
from trefpunt.core.types import AuthedRequest
from trefpunt.core.web import (
    flash_error,
    not_found_as_404,
    redirect_back,
)

from .. import selectors, services
from ..exports import export_filename, export_stream
from ..forms import (
    NoteForm,
)
from ..formspec import answer_display
from ..models import Answer, Batch, Item
from ..rendering import item_render
from ..selectors.reliability import batch_reliability, batch_stop_reliability
from .common import batch_action, is_htmx, page_of

REVIEW_PAGE_SIZE = 50
ITEMS_PAGE_SIZE = 25
RESULTS_PAGE_SIZE = 25

# --- clients: review, items, workers, export -----------------------------------------------------


def _review_row(batch: Batch, answer: Answer, *, error: str = "") -> dict[str, Any]:
    first_text = next((d["column"] for d in batch.display if d["widget"] == "text"), None)
    preview = answer.item.data.get(first_text) if first_text else None
    return {
        "answer": answer,
        "worker": selectors.worker_pseudonym(batch_id=batch.pk, user_id=answer.worker_id),
        "display": answer_display(batch.form, answer.data),
        "preview": "" if preview is None else str(preview),
        "error": error,
        "access": selectors.answer_access(answer, manages=True),
    }


@login_required
@require_GET
@not_found_as_404
def review_view(request: AuthedRequest, pk: int) -> HttpResponse:
    access = selectors.batch_access_for_manager(batch_id=pk, user=request.user)
    batch = access.batch
    status = request.GET.get("status") or Answer.Status.PENDING
    if status not in Answer.Status.values:
        status = Answer.Status.PENDING
    answers = selectors.answers_for_review(batch=batch, status=status)
    worker = (request.GET.get("worker") or "").strip()
    if worker:
        worker_id = selectors.worker_id_for_pseudonym(batch=batch, pseudonym=worker)
        answers = answers.filter(worker_id=worker_id or 0)
    page = page_of(request, answers, REVIEW_PAGE_SIZE)
    appeals = list(selectors.answers_for_review(batch=batch, status=Answer.Status.APPEALED)[:50])
    workers = selectors.batch_workers(batch=batch)
    return render(
        request,
        "microtasks/review.html",
        {
            "batch": batch,
            "access": access,
            "status": status,
            "worker": worker,
            "statuses": Answer.Status.choices,
            "page": page,
            "rows": [_review_row(batch, a) for a in page.object_list],
            "appeals": [_review_row(batch, a) for a in appeals],
            "workers": [w for w in workers if w["pending"]],
        },
    )


@login_required
@require_POST
@not_found_as_404
def answer_review_view(request: AuthedRequest, pk: int) -> HttpResponse:
    """Approve or reject one answer (``decision``); htmx gets the re-rendered row."""
    answer = selectors.answer_for_manager(answer_id=pk, user=request.user)
    batch = answer.batch
    decision = request.POST.get("decision")
    error = ""
    try:
        if decision == "approve":
            services.answer_approve(answer_id=pk, user=request.user)
        elif decision == "reject":
            services.answer_reject(
                answer_id=pk, user=request.user, reason=request.POST.get("reason", "")
            )
        else:
            raise ValidationFailed(fields={"decision": _("Choose approve or reject.")})
    except NotFound:
        raise
    except ApplicationError as exc:
        error = " ".join(m for ms in exc.fields.values() for m in ms) or exc.message
        if not is_htmx(request):
            messages.error(request, error)
    else:
        if not is_htmx(request):
            messages.success(
                request, _("Approved and paid.") if decision == "approve" else _("Rejected.")
            )
    if is_htmx(request):
        answer = Answer.objects.select_related("item").get(pk=pk)
        return render(
            request,
            "microtasks/review.html#answer_row",
            {"batch": batch, "row": _review_row(batch, answer, error=error)},
        )
    return redirect_back(request, reverse("microtasks:review", kwargs={"pk": batch.pk}))


@login_required
@require_POST
@not_found_as_404
def review_bulk_view(request: AuthedRequest, pk: int) -> HttpResponse:
    selectors.batch_for_manager(batch_id=pk, user=request.user)
    decision = request.POST.get("decision", "")
    worker = request.POST.get("worker") or None
    try:
        n = services.answers_review_bulk(
            batch_id=pk,
            user=request.user,
            decision=decision,
            reason=request.POST.get("reason", ""),
            pseudonym=worker,
        )
    except NotFound:
        raise
    except ApplicationError as exc:
        flash_error(request, exc)
    else:
        if decision == "approve":
            messages.success(
                request,
                ngettext("%(n)d answer approved and paid.", "%(n)d answers approved and paid.", n)
                % {"n": n},
            )
        else:
            messages.success(
                request,
                ngettext("%(n)d answer rejected.", "%(n)d answers rejected.", n) % {"n": n},
            )
    return redirect_back(request, reverse("microtasks:review", kwargs={"pk": pk}))


@login_required
@require_POST
@not_found_as_404
def appeal_decide_view(request: AuthedRequest, pk: int) -> HttpResponse:
    answer = selectors.answer_for_manager(answer_id=pk, user=request.user, allow_staff=True)
    form = NoteForm(request.POST)
    form.is_valid()
    overturn = request.POST.get("decision") == "overturn"
    try:
        services.appeal_decide(
            answer_id=pk,
            user=request.user,
            overturn=overturn,
            note=form.cleaned_data.get("note", ""),
        )
    except NotFound:
        raise
    except ApplicationError as exc:
        flash_error(request, exc)
    else:
        messages.success(
            request,
            _("Overturned: the answer is approved and paid.")
            if overturn
            else _("The rejection stands."),
        )
    return redirect_back(request, reverse("microtasks:review", kwargs={"pk": answer.batch_id}))


@login_required
@require_GET
@not_found_as_404
def items_view(request: AuthedRequest, pk: int) -> HttpResponse:
    """Answers per item."""
    access = selectors.batch_access_for_manager(batch_id=pk, user=request.user)
    batch = access.batch
    page = page_of(request, selectors.items_with_answers(batch=batch), ITEMS_PAGE_SIZE)
    rows = []
    for item in page.object_list:
        answers = sorted(item.answers.all(), key=lambda a: (a.created_at, a.pk))
        rows.append(
            {
                "item": item,
                "html": item_render(batch.display, item.data),
                "gold": answer_display(batch.form, item.gold_answer) if item.is_gold else [],
                "aggregated": answer_display(batch.form, item.aggregated_answer),
                "answers": [
                    {
                        "answer": a,
                        "worker": selectors.worker_pseudonym(
                            batch_id=batch.pk, user_id=a.worker_id
                        ),
                        "display": answer_display(batch.form, a.data),
                    }
                    for a in answers
                ],
            }
        )
    return render(
        request,
        "microtasks/items.html",
        {"batch": batch, "access": access, "page": page, "rows": rows},
    )


def _result_row(batch: Batch, item: Item, excluded: set[int]) -> dict[str, Any]:
    """One item of the results page: combined answer, confidence, agreement, raw answers
    (those of excluded workers marked as not counted)."""
    details = item.aggregate_details or {}
    fields = details.get("fields", {})
    notes = []
    for spec in batch.form:
        figures = fields.get(spec["name"])
        if spec["type"] == "number" and figures:
            notes.append(
                _("%(label)s: median %(median)s · trimmed mean %(mean)s · spread %(spread)s")
                % {
                    "label": spec["label"],
                    "median": f"{figures['median']:g}",
                    "mean": f"{figures['trimmed_mean']:g}",
                    "spread": f"{figures['spread']:g}",
                }
            )
    answers = sorted(item.answers.all(), key=lambda a: (a.created_at, a.pk))
    return {
        "item": item,
        "html": item_render(batch.display, item.data),
        "aggregated": answer_display(batch.form, item.aggregated_answer),
        "agreement": details.get("agreement"),
        "counted": details.get("answers", 0),
        "below_target": item.confidence is not None and item.confidence < batch.confidence_target,
        "notes": notes,
        "gold": answer_display(
            [f for f in batch.form if f["name"] in (item.gold_answer or {})], item.gold_answer
        )
        if item.is_gold
        else [],
        "answers": [
            {
                "answer": a,
                "worker": selectors.worker_pseudonym(batch_id=batch.pk, user_id=a.worker_id),
                "display": answer_display(batch.form, a.data),
                "excluded": a.worker_id in excluded,
            }
            for a in answers
        ],
    }


@login_required
@require_GET
@not_found_as_404
def results_view(request: AuthedRequest, pk: int) -> HttpResponse:
    """Combined answers, least certain first, with agreement and the raw answers."""
    access = selectors.batch_access_for_manager(batch_id=pk, user=request.user)
    batch = access.batch
    show = request.GET.get("show") or "all"
    if show not in selectors.RESULT_FILTERS:
        show = "all"
    page = page_of(request, selectors.batch_results(batch=batch, show=show), RESULTS_PAGE_SIZE)
    excluded = selectors.batch_excluded_workers(batch=batch)
    return render(
        request,
        "microtasks/results.html",
        {
            "batch": batch,
            "access": access,
            "page": page,
            "show": show,
            "rows": [_result_row(batch, item, excluded) for item in page.object_list],
            "summary": selectors.batch_quality_summary(batch=batch),
            "reliability": batch_reliability(batch=batch),
            "stop_reliability": batch_stop_reliability(batch=batch),
        },
    )


@login_required
@require_GET
@not_found_as_404
def workers_view(request: AuthedRequest, pk: int) -> HttpResponse:
    """Answers and quality per worker, with bulk review and exclusion."""
    access = selectors.batch_access_for_manager(batch_id=pk, user=request.user)
    batch = access.batch
    return render(
        request,
        "microtasks/workers.html",
        {"batch": batch, "access": access, "workers": selectors.batch_workers(batch=batch)},
    )


@login_required
@require_POST
@not_found_as_404
def worker_exclude_view(request: AuthedRequest, pk: int) -> HttpResponse:
    selectors.batch_for_manager(batch_id=pk, user=request.user)
    excluded = request.POST.get("excluded", "1") == "1"
    worker = request.POST.get("worker", "")
    return batch_action(
        request,
        pk,
        lambda: services.batch_worker_exclude(
            batch_id=pk, user=request.user, pseudonym=worker, excluded=excluded
        ),
        _(
            "%(worker)s gets no more items of this batch, and their answers no longer count "
            "in the combined answers."
        )
        % {"worker": worker}
        if excluded
        else _("%(worker)s may work on this batch again.") % {"worker": worker},
    )


@login_required
@require_GET
@not_found_as_404
def export_view(request: AuthedRequest, pk: int, fmt: str) -> HttpResponseBase:
    batch = selectors.batch_for_manager(batch_id=pk, user=request.user)
    if fmt not in ("csv", "jsonl"):
        raise Http404
    content_type = "text/csv" if fmt == "csv" else "application/x-ndjson"
    response = StreamingHttpResponse(
        export_stream(batch, fmt), content_type=f"{content_type}; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{export_filename(batch, fmt)}"'
    return response


@login_required
@require_GET
def staff_appeals_view(request: AuthedRequest) -> HttpResponse:
    if not request.user.is_staff:
        raise Http404
    answers = list(selectors.appeals_open_for_staff()[:100])
    rows = [_review_row(a.batch, a) for a in answers]
    return render(
        request,
        "microtasks/staff_appeals.html",
        {"rows": rows, "appeal_days": selectors.appeal_days()},
    )
