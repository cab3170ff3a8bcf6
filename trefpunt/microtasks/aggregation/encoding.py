"""Turn answers with arbitrary ids and label strings into the integer arrays the methods use.

The methods work on dense integer codes so that every step is an array operation; this
module is the only place that sees the platform's ids. Codes are assigned deterministically:

- ids passed explicitly (``item_ids``, ``worker_ids``, ``label_names``) keep their order and
  come first, so a batch can include items nobody answered yet and choices nobody picked;
- items and workers seen only in the answers are appended in order of first appearance;
- labels seen only in the answers are appended in sorted order (first-appearance order if
  they cannot be compared), so that the label codes — and therefore the lowest-index
  tie-break — do not depend on the order the answers arrived in.
"""

from __future__ import annotations

import contextlib
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from ._arrays import IntArray


@dataclass(frozen=True, eq=False)
class EncodedAnswers:
    """Answers as parallel code arrays plus the tables that map codes back to ids."""

    items: IntArray
    workers: IntArray
    labels: IntArray
    item_ids: tuple[Hashable, ...]
    worker_ids: tuple[Hashable, ...]
    label_names: tuple[Hashable, ...]

    @property
    def n_items(self) -> int:
        return len(self.item_ids)

    @property
    def n_workers(self) -> int:
        return len(self.worker_ids)

    @property
    def n_classes(self) -> int:
        return len(self.label_names)

    @property
    def n_answers(self) -> int:
        return int(self.items.shape[0])

    def item_index(self) -> dict[Hashable, int]:
        """Map from item id to its code."""
        return {item_id: code for code, item_id in enumerate(self.item_ids)}

    def worker_index(self) -> dict[Hashable, int]:
        """Map from worker id to its code."""
        return {worker_id: code for code, worker_id in enumerate(self.worker_ids)}

    def label_index(self) -> dict[Hashable, int]:
        """Map from label name to its code."""
        return {name: code for code, name in enumerate(self.label_names)}

    def decode_labels(self, codes: ArrayLike) -> list[Hashable | None]:
        """Label names for label codes; ``-1`` (an unanswered item) decodes to ``None``."""
        return decode_labels(self.label_names, codes)


def _codes(
    values: Iterable[Hashable], known: Sequence[Hashable] | None
) -> tuple[IntArray, list[Hashable]]:
    table: dict[Hashable, int] = {}
    for value in known or ():
        if value in table:
            raise ValueError(f"id {value!r} is listed twice")
        table[value] = len(table)
    codes = [table.setdefault(v, len(table)) for v in values]
    return np.asarray(codes, dtype=np.intp).reshape(-1), list(table)


def _label_table(labels: Sequence[Hashable], known: Sequence[Hashable] | None) -> list[Hashable]:
    names: list[Hashable] = list(known or ())
    if len(set(names)) != len(names):
        raise ValueError("label_names must not repeat a label")
    seen = set(names)
    new = list(dict.fromkeys(v for v in labels if v not in seen))
    # Mixed types cannot be sorted: keep first appearance, still deterministic for one input.
    with contextlib.suppress(TypeError):
        new = sorted(new)  # type: ignore[type-var]
    return names + new


def encode_answers(
    items: Sequence[Hashable],
    workers: Sequence[Hashable],
    labels: Sequence[Hashable],
    *,
    item_ids: Sequence[Hashable] | None = None,
    worker_ids: Sequence[Hashable] | None = None,
    label_names: Sequence[Hashable] | None = None,
) -> EncodedAnswers:
    """Encode parallel sequences of (item id, worker id, label) into integer codes.

    Pass ``item_ids`` to include items that have no answers yet (they will aggregate to
    "unanswered"), and ``label_names`` to fix the class list, e.g. the choices of the task
    form, including ones nobody picked.
    """
    if not (len(items) == len(workers) == len(labels)):
        raise ValueError(
            "items, workers and labels must have the same length, got "
            f"{len(items)}, {len(workers)}, {len(labels)}"
        )
    item_codes, item_table = _codes(items, item_ids)
    worker_codes, worker_table = _codes(workers, worker_ids)
    label_table = _label_table(labels, label_names)
    label_codes, _ = _codes(labels, label_table)
    return EncodedAnswers(
        items=item_codes,
        workers=worker_codes,
        labels=label_codes,
        item_ids=tuple(item_table),
        worker_ids=tuple(worker_table),
        label_names=tuple(label_table),
    )


def decode_labels(label_names: Sequence[Hashable], codes: ArrayLike) -> list[Hashable | None]:
    """Label names for codes; ``-1`` marks an unanswered item and decodes to ``None``."""
    return [None if c < 0 else label_names[c] for c in np.asarray(codes, dtype=np.intp).tolist()]
