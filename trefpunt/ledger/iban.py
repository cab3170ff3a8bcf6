"""IBAN validation: country length and the ISO 13616 mod-97 checksum."""

from __future__ import annotations

import re

from django.utils.translation import gettext as _

from trefpunt.core.exceptions import ValidationFailed

# Lengths for the SEPA countries and a few neighbours (ISO 13616 registry).
IBAN_LENGTHS = {
    "AD": 24,
    "AT": 20,
    "BE": 16,
    "BG": 22,
    "CH": 21,
    "CY": 28,
    "CZ": 24,
    "DE": 22,
    "DK": 18,
    "EE": 20,
    "ES": 24,
    "FI": 18,
    "FR": 27,
    "GB": 22,
    "GI": 23,
    "GR": 27,
    "HR": 21,
    "HU": 28,
    "IE": 22,
    "IS": 26,
    "IT": 27,
    "LI": 21,
    "LT": 20,
    "LU": 20,
    "LV": 21,
    "MC": 27,
    "MT": 31,
    "NL": 18,
    "NO": 15,
    "PL": 28,
    "PT": 25,
    "RO": 24,
    "SE": 24,
    "SI": 19,
    "SK": 24,
    "SM": 27,
    "VA": 22,
}
_FORMAT = re.compile(r"^[A-Z]{2}\d{2}[A-Z0-9]{10,30}$")


def iban_normalise(value: str) -> str:
    return re.sub(r"[\s-]", "", value or "").upper()


def iban_validate(value: str, *, field: str = "iban") -> str:
    """Return the normalised IBAN or raise ``ValidationFailed`` naming ``field``."""
    iban = iban_normalise(value)
    if not _FORMAT.match(iban):
        raise ValidationFailed(
            fields={
                field: _(
                    "Enter an IBAN: two letters, two check digits and the account number, "
                    "e.g. NL91 ABNA 0417 1643 00."
                )
            }
        )
    country = iban[:2]
    expected = IBAN_LENGTHS.get(country)
    if expected is None:
        raise ValidationFailed(
            fields={
                field: _("Payouts to bank accounts in %(country)s are not supported.")
                % {"country": country}
            }
        )
    if len(iban) != expected:
        raise ValidationFailed(
            fields={
                field: _(
                    "An IBAN from %(country)s has %(expected)d characters; this one has %(length)d."
                )
                % {"country": country, "expected": expected, "length": len(iban)}
            }
        )
    digits = "".join(str(int(ch, 36)) for ch in iban[4:] + iban[:4])
    if int(digits) % 97 != 1:
        raise ValidationFailed(
            fields={
                field: _(
                    "This IBAN's check digits do not match: please check it for typing errors."
                )
            }
        )
    return iban


def iban_mask(iban: str) -> str:
    return f"{iban[:4]} •••• {iban[-4:]}" if len(iban) > 8 else iban
