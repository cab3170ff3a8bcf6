"""Microtask batches can be reported (``moderation.registry``) and taken down by staff:
the batch closes, answers already given are still reviewed and paid, everything else in
its escrow goes back to the client, and its workers are told."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from trefpunt.core.exceptions import NotFound
from trefpunt.ledger.funded import work_escrow_lock
from trefpunt.moderation.registry import TakenDown, reportable_register

from .models import Answer, Batch, Item, Lease
from .services.aggregation import aggregate_on_commit
from .services.funding import refund_excess_unlocked
from .states import BATCH_RUN

if TYPE_CHECKING:
    from trefpunt.accounts.models import User


def batch_take_down(*, batch_id: int, staff: User) -> tuple[Batch, int, list[int]]:
    """Close a batch for breaking the rules, like ``batch_close`` but by staff and with
    the ``taken_down`` event. Locks escrow → batch (the order every batch service keeps).
    Returns the batch, the refund and the workers to tell."""
    if not staff.is_staff:
        raise NotFound(_("Batch not found."))
    batch = Batch.objects.filter(pk=batch_id).first()
    if batch is None:
        raise NotFound(_("Batch not found."))
    if not BATCH_RUN.can(batch, Batch.Status.CLOSED):
        raise BATCH_RUN.wrong_state(batch, _("take down"))
    published = batch.status != Batch.Status.DRAFT
    with transaction.atomic(durable=True):
        escrow = work_escrow_lock(batch.funded_work) if published else None
        locked = Batch.objects.select_for_update(no_key=True).get(pk=batch.pk)
        now = timezone.now()
        BATCH_RUN.move(
            locked,
            Batch.Status.CLOSED,
            action=_("take down"),
            actor=staff,
            event="taken_down",
            pause_reason=Batch.PauseReason.NONE,
            closed_at=now,
        )
        Item.objects.filter(batch=locked, status=Item.Status.OPEN).update(
            status=Item.Status.CLOSED, completed_at=now
        )
        refunded = 0
        if escrow is not None:
            refunded = refund_excess_unlocked(
                batch=locked, escrow=escrow, now=now, created_by=staff
            )
            aggregate_on_commit(locked.pk)
        workers = set(Answer.objects.filter(batch=locked).values_list("worker_id", flat=True))
        workers |= set(Lease.objects.filter(batch=locked).values_list("worker_id", flat=True))
    return Batch.objects.get(pk=batch.pk), refunded, sorted(workers)


def _take_down(batch: Batch, staff: User, reason: str) -> TakenDown:
    taken, refunded, workers = batch_take_down(batch_id=batch.pk, staff=staff)
    return TakenDown(refunded=refunded, currency=taken.currency, told=workers)


def register() -> None:
    reportable_register(
        "microtasks.batch",
        model=Batch,
        label=gettext_lazy("microtask batch"),
        author_field="owner",
        visible_to=lambda batch, user: batch.status != Batch.Status.DRAFT,
        title=lambda batch: batch.title,
        url=lambda batch: reverse("microtasks:batch_detail", kwargs={"pk": batch.pk}),
        take_down=_take_down,
    )
