"""What text and JSON values the databases can store.

SQLite cannot encode an unpaired surrogate (``"\\ud800"`` arrives through a JSON escape) and
PostgreSQL refuses NUL characters in text and both of them in ``jsonb``; numbers past 64 bits
overflow a column. Whatever takes text or JSON from outside (the API's schemas, uploaded
files) checks it here first and refuses it as input, instead of failing in the database.
"""

from __future__ import annotations

import math
import re
from typing import Any

# Whole numbers anywhere in a request: a JavaScript client holds them exactly, a 64-bit
# column stores them, and a sum of a few thousand of them still fits.
INT_MAX = 2**53 - 1

FORBIDDEN_CHARACTER = "forbidden_character"
NUMBER_TOO_LARGE = "number_too_large"
_FORBIDDEN = re.compile("[\x00\ud800-\udfff]")


def text_problem(value: str) -> bool:
    """Whether ``value`` holds a NUL character or an unpaired surrogate."""
    return _FORBIDDEN.search(value) is not None


def value_problem(value: Any) -> str | None:
    """The first kind of thing in ``value`` (walked without recursion: JSON may nest deeply)
    that cannot be stored: ``FORBIDDEN_CHARACTER`` (in a text, key or value) or
    ``NUMBER_TOO_LARGE`` (beyond ``INT_MAX``, or not finite); ``None`` when all is well."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if text_problem(item):
                return FORBIDDEN_CHARACTER
        elif isinstance(item, bool):
            continue
        elif isinstance(item, int):
            if abs(item) > INT_MAX:
                return NUMBER_TOO_LARGE
        elif isinstance(item, float):
            if not math.isfinite(item) or abs(item) > INT_MAX:
                return NUMBER_TOO_LARGE
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple | set | frozenset):
            stack.extend(item)
    return None
