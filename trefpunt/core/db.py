"""Database helpers shared by the hot paths.

``prepared_cursor`` runs hand-written statements as prepared statements on PostgreSQL:
psycopg binds the parameters on the server and prepares the statement on its first run
on a connection (``execute(..., prepare=True)``), so each later run skips parsing and
planning. Django's own cursors bind on the client and cannot prepare. Queries still go
through Django's cursor wrapper: they are logged (``CaptureQueriesContext``, the query
count tests) and database errors arrive as Django's exceptions.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.utils import CursorDebugWrapper, CursorWrapper
from django.db.models.base import ModelState
from django.db.models.fields.related_descriptors import ForeignKeyDeferredAttribute
from django.db.models.query_utils import DeferredAttribute
from django.db.models.signals import post_init, pre_init


@functools.cache
def _cursor_class(prepare: bool) -> Any:
    import psycopg

    class ServerCursor(psycopg.Cursor):
        """A server-binding cursor whose every statement is prepared (``prepare``), or
        none is (psycopg would prepare a statement on its fifth run otherwise)."""

        def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
            kwargs["prepare"] = prepare
            return super().execute(query, params, **kwargs)

    return ServerCursor


class _PreparedDebugWrapper(CursorDebugWrapper):
    """Logs the statement as written: psycopg keeps no query text on a cursor whose
    statement ran prepared, so Django's ``last_executed_query`` would log ``None``."""

    def execute(self, sql: Any, params: Any = None) -> Any:
        with self.debug_sql(sql, params):
            return CursorWrapper.execute(self, sql, params)


@contextmanager
def prepared_cursor(*, keep_plan: bool = True) -> Iterator[Any]:
    """A cursor on the default database for hand-written statements with ``%s`` or
    ``%(name)s`` placeholders: prepared on PostgreSQL (see the module docstring), an
    ordinary Django cursor elsewhere or with ``DB_PREPARED_STATEMENTS`` off.

    A prepared statement keeps one plan from its sixth run, made without its parameters'
    values: write the code's constants in (``sql_literal``). ``keep_plan=False`` is for a
    statement whose best plan depends on them, such as one person's rows in order when a
    person has one row or thousands (the client dashboard: the kept plan sorted all 1,370
    of a client's contests for each page of 20, where planned with the client's id it
    reads them in index order): bound on the server but not prepared, planned each run.

    Server-side binding types each parameter from its Python value: cast where the
    statement needs another type (``%s::bigint[]`` for an empty list)."""
    # The connection itself, not the ``connection`` proxy: every attribute read through
    # the proxy looks the alias up in a context-local store (a few µs each).
    db = connections[DEFAULT_DB_ALIAS]
    if db.vendor != "postgresql" or not settings.DB_PREPARED_STATEMENTS:
        with db.cursor() as cursor:
            yield cursor
        return
    db.close_if_health_check_failed()
    db.ensure_connection()
    db.validate_thread_sharing()
    raw = _cursor_class(keep_plan)(db.connection)
    wrapper = _PreparedDebugWrapper if db.queries_logged else CursorWrapper
    with wrapper(raw, db) as cursor:
        yield cursor


def sql_literal(value: str) -> str:
    """A constant of the code (a status, a kind, a role) as a string literal, written into a
    prepared statement instead of passed as a parameter: the generic plan a prepared
    statement keeps after its first five runs cannot use a partial index whose predicate
    (``WHERE status = 'open'``) a parameter might not match, and scans instead (the worker's
    batch list: 0.7 → 55 ms on the web bench). For the code's own values only: anything but
    letters, digits and underscores is refused."""
    text = str(value)  # a choices member's value
    if not text.replace("_", "").isalnum() or not text.isascii():
        raise ValueError(f"not a constant of the code: {text!r}")
    return f"'{text}'"


# The largest value of a ``bigint`` column (an id): a larger number from a request names no row.
ID_MAX = 2**63 - 1


def is_id(value: int) -> bool:
    """Whether a number from a request can name a row: 1 to ``ID_MAX`` (a larger one
    overflows the lookup, 500 on SQLite and PostgreSQL)."""
    return 0 < value <= ID_MAX


def array_sql(name: str, n: int, kind: str) -> str:
    """``ARRAY[%(name_0)s::kind, …]::kind[]``, ``n`` parameters where a statement would take
    one array parameter (``array_params`` gives their values). PostgreSQL estimates an array
    parameter (``= ANY($1)``, ``unnest($1)``) at ten elements, so a prepared statement
    run with one element always finds a custom plan cheaper and plans again on every
    run; an ``ARRAY[…]`` of ``n`` parameters is estimated at ``n``, and after five runs
    the statement keeps its plan. One statement per ``n``: cache them per ``n``."""
    return "ARRAY[" + ", ".join(f"%({name}_{i})s::{kind}" for i in range(n)) + f"]::{kind}[]"


def array_params(name: str, values: Sequence[Any]) -> dict[str, Any]:
    """The parameters of ``array_sql(name, len(values), …)``."""
    return {f"{name}_{i}": value for i, value in enumerate(values)}


@functools.cache
def model_fields(model: type[Any], deferred: tuple[str, ...] = ()) -> tuple[Any, ...]:
    """The concrete fields of ``model`` a hand-written statement reads, in column order
    (computed once per process, like the statements built from them)."""
    return tuple(f for f in model._meta.concrete_fields if f.name not in deferred)


class _RowShape:
    """What ``model_from_row`` needs of one ``model_fields`` tuple, worked out once: the
    attribute names, the fields with a ``from_db_value`` converter, and whether every
    field's attribute is a plain ``DeferredAttribute`` (no setter) or a foreign key's id
    attribute (whose setter only drops a cached related object, which a new instance has
    none of), so that ``Model.__init__`` would only store each value in the instance's
    ``__dict__`` (``plain``)."""

    def __init__(self, model: type[Any], fields: tuple[Any, ...]) -> None:
        self.fields = fields
        self.attnames = [f.attname for f in fields]
        self.converters = [(n, f) for n, f in enumerate(fields) if hasattr(f, "from_db_value")]
        kinds = (DeferredAttribute, ForeignKeyDeferredAttribute)
        self.plain = all(type(inspect.getattr_static(model, a)) in kinds for a in self.attnames)


# By the identity of the fields tuple (a ``model_fields`` tuple lives as long as the
# process); hashing the tuple would hash every field in it, on every row.
_SHAPES: dict[int, _RowShape] = {}


def model_from_row(model: type[Any], fields: tuple[Any, ...], values: Sequence[Any]) -> Any:
    """An instance of ``model`` from the values of ``fields`` (a ``model_fields`` tuple)
    read by a hand-written statement on PostgreSQL (its driver gives each value as the ORM
    would before the fields' own converters; SQLite's gives naive datetimes), converted by
    those converters (JSON decoded), fields not read deferred, marked as loaded from the
    default database: the instance ``Model.from_db`` would make, filled in directly where
    that is the same — plain attributes (``_RowShape``) and no receiver of ``pre_init`` or
    ``post_init`` at all (checked on every call: there are none in this project, and one
    connected later must not be skipped)."""
    db = connections[DEFAULT_DB_ALIAS]
    shape = _SHAPES.get(id(fields))
    if shape is None or shape.fields is not fields:
        shape = _SHAPES[id(fields)] = _RowShape(model, fields)
    converted = list(values)
    for n, field in shape.converters:
        converted[n] = field.from_db_value(converted[n], None, db)
    if not shape.plain or pre_init.receivers or post_init.receivers:
        return model.from_db(db.alias, shape.attnames, converted)
    instance = object.__new__(model)
    instance.__dict__.update(zip(shape.attnames, converted, strict=True))
    state = instance._state = ModelState()
    state.adding = False
    state.db = db.alias
    return instance


# One table of a hand-written join: its alias in the statement, its model and the fields
# read (a ``model_fields`` tuple).
JoinPart = tuple[str, type[Any], tuple[Any, ...]]


def joined_columns(parts: Sequence[JoinPart]) -> str:
    """The select list of a hand-written join: each part's columns, in order."""
    quote = connections[DEFAULT_DB_ALIAS].ops.quote_name
    return ", ".join(f"{alias}.{quote(f.column)}" for alias, _m, fields in parts for f in fields)


def instances_from_row(parts: Sequence[JoinPart], row: Sequence[Any]) -> list[Any]:
    """The instances of a row read with ``joined_columns(parts)``, one per part in order
    (``model_from_row``), or ``None`` where a left join found none (its primary key NULL)."""
    made: list[Any] = []
    values = list(row)
    for _alias, model, fields in parts:
        own = values[: len(fields)]
        missing = own[fields.index(model._meta.pk)] is None
        made.append(None if missing else model_from_row(model, fields, own))
        values = values[len(fields) :]
    return made


def prefetched_set(instance: Any, name: str, manager_rows: Any, rows: list[Any]) -> None:
    """``rows`` (read by a hand-written statement) as ``instance``'s prefetched ``name``, as
    ``prefetch_related(name)`` leaves them: ``manager_rows`` is the related manager's queryset
    a prefetch would have filled (its ordering and joins), answered from ``rows`` with no
    query. Django keeps no public way to do this; it is written here once."""
    manager_rows._result_cache = rows
    manager_rows._prefetch_done = True
    instance._prefetched_objects_cache = {name: manager_rows}
