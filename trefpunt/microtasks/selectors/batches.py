"""What a client sees of their batches: lists, funding, money, progress, the review
queue, workers, results; and the words on wallet lines about batches."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from trefpunt.core.money import format_cents
from trefpunt.ledger.funded import funding_quote
from trefpunt.ledger.references import ReferenceLabel

from ..models import Answer, AnswerTally, Batch, BatchWorker, Item, Lease
from .access import batches_managed_by
from .rules import (
    answer_cost,
    batch_median_seconds,
    hourly_cents,
    min_hourly_cents,
    reward_for_hourly,
    worker_pseudonym,
)

if TYPE_CHECKING:
    from trefpunt.accounts.models import User


# --- the client's view of a batch ------------------------------------------------------


def batches_for_client(*, user: User) -> QuerySet[Batch]:
    items_total = (
        Item.objects.filter(batch=OuterRef("pk"))
        .order_by()
        .values("batch")
        .annotate(n=Count("pk"))
        .values("n")
    )
    items_done = (
        Item.objects.filter(batch=OuterRef("pk"))
        .exclude(status=Item.Status.OPEN)
        .order_by()
        .values("batch")
        .annotate(n=Count("pk"))
        .values("n")
    )
    answers = (
        Answer.objects.filter(batch=OuterRef("pk"))
        .order_by()
        .values("batch")
        .annotate(n=Count("pk"))
        .values("n")
    )
    pending = (
        Answer.objects.filter(
            batch=OuterRef("pk"),
            status__in=[Answer.Status.PENDING, Answer.Status.APPEALED],
        )
        .order_by()
        .values("batch")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return (
        batches_managed_by(user=user)
        .select_related("organisation")
        .annotate(
            n_items=Coalesce(Subquery(items_total), 0),
            n_done=Coalesce(Subquery(items_done), 0),
            n_answers=Coalesce(Subquery(answers), 0),
            n_to_review=Coalesce(Subquery(pending), 0),
        )
        .order_by("-created_at", "-id")
    )


@dataclass(frozen=True)
class Funding:
    items: int
    slots: int
    cost_per_answer: int
    reward: int
    fee_per_answer: int
    fee_bps: int
    total: int
    balance: int
    shortfall: int
    deposit_amount: int
    currency: str
    wallet_label: str


def batch_answers_received(*, batch_id: int) -> int:
    """The batch's answers so far as its answer tally counts them (``AnswerTally``)."""
    total = AnswerTally.objects.filter(batch_id=batch_id).aggregate(n=Sum("answers"))["n"]
    return int(total or 0)


def batch_funding(*, batch: Batch) -> Funding:
    """What publishing costs and whether the paying wallet holds it (``funding_quote``)."""
    fee_bps = int(settings.FEES_BPS["microtask"]["client"])
    items = Item.objects.filter(batch=batch).count()
    slots = items * batch.max_answers
    cost = answer_cost(reward=batch.reward, client_fee_bps=fee_bps)
    quote = funding_quote(work=batch.funded_work, total=slots * cost)
    label = batch.organisation.name if batch.organisation else _("your wallet")
    return Funding(
        items=items,
        slots=slots,
        cost_per_answer=cost,
        reward=batch.reward,
        fee_per_answer=cost - batch.reward,
        fee_bps=fee_bps,
        total=quote.total,
        balance=quote.balance,
        shortfall=quote.shortfall,
        deposit_amount=quote.deposit_amount,
        currency=batch.currency,
        wallet_label=str(label),
    )


@dataclass(frozen=True)
class Money:
    funded: int
    rewards_paid: int
    fees_paid: int
    refunded: int
    in_escrow: int

    @property
    def spent(self) -> int:
        return self.rewards_paid + self.fees_paid


def batch_money(*, batch: Batch) -> Money:
    """The batch's money as the ledger records it (one query): funded into escrow, paid to
    workers, fees to the platform, refunded to the client, still in escrow."""
    from trefpunt.ledger.models import AccountKind, EntryKind, Posting

    rows = (
        Posting.objects.filter(entry__reference=batch.escrow_reference)
        .values_list("entry__kind", "account__kind")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    totals: dict[tuple[str, str], int] = {(e, a): t for e, a, t in rows}
    funded = totals.get((EntryKind.ESCROW_FUND, AccountKind.ESCROW), 0)
    refunded = -totals.get((EntryKind.ESCROW_REFUND, AccountKind.ESCROW), 0)
    rewards = totals.get((EntryKind.ESCROW_RELEASE, AccountKind.WALLET), 0)
    fees = totals.get((EntryKind.ESCROW_RELEASE, AccountKind.PLATFORM_REVENUE), 0)
    released = -totals.get((EntryKind.ESCROW_RELEASE, AccountKind.ESCROW), 0)
    return Money(
        funded=funded,
        rewards_paid=rewards,
        fees_paid=fees,
        refunded=refunded,
        in_escrow=funded - released - refunded,
    )


@dataclass(frozen=True)
class Progress:
    items: int
    items_done: int
    items_complete: int
    items_review: int
    answers: int
    answers_target: int
    pending_review: int
    appeals: int
    approved: int
    rejected: int
    live_leases: int
    median_seconds: float | None
    hourly: int | None
    answers_last_hour: int
    eta: timedelta | None
    money: Money

    @property
    def to_review(self) -> int:
        """Answers waiting for the client's decision: pending ones and appeals (the batch
        list counts the same; the escrow keeps the reward of each until it is decided)."""
        return self.pending_review + self.appeals

    @property
    def percent(self) -> int:
        if not self.answers_target:
            return 0
        return min(100, int(100 * self.answers / self.answers_target))


def batch_progress(*, batch: Batch, now: datetime | None = None) -> Progress:
    """Items done, answers, spend and an ETA from the last hour's throughput."""
    now = now or timezone.now()
    items = Item.objects.filter(batch=batch).aggregate(
        total=Count("pk"),
        done=Count("pk", filter=~Q(status=Item.Status.OPEN)),
        complete=Count("pk", filter=Q(status=Item.Status.COMPLETE)),
        review=Count("pk", filter=Q(status=Item.Status.REVIEW)),
        answers=Coalesce(Sum("answers_count"), 0),
        target=Coalesce(Sum("answers_target", filter=Q(status=Item.Status.OPEN)), 0),
        answered_done=Coalesce(Sum("answers_count", filter=~Q(status=Item.Status.OPEN)), 0),
    )
    answers = Answer.objects.filter(batch=batch).aggregate(
        pending=Count("pk", filter=Q(status=Answer.Status.PENDING)),
        appeals=Count("pk", filter=Q(status=Answer.Status.APPEALED)),
        approved=Count("pk", filter=Q(status__in=Answer.PAID_STATUSES)),
        rejected=Count("pk", filter=Q(status__in=[Answer.Status.REJECTED, Answer.Status.UPHELD])),
        recent=Count("pk", filter=Q(created_at__gt=now - timedelta(hours=1))),
    )
    live = Lease.objects.filter(batch=batch, status=Lease.Status.ACTIVE, expires_at__gt=now).count()
    # The cached median (kept fresh by the fair-pay check and its sweep) spares a scan of
    # every answer of a large batch on each page view.
    median: float | None = float(batch.median_seconds) if batch.median_seconds else None
    if median is None:
        _n, median = batch_median_seconds(batch_id=batch.pk)
    target = items["target"] + items["answered_done"]
    remaining = max(0, target - items["answers"])
    eta = None
    if batch.status == Batch.Status.OPEN and answers["recent"] and remaining:
        eta = timedelta(hours=remaining / answers["recent"])
    return Progress(
        items=items["total"],
        items_done=items["done"],
        items_complete=items["complete"],
        items_review=items["review"],
        answers=items["answers"],
        answers_target=target,
        pending_review=answers["pending"],
        appeals=answers["appeals"],
        approved=answers["approved"],
        rejected=answers["rejected"],
        live_leases=live,
        median_seconds=median,
        hourly=hourly_cents(reward=batch.reward, seconds=median),
        answers_last_hour=answers["recent"],
        eta=eta,
        money=batch_money(batch=batch),
    )


def fair_pay_advice(*, batch: Batch) -> dict[str, Any] | None:
    """For a batch paused for fair pay: the median, current hourly pay and the reward needed."""
    if batch.pause_reason != Batch.PauseReason.FAIR_PAY:
        return None
    _n, median = batch_median_seconds(batch_id=batch.pk)
    seconds = median or batch.estimated_seconds
    minimum = min_hourly_cents()
    return {
        "median_seconds": seconds,
        "hourly": hourly_cents(reward=batch.reward, seconds=seconds),
        "minimum_hourly": minimum,
        "reward_needed": reward_for_hourly(hourly=minimum, seconds=seconds),
        "minimum_hourly_text": format_cents(minimum, batch.currency),
    }


# --- answers: review queue, per item, per worker, the worker's history ------------------


def answers_for_review(*, batch: Batch, status: str | None = None) -> QuerySet[Answer]:
    answers = Answer.objects.filter(batch=batch).select_related("item")
    if status:
        answers = answers.filter(status=status)
    return answers.order_by("created_at", "id")


def batch_workers(*, batch: Batch) -> list[dict[str, Any]]:
    """One row per worker of the batch: pseudonym, answers by status, mean seconds, and the
    quality figures: gold answers and accuracy with its 95 % Wilson interval, Dawid-Skene
    skill, spammer score and flag, exclusion. Likely spammers first, then by answers. Two
    queries however many workers."""
    from ..quality import gold_interval

    rows = (
        Answer.objects.filter(batch=batch)
        .order_by()
        .values("worker_id")
        .annotate(
            answers=Count("pk"),
            pending=Count("pk", filter=Q(status=Answer.Status.PENDING)),
            approved=Count("pk", filter=Q(status__in=Answer.PAID_STATUSES)),
            rejected=Count(
                "pk", filter=Q(status__in=[Answer.Status.REJECTED, Answer.Status.UPHELD])
            ),
            appealed=Count("pk", filter=Q(status=Answer.Status.APPEALED)),
            seconds=Sum("working_seconds"),
        )
        .order_by("-answers", "worker_id")
    )
    flags = {
        bw.worker_id: bw
        for bw in BatchWorker.objects.filter(batch=batch).only(
            "worker_id",
            "excluded",
            "flagged_spammer",
            "gold_answers",
            "gold_correct",
            "skill",
            "spam_score",
        )
    }
    result: list[dict[str, Any]] = []
    for row in rows:
        info = flags.get(row["worker_id"])
        result.append(
            {
                **row,
                "pseudonym": worker_pseudonym(batch_id=batch.pk, user_id=row["worker_id"]),
                "mean_seconds": row["seconds"] / row["answers"] if row["answers"] else None,
                "excluded": bool(info and info.excluded),
                "flagged_spammer": bool(info and info.flagged_spammer),
                "gold_answers": info.gold_answers if info else 0,
                "gold_correct": info.gold_correct if info else 0,
                "gold_accuracy": (
                    info.gold_correct / info.gold_answers if info and info.gold_answers else None
                ),
                "gold_interval": gold_interval(info.gold_correct, info.gold_answers)
                if info
                else None,
                "skill": info.skill if info else None,
                "spam_score": info.spam_score if info else None,
            }
        )
    result.sort(key=lambda r: (not r["flagged_spammer"], -r["answers"], r["worker_id"]))
    return result


def worker_id_for_pseudonym(*, batch: Batch, pseudonym: str) -> int | None:
    worker_ids = (
        Answer.objects.filter(batch=batch).order_by().values_list("worker_id", flat=True).distinct()
    )
    for worker_id in worker_ids:
        if worker_pseudonym(batch_id=batch.pk, user_id=worker_id) == pseudonym:
            return int(worker_id)
    return None


RESULT_FILTERS = ("all", "uncertain", "review", "gold")


def batch_results(*, batch: Batch, show: str = "all") -> QuerySet[Item]:
    """Items with their combined answer, least certain first (items without answers last),
    answers prefetched. ``show``: ``all``, ``uncertain`` (answered, below the batch's
    confidence target), ``review`` (finished below the target: ``Item.Status.REVIEW``) or
    ``gold`` (test questions)."""
    items = Item.objects.filter(batch=batch)
    if show == "uncertain":
        items = items.filter(confidence__lt=batch.confidence_target)
    elif show == "review":
        items = items.filter(status=Item.Status.REVIEW)
    elif show == "gold":
        items = items.filter(is_gold=True)
    return items.prefetch_related("answers").order_by(
        F("confidence").asc(nulls_last=True), "position"
    )


def batch_excluded_workers(*, batch: Batch) -> set[int]:
    return set(
        BatchWorker.objects.filter(batch=batch, excluded=True).values_list("worker_id", flat=True)
    )


def batch_quality_summary(*, batch: Batch) -> dict[str, Any]:
    """For the overview: items combined, below the target, flagged workers, last fit."""
    items = Item.objects.filter(batch=batch).aggregate(
        combined=Count("pk", filter=Q(confidence__isnull=False)),
        uncertain=Count("pk", filter=Q(confidence__lt=batch.confidence_target)),
    )
    flagged = BatchWorker.objects.filter(batch=batch, flagged_spammer=True, excluded=False).count()
    return {**items, "flagged": flagged, "fitted_at": batch.fitted_at}


def items_with_answers(*, batch: Batch) -> QuerySet[Item]:
    return Item.objects.filter(batch=batch).prefetch_related("answers").order_by("position")


def appeals_open_for_staff() -> QuerySet[Answer]:
    return (
        Answer.objects.filter(status=Answer.Status.APPEALED)
        .select_related("batch", "item")
        .order_by("appealed_at", "id")
    )


def batch_reference_labels(ids: Sequence[int]) -> dict[int, ReferenceLabel]:
    """Wallet lines about batches: "Microtasks: <title>", linked to the batch's public page
    (which also leads its client to the management pages)."""
    return {
        pk: ReferenceLabel(
            label=_("Microtasks: %(title)s") % {"title": title},
            url=reverse("microtasks:batch_detail", kwargs={"pk": pk}),
        )
        for pk, title in Batch.objects.filter(pk__in=ids).values_list("pk", "title")
    }
