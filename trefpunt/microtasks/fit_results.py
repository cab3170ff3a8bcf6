"""A full fit's per-item results as columns (``quality.batch_fit``), and the answers it reads
as codes.

The full fit of 100,000 items used to build 100,000 answer dicts, details dicts and
``ItemResult`` objects, and the stopping rule and the store then walked them again. Here a
fit keeps what it computed as arrays, one per figure and field (:class:`ItemColumns`); the
store reads the arrays, and ``BatchFit.items`` (:class:`FitItems`) builds an item's
``ItemResult`` only when someone asks for it (the portable store, the items answered while
the fit ran), the same one the per-item construction gave.

The answers travel as :class:`AnswerCodes`: each answer's item (position), worker and the
index of its data among the distinct answers, so a field's labels are one lookup table
indexed by the codes instead of a dict lookup per answer.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

Data = dict[str, Any]


@dataclass
class ItemResult:
    answer: Data | None
    confidence: float | None
    details: dict[str, Any] | None


@dataclass
class AnswerCodes:
    """Counted answers as columns: ``items`` are positions in the fit's item ids, ``workers``
    worker ids, and answer ``j`` is ``distinct[codes[j]]``."""

    items: np.ndarray
    workers: np.ndarray
    codes: np.ndarray
    distinct: list[Data]

    def __len__(self) -> int:
        return len(self.items)

    def data(self) -> list[Data]:
        """Each answer's data (one Python object per answer: for the rare field types that
        are combined from their values)."""
        return [self.distinct[c] for c in self.codes.tolist()]


@dataclass
class SingleColumn:
    """A single-choice field over every item: the chosen label (``-1``: none), its
    confidence and agreement and the field's answers per item, and the answers it was fitted
    on (positions of item and worker, label)."""

    name: str
    classes: list[str]
    labels: np.ndarray
    confidence: np.ndarray
    agreement: np.ndarray
    answers: np.ndarray
    it: np.ndarray
    wk: np.ndarray
    lb: np.ndarray

    def present(self) -> np.ndarray:
        """Items with figures for this field (an answer and a label)."""
        return (self.answers > 0) & (self.labels >= 0)


@dataclass
class OtherColumn:
    """A field of another type: its value and figures per item, as Python objects."""

    name: str
    values: list[Any]
    details: list[dict[str, Any]]


@dataclass
class ItemColumns:
    """Every item's result as columns, in the order of ``ids``; ``fields`` in the form's
    order; ``stop_*`` set by the stopping rule (``services.stopping.fit_stopping``):
    stopping confidence (rounded as stored) and agreeing workers."""

    ids: np.ndarray
    counted: np.ndarray
    fields: list[SingleColumn | OtherColumn]
    primary: str | None
    stop_confidence: list[float] | None = None
    stop_agreeing: np.ndarray | None = None
    _position: dict[int, int] | None = field(default=None, repr=False)

    def position(self, pk: int) -> int:
        if self._position is None:
            self._position = {p: n for n, p in enumerate(self.ids.tolist())}
        return self._position[pk]

    def single(self, name: str) -> SingleColumn | None:
        return next(
            (f for f in self.fields if isinstance(f, SingleColumn) and f.name == name), None
        )

    def result(self, n: int) -> ItemResult:
        """The ``ItemResult`` of the item at position ``n``, as the per-item construction
        gives it (``quality._finish``)."""
        counted = int(self.counted[n])
        if counted == 0:
            return ItemResult(answer=None, confidence=None, details=None)
        answer: Data = {}
        figures: dict[str, Any] = {}
        for column in self.fields:
            if isinstance(column, OtherColumn):
                answer[column.name] = column.values[n]
                if column.details[n]:
                    figures[column.name] = column.details[n]
                continue
            label = int(column.labels[n])
            answers = int(column.answers[n])
            if answers == 0 or label < 0:
                answer[column.name] = None
                continue
            answer[column.name] = column.classes[label]
            figures[column.name] = {
                "confidence": float(column.confidence[n]),
                "agreement": float(column.agreement[n]),
                "answers": answers,
            }
        result = finish(self.primary, answer, figures, counted)
        if self.stop_confidence is not None and self.stop_agreeing is not None:
            assert result.details is not None  # for mypy: counted > 0
            result.details["stop"] = {
                "confidence": self.stop_confidence[n],
                "agreeing": int(self.stop_agreeing[n]),
            }
        return result


def finish(primary: str | None, answer: Data, fields: dict[str, Any], n_answers: int) -> ItemResult:
    """An item's result from its fields' answers and figures: the confidence and agreement
    are those of the primary field."""
    figures = fields.get(primary) if primary else None
    confidence = figures.get("confidence") if figures else None
    details = {
        "answers": n_answers,
        "agreement": figures.get("agreement") if figures else None,
        "fields": fields,
    }
    return ItemResult(answer=answer, confidence=confidence, details=details)


class FitItems(Mapping[int, ItemResult]):
    """``BatchFit.items``: item id → ``ItemResult``, built from the columns on first access
    and kept (a caller may change it, as it could a dict's value)."""

    def __init__(self, columns: ItemColumns) -> None:
        self.columns = columns
        self._built: dict[int, ItemResult] = {}

    def __getitem__(self, pk: int) -> ItemResult:
        found = self._built.get(pk)
        if found is None:
            found = self._built[pk] = self.columns.result(self.columns.position(pk))
        return found

    def __iter__(self) -> Iterator[int]:
        return iter(self.columns.ids.tolist())

    def __len__(self) -> int:
        return len(self.columns.ids)

    def __contains__(self, pk: object) -> bool:
        try:
            self.columns.position(pk)  # type: ignore[arg-type]
        except (KeyError, TypeError):
            return False
        return True

    def built(self) -> Mapping[int, ItemResult]:
        """The results built so far (the stopping rule adds its figures to these too)."""
        return self._built


class FitCounts(Mapping[int, int]):
    """``BatchFit.counted``: item id → counted answers, read from the columns."""

    def __init__(self, columns: ItemColumns) -> None:
        self.columns = columns

    def __getitem__(self, pk: int) -> int:
        return int(self.columns.counted[self.columns.position(pk)])

    def __iter__(self) -> Iterator[int]:
        return iter(self.columns.ids.tolist())

    def __len__(self) -> int:
        return len(self.columns.ids)


def first_seen(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(distinct values in order of first appearance, each value's index among them): what
    ``dict.fromkeys`` and an index dict give, without a Python loop."""
    if not len(values):
        return values[:0], np.zeros(0, dtype=np.intp)
    distinct, first, inverse = np.unique(values, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")
    rank = np.empty(len(order), dtype=np.intp)
    rank[order] = np.arange(len(order))
    return distinct[order], rank[inverse.reshape(-1)]


def label_table(distinct: Sequence[Data], name: str, index: dict[Any, int]) -> np.ndarray:
    """Each distinct answer's label index on a single-choice field (``-1``: not a choice)."""
    return np.asarray([index.get(d.get(name), -1) for d in distinct], dtype=np.intp)
