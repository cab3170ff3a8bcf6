"""Money is an integer number of minor units (cents) plus an ISO 4217 currency code."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from django.utils.formats import number_format
from django.utils.translation import gettext as _

from .exceptions import ValidationFailed

CURRENCY_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£"}
_AMOUNT_RE = re.compile(r"^\d{1,9}([.,]\d{1,2})?$")
_TOO_MANY_DIGITS_RE = re.compile(r"^\d{10,}([.,]\d{1,2})?$")
AMOUNT_MAX = 999_999_999_99  # cents: the most ``parse_amount`` reads


def format_cents(cents: int, currency: str = "EUR") -> str:
    """``123456`` → ``€ 1,234.56`` (separators follow the active language)."""
    sign = "-" if cents < 0 else ""
    value = Decimal(abs(int(cents))) / 100
    symbol = CURRENCY_SYMBOLS.get(currency, currency)
    return f"{sign}{symbol}\u00a0{number_format(value, 2, use_l10n=True, force_grouping=True)}"


def parse_amount(text: str, *, field: str = "amount") -> int:
    """Parse a typed amount (``12``, ``12.5``, ``12,50``) into cents.

    Accepts a comma or a dot as decimal separator, because Dutch users type
    ``12,50``; thousands separators are refused rather than guessed at.
    """
    cleaned = (text or "").strip().replace("€", "").replace("\u00a0", "").strip()
    if _TOO_MANY_DIGITS_RE.match(cleaned):
        raise ValidationFailed(
            fields={field: _("Enter at most %(max)s.") % {"max": format_cents(AMOUNT_MAX)}}
        )
    if not _AMOUNT_RE.match(cleaned):
        raise ValidationFailed(
            fields={field: _("Enter an amount like 12.50, with at most two decimals.")}
        )
    try:
        value = Decimal(cleaned.replace(",", "."))
    except InvalidOperation:  # pragma: no cover - the regex already rules this out
        raise ValidationFailed(fields={field: _("Enter a valid amount.")}) from None
    return int(value * 100)


def split_bps(amount: int, bps: int) -> int:
    """The fee of ``bps`` basis points on ``amount`` cents, rounded half up to a cent."""
    return (amount * bps + 5000) // 10000
