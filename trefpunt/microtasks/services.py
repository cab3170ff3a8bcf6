"""Every write of the microtask mode: batches, uploads, scheduling, answers, review and pay.

Lock order (the platform's, see ``ledger.services``): the batch's escrow account
(``account_lock``), then the batch row, then item rows by ascending id, then
lease and answer rows. Scheduling and submission lock only the one item they
work on, so workers do not wait for each other or for the client.

Money. Publishing moves *items × max answers × (reward + client fee)* into the
batch's escrow. An answer costs the escrow *reward + client fee* when it is
paid (approved, or overturned on appeal), once per answer: the journal key is
``answer:<id>:pay``. Raising the reward tops up the escrow and pays the
difference on answers already paid (``answer:<id>:topup:<reward>``). What the
escrow holds beyond what it may still owe (``_liability_unlocked``) is refunded
when the batch closes, and later by ``batch_settle`` as rejections become final
and leases run out. At the end, funded = rewards paid + fees + refunds.

Scheduling. ``lease_claim`` hands a worker the next item under a lease. The
candidates are the batch's open items the worker has never leased (answered,
skipped or let expire), whose answers plus live leases are below the target,
in the batch's strategy order; PostgreSQL takes the first with ``SELECT … FOR
UPDATE SKIP LOCKED`` (workers never wait for each other), SQLite runs the same
inside its serialised write transaction. Under the item lock the claim counts
again and inserts the lease only if the item still has room: that guard, and
answers being stored under the same lock, is why no item is ever over-assigned.

Quality. Test questions (gold items) are mixed in at the batch's ``gold_rate`` by the claim
and look like any other item; their answers score the worker live and are paid like every
other answer. When an answer arrives, the item's combined answer and confidence are updated
from its own answers and the last fit's worker estimates (``quality.item_result``, cheap):
the item completes once its confidence reaches the batch's target after the minimum answers,
or gets one more slot (up to the maximum, which publishing funded) while it is uncertain.
The full fit (``batch_aggregate``) runs in the background every N answers, on exclusions and
at close; answers of excluded workers are left out of both. Lock order for quality writes:
batch, items by id, batch-worker rows, worker-quality rows.
"""

from __future__ import annotations

import json
import logging
import random
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Exists, F, Max, Min, OuterRef, Q, Subquery, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from trefpunt.core.exceptions import (
    Conflict,
    ErrorCode,
    InsufficientFunds,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
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

from .formspec import answer_clean, form_spec_clean
from .models import Answer, Batch, BatchWorker, Item, Lease, WorkerQuality
from .quality import GOLD_RECORD_MIN, AnswerRow, batch_fit, gold_matches, item_result
from .rendering import display_spec_clean
from .selectors import (
    WorkerStanding,
    answer_cost,
    answer_for_manager,
    answer_for_worker,
    appeal_days,
    batch_for_manager,
    batch_is_managed_by,
    batch_median_seconds,
    fair_pay_min_answers,
    hourly_cents,
    item_live_leases,
    item_seen_by,
    lease_live_for_worker,
    min_hourly_cents,
    qualification_problems,
    review_days,
    reward_for_hourly,
    worker_id_for_pseudonym,
    worker_is_excluded,
    worker_standing,
)
from .uploads import items_parse, max_items_per_batch

if TYPE_CHECKING:
    from trefpunt.accounts.models import Organisation, User

logger = logging.getLogger(__name__)

MAX_REWARD_CENTS = 10_000
MAX_REDUNDANCY = 20
# Up to this many answers the fair-pay check runs after every answer; beyond it the
# periodic sweep keeps checking (the median of a large batch moves slowly).
FAIR_PAY_INLINE_UNTIL = 200
CLAIM_ATTEMPTS = 5
# The full fit runs after the first REFIT_FIRST answers, then each time the answers since the
# last fit reach as many as that fit saw (20, 40, 80, …), and from then on every
# ``refit_every()`` answers — or every REFIT_SHARE-th of the answers the last fit saw, when
# that is more. A fit reads the whole batch (seconds at 100,000 answers), so the gaps of a
# large batch grow with it and its fits cost a fixed multiple of its answers in all, instead
# of a fit per few seconds of work. The periodic sweep fits a batch whose answers since its
# last fit will not reach the next threshold soon: quiet for REFIT_QUIET, no longer open, or
# last fitted REFIT_STALE ago.
REFIT_FIRST = 20
REFIT_SHARE = 10
REFIT_QUIET = timedelta(minutes=2)
REFIT_STALE = timedelta(minutes=30)
ITEM_CHUNK = 500
NO_RECORD = WorkerStanding(approval_rate=None, decided_answers=0, gold_accuracy=None, languages=[])


# --- batch definition ---------------------------------------------------------------------


def _json_field(value: Any, field: str) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except json.JSONDecodeError as exc:
        raise ValidationFailed(
            fields={
                field: _("Not valid JSON (line %(line)d, column %(col)d: %(msg)s).")
                % {"line": exc.lineno, "col": exc.colno, "msg": exc.msg}
            }
        ) from None


def _int_in(
    errors: dict[str, str], field: str, value: Any, low: int, high: int, message: str
) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        errors[field] = message
        return None
    return value


def _fraction(errors: dict[str, str], field: str, value: Any) -> float | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        errors[field] = _("Enter a share between 0 and 1 (e.g. 0.9 for 90%).")
        return None
    return float(value)


def _batch_fields_clean(values: dict[str, Any]) -> dict[str, Any]:
    """Validate every field of a batch definition at once; ``ValidationFailed`` names each."""
    from trefpunt.accounts.services import languages_parse

    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    title = (values.get("title") or "").strip()
    if len(title) < 3 or len(title) > 200:
        errors["title"] = _("Give the batch a title of 3–200 characters.")
    out["title"] = title
    instructions = (values.get("instructions") or "").strip()
    if len(instructions) > 20_000:
        errors["instructions"] = _("The instructions are at most 20,000 characters.")
    out["instructions"] = instructions
    for name, cleaner in (("form", form_spec_clean), ("display", display_spec_clean)):
        try:
            out[name] = cleaner(_json_field(values.get(name), name))
        except ValidationFailed as exc:
            errors.update({k: v[0] for k, v in exc.fields.items()})
    reward = _int_in(
        errors,
        "reward",
        values.get("reward"),
        1,
        MAX_REWARD_CENTS,
        _("The reward per answer must be between %(min)s and %(max)s.")
        % {"min": format_cents(1), "max": format_cents(MAX_REWARD_CENTS)},
    )
    out["reward"] = reward
    min_answers = _int_in(
        errors,
        "min_answers",
        values.get("min_answers", 3),
        1,
        MAX_REDUNDANCY,
        _("Ask for 1 to %(n)d answers per item.") % {"n": MAX_REDUNDANCY},
    )
    max_answers = _int_in(
        errors,
        "max_answers",
        values.get("max_answers", min_answers or 3),
        1,
        MAX_REDUNDANCY,
        _("Ask for 1 to %(n)d answers per item.") % {"n": MAX_REDUNDANCY},
    )
    if min_answers and max_answers and max_answers < min_answers:
        errors["max_answers"] = _("The maximum must be at least the minimum (%(n)d).") % {
            "n": min_answers
        }
    out["min_answers"], out["max_answers"] = min_answers, max_answers
    out["estimated_seconds"] = _int_in(
        errors,
        "estimated_seconds",
        values.get("estimated_seconds", 30),
        1,
        3600,
        _("Estimate between 1 second and 1 hour per task."),
    )
    out["lease_seconds"] = _int_in(
        errors,
        "lease_seconds",
        values.get("lease_seconds", 600),
        60,
        4 * 3600,
        _("The time per item must be between 1 minute and 4 hours."),
    )
    strategy = values.get("strategy") or Batch.Strategy.DEPTH
    if strategy not in Batch.Strategy.values:
        errors["strategy"] = _("Choose depth-first, breadth-first or random.")
    out["strategy"] = strategy
    out["min_approval_rate"] = _fraction(
        errors, "min_approval_rate", values.get("min_approval_rate")
    )
    out["min_gold_accuracy"] = _fraction(
        errors, "min_gold_accuracy", values.get("min_gold_accuracy")
    )
    try:
        out["languages"] = languages_parse(values.get("languages") or "")
    except ValidationFailed as exc:
        errors.update({k: v[0] for k, v in exc.fields.items()})
    cap = values.get("max_answers_per_worker")
    out["max_answers_per_worker"] = (
        None
        if cap in (None, "")
        else _int_in(
            errors,
            "max_answers_per_worker",
            cap,
            1,
            1_000_000,
            _("Leave empty for no limit, or allow at least one answer per worker."),
        )
    )
    method = values.get("aggregation_method") or Batch.Method.DS
    if method not in Batch.Method.values:
        errors["aggregation_method"] = _("Choose mv, wmv, ds or ods.")
    out["aggregation_method"] = method
    target = values.get("confidence_target", 0.95)
    if isinstance(target, bool) or not isinstance(target, int | float) or not 0.5 <= target <= 1:
        errors["confidence_target"] = _("The confidence target is between 0.5 and 1.")
    out["confidence_target"] = target
    gold_rate = _fraction(errors, "gold_rate", values.get("gold_rate", 0.1))
    out["gold_rate"] = 0.1 if gold_rate is None else gold_rate
    out["gold_feedback"] = bool(values.get("gold_feedback", False))
    # Fair pay starts before the first answer: the client's own estimate must already pay
    # the platform minimum.
    if reward and out["estimated_seconds"] and "reward" not in errors:
        minimum = min_hourly_cents()
        hourly = hourly_cents(reward=reward, seconds=out["estimated_seconds"])
        if hourly is not None and hourly < minimum:
            errors["reward"] = _(
                "At %(seconds)d seconds per task this pays %(hourly)s an hour; the minimum is "
                "%(minimum)s. Raise the reward to at least %(needed)s."
            ) % {
                "seconds": out["estimated_seconds"],
                "hourly": format_cents(hourly),
                "minimum": format_cents(minimum),
                "needed": format_cents(
                    reward_for_hourly(hourly=minimum, seconds=out["estimated_seconds"])
                ),
            }
    if errors:
        raise ValidationFailed(fields=errors)
    return out


def _organisation_for_posting(*, user: User, slug: str | None) -> Organisation | None:
    if not slug:
        return None
    from trefpunt.accounts.selectors import organisations_user_can_post_for

    organisation = organisations_user_can_post_for(user=user).filter(slug=slug).first()
    if organisation is None:
        raise ValidationFailed(
            fields={"organisation": _("You can post only for organisations you administer.")}
        )
    return organisation


def batch_create(*, user: User, organisation_slug: str | None = None, **values: Any) -> Batch:
    """Create a draft batch; nothing is paid until ``batch_publish``."""
    cleaned = _batch_fields_clean(values)
    organisation = _organisation_for_posting(user=user, slug=organisation_slug)
    return Batch.objects.create(owner=user, organisation=organisation, **cleaned)


def batch_update(
    *, batch_id: int, user: User, organisation_slug: str | None = None, **values: Any
) -> Batch:
    """Change a draft. A published batch keeps its definition (workers rely on it); its
    reward can only go up, through ``batch_reward_raise``."""
    batch = batch_for_manager(batch_id=batch_id, user=user)
    cleaned = _batch_fields_clean(values)
    organisation = _organisation_for_posting(user=user, slug=organisation_slug)
    with transaction.atomic(durable=True):
        batch = Batch.objects.select_for_update(no_key=True).get(pk=batch.pk)
        if batch.status != Batch.Status.DRAFT:
            raise Conflict(_("Only a draft can be changed."), code=ErrorCode.NOT_DRAFT)
        if batch.items.exists():
            _columns_still_present(batch, cleaned["display"])
        for name, value in cleaned.items():
            setattr(batch, name, value)
        batch.organisation = organisation
        batch.save()
        Item.objects.filter(batch=batch, is_gold=False).update(answers_target=batch.min_answers)
        Item.objects.filter(batch=batch, is_gold=True).update(answers_target=batch.max_answers)
    return batch


def _columns_still_present(batch: Batch, display: list[dict[str, str]]) -> None:
    missing = [e["column"] for e in display if e["column"] not in (batch.item_columns or [])]
    if missing:
        raise ValidationFailed(
            fields={
                "display": _(
                    "The uploaded items have no column “%(column)s”; remove the items first."
                )
                % {"column": missing[0]}
            }
        )


def items_upload(*, batch_id: int, user: User, content: bytes, filename: str) -> int:
    """Add the items of a CSV or JSON Lines file to a draft; all or nothing. Returns the
    number of items added."""
    batch = batch_for_manager(batch_id=batch_id, user=user)
    if batch.status != Batch.Status.DRAFT:
        raise Conflict(
            _("Items can be added only while the batch is a draft."), code=ErrorCode.NOT_DRAFT
        )
    parsed = items_parse(content=content, filename=filename, display=batch.display, form=batch.form)
    with transaction.atomic(durable=True):
        batch = Batch.objects.select_for_update(no_key=True).get(pk=batch.pk)
        if batch.status != Batch.Status.DRAFT:
            raise Conflict(
                _("Items can be added only while the batch is a draft."), code=ErrorCode.NOT_DRAFT
            )
        existing = batch.items.aggregate(n=Count("pk"), last=Max("position"))
        if existing["n"] + len(parsed.items) > max_items_per_batch():
            raise ValidationFailed(
                fields={
                    "file": _("A batch holds at most %(n)d items; it has %(have)d already.")
                    % {"n": max_items_per_batch(), "have": existing["n"]}
                }
            )
        start = existing["last"] or 0
        Item.objects.bulk_create(
            [
                Item(
                    batch=batch,
                    position=start + index,
                    data=parsed_item.data,
                    is_gold=parsed_item.gold_answer is not None,
                    gold_answer=parsed_item.gold_answer,
                    # Test questions take answers up to the funded maximum: each scores
                    # as many workers as the budget allows.
                    answers_target=(
                        batch.max_answers
                        if parsed_item.gold_answer is not None
                        else batch.min_answers
                    ),
                )
                for index, parsed_item in enumerate(parsed.items, start=1)
            ],
            batch_size=2000,
        )
        columns = list(dict.fromkeys([*(batch.item_columns or []), *parsed.columns]))
        Batch.objects.filter(pk=batch.pk).update(item_columns=columns)
    return len(parsed.items)


def items_clear(*, batch_id: int, user: User) -> int:
    batch = batch_for_manager(batch_id=batch_id, user=user)
    with transaction.atomic(durable=True):
        batch = Batch.objects.select_for_update(no_key=True).get(pk=batch.pk)
        if batch.status != Batch.Status.DRAFT:
            raise Conflict(
                _("Items can be removed only while the batch is a draft."), code=ErrorCode.NOT_DRAFT
            )
        deleted, _detail = Item.objects.filter(batch=batch).delete()
        Batch.objects.filter(pk=batch.pk).update(item_columns=[])
    return deleted


# --- money helpers ------------------------------------------------------------------------


def _funding_wallet(batch: Batch) -> LedgerAccount:
    if batch.organisation_id:
        return wallet_for_organisation(organisation=batch.organisation, currency=batch.currency)  # type: ignore[arg-type]
    return wallet_for_user(user=batch.owner, currency=batch.currency)


def _batch_escrow(batch: Batch) -> LedgerAccount:
    return escrow_account(
        reference=batch.escrow_reference,
        funder=_funding_wallet(batch),
        label=f"escrow of microtask batch {batch.pk}",
    )


def _leases_settle_unlocked(*, batch: Batch, now: datetime) -> None:
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


def _liability_unlocked(*, batch: Batch, now: datetime) -> int:
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


def _refund_excess_unlocked(
    *, batch: Batch, escrow: LedgerAccount, now: datetime, created_by: User | None
) -> int:
    """Refund what the escrow holds beyond what it may still owe (closed batches only).
    The caller holds the escrow and batch locks."""
    _leases_settle_unlocked(batch=batch, now=now)
    owed = _liability_unlocked(batch=batch, now=now)
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


def _answer_pay_unlocked(
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


# --- batch lifecycle ------------------------------------------------------------------------


def batch_publish(*, batch_id: int, user: User) -> Batch:
    """Fund the escrow and open the batch to workers. Publishing a published batch again
    changes nothing (the journal key is per batch).

    Locks: escrow, batch. Funds items × max answers × (reward + client fee).
    """
    batch = batch_for_manager(batch_id=batch_id, user=user)
    wallet = _funding_wallet(batch)
    escrow = _batch_escrow(batch)
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
    from .selectors import batch_funding

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
    escrow = _batch_escrow(batch) if batch.status != Batch.Status.DRAFT else None
    with transaction.atomic(durable=True):
        if escrow is not None:
            account_lock(escrow)
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
            _refund_excess_unlocked(batch=batch, escrow=escrow, now=now, created_by=user)
            _aggregate_on_commit(batch.pk)
    return batch


def batch_settle(*, batch_id: int, now: datetime | None = None) -> int:
    """Refund what a closed batch's escrow no longer owes (rejections that became final,
    leases that ran out). Idempotent; run by the periodic sweep. Returns the refund."""
    batch = Batch.objects.filter(pk=batch_id, status=Batch.Status.CLOSED).first()
    if batch is None or batch.published_at is None:
        return 0
    escrow = _batch_escrow(batch)
    with transaction.atomic(durable=True):
        account_lock(escrow)
        batch = Batch.objects.select_for_update(no_key=True).get(pk=batch.pk)
        return _refund_excess_unlocked(
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
    escrow = _batch_escrow(batch)
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
            _leases_settle_unlocked(batch=batch, now=now)
            owed = _liability_unlocked(batch=batch, now=now)
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
                _answer_pay_unlocked(answer=answer, batch=batch, escrow=escrow, created_by=user)
            fields = ["reward"]
            if fair_pay_paused:
                batch.status = Batch.Status.OPEN
                batch.pause_reason = Batch.PauseReason.NONE
                fields += ["status", "pause_reason"]
            batch.save(update_fields=fields)
    except InsufficientFunds:
        raise _shortfall_error(wallet=wallet, needed=topup, currency=batch.currency) from None
    return batch


def batch_worker_exclude(
    *, batch_id: int, user: User, pseudonym: str, excluded: bool = True
) -> BatchWorker:
    """Keep a worker (named by their pseudonym in this batch) from further items of it, and
    take their answers out of the combined answers (``excluded=False`` lets them back in and
    counts their answers again). Items they answered are combined again at once; an item
    that no longer has enough counted answers, or is no longer confident enough, opens again
    for more (up to the batch's maximum answers, already funded) while the batch is open or
    paused. A full re-fit follows in the background. Excluding twice changes nothing.

    Locks: batch, the worker's items by id, the batch-worker row.
    """
    batch = batch_for_manager(batch_id=batch_id, user=user)
    worker_id = worker_id_for_pseudonym(batch=batch, pseudonym=pseudonym)
    if worker_id is None:
        raise NotFound(_("No worker with this id in this batch."))
    with transaction.atomic(durable=True):
        batch = Batch.objects.select_for_update(no_key=True).get(pk=batch.pk)
        item_ids = list(
            Answer.objects.filter(batch=batch, worker_id=worker_id)
            .order_by("item_id")
            .values_list("item_id", flat=True)
        )
        items = list(
            Item.objects.select_for_update(no_key=True).filter(pk__in=item_ids).order_by("pk")
        )
        row, _created = BatchWorker.objects.select_for_update(no_key=True).get_or_create(
            batch=batch, worker_id=worker_id
        )
        if row.excluded == excluded:
            return row
        row.excluded = excluded
        row.excluded_at = timezone.now() if excluded else None
        row.save(update_fields=["excluded", "excluded_at", "updated_at"])
        Batch.objects.filter(pk=batch.pk).update(quality_version=F("quality_version") + 1)
        now = timezone.now()
        for item in items:
            _item_recombine_unlocked(item=item, batch=batch, now=now, reopen=True)
        Item.objects.bulk_update(items, ITEM_FIELDS, batch_size=ITEM_CHUNK)
        _aggregate_on_commit(batch.pk)
    return row


# --- scheduling ------------------------------------------------------------------------------


def _claim_order(batch: Batch) -> list[str]:
    if batch.strategy == Batch.Strategy.BREADTH:
        return ["answers_count", "pk"]
    return ["-answers_count", "pk"]


def _claim_candidates(
    *, batch: Batch, worker: User, now: datetime, rejected: list[int]
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
    gold_first = random.random() < batch.gold_rate
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


def _claim_attempt(
    *, batch: Batch, worker: User, now: datetime, rejected: list[int]
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
    with transaction.atomic(durable=True):
        item_id: int | None = None
        queries = _claim_candidates(batch=batch, worker=worker, now=now, rejected=rejected)
        if can_skip:
            for query in queries:
                item_id = (
                    query.select_for_update(no_key=True, skip_locked=True, of=("self",))
                    .values_list("pk", flat=True)
                    .first()
                )
                if item_id is not None:
                    break
        if item_id is None:
            for query in queries:
                item_id = query.values_list("pk", flat=True).first()
                if item_id is not None:
                    # SQLite needs no row lock: its write transaction serialises claims.
                    if can_skip:
                        list(
                            Item.objects.select_for_update(no_key=True)
                            .filter(pk=item_id)
                            .values_list("pk", flat=True)
                        )
                    break
        if item_id is None:
            return None, None
        lease_id = _lease_insert_guarded_unlocked(
            batch=batch, item_id=item_id, worker=worker, now=now
        )
        if lease_id is None:
            return None, item_id
        lease = Lease(
            pk=lease_id,
            batch=batch,
            item_id=item_id,
            worker=worker,
            status=Lease.Status.ACTIVE,
            created_at=now,
            expires_at=now + timedelta(seconds=batch.lease_seconds),
        )
        # The row exists: mark the instance as loaded, as if it came from a query.
        lease._state.adding = False
        lease._state.db = connection.alias
        return lease, None


_GUARDED_INSERT = """
INSERT INTO {lease} (batch_id, item_id, worker_id, status, created_at, expires_at)
SELECT %s, i.id, %s, %s, %s, %s
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
    *, batch: Batch, item_id: int, worker: User, now: datetime
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


def lease_claim(*, batch_id: int, worker: User) -> Lease | None:
    """The worker's next item of the batch under a new lease, their current live lease if
    they hold one, or ``None`` when there is nothing (more) for them.

    Refuses a batch that is not open, a worker who does not qualify or reached the batch's
    per-worker cap, and the batch's own client. Locks one item row at a time.
    """
    # This is the hot path of every worker: plain rows, no joins it does not need.
    batch = Batch.objects.exclude(status=Batch.Status.DRAFT).filter(pk=batch_id).first()
    if batch is None:
        raise NotFound(_("Batch not found."))
    now = timezone.now()
    active = list(
        Lease.objects.select_related("item").filter(
            batch=batch, worker=worker, status=Lease.Status.ACTIVE
        )
    )
    for lease in active:
        if lease.expires_at > now:
            return lease
    if batch.owner_id == worker.pk or (
        batch.organisation_id and batch_is_managed_by(batch=batch, user=worker)
    ):
        raise PermissionDenied(
            _("You cannot work on a batch you manage."), code=ErrorCode.OWN_BATCH
        )
    if batch.status != Batch.Status.OPEN:
        message = (
            _("This batch is paused.")
            if batch.status == Batch.Status.PAUSED
            else _("This batch is closed.")
        )
        raise Conflict(message, code=ErrorCode.BATCH_NOT_OPEN)
    # The worker's record is read only for the requirements the batch has: the approval
    # rate is an aggregate over every answer the worker ever gave.
    needs_record = (
        batch.min_approval_rate is not None
        or batch.min_gold_accuracy is not None
        or bool(batch.languages)
    )
    problems = qualification_problems(
        batch=batch,
        standing=worker_standing(user=worker) if needs_record else NO_RECORD,
        excluded=worker_is_excluded(batch=batch, user=worker),
    )
    if problems:
        raise PermissionDenied(" ".join(problems), code=ErrorCode.NOT_QUALIFIED)
    if batch.max_answers_per_worker is not None:
        answered = Answer.objects.filter(batch=batch, worker=worker).count()
        if answered >= batch.max_answers_per_worker:
            raise Conflict(
                _("You reached this batch's limit of %(n)d answers per worker.")
                % {"n": batch.max_answers_per_worker},
                code=ErrorCode.CAP_REACHED,
            )
    if active:
        # The worker's own lease ran out: mark it, freeing their one active lease per batch.
        Lease.objects.filter(
            pk__in=[lease.pk for lease in active], status=Lease.Status.ACTIVE
        ).update(status=Lease.Status.EXPIRED, finished_at=now)
    rejected: list[int] = []
    try:
        for _attempt in range(CLAIM_ATTEMPTS):
            claimed, full = _claim_attempt(batch=batch, worker=worker, now=now, rejected=rejected)
            if full is None:
                return claimed
            rejected.append(full)
    except IntegrityError:
        # The same worker's other request (a double click, a retry) claimed at the same
        # moment; the unique active-lease constraint kept it to one.
        return lease_live_for_worker(batch=batch, user=worker)
    return None


def lease_skip(*, lease_id: int, worker: User) -> Lease:
    """Give the item back; it is not offered to this worker again."""
    lease = Lease.objects.filter(pk=lease_id, worker=worker).first()
    if lease is None:
        raise NotFound(_("Lease not found."))
    with transaction.atomic(durable=True):
        Item.objects.select_for_update(no_key=True).filter(pk=lease.item_id).values_list(
            "pk"
        ).first()
        lease = Lease.objects.select_for_update(no_key=True).get(pk=lease.pk)
        if lease.status == Lease.Status.SKIPPED:
            return lease
        if lease.status != Lease.Status.ACTIVE:
            raise Conflict(_("This lease is no longer active."), code=ErrorCode.LEASE_INACTIVE)
        lease.status = Lease.Status.SKIPPED
        lease.finished_at = timezone.now()
        lease.save(update_fields=["status", "finished_at"])
    return lease


def leases_expire(*, now: datetime | None = None) -> int:
    """Tidy-up: mark leases whose time ran out. Correctness never depends on it (a lease is
    live only while ``expires_at`` is in the future); it keeps the active set small."""
    now = now or timezone.now()
    return Lease.objects.filter(status=Lease.Status.ACTIVE, expires_at__lte=now).update(
        status=Lease.Status.EXPIRED, finished_at=now
    )


# --- answers -----------------------------------------------------------------------------------


ITEM_FIELDS = [
    "answers_target",
    "status",
    "completed_at",
    "aggregated_answer",
    "confidence",
    "aggregate_details",
]


def _item_rows(*, item_id: int, batch_id: int) -> list[AnswerRow]:
    """The item's counted answers (excluded workers left out), each with its worker's
    estimate from the last fit. One query."""
    worker = BatchWorker.objects.filter(batch_id=batch_id, worker_id=OuterRef("worker_id"))
    rows = (
        Answer.objects.filter(item_id=item_id)
        .annotate(
            estimate=Subquery(worker.values("estimate")[:1]),
            excluded=Exists(worker.filter(excluded=True)),
        )
        .filter(excluded=False)
        .order_by("pk")
        .values_list("worker_id", "data", "estimate")
    )
    return [AnswerRow(worker_id=w, data=d, estimate=e) for w, d, e in rows]


def _item_has_enough(*, item: Item, batch: Batch, counted: int) -> bool:
    """Whether an item needs no more answers: its maximum; for a test question its target
    (the maximum); otherwise the minimum counted answers and, when the form has a field with a
    confidence, that confidence at the batch's target."""
    if item.answers_count >= batch.max_answers:
        return True
    if item.is_gold:
        return item.answers_count >= item.answers_target
    if counted < batch.min_answers:
        return False
    return item.confidence is None or item.confidence >= batch.confidence_target


def _item_recombine_unlocked(*, item: Item, batch: Batch, now: datetime, reopen: bool) -> None:
    """Combine the item's counted answers again and move it on: complete it when it has
    enough, give it one more slot when it is full but uncertain (up to max answers), and with
    ``reopen`` open a complete item that lost its certainty (exclusion). The caller holds the
    item's row lock and saves ``ITEM_FIELDS``."""
    rows = _item_rows(item_id=item.pk, batch_id=batch.pk)
    result = item_result(batch.form, batch.aggregation_method, batch.quality_model, rows)
    item.aggregated_answer = result.answer
    item.confidence = result.confidence
    item.aggregate_details = result.details
    _item_settle_unlocked(item=item, batch=batch, counted=len(rows), now=now, reopen=reopen)


def _item_settle_unlocked(
    *, item: Item, batch: Batch, counted: int, now: datetime, reopen: bool
) -> None:
    enough = _item_has_enough(item=item, batch=batch, counted=counted)
    if item.status == Item.Status.OPEN:
        if enough:
            item.status = Item.Status.COMPLETE
            item.completed_at = now
        elif item.answers_count >= item.answers_target:
            item.answers_target = item.answers_count + 1
    elif (
        reopen
        and not enough
        and not item.is_gold
        and item.status == Item.Status.COMPLETE
        and batch.status in (Batch.Status.OPEN, Batch.Status.PAUSED)
    ):
        missing = max(1, batch.min_answers - counted)
        item.status = Item.Status.OPEN
        item.completed_at = None
        item.answers_target = max(
            item.answers_target, min(batch.max_answers, item.answers_count + missing)
        )


def _worker_quality_refresh_unlocked(*, worker_ids: list[int]) -> None:
    """Recompute the workers' gold record over every batch from their batch rows."""
    sums = {
        row["worker_id"]: row
        for row in BatchWorker.objects.filter(worker_id__in=worker_ids)
        .order_by()
        .values("worker_id")
        .annotate(n=Sum("gold_answers"), ok=Sum("gold_correct"))
    }
    for worker_id in sorted(worker_ids):
        row = sums.get(worker_id, {"n": 0, "ok": 0})
        n, ok = int(row["n"] or 0), int(row["ok"] or 0)
        WorkerQuality.objects.update_or_create(
            worker_id=worker_id,
            defaults={
                "gold_answers": n,
                "gold_correct": ok,
                "gold_accuracy": ok / n if n >= GOLD_RECORD_MIN else None,
            },
        )


def _gold_score_unlocked(*, batch: Batch, item: Item, answer: Answer) -> bool:
    """Count a test answer in the worker's gold record; returns whether it was right."""
    correct = gold_matches(batch.form, item.gold_answer, answer.data)
    row, _created = BatchWorker.objects.get_or_create(batch=batch, worker_id=answer.worker_id)
    BatchWorker.objects.filter(pk=row.pk).update(
        gold_answers=F("gold_answers") + 1, gold_correct=F("gold_correct") + int(correct)
    )
    _worker_quality_refresh_unlocked(worker_ids=[answer.worker_id])
    return correct


def item_answer_recorded_unlocked(
    *, item: Item, answer: Answer, batch: Batch, now: datetime
) -> None:
    """Called under the item's row lock right after ``answer`` was stored and
    ``item.answers_count`` raised; the caller saves ``ITEM_FIELDS`` of ``item``.

    A test answer scores the worker. Then adaptive redundancy: the item's combined answer and
    confidence are recomputed from its counted answers with the last fit's estimates (one
    query, no re-fit); the item completes when confident enough after the minimum answers,
    or at its maximum, and gets one more slot while it is uncertain.
    """
    if item.is_gold:
        _gold_score_unlocked(batch=batch, item=item, answer=answer)
    _item_recombine_unlocked(item=item, batch=batch, now=now, reopen=False)


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
        item_answer_recorded_unlocked(item=item, answer=stored, batch=batch, now=now)
        item.save(update_fields=["answers_count", *ITEM_FIELDS])
    # Bounded counts on every answer: ``order_by()`` drops the model's newest-first
    # ordering, which would make PostgreSQL sort all the batch's answers to count a few.
    # A batch whose last fit saw more answers than the inline window is past it: no count.
    if batch.fit_answers <= FAIR_PAY_INLINE_UNTIL:
        answers_so_far = (
            Answer.objects.filter(batch=batch).order_by()[: FAIR_PAY_INLINE_UNTIL + 1].count()
        )
        if fair_pay_min_answers() <= answers_so_far <= FAIR_PAY_INLINE_UNTIL:
            batch_fair_pay_check(batch_id=batch.pk)
    _aggregate_if_due(batch)
    return stored


# --- aggregation: the full fit -------------------------------------------------------------------


def refit_every() -> int:
    return max(1, int(getattr(settings, "MICROTASK_REFIT_EVERY", 200)))


def refit_threshold(fit_answers: int) -> int:
    """Answers since the last fit (which saw ``fit_answers``) at which the next one is due."""
    return max(min(refit_every(), max(REFIT_FIRST, fit_answers)), fit_answers // REFIT_SHARE)


def _aggregate_on_commit(batch_id: int) -> None:
    from .tasks import batch_aggregate_task

    transaction.on_commit(lambda: batch_aggregate_task.enqueue(batch_id))


def _aggregate_if_due(batch: Batch) -> None:
    """Enqueue the full fit once the answers since the last one reach the threshold. Counts
    at most the threshold (an index range on (batch, id)). Concurrent answers may cross the
    threshold together or jump over any exact count, so the one enqueue per fit is claimed
    with a conditional update instead; the periodic sweep catches a lost one."""
    threshold = refit_threshold(batch.fit_answers)
    since = (
        Answer.objects.filter(batch_id=batch.pk, pk__gt=batch.fit_through)
        .order_by()[:threshold]
        .count()
    )
    if since < threshold:
        return
    claimed = (
        Batch.objects.filter(pk=batch.pk, fit_through=batch.fit_through)
        .exclude(fit_requested_through=batch.fit_through)
        .update(fit_requested_through=batch.fit_through)
    )
    if claimed:
        _aggregate_on_commit(batch.pk)


def batch_aggregate(*, batch_id: int) -> bool:
    """The full fit of a batch: every field combined by its method over the counted answers
    (excluded workers left out), worker estimates, skill, spammer flags and gold counts
    stored, items updated. Returns whether it stored a fit; ``False`` when nothing changed
    since the last one (so running it again is harmless) or a newer fit got there first.

    The fit reads a snapshot without locks. Then, locking the batch, it stores the model and
    the worker rows unless a newer fit is already stored; then, in chunks of items locked by
    id, each item takes its result — or, when answers arrived since the snapshot, is
    combined again from its own answers with the new estimates. Completion stays as it is
    (a complete item is not reopened by a fit); an open item that has become confident
    enough completes.
    """
    batch = Batch.objects.exclude(status=Batch.Status.DRAFT).filter(pk=batch_id).first()
    if batch is None:
        return False
    last = Answer.objects.filter(batch=batch).aggregate(last=Max("pk"))["last"] or 0
    version = batch.quality_version
    if last == batch.fit_through and version == batch.fit_version and batch.fitted_at:
        return False
    excluded = set(
        BatchWorker.objects.filter(batch=batch, excluded=True).values_list("worker_id", flat=True)
    )
    items = list(
        Item.objects.filter(batch=batch).order_by("pk").values_list("pk", "is_gold", "gold_answer")
    )
    gold = {pk: answer for pk, is_gold, answer in items if is_gold and answer}
    gold_counts: dict[int, tuple[int, int]] = {}
    totals: dict[int, int] = {}
    counted: list[tuple[int, int, dict[str, Any]]] = []
    for item_id, worker_id, data in (
        Answer.objects.filter(batch=batch, pk__lte=last)
        .order_by("item_id", "pk")
        .values_list("item_id", "worker_id", "data")
        .iterator(chunk_size=5000)
    ):
        totals[item_id] = totals.get(item_id, 0) + 1
        if item_id in gold:
            n, ok = gold_counts.get(worker_id, (0, 0))
            gold_counts[worker_id] = (
                n + 1,
                ok + int(gold_matches(batch.form, gold[item_id], data)),
            )
        if worker_id not in excluded:
            counted.append((item_id, worker_id, data))
    fit = batch_fit(
        form=batch.form,
        method=batch.aggregation_method,
        item_ids=[pk for pk, _g, _a in items],
        answers=counted,
        gold=gold,
        gold_counts=gold_counts,
    )
    now = timezone.now()
    with transaction.atomic(durable=True):
        batch = Batch.objects.select_for_update(no_key=True).get(pk=batch.pk)
        if batch.fit_through > last or (batch.fit_through == last and batch.fit_version > version):
            return False
        batch.quality_model = fit.model
        batch.fit_answers = len(counted)
        batch.fit_through = last
        batch.fit_version = version
        batch.fitted_at = now
        batch.save(
            update_fields=[
                "quality_model",
                "fit_answers",
                "fit_through",
                "fit_version",
                "fitted_at",
            ]
        )
        _batch_workers_store_unlocked(batch=batch, fit=fit, gold_counts=gold_counts)
    ids = [pk for pk, _g, _a in items]
    for start in range(0, len(ids), ITEM_CHUNK):
        chunk = ids[start : start + ITEM_CHUNK]
        with transaction.atomic(durable=True):
            current = Batch.objects.filter(pk=batch.pk, fit_through=last, fit_version=version)
            fitted = current.first()
            if fitted is None:
                break  # a newer fit stores its own results
            changed = []
            for item in (
                Item.objects.select_for_update(no_key=True).filter(pk__in=chunk).order_by("pk")
            ):
                before = [getattr(item, name) for name in ITEM_FIELDS]
                if item.answers_count == totals.get(item.pk, 0):
                    result = fit.items[item.pk]
                    item.aggregated_answer = result.answer
                    item.confidence = result.confidence
                    item.aggregate_details = result.details
                    _item_settle_unlocked(
                        item=item,
                        batch=fitted,
                        counted=fit.counted[item.pk],
                        now=now,
                        reopen=False,
                    )
                else:
                    _item_recombine_unlocked(item=item, batch=fitted, now=now, reopen=False)
                if [getattr(item, name) for name in ITEM_FIELDS] != before:
                    changed.append(item)
            Item.objects.bulk_update(changed, ITEM_FIELDS, batch_size=ITEM_CHUNK)
    return True


def _batch_workers_store_unlocked(
    *, batch: Batch, fit: Any, gold_counts: dict[int, tuple[int, int]]
) -> None:
    """Store each worker's estimate, skill and spammer flag from the fit, and their gold
    counts recounted from the answers. Workers left out of the fit (excluded) keep their
    last estimates."""
    worker_ids = sorted(set(fit.workers) | set(gold_counts))
    existing = {
        row.worker_id: row
        for row in BatchWorker.objects.select_for_update(no_key=True)
        .filter(batch=batch, worker_id__in=worker_ids)
        .order_by("pk")
    }
    new = [BatchWorker(batch=batch, worker_id=w) for w in worker_ids if w not in existing]
    if new:
        BatchWorker.objects.bulk_create(new, ignore_conflicts=True)
        existing = {
            row.worker_id: row
            for row in BatchWorker.objects.select_for_update(no_key=True)
            .filter(batch=batch, worker_id__in=worker_ids)
            .order_by("pk")
        }
    rows = []
    for worker_id in worker_ids:
        row = existing[worker_id]
        row.gold_answers, row.gold_correct = gold_counts.get(worker_id, (0, 0))
        worker_fit = fit.workers.get(worker_id)
        if worker_fit is not None:
            row.estimate = worker_fit.estimate
            row.skill = worker_fit.skill
            row.spam_score = worker_fit.spam_score
            row.flagged_spammer = worker_fit.flagged
        row.updated_at = timezone.now()
        rows.append(row)
    BatchWorker.objects.bulk_update(
        rows,
        [
            "gold_answers",
            "gold_correct",
            "estimate",
            "skill",
            "spam_score",
            "flagged_spammer",
            "updated_at",
        ],
        batch_size=ITEM_CHUNK,
    )
    _worker_quality_refresh_unlocked(worker_ids=worker_ids)


def batches_aggregate_sweep() -> int:
    """Fit the published batches whose last fit is out of date and that the answer path will
    not fit soon: workers excluded or let back in since, or answers since the last fit while
    the batch is no longer open, has been quiet for ``REFIT_QUIET`` or was last fitted
    ``REFIT_STALE`` ago (a missed enqueue). Returns the number of batches fitted."""
    now = timezone.now()
    newest = (
        Answer.objects.filter(batch=OuterRef("pk"), pk__gt=OuterRef("fit_through"))
        .order_by("-pk")
        .values("created_at")[:1]
    )
    news = Q(newest__isnull=False) & (
        ~Q(status=Batch.Status.OPEN)
        | Q(newest__lte=now - REFIT_QUIET)
        | Q(fitted_at__isnull=True)
        | Q(fitted_at__lte=now - REFIT_STALE)
    )
    due = (
        Batch.objects.exclude(status=Batch.Status.DRAFT)
        .annotate(newest=Subquery(newest))
        .filter(news | ~Q(quality_version=F("fit_version")))
        .values_list("pk", flat=True)
    )
    return sum(1 for batch_id in list(due) if batch_aggregate(batch_id=batch_id))


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


# --- review ------------------------------------------------------------------------------------


def _reason_clean(reason: str, field: str, message: str) -> str:
    text = (reason or "").strip()
    if len(text) < 3:
        raise ValidationFailed(fields={field: message})
    if len(text) > 2000:
        raise ValidationFailed(fields={field: _("At most 2,000 characters.")})
    return text


def _approve_unlocked(
    *, answer: Answer, batch: Batch, escrow: LedgerAccount, user: User | None, now: datetime
) -> None:
    Answer.objects.filter(pk=answer.pk).update(
        status=Answer.Status.APPROVED, reviewed_by=user, reviewed_at=now
    )
    answer.status = Answer.Status.APPROVED
    _answer_pay_unlocked(answer=answer, batch=batch, escrow=escrow, created_by=user)


def answer_approve(*, answer_id: int, user: User) -> Answer:
    """Approve an answer and pay its reward from the escrow. Approving an approved answer
    again pays nothing. Locks: escrow, answer."""
    answer = answer_for_manager(answer_id=answer_id, user=user)
    escrow = _batch_escrow(answer.batch)
    with transaction.atomic(durable=True):
        account_lock(escrow)
        batch = Batch.objects.get(pk=answer.batch_id)
        answer = (
            Answer.objects.select_for_update(no_key=True).select_related("worker").get(pk=answer.pk)
        )
        if answer.status in Answer.PAID_STATUSES:
            return answer
        if answer.status != Answer.Status.PENDING:
            raise Conflict(_("This answer was already reviewed."), code=ErrorCode.ALREADY_REVIEWED)
        _approve_unlocked(answer=answer, batch=batch, escrow=escrow, user=user, now=timezone.now())
    return answer


def answer_reject(*, answer_id: int, user: User, reason: str) -> Answer:
    """Reject an answer with a reason the worker sees; they may appeal it once. Rejecting a
    rejected answer again changes nothing."""
    reason = _reason_clean(reason, "reason", _("Say why the answer is rejected."))
    answer = answer_for_manager(answer_id=answer_id, user=user)
    with transaction.atomic(durable=True):
        answer = Answer.objects.select_for_update(no_key=True).get(pk=answer.pk)
        if answer.status == Answer.Status.REJECTED:
            return answer
        if answer.status != Answer.Status.PENDING:
            raise Conflict(_("This answer was already reviewed."), code=ErrorCode.ALREADY_REVIEWED)
        answer.status = Answer.Status.REJECTED
        answer.reject_reason = reason
        answer.reviewed_by = user
        answer.reviewed_at = timezone.now()
        answer.save(update_fields=["status", "reject_reason", "reviewed_by", "reviewed_at"])
    return answer


def answers_review_bulk(
    *,
    batch_id: int,
    user: User,
    decision: str,
    reason: str = "",
    pseudonym: str | None = None,
    answer_ids: list[int] | None = None,
) -> int:
    """Approve or reject many pending answers at once: those of one worker (by pseudonym),
    or the given ids, or all pending answers of the batch. Returns how many changed."""
    if decision not in ("approve", "reject"):
        raise ValidationFailed(fields={"decision": _("Choose approve or reject.")})
    if decision == "reject":
        reason = _reason_clean(reason, "reason", _("Say why the answers are rejected."))
    batch = batch_for_manager(batch_id=batch_id, user=user)
    answers = Answer.objects.filter(batch=batch, status=Answer.Status.PENDING)
    if pseudonym:
        worker_id = worker_id_for_pseudonym(batch=batch, pseudonym=pseudonym)
        if worker_id is None:
            raise NotFound(_("No worker with this id in this batch."))
        answers = answers.filter(worker_id=worker_id)
    if answer_ids is not None:
        answers = answers.filter(pk__in=answer_ids)
    escrow = _batch_escrow(batch)
    now = timezone.now()
    with transaction.atomic(durable=True):
        account_lock(escrow)
        batch = Batch.objects.get(pk=batch.pk)
        locked = list(
            answers.select_for_update(no_key=True).select_related("worker").order_by("pk")
        )
        for answer in locked:
            if decision == "approve":
                _approve_unlocked(answer=answer, batch=batch, escrow=escrow, user=user, now=now)
        if decision == "reject" and locked:
            Answer.objects.filter(pk__in=[a.pk for a in locked]).update(
                status=Answer.Status.REJECTED,
                reject_reason=reason,
                reviewed_by=user,
                reviewed_at=now,
            )
    return len(locked)


def answer_appeal(*, answer_id: int, worker: User, message: str) -> Answer:
    """The worker appeals a rejection, once, within the appeal period. Locks: escrow (the
    settlement sweep decides on the same answers), answer."""
    message = _reason_clean(message, "message", _("Tell the client why your answer is right."))
    answer = answer_for_worker(answer_id=answer_id, user=worker)
    escrow = _batch_escrow(answer.batch)
    with transaction.atomic(durable=True):
        account_lock(escrow)
        answer = Answer.objects.select_for_update(no_key=True).get(pk=answer.pk)
        if answer.status in (
            Answer.Status.APPEALED,
            Answer.Status.UPHELD,
            Answer.Status.OVERTURNED,
        ):
            raise Conflict(_("You already appealed this answer."), code=ErrorCode.ALREADY_APPEALED)
        if answer.status != Answer.Status.REJECTED:
            raise Conflict(
                _("Only a rejected answer can be appealed."), code=ErrorCode.NOT_REJECTED
            )
        now = timezone.now()
        if answer.reviewed_at and answer.reviewed_at <= now - timedelta(days=appeal_days()):
            raise Conflict(
                _("The %(days)d days to appeal have passed.") % {"days": appeal_days()},
                code=ErrorCode.APPEAL_CLOSED,
            )
        answer.status = Answer.Status.APPEALED
        answer.appeal_message = message
        answer.appealed_at = now
        answer.save(update_fields=["status", "appeal_message", "appealed_at"])
    return answer


def appeal_decide(*, answer_id: int, user: User | None, overturn: bool, note: str = "") -> Answer:
    """The client (or staff) decides an appeal: *overturn* approves and pays the answer,
    *uphold* keeps the rejection (with a note for the worker). Deciding the same way again
    changes nothing; ``user=None`` is the sweep deciding an appeal nobody answered.
    Locks: escrow, answer."""
    if not overturn:
        note = _reason_clean(note, "note", _("Tell the worker why the rejection stands."))
    if user is None:
        answer = Answer.objects.select_related("batch").filter(pk=answer_id).first()
        if answer is None:
            raise NotFound(_("Answer not found."))
    else:
        answer = answer_for_manager(answer_id=answer_id, user=user, allow_staff=True)
    escrow = _batch_escrow(answer.batch)
    with transaction.atomic(durable=True):
        account_lock(escrow)
        batch = Batch.objects.get(pk=answer.batch_id)
        answer = (
            Answer.objects.select_for_update(no_key=True).select_related("worker").get(pk=answer.pk)
        )
        wanted = Answer.Status.OVERTURNED if overturn else Answer.Status.UPHELD
        if answer.status == wanted:
            return answer
        if answer.status != Answer.Status.APPEALED:
            raise Conflict(_("This answer has no open appeal."), code=ErrorCode.NO_APPEAL)
        answer.status = wanted
        answer.appeal_note = (note or "").strip()
        answer.appeal_decided_by = user
        answer.appeal_decided_at = timezone.now()
        answer.save(
            update_fields=["status", "appeal_note", "appeal_decided_by", "appeal_decided_at"]
        )
        if overturn:
            _answer_pay_unlocked(answer=answer, batch=batch, escrow=escrow, created_by=user)
    return answer


# --- sweeps (run by tasks.py; each idempotent) ---------------------------------------------------

SWEEP_CHUNK = 500


def answers_auto_approve(*, now: datetime | None = None) -> int:
    """Approve (and pay) answers nobody reviewed within the review period."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=review_days())
    total = 0
    batch_ids = (
        Answer.objects.filter(status=Answer.Status.PENDING, created_at__lte=cutoff)
        .order_by()
        .values_list("batch_id", flat=True)
        .distinct()
    )
    for batch_id in list(batch_ids):
        batch = Batch.objects.get(pk=batch_id)
        escrow = _batch_escrow(batch)
        while True:
            with transaction.atomic(durable=True):
                account_lock(escrow)
                batch = Batch.objects.get(pk=batch_id)
                due = list(
                    Answer.objects.select_for_update(no_key=True)
                    .select_related("worker")
                    .filter(batch_id=batch_id, status=Answer.Status.PENDING, created_at__lte=cutoff)
                    .order_by("pk")[:SWEEP_CHUNK]
                )
                for answer in due:
                    _approve_unlocked(answer=answer, batch=batch, escrow=escrow, user=None, now=now)
            total += len(due)
            if len(due) < SWEEP_CHUNK:
                break
    return total


def appeals_auto_overturn(*, now: datetime | None = None) -> int:
    """Decide in the worker's favour every appeal left undecided for the appeal period."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=appeal_days())
    ids = list(
        Answer.objects.filter(status=Answer.Status.APPEALED, appealed_at__lte=cutoff)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    for answer_id in ids:
        appeal_decide(answer_id=answer_id, user=None, overturn=True)
    return len(ids)


def batches_settle(*, now: datetime | None = None) -> int:
    """Refund what closed batches no longer owe. Returns the number of batches refunded."""
    from trefpunt.ledger.models import AccountKind

    refs = LedgerAccount.objects.filter(
        kind=AccountKind.ESCROW, reference__startswith="batch:", balance__gt=0
    ).values_list("reference", flat=True)
    ids = [int(ref.split(":", 1)[1]) for ref in refs if ref.split(":", 1)[1].isdigit()]
    refunded = 0
    for batch_id in Batch.objects.filter(pk__in=ids, status=Batch.Status.CLOSED).values_list(
        "pk", flat=True
    ):
        if batch_settle(batch_id=batch_id, now=now):
            refunded += 1
    return refunded


def batches_fair_pay_sweep() -> int:
    """Run the fair-pay check on every open batch with enough answers."""
    paused = 0
    for batch_id in Batch.objects.filter(status=Batch.Status.OPEN).values_list("pk", flat=True):
        if batch_fair_pay_check(batch_id=batch_id):
            paused += 1
    return paused
