"""Form rendering and the bridge from service errors to form errors."""

from __future__ import annotations

from django import forms
from django.forms.renderers import TemplatesSetting

from .exceptions import ApplicationError


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
