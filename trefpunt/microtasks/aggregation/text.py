"""Aggregating short free-text answers: majority over normalised text.

"Amsterdam", " amsterdam " and "AMSTERDAM" are the same answer; "ﬁsh" (a ligature) and
"fish" too. :func:`normalize_text` applies Unicode NFKC (compatibility forms), casefold (the
Unicode-correct lower-casing: "Straße" matches "STRASSE") and collapses every run of
whitespace to one space. Answers are grouped by that normal form and voted on with
:func:`~.majority.majority_vote`, so ties follow the same rule: the lowest code wins — here
the normal form that sorts first — and ``tied`` reports it.

The reported answer is the most common original spelling inside the winning group (ties:
the spelling that sorts first), because clients want to read "Amsterdam", not
"amsterdam".

Degenerate cases: an item nobody answered gets ``None`` with confidence ``0``; an answer
that normalises to the empty string is a valid (empty) answer and is counted.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

from ._arrays import as_index_array, check_size
from .encoding import encode_answers
from .majority import majority_vote
from .results import TextResult

_WHITESPACE = re.compile(r"\s+")


def normalize_text(text: str) -> str:
    """NFKC, casefold, collapse whitespace, strip — the key two answers must share to agree."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    # casefold can produce characters with compatibility forms again; NFKC once more is cheap.
    folded = unicodedata.normalize("NFKC", folded)
    return _WHITESPACE.sub(" ", folded).strip()


def text_majority(items: ArrayLike, answers: Sequence[str], *, n_items: int) -> TextResult:
    """Majority over normalised text per item (see the module docstring)."""
    n_items = check_size(n_items, "n_items")
    it = as_index_array(items, "items", n_items)
    if len(answers) != it.shape[0]:
        raise ValueError("items and answers must have the same length")
    normal = [normalize_text(a) for a in answers]
    encoded = encode_answers(it.tolist(), [0] * len(normal), normal, item_ids=list(range(n_items)))
    voted = majority_vote(
        encoded.items,
        encoded.workers,
        encoded.labels,
        n_items=n_items,
        n_workers=1,
        n_classes=encoded.n_classes,
    )
    winners = encoded.decode_labels(voted.labels)
    spellings: dict[tuple[int, str], Counter[str]] = {}
    for item, raw, norm in zip(it.tolist(), answers, normal, strict=True):
        if norm == winners[item]:
            spellings.setdefault((item, norm), Counter())[raw] += 1
    shown: list[str | None] = []
    normalized: list[str | None] = []
    for item, winner in enumerate(winners):
        if winner is None:
            shown.append(None)
            normalized.append(None)
            continue
        counter = spellings[(item, str(winner))]
        best = max(counter.values())
        shown.append(min(s for s, c in counter.items() if c == best))
        normalized.append(str(winner))
    return TextResult(
        answers=shown,
        normalized=normalized,
        confidence=voted.confidence,
        tied=voted.tied,
        n_answers=np.asarray(voted.n_answers),
    )
