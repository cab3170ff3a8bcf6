"""Pages of long lists that stay cheap at any depth.

``BoundedPaginator`` counts at most ``max_rows`` rows (a list of 100,000 contests is not counted
on every request; past the bound the page says so) and loads a page in two steps: the page's
ids from the list's ordered query without its per-row figures (an index-served order walks
the index; OFFSET skips ids, not correlated subqueries), then those rows with everything the
page shows. Pages near the top (``ONE_STEP_OFFSET_MAX``) load in one query: PostgreSQL
computes a row's subqueries after the LIMIT, and joins for a few skipped rows cost little.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.db.models import QuerySet
from django.utils.functional import cached_property

LIST_MAX_ROWS = 10_000
# Pages that skip at most this many rows load in one step (see ``page``).
ONE_STEP_OFFSET_MAX = 200


class BoundedPaginator(Paginator):
    def __init__(
        self,
        object_list: QuerySet[Any],
        per_page: int,
        max_rows: int | None = None,
        rows: QuerySet[Any] | None = None,
    ) -> None:
        """``rows``: the same list read another way for the page's rows (say, plain values
        with columns of a joined table, ``values_list(..., named=True)`` with ``pk``), so
        that counting and finding the page's ids do not carry its joins."""
        super().__init__(object_list, per_page)
        self.queryset = object_list
        self.rows = object_list if rows is None else rows
        self.max_rows = LIST_MAX_ROWS if max_rows is None else max_rows

    @cached_property
    def count(self) -> int:
        return int(self.queryset.order_by().values("pk")[: self.max_rows].count())

    @property
    def capped(self) -> bool:
        """Whether the list has (at least) ``max_rows`` rows, so that deeper ones are not shown."""
        return self.count >= self.max_rows

    def ids_of_page(self, number: int) -> list[int]:
        """The ids of page ``number`` (a valid number), in the list's order."""
        bottom = (number - 1) * self.per_page
        top = min(bottom + self.per_page, self.count)
        return list(self.queryset.values_list("pk", flat=True)[bottom:top])

    def get_page_ids(self, number: Any) -> Page:
        """Like ``get_page`` (a wrong number gives the first page, one past the end the last
        page), with the page's ids as its ``object_list``: for callers that load the rows
        themselves."""
        try:
            number = self.validate_number(number)
        except PageNotAnInteger:
            number = 1
        except EmptyPage:
            number = self.num_pages
        return Page(self.ids_of_page(number), number, self)

    def page(self, number: Any) -> Page:
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        if bottom <= ONE_STEP_OFFSET_MAX:
            # Near the top, the rows in one query: the few skipped rows cost the database
            # less than a second query costs this process to build.
            top = min(bottom + self.per_page, self.count)
            return Page(list(self.rows[bottom:top]), number, self)
        ids = self.ids_of_page(number)
        rows = {row.pk: row for row in self.rows.filter(pk__in=ids)}
        return Page([rows[pk] for pk in ids if pk in rows], number, self)


def rows_of_ids(table: str) -> str:
    """In a ``rows_of`` statement, ``table``'s rows of the page's ids (``{ids}``) in place of
    the table: the subquery's OFFSET 0 keeps PostgreSQL from merging it into the outer
    query, so the rows are read by their ids whatever it guesses about the rest of the
    ``WHERE``. Left to choose, the plan a prepared statement keeps read a contest's entries
    by the contest (expecting the average ten, finding 2,000) and picked the page's 24."""
    return f"(SELECT * FROM {table} WHERE id = ANY({{ids}}) OFFSET 0)"  # noqa: S608 (a table name)


@functools.cache
def _rows_of_sql(statement: str, n: int) -> str:
    """``rows_of`` for ``n`` ids, written as ``n`` parameters (``core.db.array_sql``: then
    PostgreSQL estimates the rows it reads, and keeps a fitting plan)."""
    from trefpunt.core.db import array_sql

    return statement.replace("{ids}", array_sql("ids", n, "bigint"))


class StatementPaginator(BoundedPaginator):
    """``BoundedPaginator`` over a list read by hand-written statements, prepared on
    PostgreSQL (``core.db.prepared_cursor``), instead of querysets: for the pages opened
    most, where building the ORM's queries cost more than running them. ``count`` counts at
    most ``%(limit)s`` rows; ``rows`` reads ``%(limit)s`` rows of the list in its order from
    ``%(offset)s``; ``ids`` the same rows' ids only and ``rows_of`` the rows of the ids
    ``{ids}`` (an array; in any order, ``rows_of_ids``): the two steps of
    ``BoundedPaginator.page`` for deep pages. Each statement also gets ``params``;
    ``row(*values)`` makes a page's row (with ``pk``); ``keep_plan`` as ``prepared_cursor``
    takes it."""

    def __init__(
        self,
        per_page: int,
        *,
        count: str,
        rows: str,
        ids: str,
        rows_of: str,
        params: dict[str, Any],
        row: Callable[..., Any],
        max_rows: int | None = None,
        keep_plan: bool = True,
    ) -> None:
        # Not ``BoundedPaginator.__init__``: there are no querysets.
        Paginator.__init__(self, [], per_page)
        self.max_rows = LIST_MAX_ROWS if max_rows is None else max_rows
        self.statements = {"count": count, "rows": rows, "ids": ids, "rows_of": rows_of}
        self.params = params
        self.row = row
        self.keep_plan = keep_plan

    def _run(self, statement: str, **more: Any) -> list[Any]:
        return self._run_sql(self.statements[statement], more)

    def _run_sql(self, sql: str, more: dict[str, Any]) -> list[Any]:
        from trefpunt.core.db import prepared_cursor

        with prepared_cursor(keep_plan=self.keep_plan) as cursor:
            cursor.execute(sql, {**self.params, **more})
            return list(cursor.fetchall())

    def _rows_of(self, ids: list[int]) -> list[Any]:
        from trefpunt.core.db import array_params

        return self._run_sql(
            _rows_of_sql(self.statements["rows_of"], len(ids)), array_params("ids", ids)
        )

    @cached_property
    def count(self) -> int:
        return int(self._run("count", limit=self.max_rows)[0][0])

    def ids_of_page(self, number: int) -> list[int]:
        bottom = (number - 1) * self.per_page
        limit = min(self.per_page, self.count - bottom)
        return [r[0] for r in self._run("ids", offset=bottom, limit=limit)]

    def page(self, number: Any) -> Page:
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        if bottom <= ONE_STEP_OFFSET_MAX:
            limit = min(self.per_page, self.count - bottom)
            rows = self._run("rows", offset=bottom, limit=limit)
            return Page([self.row(*r) for r in rows], number, self)
        ids = self.ids_of_page(number)
        found = {r.pk: r for r in (self.row(*v) for v in self._rows_of(ids))}
        return Page([found[pk] for pk in ids if pk in found], number, self)
