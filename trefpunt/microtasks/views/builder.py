"""The client's task builder for a draft batch: templates, the answer form field by field,
the item columns shown, a preview with a real item, and the qualification test."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from trefpunt.core.exceptions import ApplicationError, NotFound, ValidationFailed
from trefpunt.core.types import AuthedRequest
from trefpunt.core.web import flash_error, not_found_as_404

from .. import limits, selectors
from ..models import Batch, Item
from ..rendering import item_render
from ..services import builder
from ..services.qualification import batch_test_set
from .qualification import prefixed_fields

FIELD_TYPE_LABELS = {
    "single": gettext_lazy("One choice"),
    "multiple": gettext_lazy("Several choices"),
    "text": gettext_lazy("Text"),
    "number": gettext_lazy("Number"),
    "rating": gettext_lazy("Rating"),
}


def _int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _percent(value: Any) -> float:
    try:
        return float(str(value).replace(",", ".")) / 100
    except ValueError:
        return -1


def _action(request: AuthedRequest, batch: Batch) -> str:
    """Run the posted builder action; returns the message to show."""
    post = request.POST
    action = post.get("action", "")
    user, pk = request.user, batch.pk
    if action == "template":
        builder.batch_template_apply(batch_id=pk, user=user, template=post.get("template", ""))
        return _("Template applied. Adjust the fields below.")
    if action == "field_add":
        spec = builder.builder_field_spec(
            kind=post.get("type", ""),
            label=post.get("label", ""),
            choices=post.get("choices", ""),
            help_text=post.get("help", ""),
            example=post.get("example", ""),
            required=post.get("required") == "on",
            scale=_int(post.get("scale"), 5),
            taken={f["name"] for f in batch.form},
        )
        builder.batch_field_add(batch_id=pk, user=user, spec=spec)
        return _("Field added.")
    if action == "field_remove":
        builder.batch_field_remove(batch_id=pk, user=user, name=post.get("name", ""))
        return _("Field removed.")
    if action == "display_add":
        builder.batch_display_add(
            batch_id=pk,
            user=user,
            column=post.get("column", ""),
            widget=post.get("widget", "text"),
            label=post.get("display_label", ""),
        )
        return _("Column added to what workers see.")
    if action == "display_remove":
        builder.batch_display_remove(batch_id=pk, user=user, index=_int(post.get("index"), -1))
        return _("Column removed.")
    if action == "page_size":
        builder.batch_page_size_set(
            batch_id=pk, user=user, page_size=_int(post.get("page_size"), 0)
        )
        return _("Items per page saved.")
    if action == "test":
        batch_test_set(
            batch_id=pk,
            user=user,
            questions=_int(post.get("test_questions"), -1),
            pass_mark=_percent(post.get("test_pass_mark", "")),
            attempts=_int(post.get("test_attempts"), 0),
            scope=post.get("test_scope", ""),
        )
        return _("Qualification test saved.")
    raise ValidationFailed(fields={"action": _("Unknown action.")})


@login_required
@require_http_methods(["GET", "POST"])
@not_found_as_404
def builder_view(request: AuthedRequest, pk: int) -> HttpResponse:
    access = selectors.batch_access_for_manager(batch_id=pk, user=request.user)
    batch = access.batch
    if not access.can_edit:
        raise NotFound(_("Batch not found."))
    if request.method == "POST":
        try:
            messages.success(request, _action(request, batch))
        except ValidationFailed as exc:
            for problems in exc.fields.values():
                for problem in problems:
                    messages.error(request, problem)
        except ApplicationError as exc:
            flash_error(request, exc)
        return redirect("microtasks:builder", pk=pk)
    item = Item.objects.filter(batch=batch).order_by("is_gold", "position").first()
    return render(
        request,
        "microtasks/builder.html",
        {
            "batch": batch,
            "access": access,
            "templates": list(builder.TEMPLATES.values()),
            "field_types": FIELD_TYPE_LABELS,
            "form_rows": [(f, FIELD_TYPE_LABELS.get(f["type"], "")) for f in batch.form],
            "widgets": builder.WIDGETS,
            "preview_item": item,
            "preview_html": item_render(batch.display, item.data) if item else "",
            "preview_fields": prefixed_fields(batch, "preview-", None) if batch.form else [],
            "gold_count": Item.objects.filter(batch=batch, is_gold=True).count(),
            "scopes": Batch.TestScope.choices,
            "page_size_max": limits.PAGE_SIZE_MAX,
        },
    )
