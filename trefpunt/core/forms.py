"""Form rendering and the bridge from service errors to form errors."""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Mapping

from django import forms
from django.core.exceptions import ValidationError
from django.forms.renderers import TemplatesSetting
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from .exceptions import ApplicationError, ValidationFailed
from .text import value_problem


class FormRenderer(TemplatesSetting):
    """Fields render label, input, help and errors in that order (Pico's layout), with the
    input marked ``aria-invalid`` and described by its help and error texts."""

    field_template_name = "core/forms/field.html"


def form_errors_apply(form: forms.BaseForm, exc: ApplicationError) -> None:
    """Show a service's ``ValidationFailed`` next to the matching fields of ``form``."""
    placed = False
    for name, messages in exc.fields.items():
        target = name if name in form.fields else None
        for message in messages:
            form.add_error(target, message)
            placed = True
    if not placed:
        form.add_error(None, exc.message)


def form_errors_text(form: forms.BaseForm) -> str:
    """A form's errors as one message (a flash after a redirect): "Label: error" each."""
    return " ".join(
        f"{form[name].label}: {error}" if name in form.fields else str(error)
        for name, errors in form.errors.items()
        for error in errors
    )


def errors_with_check(
    unparsed: Mapping[str, list[str]], check: Callable[[], object], *, own: Collection[str]
) -> ValidationFailed:
    """The errors of fields a hand-written form's view could not parse, joined with what
    ``check`` (the service's validation, run on the other fields) says, leaving out its
    errors for the fields in ``own`` (the unparsed ones, and those it derives from them):
    one submit shows every error, not the unparsed field's first."""
    try:
        check()
    except ValidationFailed as exc:
        others = {k: v for k, v in exc.fields.items() if k not in own}
        return ValidationFailed(fields={**others, **unparsed})
    return ValidationFailed(fields=dict(unparsed))


def filters_for_phone(form: forms.Form, request: HttpRequest) -> tuple[forms.Form, int]:
    """A list page's filter ``form`` once more, for the copy folded away on phones (ids
    prefixed to stay unique, its errors shown), and how many of its filters the request
    sets (the fold's summary counts them)."""
    phone = type(form)(request.GET or None, auto_id="phone-%s")
    if phone.is_bound:
        phone.is_valid()
    return phone, sum(1 for name in form.fields if request.GET.get(name))


def validate_storable_json(value: str) -> None:
    """For a form field that holds JSON text: refuse escapes no database stores (``\\u0000``,
    an unpaired ``\\ud800``; Django already refuses a typed NUL). Text that is not JSON is
    left to the service, which names the line and column."""
    try:
        parsed = json.loads(value)
    except ValueError:
        return
    if value_problem(parsed) is not None:
        raise ValidationError(
            _(
                "Remove \\u0000, unpaired surrogates (\\ud800–\\udfff) and numbers "
                "too large to store."
            ),
            code="unstorable",
        )
