import pytest
from django.utils import translation

from trefpunt.core.exceptions import ValidationFailed
from trefpunt.core.money import format_cents, parse_amount, split_bps


@pytest.mark.parametrize(
    ("text", "cents"),
    [("12", 1200), ("12.5", 1250), ("12,50", 1250), ("0,01", 1), ("€ 7.05", 705)],
)
def test_parse_amount_accepts_dot_and_comma(text, cents):
    assert parse_amount(text) == cents


@pytest.mark.parametrize("text", ["", "abc", "1.234,56", "12.345", "-5", "1e3"])
def test_parse_amount_refuses_ambiguous_or_bad_input_naming_the_field(text):
    with pytest.raises(ValidationFailed) as caught:
        parse_amount(text, field="prize")
    assert list(caught.value.fields) == ["prize"]


def test_parse_amount_says_a_too_large_amount_is_too_large():
    """99999999999999999 was told to look 'like 12.50'."""
    with translation.override("nl"), pytest.raises(ValidationFailed) as caught:
        parse_amount("99999999999999999", field="reward")
    assert caught.value.fields["reward"] == ["Vul hoogstens €\xa0999.999.999,99 in."]
    assert parse_amount("999999999,99") == 99_999_999_999


def test_format_cents_follows_the_language():
    with translation.override("en"):
        assert format_cents(123456) == "€\u00a01,234.56"
    with translation.override("nl"):
        assert format_cents(-5) == "-€\u00a00,05"


def test_split_bps_rounds_half_up_to_a_cent():
    assert split_bps(10_000, 1000) == 1000
    assert split_bps(5, 1000) == 1  # 0.5 cent rounds up
    assert split_bps(4, 1000) == 0
