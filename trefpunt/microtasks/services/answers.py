"""A worker's answer on their lease: stored under the item's row lock, then the item's
combined answer is updated (``aggregation``), and the bounded per-answer checks run (fair
pay, a full fit due)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from trefpunt.core.exceptions import Conflict, ErrorCode, NotFound, ValidationFailed

from ..formspec import answer_clean
from ..models import Answer, Item, Lease
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


def lease_answer(*, lease_id: int, worker: User, answer: Any, seconds: int | None = None) -> Answer:
    """Store a worker's answer on their live lease.

    The answer must fit the batch's form. The lease must be the worker's (another's is not
    found), still active and not expired — checked under the item's row lock, the lock a
    claim takes, so an item is never answered on a lease a claim already counted as gone.
    Working time is lease start → now, or the ``seconds`` the worker's program reports,
    bounded by that.
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
        # The guard is the conditional update: only an active lease whose time has not run
        # out turns into an answer (and only once).
        used = Lease.objects.filter(
            pk=lease.pk, status=Lease.Status.ACTIVE, expires_at__gt=now
        ).update(status=Lease.Status.SUBMITTED, finished_at=now)
        if not used:
            lease.refresh_from_db(fields=["status", "expires_at"])
            if lease.status == Lease.Status.SUBMITTED:
                raise Conflict(_("You already answered this item."), code=ErrorCode.LEASE_USED)
            if lease.status == Lease.Status.SKIPPED:
                raise Conflict(_("You skipped this item."), code=ErrorCode.LEASE_SKIPPED)
            raise Conflict(
                _("Your time for this item ran out, so it went back to the pool."),
                code=ErrorCode.LEASE_EXPIRED,
            )
        elapsed = max(1, int((now - lease.created_at).total_seconds()))
        working = elapsed if seconds is None else min(seconds, elapsed)
        stored = Answer.objects.create(
            batch=batch,
            item=item,
            worker=worker,
            lease=lease,
            data=cleaned,
            working_seconds=working,
            created_at=now,
        )
        item.answers_count += 1
        was_open = item.status == Item.Status.OPEN
        item_answer_recorded_unlocked(item=item, answer=stored, batch=batch, now=now)
        item.save(update_fields=["answers_count", *ITEM_FIELDS])
        if was_open and item.status == Item.Status.COMPLETE:
            batch_finished_check(batch)
            item_completed_emit(batch, item)
    # Bounded counts on every answer: ``order_by()`` drops the model's newest-first
    # ordering, which would make PostgreSQL sort all the batch's answers to count a few.
    # A batch whose last fit saw more answers than the inline window is past it: no count.
    if batch.fit_answers <= FAIR_PAY_INLINE_UNTIL:
        answers_so_far = (
            Answer.objects.filter(batch=batch).order_by()[: FAIR_PAY_INLINE_UNTIL + 1].count()
        )
        if fair_pay_min_answers() <= answers_so_far <= FAIR_PAY_INLINE_UNTIL:
            batch_fair_pay_check(batch_id=batch.pk)
    aggregation.aggregate_if_due(batch)
    return stored
