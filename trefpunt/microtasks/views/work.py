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
from django.template.loader import get_template
from django.utils import timezone
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from trefpunt.contests.fragments import (
    CSRF_PLACEHOLDER,
    csrf_fill,
    fragments_render,
    listing_render,
)
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
from ..models import Batch, Item, Lease
from ..rendering import item_render, markdown_render
from ..selectors.rules import worker_test_status
from . import work_page
from .common import is_htmx, page_of
from .qualification import answer_from_post
from .work_panel import feedback_text, gold_feedback, panel_context, render_work

HISTORY_PAGE_SIZE = 50

# --- workers: batches, work, history ------------------------------------------------------


@require_GET
def batch_list_view(request: HttpRequest) -> HttpResponse:
    """Open for visitors too: what each batch pays and asks, with "log in to start"."""
    context: dict[str, Any] = {"minimum_hourly": selectors.min_hourly_cents()}
    if not request.user.is_authenticated:
        # The same for every visitor: kept as the public contest list is (a new or closed
        # batch shows at once, the items left may lag ``LISTING_SECONDS``).
        context["listing"] = listing_render(
            request,
            "batch-list",
            "microtasks/batch_list.html#cards",
            lambda: {"rows": selectors.batches_open_for_visitors(), "other_rows": []},
        )
        return render(request, "microtasks/batch_list.html", context)
    rows = selectors.batches_available(user=request.user)
    context["rows"] = [r for r in rows if r.qualifies]
    context["other_rows"] = [r for r in rows if not r.qualifies]
    context["cards"] = csrf_fill(request, _cards_html(request, context["rows"]))
    return render(request, "microtasks/batch_list.html", context)


def _card_parts(row: selectors.AvailableBatch) -> tuple[Any, ...]:
    """Everything ``batch_list.html#card`` shows of a logged-in worker's card (its cache
    key): a field the card starts to show must be added here."""
    batch = row.batch
    return (
        batch.pk,
        batch.reward,
        batch.currency,
        batch.title,
        row.hourly,
        row.seconds_per_task,
        row.items_left,
        row.cap_left,
        batch.organisation.name if batch.organisation else None,
        batch.owner.profile.display_name,
        bool(row.my_answers),
    )


def _cards_html(request: HttpRequest, rows: list[selectors.AvailableBatch]) -> list[SafeString]:
    """The worker's cards, each rendered once and then taken from the cache until something
    it shows changes (``contests.fragments``; the form's CSRF token is filled in after)."""
    template = get_template("microtasks/batch_list.html#card")

    def render_card(i: int) -> str:
        return template.render(
            {"row": rows[i], "user": request.user, "csrf_token": CSRF_PLACEHOLDER}
        )

    return fragments_render("batch-card", [_card_parts(r) for r in rows], render_card)


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
    """GET shows the item (or the page of items) the worker holds, no lease is taken by a
    GET; POST claims one (or a page)."""
    batch = selectors.batch_for_work(batch_id=pk)
    if batch.page_size > 1:
        if request.method == "POST":
            return work_page.after_page(request, batch, "")
        context = panel_context(request, batch, None)
        leases = selectors.leases_live_for_worker(batch=batch, user=request.user)
        context.update(work_page.page_context(request, batch, leases))
        return render_work(request, batch, context)
    if request.method == "POST":
        return _after_item(request, batch, "")
    lease = selectors.lease_live_for_worker(batch=batch, user=request.user)
    return render_work(request, batch, panel_context(request, batch, lease))


@login_required
@require_POST
@not_found_as_404
def page_answer_view(request: AuthedRequest, pk: int) -> HttpResponse:
    """The answers of a page of items, sent with one submit: all stored, or none."""
    batch = selectors.batch_for_work(batch_id=pk)
    return work_page.page_answer(request, batch)


def _after_item(
    request: AuthedRequest, batch: Batch, notice: str, feedback: dict[str, Any] | None = None
) -> HttpResponse:
    """After an answer or a skip: the next item (htmx) or a redirect to the work page."""
    lease, stopped = _claim_next(request, batch)
    exhausted = lease is None and not stopped
    if is_htmx(request):
        context = panel_context(
            request,
            batch,
            lease,
            notice=notice,
            stopped=stopped,
            exhausted=exhausted,
            feedback=feedback,
        )
        return render_work(request, batch, context)
    if feedback:
        (messages.success if feedback["correct"] else messages.warning)(
            request, feedback_text(feedback)
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
    raw = answer_from_post(batch.form, request.POST, "")
    try:
        stored = services.lease_answer(lease_id=lease.pk, worker=request.user, answer=raw)
    except ValidationFailed as exc:
        errors = exc.fields or {"__all__": [exc.message]}
        context = panel_context(request, batch, lease, values=raw, errors=errors)
        return render_work(request, batch, context, status=200 if is_htmx(request) else 422)
    except NotFound:
        raise
    except ApplicationError as exc:
        return _after_item(request, batch, exc.message)
    return _after_item(request, batch, _("Answer saved."), gold_feedback(batch, stored))


@login_required
@require_POST
@not_found_as_404
def lease_skip_view(request: AuthedRequest, pk: int) -> HttpResponse:
    lease = selectors.lease_for_worker(lease_id=pk, user=request.user)
    if lease.batch.page_size > 1:
        return work_page.page_skip(request, lease)
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
