"""``OutSchema``: response shapes filled from plain dicts skip ninja's ``DjangoGetter``."""

from __future__ import annotations

from typing import Any

import ninja.schema
import pytest

from trefpunt.core.api_schema import OutSchema


class PartOut(OutSchema):
    n: int
    name: str


class WholeOut(OutSchema):
    part: PartOut
    parts: list[PartOut]


class Row:
    n = 3
    name = "row"


def test_out_schema_validates_a_dict_as_it_is_and_objects_through_ninja(monkeypatch):
    calls: list[Any] = []
    getter = ninja.schema.DjangoGetter

    def counting(obj: Any, *args: Any) -> Any:
        calls.append(obj)
        return getter(obj, *args)

    monkeypatch.setattr(ninja.schema, "DjangoGetter", counting)
    whole = WholeOut.model_validate(
        {"part": {"n": 1, "name": "a"}, "parts": [{"n": 2, "name": "b"}]}
    )
    assert whole.parts[0].name == "b" and calls == []
    # A model instance (here: any object) is read through ninja's getter, as before.
    assert WholeOut.model_validate({"part": Row(), "parts": [Row()]}).part.name == "row"
    assert len(calls) == 2
    with pytest.raises(ValueError):
        PartOut.model_validate({"n": "not a number", "name": "a"})
