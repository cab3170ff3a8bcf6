"""Scheduling: ``lease_claim`` hands a worker the next item under a lease.

The candidates are the batch's open items the worker has never leased (answered, skipped
or let expire), whose answers plus live leases are below the target, in the batch's
strategy order; PostgreSQL takes the first with ``SELECT … FOR UPDATE SKIP LOCKED``
(workers never wait for each other), SQLite runs the same inside its serialised write
transaction. Under the item lock the claim counts again and inserts the lease only if the
item still has room: that guard, and answers being stored under the same lock, is why no
item is ever over-assigned. Test questions (gold items) are mixed in at the batch's
``gold_rate`` and look like any other item.
"""

from __future__ import annotations

import functools
import random
from contextlib import nullcontext
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, F, Max, Min, OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from trefpunt.core.db import model_fields, model_from_row, prepared_cursor, sql_literal
from trefpunt.core.exceptions import (
    ApplicationError,
    Conflict,
    ErrorCode,
    NotFound,
    ValidationFailed,
)

from ..limits import PAGE_SIZE_MAX
from ..models import Answer, Batch, BatchWorker, Item, Lease
from ..selectors import (
    batch_manages,
    item_live_leases,
    item_seen_by,
    qualification_problems,
    work_refusal,
    worker_standing_for,
)
from ..states import LEASE_STATES

if TYPE_CHECKING:
    from trefpunt.accounts.models import User

CLAIM_ATTEMPTS = 5


def _claim_order(batch: Batch) -> list[str]:
    if batch.strategy == Batch.Strategy.BREADTH:
        return ["answers_count", "pk"]
    return ["-answers_count", "pk"]


def _claim_candidates(
    *, batch: Batch, worker: User, now: datetime, rejected: list[int], gold_first: bool
) -> list[Any]:
    """The candidate queries in the order to try them.

    Test questions are mixed in at the batch's ``gold_rate``: with that probability the
    test questions come first, otherwise the other items, and each falls back on the other
    kind when none is left for this worker. Nothing in what the worker receives tells them
    which kind they got. *Random* splits each kind at a random pivot (the ids from the pivot
    on, then those below it).
    """
    candidates = (
        Item.objects.filter(batch_id=batch.pk, status=Item.Status.OPEN)
        .alias(live=item_live_leases(now=now))
        .filter(answers_target__gt=F("answers_count") + F("live"))
        .exclude(item_seen_by(user_id=worker.pk))
    )
    if rejected:
        candidates = candidates.exclude(pk__in=rejected)
    kinds = [candidates.filter(is_gold=gold_first), candidates.filter(is_gold=not gold_first)]
    if batch.strategy != Batch.Strategy.RANDOM:
        return [kind.order_by(*_claim_order(batch)) for kind in kinds]
    bounds = Item.objects.filter(batch_id=batch.pk, status=Item.Status.OPEN).aggregate(
        low=Min("pk"), high=Max("pk")
    )
    if bounds["low"] is None:
        return []
    pivot = random.randint(bounds["low"], bounds["high"])
    return [
        query
        for kind in kinds
        for query in (
            kind.filter(pk__gte=pivot).order_by("pk"),
            kind.filter(pk__lt=pivot).order_by("pk"),
        )
    ]


# PostgreSQL, depth- and breadth-first batches: the candidate query written out once
# instead of compiled by the ORM on every claim (the claim's largest cost in Python).
_PICK = """
SELECT i.id FROM {item} i
WHERE i.batch_id = %(batch)s AND i.status = %(open)s AND i.is_gold = %(gold)s
  AND NOT (i.id = ANY(%(rejected)s))
  AND NOT EXISTS (SELECT 1 FROM {lease} s WHERE s.item_id = i.id AND s.worker_id = %(worker)s)
  AND i.answers_count + (
      SELECT COUNT(*) FROM {lease} l
      WHERE l.item_id = i.id AND l.status = %(active)s AND l.expires_at > %(now)s
  ) < i.answers_target
ORDER BY i.answers_count {direction}, i.id
LIMIT %(limit)s
FOR NO KEY UPDATE OF i SKIP LOCKED
"""


@functools.cache
def _pick_sql(breadth: bool) -> str:
    return _PICK.format(
        item=Item._meta.db_table,
        lease=Lease._meta.db_table,
        direction="ASC" if breadth else "DESC",
    )


def _pick_skip_locked_sql(
    *, batch: Batch, worker: User, now: datetime, rejected: list[int], gold_first: bool
) -> int | None:
    """``_claim_candidates``' skip-locked pick in plain SQL: each kind in turn."""
    sql = _pick_sql(batch.strategy == Batch.Strategy.BREADTH)
    params: dict[str, Any] = {
        "batch": batch.pk,
        "open": Item.Status.OPEN.value,
        "rejected": rejected,
        "worker": worker.pk,
        "active": Lease.Status.ACTIVE.value,
        "now": now,
        "limit": 1,
    }
    with connection.cursor() as cursor:
        for gold in (gold_first, not gold_first):
            cursor.execute(sql, {**params, "gold": gold})
            row = cursor.fetchone()
            if row is not None:
                return int(row[0])
    return None


def _pick_skip_locked(
    *,
    queries: list[Any],
    batch: Batch,
    worker: User,
    now: datetime,
    rejected: list[int],
    gold_first: bool,
) -> int | None:
    if batch.strategy != Batch.Strategy.RANDOM:
        return _pick_skip_locked_sql(
            batch=batch, worker=worker, now=now, rejected=rejected, gold_first=gold_first
        )
    for query in queries:
        item_id = (
            query.select_for_update(no_key=True, skip_locked=True, of=("self",))
            .values_list("pk", flat=True)
            .first()
        )
        if item_id is not None:
            return int(item_id)
    return None


def _pick_waiting(*, queries: list[Any], can_skip: bool) -> int | None:
    """The first candidate looked up without a lock, then locked by its id (waiting for
    that one row); SQLite needs no row lock: its write transaction serialises claims."""
    for query in queries:
        item_id = query.values_list("pk", flat=True).first()
        if item_id is not None:
            if can_skip:
                list(
                    Item.objects.select_for_update(no_key=True)
                    .filter(pk=item_id)
                    .values_list("pk", flat=True)
                )
            return int(item_id)
    return None


def _claim_attempt(
    *, batch: Batch, worker: User, now: datetime, rejected: list[int], slot: int
) -> tuple[Lease | None, int | None]:
    """One short transaction: lock the first candidate item, count again under the lock,
    insert the lease if the item still has room. Returns ``(lease, None)``, ``(None,
    rejected item id)`` when the locked item turned out full, or ``(None, None)`` when no
    candidate is left.

    The candidate query skips rows other claims hold (``SKIP LOCKED``) and so never waits.
    An empty answer may only mean that every remaining candidate is being claimed at this
    moment; then the first candidate is looked up without a lock and locked by its id,
    waiting for that one short transaction, so the worker is not told that nothing is left
    while something is. Waiting on a single row, never while holding another item, keeps
    claims free of deadlocks (a scanning ``FOR UPDATE`` that waits could hold rows that
    failed its re-check while waiting for the next one).
    """
    can_skip = connection.features.has_select_for_update_skip_locked
    gold_first = random.random() < batch.gold_rate
    facts: dict[str, Any] = {"batch": batch, "worker": worker, "now": now, "rejected": rejected}
    with transaction.atomic(durable=True):
        item_id: int | None = None
        queries: list[Any] | None = None
        if can_skip:
            if batch.strategy == Batch.Strategy.RANDOM:
                queries = _claim_candidates(**facts, gold_first=gold_first)
            item_id = _pick_skip_locked(queries=queries or [], **facts, gold_first=gold_first)
        if item_id is None:
            if queries is None:
                queries = _claim_candidates(**facts, gold_first=gold_first)
            item_id = _pick_waiting(queries=queries, can_skip=can_skip)
        if item_id is None:
            return None, None
        lease_id = _lease_insert_guarded_unlocked(
            batch=batch, item_id=item_id, worker=worker, now=now, slot=slot
        )
        if lease_id is None:
            return None, item_id
        return _lease_made(
            batch=batch, worker=worker, now=now, lease_id=lease_id, item_id=item_id, slot=slot
        ), None


def _lease_made(
    *, batch: Batch, worker: User, now: datetime, lease_id: int, item_id: int, slot: int
) -> Lease:
    """The instance of a lease row just inserted, marked as loaded (as if from a query)."""
    lease = Lease(
        pk=lease_id,
        batch=batch,
        item_id=item_id,
        worker=worker,
        status=Lease.Status.ACTIVE,
        created_at=now,
        expires_at=now + timedelta(seconds=batch.lease_seconds),
        slot=slot,
    )
    lease._state.adding = False
    lease._state.db = connection.alias
    return lease


_GUARDED_INSERT = """
INSERT INTO {lease} (batch_id, item_id, worker_id, status, created_at, expires_at, slot)
SELECT %s, i.id, %s, %s, %s, %s, %s
FROM {item} i
WHERE i.id = %s
  AND i.status = %s
  AND NOT EXISTS (SELECT 1 FROM {lease} s WHERE s.item_id = i.id AND s.worker_id = %s)
  AND i.answers_count + (
      SELECT COUNT(*) FROM {lease} l
      WHERE l.item_id = i.id AND l.status = %s AND l.expires_at > %s
  ) < i.answers_target
RETURNING id
"""


def _lease_insert_guarded_unlocked(
    *, batch: Batch, item_id: int, worker: User, now: datetime, slot: int
) -> int | None:
    """Insert the lease only if the item (locked by the caller) still has room for it and
    the worker never leased it: one statement, so the counts it checks are read fresh, not
    from the snapshot of the candidate query (which may predate a lease committed just
    before the lock was taken). Returns the new lease's id, or ``None`` when the item is full.
    """
    ops = connection.ops
    sql = _GUARDED_INSERT.format(lease=Lease._meta.db_table, item=Item._meta.db_table)
    params: list[Any] = [
        batch.pk,
        worker.pk,
        Lease.Status.ACTIVE.value,
        ops.adapt_datetimefield_value(now),
        ops.adapt_datetimefield_value(now + timedelta(seconds=batch.lease_seconds)),
        slot,
        item_id,
        Item.Status.OPEN.value,
        worker.pk,
        Lease.Status.ACTIVE.value,
        ops.adapt_datetimefield_value(now),
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return int(row[0]) if row else None


_CLAIM_CALL = "SELECT * FROM microtasks_claim(%s, %s, %s, %s, %s, %s, %s)"


def _claim_function(*, batch: Batch, worker: User, now: datetime, room: int) -> list[Lease]:
    """Up to ``room`` leases in slots 0… by the database function ``microtasks_claim``
    (migration ``0011_claim_function``) in one round trip: its skip-locked pick mixes in
    as many test questions as ``room`` draws at the batch's ``gold_rate`` give (each kind
    topped up from the other), then a guarded insert counts again after the locks are
    held, retried for the slots whose item turned out full. Outside a transaction the call
    is its own (autocommit); inside one, under a savepoint, so a unique-slot violation
    leaves the caller's transaction usable."""
    gold = sum(random.random() < batch.gold_rate for _ in range(room))
    params = [
        batch.pk,
        worker.pk,
        now,
        now + timedelta(seconds=batch.lease_seconds),
        room,
        gold,
        batch.strategy == Batch.Strategy.BREADTH,
    ]
    savepoint = transaction.atomic() if connection.in_atomic_block else nullcontext()
    with savepoint, prepared_cursor() as cursor:
        cursor.execute(_CLAIM_CALL, params)
        rows = cursor.fetchall()
    return sorted(
        (
            _lease_made(
                batch=batch, worker=worker, now=now, lease_id=pk, item_id=item_id, slot=slot
            )
            for pk, item_id, slot in rows
        ),
        key=lambda lease: lease.slot,
    )


def _worker_answered(*, batch: Batch, worker: User) -> int:
    """The worker's answers in the batch, read only for a batch with a per-worker cap."""
    if batch.max_answers_per_worker is None:
        return 0
    return Answer.objects.filter(batch=batch, worker=worker).count()


def _worker_refusal(
    *, batch: Batch, worker: User, excluded: bool, answered: int
) -> ApplicationError | None:
    """``work_refusal`` for this worker, reading only what the answer needs: their record
    only for a batch with requirements; ``excluded`` comes with the batch, ``answered``
    from ``_worker_answered``. The same rule as ``selectors.batch_access`` for the pages."""
    manages = batch_manages(batch=batch, user=worker)
    if manages or batch.status != Batch.Status.OPEN:
        return work_refusal(batch=batch, manages=manages, problems=(), answered=0)
    problems = qualification_problems(
        batch=batch,
        standing=worker_standing_for(batch=batch, user=worker),
        excluded=excluded,
    )
    return work_refusal(batch=batch, manages=False, problems=problems, answered=answered)


# What a claim reads of the batch (the long texts and the fit's model are left out).
_CLAIM_DEFERRED = ("quality_model", "instructions", "display", "item_columns")


_CLAIM_FACTS = """
SELECT {columns}, a.id, a.expires_at, EXISTS (
    SELECT 1 FROM {worker} w
    WHERE w.batch_id = b.id AND w.worker_id = %(worker)s AND w.excluded
)
FROM {batch} b
LEFT JOIN LATERAL (
    SELECT l.id, l.expires_at FROM {lease} l
    WHERE l.batch_id = b.id AND l.worker_id = %(worker)s AND l.status = {active}
    ORDER BY l.expires_at DESC LIMIT 1
) a ON TRUE
WHERE b.id = %(batch)s AND b.status <> {draft}
"""


@functools.cache
def _claim_facts_sql() -> str:
    return _CLAIM_FACTS.format(
        columns=", ".join(
            f"b.{connection.ops.quote_name(f.column)}" for f in model_fields(Batch, _CLAIM_DEFERRED)
        ),
        worker=BatchWorker._meta.db_table,
        batch=Batch._meta.db_table,
        lease=Lease._meta.db_table,
        active=sql_literal(Lease.Status.ACTIVE),
        draft=sql_literal(Batch.Status.DRAFT),
    )


def _batch_for_claim_sql(*, batch_id: int, worker: User) -> Batch | None:
    """``_batch_for_claim`` in one hand-written statement (PostgreSQL)."""
    fields = model_fields(Batch, _CLAIM_DEFERRED)
    sql = _claim_facts_sql()
    params: dict[str, Any] = {"worker": worker.pk, "batch": batch_id}
    with prepared_cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    batch: Batch = model_from_row(Batch, fields, row[: len(fields)])
    facts: Any = batch
    facts.active_lease_id, facts.active_lease_expires, facts.worker_excluded = row[len(fields) :]
    return batch


def _batch_for_claim(*, batch_id: int, worker: User) -> Batch | None:
    """The published batch with, in the same statement, what a claim needs to know about
    the worker: their active lease here (id and expiry; ``active_lease_id``,
    ``active_lease_expires``) and whether the client excluded them (``worker_excluded``)."""
    if connection.vendor == "postgresql":
        return _batch_for_claim_sql(batch_id=batch_id, worker=worker)
    active = Lease.objects.filter(
        batch_id=OuterRef("pk"), worker_id=worker.pk, status=Lease.Status.ACTIVE
    ).order_by("-expires_at")
    return (
        Batch.objects.exclude(status=Batch.Status.DRAFT)
        .filter(pk=batch_id)
        .defer(*_CLAIM_DEFERRED)
        .annotate(
            active_lease_id=Subquery(active.values("pk")[:1]),
            active_lease_expires=Subquery(active.values("expires_at")[:1]),
            worker_excluded=Exists(
                BatchWorker.objects.filter(
                    batch_id=OuterRef("pk"), worker_id=worker.pk, excluded=True
                )
            ),
        )
        .order_by()
        .first()
    )


def _leases_live(*, batch: Batch, worker: User, now: datetime, size: int) -> list[Lease]:
    """The worker's live leases of the batch with their items, in page order."""
    return list(
        Lease.objects.select_related("item")
        .filter(batch_id=batch.pk, worker=worker, status=Lease.Status.ACTIVE, expires_at__gt=now)
        .order_by("slot", "pk")[:size]
    )


def _claim_start(
    *, batch_id: int, worker: User, size: int, now: datetime
) -> tuple[Batch, list[Lease], int]:
    """The batch, the worker's live leases there (when they hold any, nothing more is
    claimed) and how many items they may claim now (``size``, or fewer below the batch's
    per-worker cap). Raises why the worker may not work on the batch."""
    batch = _batch_for_claim(batch_id=batch_id, worker=worker)
    if batch is None:
        raise NotFound(_("Batch not found."))
    facts: Any = batch  # the annotations of ``_batch_for_claim``
    active_id: int | None = facts.active_lease_id
    if active_id is not None and facts.active_lease_expires > now:
        live = _leases_live(batch=batch, worker=worker, now=now, size=size)
        if live:
            return batch, live, 0
    answered = _worker_answered(batch=batch, worker=worker)
    refusal = _worker_refusal(
        batch=batch, worker=worker, excluded=facts.worker_excluded, answered=answered
    )
    if refusal is not None:
        raise refusal
    if active_id is not None:
        # The worker's own leases ran out: mark them, freeing their page's slots.
        Lease.objects.filter(
            batch=batch, worker=worker, status=Lease.Status.ACTIVE, expires_at__lte=now
        ).update(status=Lease.Status.EXPIRED, finished_at=now)
    cap = batch.max_answers_per_worker
    room = size if cap is None else min(size, cap - answered)
    return batch, [], room


def _claim_slot(*, batch: Batch, worker: User, now: datetime, slot: int) -> Lease | None:
    """One item under a new lease in ``slot``, retrying past items found full."""
    rejected: list[int] = []
    for _attempt in range(CLAIM_ATTEMPTS):
        claimed, full = _claim_attempt(
            batch=batch, worker=worker, now=now, rejected=rejected, slot=slot
        )
        if full is None:
            return claimed
        rejected.append(full)
    return None


def _claim_slots(*, batch: Batch, worker: User, now: datetime, room: int) -> list[Lease]:
    """Up to ``room`` new leases: on PostgreSQL for a depth- or breadth-first batch, the
    page (or the single item) at once (``_claim_function``); otherwise, or when that found every
    candidate locked by other claims, slot by slot, each its own short transaction (one
    item locked at a time, waiting for it if need be); stops at the first slot for which
    nothing is left."""
    leases: list[Lease] = []
    try:
        if connection.vendor == "postgresql" and batch.strategy != Batch.Strategy.RANDOM:
            leases = _claim_function(batch=batch, worker=worker, now=now, room=room)
            if leases:
                return leases
        for slot in range(room):
            lease = _claim_slot(batch=batch, worker=worker, now=now, slot=slot)
            if lease is None:
                break
            leases.append(lease)
    except IntegrityError:
        # The same worker's other request (a double click, a retry) claimed at the same
        # moment; the unique active lease per slot kept them from both handing out a page.
        return _leases_live(batch=batch, worker=worker, now=now, size=room)
    return leases


def lease_claim(*, batch_id: int, worker: User) -> Lease | None:
    """The worker's next item of the batch under a new lease, their current live lease if
    they hold one, or ``None`` when there is nothing (more) for them.

    Refuses a batch that is not open, a worker who does not qualify or reached the batch's
    per-worker cap, and the batch's own client. Locks one item row at a time.

    Statements (PostgreSQL, the usual case), both prepared: the batch with the worker's
    active lease and exclusion flag; then the claim function (``_claim_function``: the
    skip-locked candidate and the guarded lease insert, one round trip). Pinned by
    ``test_claim_and_answer_take_a_fixed_number_of_statements``.
    """
    leases = lease_claim_page(batch_id=batch_id, worker=worker, size=1)
    return leases[0] if leases else None


def lease_claim_page(*, batch_id: int, worker: User, size: int) -> list[Lease]:
    """A task page: up to ``size`` items of the batch under new leases for the worker
    (``Batch.page_size``; 1 to ``limits.PAGE_SIZE_MAX``), or the live leases they already
    hold there (up to ``size``), or ``[]`` when there is nothing (more) for them.

    The same rules as one claim, per item: the worker qualifies and stays within the
    batch's per-worker cap (the page is cut to what the cap leaves), never gets an item
    they have seen, test questions are mixed in at the batch's ``gold_rate`` (drawn for
    each item), and no item is over-assigned (each item is claimed under its row lock,
    in its own short transaction, so a page never holds one item while waiting for another).
    """
    if not 1 <= size <= PAGE_SIZE_MAX:
        raise ValidationFailed(
            fields={"size": _("A page holds 1 to %(n)d items.") % {"n": PAGE_SIZE_MAX}}
        )
    # This is the hot path of every worker: plain rows, no joins it does not need.
    now = timezone.now()
    batch, live, room = _claim_start(batch_id=batch_id, worker=worker, size=size, now=now)
    if live or room <= 0:
        return live
    return _claim_slots(batch=batch, worker=worker, now=now, room=room)


def lease_skip(*, lease_id: int, worker: User) -> Lease:
    """Give the item back; it is not offered to this worker again."""
    lease = Lease.objects.filter(pk=lease_id, worker=worker).first()
    if lease is None:
        raise NotFound(_("Lease not found."))
    with transaction.atomic(durable=True):
        # The item's lock, the one a claim takes: the claim that counts this lease as live
        # and the skip that frees it do not interleave.
        Item.objects.select_for_update(no_key=True).filter(pk=lease.item_id).values_list(
            "pk"
        ).first()
        try:
            LEASE_STATES.move(
                lease, Lease.Status.SKIPPED, action=_("skip"), finished_at=timezone.now()
            )
        except Conflict:
            if lease.status != Lease.Status.SKIPPED:  # skipping twice changes nothing
                raise Conflict(
                    _("This lease is no longer active."), code=ErrorCode.LEASE_INACTIVE
                ) from None
    return lease
