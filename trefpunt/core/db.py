"""Database helpers shared by the hot paths.

``prepared_cursor`` runs hand-written statements as prepared statements on PostgreSQL:
psycopg binds the parameters on the server and prepares the statement on its first run
on a connection (``execute(..., prepare=True)``), so each later run skips parsing and
planning. Django's own cursors bind on the client and cannot prepare. Queries still go
through Django's cursor wrapper: they are logged (``CaptureQueriesContext``, the query
count tests) and database errors arrive as Django's exceptions.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.backends.utils import CursorDebugWrapper, CursorWrapper


def prepared_statements() -> bool:
    """Whether ``prepared_cursor`` prepares (PostgreSQL, ``DB_PREPARED_STATEMENTS`` on)."""
    return connection.vendor == "postgresql" and settings.DB_PREPARED_STATEMENTS


def _prepared_cursor_class() -> Any:
    import psycopg

    class PreparedCursor(psycopg.Cursor):
        """A server-binding cursor whose every statement is prepared."""

        def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
            kwargs["prepare"] = True
            return super().execute(query, params, **kwargs)

    return PreparedCursor


_CURSOR_CLASS: list[Any] = []


@contextmanager
def prepared_cursor() -> Iterator[Any]:
    """A cursor on the default database for hand-written statements with ``%s`` or
    ``%(name)s`` placeholders: prepared on PostgreSQL (see the module docstring), an
    ordinary Django cursor elsewhere or with ``DB_PREPARED_STATEMENTS`` off.

    Server-side binding types each parameter from its Python value: cast where the
    statement needs another type (``%s::bigint[]`` for an empty list)."""
    if not prepared_statements():
        with connection.cursor() as cursor:
            yield cursor
        return
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    connection.validate_thread_sharing()
    if not _CURSOR_CLASS:
        _CURSOR_CLASS.append(_prepared_cursor_class())
    raw = _CURSOR_CLASS[0](connection.connection)
    wrapper = CursorDebugWrapper if connection.queries_logged else CursorWrapper
    with wrapper(raw, connection) as cursor:
        yield cursor
