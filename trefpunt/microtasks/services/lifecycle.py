"""A published batch's run: pause, resume, close, and the fair-pay pause.

Closing refunds what the escrow no longer owes (``funding.refund_excess_unlocked``); a
batch paused for fair pay resumes only once its reward pays the platform minimum.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from trefpunt.core.exceptions import Conflict, ErrorCode
from trefpunt.core.money import format_cents
from trefpunt.ledger.funded import work_escrow_lock

from ..models import Batch, Item
from ..selectors import (
    batch_for_manager,
    batch_median_seconds,
    fair_pay_min_answers,
    hourly_cents,
    min_hourly_cents,
    reward_for_hourly,
)
from .aggregation import aggregate_on_commit
from .funding import refund_excess_unlocked

if TYPE_CHECKING:
    from trefpunt.accounts.models import User


def batch_pause(*, batch_id: int, user: User) -> Batch:
    """Stop handing out items; leases already taken can still be answered."""
    batch = batch_for_manager(batch_id=batch_id, user=user)
    with transaction.atomic(durable=True):
        batch = Batch.objects.select_for_update(no_key=True).get(pk=batch.pk)
        if batch.status == Batch.Status.PAUSED:
            return batch
        if batch.status != Batch.Status.OPEN:
            raise Conflict(_("Only an open batch can be paused."), code=ErrorCode.WRONG_STATE)
        batch.status = Batch.Status.PAUSED
        batch.pause_reason = Batch.PauseReason.CLIENT
        batch.save(update_fields=["status", "pause_reason"])
    return batch


def batch_resume(*, batch_id: int, user: User) -> Batch:
    """Open a paused batch again. A batch paused for fair pay resumes only once its reward
    pays the minimum hourly rate at the median working time."""
    batch = batch_for_manager(batch_id=batch_id, user=user)
    with transaction.atomic(durable=True):
        batch = Batch.objects.select_for_update(no_key=True).get(pk=batch.pk)
        if batch.status == Batch.Status.OPEN:
            return batch
        if batch.status != Batch.Status.PAUSED:
            raise Conflict(_("Only a paused batch can be resumed."), code=ErrorCode.WRONG_STATE)
        if batch.pause_reason == Batch.PauseReason.FAIR_PAY:
            _n, median = batch_median_seconds(batch_id=batch.pk)
            hourly = hourly_cents(reward=batch.reward, seconds=median)
            if hourly is not None and hourly < min_hourly_cents():
                raise Conflict(
                    _("Raise the reward to at least %(needed)s before resuming.")
                    % {
                        "needed": format_cents(
                            reward_for_hourly(hourly=min_hourly_cents(), seconds=median or 1),
                            batch.currency,
                        )
                    },
                    code=ErrorCode.FAIR_PAY,
                )
        batch.status = Batch.Status.OPEN
        batch.pause_reason = Batch.PauseReason.NONE
        batch.save(update_fields=["status", "pause_reason"])
    return batch


def batch_close(*, batch_id: int, user: User) -> Batch:
    """Close the batch: no more items are handed out, open items close, and the escrow
    refunds everything that is not still owed. Workers holding a lease may still finish
    their item; answers already given are still reviewed and paid. Closing twice is
    harmless.

    Locks: escrow, batch, every open item (waiting for claims and answers in flight).
    """
    batch = batch_for_manager(batch_id=batch_id, user=user)
    published = batch.status != Batch.Status.DRAFT
    with transaction.atomic(durable=True):
        escrow = work_escrow_lock(batch.funded_work) if published else None
        batch = Batch.objects.select_for_update(no_key=True).get(pk=batch.pk)
        if batch.status == Batch.Status.CLOSED:
            return batch
        now = timezone.now()
        was_draft = batch.status == Batch.Status.DRAFT
        batch.status = Batch.Status.CLOSED
        batch.pause_reason = Batch.PauseReason.NONE
        batch.closed_at = now
        batch.save(update_fields=["status", "pause_reason", "closed_at"])
        Item.objects.filter(batch=batch, status=Item.Status.OPEN).update(
            status=Item.Status.CLOSED, completed_at=now
        )
        if not was_draft and escrow is not None:
            refund_excess_unlocked(batch=batch, escrow=escrow, now=now, created_by=user)
            aggregate_on_commit(batch.pk)
    return batch


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
    if hourly is None or hourly >= min_hourly_cents():
        return False
    paused = Batch.objects.filter(pk=batch_id, status=Batch.Status.OPEN).update(
        status=Batch.Status.PAUSED, pause_reason=Batch.PauseReason.FAIR_PAY
    )
    if paused:
        _fair_pay_notify(batch=batch, median=median, hourly=hourly)
    return bool(paused)


def _fair_pay_notify(*, batch: Batch, median: float, hourly: int) -> None:
    minimum = min_hourly_cents()
    needed = reward_for_hourly(hourly=minimum, seconds=median)
    body = _(
        "Your microtask batch “%(title)s” is paused: workers need a median of %(seconds).0f "
        "seconds per task, so %(reward)s per answer pays %(hourly)s an hour, below the "
        "platform minimum of %(minimum)s. Raise the reward to at least %(needed)s to "
        "continue; answers already given are topped up to the new reward.\n\n%(url)s"
    ) % {
        "title": batch.title,
        "seconds": median,
        "reward": format_cents(batch.reward, batch.currency),
        "hourly": format_cents(hourly, batch.currency),
        "minimum": format_cents(minimum, batch.currency),
        "needed": format_cents(needed, batch.currency),
        "url": f"{settings.SITE_URL}/microtasks/manage/{batch.pk}/",
    }
    owner_email = batch.owner.email
    transaction.on_commit(
        lambda: send_mail(
            _("Your batch is paused: raise the reward to continue"),
            body,
            None,
            [owner_email],
            fail_silently=True,
        )
    )
