"""Template filters for the wallet pages."""

from __future__ import annotations

from django import template

from trefpunt.ledger.iban import iban_mask as _iban_mask

register = template.Library()


@register.filter
def iban_groups(iban: str) -> str:
    """``NL91ABNA0417164300`` → ``NL91 ABNA 0417 1643 00`` (how people read an IBAN)."""
    iban = (iban or "").replace(" ", "")
    return " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))


@register.filter
def iban_mask(iban: str) -> str:
    """``NL91 •••• 4300``: enough to recognise one's own account, not enough to copy it."""
    return _iban_mask(iban or "")


@register.filter
def signed_class(amount: int) -> str:
    return "amount-pos" if amount > 0 else "amount-neg"
