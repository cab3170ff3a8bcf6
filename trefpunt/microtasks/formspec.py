"""The task form a batch asks workers to fill in, and the validation of their answers.

A form is a list of fields; each field is a dict::

    {"name": "sentiment", "label": "Sentiment", "type": "single", "required": true,
     "choices": [{"value": "pos", "label": "Positive"}, {"value": "neg", "label": "Negative"}]}

Types: ``single`` (one of the choices), ``multiple`` (any number of the choices,
at least one when required), ``text`` (short text, ``max_length``), ``number``
(``min``/``max``, ``integer``; with ``scale`` n it is a rating from 1 to n, shown as
n buttons). Every field may carry ``help`` (instructions) and ``example`` (a worked
example), both shown next to it. Choice values are strings; labels are what the
worker sees. Answers are stored cleaned: a choice value, a list of choice values
in form order, a stripped string, or a number (int when ``integer``).

Every problem is reported with the name of the field it is about.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

from django.utils.formats import number_format
from django.utils.translation import gettext as _

from trefpunt.core.exceptions import ValidationFailed

FIELD_TYPES = ("single", "multiple", "text", "number")
NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
MAX_FIELDS = 20
MAX_CHOICES = 30
TEXT_MAX_LENGTH = 2000
DEFAULT_TEXT_LENGTH = 500

Answer = dict[str, Any]


def _problem(index: int, name: str, message: str) -> ValidationFailed:
    where = _("field %(n)d") % {"n": index + 1}
    if name:
        where = f'{where} ("{name}")'
    return ValidationFailed(fields={"form": f"{where}: {message}"})


def _number_or_none(value: Any) -> float | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError
    if not math.isfinite(value):
        raise ValueError
    return float(value)


def form_spec_clean(raw: Any) -> list[dict[str, Any]]:
    """Check a form definition and return it normalised; ``ValidationFailed`` on field ``form``."""
    if not isinstance(raw, list) or not raw:
        raise ValidationFailed(fields={"form": _("Add at least one field to the answer form.")})
    if len(raw) > MAX_FIELDS:
        raise ValidationFailed(
            fields={"form": _("A form has at most %(n)d fields.") % {"n": MAX_FIELDS}}
        )
    cleaned: list[dict[str, Any]] = []
    seen: set[str] = set()
    for index, spec in enumerate(raw):
        field = _field_common_clean(index, spec)
        if field["name"] in seen:
            raise _problem(index, field["name"], _("another field already has this name."))
        seen.add(field["name"])
        field.update(_TYPE_CLEANERS[field["type"]](index, field["name"], spec))
        cleaned.append(field)
    return cleaned


def _field_common_clean(index: int, spec: Any) -> dict[str, Any]:
    """What every field has: name, label, type, required and an optional help text."""
    if not isinstance(spec, dict):
        raise _problem(index, "", _("each field must be an object with name, label and type."))
    name = spec.get("name")
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise _problem(
            index,
            str(name or ""),
            _("the name must be 1–40 lowercase letters, digits or '_', starting with a letter."),
        )
    label = spec.get("label")
    if not isinstance(label, str) or not label.strip() or len(label) > 200:
        raise _problem(index, name, _("give the field a label of at most 200 characters."))
    kind = spec.get("type")
    if kind not in FIELD_TYPES:
        raise _problem(
            index,
            name,
            _("the type must be one of: %(types)s.") % {"types": ", ".join(FIELD_TYPES)},
        )
    required = spec.get("required", True)
    if not isinstance(required, bool):
        raise _problem(index, name, _("“required” must be true or false."))
    help_text = spec.get("help", "")
    if not isinstance(help_text, str) or len(help_text) > 500:
        raise _problem(index, name, _("the help text must be at most 500 characters."))
    example = spec.get("example", "")
    if not isinstance(example, str) or len(example) > 500:
        raise _problem(index, name, _("the example must be at most 500 characters."))
    field: dict[str, Any] = {"name": name, "label": label.strip(), "type": kind}
    field["required"] = required
    if help_text.strip():
        field["help"] = help_text.strip()
    if example.strip():
        field["example"] = example.strip()
    return field


def _choice_spec_clean(index: int, name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {"choices": _choices_clean(index, name, spec.get("choices"))}


def _text_spec_clean(index: int, name: str, spec: dict[str, Any]) -> dict[str, Any]:
    max_length = spec.get("max_length", DEFAULT_TEXT_LENGTH)
    if (
        not isinstance(max_length, int)
        or isinstance(max_length, bool)
        or not 1 <= max_length <= TEXT_MAX_LENGTH
    ):
        raise _problem(
            index,
            name,
            _("max_length must be a whole number from 1 to %(n)d.") % {"n": TEXT_MAX_LENGTH},
        )
    return {"max_length": max_length}


RATING_MAX = 10


def _number_spec_clean(index: int, name: str, spec: dict[str, Any]) -> dict[str, Any]:
    scale = spec.get("scale")
    if scale is not None:
        if isinstance(scale, bool) or not isinstance(scale, int) or not 2 <= scale <= RATING_MAX:
            raise _problem(index, name, _("a rating scale runs to 2–%(n)d.") % {"n": RATING_MAX})
        return {"integer": True, "min": 1, "max": scale, "scale": scale}
    try:
        low = _number_or_none(spec.get("min"))
        high = _number_or_none(spec.get("max"))
    except ValueError:
        raise _problem(index, name, _("min and max must be numbers.")) from None
    if low is not None and high is not None and low > high:
        raise _problem(index, name, _("min must not be larger than max."))
    integer = spec.get("integer", False)
    if not isinstance(integer, bool):
        raise _problem(index, name, _("“integer” must be true or false."))
    out: dict[str, Any] = {"integer": integer}
    if low is not None:
        out["min"] = int(low) if low.is_integer() else low
    if high is not None:
        out["max"] = int(high) if high.is_integer() else high
    return out


_TYPE_CLEANERS: dict[str, Callable[[int, str, dict[str, Any]], dict[str, Any]]] = {
    "single": _choice_spec_clean,
    "multiple": _choice_spec_clean,
    "text": _text_spec_clean,
    "number": _number_spec_clean,
}


def _choices_clean(index: int, name: str, raw: Any) -> list[dict[str, str]]:
    if not isinstance(raw, list) or len(raw) < 2:
        raise _problem(index, name, _("add at least two choices."))
    if len(raw) > MAX_CHOICES:
        raise _problem(index, name, _("at most %(n)d choices.") % {"n": MAX_CHOICES})
    choices: list[dict[str, str]] = []
    values: set[str] = set()
    for choice in raw:
        value: Any
        label: Any
        if isinstance(choice, str):
            value, label = choice, choice
        elif isinstance(choice, dict):
            value, label = choice.get("value"), choice.get("label", choice.get("value"))
        else:
            raise _problem(index, name, _("each choice is a text or {value, label}."))
        if isinstance(value, int | float) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str) or not value.strip() or len(value) > 100:
            raise _problem(index, name, _("each choice needs a value of 1–100 characters."))
        if not isinstance(label, str) or not label.strip() or len(label) > 200:
            raise _problem(index, name, _("each choice needs a label of 1–200 characters."))
        value = value.strip()
        if value in values:
            raise _problem(
                index, name, _("the choice “%(value)s” appears twice.") % {"value": value}
            )
        values.add(value)
        choices.append({"value": value, "label": label.strip()})
    return choices


def _is_blank(value: Any) -> bool:
    return (
        value is None
        or value == ""
        or value == []
        or (isinstance(value, str) and not value.strip())
    )


def _number_parse(field: dict[str, Any], value: Any) -> int | float:
    if isinstance(value, bool):
        raise ValueError
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        text = value.strip().replace(",", ".")
        if not re.fullmatch(r"[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?", text):
            raise ValueError
        number = float(text)
    else:
        raise ValueError
    if not math.isfinite(number):
        raise ValueError
    if field.get("integer"):
        if not number.is_integer():
            raise ValueError
        return int(number)
    return int(number) if number.is_integer() and abs(number) < 2**53 else number


def _not_a_choice(value: Any, allowed: list[str]) -> ValueError:
    return ValueError(
        _("“%(value)s” is not one of the choices (%(choices)s).")
        % {"value": str(value)[:60], "choices": ", ".join(allowed)}
    )


def _single_value(field: dict[str, Any], value: Any) -> str:
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    allowed = [c["value"] for c in field["choices"]]
    if not isinstance(value, str) or value.strip() not in allowed:
        raise _not_a_choice(value, allowed)
    return value.strip()


def _multiple_value(field: dict[str, Any], value: Any) -> list[str]:
    values = value if isinstance(value, list) else [value]
    allowed = [c["value"] for c in field["choices"]]
    picked: set[str] = set()
    for one in values:
        text = str(one).strip() if isinstance(one, str | int | float) else None
        if text is None or text not in allowed:
            raise _not_a_choice(one, allowed)
        picked.add(text)
    return [v for v in allowed if v in picked]


def _text_value(field: dict[str, Any], value: Any) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise ValueError(_("Enter text."))
    text = value.strip()
    if len(text) > field["max_length"]:
        raise ValueError(
            _("At most %(n)d characters (this has %(len)d).")
            % {"n": field["max_length"], "len": len(text)}
        )
    return text


def _number_value(field: dict[str, Any], value: Any) -> int | float:
    try:
        number = _number_parse(field, value)
    except ValueError:
        if field.get("integer"):
            raise ValueError(
                _("Enter a whole number, not “%(value)s”.") % {"value": str(value)[:60]}
            ) from None
        raise ValueError(
            _("Enter a number, not “%(value)s”.") % {"value": str(value)[:60]}
        ) from None
    if "min" in field and number < field["min"]:
        raise ValueError(_("The smallest allowed value is %(min)s.") % {"min": field["min"]})
    if "max" in field and number > field["max"]:
        raise ValueError(_("The largest allowed value is %(max)s.") % {"max": field["max"]})
    return number


_VALUE_CLEANERS: dict[str, Callable[[dict[str, Any], Any], Any]] = {
    "single": _single_value,
    "multiple": _multiple_value,
    "text": _text_value,
    "number": _number_value,
}


def _value_clean(field: dict[str, Any], value: Any) -> Any:
    """One field's answer, cleaned; raises ``ValueError`` with the message to show."""
    return _VALUE_CLEANERS[field["type"]](field, value)


def answer_clean(form: list[dict[str, Any]], raw: Any, *, partial: bool = False) -> Answer:
    """Validate an answer against ``form``; ``ValidationFailed`` names every bad field.

    With ``partial`` (gold answers) missing fields are allowed, but the fields given must
    be valid. Unknown fields are refused so a typo cannot pass silently.
    """
    if not isinstance(raw, dict):
        raise ValidationFailed(_("The answer must be an object of field values."))
    names = {f["name"] for f in form}
    errors: dict[str, str] = {}
    for key in raw:
        if key not in names:
            errors[str(key)] = _("This form has no field “%(name)s”.") % {"name": str(key)[:40]}
    cleaned: Answer = {}
    for field in form:
        name = field["name"]
        value = raw.get(name)
        if _is_blank(value):
            if field["required"] and not partial:
                errors[name] = _("This field is required.")
            elif not partial:
                cleaned[name] = [] if field["type"] == "multiple" else None
            continue
        try:
            cleaned[name] = _value_clean(field, value)
        except ValueError as exc:
            errors[name] = str(exc)
    if errors:
        raise ValidationFailed(fields=errors)
    return cleaned


def answer_display(form: list[dict[str, Any]], answer: Answer | None) -> list[tuple[str, str]]:
    """(label, readable value) pairs of an answer, with choice labels instead of values and
    numbers in the reader's notation."""
    if not answer:
        return []
    rows: list[tuple[str, str]] = []
    for field in form:
        value = answer.get(field["name"])
        if field["type"] in ("single", "multiple"):
            labels = {c["value"]: c["label"] for c in field["choices"]}
            values = value if isinstance(value, list) else ([] if value is None else [value])
            text = ", ".join(labels.get(str(v), str(v)) for v in values)
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            text = number_format(value)  # 6,16 in Dutch
        else:
            text = "" if value is None else str(value)
        rows.append((field["label"], text))
    return rows
