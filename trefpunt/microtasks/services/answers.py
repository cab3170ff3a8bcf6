"""A worker's answer on their lease: stored under the item's row lock, then the item's
combined answer is updated (``aggregation``), and the bounded per-answer checks run (fair
pay, a full fit due)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from trefpunt.core.exceptions import Conflict, ErrorCode, NotFound, ValidationFailed

from ..formspec import answer_clean
from ..models import Answer, Batch, Item, Lease
from ..selectors import fair_pay_min_answers
from ..webhooks import item_completed_emit
from . import aggregation
from .aggregation import ITEM_FIELDS, item_answer_recorded_unlocked
from .lifecycle import batch_fair_pay_check, batch_finished_check

if TYPE_CHECKING:
    from trefpunt.accounts.models import User

# Up to this many answers the fair-pay check runs after every answer; beyond it the
# periodic sweep keeps checking (the median of a large batch moves slowly).
FAIR_PAY_INLINE_UNTIL = 200


_USE_AND_ANSWER = """
WITH used AS (
    UPDATE {lease} SET status = %s, finished_at = %s
    WHERE id = %s AND status = %s AND expires_at > %s
    RETURNING id
)
INSERT INTO {answer} ({columns}) SELECT {values} FROM used RETURNING id
"""

_COUNT_ANSWER = """
UPDATE {batch} SET answers_received = answers_received + 1 WHERE id = %s
RETURNING answers_received, fit_received, fit_answers, fit_through, fit_requested_through
"""


def _lease_use_and_answer_unlocked(*, lease: Lease, answer: Answer, now: datetime) -> bool:
    """Turn the live lease into ``answer``: only an active lease whose time has not run out
    is used, and only once. PostgreSQL: one statement (the lease update as a CTE feeding the
    answer's insert); elsewhere the conditional update, then the insert. Sets ``answer.pk``;
    returns whether the lease was used. The caller holds the item's row lock."""
    ops = connection.ops
    used_where = {"pk": lease.pk, "status": Lease.Status.ACTIVE, "expires_at__gt": now}
    if connection.vendor != "postgresql":
        used = Lease.objects.filter(**used_where).update(
            status=Lease.Status.SUBMITTED, finished_at=now
        )
        if used:
            answer.save(force_insert=True)
        return bool(used)
    fields = [f for f in Answer._meta.concrete_fields if not f.primary_key]
    columns = ", ".join(ops.quote_name(str(f.column)) for f in fields)
    values = [f.get_db_prep_save(f.pre_save(answer, True), connection) for f in fields]
    sql = _USE_AND_ANSWER.format(
        lease=ops.quote_name(Lease._meta.db_table),
        answer=ops.quote_name(Answer._meta.db_table),
        columns=columns,
        values=", ".join(["%s"] * len(fields)),
    )
    stamp = ops.adapt_datetimefield_value(now)
    params = [Lease.Status.SUBMITTED.value, stamp, lease.pk, Lease.Status.ACTIVE.value, stamp]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, *values])
        row = cursor.fetchone()
    if row is None:
        return False
    answer.pk = row[0]
    answer._state.adding = False
    answer._state.db = connection.alias
    return True


def _answer_counted(*, batch: Batch) -> None:
    """Count one more answer on the batch row and read back, in the same statement, what
    the fair-pay window and "is a fit due?" need (onto ``batch``). Runs after the answer's
    transaction, on its own: the batch row is locked only for this one statement, and an
    answer that holds its item's lock never waits for the batch (lock order: batch, then
    items)."""
    table = connection.ops.quote_name(Batch._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(_COUNT_ANSWER.format(batch=table), [batch.pk])
        found = cursor.fetchone()
    if found is None:
        return
    (
        batch.answers_received,
        batch.fit_received,
        batch.fit_answers,
        batch.fit_through,
        batch.fit_requested_through,
    ) = found


def lease_answer(*, lease_id: int, worker: User, answer: Any, seconds: int | None = None) -> Answer:
    """Store a worker's answer on their live lease.

    The answer must fit the batch's form. The lease must be the worker's (another's is not
    found), still active and not expired — checked under the item's row lock, the lock a
    claim takes, so an item is never answered on a lease a claim already counted as gone.
    Working time is lease start → now, or the ``seconds`` the worker's program reports,
    bounded by that.

    Statements (PostgreSQL, a non-gold item): the lease with its batch; in one transaction
    the item's lock, the lease used and the answer stored (one statement), the item's
    answers, the item saved; then the batch's answer counter (one statement, which also
    tells whether a fit is due). Pinned by ``test_scheduling_statements``.
    """
    lease = Lease.objects.select_related("batch").filter(pk=lease_id, worker=worker).first()
    if lease is None:
        raise NotFound(_("Lease not found."))
    batch = lease.batch
    cleaned = answer_clean(batch.form, answer)
    if seconds is not None and (
        isinstance(seconds, bool) or not isinstance(seconds, int) or seconds < 1
    ):
        raise ValidationFailed(fields={"seconds": _("Report the working time as whole seconds.")})
    with transaction.atomic(durable=True):
        item = (
            Item.objects.select_for_update(no_key=True)
            .only(
                "batch_id",
                "status",
                "answers_count",
                "answers_target",
                "completed_at",
                "is_gold",
                "gold_answer",
            )
            .get(pk=lease.item_id)
        )
        now = timezone.now()
        elapsed = max(1, int((now - lease.created_at).total_seconds()))
        stored = Answer(
            batch=batch,
            item=item,
            worker=worker,
            lease=lease,
            data=cleaned,
            working_seconds=elapsed if seconds is None else min(seconds, elapsed),
            created_at=now,
        )
        if not _lease_use_and_answer_unlocked(lease=lease, answer=stored, now=now):
            lease.refresh_from_db(fields=["status", "expires_at"])
            if lease.status == Lease.Status.SUBMITTED:
                raise Conflict(_("You already answered this item."), code=ErrorCode.LEASE_USED)
            if lease.status == Lease.Status.SKIPPED:
                raise Conflict(_("You skipped this item."), code=ErrorCode.LEASE_SKIPPED)
            raise Conflict(
                _("Your time for this item ran out, so it went back to the pool."),
                code=ErrorCode.LEASE_EXPIRED,
            )
        lease.status = Lease.Status.SUBMITTED
        lease.finished_at = now
        item.answers_count += 1
        was_open = item.status == Item.Status.OPEN
        item_answer_recorded_unlocked(item=item, answer=stored, batch=batch, now=now)
        item.save(update_fields=["answers_count", *ITEM_FIELDS])
        if was_open and item.status == Item.Status.COMPLETE:
            batch_finished_check(batch)
            item_completed_emit(batch, item)
    _answer_counted(batch=batch)
    # The fair-pay check runs after every answer while the batch is young; beyond the inline
    # window the periodic sweep keeps checking (the median of a large batch moves slowly).
    if fair_pay_min_answers() <= batch.answers_received <= FAIR_PAY_INLINE_UNTIL:
        batch_fair_pay_check(batch_id=batch.pk)
    aggregation.aggregate_if_due(batch)
    return stored
