"""A published batch's run: pause, resume, close, and the fair-pay pause.

Closing refunds what the escrow no longer owes (``funding.refund_excess_unlocked``); a
batch paused for fair pay resumes only once its reward pays the platform minimum.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from trefpunt.accounts.selectors import clients_acting
from trefpunt.community.notifications import notify
from trefpunt.core.db import prepared_cursor, sql_literal
from trefpunt.core.exceptions import Conflict, ErrorCode
from trefpunt.core.money import format_cents
from trefpunt.ledger.funded import work_escrow_lock

from ..models import Batch, Item
from ..notifications import FAIR_PAY_PAUSED, notify_batch_finished
from ..selectors import (
    batch_for_manager,
    batch_median_seconds,
    fair_pay_min_answers,
    fair_pay_shortfall,
    hourly_cents,
    min_hourly_cents,
    reward_for_hourly,
)
from ..states import BATCH_RUN
from ..webhooks import batch_finished_emit
from .aggregation import aggregate_on_commit
from .funding import refund_excess_unlocked

if TYPE_CHECKING:
    from trefpunt.accounts.models import User

PAUSED = Batch.Status.PAUSED


def _batch_locked(batch: Batch) -> Batch:
    return Batch.objects.select_for_update(no_key=True).get(pk=batch.pk)


def batch_pause(*, batch_id: int, user: User) -> Batch:
    """Stop handing out items; leases already taken can still be answered. Pausing a
    paused batch changes nothing."""
    batch = batch_for_manager(batch_id=batch_id, user=user)
    with transaction.atomic(durable=True):
        batch = _batch_locked(batch)
        if batch.status == Batch.Status.PAUSED:
            return batch
        BATCH_RUN.move(
            batch,
            Batch.Status.PAUSED,
            action=_("pause the batch"),
            actor=user,
            event="paused",
            pause_reason=Batch.PauseReason.CLIENT,
        )
    return batch


def batch_resume(*, batch_id: int, user: User) -> Batch:
    """Open a paused batch again. A batch paused for fair pay resumes only once its reward
    pays the minimum hourly rate at the median working time. Resuming an open batch
    changes nothing."""
    batch = batch_for_manager(batch_id=batch_id, user=user)
    with transaction.atomic(durable=True):
        batch = _batch_locked(batch)
        if batch.status == Batch.Status.OPEN:
            return batch
        action = _("resume the batch")
        BATCH_RUN.check(batch, Batch.Status.OPEN, action)
        if (short := fair_pay_shortfall(batch=batch)) is not None:
            raise Conflict(
                _("Raise the reward to at least %(needed)s before resuming.")
                % {"needed": format_cents(short.needed, batch.currency)},
                code=ErrorCode.FAIR_PAY,
            )
        BATCH_RUN.move(
            batch,
            Batch.Status.OPEN,
            action=action,
            actor=user,
            event="resumed",
            pause_reason=Batch.PauseReason.NONE,
        )
    return batch


def batch_close(*, batch_id: int, user: User) -> Batch:
    """Close the batch: no more items are handed out, open items close, and the escrow
    refunds everything that is not still owed. Workers holding a lease may still finish
    their item; answers already given are still reviewed and paid. Closing twice is
    harmless; a draft closes without money moving.

    Locks: escrow, batch, every open item (waiting for claims and answers in flight).
    """
    batch = batch_for_manager(batch_id=batch_id, user=user)
    published = batch.status != Batch.Status.DRAFT
    with transaction.atomic(durable=True):
        escrow = work_escrow_lock(batch.funded_work) if published else None
        batch = _batch_locked(batch)
        if batch.status == Batch.Status.CLOSED:
            return batch
        now = timezone.now()
        was_draft = batch.status == Batch.Status.DRAFT
        BATCH_RUN.move(
            batch,
            Batch.Status.CLOSED,
            action=_("close the batch"),
            actor=user,
            event="closed",
            pause_reason=Batch.PauseReason.NONE,
            closed_at=now,
        )
        Item.objects.filter(batch=batch, status=Item.Status.OPEN).update(
            status=Item.Status.CLOSED, completed_at=now
        )
        if not was_draft:
            batch_finished_emit(batch)
        if not was_draft and escrow is not None:
            refund_excess_unlocked(batch=batch, escrow=escrow, now=now, created_by=user)
            aggregate_on_commit(batch.pk)
    return batch


def batch_finished_check(batch: Batch, *, open_left: bool | None = None) -> None:
    """Called when an item of ``batch`` completes (by an answer or a full fit): once no item
    is open any more, the people who run the batch are told it is finished (once: the
    notification's uid), and so are the owner's webhook endpoints (once: the event id).
    ``open_left``: whether an item is still open, when the caller read it already (in the
    same transaction).

    The last two items may complete in two transactions at the same moment, each seeing the
    other's item still open (neither sees the other's uncommitted write): so when items are
    left in a transaction's view, the check runs again after its commit, on what is
    committed then. Of two such transactions the one that commits last sees both items
    complete in that second look."""
    if open_left is None:
        open_left = _items_open(batch)
    if not open_left:
        _finished_notify(batch)
    elif transaction.get_connection().in_atomic_block:
        transaction.on_commit(functools.partial(_finished_after_commit, batch))


_ITEMS_OPEN = "SELECT EXISTS (SELECT 1 FROM {item} WHERE batch_id = %s AND status = {open})"


@functools.cache
def _items_open_query() -> str:
    return _ITEMS_OPEN.format(
        item=connection.ops.quote_name(Item._meta.db_table), open=sql_literal(Item.Status.OPEN)
    )


def _items_open(batch: Batch) -> bool:
    """Whether an item of the batch is open: written out and prepared, as it runs after
    most answers that complete an item."""
    with prepared_cursor() as cursor:
        cursor.execute(_items_open_query(), [batch.pk])
        return bool(cursor.fetchone()[0])


def _finished_after_commit(batch: Batch) -> None:
    if not _items_open(batch):
        _finished_notify(batch)


def _finished_notify(batch: Batch) -> None:
    managers = clients_acting({batch.pk: (batch.organisation_id, batch.owner_id)})
    notify_batch_finished(batch, managers[batch.pk])
    batch_finished_emit(batch)


def batch_fair_pay_check(*, batch_id: int) -> bool:
    """Refresh the batch's median working time and pause it when, after the first answers,
    the reward pays less than the platform minimum per hour. Returns whether it paused."""
    n, median = batch_median_seconds(batch_id=batch_id)
    if median is None:
        return False
    Batch.objects.filter(pk=batch_id).update(median_seconds=max(1, round(median)))
    if n < fair_pay_min_answers():
        return False
    batch = Batch.objects.filter(pk=batch_id).first()
    if batch is None:
        return False
    hourly = hourly_cents(reward=batch.reward, seconds=median)
    if hourly is None or hourly >= min_hourly_cents() or not BATCH_RUN.can(batch, PAUSED):
        return False
    try:
        BATCH_RUN.move(
            batch,
            PAUSED,
            action=_("pause the batch"),
            event="paused_fair_pay",
            data={"median_seconds": median, "hourly": hourly},
            pause_reason=Batch.PauseReason.FAIR_PAY,
        )
    except Conflict:
        return False  # paused or closed meanwhile
    _fair_pay_notify(batch=batch, median=median, hourly=hourly)
    return True


def _fair_pay_notify(*, batch: Batch, median: float, hourly: int) -> None:
    """Tell the client, after commit, what the batch pays and the reward that resumes it."""
    minimum = min_hourly_cents()
    notify(
        users=[batch.owner_id],
        kind=FAIR_PAY_PAUSED,
        context={
            "batch_id": batch.pk,
            "title": batch.title,
            "median_seconds": median,
            "reward": batch.reward,
            "hourly": hourly,
            "minimum": minimum,
            "needed": reward_for_hourly(hourly=minimum, seconds=median),
            "currency": batch.currency,
        },
        path=reverse("microtasks:manage", kwargs={"pk": batch.pk}),
    )
