"""IBAN validation: format, country length and the ISO 13616 mod-97 checksum."""

from __future__ import annotations

import pytest

from trefpunt.core.exceptions import ValidationFailed
from trefpunt.ledger.iban import iban_mask, iban_validate


@pytest.mark.parametrize(
    ("typed", "normalised"),
    [
        ("NL91ABNA0417164300", "NL91ABNA0417164300"),
        ("nl91 abna 0417 1643 00", "NL91ABNA0417164300"),
        ("DE89 3704 0044 0532 0130 00", "DE89370400440532013000"),
        ("BE68-5390-0754-7034", "BE68539007547034"),
        ("GB82 WEST 1234 5698 7654 32", "GB82WEST12345698765432"),
        ("FR14 2004 1010 0505 0001 3M02 606", "FR1420041010050500013M02606"),
    ],
)
def test_iban_validate_accepts_and_normalises_real_ibans(typed: str, normalised: str) -> None:
    assert iban_validate(typed) == normalised


@pytest.mark.parametrize(
    "iban",
    ["NL91ABNA0417164301", "NL19ABNA0417164300", "DE89370400440532013001", "BE68539007547035"],
)
def test_iban_validate_refuses_a_bad_checksum_naming_the_field(iban: str) -> None:
    with pytest.raises(ValidationFailed) as excinfo:
        iban_validate(iban)

    assert list(excinfo.value.fields) == ["iban"]
    assert "check digits do not match" in excinfo.value.fields["iban"][0]


def test_iban_validate_names_the_field_it_is_given() -> None:
    with pytest.raises(ValidationFailed) as excinfo:
        iban_validate("NL91ABNA0417164301", field="bank_account")

    assert list(excinfo.value.fields) == ["bank_account"]


def test_iban_validate_refuses_a_wrong_length_for_the_country() -> None:
    with pytest.raises(ValidationFailed) as excinfo:
        iban_validate("NL91ABNA04171643")

    assert "NL has 18 characters; this one has 16" in excinfo.value.fields["iban"][0]


def test_iban_validate_refuses_an_unsupported_country() -> None:
    with pytest.raises(ValidationFailed) as excinfo:
        iban_validate("US12345678901234567890")

    assert "not supported" in excinfo.value.fields["iban"][0]


@pytest.mark.parametrize("text", ["", "   ", "abc", "1234567890123456", "NL91 ABNA 0417 1643 €0"])
def test_iban_validate_refuses_what_is_not_an_iban(text: str) -> None:
    with pytest.raises(ValidationFailed) as excinfo:
        iban_validate(text)

    assert "Enter an IBAN" in excinfo.value.fields["iban"][0]


def test_iban_mask_keeps_country_check_digits_and_the_last_four() -> None:
    assert iban_mask("NL91ABNA0417164300") == "NL91 •••• 4300"
