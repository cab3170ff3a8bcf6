"""Time-driven rules, run by ``tasks.py``; each is idempotent and safe to run twice or
concurrently."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F, OuterRef, Q, Subquery
from django.utils import timezone

from trefpunt.ledger.funded import Work, work_escrow_lock
from trefpunt.ledger.models import LedgerAccount

from ..models import Answer, Batch, Lease
from ..selectors import appeal_days, review_days
from .aggregation import REFIT_QUIET, REFIT_STALE, batch_aggregate
from .funding import batch_settle
from .lifecycle import batch_fair_pay_check
from .review import answers_approve_unlocked, appeal_decide

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
        work = Batch.objects.get(pk=batch_id).funded_work
        while True:
            approved = _answers_auto_approve_chunk(
                work=work, batch_id=batch_id, cutoff=cutoff, now=now
            )
            total += approved
            if approved < SWEEP_CHUNK:
                break
    return total


def _answers_auto_approve_chunk(
    *, work: Work, batch_id: int, cutoff: datetime, now: datetime
) -> int:
    """Approve and pay up to ``SWEEP_CHUNK`` overdue answers of one batch in one short
    transaction. Locks: escrow, answers, the workers' wallets."""
    with transaction.atomic(durable=True):
        escrow = work_escrow_lock(work)
        batch = Batch.objects.get(pk=batch_id)
        due = list(
            Answer.objects.select_for_update(no_key=True)
            .filter(batch_id=batch_id, status=Answer.Status.PENDING, created_at__lte=cutoff)
            .order_by("pk")[:SWEEP_CHUNK]
        )
        if due:
            answers_approve_unlocked(answers=due, batch=batch, escrow=escrow, user=None, now=now)
    return len(due)


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


def leases_expire(*, now: datetime | None = None) -> int:
    """Tidy-up: mark leases whose time ran out. Correctness never depends on it (a lease is
    live only while ``expires_at`` is in the future); it keeps the active set small."""
    now = now or timezone.now()
    return Lease.objects.filter(status=Lease.Status.ACTIVE, expires_at__lte=now).update(
        status=Lease.Status.EXPIRED, finished_at=now
    )


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
