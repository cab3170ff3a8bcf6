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

from trefpunt.core.exceptions import Conflict, ErrorCode, InsufficientFunds, ValidationFailed
from trefpunt.core.money import format_cents, split_bps
from trefpunt.ledger.models import Deposit, EntryKind, JournalEntry, LedgerAccount
from trefpunt.ledger.services import (
    account_lock,
    deposit_create,
    escrow_account,
    escrow_fund,
    escrow_refund,
    escrow_release,
    wallet_for_organisation,
    wallet_for_user,
)

from ..models import Answer, Batch, Item, Lease
from ..selectors import (
    answer_cost,
    appeal_days,
    batch_for_manager,
    batch_median_seconds,
    min_hourly_cents,
    reward_for_hourly,
)
from .definition import MAX_REWARD_CENTS

if TYPE_CHECKING:
    from trefpunt.accounts.models import User

logger = logging.getLogger(__name__)


# --- money helpers ------------------------------------------------------------------------


def _funding_wallet(batch: Batch) -> LedgerAccount:
    if batch.organisation_id:
        return wallet_for_organisation(organisation=batch.organisation, currency=batch.currency)  # type: ignore[arg-type]
    return wallet_for_user(user=batch.owner, currency=batch.currency)


def batch_escrow(batch: Batch) -> LedgerAccount:
    return escrow_account(
        reference=batch.escrow_reference,
        funder=_funding_wallet(batch),
        label=f"escrow of microtask batch {batch.pk}",
    )


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
    balance = LedgerAccount.objects.values_list("balance", flat=True).get(pk=escrow.pk)
    excess = balance - owed
    if excess < 0:
        logger.error("microtask batch %s escrow short by %s cents", batch.pk, -excess)
    if excess <= 0:
        return 0
    done = JournalEntry.objects.filter(
        reference=batch.escrow_reference, kind=EntryKind.ESCROW_REFUND
    ).count()
    escrow_refund(
        escrow=escrow,
        wallet=escrow.funder or _funding_wallet(batch),
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
    The caller holds the escrow lock and the answer row lock."""
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
    escrow_release(
        escrow=escrow,
        payee=wallet_for_user(user=answer.worker, currency=batch.currency),
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


def _shortfall_error(*, wallet: LedgerAccount, needed: int, currency: str) -> InsufficientFunds:
    balance = LedgerAccount.objects.values_list("balance", flat=True).get(pk=wallet.pk)
    shortfall = max(0, needed - balance)
    message = _("This needs %(needed)s; the wallet holds %(balance)s. Add %(shortfall)s first.") % {
        "needed": format_cents(needed, currency),
        "balance": format_cents(balance, currency),
        "shortfall": format_cents(shortfall, currency),
    }
    return InsufficientFunds(message, fields={"wallet": message})


# --- publish, raise, settle ------------------------------------------------------------------


def batch_publish(*, batch_id: int, user: User) -> Batch:
    """Fund the escrow and open the batch to workers. Publishing a published batch again
    changes nothing (the journal key is per batch).

    Locks: escrow, batch. Funds items × max answers × (reward + client fee).
    """
    batch = batch_for_manager(batch_id=batch_id, user=user)
    wallet = _funding_wallet(batch)
    escrow = batch_escrow(batch)
    needed = 0
    try:
        with transaction.atomic(durable=True):
            account_lock(escrow)
            batch = Batch.objects.select_for_update(no_key=True).get(pk=batch.pk)
            if batch.status in (Batch.Status.OPEN, Batch.Status.PAUSED):
                return batch
            if batch.status != Batch.Status.DRAFT:
                raise Conflict(_("This batch is closed."), code=ErrorCode.BATCH_CLOSED)
            items = Item.objects.filter(batch=batch).count()
            if not items:
                raise Conflict(_("Upload items before publishing."), code=ErrorCode.NO_ITEMS)
            fees = settings.FEES_BPS["microtask"]
            batch.client_fee_bps = int(fees["client"])
            batch.crowd_fee_bps = int(fees["crowd"])
            needed = (
                items
                * batch.max_answers
                * answer_cost(reward=batch.reward, client_fee_bps=batch.client_fee_bps)
            )
            escrow_fund(
                wallet=wallet,
                escrow=escrow,
                amount=needed,
                idempotency_key=f"batch:{batch.pk}:publish",
                description=f"Microtask batch {batch.pk}: {items} items × {batch.max_answers}",
                created_by=user,
            )
            now = timezone.now()
            batch.status = Batch.Status.OPEN
            batch.published_at = now
            batch.save(update_fields=["status", "published_at", "client_fee_bps", "crowd_fee_bps"])
    except InsufficientFunds:
        raise _shortfall_error(wallet=wallet, needed=needed, currency=batch.currency) from None
    return batch


def batch_deposit_shortfall(*, batch_id: int, user: User, return_path: str) -> Deposit:
    """Start a deposit of exactly what publishing lacks (at least the provider's minimum
    deposit) into the paying wallet; the client comes back to ``return_path`` to publish."""
    from ..selectors import batch_funding

    batch = batch_for_manager(batch_id=batch_id, user=user)
    if batch.status != Batch.Status.DRAFT:
        raise Conflict(_("This batch is already published."), code=ErrorCode.WRONG_STATE)
    funding = batch_funding(batch=batch)
    if not funding.shortfall:
        raise Conflict(
            _("The wallet already holds enough to publish."), code=ErrorCode.NO_SHORTFALL
        )
    return deposit_create(
        wallet=_funding_wallet(batch),
        user=user,
        amount=max(funding.shortfall, int(settings.MIN_DEPOSIT_CENTS)),
        return_path=return_path,
    )


def batch_settle(*, batch_id: int, now: datetime | None = None) -> int:
    """Refund what a closed batch's escrow no longer owes (rejections that became final,
    leases that ran out). Idempotent; run by the periodic sweep. Returns the refund."""
    batch = Batch.objects.filter(pk=batch_id, status=Batch.Status.CLOSED).first()
    if batch is None or batch.published_at is None:
        return 0
    escrow = batch_escrow(batch)
    with transaction.atomic(durable=True):
        account_lock(escrow)
        batch = Batch.objects.select_for_update(no_key=True).get(pk=batch.pk)
        return refund_excess_unlocked(
            batch=batch, escrow=escrow, now=now or timezone.now(), created_by=None
        )


def batch_reward_raise(*, batch_id: int, user: User, reward: int) -> Batch:
    """Raise the reward per answer: the escrow is topped up to cover every remaining and
    unpaid answer at the new reward, and answers already paid get the difference. A batch
    paused for fair pay opens again when the new reward pays the minimum hourly rate.
    Raising to the current reward again changes nothing.

    Locks: escrow, batch, items with active leases, answers being topped up.
    """
    batch = batch_for_manager(batch_id=batch_id, user=user)
    if (
        isinstance(reward, bool)
        or not isinstance(reward, int)
        or not 1 <= reward <= MAX_REWARD_CENTS
    ):
        raise ValidationFailed(
            fields={
                "reward": _("The reward per answer must be between %(min)s and %(max)s.")
                % {"min": format_cents(1), "max": format_cents(MAX_REWARD_CENTS)}
            }
        )
    if batch.status == Batch.Status.CLOSED:
        raise Conflict(_("This batch is closed."), code=ErrorCode.BATCH_CLOSED)
    wallet = _funding_wallet(batch)
    escrow = batch_escrow(batch)
    topup = 0
    try:
        with transaction.atomic(durable=True):
            account_lock(escrow)
            batch = Batch.objects.select_for_update(no_key=True).get(pk=batch.pk)
            if batch.status == Batch.Status.CLOSED:
                raise Conflict(_("This batch is closed."), code=ErrorCode.BATCH_CLOSED)
            if reward == batch.reward:
                return batch
            if reward < batch.reward:
                raise ValidationFailed(
                    fields={
                        "reward": _("The new reward must be higher than %(current)s.")
                        % {"current": format_cents(batch.reward, batch.currency)}
                    }
                )
            _n, median = batch_median_seconds(batch_id=batch.pk)
            minimum = min_hourly_cents()
            fair_pay_paused = batch.pause_reason == Batch.PauseReason.FAIR_PAY
            if fair_pay_paused and median:
                needed_reward = reward_for_hourly(hourly=minimum, seconds=median)
                if reward < needed_reward:
                    raise ValidationFailed(
                        fields={
                            "reward": _(
                                "At the median of %(seconds).0f seconds per task the reward "
                                "must be at least %(needed)s to pay %(minimum)s an hour."
                            )
                            % {
                                "seconds": median,
                                "needed": format_cents(needed_reward, batch.currency),
                                "minimum": format_cents(minimum, batch.currency),
                            }
                        }
                    )
            batch.reward = reward
            if batch.status == Batch.Status.DRAFT:
                batch.save(update_fields=["reward"])
                return batch
            now = timezone.now()
            leases_settle_unlocked(batch=batch, now=now)
            owed = liability_unlocked(batch=batch, now=now)
            balance = LedgerAccount.objects.values_list("balance", flat=True).get(pk=escrow.pk)
            topup = owed - balance
            if topup > 0:
                escrow_fund(
                    wallet=wallet,
                    escrow=escrow,
                    amount=topup,
                    idempotency_key=f"batch:{batch.pk}:raise:{reward}",
                    description=f"Microtask batch {batch.pk}: reward raised to {reward}",
                    created_by=user,
                )
            for answer in (
                Answer.objects.select_for_update(no_key=True)
                .select_related("worker")
                .filter(batch=batch, status__in=Answer.PAID_STATUSES, paid_reward__lt=reward)
                .order_by("pk")
            ):
                answer_pay_unlocked(answer=answer, batch=batch, escrow=escrow, created_by=user)
            fields = ["reward"]
            if fair_pay_paused:
                batch.status = Batch.Status.OPEN
                batch.pause_reason = Batch.PauseReason.NONE
                fields += ["status", "pause_reason"]
            batch.save(update_fields=fields)
    except InsufficientFunds:
        raise _shortfall_error(wallet=wallet, needed=topup, currency=batch.currency) from None
    return batch
