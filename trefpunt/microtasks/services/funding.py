"""The batch's money: publishing funds the escrow, raising the reward tops it up, answers
are paid from it, and what it no longer owes goes back.

Publishing moves *items × max answers × (reward + client fee)* into the batch's escrow.
An answer costs the escrow *reward + client fee* when it is paid (approved, or overturned
on appeal), once per answer: the journal key is ``answer:<id>:pay``. Raising the reward
tops up the escrow and pays the difference on answers already paid
(``answer:<id>:topup:<reward>``). What the escrow holds beyond what it may still owe
(``liability_unlocked``) is refunded when the batch closes, and later by ``batch_settle``
as rejections become final and leases run out. At the end, funded = rewards paid + fees +
refunds.

Lock order: the batch's escrow, the batch row, item rows by id, answer rows by id.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from trefpunt.core.exceptions import Conflict, ErrorCode, ValidationFailed
from trefpunt.core.money import format_cents, split_bps
from trefpunt.ledger.funded import (
    escrow_balance,
    work_deposit_shortfall,
    work_escrow_lock,
    work_fund,
    work_pay,
    work_payees_lock,
    work_refund,
)
from trefpunt.ledger.models import Deposit, EntryKind, JournalEntry, LedgerAccount

from ..models import Answer, Batch, Item, Lease
from ..selectors import (
    answer_cost,
    appeal_days,
    batch_for_manager,
    batch_funding,
    fair_pay_shortfall,
)
from ..states import BATCH_PUBLISH, BATCH_RUN, batch_is_editable, batch_is_running
from .definition import reward_problem

if TYPE_CHECKING:
    from trefpunt.accounts.models import User

logger = logging.getLogger(__name__)


# --- money helpers ------------------------------------------------------------------------


def leases_settle_unlocked(*, batch: Batch, now: datetime) -> None:
    """Lock the items that have active leases (in id order) and mark the expired ones.

    After this, under the caller's transaction, the live leases of the batch are exactly
    its active leases, and no answer can be stored on them before the caller commits:
    the escrow arithmetic that follows cannot miss an answer in flight.
    """
    item_ids = list(
        Lease.objects.filter(batch=batch, status=Lease.Status.ACTIVE)
        .order_by("item_id")
        .values_list("item_id", flat=True)
        .distinct()
    )
    if item_ids:
        list(
            Item.objects.select_for_update(no_key=True)
            .filter(pk__in=item_ids)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
    Lease.objects.filter(batch=batch, status=Lease.Status.ACTIVE, expires_at__lte=now).update(
        status=Lease.Status.EXPIRED, finished_at=now
    )


def liability_unlocked(*, batch: Batch, now: datetime) -> int:
    """What the escrow may still have to pay, at the batch's current reward.

    - every answer that may still be paid: pending, appealed, or rejected and still
      appealable, at the full cost; paid answers for what a raise added;
    - every slot an answer may still fill: for an open or paused batch, the open items'
      room up to max answers, plus live leases on items no longer open; for a closed
      batch, its live leases (a worker who took an item may finish it).
    """
    cost = answer_cost(reward=batch.reward, client_fee_bps=batch.client_fee_bps)
    appeal_from = now - timedelta(days=appeal_days())
    unsettled = (
        Answer.objects.filter(batch=batch)
        .filter(
            Q(status__in=[Answer.Status.PENDING, Answer.Status.APPEALED])
            | Q(status=Answer.Status.REJECTED, reviewed_at__gt=appeal_from)
        )
        .count()
    )
    owed = unsettled * cost
    for paid_reward, n in (
        Answer.objects.filter(
            batch=batch, status__in=Answer.PAID_STATUSES, paid_reward__lt=batch.reward
        )
        .order_by()
        .values_list("paid_reward")
        .annotate(n=Count("pk"))
    ):
        owed += n * (cost - answer_cost(reward=paid_reward, client_fee_bps=batch.client_fee_bps))
    live = Lease.objects.filter(batch=batch, status=Lease.Status.ACTIVE, expires_at__gt=now)
    if batch.status == Batch.Status.CLOSED:
        slots = live.count()
    else:
        room = Item.objects.filter(batch=batch, status=Item.Status.OPEN).aggregate(
            n=Count("pk"), answered=Sum("answers_count")
        )
        slots = room["n"] * batch.max_answers - (room["answered"] or 0)
        slots += live.exclude(item__status=Item.Status.OPEN).count()
    return owed + slots * cost


def refund_excess_unlocked(
    *, batch: Batch, escrow: LedgerAccount, now: datetime, created_by: User | None
) -> int:
    """Refund what the escrow holds beyond what it may still owe (closed batches only).
    The caller holds the escrow and batch locks."""
    leases_settle_unlocked(batch=batch, now=now)
    owed = liability_unlocked(batch=batch, now=now)
    excess = escrow_balance(escrow) - owed
    if excess < 0:
        logger.error("microtask batch %s escrow short by %s cents", batch.pk, -excess)
    if excess <= 0:
        return 0
    done = JournalEntry.objects.filter(
        reference=batch.escrow_reference, kind=EntryKind.ESCROW_REFUND
    ).count()
    work_refund(
        work=batch.funded_work,
        escrow=escrow,
        amount=excess,
        idempotency_key=f"batch:{batch.pk}:refund:{done + 1}",
        description=f"Unused money of microtask batch {batch.pk}",
        created_by=created_by,
    )
    return excess


def answer_pay_unlocked(
    *, answer: Answer, batch: Batch, escrow: LedgerAccount, created_by: User | None
) -> int:
    """Pay what the answer is still owed at the batch's reward (nothing if paid in full).
    The caller holds the escrow lock and the answer row lock (and, when it pays several
    answers in one transaction, every payee's wallet: ``work_payees_lock``)."""
    due = batch.reward - answer.paid_reward
    if due <= 0:
        return 0
    client_fee = split_bps(batch.reward, batch.client_fee_bps) - split_bps(
        answer.paid_reward, batch.client_fee_bps
    )
    crowd_fee = split_bps(batch.reward, batch.crowd_fee_bps) - split_bps(
        answer.paid_reward, batch.crowd_fee_bps
    )
    key = (
        f"answer:{answer.pk}:pay"
        if answer.paid_reward == 0
        else f"answer:{answer.pk}:topup:{batch.reward}"
    )
    work_pay(
        work=batch.funded_work,
        escrow=escrow,
        payee_id=answer.worker_id,
        amount=due,
        crowd_fee=max(0, min(crowd_fee, due)),
        client_fee=max(0, client_fee),
        idempotency_key=key,
        description=f"Microtask answer {answer.pk} (batch {batch.pk})",
        created_by=created_by,
    )
    Answer.objects.filter(pk=answer.pk).update(paid_reward=batch.reward)
    answer.paid_reward = batch.reward
    return due


# --- publish, raise, settle ------------------------------------------------------------------


def batch_publish(*, batch_id: int, user: User) -> Batch:
    """Fund the escrow and open the batch to workers. Publishing a published batch again
    changes nothing (the journal key is per batch).

    Locks: escrow, batch. Funds items × max answers × (reward + client fee).
    """
    batch = batch_for_manager(batch_id=batch_id, user=user)
    work = batch.funded_work
    with transaction.atomic(durable=True):
        escrow = work_escrow_lock(work)
        batch = Batch.objects.select_for_update(no_key=True).get(pk=batch.pk)
        if batch_is_running(batch):
            return batch
        if batch.status == Batch.Status.CLOSED:
            raise Conflict(_("This batch is closed."), code=ErrorCode.BATCH_CLOSED)
        items = Item.objects.filter(batch=batch).count()
        if not items:
            raise Conflict(_("Upload items before publishing."), code=ErrorCode.NO_ITEMS)
        from .qualification import test_gold_problem

        if (problem := test_gold_problem(batch)) is not None:
            raise Conflict(problem, code=ErrorCode.TEST_NEEDS_GOLD)
        # Fee rates are fixed now, so later setting changes cannot make the escrow
        # disagree with what it must pay.
        fees = settings.FEES_BPS["microtask"]
        batch.client_fee_bps = int(fees["client"])
        # Too little in the wallet refuses with the shortfall, and nothing moves.
        work_fund(
            work=work,
            escrow=escrow,
            amount=items
            * batch.max_answers
            * answer_cost(reward=batch.reward, client_fee_bps=batch.client_fee_bps),
            idempotency_key=f"batch:{batch.pk}:publish",
            description=f"Microtask batch {batch.pk}: {items} items × {batch.max_answers}",
            created_by=user,
        )
        BATCH_PUBLISH.move(
            batch,
            Batch.Status.OPEN,
            action=_("publish the batch"),
            actor=user,
            event="published",
            published_at=timezone.now(),
            client_fee_bps=batch.client_fee_bps,
            crowd_fee_bps=int(fees["crowd"]),
        )
    return batch


def batch_deposit_shortfall(*, batch_id: int, user: User, return_path: str) -> Deposit:
    """Start a deposit of exactly what publishing lacks (at least the provider's minimum
    deposit) into the paying wallet; the client comes back to ``return_path`` to publish."""
    batch = batch_for_manager(batch_id=batch_id, user=user)
    BATCH_PUBLISH.check(batch, Batch.Status.OPEN, _("fund the batch"))
    return work_deposit_shortfall(
        work=batch.funded_work,
        user=user,
        total=batch_funding(batch=batch).total,
        return_path=return_path,
    )


def batch_settle(*, batch_id: int, now: datetime | None = None) -> int:
    """Refund what a closed batch's escrow no longer owes (rejections that became final,
    leases that ran out). Idempotent; run by the periodic sweep. Returns the refund."""
    batch = Batch.objects.filter(pk=batch_id, status=Batch.Status.CLOSED).first()
    if batch is None or batch.published_at is None:
        return 0
    with transaction.atomic(durable=True):
        escrow = work_escrow_lock(batch.funded_work)
        batch = Batch.objects.select_for_update(no_key=True).get(pk=batch.pk)
        return refund_excess_unlocked(
            batch=batch, escrow=escrow, now=now or timezone.now(), created_by=None
        )


def batch_reward_raise(*, batch_id: int, user: User, reward: int) -> Batch:
    """Raise the reward per answer: the escrow is topped up to cover every remaining and
    unpaid answer at the new reward, and answers already paid get the difference. A batch
    paused for fair pay opens again when the new reward pays the minimum hourly rate.
    Raising to the current reward again changes nothing.

    Locks: escrow, batch, items with active leases, answers being topped up, then the
    wallets the top-ups pay into (``work_payees_lock``).
    """
    batch = batch_for_manager(batch_id=batch_id, user=user)
    if (problem := reward_problem(reward)) is not None:
        raise ValidationFailed(fields={"reward": problem})
    if batch.status == Batch.Status.CLOSED:
        raise Conflict(_("This batch is closed."), code=ErrorCode.BATCH_CLOSED)
    work = batch.funded_work
    with transaction.atomic(durable=True):
        escrow = work_escrow_lock(work)
        batch = Batch.objects.select_for_update(no_key=True).get(pk=batch.pk)
        if batch.status == Batch.Status.CLOSED:
            raise Conflict(_("This batch is closed."), code=ErrorCode.BATCH_CLOSED)
        if reward == batch.reward:
            return batch
        _reward_raise_check(batch, reward)
        fair_pay_paused = batch.pause_reason == Batch.PauseReason.FAIR_PAY
        batch.reward = reward
        if batch_is_editable(batch):  # a draft is funded when it is published
            batch.save(update_fields=["reward"])
            return batch
        _reward_topup_unlocked(batch=batch, escrow=escrow, user=user)
        batch.save(update_fields=["reward"])
        if fair_pay_paused:
            BATCH_RUN.move(
                batch,
                Batch.Status.OPEN,
                action=_("resume the batch"),
                actor=user,
                event="resumed",
                data={"reward": reward},
                pause_reason=Batch.PauseReason.NONE,
            )
    return batch


def _reward_raise_check(batch: Batch, reward: int) -> None:
    """Refuse a lower reward, and one that still pays a batch paused for fair pay less than
    the minimum hourly rate at the median working time."""
    if reward < batch.reward:
        raise ValidationFailed(
            fields={
                "reward": _("The new reward must be higher than %(current)s.")
                % {"current": format_cents(batch.reward, batch.currency)}
            }
        )
    if (short := fair_pay_shortfall(batch=batch, reward=reward)) is not None:
        raise ValidationFailed(
            fields={
                "reward": _(
                    "At the median of %(seconds).0f seconds per task the reward "
                    "must be at least %(needed)s to pay %(minimum)s an hour."
                )
                % {
                    "seconds": short.median_seconds,
                    "needed": format_cents(short.needed, batch.currency),
                    "minimum": format_cents(short.minimum_hourly, batch.currency),
                }
            }
        )


def _reward_topup_unlocked(*, batch: Batch, escrow: LedgerAccount, user: User) -> None:
    """Fund what the escrow lacks at the new reward (``batch.reward``) and pay the
    difference on answers already paid. The caller holds the escrow and batch locks."""
    work = batch.funded_work
    now = timezone.now()
    leases_settle_unlocked(batch=batch, now=now)
    owed = liability_unlocked(batch=batch, now=now)
    answers = list(
        Answer.objects.select_for_update(no_key=True)
        .filter(batch=batch, status__in=Answer.PAID_STATUSES, paid_reward__lt=batch.reward)
        .order_by("pk")
    )
    # Every wallet this transaction books on, locked up front in the ledger's order: the
    # payer's (top-up), the workers' (differences) and platform revenue (fees).
    work_payees_lock(work=work, escrow=escrow, payee_ids=[a.worker_id for a in answers])
    topup = owed - escrow_balance(escrow)
    if topup > 0:
        # Too little in the wallet refuses with the shortfall, and nothing moves.
        work_fund(
            work=work,
            escrow=escrow,
            amount=topup,
            idempotency_key=f"batch:{batch.pk}:raise:{batch.reward}",
            description=f"Microtask batch {batch.pk}: reward raised to {batch.reward}",
            created_by=user,
        )
    for answer in answers:
        answer_pay_unlocked(answer=answer, batch=batch, escrow=escrow, created_by=user)
