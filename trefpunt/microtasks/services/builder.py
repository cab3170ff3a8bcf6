"""The task builder: a draft batch's answer form and item display built field by field in
the browser, or started from a template, instead of written as JSON.

Every change goes through the same checks as the JSON a script sends through the API
(``formspec.form_spec_clean``, ``rendering.display_spec_clean``), so both ways build the
same forms. Only a draft changes; the item columns shown must exist in uploaded items.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from trefpunt.core.exceptions import Conflict, ErrorCode, ValidationFailed

from ..formspec import MAX_FIELDS, form_spec_clean
from ..models import Batch
from ..rendering import WIDGETS, display_spec_clean
from ..selectors import batch_for_manager
from ..states import batch_is_editable
from .definition import page_size_clean

if TYPE_CHECKING:
    from django.utils.functional import Promise

    from trefpunt.accounts.models import User

# What the builder offers: the form's field types plus a rating (a number on a scale).
BUILDER_TYPES = ("single", "multiple", "text", "number", "rating")
__all__ = ["BUILDER_TYPES", "TEMPLATES", "WIDGETS"]


@dataclass(frozen=True)
class Template:
    key: str
    title: Promise
    instructions: Promise
    form: list[dict[str, Any]]
    display: list[dict[str, Any]]


def _choices(*pairs: tuple[str, Promise]) -> list[dict[str, Any]]:
    return [{"value": value, "label": label} for value, label in pairs]


TEMPLATES: dict[str, Template] = {
    t.key: t
    for t in (
        Template(
            "sentiment",
            gettext_lazy("Sentiment"),
            gettext_lazy("Read the text and choose its overall sentiment."),
            [
                {
                    "name": "sentiment",
                    "label": gettext_lazy("Sentiment"),
                    "type": "single",
                    "choices": _choices(
                        ("positive", gettext_lazy("Positive")),
                        ("neutral", gettext_lazy("Neutral")),
                        ("negative", gettext_lazy("Negative")),
                    ),
                    "help": gettext_lazy("Judge the whole text, not one sentence."),
                    "example": gettext_lazy("“Arrived late but works great” is positive."),
                }
            ],
            [{"column": "text", "widget": "text", "label": gettext_lazy("Text")}],
        ),
        Template(
            "relevance",
            gettext_lazy("Search relevance"),
            gettext_lazy("Decide how well the result answers the search query."),
            [
                {
                    "name": "relevance",
                    "label": gettext_lazy("Relevance"),
                    "type": "single",
                    "choices": _choices(
                        ("relevant", gettext_lazy("Relevant")),
                        ("partly", gettext_lazy("Partly relevant")),
                        ("irrelevant", gettext_lazy("Not relevant")),
                    ),
                    "help": gettext_lazy("Would someone who typed the query be glad to find this?"),
                }
            ],
            [
                {"column": "query", "widget": "text", "label": gettext_lazy("Query")},
                {"column": "result", "widget": "text", "label": gettext_lazy("Result")},
            ],
        ),
        Template(
            "image",
            gettext_lazy("Image classification"),
            gettext_lazy("Look at the image and choose what it shows."),
            [
                {
                    "name": "label",
                    "label": gettext_lazy("The image shows"),
                    "type": "single",
                    "choices": _choices(
                        ("cat", gettext_lazy("A cat")),
                        ("dog", gettext_lazy("A dog")),
                        ("other", gettext_lazy("Other")),
                    ),
                    "help": gettext_lazy("Choose “Other” when you are unsure what it shows."),
                }
            ],
            [{"column": "image_url", "widget": "image", "label": gettext_lazy("Image")}],
        ),
        Template(
            "moderation",
            gettext_lazy("Yes/no moderation"),
            gettext_lazy("Decide whether the post breaks the community rules."),
            [
                {
                    "name": "allowed",
                    "label": gettext_lazy("May this post stay online?"),
                    "type": "single",
                    "choices": _choices(("yes", gettext_lazy("Yes")), ("no", gettext_lazy("No"))),
                    "help": gettext_lazy("No for insults, spam or personal data of others."),
                }
            ],
            [{"column": "text", "widget": "text", "label": gettext_lazy("Post")}],
        ),
        Template(
            "transcription",
            gettext_lazy("Transcription"),
            gettext_lazy("Type the text you see in the image exactly as written."),
            [
                {
                    "name": "transcript",
                    "label": gettext_lazy("Text in the image"),
                    "type": "text",
                    "max_length": 500,
                    "help": gettext_lazy(
                        "Keep spelling and capitals; leave out what you cannot read."
                    ),
                }
            ],
            [{"column": "image_url", "widget": "image", "label": gettext_lazy("Image")}],
        ),
    )
}


def _plain(value: Any) -> Any:
    """Lazy translations made text in the language of the request applying a template."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value if isinstance(value, str | int | float | bool) else str(value)


def _draft_locked(*, batch_id: int, user: User) -> Batch:
    batch = batch_for_manager(batch_id=batch_id, user=user)
    batch = Batch.objects.select_for_update(no_key=True).get(pk=batch.pk)
    if not batch_is_editable(batch):
        raise Conflict(_("Only a draft can be changed."), code=ErrorCode.NOT_DRAFT)
    return batch


def _columns_check(batch: Batch, display: list[dict[str, str]]) -> None:
    if not batch.item_columns:
        return  # nothing uploaded yet: the upload checks the columns
    missing = [d["column"] for d in display if d["column"] not in batch.item_columns]
    if missing:
        raise ValidationFailed(
            fields={
                "display": _("Your items have no column %(columns)s.")
                % {"columns": ", ".join(missing)}
            }
        )


def batch_template_apply(*, batch_id: int, user: User, template: str) -> Batch:
    """Replace the draft's answer form and display with a template's (and fill in its
    instructions when the batch has none)."""
    chosen = TEMPLATES.get(template)
    if chosen is None:
        raise ValidationFailed(fields={"template": _("Choose one of the templates.")})
    with transaction.atomic(durable=True):
        batch = _draft_locked(batch_id=batch_id, user=user)
        display = display_spec_clean(_plain(chosen.display))
        batch.form = form_spec_clean(_plain(chosen.form))
        batch.display = display
        if not batch.instructions.strip():
            batch.instructions = str(chosen.instructions)
        batch.save(update_fields=["form", "display", "instructions"])
    return batch


def _name_for(label: str, taken: set[str]) -> str:
    base = re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_")
    base = (base if base[:1].isalpha() else f"field_{base}")[:36].strip("_") or "field"
    name, n = base, 2
    while name in taken:
        name, n = f"{base}_{n}", n + 1
    return name


def builder_field_spec(
    *,
    kind: str,
    label: str,
    choices: str = "",
    help_text: str = "",
    example: str = "",
    required: bool = True,
    scale: int = 5,
    taken: set[str] | frozenset[str] = frozenset(),
) -> dict[str, Any]:
    """A form field as the builder's "add a field" form describes it: choices one per
    line (``value = label`` or just a label), a rating as a number on a 1–``scale`` scale."""
    if kind not in BUILDER_TYPES:
        raise ValidationFailed(fields={"type": _("Choose a field type.")})
    label = (label or "").strip()
    spec: dict[str, Any] = {
        "name": _name_for(label, set(taken)),
        "label": label,
        "type": "number" if kind == "rating" else kind,
        "required": required,
        "help": help_text.strip(),
        "example": example.strip(),
    }
    if kind in ("single", "multiple"):
        parsed = []
        for line in choices.splitlines():
            if not line.strip():
                continue
            value, _sep, shown = line.partition("=")
            shown = shown.strip() or value.strip()
            parsed.append({"value": value.strip(), "label": shown})
        spec["choices"] = parsed
    elif kind == "rating":
        spec["scale"] = scale
    return spec


def batch_field_add(*, batch_id: int, user: User, spec: dict[str, Any]) -> Batch:
    """Add a field (a ``builder_field_spec``) at the end of the draft's answer form."""
    with transaction.atomic(durable=True):
        batch = _draft_locked(batch_id=batch_id, user=user)
        if len(batch.form) >= MAX_FIELDS:
            raise ValidationFailed(
                fields={"form": _("A form has at most %(n)d fields.") % {"n": MAX_FIELDS}}
            )
        form = form_spec_clean([*batch.form, spec])
        batch.form = form
        batch.save(update_fields=["form"])
    return batch


def batch_field_remove(*, batch_id: int, user: User, name: str) -> Batch:
    """Take a field out of the draft's answer form (a form keeps at least one field)."""
    with transaction.atomic(durable=True):
        batch = _draft_locked(batch_id=batch_id, user=user)
        batch.form = form_spec_clean([f for f in batch.form if f["name"] != name])
        batch.save(update_fields=["form"])
    return batch


def batch_display_add(
    *, batch_id: int, user: User, column: str, widget: str, label: str = ""
) -> Batch:
    """Show one more column of each item to the worker, as text, an image or a link."""
    with transaction.atomic(durable=True):
        batch = _draft_locked(batch_id=batch_id, user=user)
        entry = {"column": (column or "").strip(), "widget": widget, "label": label.strip()}
        display = display_spec_clean([*batch.display, entry])
        _columns_check(batch, display)
        batch.display = display
        batch.save(update_fields=["display"])
    return batch


def batch_display_remove(*, batch_id: int, user: User, index: int) -> Batch:
    """Stop showing the display entry at ``index`` (a batch shows at least one)."""
    with transaction.atomic(durable=True):
        batch = _draft_locked(batch_id=batch_id, user=user)
        display = [d for i, d in enumerate(batch.display) if i != index]
        batch.display = display_spec_clean(display)
        batch.save(update_fields=["display"])
    return batch


def batch_page_size_set(*, batch_id: int, user: User, page_size: Any) -> Batch:
    """Set how many items a worker gets on one page of the draft (1 to
    ``limits.PAGE_SIZE_MAX``), claimed together and answered with one submit."""
    errors: dict[str, str] = {}
    size = page_size_clean(errors, page_size)
    if size is None:
        raise ValidationFailed(fields=errors)
    with transaction.atomic(durable=True):
        batch = _draft_locked(batch_id=batch_id, user=user)
        batch.page_size = size
        batch.save(update_fields=["page_size"])
    return batch
