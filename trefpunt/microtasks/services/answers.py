"""A worker's answer on their lease: stored under the item's row lock, then the item's
combined answer is updated (``aggregation``), and the bounded per-answer checks run (fair
pay, a full fit due)."""

from __future__ import annotations

import functools
import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import DEFAULT_DB_ALIAS, OperationalError, connection, connections, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from trefpunt.core.db import (
    array_params,
    array_sql,
    instances_from_row,
    is_id,
    joined_columns,
    model_fields,
    prepared_cursor,
    sql_literal,
)
from trefpunt.core.exceptions import Conflict, ErrorCode, NotFound, ValidationFailed
from trefpunt.webhooks.services import webhook_listeners_read, webhook_listeners_sql

from ..formspec import answer_clean
from ..models import Answer, AnswerTally, Batch, BatchWorker, Item, Lease
from ..quality import AnswerRow
from ..selectors import fair_pay_min_answers
from ..webhooks import item_completed_emit
from . import aggregation
from .aggregation import ITEM_FIELDS, item_answer_recorded_unlocked
from .lifecycle import batch_fair_pay_check, batch_finished_check

if TYPE_CHECKING:
    from trefpunt.accounts.models import User

# Up to this many answers the fair-pay check runs inline, every FAIR_PAY_INLINE_STEP answers
# (from the first on which it can decide); beyond it the periodic sweep keeps checking (the
# median of a large batch moves slowly). Each check reads the batch's answers so far.
FAIR_PAY_INLINE_UNTIL = 200
FAIR_PAY_INLINE_STEP = 5


# The lease used, the answer stored and, in the same statement, what combining the item's
# answers needs: the new answer's id (kind 0; no such row when the lease was not usable),
# the item's earlier counted answers with their workers' estimates (kind 1, in answer
# order; the statement's snapshot does not see the new answer), and this worker's estimate
# and exclusion (kind 2).
_USE_AND_ANSWER = """
WITH used AS (
    UPDATE {lease} SET status = %s, finished_at = %s
    WHERE id = %s AND status = {active} AND expires_at > %s
    RETURNING id
), stored AS (
    INSERT INTO {answer} ({columns}) SELECT {values} FROM used RETURNING id
)
SELECT 0 AS kind, s.id, NULL::integer, NULL::text, NULL::jsonb, NULL::boolean FROM stored s
UNION ALL
SELECT 1, a.id, a.worker_id, a.data::text, w.estimate, NULL
FROM {answer} a
LEFT JOIN {worker} w ON w.batch_id = a.batch_id AND w.worker_id = a.worker_id
WHERE a.item_id = %s AND NOT COALESCE(w.excluded, FALSE)
UNION ALL
SELECT 2, NULL, NULL, NULL, w.estimate, w.excluded FROM {worker} w
WHERE w.batch_id = %s AND w.worker_id = %s
ORDER BY 1, 2
"""

# ``n`` more answers on the worker's tally row of the batch; in the same statement the batch's
# answers received (the sum of its tally rows as of the statement's start, plus this one) and
# what "is a fit due?" needs from the batch row (read, not locked).
_COUNT_ANSWER = """
WITH counted AS (
    INSERT INTO {tally} (batch_id, shard, answers) VALUES (%(batch)s, %(shard)s, %(n)s)
    ON CONFLICT (batch_id, shard) DO UPDATE SET answers = {tally}.answers + %(n)s
    RETURNING 1
)
SELECT (SELECT COALESCE(SUM(t.answers), 0) FROM {tally} t WHERE t.batch_id = b.id) + %(n)s,
       b.fit_received, b.fit_answers, b.fit_through, b.fit_requested_through
FROM {batch} b WHERE b.id = %(batch)s
"""


@functools.cache
def _use_and_answer_query() -> tuple[list[Any], str]:
    ops = connection.ops
    fields = [f for f in Answer._meta.concrete_fields if not f.primary_key]
    sql = _USE_AND_ANSWER.format(
        lease=ops.quote_name(Lease._meta.db_table),
        active=sql_literal(Lease.Status.ACTIVE),
        answer=ops.quote_name(Answer._meta.db_table),
        worker=ops.quote_name(BatchWorker._meta.db_table),
        columns=", ".join(ops.quote_name(str(f.column)) for f in fields),
        # Typed: a prepared statement binds on the server, where an untyped NULL in a
        # SELECT list would be text.
        values=", ".join(f"%s::{f.db_type(connection)}" for f in fields),
    )
    return fields, sql


def _lease_use_and_answer_unlocked(
    *, lease: Lease, answer: Answer, now: datetime
) -> list[AnswerRow] | bool:
    """Turn the live lease into ``answer``: only an active lease whose time has not run out
    is used, and only once. Sets ``answer.pk``; returns ``False`` when the lease was not
    used. PostgreSQL: one statement (``_USE_AND_ANSWER``) that also returns the item's
    counted answers with the new one last (``AnswerRow``, as ``aggregation`` combines them);
    elsewhere the conditional update, then the insert, and ``True`` (the rows are read by
    ``aggregation``). The caller holds the item's row lock."""
    ops = connection.ops
    used_where = {"pk": lease.pk, "status": Lease.Status.ACTIVE, "expires_at__gt": now}
    if connection.vendor != "postgresql":
        used = Lease.objects.filter(**used_where).update(
            status=Lease.Status.SUBMITTED, finished_at=now
        )
        if used:
            answer.save(force_insert=True)
        return bool(used)
    fields, sql = _use_and_answer_query()
    db = connections[DEFAULT_DB_ALIAS]  # the connection itself, not the proxy (see core.db)
    values = [f.get_db_prep_save(f.pre_save(answer, True), db) for f in fields]
    stamp = ops.adapt_datetimefield_value(now)
    params = [Lease.Status.SUBMITTED.value, stamp, lease.pk, stamp]
    tail = [answer.item_id, answer.batch_id, answer.worker_id]
    with prepared_cursor() as cursor:
        cursor.execute(sql, [*params, *values, *tail])
        found = cursor.fetchall()
    if not found or found[0][0] != 0:
        return False
    answer.pk = found[0][1]
    answer._state.adding = False
    answer._state.db = connection.alias
    rows = [
        AnswerRow(
            worker_id=worker_id, data=json.loads(text), estimate=_json(estimate), answer_id=pk
        )
        for kind, pk, worker_id, text, estimate, _excluded in found
        if kind == 1
    ]
    mine = [(estimate, excluded) for kind, *_rest, estimate, excluded in found if kind == 2]
    estimate, excluded = mine[0] if mine else (None, False)
    if not excluded:
        rows.append(
            AnswerRow(worker_id=answer.worker_id, data=answer.data, estimate=_json(estimate))
        )
    return rows


# A task page's answers in one statement (PostgreSQL): the page's live leases used, their
# answers stored (kind 0: the new answer's id and lease; a lease not usable stores nothing)
# and the page items' earlier counted answers with their workers' estimates (kind 1, in
# answer order; the statement's snapshot does not see the new answers), and this worker's
# estimate and exclusion (kind 2): ``_USE_AND_ANSWER`` for k answers at once.
_USE_AND_ANSWER_PAGE = """
WITH v AS (
    SELECT * FROM unnest({arrays}) AS v({names})
), used AS (
    UPDATE {lease} l SET status = %(submitted)s, finished_at = %(now)s
    FROM v WHERE l.id = v.lease_id AND l.status = {active} AND l.expires_at > %(now)s
    RETURNING l.id
), stored AS (
    INSERT INTO {answer} ({columns})
    SELECT {values} FROM v JOIN used ON used.id = v.lease_id
    RETURNING id, lease_id
)
SELECT 0 AS kind, s.id, s.lease_id, NULL::integer, NULL::text, NULL::jsonb, NULL::boolean
FROM stored s
UNION ALL
SELECT 1, a.id, a.item_id, a.worker_id, a.data::text, w.estimate, NULL
FROM {answer} a
LEFT JOIN {worker} w ON w.batch_id = a.batch_id AND w.worker_id = a.worker_id
WHERE a.item_id = ANY(%(items)s::bigint[]) AND NOT COALESCE(w.excluded, FALSE)
UNION ALL
SELECT 2, NULL, NULL, NULL, NULL, w.estimate, w.excluded FROM {worker} w
WHERE w.batch_id = %(batch)s AND w.worker_id = %(worker_id)s
ORDER BY 1, 2
"""


@functools.cache
def _use_and_answer_page_query() -> tuple[list[Any], set[str], str]:
    ops = connection.ops
    fields = [f for f in Answer._meta.concrete_fields if not f.primary_key]
    json_fields = {f.name for f in fields if f.get_internal_type() == "JSONField"}

    def array(f: Any) -> str:
        kind = "text" if f.name in json_fields else f.db_type(connection)
        return f"%(c_{f.column})s::{kind}[]"

    sql = _USE_AND_ANSWER_PAGE.format(
        arrays=", ".join(array(f) for f in fields),
        names=", ".join(str(f.column) for f in fields),
        lease=ops.quote_name(Lease._meta.db_table),
        active=sql_literal(Lease.Status.ACTIVE),
        answer=ops.quote_name(Answer._meta.db_table),
        worker=ops.quote_name(BatchWorker._meta.db_table),
        columns=", ".join(ops.quote_name(str(f.column)) for f in fields),
        values=", ".join(
            f"v.{f.column}::jsonb" if f.name in json_fields else f"v.{f.column}" for f in fields
        ),
    )
    return fields, json_fields, sql


def _page_use_and_answer_unlocked(
    *, answers: list[Answer], now: datetime
) -> dict[int, list[AnswerRow]] | int:
    """``_lease_use_and_answer_unlocked`` for a page's answers (one worker, one batch, their
    items locked by the caller) in one statement (``_USE_AND_ANSWER_PAGE``). Sets each
    answer's ``pk``; returns each item's counted answers with the new one last, or the id
    of the first lease (in page order) that was not usable, having stored nothing usable
    the caller keeps (it fails the page, which rolls back)."""
    fields, json_fields, sql = _use_and_answer_page_query()
    params: dict[str, Any] = {
        "submitted": Lease.Status.SUBMITTED.value,
        "now": now,
        "items": [answer.item_id for answer in answers],
        "batch": answers[0].batch_id,
        "worker_id": answers[0].worker_id,
    }
    db = connections[DEFAULT_DB_ALIAS]  # the connection itself, not the proxy (see core.db)
    for f in fields:
        values = [f.pre_save(answer, True) for answer in answers]
        if f.name in json_fields:
            params[f"c_{f.column}"] = [json.dumps(v, cls=f.encoder) for v in values]
        else:
            params[f"c_{f.column}"] = [f.get_db_prep_save(v, db) for v in values]
    with prepared_cursor() as cursor:
        cursor.execute(sql, params)
        found = cursor.fetchall()
    stored = {lease_id: pk for kind, pk, lease_id, *_rest in found if kind == 0}
    for answer in answers:
        if answer.lease_id not in stored:
            return int(answer.lease_id)
        answer.pk = stored[answer.lease_id]
        answer._state.adding = False
        answer._state.db = connection.alias
    rows: dict[int, list[AnswerRow]] = {answer.item_id: [] for answer in answers}
    mine: tuple[Any, bool] = (None, False)
    for kind, pk, item_id, worker_id, text, estimate, excluded in found:
        if kind == 1:
            rows[item_id].append(
                AnswerRow(
                    worker_id=worker_id,
                    data=json.loads(text),
                    estimate=_json(estimate),
                    answer_id=pk,
                )
            )
        elif kind == 2:
            mine = (estimate, excluded)
    if not mine[1]:
        for answer in answers:
            rows[answer.item_id].append(
                AnswerRow(worker_id=answer.worker_id, data=answer.data, estimate=_json(mine[0]))
            )
    return rows


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _answer_counted(*, batch: Batch, worker_id: int, n: int = 1) -> int:
    """Count ``n`` more answers on the worker's tally row of the batch (``AnswerTally``) and
    read back, in the same statement, the batch's answers received (returned) and onto
    ``batch`` what "is a fit due?" needs. Runs last in the answer's transaction: the tally
    row stays locked until the commit, but only answers of workers that share its shard
    wait for it, and nothing locks a tally row before an item (lock order: item, then
    tally), so the answer pays one commit, not two. Elsewhere than PostgreSQL: the upsert,
    then the read."""
    if connection.vendor != "postgresql":
        return _answer_counted_portable(batch=batch, worker_id=worker_id, n=n)
    ops = connection.ops
    sql = _COUNT_ANSWER.format(
        tally=ops.quote_name(AnswerTally._meta.db_table),
        batch=ops.quote_name(Batch._meta.db_table),
    )
    shard = worker_id % AnswerTally.TALLY_SHARDS
    with connection.cursor() as cursor:
        cursor.execute(sql, {"batch": batch.pk, "shard": shard, "n": n})
        return _fit_facts_read(batch, cursor.fetchone())


def _fit_facts_read(batch: Batch, found: Any) -> int:
    """Put the read-back ``(received, fit_received, fit_answers, fit_through,
    fit_requested_through)`` onto ``batch``; return the answers received (0 without a row)."""
    if found is None:
        return 0
    (
        received,
        batch.fit_received,
        batch.fit_answers,
        batch.fit_through,
        batch.fit_requested_through,
    ) = found
    return int(received or 0)


_COUNT_ANSWER_PORTABLE = """
INSERT INTO {tally} (batch_id, shard, answers) VALUES (%s, %s, %s)
ON CONFLICT (batch_id, shard) DO UPDATE SET answers = answers + %s
"""


def _answer_counted_portable(*, batch: Batch, worker_id: int, n: int) -> int:
    """``_answer_counted`` in two statements: the upsert, then the same read."""
    tally = connection.ops.quote_name(AnswerTally._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            _COUNT_ANSWER_PORTABLE.format(tally=tally),
            [batch.pk, worker_id % AnswerTally.TALLY_SHARDS, n, n],
        )
    fresh = (
        Batch.objects.filter(pk=batch.pk)
        .annotate(received=Sum("tallies__answers"))
        .values_list(
            "received", "fit_received", "fit_answers", "fit_through", "fit_requested_through"
        )
        .first()
    )
    return _fit_facts_read(batch, fresh)


def _seconds_check(seconds: int | None) -> None:
    if seconds is not None and (
        isinstance(seconds, bool) or not isinstance(seconds, int) or seconds < 1
    ):
        raise ValidationFailed(fields={"seconds": _("Report the working time as whole seconds.")})


# What the answer path reads of the batch and the item (long texts and the item's own data
# are left out).
_BATCH_DEFERRED = ("instructions", "display", "item_columns")
_ITEM_DEFERRED = ("data",)

_LEASES_LOCKED = """
SELECT {columns}
FROM {lease} l JOIN {item} i ON i.id = l.item_id JOIN {batch} b ON b.id = l.batch_id
WHERE l.id = ANY({ids}) AND l.worker_id = %(worker)s
ORDER BY i.id
FOR NO KEY UPDATE OF i
"""


def _leases_locked_parts() -> list[tuple[str, type[Any], tuple[Any, ...]]]:
    return [
        ("l", Lease, model_fields(Lease)),
        ("i", Item, model_fields(Item, _ITEM_DEFERRED)),
        ("b", Batch, model_fields(Batch, _BATCH_DEFERRED)),
    ]


@functools.cache
def _leases_locked_query(n: int) -> str:
    return _LEASES_LOCKED.format(
        ids=array_sql("id", n, "bigint"),
        columns=joined_columns(_leases_locked_parts()),
        lease=Lease._meta.db_table,
        item=Item._meta.db_table,
        batch=Batch._meta.db_table,
    )


def _leases_locked_sql(*, lease_ids: list[int], worker: User) -> dict[int, Lease]:
    """``_leases_locked`` in one hand-written statement (PostgreSQL): the ORM compiling the
    three-table select for update was the answer's largest cost in Python."""
    parts = _leases_locked_parts()
    with prepared_cursor() as cursor:
        cursor.execute(
            _leases_locked_query(len(lease_ids)),
            {"worker": worker.pk, **array_params("id", lease_ids)},
        )
        rows = cursor.fetchall()
    found: dict[int, Lease] = {}
    batches: dict[int, Batch] = {}
    for row in rows:
        lease, item, batch = instances_from_row(parts, row)
        lease.item = item
        lease.batch = batches.setdefault(batch.pk, batch)
        lease.worker = worker
        found[lease.pk] = lease
    return found


def _leases_locked(*, lease_ids: list[int], worker: User) -> dict[int, Lease]:
    """The worker's leases among ``lease_ids`` with their batch and item, the items locked
    in ascending id order (the platform's lock order; the lock a claim takes). A number
    beyond any id (from a request) is no lease of theirs."""
    lease_ids = [pk for pk in lease_ids if is_id(pk)]
    if connection.vendor == "postgresql":
        return _leases_locked_sql(lease_ids=lease_ids, worker=worker)
    leases = (
        Lease.objects.select_related("batch", "item")
        .select_for_update(no_key=True, of=("item",))
        .filter(pk__in=lease_ids, worker=worker)
        .order_by("item_id")
    )
    return {lease.pk: lease for lease in leases}


_ITEM_SAVE = "UPDATE {item} SET {assignments} WHERE id = %s"


@functools.cache
def _item_save_query() -> tuple[list[Any], str]:
    names = {"answers_count", *ITEM_FIELDS}
    fields = [f for f in Item._meta.concrete_fields if f.name in names]
    quote = connection.ops.quote_name
    sql = _ITEM_SAVE.format(
        item=quote(Item._meta.db_table),
        assignments=", ".join(f"{quote(str(f.column))} = %s" for f in fields),
    )
    return fields, sql


def _item_save_unlocked(item: Item) -> None:
    """Save the answer count and ``ITEM_FIELDS`` of the (locked) item: one ``UPDATE``
    written out, not compiled by the ORM per answer."""
    fields, sql = _item_save_query()
    values = [f.get_db_prep_save(getattr(item, f.attname), connection) for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*values, item.pk])


def _lease_unusable(lease: Lease) -> Conflict:
    """Why the lease could not take the answer (read again: the claim's statement said no)."""
    lease.refresh_from_db(fields=["status", "expires_at"])
    if lease.status == Lease.Status.SUBMITTED:
        return Conflict(_("You already answered this item."), code=ErrorCode.LEASE_USED)
    if lease.status == Lease.Status.SKIPPED:
        return Conflict(_("You skipped this item."), code=ErrorCode.LEASE_SKIPPED)
    return Conflict(
        _("Your time for this item ran out, so it went back to the pool."),
        code=ErrorCode.LEASE_EXPIRED,
    )


def _answer_new(
    *, lease: Lease, worker: User, cleaned: Any, seconds: int | None, now: datetime
) -> Answer:
    """The answer ``cleaned`` on ``lease``, not stored yet. Working time is lease start →
    now, or ``seconds``, bounded by it."""
    elapsed = max(1, int((now - lease.created_at).total_seconds()))
    return Answer(
        batch=lease.batch,
        item=lease.item,
        worker=worker,
        lease=lease,
        data=cleaned,
        working_seconds=elapsed if seconds is None else min(seconds, elapsed),
        created_at=now,
    )


def _answer_recorded(
    *, lease: Lease, stored: Answer, now: datetime, rows: list[AnswerRow] | None
) -> bool:
    """After ``stored`` was stored on ``lease``: the lease and the item in memory, the
    item's count, combined answer and state (saved by ``_answers_settled_unlocked``). Returns
    whether the answer completed the item."""
    item = lease.item
    lease.status = Lease.Status.SUBMITTED
    lease.finished_at = now
    item.answers_count += 1
    was_open = item.status == Item.Status.OPEN
    item_answer_recorded_unlocked(item=item, answer=stored, batch=lease.batch, now=now, rows=rows)
    return was_open and item.status == Item.Status.COMPLETE


def _answer_store_unlocked(
    *, lease: Lease, worker: User, cleaned: Any, seconds: int | None, now: datetime
) -> tuple[Answer, bool]:
    """Store ``cleaned`` on the live ``lease`` (its item locked by the caller) and update
    the item in memory (``_answer_recorded``). Returns the answer and whether it completed
    the item. Raises ``Conflict`` when the lease is no longer usable."""
    stored = _answer_new(lease=lease, worker=worker, cleaned=cleaned, seconds=seconds, now=now)
    used = _lease_use_and_answer_unlocked(lease=lease, answer=stored, now=now)
    if used is False:
        raise _lease_unusable(lease)
    rows = used if used is not True else None
    return stored, _answer_recorded(lease=lease, stored=stored, now=now, rows=rows)


def _page_store_unlocked(
    *, cleaned: list[tuple[Lease, Any]], worker: User, seconds: int | None, now: datetime
) -> list[tuple[Answer, bool]]:
    """Store a page's answers (their items locked by the caller): on PostgreSQL in one
    statement (``_page_use_and_answer_unlocked``), elsewhere one by one. Raises the page's
    ``Conflict`` for the first lease no longer usable."""
    if connection.vendor != "postgresql" or len(cleaned) == 1:
        return [_page_answer_store(lease, worker, data, seconds, now) for lease, data in cleaned]
    answers = [
        _answer_new(lease=lease, worker=worker, cleaned=data, seconds=seconds, now=now)
        for lease, data in cleaned
    ]
    rows = _page_use_and_answer_unlocked(answers=answers, now=now)
    if isinstance(rows, int):
        lease = next(lease for lease, _data in cleaned if lease.pk == rows)
        raise _page_conflict(lease, _lease_unusable(lease))
    return [
        (stored, _answer_recorded(lease=lease, stored=stored, now=now, rows=rows[lease.item_id]))
        for (lease, _data), stored in zip(cleaned, answers, strict=True)
    ]


# PostgreSQL: the answered (locked) items saved (``UPDATE … FROM unnest(…)``), ``n`` more
# answers counted on the worker's tally row, and in the same statement what the answer
# needs next: the batch's answers received (the tally rows as of the statement's start,
# plus these), what "is a fit due?" reads of the batch row, and only when an item completed
# (``completed``) whether another item of the batch is still open and the owner's webhook
# endpoints. The statement's snapshot does not see its own writes: the open-item check
# leaves out the items it saves (the caller knows their state).
_SETTLE_AND_COUNT = """
WITH saved AS (
    UPDATE {item} AS i SET {assignments}
    FROM unnest({arrays}) AS v({names})
    WHERE i.id = v.id
    RETURNING 1
), counted AS (
    INSERT INTO {tally} (batch_id, shard, answers) VALUES (%(batch)s, %(shard)s, %(n)s)
    ON CONFLICT (batch_id, shard) DO UPDATE SET answers = {tally}.answers + %(n)s
    RETURNING 1
)
SELECT (SELECT COALESCE(SUM(t.answers), 0) FROM {tally} t WHERE t.batch_id = b.id) + %(n)s,
       b.fit_received, b.fit_answers, b.fit_through, b.fit_requested_through,
       {open_left}, {listeners}
FROM {batch} b WHERE b.id = %(batch)s
"""
_OPEN_LEFT = """EXISTS (
    SELECT 1 FROM {item} o
    WHERE o.batch_id = b.id AND o.status = {open} AND NOT (o.id = ANY({ids}))
)"""


@functools.cache
def _settle_and_count_query(n: int, completed: bool) -> tuple[list[Any], str]:
    """The statement for ``n`` items, with the open-item check and the webhook endpoints
    only when an item ``completed``: as a parameter (``CASE WHEN``), the check left in the
    plan made every custom plan cheaper than the generic one, and each run was planned
    again."""
    fields, _single = _item_save_query()
    quote = connection.ops.quote_name
    json_fields = {f.name for f in fields if f.get_internal_type() == "JSONField"}

    def value(f: Any) -> str:
        return f"v.{f.column}::jsonb" if f.name in json_fields else f"v.{f.column}"

    def array(f: Any) -> str:
        kind = "text" if f.name in json_fields else f.db_type(connection)
        return array_sql(f"c_{f.column}", n, kind)

    item = quote(Item._meta.db_table)
    ids = array_sql("c_id", n, "bigint")
    sql = _SETTLE_AND_COUNT.format(
        item=item,
        assignments=", ".join(f"{quote(str(f.column))} = {value(f)}" for f in fields),
        arrays=", ".join([ids, *(array(f) for f in fields)]),
        names=", ".join(["id", *(str(f.column) for f in fields)]),
        tally=quote(AnswerTally._meta.db_table),
        batch=quote(Batch._meta.db_table),
        open_left=(
            _OPEN_LEFT.format(item=item, ids=ids, open=sql_literal(Item.Status.OPEN))
            if completed
            else "NULL"
        ),
        listeners=(
            webhook_listeners_sql(user="b.owner_id", organisation="b.organisation_id")
            if completed
            else "NULL"
        ),
    )
    return fields, sql


def _answers_settled_unlocked(
    *, done: list[tuple[Lease, bool]], batch: Batch, worker_id: int, n: int
) -> int:
    """After the answers were stored: save the answered (locked) items, count the ``n``
    answers on the worker's tally row, and for the items the answers completed, is the
    batch finished, and their webhook after the commit. Returns the batch's answers
    received (and puts what "is a fit due?" needs onto ``batch``). PostgreSQL: one
    statement (``_SETTLE_AND_COUNT``); elsewhere the items saved, the checks, the count.
    Lock order: the items (held by the caller), then the tally row."""
    if connection.vendor != "postgresql":
        _items_settled_unlocked(done)
        return _answer_counted(batch=batch, worker_id=worker_id, n=n)
    items = [lease.item for lease, _completed in done]
    completed = [lease for lease, was_completed in done if was_completed]
    fields, sql = _settle_and_count_query(len(items), bool(completed))
    params: dict[str, Any] = {
        **array_params("c_id", [item.pk for item in items]),
        "batch": batch.pk,
        "shard": worker_id % AnswerTally.TALLY_SHARDS,
        "n": n,
    }
    db = connections[DEFAULT_DB_ALIAS]  # the connection itself, not the proxy (see core.db)
    for f in fields:
        values = [getattr(item, f.attname) for item in items]
        if f.get_internal_type() == "JSONField":
            values = [None if v is None else json.dumps(v, cls=f.encoder) for v in values]
        else:
            values = [f.get_db_prep_save(v, db) for v in values]
        params.update(array_params(f"c_{f.column}", values))
    with prepared_cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    received = _fit_facts_read(batch, None if row is None else row[:5])
    if completed and row is not None:
        listeners = webhook_listeners_read(row[6])
        for lease in completed:
            item_completed_emit(lease.batch, lease.item, listeners)
        open_left = bool(row[5]) or any(item.status == Item.Status.OPEN for item in items)
        batch_finished_check(completed[0].batch, open_left=open_left)
    return received


def _items_settled_unlocked(done: list[tuple[Lease, bool]]) -> None:
    """``_answers_settled_unlocked`` off PostgreSQL: save the answered (locked) items one by
    one, then for those the answers completed: their webhook after the commit, and is the
    batch finished."""
    for lease, _completed in done:
        _item_save_unlocked(lease.item)
    completed = [lease for lease, was_completed in done if was_completed]
    for lease in completed:
        item_completed_emit(lease.batch, lease.item)
    if completed:
        batch_finished_check(completed[0].batch)


def _fair_pay_due(*, received: int, n: int) -> bool:
    """Whether the ``n`` answers that brought the batch to ``received`` run the inline
    fair-pay check: the first that can decide, then every ``FAIR_PAY_INLINE_STEP``-th,
    up to ``FAIR_PAY_INLINE_UNTIL``."""
    first = fair_pay_min_answers()
    if not first <= received <= FAIR_PAY_INLINE_UNTIL:
        return False
    before = received - n
    return (
        before < first
        or (received - first) // FAIR_PAY_INLINE_STEP != (before - first) // FAIR_PAY_INLINE_STEP
    )


def _answers_after_commit(*, batch: Batch, received: int, n: int = 1) -> None:
    if _fair_pay_due(received=received, n=n):
        batch_fair_pay_check(batch_id=batch.pk)
    aggregation.aggregate_if_due(batch, received=received)


def lease_answer(*, lease_id: int, worker: User, answer: Any, seconds: int | None = None) -> Answer:
    """Store a worker's answer on their live lease.

    The answer must fit the batch's form. The lease must be the worker's (another's is not
    found), still active and not expired — checked under the item's row lock, the lock a
    claim takes, so an item is never answered on a lease a claim already counted as gone.
    Working time is lease start → now, or the ``seconds`` the worker's program reports,
    bounded by that.

    Statements (PostgreSQL, a non-gold item), in one transaction: the lease with its batch
    and its item, locking the item; the lease used, the answer stored and the item's counted
    answers read (one statement); the item saved; the answer counted on the worker's tally
    row (one statement, which also tells whether a fit is due; inside the transaction, so
    the answer costs one commit). After the commit, for an answer that completed its item
    while other items were open in its view: whether one still is
    (``lifecycle.batch_finished_check``). Pinned by
    ``test_claim_and_answer_take_a_fixed_number_of_statements``.
    """
    with transaction.atomic(durable=True):
        lease = _leases_locked(lease_ids=[lease_id], worker=worker).get(lease_id)
        if lease is None:
            raise NotFound(_("Lease not found."))
        cleaned = answer_clean(lease.batch.form, answer)
        _seconds_check(seconds)
        stored, completed = _answer_store_unlocked(
            lease=lease, worker=worker, cleaned=cleaned, seconds=seconds, now=timezone.now()
        )
        received = _answers_settled_unlocked(
            done=[(lease, completed)], batch=lease.batch, worker_id=worker.pk, n=1
        )
    _answers_after_commit(batch=lease.batch, received=received)
    return stored


def _page_cleaned(
    *, answers: list[tuple[int, Any]], leases: dict[int, Lease]
) -> list[tuple[Lease, Any]]:
    """Each answer checked against its lease's form, in the page's order. An unknown
    lease is not found; an invalid answer fails the page with its fields named
    ``<lease id>.<field>``, every bad answer of the page at once."""
    errors: dict[str, list[str]] = {}
    cleaned: list[tuple[Lease, Any]] = []
    for lease_id, raw in answers:
        lease = leases.get(lease_id)
        if lease is None:
            raise NotFound(_("Lease %(id)d not found.") % {"id": lease_id})
        try:
            cleaned.append((lease, answer_clean(lease.batch.form, raw)))
        except ValidationFailed as exc:
            fields = exc.fields or {"__all__": [exc.message]}
            errors.update({f"{lease_id}.{name}": msgs for name, msgs in fields.items()})
    if errors:
        raise ValidationFailed(fields=errors)
    if len({lease.batch_id for lease, _c in cleaned}) > 1:
        raise ValidationFailed(_("A page holds the items of one batch."))
    return cleaned


def lease_answer_page(
    *, worker: User, answers: list[tuple[int, Any]], seconds: int | None = None
) -> list[Answer]:
    """Store a task page's answers, ``(lease id, answer)`` each, in one transaction: all
    of them or none. Every lease must be the worker's (another's is not found) and live;
    every answer must fit the form (``ValidationFailed`` names each bad one as
    ``<lease id>.<field>``); a lease no longer usable fails the page with a ``Conflict``
    whose message names the item and whose ``fields`` name the lease. ``seconds`` is the
    working time of the whole page, split evenly over its answers (each bounded by its
    lease's time, as for one answer), so a page pays each answer fairly.

    Locks the page's items in ascending id order (the platform's lock order), counts the
    answers on the worker's tally row once, and runs the after-answer checks once.
    """
    lease_ids = [lease_id for lease_id, _answer in answers]
    if not lease_ids or len(set(lease_ids)) != len(lease_ids):
        raise ValidationFailed(_("Answer each item of the page once."))
    _seconds_check(seconds)
    each = None if seconds is None else max(1, seconds // len(lease_ids))
    for attempt in range(1, PAGE_ATTEMPTS + 1):
        try:
            batch, stored, received = _page_answered(
                worker=worker, answers=answers, lease_ids=lease_ids, seconds=each
            )
            break
        except OperationalError as exc:
            # A page holds several items while it takes their locks one after the other; a
            # full fit's chunk update (which locks the rows it writes in its own order) can
            # then deadlock with it. PostgreSQL aborts one of the two; the page starts again.
            if attempt == PAGE_ATTEMPTS or _sqlstate(exc) != DEADLOCK_DETECTED:
                raise
    _answers_after_commit(batch=batch, received=received, n=len(stored))
    return stored


PAGE_ATTEMPTS = 3
DEADLOCK_DETECTED = "40P01"


def _sqlstate(exc: BaseException) -> str | None:
    return getattr(exc.__cause__, "sqlstate", None)


def _page_answered(
    *, worker: User, answers: list[tuple[int, Any]], lease_ids: list[int], seconds: int | None
) -> tuple[Batch, list[Answer], int]:
    """One attempt at storing the page, in one transaction: the batch, the answers and the
    batch's answers received."""
    with transaction.atomic(durable=True):
        leases = _leases_locked(lease_ids=lease_ids, worker=worker)
        cleaned = _page_cleaned(answers=answers, leases=leases)
        now = timezone.now()
        done = _page_store_unlocked(cleaned=cleaned, worker=worker, seconds=seconds, now=now)
        stored = [answer for answer, _completed in done]
        batch = cleaned[0][0].batch
        received = _answers_settled_unlocked(
            done=[
                (lease, completed)
                for (lease, _d), (_a, completed) in zip(cleaned, done, strict=True)
            ],
            batch=batch,
            worker_id=worker.pk,
            n=len(stored),
        )
    return batch, stored, received


def _page_answer_store(
    lease: Lease, worker: User, cleaned: Any, seconds: int | None, now: datetime
) -> tuple[Answer, bool]:
    try:
        return _answer_store_unlocked(
            lease=lease, worker=worker, cleaned=cleaned, seconds=seconds, now=now
        )
    except Conflict as exc:
        raise _page_conflict(lease, exc) from None


def _page_conflict(lease: Lease, exc: Conflict) -> Conflict:
    """A page's ``Conflict`` for one of its leases: the item named, the lease in ``fields``."""
    return Conflict(
        _("Item %(position)d: %(reason)s") % {"position": lease.item.position, "reason": exc},
        code=exc.code,
        fields={str(lease.pk): [exc.message]},
    )
