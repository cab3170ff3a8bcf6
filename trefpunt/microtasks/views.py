"""Microtask pages. Thin: parse the form, call one service or selector, render.

Every action is a plain POST that works without JavaScript and redirects back. Two places
use htmx when it is there: the work page swaps in the next item after an answer or a skip
(``microtasks/work.html#panel``), and the review queue swaps the reviewed row
(``microtasks/review.html#answer_row``). Claiming an item is a POST, so no GET ever takes
a lease.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from trefpunt.accounts.selectors import organisations_user_can_post_for
from trefpunt.core.exceptions import ApplicationError, NotFound, ValidationFailed
from trefpunt.core.forms import form_errors_apply
from trefpunt.core.types import AuthedRequest
from trefpunt.core.web import (
    flash_error,
    not_found_as_404,
    post_action,
    redirect_back,
)

from . import selectors, services
from .exports import export_filename, export_stream
from .forms import (
    AppealForm,
    BatchForm,
    NoteForm,
    RewardForm,
    UploadForm,
    service_errors,
)
from .formspec import answer_display
from .models import Answer, Batch, Item, Lease
from .rendering import item_render, markdown_render
from .uploads import max_upload_bytes

REVIEW_PAGE_SIZE = 50
ITEMS_PAGE_SIZE = 25
RESULTS_PAGE_SIZE = 25
HISTORY_PAGE_SIZE = 50


def _htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _page(request: HttpRequest, queryset: Any, size: int) -> Any:
    return Paginator(queryset, size).get_page(request.GET.get("page"))


# --- workers: batches, work, history ------------------------------------------------------


@login_required
@require_GET
def batch_list_view(request: AuthedRequest) -> HttpResponse:
    rows = selectors.batches_available(user=request.user)
    return render(
        request,
        "microtasks/batch_list.html",
        {
            "rows": [r for r in rows if r.qualifies],
            "other_rows": [r for r in rows if not r.qualifies],
            "minimum_hourly": selectors.min_hourly_cents(),
        },
    )


@require_GET
@not_found_as_404
def batch_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    batch = selectors.batch_for_worker(batch_id=pk)
    problems: list[str] = []
    lease = None
    manages = False
    if request.user.is_authenticated:
        user: Any = request.user
        manages = selectors.batch_is_managed_by(batch=batch, user=user)
        problems = selectors.qualification_problems(
            batch=batch,
            standing=selectors.worker_standing(user=user),
            excluded=selectors.worker_is_excluded(batch=batch, user=user),
        )
        lease = selectors.lease_live_for_worker(batch=batch, user=user)
    seconds = batch.median_seconds or batch.estimated_seconds
    items_left = Item.objects.filter(batch=batch, status=Item.Status.OPEN).count()
    return render(
        request,
        "microtasks/batch_detail.html",
        {
            "batch": batch,
            "instructions": markdown_render(batch.instructions),
            "problems": problems,
            "lease": lease,
            "manages": manages,
            "seconds": seconds,
            "hourly": selectors.hourly_cents(reward=batch.reward, seconds=seconds),
            "items_left": items_left,
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


def _form_fields(
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
        takes_keys = field["type"] in ("single", "multiple") and not keyed
        keyed = keyed or takes_keys
        selected = value if isinstance(value, list) else ([value] if value else [])
        for index, choice in enumerate(field.get("choices", []), start=1):
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
                "value": "" if value is None or isinstance(value, list) else value,
                "choices": choices,
                "error": " ".join(errors.get(field["name"], [])),
            }
        )
    return fields


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
        "fields": _form_fields(batch, values, errors) if lease else [],
        "notice": notice,
        "stopped": stopped,
        "exhausted": exhausted,
        "form_error": bool(errors),
        "answered": Answer.objects.filter(batch=batch, worker_id=request.user.pk).count(),
    }


def _render_work(
    request: HttpRequest, batch: Batch, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    if _htmx(request):
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
    from .quality import gold_matches

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
    if _htmx(request):
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
        return _render_work(request, batch, context, status=200 if _htmx(request) else 422)
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
    page = _page(request, selectors.answers_of_worker(user=request.user), HISTORY_PAGE_SIZE)
    rows = [
        {
            "answer": answer,
            "display": answer_display(answer.batch.form, answer.data),
            "appeal_until": selectors.appeal_deadline(answer),
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
            messages.success(request, _("Appeal sent. The client decides within 7 days."))
            return redirect("microtasks:answer_history")
    return render(
        request,
        "microtasks/appeal.html",
        {
            "answer": answer,
            "form": form,
            "display": answer_display(answer.batch.form, answer.data),
            "item_html": item_render(answer.batch.display, answer.item.data),
            "appeal_until": selectors.appeal_deadline(answer),
        },
    )


# --- clients: batches, definition, upload, publish ---------------------------------------------


@login_required
@require_GET
def manage_list_view(request: AuthedRequest) -> HttpResponse:
    page = _page(request, selectors.batches_for_client(user=request.user), 25)
    return render(request, "microtasks/manage_list.html", {"page": page})


def _batch_form_view(request: AuthedRequest, batch: Batch | None) -> HttpResponse:
    organisations = list(organisations_user_can_post_for(user=request.user))
    initial = BatchForm.initial_from(batch) if batch else {}
    form = BatchForm(request.POST or None, initial=initial, organisations=organisations)
    if request.method == "POST" and form.is_valid():
        values = form.service_values()
        if values is not None:
            try:
                if batch is None:
                    batch = services.batch_create(user=request.user, **values)
                    messages.success(request, _("Draft saved. Now upload the items."))
                else:
                    batch = services.batch_update(batch_id=batch.pk, user=request.user, **values)
                    messages.success(request, _("Draft saved."))
                return redirect("microtasks:manage", pk=batch.pk)
            except ValidationFailed as exc:
                form_errors_apply(form, service_errors(exc))
            except NotFound:
                raise
            except ApplicationError as exc:
                flash_error(request, exc)
    return render(
        request,
        "microtasks/batch_form.html",
        {"form": form, "batch": batch, "minimum_hourly": selectors.min_hourly_cents()},
        status=422 if form.errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def batch_create_view(request: AuthedRequest) -> HttpResponse:
    return _batch_form_view(request, None)


@login_required
@require_http_methods(["GET", "POST"])
@not_found_as_404
def batch_edit_view(request: AuthedRequest, pk: int) -> HttpResponse:
    batch = selectors.batch_for_manager(batch_id=pk, user=request.user)
    if batch.status != Batch.Status.DRAFT:
        messages.error(request, _("Only a draft can be changed."))
        return redirect("microtasks:manage", pk=pk)
    return _batch_form_view(request, batch)


@login_required
@require_GET
@not_found_as_404
def manage_view(request: AuthedRequest, pk: int) -> HttpResponse:
    """The client's page of a batch: the draft checklist, or progress, money and actions."""
    batch = selectors.batch_for_manager(batch_id=pk, user=request.user)
    context: dict[str, Any] = {"batch": batch}
    if batch.status == Batch.Status.DRAFT:
        first = Item.objects.filter(batch=batch).order_by("position").first()
        context.update(
            {
                "upload_form": UploadForm(),
                "items": Item.objects.filter(batch=batch).count(),
                "gold_items": Item.objects.filter(batch=batch, is_gold=True).count(),
                "preview_html": item_render(batch.display, first.data) if first else "",
                "preview_fields": _form_fields(batch, None, None),
                "instructions": markdown_render(batch.instructions),
            }
        )
    else:
        context.update(
            {
                "progress": selectors.batch_progress(batch=batch),
                "quality": selectors.batch_quality_summary(batch=batch),
                "advice": selectors.fair_pay_advice(batch=batch),
                "reward_form": RewardForm(),
            }
        )
    return render(request, "microtasks/manage.html", context)


@login_required
@require_POST
@not_found_as_404
def items_upload_view(request: AuthedRequest, pk: int) -> HttpResponse:
    batch = selectors.batch_for_manager(batch_id=pk, user=request.user)
    form = UploadForm(request.POST, request.FILES)
    if form.is_valid():
        upload = form.cleaned_data["file"]
        if upload.size > max_upload_bytes():
            form.add_error("file", _("The file is too large."))
        else:
            try:
                added = services.items_upload(
                    batch_id=pk, user=request.user, content=upload.read(), filename=upload.name
                )
            except ValidationFailed as exc:
                form_errors_apply(form, exc)
                if exc.fields:
                    form.add_error(None, exc.message)
            except NotFound:
                raise
            except ApplicationError as exc:
                flash_error(request, exc)
                return redirect("microtasks:manage", pk=pk)
            else:
                messages.success(request, _("%(n)d items added.") % {"n": added})
                return redirect("microtasks:manage", pk=pk)
    first = Item.objects.filter(batch=batch).order_by("position").first()
    return render(
        request,
        "microtasks/manage.html",
        {
            "batch": batch,
            "upload_form": form,
            "items": Item.objects.filter(batch=batch).count(),
            "gold_items": Item.objects.filter(batch=batch, is_gold=True).count(),
            "preview_html": item_render(batch.display, first.data) if first else "",
            "preview_fields": _form_fields(batch, None, None),
            "instructions": markdown_render(batch.instructions),
        },
        status=422,
    )


@login_required
@require_POST
@not_found_as_404
def items_clear_view(request: AuthedRequest, pk: int) -> HttpResponse:
    try:
        services.items_clear(batch_id=pk, user=request.user)
    except NotFound:
        raise
    except ApplicationError as exc:
        flash_error(request, exc)
    else:
        messages.success(request, _("All items removed."))
    return redirect("microtasks:manage", pk=pk)


@login_required
@require_http_methods(["GET", "POST"])
@not_found_as_404
def publish_view(request: AuthedRequest, pk: int) -> HttpResponse:
    """The funding summary; publishes, or starts a deposit of exactly the shortfall and comes
    back here after the payment."""
    batch = selectors.batch_for_manager(batch_id=pk, user=request.user)
    if request.method == "POST":
        try:
            if request.POST.get("action") == "deposit":
                deposit = services.batch_deposit_shortfall(
                    batch_id=pk, user=request.user, return_path=request.path
                )
                return redirect(deposit.checkout_url)
            services.batch_publish(batch_id=pk, user=request.user)
        except NotFound:
            raise
        except ApplicationError as exc:
            flash_error(request, exc)
            return redirect("microtasks:publish", pk=pk)
        messages.success(request, _("Published. Workers can start right away."))
        return redirect("microtasks:manage", pk=pk)
    if batch.status != Batch.Status.DRAFT:
        return redirect("microtasks:manage", pk=pk)
    funding = selectors.batch_funding(batch=batch)
    return render(
        request,
        "microtasks/publish.html",
        {
            "batch": batch,
            "funding": funding,
            "deposit_amount": funding.deposit_amount,
            "hourly": selectors.hourly_cents(reward=batch.reward, seconds=batch.estimated_seconds),
        },
    )


def _batch_action(
    request: AuthedRequest, pk: int, action: Callable[[], Any], success: str
) -> HttpResponseRedirect:
    return post_action(request, action, success, reverse("microtasks:manage", kwargs={"pk": pk}))


@login_required
@require_POST
def batch_pause_view(request: AuthedRequest, pk: int) -> HttpResponse:
    return _batch_action(
        request,
        pk,
        lambda: services.batch_pause(batch_id=pk, user=request.user),
        _("Paused. Workers who hold an item can still finish it."),
    )


@login_required
@require_POST
def batch_resume_view(request: AuthedRequest, pk: int) -> HttpResponse:
    return _batch_action(
        request,
        pk,
        lambda: services.batch_resume(batch_id=pk, user=request.user),
        _("Open again."),
    )


@login_required
@require_POST
def batch_close_view(request: AuthedRequest, pk: int) -> HttpResponse:
    return _batch_action(
        request,
        pk,
        lambda: services.batch_close(batch_id=pk, user=request.user),
        _("Closed. What the escrow no longer needs is back in the wallet."),
    )


@login_required
@require_POST
@not_found_as_404
def batch_reward_view(request: AuthedRequest, pk: int) -> HttpResponse:
    selectors.batch_for_manager(batch_id=pk, user=request.user)
    form = RewardForm(request.POST)
    if form.is_valid() and (cents := form.reward_cents()) is not None:
        try:
            services.batch_reward_raise(batch_id=pk, user=request.user, reward=cents)
        except NotFound:
            raise
        except ApplicationError as exc:
            flash_error(request, exc)
        else:
            messages.success(
                request, _("Reward raised. Answers already approved got the difference.")
            )
    else:
        for errors in form.errors.values():
            messages.error(request, " ".join(str(e) for e in errors))
    return redirect("microtasks:manage", pk=pk)


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
    }


@login_required
@require_GET
@not_found_as_404
def review_view(request: AuthedRequest, pk: int) -> HttpResponse:
    batch = selectors.batch_for_manager(batch_id=pk, user=request.user)
    status = request.GET.get("status") or Answer.Status.PENDING
    if status not in Answer.Status.values:
        status = Answer.Status.PENDING
    answers = selectors.answers_for_review(batch=batch, status=status)
    worker = (request.GET.get("worker") or "").strip()
    if worker:
        worker_id = selectors.worker_id_for_pseudonym(batch=batch, pseudonym=worker)
        answers = answers.filter(worker_id=worker_id or 0)
    page = _page(request, answers, REVIEW_PAGE_SIZE)
    appeals = list(selectors.answers_for_review(batch=batch, status=Answer.Status.APPEALED)[:50])
    workers = selectors.batch_workers(batch=batch)
    return render(
        request,
        "microtasks/review.html",
        {
            "batch": batch,
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
        if not _htmx(request):
            messages.error(request, error)
    else:
        if not _htmx(request):
            messages.success(
                request, _("Approved and paid.") if decision == "approve" else _("Rejected.")
            )
    if _htmx(request):
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
    batch = selectors.batch_for_manager(batch_id=pk, user=request.user)
    page = _page(request, selectors.items_with_answers(batch=batch), ITEMS_PAGE_SIZE)
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
    return render(request, "microtasks/items.html", {"batch": batch, "page": page, "rows": rows})


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
    batch = selectors.batch_for_manager(batch_id=pk, user=request.user)
    show = request.GET.get("show") or "all"
    if show not in selectors.RESULT_FILTERS:
        show = "all"
    page = _page(request, selectors.batch_results(batch=batch, show=show), RESULTS_PAGE_SIZE)
    excluded = selectors.batch_excluded_workers(batch=batch)
    return render(
        request,
        "microtasks/results.html",
        {
            "batch": batch,
            "page": page,
            "show": show,
            "rows": [_result_row(batch, item, excluded) for item in page.object_list],
            "summary": selectors.batch_quality_summary(batch=batch),
        },
    )


@login_required
@require_GET
@not_found_as_404
def workers_view(request: AuthedRequest, pk: int) -> HttpResponse:
    """Answers and quality per worker, with bulk review and exclusion."""
    batch = selectors.batch_for_manager(batch_id=pk, user=request.user)
    return render(
        request,
        "microtasks/workers.html",
        {"batch": batch, "workers": selectors.batch_workers(batch=batch)},
    )


@login_required
@require_POST
@not_found_as_404
def worker_exclude_view(request: AuthedRequest, pk: int) -> HttpResponse:
    selectors.batch_for_manager(batch_id=pk, user=request.user)
    excluded = request.POST.get("excluded", "1") == "1"
    worker = request.POST.get("worker", "")
    return _batch_action(
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
    return render(request, "microtasks/staff_appeals.html", {"rows": rows})
