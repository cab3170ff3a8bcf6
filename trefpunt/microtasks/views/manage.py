"""The client's pages of a batch: the list, the definition, items, funding and publishing,
and the run (pause, resume, close, raise the reward)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from trefpunt.accounts.selectors import organisations_user_can_post_for
from trefpunt.core.exceptions import ApplicationError, NotFound, ValidationFailed
from trefpunt.core.forms import form_errors_apply
from trefpunt.core.types import AuthedRequest
from trefpunt.core.web import (
    flash_error,
    not_found_as_404,
)

from .. import selectors, services
from ..forms import (
    BatchForm,
    RewardForm,
    UploadForm,
    service_errors,
)
from ..models import Batch, Item
from ..rendering import item_render, markdown_render
from ..uploads import max_upload_bytes
from .common import answer_form_fields, batch_action, page_of

# --- clients: batches, definition, upload, publish ---------------------------------------------


@login_required
@require_GET
def manage_list_view(request: AuthedRequest) -> HttpResponse:
    page = page_of(request, selectors.batches_for_client(user=request.user), 25)
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
    access = selectors.batch_access_for_manager(batch_id=pk, user=request.user)
    if not access.can_edit:
        messages.error(request, _("Only a draft can be changed."))
        return redirect("microtasks:manage", pk=pk)
    return _batch_form_view(request, access.batch)


@login_required
@require_GET
@not_found_as_404
def manage_view(request: AuthedRequest, pk: int) -> HttpResponse:
    """The client's page of a batch: the draft checklist, or progress, money and actions."""
    access = selectors.batch_access_for_manager(batch_id=pk, user=request.user)
    batch = access.batch
    if access.can_edit:
        return render(request, "microtasks/manage.html", _draft_context(access, UploadForm()))
    context: dict[str, Any] = {"batch": batch, "access": access}
    context.update(
        {
            "progress": selectors.batch_progress(batch=batch),
            "quality": selectors.batch_quality_summary(batch=batch),
            "advice": selectors.fair_pay_advice(batch=batch),
            "reward_form": RewardForm(),
        }
    )
    return render(request, "microtasks/manage.html", context)


def _draft_context(access: selectors.BatchAccess, upload_form: UploadForm) -> dict[str, Any]:
    """The draft checklist: the items uploaded so far and what workers will see."""
    batch = access.batch
    first = Item.objects.filter(batch=batch).order_by("position").first()
    return {
        "batch": batch,
        "access": access,
        "upload_form": upload_form,
        "items": Item.objects.filter(batch=batch).count(),
        "gold_items": Item.objects.filter(batch=batch, is_gold=True).count(),
        "preview_html": item_render(batch.display, first.data) if first else "",
        "preview_fields": answer_form_fields(batch, None, None),
        "instructions": markdown_render(batch.instructions),
    }


@login_required
@require_POST
@not_found_as_404
def items_upload_view(request: AuthedRequest, pk: int) -> HttpResponse:
    access = selectors.batch_access_for_manager(batch_id=pk, user=request.user)
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
    return render(request, "microtasks/manage.html", _draft_context(access, form), status=422)


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
    access = selectors.batch_access_for_manager(batch_id=pk, user=request.user)
    batch = access.batch
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
    if not access.can_publish:
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


@login_required
@require_POST
def batch_pause_view(request: AuthedRequest, pk: int) -> HttpResponse:
    return batch_action(
        request,
        pk,
        lambda: services.batch_pause(batch_id=pk, user=request.user),
        _("Paused. Workers who hold an item can still finish it."),
    )


@login_required
@require_POST
def batch_resume_view(request: AuthedRequest, pk: int) -> HttpResponse:
    return batch_action(
        request,
        pk,
        lambda: services.batch_resume(batch_id=pk, user=request.user),
        _("Open again."),
    )


@login_required
@require_POST
def batch_close_view(request: AuthedRequest, pk: int) -> HttpResponse:
    return batch_action(
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
