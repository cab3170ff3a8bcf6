"""The full fit's reads and writes as columns (``aggregation.batch_aggregate``).

A fit of 100,000 items × 3 answers spent most of its time outside the statistics: reading
300,000 answers through the ORM, settling 100,000 items one Python object at a time and
encoding their results as JSON for the database to compare with what it had. Here:

- the answers come in one query as columns (item, worker, answer), grouped on PostgreSQL
  by the answer's text, so each distinct answer is decoded once (:func:`answers_read`);
- the items' state is read as columns (:func:`items_snapshot`) and every item is settled
  with numpy (:func:`settle_columns`, the rules of ``item_states.item_settle_unlocked``
  after a fit, pinned against it by a test);
- on PostgreSQL the results travel as typed arrays (``unnest``) and, for a form of
  single-choice fields, the database builds each item's answer and details itself, so no
  JSON is encoded in Python; it writes a row only when a value differs from the stored one
  (a refit that changes nothing writes no row) and only while the item is as the snapshot
  saw it (:func:`items_store_guarded`).
"""

from __future__ import annotations

import gc
import json
import re
import struct
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from operator import itemgetter
from typing import Any, TypeVar, cast

import numpy as np
import psycopg
import psycopg.sql
from django.conf import settings
from django.db import connection
from psycopg import pq
from psycopg.adapt import Dumper

from trefpunt.core.db import ID_MAX

from ..aggregation._arrays import sorted_distinct
from ..aggregation.adaptive import DEFAULT_MIN_AGREEING, may_stop
from ..fit_results import ItemColumns, OtherColumn, SingleColumn
from ..models import Answer, Batch, BatchWorker, Item
from ..quality import BatchFit
from ..states import batch_is_running

Data = dict[str, Any]
T = TypeVar("T")

# Items a guarded statement writes at once (each statement commits on its own).
STORE_CHUNK = 5000
# Item states by number (1 for the first, as PostgreSQL indexes the array it is sent as).
STATUSES = [str(status) for status in Item.Status.values]
OPEN, COMPLETE, REVIEW = (
    STATUSES.index(str(status)) + 1
    for status in (Item.Status.OPEN, Item.Status.COMPLETE, Item.Status.REVIEW)
)
# What settling does to ``completed_at``: keep it, set it to the fit's time, clear it.
KEEP, STAMP, CLEAR = 0, 1, 2


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause Python's cycle collector (as it was before, afterwards)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _fetch(
    sql: str, params: Sequence[Any], raw: psycopg.Connection[Any] | None = None
) -> list[tuple[Any, ...]]:
    """Rows of a raw query; on PostgreSQL through psycopg with server-side parameters and
    binary results (Django's cursor quotes parameters in Python and reads text), on
    ``raw`` (a side connection, :class:`SideConnections`) when given."""
    if raw is not None or connection.vendor == "postgresql":
        if raw is None:
            connection.ensure_connection()
            raw = connection.connection
        with psycopg.Cursor(raw) as cursor:
            cursor.execute(sql, params, binary=True)
            return cursor.fetchall()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _as_text(column: str) -> str:
    """A JSON column as its text (SQLite stores it as text already)."""
    return f"{column}::text" if connection.vendor == "postgresql" else column


def _execute(sql: str, params: dict[str, Any], raw: psycopg.Connection[Any] | None = None) -> int:
    """Run one PostgreSQL statement with server-side parameters (lists go as arrays), on
    ``raw`` when given; returns its row count."""
    if raw is None:
        connection.ensure_connection()
        raw = connection.connection
    with psycopg.Cursor(raw) as cursor:
        for column in (_Bigints, _Floats):
            cursor.adapters.register_dumper(column, _ColumnDumper)
        cursor.execute(sql, params)
        return cursor.rowcount


def _table(model: Any) -> str:
    return str(connection.ops.quote_name(model._meta.db_table))


# --- side connections (PostgreSQL) -----------------------------------------------------------


def fit_writers() -> int:
    """Extra connections a full fit reads and writes its items on (``MICROTASK_FIT_WRITERS``,
    default 2; 0: everything on the request's own connection, one statement after the
    other)."""
    return max(0, min(8, int(getattr(settings, "MICROTASK_FIT_WRITERS", 2))))


def side_connections() -> SideConnections | None:
    """The fit's side connections, or ``None`` where it keeps to its own connection: not on
    PostgreSQL, none configured, or inside a transaction (a test's, whose rows other
    connections cannot see)."""
    n = fit_writers()
    if connection.vendor != "postgresql" or not n or connection.in_atomic_block:
        return None
    return SideConnections(n)


def _connect(params: dict[str, Any], role: str | None) -> psycopg.Connection[Any]:
    raw = psycopg.connect(**params)
    if role:
        raw.execute(psycopg.sql.SQL("SET ROLE {}").format(psycopg.sql.Identifier(role)))
    raw.autocommit = True
    return raw


class SideConnections:
    """``n`` connections to the fit's database besides its own, each in autocommit and with
    a thread of its own (so a statement on one runs while Python works or another waits).
    They are opened in their threads as soon as this is made, while the fit goes on;
    :meth:`submit` queues work on connection ``k``; :meth:`close` waits for the queued work
    and closes them. Nothing here touches Django's connection."""

    def __init__(self, n: int) -> None:
        params = connection.get_connection_params()
        role = connection.settings_dict["OPTIONS"].get("assume_role")
        self.threads = [ThreadPoolExecutor(1, thread_name_prefix="fit-side") for _ in range(n)]
        self.raw = [t.submit(_connect, params, role) for t in self.threads]

    def __len__(self) -> int:
        return len(self.threads)

    def submit(self, k: int, work: Callable[..., T], *args: Any) -> Future[T]:
        """Run ``work(raw connection, *args)`` on connection ``k`` after its earlier work."""
        raw = self.raw[k]
        return self.threads[k].submit(lambda: work(raw.result(), *args))

    def close(self) -> None:
        for thread in self.threads:
            thread.shutdown(wait=True)
        for opened in self.raw:
            if opened.exception() is None:
                opened.result().close()


# --- reading ---------------------------------------------------------------------------------


# The items' columns: PostgreSQL sends each as one array (no row objects for the driver to
# build), elsewhere rows in id order.
_ITEMS_ARRAYS = "SELECT {columns} FROM {item} WHERE batch_id = %s"
_ITEMS_ROWS = "SELECT {columns} FROM {item} WHERE batch_id = %s ORDER BY id"
_STATUS_CODE = (
    "CASE status "
    + " ".join(f"WHEN '{name}' THEN {k + 1}" for k, name in enumerate(STATUSES))
    + " END"
)
_ITEM_STATE = [
    "id",
    "is_gold",
    "CASE WHEN is_gold THEN {gold} END",
    "answers_count",
    "answers_target",
    _STATUS_CODE,
]
_ITEM_RESULTS = ["confidence", "aggregated_answer::text", "aggregate_details::text"]
_ANSWERS_GROUPED = (
    "SELECT data::text, array_agg(id), array_agg(item_id), array_agg(worker_id)"
    " FROM {answer} WHERE batch_id = %s AND id BETWEEN %s AND %s GROUP BY data::text"
)
_ANSWERS_READ = "SELECT data, id, item_id, worker_id FROM {answer} WHERE batch_id = %s AND id <= %s"


@dataclass
class ItemsSnapshot:
    """The batch's items as the fit's snapshot sees them, one array per column, by id; with
    ``results`` also their stored confidence (NaN: none) and answer and details as
    PostgreSQL prints them (``jsonb::text``)."""

    ids: np.ndarray
    is_gold: np.ndarray
    count: np.ndarray
    target: np.ndarray
    status: np.ndarray  # codes (``STATUSES``)
    gold: dict[int, Data]
    confidence: np.ndarray | None = None
    answer_text: list[str | None] | None = None
    details_text: list[str | None] | None = None


def _item_columns(
    batch_id: int,
    columns: list[str],
    raw: psycopg.Connection[Any] | None = None,
    id_range: tuple[int, int] | None = None,
) -> list[list[Any]]:
    """The items' ``columns`` in id order (the first column is the id); on PostgreSQL
    only those with ids in ``id_range`` (both ends included) when given."""
    if raw is not None or connection.vendor == "postgresql":
        # Unordered aggregates, sorted here: every aggregate of one query level takes the
        # rows in the same order, so the arrays stay aligned; ``array_agg(… ORDER BY id)``
        # sorted each column apart (nine sorts of 100,000 rows, spilling to disk).
        arrays = ", ".join(f"array_agg({column})" for column in columns)
        sql = _ITEMS_ARRAYS.format(columns=arrays, item=_table(Item))
        params = [batch_id]
        if id_range is not None:
            sql += " AND id BETWEEN %s AND %s"
            params += id_range
        found = [list(values or []) for values in _fetch(sql, params, raw)[0]]
        ids = np.asarray(found[0], dtype=np.int64)
        if len(ids) > 1 and not bool(np.all(ids[1:] > ids[:-1])):
            pick = itemgetter(*np.argsort(ids, kind="stable").tolist())
            found = [list(pick(values)) for values in found]
        return found
    rows = _fetch(_ITEMS_ROWS.format(columns=", ".join(columns), item=_table(Item)), [batch_id])
    return [list(values) for values in zip(*rows, strict=True)] if rows else [[] for _ in columns]


def items_snapshot(
    *,
    batch_id: int,
    results: bool = False,
    raw: psycopg.Connection[Any] | None = None,
    id_range: tuple[int, int] | None = None,
) -> ItemsSnapshot:
    """One query: each item's id, test answer (test questions only), answers count, target
    and status, and with ``results`` (PostgreSQL) its stored results; on ``raw`` (a side
    connection) when given; only the items with ids in ``id_range`` when given."""
    state = [column.format(gold=_as_text("gold_answer")) for column in _ITEM_STATE]
    columns = _item_columns(batch_id, state + (_ITEM_RESULTS if results else []), raw, id_range)
    ids, is_gold, gold, count, target, status = columns[:6]
    decoded = {pk: json.loads(text) for pk, text in zip(ids, gold, strict=True) if text}
    snapshot = ItemsSnapshot(
        ids=np.asarray(ids, dtype=np.int64),
        is_gold=np.asarray(is_gold, dtype=np.bool_),
        count=np.asarray(count, dtype=np.int64),
        target=np.asarray(target, dtype=np.int64),
        status=np.asarray(status, dtype=np.int64),
        gold={pk: g for pk, g in decoded.items() if g},
    )
    if results:
        snapshot.confidence = np.asarray(
            [np.nan if c is None else c for c in columns[6]], dtype=np.float64
        )
        snapshot.answer_text = columns[7]
        snapshot.details_text = columns[8]
    return snapshot


@dataclass
class AnswerColumns:
    """The batch's answers up to the fit's last one, ordered by item then id: answer ``j``
    is ``distinct[codes[j]]``."""

    items: np.ndarray
    workers: np.ndarray
    codes: np.ndarray
    distinct: list[Data]


def answers_read(
    *, batch_id: int, first: int, last: int, side: SideConnections | None = None
) -> AnswerColumns:
    """The batch's answers with ids from ``first`` to ``last``, in one query, or with two
    side connections in two: the upper half of the ids on the second side connection
    while the lower half is read here (the first one reads the items meanwhile).
    PostgreSQL groups the answers by their text (a batch's answers repeat a few values, its
    choices), so each distinct answer is decoded once and the rest are integer arrays;
    elsewhere the rows are read and grouped here."""
    table = _table(Answer)
    if connection.vendor == "postgresql":
        sql = _ANSWERS_GROUPED.format(answer=table)
        if side is not None and len(side) > 1 and last > first:
            middle = (first + last) // 2
            upper = side.submit(1, _fetch_on, sql, [batch_id, middle + 1, last])
            groups = _fetch(sql, [batch_id, first, middle]) + upper.result()
        else:
            groups = _fetch(sql, [batch_id, first, last])
    else:
        rows = _fetch(_ANSWERS_READ.format(answer=table), [batch_id, last])
        grouped: dict[str, list[tuple[int, int, int]]] = {}
        for text, *ids in rows:
            grouped.setdefault(text, []).append(tuple(ids))
        groups = [(text, *zip(*found, strict=True)) for text, found in grouped.items()]
    if not groups:
        empty = np.zeros(0, dtype=np.int64)
        return AnswerColumns(items=empty, workers=empty, codes=empty.astype(np.intp), distinct=[])
    index: dict[str, int] = {}  # an answer's text may come in a group of each half
    for text, *_rest in groups:
        index.setdefault(text, len(index))
    decoded = [json.loads(text) for text in index]
    code = np.concatenate([np.full(len(g[1]), index[g[0]], dtype=np.intp) for g in groups])
    pks, items, workers = (
        np.concatenate([np.asarray(g[k], dtype=np.int64) for g in groups]) for k in (1, 2, 3)
    )
    order = np.lexsort((pks, items))
    return AnswerColumns(
        items=items[order], workers=workers[order], codes=code[order], distinct=decoded
    )


# --- settling ---------------------------------------------------------------------------------


@dataclass
class FitColumns:
    """What the fit gives each item, as columns in the snapshot's order (missing numbers
    NaN), and for a form whose results have a fixed shape (:class:`ResultText`) each item's
    answer and details as PostgreSQL prints them (``None`` where unsure)."""

    counted: np.ndarray
    confidence: np.ndarray
    has_stop: np.ndarray
    stop_confidence: np.ndarray
    stop_agreeing: np.ndarray
    answer_text: list[str | None]
    details_text: list[str | None]


def single_fields(form: Sequence[Data]) -> list[tuple[str, list[str]]] | None:
    """(name, choices) of each field of a form of single-choice fields with text choices,
    else ``None``."""
    fields = []
    for spec in form:
        choices = [c.get("value") for c in spec.get("choices", [])]
        if spec["type"] != "single" or not all(isinstance(c, str) for c in choices):
            return None
        fields.append((str(spec["name"]), choices))
    return fields or None


# What ``ResultText`` gives where it cannot be sure of the text (never equal to stored text).
UNSURE = ""
_DETAIL_KEYS = {"answers", "agreement", "fields"}
_STOP_KEYS = {"answers", "agreement", "fields", "stop"}
# Numbers whose ``repr`` jsonb prints back as it is: plain decimals, no exponent, NaN, bool.
_PLAIN = re.compile(r"[0-9.\- ]*")


class ResultText:
    """An item's answer and details as ``jsonb::text`` prints them (keys by length, then
    bytes; ``", "`` and ``": "``), for a form of single-choice fields: a fit whose text
    equals the stored text leaves the row alone, without encoding or comparing JSON in
    the database. Where the text might differ only in form (a number in exponent notation)
    it says ``UNSURE``, and the database's comparison decides."""

    def __init__(self, fields: list[tuple[str, list[str]]]) -> None:
        def text(value: str) -> str:
            return json.dumps(value, ensure_ascii=False)

        ordered = sorted(fields, key=lambda f: (len(f[0].encode()), f[0].encode()))
        self.fields = [(name, text(name)) for name, _choices in ordered]
        self.names = [name for name, _key in self.fields]
        self.choices = {name: {c: text(c) for c in choices} for name, choices in fields}
        self._templates: dict[tuple[bool, tuple[bool, ...]], str] = {}

    def answer(self, answer: Data | None) -> str | None:
        if answer is None:
            return None
        if len(answer) != len(self.fields):
            return UNSURE
        parts = []
        for name, key in self.fields:
            value = answer.get(name)
            shown = "null" if value is None else self.choices[name].get(value)
            if shown is None:
                return UNSURE
            parts.append(f"{key}: {shown}")
        return "{" + ", ".join(parts) + "}"

    def details(self, details: Data | None) -> str | None:
        if details is None:
            return None
        stop = details.get("stop")
        if details.keys() != (_DETAIL_KEYS if stop is None else _STOP_KEYS):
            return UNSURE
        figures = details["fields"]
        # A figure missing under a known count of keys reads as None, which ``_PLAIN``
        # refuses; the top level's agreement may be None, so its keys are compared.
        numbers: list[Any] = [] if stop is None else [stop.get("agreeing"), stop.get("confidence")]
        present: list[bool] = []
        for name in self.names:
            field = figures.get(name)
            present.append(field is not None)
            if field is not None:
                numbers += (field.get("answers"), field.get("agreement"), field.get("confidence"))
                if len(field) != 3:
                    return UNSURE
        numbers.append(details["answers"])
        agreement = details["agreement"]
        if agreement is not None:
            numbers.append(agreement)
        shown = list(map(repr, numbers))
        known = stop is None or len(stop) == 2
        if not known or sum(present) != len(figures) or not _PLAIN.fullmatch(" ".join(shown)):
            return UNSURE
        if agreement is None:
            shown.append("null")
        return self.template(stop is not None, tuple(present)) % tuple(shown)

    def template(self, stop: bool, present: tuple[bool, ...]) -> str:
        found = self._templates.get((stop, present))
        return found if found is not None else self._template(stop, present)

    def _template(self, stop: bool, present: tuple[bool, ...]) -> str:
        """The details' text with ``%s`` for each number, in the order ``details`` lists
        them (a field name's own ``%`` doubled)."""
        fields = ", ".join(
            key.replace("%", "%%") + ': {"answers": %s, "agreement": %s, "confidence": %s}'
            for (_name, key), here in zip(self.fields, present, strict=True)
            if here
        )
        head = '{"stop": {"agreeing": %s, "confidence": %s}, ' if stop else "{"
        template = head + '"fields": {' + fields + '}, "answers": %s, "agreement": %s}'
        self._templates[(stop, present)] = template
        return template


def fit_columns(fit: BatchFit, ids: np.ndarray, texts: ResultText | None) -> FitColumns:
    """The fit's per-item figures as columns in the order of ``ids``, and with ``texts``
    each item's answer and details as ``jsonb::text`` prints them (:func:`result_texts`)."""
    columns = fit.columns
    if columns is None or not np.array_equal(columns.ids, ids):
        return _fit_columns_by_item(fit, ids, texts)
    counted = columns.counted.astype(np.int64)
    has_stop = counted > 0 if columns.stop_agreeing is not None else np.zeros(len(ids), bool)
    stop_confidence = np.zeros(len(ids))
    stop_agreeing = np.zeros(len(ids), dtype=np.int64)
    if columns.stop_confidence is not None and columns.stop_agreeing is not None:
        stop_confidence = np.where(has_stop, np.asarray(columns.stop_confidence), 0.0)
        stop_agreeing = np.where(has_stop, columns.stop_agreeing, 0).astype(np.int64)
    answer_text, details_text = result_texts(texts, columns) if texts else ([], [])
    return FitColumns(
        counted=counted,
        confidence=_primary_confidence(columns),
        has_stop=has_stop,
        stop_confidence=stop_confidence,
        stop_agreeing=stop_agreeing,
        answer_text=answer_text,
        details_text=details_text,
    )


def _primary_confidence(columns: ItemColumns) -> np.ndarray:
    """Each item's confidence (its primary field's), NaN for none."""
    n = len(columns.ids)
    primary = next((c for c in columns.fields if c.name == columns.primary), None)
    if isinstance(primary, SingleColumn):
        present = primary.present() & (columns.counted > 0)
        return np.where(present, primary.confidence, np.nan).astype(np.float64)
    if isinstance(primary, OtherColumn):
        found = [(d or {}).get("confidence") for d in primary.details]
        answered = (columns.counted > 0).tolist()
        pairs = zip(found, answered, strict=True)
        values = [c if c is not None and a else np.nan for c, a in pairs]
        return np.asarray(values, dtype=np.float64).reshape(n)
    return np.full(n, np.nan)


def _fit_columns_by_item(fit: BatchFit, ids: np.ndarray, texts: ResultText | None) -> FitColumns:
    """:func:`fit_columns` from each item's ``ItemResult`` (a fit without columns)."""
    nan = float("nan")
    counted, confidence, has_stop, stop_confidence, stop_agreeing = [], [], [], [], []
    answer_text: list[str | None] = []
    details_text: list[str | None] = []
    for pk in ids.tolist():
        result = fit.items[pk]
        stop = (result.details or {}).get("stop")
        counted.append(fit.counted[pk])
        confidence.append(nan if result.confidence is None else result.confidence)
        has_stop.append(stop is not None)
        stop_confidence.append(stop["confidence"] if stop is not None else 0.0)
        stop_agreeing.append(stop["agreeing"] if stop is not None else 0)
        if texts is not None:
            answer_text.append(texts.answer(result.answer))
            details_text.append(texts.details(result.details))
    return FitColumns(
        counted=np.asarray(counted, dtype=np.int64).reshape(len(ids)),
        confidence=np.asarray(confidence, dtype=np.float64).reshape(len(ids)),
        has_stop=np.asarray(has_stop, dtype=np.bool_).reshape(len(ids)),
        stop_confidence=np.asarray(stop_confidence, dtype=np.float64).reshape(len(ids)),
        stop_agreeing=np.asarray(stop_agreeing, dtype=np.int64).reshape(len(ids)),
        answer_text=answer_text,
        details_text=details_text,
    )


def _distinct(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(sorted distinct values, each value's index among them) by one sort (``np.unique``
    with ``return_inverse``, as numpy's sorting path gives it)."""
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    new = np.empty(len(values), dtype=np.bool_)
    new[:1] = True
    np.not_equal(ordered[1:], ordered[:-1], out=new[1:])
    inverse = np.empty(len(values), dtype=np.intp)
    inverse[order] = np.cumsum(new) - 1
    return ordered[new], inverse


def _shown(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each number as ``repr`` prints it (object array) and whether jsonb prints it back the
    same (``_PLAIN``); ``repr`` runs once per distinct value (by bit pattern, so ``-0.0``
    stays apart from ``0.0``), the check once over all of them when they all pass."""
    if values.dtype.kind == "f":
        bits = np.ascontiguousarray(values, dtype=np.float64).view(np.int64)
        distinct, inverse = _distinct(bits)
        shown = list(map(repr, distinct.view(np.float64).tolist()))
    else:
        distinct, inverse = _distinct(values.astype(np.int64))
        shown = list(map(repr, distinct.tolist()))
    if _PLAIN.fullmatch(" ".join(shown)):
        plain = np.ones(len(shown), dtype=np.bool_)
    else:
        plain = np.asarray([_PLAIN.fullmatch(text) is not None for text in shown], dtype=np.bool_)
    return np.asarray(shown, dtype=object)[inverse], plain[inverse]


def result_texts(texts: ResultText, columns: ItemColumns) -> tuple[list[Any], list[Any]]:
    """Every item's ``texts.answer`` and ``texts.details`` of its result, from the columns:
    the answer's text once per distinct combination of labels, the details' numbers
    printed once per distinct value and put in the template of their shape (which fields
    have figures, whether the stopping figures are there)."""
    n = len(columns.ids)
    fields = [columns.single(name) for name in texts.names]
    if any(f is None for f in fields) or len(fields) != len(columns.fields):
        return [UNSURE] * n, [UNSURE] * n  # never for a form ``single_fields`` accepts
    if not n:
        return [], []
    singles = [f for f in fields if f is not None]
    answered = columns.counted > 0
    present = np.stack([f.present() for f in singles]) if singles else np.zeros((0, n), bool)
    answer = _answer_texts(texts, singles, present, answered)
    stop = columns.stop_confidence is not None and columns.stop_agreeing is not None
    numbers: list[tuple[np.ndarray, np.ndarray]] = []
    if stop:
        assert columns.stop_agreeing is not None and columns.stop_confidence is not None
        numbers += [_shown(columns.stop_agreeing), _shown(np.asarray(columns.stop_confidence))]
    for f in singles:
        numbers += [_shown(f.answers), _shown(f.agreement), _shown(f.confidence)]
    numbers.append(_shown(columns.counted))
    primary = columns.single(columns.primary) if columns.primary else None
    agreement = None
    if primary is not None:  # its agreement is printed already among the fields' numbers
        at = next((k for k, f in enumerate(singles) if f is primary), None)
        agreement = _shown(primary.agreement) if at is None else numbers[2 * stop + 3 * at + 1]
    has_agreement = primary.present() if primary is not None else np.zeros(n, bool)
    # Each item's shape: which fields have figures (a bit each); the numbers it prints.
    shape = (present.astype(np.int64) << np.arange(len(singles))[:, None]).sum(axis=0)
    details = np.full(n, None, dtype=object)
    for key in sorted_distinct(shape[answered]).tolist():
        here = [bool(key >> k & 1) for k in range(len(singles))]
        rows = np.flatnonzero(answered & (shape == key))
        used = [numbers[0], numbers[1]] if stop else []
        for k, f_here in enumerate(here):
            if f_here:
                base = 2 * stop + 3 * k
                used += numbers[base : base + 3]
        used.append(numbers[-1])
        parts = [shown[rows] for shown, _plain in used]
        sure = np.logical_and.reduce([plain[rows] for _shown, plain in used])
        if agreement is not None:
            with_agreement = has_agreement[rows]
            parts.append(np.where(with_agreement, agreement[0][rows], "null"))
            sure &= ~with_agreement | agreement[1][rows]
        else:
            parts.append(np.full(len(rows), "null", dtype=object))
        template = texts.template(stop, tuple(here))
        filled = np.empty(len(rows), dtype=object)
        filled[:] = list(map(template.__mod__, zip(*(p.tolist() for p in parts), strict=True)))
        details[rows] = np.where(sure, filled, UNSURE)
    return answer, details.tolist()


def _distinct_columns(code: np.ndarray, sizes: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(code, axis=1, return_inverse=True)`` for non-negative codes below
    ``sizes`` (one per row), by one sort of each column's number in mixed radix."""
    if float(np.prod(np.asarray(sizes, dtype=np.float64))) >= 2.0**62:
        return np.unique(code, axis=1, return_inverse=True)
    key = np.zeros(code.shape[1], dtype=np.int64)
    for row, size in zip(code, sizes, strict=True):
        key = key * size + row
    distinct, inverse = _distinct(key)
    first = np.empty(len(distinct), dtype=np.intp)
    first[inverse[::-1]] = np.arange(len(key) - 1, -1, -1)
    return code[:, first], inverse


def _answer_texts(
    texts: ResultText, singles: list[SingleColumn], present: np.ndarray, answered: np.ndarray
) -> list[Any]:
    """Each item's answer text, formed once per distinct combination of its fields' labels."""
    n = len(answered)
    if not singles:
        return [texts.answer({}) if a else None for a in answered.tolist()]
    code = np.stack([np.where(p, f.labels + 1, 0) for f, p in zip(singles, present, strict=True)])
    combos, inverse = _distinct_columns(code, [len(f.classes) + 1 for f in singles])
    shown = [
        texts.answer(
            {
                f.name: None if c == 0 else f.classes[c - 1]
                for f, c in zip(singles, combo, strict=True)
            }
        )
        for combo in combos.T.tolist()
    ]
    out = np.asarray([*shown, None], dtype=object)[
        np.where(answered, inverse.reshape(-1), len(shown))
    ]
    return out.tolist() if n else []


@dataclass
class Settled:
    status: np.ndarray  # codes (``STATUSES``)
    target: np.ndarray
    completed: np.ndarray  # KEEP, STAMP or CLEAR


def settle_columns(*, batch: Batch, items: ItemsSnapshot, fit: FitColumns) -> Settled:
    """``item_states.item_settle_unlocked(reopen=True)`` for every item at once: an open item
    completes when it has enough (needs review when only its maximum made it enough while
    uncertain) or gets one more slot when full; a complete item that no longer has enough
    opens again while the batch runs (else needs review when uncertain); one needing review
    that became certain is complete. Test questions are never reopened."""
    count, target, gold = items.count, items.target, items.is_gold
    uncertain = ~gold & ~np.isnan(fit.confidence) & (fit.confidence < batch.confidence_target)
    stops = may_stop(
        fit.stop_confidence,
        fit.counted,
        fit.stop_agreeing,
        target=batch.confidence_target,
        min_answers=batch.min_answers,
        min_agreeing=DEFAULT_MIN_AGREEING,
    )
    enough = (count >= batch.max_answers) | np.where(
        gold,
        count >= target,
        (fit.counted >= batch.min_answers) & np.where(fit.has_stop, stops, ~uncertain),
    )
    was = items.status
    status = was.copy()
    new_target = target.copy()
    completed = np.full(len(count), KEEP, dtype=np.int64)
    finish = (was == OPEN) & enough
    status[finish] = np.where(uncertain[finish], REVIEW, COMPLETE)
    completed[finish] = STAMP
    more = (was == OPEN) & ~enough & (count >= target)
    new_target[more] = count[more] + 1
    complete = (was == COMPLETE) & ~gold
    reopen = complete & ~enough & batch_is_running(batch)
    missing = np.maximum(1, batch.min_answers - fit.counted)
    status[reopen] = OPEN
    completed[reopen] = CLEAR
    new_target[reopen] = np.maximum(target, np.minimum(batch.max_answers, count + missing))[reopen]
    status[complete & ~reopen & uncertain] = REVIEW
    status[(was == REVIEW) & ~gold & ~uncertain] = COMPLETE
    return Settled(status=status, target=new_target, completed=completed)


def changed_rows(*, items: ItemsSnapshot, fit: FitColumns, settled: Settled) -> np.ndarray:
    """Positions of the items whose stored state or results differ from the fit's (all of
    them when the stored results were not read or their text could not be formed)."""
    unread = items.confidence is None or items.answer_text is None or items.details_text is None
    if unread or len(fit.answer_text) != len(items.ids):
        return np.arange(len(items.ids))
    assert items.confidence is not None and items.answer_text is not None  # for mypy
    assert items.details_text is not None
    same_confidence = (items.confidence == fit.confidence) | (
        np.isnan(items.confidence) & np.isnan(fit.confidence)
    )
    same_text = _same(fit.answer_text, items.answer_text) & _same(
        fit.details_text, items.details_text
    )
    same = (
        same_confidence
        & same_text
        & (settled.status == items.status)
        & (settled.target == items.target)
        & (settled.completed == KEEP)
    )
    return np.flatnonzero(~same)


def _same(new: list[str | None], old: list[str | None]) -> np.ndarray:
    """Element by element ``new == old`` (``None`` equals only ``None``)."""
    if not new:
        return np.zeros(0, dtype=np.bool_)
    return np.asarray(
        np.asarray(new, dtype=object) == np.asarray(old, dtype=object), dtype=np.bool_
    )


# --- writing on PostgreSQL ------------------------------------------------------------------


class _Column:
    """A numpy column sent as a PostgreSQL array in binary, laid out by numpy (the driver's
    element-by-element array dumping took seconds for 100,000 items)."""

    array_oid = 0
    element_oid = 0
    dtype = ""

    def __init__(self, values: np.ndarray) -> None:
        n = len(values)
        if not n:
            self.payload = struct.pack(">iiI", 0, 0, self.element_oid)
            return
        body = np.empty(n, dtype=[("size", ">i4"), ("value", self.dtype)])
        body["size"] = np.dtype(self.dtype).itemsize
        body["value"] = values
        self.payload = struct.pack(">iiIii", 1, 0, self.element_oid, n, 1) + body.tobytes()


class _Bigints(_Column):
    array_oid, element_oid, dtype = 1016, 20, ">i8"


class _Floats(_Column):
    array_oid, element_oid, dtype = 1022, 701, ">f8"


class _ColumnDumper(Dumper):
    format = pq.Format.BINARY

    def __init__(self, cls: type, context: Any = None) -> None:
        super().__init__(cls, context)
        self.oid = cast("type[_Column]", cls).array_oid

    def dump(self, obj: Any) -> bytes:
        return bytes(obj.payload)


def _column(values: np.ndarray) -> _Column:
    return _Floats(values) if values.dtype.kind == "f" else _Bigints(values)


# One statement per chunk writes an item only while it still is as the fit saw it (its
# answer count, target and status: re-checked on the newest row version, so an answer in
# flight makes it wait for that one row, then skip it), only while no newer fit is stored
# for the batch, and only when a value changes. Numbers travel as binary arrays (NaN for
# none; a state by its number in ``%(statuses)s``), answers and details as JSON text. The
# chunk's rows are named by id and also bounded by the batch and the chunk's id range, so
# the planner reads only that stretch of the table.
_STORE = """
UPDATE {item} AS i SET
    answers_target = v.target,
    status = v.status,
    completed_at = {completed},
    aggregated_answer = v.answer,
    confidence = v.confidence,
    aggregate_details = v.details
FROM (
    SELECT u.id, u.seen, u.was_target, (%(statuses)s::text[])[u.was_status] AS was_status,
        u.target, (%(statuses)s::text[])[u.status] AS status, u.completed,
        NULLIF(u.confidence, 'NaN') AS confidence, u.answer::jsonb AS answer,
        u.details::jsonb AS details
    FROM unnest(
        %(id)b::bigint[], %(seen)b::bigint[], %(was_target)b::bigint[],
        %(was_status)b::bigint[], %(target)b::bigint[], %(status)b::bigint[],
        %(completed)b::bigint[], %(confidence)b::float8[], %(answer)b::text[],
        %(details)b::text[]
    ) AS u(id, seen, was_target, was_status, target, status, completed, confidence, answer,
        details)
) AS v
WHERE i.id = v.id AND i.batch_id = %(batch)s AND i.id BETWEEN %(low)s AND %(high)s
  AND i.answers_count = v.seen AND i.answers_target = v.was_target AND i.status = v.was_status
  AND NOT EXISTS (
      SELECT 1 FROM {batch} b
      WHERE b.id = %(batch)s
        AND (b.fit_through > %(last)s OR (b.fit_through = %(last)s AND b.fit_version > %(version)s))
  )
  AND (
      i.answers_target, i.status, i.completed_at, i.aggregated_answer, i.confidence,
      i.aggregate_details
  ) IS DISTINCT FROM (v.target, v.status, {completed}, v.answer, v.confidence, v.details)
"""
_COMPLETED = (
    f"CASE v.completed WHEN {STAMP} THEN %(now)s::timestamptz WHEN {CLEAR} THEN NULL"
    " ELSE i.completed_at END"
)


def _json_text(fit: BatchFit, ids: list[int], known: list[str | None], part: str) -> list[Any]:
    """The JSON text of each item's answer or details: the text formed for the comparison,
    or encoded here where that was unsure or not formed (``known`` empty)."""
    if known and UNSURE not in known:
        return known
    out: list[str | None] = []
    for n, pk in enumerate(ids):
        text = known[n] if known else UNSURE
        if text == UNSURE:
            value = getattr(fit.items[pk], part)
            text = None if value is None else json.dumps(value)
        out.append(text)
    return out


def items_store_guarded(
    *,
    batch: Batch,
    fit: BatchFit,
    items: ItemsSnapshot,
    columns: FitColumns,
    settled: Settled,
    rows: np.ndarray,
    last: int,
    version: int,
    now: datetime,
    side: SideConnections | None = None,
) -> int:
    """Write the fit's results of the items at ``rows`` (positions in the snapshot, in id
    order) in chunks of ``STORE_CHUNK`` (``_STORE``), each chunk a statement of its own
    (autocommit), on the ``side`` connections in turn when given (their statements run side
    by side, on disjoint rows), else on the fit's own connection; returns the rows written.

    The caller holds the batch's fit-store lock (two fits write one after the other) and
    has checked that no newer fit is stored; it stores this fit's model and worker rows
    only after this returned, then looks for the items that moved on since the snapshot
    (:func:`items_moved`). Every chunk is waited for, also when one fails (its error is
    raised then): no statement of this fit runs on after it returned."""
    state = {
        "id": items.ids,
        "seen": items.count,
        "was_target": items.target,
        "was_status": items.status,
        "target": settled.target,
        "status": settled.status,
        "completed": settled.completed,
        "confidence": columns.confidence,
    }
    sql = _STORE.format(completed=_COMPLETED, item=_table(Item), batch=_table(Batch))
    common = {"statuses": STATUSES, "batch": batch.pk, "last": last, "version": version, "now": now}
    written = 0
    pending: list[Future[int]] = []
    for n, start in enumerate(range(0, len(rows), STORE_CHUNK)):
        chunk = rows[start : start + STORE_CHUNK]
        ids = items.ids[chunk]
        texts = {
            part: _json_text(fit, ids.tolist(), itemgetter_list(found, chunk), part)
            for part, found in (("answer", columns.answer_text), ("details", columns.details_text))
        }
        bounds = {"low": int(ids.min()), "high": int(ids.max())}
        params: dict[str, Any] = {key: _column(column[chunk]) for key, column in state.items()}
        params.update(texts, **common, **bounds)
        if side is None:
            written += _store_chunk(None, sql, params)
        else:
            pending.append(side.submit(n % len(side), _store_chunk, sql, params))
    errors = [f.exception() for f in pending]  # waits for every chunk
    for error in errors:
        if error is not None:
            raise error
    return written + sum(f.result() for f in pending)


def itemgetter_list(values: list[Any], positions: np.ndarray) -> list[Any]:
    """``[values[k] for k in positions]`` (empty when ``values`` is)."""
    if not values or not len(positions):
        return []
    if len(positions) == 1:
        return [values[int(positions[0])]]
    return list(itemgetter(*positions.tolist())(values))


# A chunk's statement is run again when PostgreSQL picked it as a deadlock's victim (an
# answer page locks several items in turn); it is idempotent (guarded, skips equal rows).
_STORE_ATTEMPTS = 3


def _store_chunk(raw: psycopg.Connection[Any] | None, sql: str, params: dict[str, Any]) -> int:
    for attempt in range(1, _STORE_ATTEMPTS + 1):
        try:
            return _execute(sql, params, raw)
        except psycopg.errors.DeadlockDetected:
            if attempt == _STORE_ATTEMPTS or raw is None:
                raise
    return 0  # not reached


def items_moved(
    *, batch_id: int, items: ItemsSnapshot, settled: Settled, side: SideConnections | None = None
) -> list[int]:
    """The items that moved on since the snapshot (answers arrived, or another state):
    neither as the snapshot saw them nor as this fit left them. One read of the batch's
    items after the writes — with two side connections, one half of the ids on each —; the
    caller combines these again under their locks."""
    if side is not None and len(side) > 1 and len(items.ids) > 1:
        middle = int(items.ids[len(items.ids) // 2])
        halves = [
            side.submit(k, _state_on, batch_id, id_range)
            for k, id_range in enumerate(((0, middle - 1), (middle, ID_MAX)))
        ]
        lower, upper = (half.result() for half in halves)
        now = ItemsSnapshot(
            ids=np.concatenate((lower.ids, upper.ids)),
            is_gold=np.concatenate((lower.is_gold, upper.is_gold)),
            count=np.concatenate((lower.count, upper.count)),
            target=np.concatenate((lower.target, upper.target)),
            status=np.concatenate((lower.status, upper.status)),
            gold={**lower.gold, **upper.gold},
        )
    else:
        now = items_snapshot(batch_id=batch_id)
    if not len(now.ids):
        return []
    position = np.searchsorted(now.ids, items.ids).clip(0, len(now.ids) - 1)
    found = now.ids[position] == items.ids
    count, target, status = now.count[position], now.target[position], now.status[position]
    same = (count == items.count) & (
        ((target == items.target) & (status == items.status))
        | ((target == settled.target) & (status == settled.status))
    )
    return items.ids[found & ~same].tolist()


def _state_on(
    raw: psycopg.Connection[Any], batch_id: int, id_range: tuple[int, int]
) -> ItemsSnapshot:
    return items_snapshot(batch_id=batch_id, raw=raw, id_range=id_range)


def _fetch_on(raw: psycopg.Connection[Any], sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    return _fetch(sql, params, raw)


# --- worker rows on PostgreSQL -----------------------------------------------------------------

_WORKERS_STORE = """
UPDATE {table} AS w SET
    gold_answers = v.gold_answers,
    gold_correct = v.gold_correct,
    estimate = COALESCE(v.estimate::jsonb, w.estimate),
    skill = CASE WHEN v.fitted THEN v.skill ELSE w.skill END,
    spam_score = CASE WHEN v.fitted THEN v.spam_score ELSE w.spam_score END,
    flagged_spammer = CASE WHEN v.fitted THEN v.flagged ELSE w.flagged_spammer END,
    updated_at = %(now)s
FROM unnest(
    %(worker)b::bigint[], %(gold_answers)b::int[], %(gold_correct)b::int[], %(fitted)b::boolean[],
    %(estimate)b::text[], %(skill)b::float8[], %(spam_score)b::float8[], %(flagged)b::boolean[]
) AS v(worker_id, gold_answers, gold_correct, fitted, estimate, skill, spam_score, flagged)
WHERE w.batch_id = %(batch)s AND w.worker_id = v.worker_id
"""


def batch_workers_store(
    *,
    batch_id: int,
    fit: BatchFit,
    worker_ids: list[int],
    gold_counts: dict[int, tuple[int, int]],
    now: datetime,
) -> None:
    """One statement for every worker row of the fit (the rows exist, and the caller holds
    the batch's lock): gold counts, and estimate, skill, spammer score and flag for the
    workers the fit saw."""
    columns: dict[str, list[Any]] = {
        key: []
        for key in (
            "worker",
            "gold_answers",
            "gold_correct",
            "fitted",
            "estimate",
            "skill",
            "spam_score",
            "flagged",
        )
    }
    for worker_id in worker_ids:
        n, ok = gold_counts.get(worker_id, (0, 0))
        worker_fit = fit.workers.get(worker_id)
        columns["worker"].append(worker_id)
        columns["gold_answers"].append(n)
        columns["gold_correct"].append(ok)
        columns["fitted"].append(worker_fit is not None)
        columns["estimate"].append(json.dumps(worker_fit.estimate) if worker_fit else None)
        columns["skill"].append(worker_fit.skill if worker_fit else None)
        columns["spam_score"].append(worker_fit.spam_score if worker_fit else None)
        columns["flagged"].append(worker_fit.flagged if worker_fit else False)
    _execute(
        _WORKERS_STORE.format(table=_table(BatchWorker)),
        {**columns, "batch": batch_id, "now": now},
    )
