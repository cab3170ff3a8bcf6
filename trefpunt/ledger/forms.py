"""Wallet forms. They parse what people type; the services decide what is allowed."""

from __future__ import annotations

import re
import uuid
from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from trefpunt.core.exceptions import ValidationFailed
from trefpunt.core.money import format_cents, parse_amount

from .iban import iban_validate
from .services import MAX_ACCOUNT_HOLDER, MAX_FAILURE_REASON

_TOKEN_RE = re.compile(r"^[0-9a-f]{32}$")


def _first(exc: ValidationFailed) -> str:
    return next(iter(exc.fields.values()))[0] if exc.fields else exc.message


class _OnceForm(forms.Form):
    """A form carrying a one-time token, so a double click or a resubmitted page books
    nothing twice: the token becomes the service's idempotency key."""

    request_token = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["request_token"].initial = uuid.uuid4().hex

    def idempotency_key(self, scope: str) -> str:
        token = self.cleaned_data.get("request_token") or ""
        return f"web-{scope}:{token}" if _TOKEN_RE.match(token) else ""


class AmountField(forms.CharField):
    """An amount typed as ``12,50`` or ``12.50``; cleans to integer cents."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 20)
        super().__init__(**kwargs)

    def widget_attrs(self, widget: forms.Widget) -> dict[str, Any]:
        attrs = super().widget_attrs(widget)
        attrs.update({"inputmode": "decimal", "autocomplete": "off", "placeholder": "25,00"})
        return attrs

    def clean(self, value: Any) -> int:
        text = super().clean(value)
        try:
            return parse_amount(text)
        except ValidationFailed as exc:
            raise forms.ValidationError(_first(exc)) from None


class DepositForm(_OnceForm):
    amount = AmountField(label=_("Amount in euros"))
    org = forms.SlugField(widget=forms.HiddenInput, required=False)
    return_path = forms.CharField(widget=forms.HiddenInput, required=False, max_length=300)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["amount"].help_text = _("Between %(min)s and %(max)s.") % {
            "min": format_cents(settings.MIN_DEPOSIT_CENTS),
            "max": format_cents(settings.MAX_DEPOSIT_CENTS),
        }


class PayoutForm(_OnceForm):
    amount = AmountField(label=_("Amount in euros"))
    iban = forms.CharField(
        label=_("IBAN"),
        max_length=42,
        help_text=_("The bank account the money goes to, e.g. NL91 ABNA 0417 1643 00."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    account_holder = forms.CharField(
        label=_("Account holder"),
        max_length=MAX_ACCOUNT_HOLDER,
        help_text=_("The name on the bank account."),
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    org = forms.SlugField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["amount"].help_text = _("At least %(min)s.") % {
            "min": format_cents(settings.MIN_PAYOUT_CENTS)
        }

    def clean_iban(self) -> str:
        try:
            return iban_validate(self.cleaned_data["iban"])
        except ValidationFailed as exc:
            raise forms.ValidationError(_first(exc)) from None


class PayoutFailForm(forms.Form):
    reason = forms.CharField(
        label=_("Why did the payout fail?"),
        max_length=MAX_FAILURE_REASON,
        help_text=_("The member sees this reason next to the returned money."),
        widget=forms.Textarea(attrs={"rows": 3}),
    )
