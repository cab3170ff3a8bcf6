# ruff: noqa: S608 - SQL here is built from this module's constants; every value is a parameter
"""One search interface, two databases.

PostgreSQL: ``vector`` is a generated ``tsvector`` column over title and names (weight A, also
in the ``simple`` configuration so names and prefixes match as typed), keywords (B) and body (C),
each in the English and the Dutch configuration; a GIN index serves ``@@``. A term matches as a
prefix in any of the three configurations (``ontwerpen`` → ``ontwerp:*``), ranked by
``ts_rank``, highlighted by ``ts_headline``.

SQLite: an FTS5 table with the ``porter unicode61`` tokenizer (English stems, accents folded)
over the same columns plus ``stems``, the Dutch stems (snowball) that FTS5 cannot make itself;
external content, kept in step with ``discovery_searchdocument`` by triggers. A term matches as a
prefix or by its Dutch stem, ranked by ``bm25``, highlighted by ``snippet``.

Both indexes are maintained by the database in the statement that writes the document row, so
they are current in the same transaction as the change that caused it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connection
from django.db.models import FloatField, QuerySet
from django.db.models.expressions import RawSQL

from .models import SearchDocument
from .text import MARK_END, MARK_START, dutch_stem, dutch_stems

TABLE = "discovery_searchdocument"

POSTGRES_INSTALL = [
    f"""
    ALTER TABLE {TABLE} ADD COLUMN vector tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('simple'::regconfig, coalesce(title, '') || ' ' || coalesce(names, '')), 'A')
        || setweight(to_tsvector('english'::regconfig, coalesce(title, '')), 'A')
        || setweight(to_tsvector('dutch'::regconfig, coalesce(title, '')), 'A')
        || setweight(to_tsvector('english'::regconfig, coalesce(keywords, '')), 'B')
        || setweight(to_tsvector('dutch'::regconfig, coalesce(keywords, '')), 'B')
        || setweight(to_tsvector('english'::regconfig, coalesce(body, '')), 'C')
        || setweight(to_tsvector('dutch'::regconfig, coalesce(body, '')), 'C')
    ) STORED
    """,  # noqa: E501
    f"CREATE INDEX discovery_searchdoc_vector ON {TABLE} USING GIN (vector)",
]
POSTGRES_UNINSTALL = [
    "DROP INDEX IF EXISTS discovery_searchdoc_vector",
    f"ALTER TABLE {TABLE} DROP COLUMN IF EXISTS vector",
]

_FTS_COLUMNS = "title, names, keywords, body, stems"
_FTS_VALUES = "new.title, new.names, new.keywords, new.body, new.stems"
_FTS_OLD = "old.title, old.names, old.keywords, old.body, old.stems"
SQLITE_INSTALL = [
    f"""
    CREATE VIRTUAL TABLE discovery_fts USING fts5(
        {_FTS_COLUMNS}, content='{TABLE}', content_rowid='id',
        tokenize='porter unicode61 remove_diacritics 2'
    )
    """,
    f"""
    CREATE TRIGGER discovery_fts_ai AFTER INSERT ON {TABLE} BEGIN
        INSERT INTO discovery_fts(rowid, {_FTS_COLUMNS}) VALUES (new.id, {_FTS_VALUES});
    END
    """,
    f"""
    CREATE TRIGGER discovery_fts_ad AFTER DELETE ON {TABLE} BEGIN
        INSERT INTO discovery_fts(discovery_fts, rowid, {_FTS_COLUMNS})
        VALUES ('delete', old.id, {_FTS_OLD});
    END
    """,
    f"""
    CREATE TRIGGER discovery_fts_au AFTER UPDATE ON {TABLE} BEGIN
        INSERT INTO discovery_fts(discovery_fts, rowid, {_FTS_COLUMNS})
        VALUES ('delete', old.id, {_FTS_OLD});
        INSERT INTO discovery_fts(rowid, {_FTS_COLUMNS}) VALUES (new.id, {_FTS_VALUES});
    END
    """,
]
SQLITE_UNINSTALL = [
    "DROP TRIGGER IF EXISTS discovery_fts_au",
    "DROP TRIGGER IF EXISTS discovery_fts_ad",
    "DROP TRIGGER IF EXISTS discovery_fts_ai",
    "DROP TABLE IF EXISTS discovery_fts",
]


class Backend:
    """What differs between the databases. ``match`` filters and ranks, ``snippets`` highlights
    the rows of one page."""

    def prepare(self, fields: dict[str, Any]) -> dict[str, Any]:
        return fields

    def filter(
        self, qs: QuerySet[SearchDocument], terms: Sequence[str]
    ) -> QuerySet[SearchDocument]:
        """Only the documents every term matches."""
        raise NotImplementedError

    def rank(self, qs: QuerySet[SearchDocument], terms: Sequence[str]) -> QuerySet[SearchDocument]:
        """Annotate ``rank``: higher is better."""
        raise NotImplementedError

    def snippets(self, ids: Sequence[int], terms: Sequence[str]) -> dict[int, tuple[str, str]]:
        raise NotImplementedError


def _pg_tsquery(terms: Sequence[str]) -> tuple[str, list[str]]:
    """Every term must match, each as a prefix in any configuration. Terms are words only
    (``text.query_terms``), passed as parameters."""
    parts = []
    params: list[str] = []
    for term in terms:
        parts.append(
            "(to_tsquery('english'::regconfig, %s) || to_tsquery('dutch'::regconfig, %s)"
            " || to_tsquery('simple'::regconfig, %s))"
        )
        params += [f"{term}:*"] * 3
    return " && ".join(parts), params


class PostgresBackend(Backend):
    def filter(
        self, qs: QuerySet[SearchDocument], terms: Sequence[str]
    ) -> QuerySet[SearchDocument]:
        tsquery, params = _pg_tsquery(terms)
        # The column unqualified: inside a subquery (the candidate pool) Django aliases the
        # table, and a qualified name would correlate with the outer query's row instead.
        return qs.extra(where=[f"vector @@ ({tsquery})"], params=params)  # noqa: S610

    def rank(self, qs: QuerySet[SearchDocument], terms: Sequence[str]) -> QuerySet[SearchDocument]:
        tsquery, params = _pg_tsquery(terms)
        return qs.annotate(
            rank=RawSQL(f"ts_rank({TABLE}.vector, {tsquery})", params, output_field=FloatField())  # noqa: S611
        )

    def snippets(self, ids: Sequence[int], terms: Sequence[str]) -> dict[int, tuple[str, str]]:
        if not ids:
            return {}
        tsquery, params = _pg_tsquery(terms)
        options = f"StartSel={MARK_START}, StopSel={MARK_END}, MaxWords=30, MinWords=12"
        sql = (
            f"SELECT id, ts_headline('simple'::regconfig, title, {tsquery}, %s),"
            f" ts_headline('english'::regconfig, left(body, 4000), {tsquery}, %s)"
            f" FROM {TABLE} WHERE id = ANY(%s)"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [*params, options, *params, options, list(ids)])
            return {row[0]: (row[1], row[2]) for row in cursor.fetchall()}


def _fts_match(terms: Sequence[str]) -> str:
    """An FTS5 query: every term, as a prefix or by its Dutch stem. Terms are words only, and
    quoted, so FTS5 reads none of them as syntax."""
    parts = []
    for term in terms:
        stem = dutch_stem(term)
        parts.append(f'("{term}"* OR stems : "{stem}")')
    return " AND ".join(parts)


class SqliteBackend(Backend):
    def prepare(self, fields: dict[str, Any]) -> dict[str, Any]:
        text = " ".join(
            [fields.get("title", ""), fields.get("keywords", ""), fields.get("body", "")]
        )
        return {**fields, "stems": dutch_stems(text)}

    def filter(
        self, qs: QuerySet[SearchDocument], terms: Sequence[str]
    ) -> QuerySet[SearchDocument]:
        # Unqualified, as for PostgreSQL: correct inside the pool's subquery too.
        return qs.extra(
            where=["id IN (SELECT rowid FROM discovery_fts WHERE discovery_fts MATCH %s)"],
            params=[_fts_match(terms)],
        )

    def rank(self, qs: QuerySet[SearchDocument], terms: Sequence[str]) -> QuerySet[SearchDocument]:
        # bm25 is lower for better matches; negated so that higher ranks first on both databases.
        rank_sql = (
            "SELECT -bm25(discovery_fts, 10.0, 10.0, 4.0, 1.0, 1.0) FROM discovery_fts"
            f" WHERE discovery_fts MATCH %s AND discovery_fts.rowid = {TABLE}.id"
        )
        return qs.annotate(
            rank=RawSQL(rank_sql, [_fts_match(terms)], output_field=FloatField())  # noqa: S611
        )

    def snippets(self, ids: Sequence[int], terms: Sequence[str]) -> dict[int, tuple[str, str]]:
        if not ids:
            return {}
        expression = _fts_match(terms)
        marks = f"'{MARK_START}', '{MARK_END}'"
        placeholders = ", ".join(["%s"] * len(ids))
        sql = (
            f"SELECT rowid, highlight(discovery_fts, 0, {marks}),"
            f" snippet(discovery_fts, 3, {marks}, '…', 24)"
            f" FROM discovery_fts WHERE discovery_fts MATCH %s AND rowid IN ({placeholders})"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [expression, *ids])
            return {row[0]: (row[1], row[2]) for row in cursor.fetchall()}


def backend() -> Backend:
    if connection.vendor == "postgresql":
        return PostgresBackend()
    return SqliteBackend()


def install(schema_editor: Any, *, forward: bool = True) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        statements = POSTGRES_INSTALL if forward else POSTGRES_UNINSTALL
    elif vendor == "sqlite":
        statements = SQLITE_INSTALL if forward else SQLITE_UNINSTALL
    else:
        return
    for statement in statements:
        schema_editor.execute(statement)
