"""The work page of a batch with task pages (``Batch.page_size`` > 1): the worker claims a
page of items at once, answers them in one form and sends it with one submit, stored all
together or not at all (``services.lease_answer_page``). With one item per page the work
page of ``work`` is used unchanged.

Every item's inputs are named ``l<lease id>-<field>``, so equal field names of the items do
not clash; the form lists the page's lease ids in ``lease``. The service names each problem by its
lease (``<lease id>.<field>``), so it is shown next to its item; nothing is stored while
any item is incomplete.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from trefpunt.core.exceptions import ApplicationError, NotFound, ValidationFailed
from trefpunt.core.types import AuthedRequest

from .. import limits, selectors, services
from ..models import Answer, Batch, Lease
from ..rendering import item_render
from .common import is_htmx
from .qualification import answer_from_post, prefixed_fields
from .work_panel import feedback_text, gold_feedback, panel_context, render_work

Values = dict[int, dict[str, Any]]
Errors = dict[int, dict[str, list[str]]]


def lease_prefix(lease: Lease) -> str:
    return f"l{lease.pk}-"


def page_context(
    request: HttpRequest,
    batch: Batch,
    leases: list[Lease],
    *,
    values: Values | None = None,
    errors: Errors | None = None,
    form_errors: list[str] | None = None,
) -> dict[str, Any]:
    """The page part of the work panel: each lease with its item and its prefixed fields."""
    values = values or {}
    errors = errors or {}
    form_names = {field["name"] for field in batch.form}
    rows = [
        {
            "lease": lease,
            "item_html": item_render(batch.display, lease.item.data),
            "fields": prefixed_fields(
                batch, lease_prefix(lease), values.get(lease.pk), errors.get(lease.pk)
            ),
            "error": lease.pk in errors,
            "messages": [
                message
                for name, problems in errors.get(lease.pk, {}).items()
                if name not in form_names
                for message in problems
            ],
        }
        for lease in leases
    ]
    return {
        "page": rows,
        "page_expires": min((lease.expires_at for lease in leases), default=None),
        "form_error": bool(errors),
        "error_count": len(errors),
        "form_errors": form_errors or [],
    }


def posted_lease_ids(data: Any) -> list[int]:
    """The lease ids the page form lists, at most a page's worth; 404 for anything else."""
    raw = data.getlist("lease")[: limits.PAGE_SIZE_MAX]
    if not raw or not all(value.isdigit() and len(value) < 19 for value in raw):
        raise NotFound(_("Lease not found."))
    return [int(value) for value in raw]


def posted_values(batch: Batch, leases: list[Lease], data: Any) -> Values:
    return {lease.pk: answer_from_post(batch.form, data, lease_prefix(lease)) for lease in leases}


def errors_by_lease(exc: ApplicationError, leases: list[Lease]) -> tuple[Errors, list[str]]:
    """The service's refusal of a page split by item: its fields are named ``<lease id>.
    <field>`` (or just the lease id); whatever names no item of the page goes on top."""
    ids = {lease.pk for lease in leases}
    errors: Errors = {}
    rest: list[str] = []
    for key, problems in exc.fields.items():
        head, _dot, field = key.partition(".")
        if head.isdigit() and int(head) in ids:
            errors.setdefault(int(head), {}).setdefault(field or "__all__", []).extend(problems)
        else:
            rest.extend(problems)
    if not errors and not rest:
        rest = [exc.message]
    return errors, rest


def claim_page(request: AuthedRequest, batch: Batch) -> tuple[list[Lease], str]:
    """The worker's page (the one they hold, or a new one) and why there is none."""
    try:
        leases = services.lease_claim_page(
            batch_id=batch.pk, worker=request.user, size=batch.page_size
        )
    except NotFound:
        raise
    except ApplicationError as exc:
        return [], exc.message
    return leases, ""


def page_feedback(batch: Batch, answers: list[Answer]) -> list[dict[str, Any]]:
    """The gold feedback of the page's test questions, each naming its item."""
    found = []
    for answer in answers:
        feedback = gold_feedback(batch, answer)
        if feedback is not None:
            found.append({**feedback, "position": answer.item.position})
    return found


def feedback_flash(request: HttpRequest, feedbacks: list[dict[str, Any]]) -> None:
    for feedback in feedbacks:
        text = _("Item %(n)d: %(feedback)s") % {
            "n": feedback["position"],
            "feedback": feedback_text(feedback),
        }
        (messages.success if feedback["correct"] else messages.warning)(request, text)


def after_page(
    request: AuthedRequest,
    batch: Batch,
    notice: str,
    *,
    feedbacks: list[dict[str, Any]] | None = None,
    values: Values | None = None,
    render_always: bool = False,
) -> HttpResponse:
    """After a page is sent, or an item of it skipped: the worker's next page (htmx, or
    ``render_always``, keeping what they typed into the items still on it) or a redirect to
    the work page."""
    leases, stopped = claim_page(request, batch)
    if is_htmx(request) or render_always:
        context = panel_context(
            request,
            batch,
            None,
            notice=notice,
            stopped=stopped,
            exhausted=not leases and not stopped,
        )
        context.update(page_context(request, batch, leases, values=values))
        context["page_feedback"] = feedbacks or []
        return render_work(request, batch, context)
    feedback_flash(request, feedbacks or [])
    if notice:
        messages.success(request, notice)
    if stopped:
        messages.error(request, stopped)
    elif not leases:
        messages.info(request, _("There is nothing more for you in this batch right now."))
    return redirect("microtasks:work", pk=batch.pk)


def page_answer(request: AuthedRequest, batch: Batch) -> HttpResponse:
    """Store the posted page: every item's answer, or none of them."""
    leases = selectors.leases_for_worker(
        batch=batch, lease_ids=posted_lease_ids(request.POST), user=request.user
    )
    values = posted_values(batch, leases, request.POST)
    try:
        stored = services.lease_answer_page(
            worker=request.user, answers=[(lease.pk, values[lease.pk]) for lease in leases]
        )
    except ValidationFailed as exc:
        errors, form_errors = errors_by_lease(exc, leases)
    except NotFound:
        raise
    except ApplicationError as exc:
        # A lease ran out meanwhile: nothing was stored; the page the worker holds now
        # keeps what they typed.
        return after_page(request, batch, exc.message, values=values, render_always=True)
    else:
        saved = ngettext("%(n)d answer saved.", "%(n)d answers saved.", len(stored)) % {
            "n": len(stored)
        }
        return after_page(request, batch, saved, feedbacks=page_feedback(batch, stored))
    context = panel_context(request, batch, None)
    context.update(
        page_context(request, batch, leases, values=values, errors=errors, form_errors=form_errors)
    )
    return render_work(request, batch, context, status=200 if is_htmx(request) else 422)


def page_skip(request: AuthedRequest, lease: Lease) -> HttpResponse:
    """Skip one item of the page; the rest of the page stays with what was typed into it."""
    batch = lease.batch
    try:
        services.lease_skip(lease_id=lease.pk, worker=request.user)
    except NotFound:
        raise
    except ApplicationError as exc:
        return after_page(request, batch, exc.message)
    others = [other for other in _posted_leases(request, batch) if other.pk != lease.pk]
    return after_page(
        request,
        batch,
        _("Skipped. You will not see this item again."),
        values=posted_values(batch, others, request.POST),
        render_always=bool(others),
    )


def _posted_leases(request: AuthedRequest, batch: Batch) -> list[Lease]:
    """The page's leases the skip form sent along (htmx includes the page form), if any."""
    if not request.POST.getlist("lease"):
        return []
    try:
        return selectors.leases_for_worker(
            batch=batch, lease_ids=posted_lease_ids(request.POST), user=request.user
        )
    except NotFound:
        return []
