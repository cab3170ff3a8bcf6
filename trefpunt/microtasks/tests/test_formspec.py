import pytest
from django.utils import translation

from trefpunt.core.exceptions import ValidationFailed
from trefpunt.microtasks.formspec import answer_clean, answer_display, form_spec_clean

FORM = form_spec_clean(
    [
        {
            "name": "same",
            "label": "Same product?",
            "type": "single",
            "choices": [{"value": "yes", "label": "Yes"}, {"value": "no", "label": "No"}],
        },
        {
            "name": "tags",
            "label": "Tags",
            "type": "multiple",
            "choices": ["a", "b", "c"],
            "required": False,
        },
        {"name": "total", "label": "Total", "type": "number", "min": 0, "max": 1000},
        {"name": "shop", "label": "Shop", "type": "text", "max_length": 20, "required": False},
    ]
)


def test_form_spec_clean_normalises_string_choices():
    assert FORM[1]["choices"] == [
        {"value": "a", "label": "a"},
        {"value": "b", "label": "b"},
        {"value": "c", "label": "c"},
    ]
    assert FORM[2] == {
        "name": "total",
        "label": "Total",
        "type": "number",
        "required": True,
        "integer": False,
        "min": 0,
        "max": 1000,
    }


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ([], "at least one field"),
        ([{"name": "Bad Name", "label": "x", "type": "text"}], 'field 1 ("Bad Name"): the name'),
        ([{"name": "a", "label": "A", "type": "colour"}], 'field 1 ("a"): the type must be'),
        ([{"name": "a", "label": "A", "type": "single", "choices": ["x"]}], "at least two choices"),
        (
            [{"name": "a", "label": "A", "type": "single", "choices": ["x", "x"]}],
            "appears twice",
        ),
        ([{"name": "n", "label": "N", "type": "number", "min": 5, "max": 1}], "min must not be"),
        (
            [
                {"name": "a", "label": "A", "type": "text"},
                {"name": "a", "label": "B", "type": "text"},
            ],
            'field 2 ("a"): another field',
        ),
    ],
)
def test_form_spec_clean_names_the_bad_field(spec, message):
    with pytest.raises(ValidationFailed) as exc:
        form_spec_clean(spec)
    assert message in exc.value.fields["form"][0]


def test_answer_clean_accepts_a_fitting_answer():
    answer = answer_clean(
        FORM, {"same": "yes", "tags": ["c", "a"], "total": "12,50", "shop": " Aldi "}
    )
    assert answer == {"same": "yes", "tags": ["a", "c"], "total": 12.5, "shop": "Aldi"}


def test_answer_clean_fills_optional_fields_with_empty_values():
    assert answer_clean(FORM, {"same": "no", "total": 3}) == {
        "same": "no",
        "tags": [],
        "total": 3,
        "shop": None,
    }


def test_answer_clean_refuses_an_unknown_choice():
    with pytest.raises(ValidationFailed) as exc:
        answer_clean(FORM, {"same": "maybe", "total": 1})
    assert "“maybe” is not one of the choices (yes, no)" in exc.value.fields["same"][0]


def test_answer_clean_refuses_text_in_a_number_field():
    with pytest.raises(ValidationFailed) as exc:
        answer_clean(FORM, {"same": "yes", "total": "twelve"})
    assert exc.value.fields == {"total": ["Enter a number, not “twelve”."]}


def test_answer_clean_checks_bounds_required_fields_and_unknown_fields():
    with pytest.raises(ValidationFailed) as exc:
        answer_clean(FORM, {"total": 1001, "colour": "red", "shop": "x" * 21})
    assert set(exc.value.fields) == {"same", "total", "colour", "shop"}
    assert exc.value.fields["same"] == ["This field is required."]
    assert "1000" in exc.value.fields["total"][0]


def test_answer_clean_integer_field_refuses_fractions():
    form = form_spec_clean([{"name": "n", "label": "N", "type": "number", "integer": True}])
    assert answer_clean(form, {"n": "7"}) == {"n": 7}
    with pytest.raises(ValidationFailed) as exc:
        answer_clean(form, {"n": "7.5"})
    assert "whole number" in exc.value.fields["n"][0]


def test_answer_display_uses_choice_labels():
    assert answer_display(FORM, {"same": "yes", "tags": ["a"], "total": 2, "shop": None}) == [
        ("Same product?", "Yes"),
        ("Tags", "a"),
        ("Total", "2"),
        ("Shop", ""),
    ]


def test_answer_display_writes_numbers_in_the_readers_notation():
    """A worker's 6.16 read '6.16' on a Dutch page."""
    answer = {"same": "no", "tags": [], "total": 6.16, "shop": "HEMA"}
    with translation.override("nl"):
        assert answer_display(FORM, answer)[2] == ("Total", "6,16")
    with translation.override("en"):
        assert answer_display(FORM, answer)[2] == ("Total", "6.16")
