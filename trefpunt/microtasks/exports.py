"""Results export: CSV (one row per answer, items without answers get one row) and JSON
Lines (one object per item with its answers). Workers appear under their per-batch
pseudonym only.

Every item carries its combined answer (``aggregated_answer``, the answer's shape; in CSV
also one ``aggregated.<field>`` column per field), its ``confidence`` (probability of the
combined answer of the first categorical field) and ``agreement`` (share of counted answers
that gave it); empty (CSV) or null (JSON Lines) until the item has counted answers. Answers
of workers the client excluded stay in the export, marked ``counted: false`` — they do not
enter the combined answer.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Any

from .models import Answer, Batch, BatchWorker, Item
from .selectors import worker_pseudonym

CHUNK = 1000
FIXED_ITEM_COLUMNS = ["item_id", "position", "is_gold", "item_status"]
AGGREGATE_COLUMNS = ["aggregated_answer", "confidence", "agreement"]
ANSWER_COLUMNS = [
    "answer_id",
    "worker",
    "answer_status",
    "counted",
    "working_seconds",
    "submitted_at",
]


def _excluded(batch: Batch) -> set[int]:
    return set(
        BatchWorker.objects.filter(batch=batch, excluded=True).values_list("worker_id", flat=True)
    )


def _agreement(item: Item) -> float | None:
    return (item.aggregate_details or {}).get("agreement")


def _share(value: float | None) -> str:
    return "" if value is None else f"{value:.6f}"


class _Pseudonyms(dict[int, str]):
    def __init__(self, batch_id: int) -> None:
        super().__init__()
        self.batch_id = batch_id

    def __missing__(self, user_id: int) -> str:
        value = worker_pseudonym(batch_id=self.batch_id, user_id=user_id)
        self[user_id] = value
        return value


def _items(batch: Batch) -> Iterator[Item]:
    return (
        Item.objects.filter(batch=batch)
        .prefetch_related("answers")
        .order_by("position")
        .iterator(chunk_size=CHUNK)
    )


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return "|".join(str(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _csv_line(values: list[Any]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerow(values)
    return buffer.getvalue()


def export_filename(batch: Batch, fmt: str) -> str:
    return f"batch-{batch.pk}-results.{'csv' if fmt == 'csv' else 'jsonl'}"


def export_csv(batch: Batch) -> Iterator[str]:
    columns = list(batch.item_columns or [])
    fields = [f["name"] for f in batch.form]
    yield _csv_line(
        FIXED_ITEM_COLUMNS
        + [f"item.{c}" for c in columns]
        + AGGREGATE_COLUMNS
        + [f"aggregated.{name}" for name in fields]
        + ANSWER_COLUMNS
        + [f"answer.{name}" for name in fields]
    )
    names = _Pseudonyms(batch.pk)
    excluded = _excluded(batch)
    for item in _items(batch):
        head = [item.pk, item.position, _cell(item.is_gold), item.status]
        head += [_cell(item.data.get(c)) for c in columns]
        combined = item.aggregated_answer or {}
        head += [
            "" if item.aggregated_answer is None else json.dumps(item.aggregated_answer),
            _share(item.confidence),
            _share(_agreement(item)),
        ]
        head += [_cell(combined.get(name)) for name in fields]
        answers = sorted(item.answers.all(), key=lambda a: (a.created_at, a.pk))
        if not answers:
            yield _csv_line(head + [""] * (len(ANSWER_COLUMNS) + len(fields)))
            continue
        for answer in answers:
            yield _csv_line(
                head
                + [
                    answer.pk,
                    names[answer.worker_id],
                    answer.status,
                    _cell(answer.worker_id not in excluded),
                    answer.working_seconds,
                    answer.created_at.isoformat(),
                ]
                + [_cell(answer.data.get(name)) for name in fields]
            )


def _answer_json(answer: Answer, names: _Pseudonyms, excluded: set[int]) -> dict[str, Any]:
    return {
        "answer_id": answer.pk,
        "worker": names[answer.worker_id],
        "answer": answer.data,
        "status": answer.status,
        "counted": answer.worker_id not in excluded,
        "working_seconds": answer.working_seconds,
        "submitted_at": answer.created_at.isoformat(),
    }


def export_jsonl(batch: Batch) -> Iterator[str]:
    names = _Pseudonyms(batch.pk)
    excluded = _excluded(batch)
    for item in _items(batch):
        answers = sorted(item.answers.all(), key=lambda a: (a.created_at, a.pk))
        line = {
            "item_id": item.pk,
            "position": item.position,
            "data": item.data,
            "is_gold": item.is_gold,
            "gold_answer": item.gold_answer,
            "status": item.status,
            "aggregated_answer": item.aggregated_answer,
            "confidence": item.confidence,
            "agreement": _agreement(item),
            "aggregate_details": item.aggregate_details,
            "answers": [_answer_json(a, names, excluded) for a in answers],
        }
        yield json.dumps(line, ensure_ascii=False) + "\n"


def export_stream(batch: Batch, fmt: str) -> Iterator[str]:
    return export_csv(batch) if fmt == "csv" else export_jsonl(batch)
