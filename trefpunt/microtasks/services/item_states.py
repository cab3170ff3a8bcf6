"""An item's state follows its confidence, and a batch with nothing left to do closes.

An item is *open* (it takes answers), *complete* (confident enough, or a test question with
its answers), *needs review* (it reached the batch's maximum answers, or the batch closed,
while its confidence is below the target: the client should look at it instead of the
platform pretending) or *closed early* (the batch closed before it had answers enough).

An item stops before its maximum only by the stopping rule (``stopping``: the calibrated
stopping confidence at the target, with enough distinct workers behind the leading answer;
the same rule as the replay and the CLI), which stops nothing until the batch can be
calibrated. The per-answer update decides with the estimates of the last full fit; a full
fit may then lower (or raise) an item's confidence. After every fit (and after an
exclusion) each item is settled again with ``reopen``: a complete item that no longer has
enough reopens for more answers up to the maximum, which publishing funded, so no money has
to move; one at the maximum (or in a closed batch) below the target needs review; an item
needing review whose confidence reached the target is complete. A running batch with
nothing left to answer — no open item, no live lease, its last fit up to date — closes once
it has been quiet for ``done_close_after()`` (``batches_finish_sweep``), which refunds the
escrow for the answers never needed. The wait leaves the client time to exclude a spammer,
which reopens items while the batch runs.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from trefpunt.core.exceptions import Conflict
from trefpunt.ledger.funded import work_escrow_lock

from ..aggregation.adaptive import DEFAULT_MIN_AGREEING, may_stop
from ..models import Answer, Batch, Item, Lease
from ..states import BATCH_RUN, batch_is_running


def item_is_uncertain(*, item: Item, batch: Batch) -> bool:
    """Below the batch's confidence target (test questions and items without a confidence
    never are)."""
    return (
        not item.is_gold
        and item.confidence is not None
        and item.confidence < batch.confidence_target
    )


def item_has_enough(*, item: Item, batch: Batch, counted: int) -> bool:
    """Whether an item needs no more answers: its maximum; for a test question its target
    (the maximum); otherwise the minimum counted answers and the stopping rule
    (``stopping``: the calibrated stopping confidence at the batch's target with enough
    distinct workers behind the leading answer) — or, for a form whose primary field is not
    single choice, its confidence at the target."""
    if item.answers_count >= batch.max_answers:
        return True
    if item.is_gold:
        return item.answers_count >= item.answers_target
    if counted < batch.min_answers:
        return False
    stop = (item.aggregate_details or {}).get("stop")
    if stop is not None:
        return bool(
            may_stop(
                stop["confidence"],
                counted,
                stop["agreeing"],
                target=batch.confidence_target,
                min_answers=batch.min_answers,
                min_agreeing=DEFAULT_MIN_AGREEING,
            )
        )
    return not item_is_uncertain(item=item, batch=batch)


def item_settle_unlocked(
    *, item: Item, batch: Batch, counted: int, now: datetime, reopen: bool
) -> None:
    """Move the item to the state its answers and confidence call for (in memory; the caller
    holds the item's row lock and saves ``aggregation.ITEM_FIELDS``).

    An open item completes when it has enough (needs review when it has them only because it
    reached the maximum while uncertain), or gets one more slot when full but uncertain.
    With ``reopen`` (after a full fit or an exclusion) a finished item follows its new
    confidence: a complete one that no longer has enough opens again while the batch runs
    and the maximum leaves room, otherwise it needs review; one needing review that became
    certain is complete."""
    enough = item_has_enough(item=item, batch=batch, counted=counted)
    uncertain = item_is_uncertain(item=item, batch=batch)
    if item.status == Item.Status.OPEN:
        if enough:
            item.status = Item.Status.REVIEW if uncertain else Item.Status.COMPLETE
            item.completed_at = now
        elif item.answers_count >= item.answers_target:
            item.answers_target = item.answers_count + 1
        return
    if not reopen or item.is_gold:
        return
    if item.status == Item.Status.COMPLETE and not enough and batch_is_running(batch):
        missing = max(1, batch.min_answers - counted)
        item.status = Item.Status.OPEN
        item.completed_at = None
        item.answers_target = max(
            item.answers_target, min(batch.max_answers, item.answers_count + missing)
        )
    elif item.status == Item.Status.COMPLETE and uncertain:
        item.status = Item.Status.REVIEW
    elif item.status == Item.Status.REVIEW and not uncertain:
        item.status = Item.Status.COMPLETE


def batch_is_done(*, batch: Batch, now: datetime) -> bool:
    """Nothing left to answer: no open item and no live lease."""
    if Item.objects.filter(batch=batch, status=Item.Status.OPEN).exists():
        return False
    return not Lease.objects.filter(
        batch=batch, status=Lease.Status.ACTIVE, expires_at__gt=now
    ).exists()


def batch_finish_if_done(*, batch_id: int) -> bool:
    """Close a running batch that has nothing left to answer, refunding what its escrow no
    longer owes (``batch_close``'s money rule). Idempotent; returns whether it closed the
    batch.

    Locks: escrow, batch, then (refund) the items with active leases — the order of
    ``batch_close``. Checked again under the batch lock, and an answer in flight holds its
    item's lock, which the refund's lease settling waits for."""
    from .funding import refund_excess_unlocked

    batch = Batch.objects.filter(pk=batch_id).first()
    if (
        batch is None
        or not batch_is_running(batch)
        or not batch_is_done(batch=batch, now=timezone.now())
    ):
        return False
    with transaction.atomic(durable=True):
        escrow = work_escrow_lock(batch.funded_work)
        batch = Batch.objects.select_for_update(no_key=True).get(pk=batch.pk)
        now = timezone.now()
        if not batch_is_running(batch) or not batch_is_done(batch=batch, now=now):
            return False
        try:
            BATCH_RUN.move(
                batch,
                Batch.Status.CLOSED,
                action=_("close the batch"),
                event="completed",
                pause_reason=Batch.PauseReason.NONE,
                closed_at=now,
            )
        except Conflict:
            return False
        refund_excess_unlocked(batch=batch, escrow=escrow, now=now, created_by=None)
    return True


# A full fit stores its model first, then its items in chunks; by this long after it stored
# the model it has stored every item (reopened ones included).
FIT_SETTLED = timedelta(minutes=10)


def done_close_after() -> timedelta:
    """How long a batch with nothing left to answer stays open before it closes itself."""
    return timedelta(hours=float(getattr(settings, "MICROTASK_DONE_CLOSE_HOURS", 24)))


def batches_finish_sweep(*, now: datetime | None = None) -> int:
    """Close the running batches that have had nothing left to answer for
    ``done_close_after()``: no open item, no answer since their last fit (which settled
    every item) and none in that time, and that fit finished storing its items (it was
    stored ``FIT_SETTLED`` ago; an exclusion since asks for a new one). Returns the number
    closed."""
    now = now or timezone.now()
    open_items = Item.objects.filter(batch=OuterRef("pk"), status=Item.Status.OPEN)
    unfitted = Answer.objects.filter(batch=OuterRef("pk"), pk__gt=OuterRef("fit_through"))
    recent = Answer.objects.filter(batch=OuterRef("pk"), created_at__gt=now - done_close_after())
    due = (
        Batch.objects.filter(
            status__in=[Batch.Status.OPEN, Batch.Status.PAUSED],
            fitted_at__lte=now - FIT_SETTLED,
            fit_version=F("quality_version"),
        )
        .exclude(Exists(open_items))
        .exclude(Exists(unfitted))
        .exclude(Exists(recent))
        .values_list("pk", flat=True)
    )
    return sum(1 for batch_id in list(due) if batch_finish_if_done(batch_id=batch_id))
