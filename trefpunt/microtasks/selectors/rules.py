"""The rules behind what a worker may do and what a batch costs and pays: the platform's
settings, pay arithmetic, qualification, the appeal window."""

from __future__ import annotations

import hashlib
import hmac
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.db.models import Count, Q
from django.utils.translation import gettext as _

from trefpunt.core.exceptions import (
    ApplicationError,
    Conflict,
    ErrorCode,
    PermissionDenied,
)
from trefpunt.core.money import split_bps

from ..models import Answer, Batch, BatchWorker, QualificationAttempt, WorkerQuality
from ..states import ANSWER_STATES

if TYPE_CHECKING:
    from trefpunt.accounts.models import User


# --- settings ------------------------------------------------------------------------


def min_hourly_cents() -> int:
    """The platform's minimum effective hourly pay for microtasks, in cents."""
    return int(getattr(settings, "MICROTASK_MIN_HOURLY_CENTS", 1400))


def fair_pay_min_answers() -> int:
    return int(getattr(settings, "MICROTASK_FAIR_PAY_MIN_ANSWERS", 20))


def review_days() -> int:
    """Answers not reviewed within this many days are approved automatically."""
    return int(getattr(settings, "MICROTASK_REVIEW_DAYS", 3))


def appeal_days() -> int:
    """A rejected answer can be appealed for this many days; an appeal not decided within
    this many days is decided in the worker's favour."""
    return int(getattr(settings, "MICROTASK_APPEAL_DAYS", 7))


# --- small calculations ----------------------------------------------------------------


def answer_cost(*, reward: int, client_fee_bps: int) -> int:
    """What one answer takes from the escrow: the reward plus the client fee on it."""
    return reward + split_bps(reward, client_fee_bps)


def hourly_cents(*, reward: int, seconds: float | None) -> int | None:
    """Effective hourly pay of ``reward`` cents per task at ``seconds`` per task."""
    if not seconds or seconds <= 0:
        return None
    return int(reward * 3600 // seconds)


def reward_for_hourly(*, hourly: int, seconds: float) -> int:
    """The smallest reward (cents) that pays at least ``hourly`` at ``seconds`` per task."""
    return max(1, -(-int(hourly * seconds) // 3600))


def worker_pseudonym(*, batch_id: int, user_id: int) -> str:
    """A worker's id in one batch's exports and client pages: stable within the batch,
    unlinkable across batches without the server's secret key."""
    digest = hmac.new(
        settings.SECRET_KEY.encode(),
        f"microtasks:batch:{batch_id}:worker:{user_id}".encode(),
        hashlib.sha256,
    ).hexdigest()
    return f"w-{digest[:10]}"


# --- workers: qualification and statistics ---------------------------------------------

# The answers whose rejection stands for now: rejected (appealable), appealed (not decided
# yet), upheld.
REJECTED_STATUSES = (Answer.Status.REJECTED, Answer.Status.APPEALED, Answer.Status.UPHELD)


@dataclass(frozen=True)
class WorkerStanding:
    approval_rate: float | None
    decided_answers: int
    gold_accuracy: float | None
    languages: list[str]
    # Qualification tests passed: "batch:<id>" for each batch, "client:<key>" for each client
    # whose test qualifies for all their batches (``test_keys``).
    tests_passed: frozenset[str] = frozenset()


NO_RECORD = WorkerStanding(approval_rate=None, decided_answers=0, gold_accuracy=None, languages=[])


def client_key(*, organisation_id: int | None, owner_id: int) -> str:
    """Who a batch's client is, for tests that qualify for all of the client's batches."""
    return f"org:{organisation_id}" if organisation_id else f"user:{owner_id}"


def test_passed(batch: Batch, standing: WorkerStanding) -> bool:
    """Whether the worker passed ``batch``'s test or, for a client-wide test, any test of
    the same client that qualifies for all their batches."""
    key = client_key(organisation_id=batch.organisation_id, owner_id=batch.owner_id)
    return f"batch:{batch.pk}" in standing.tests_passed or f"client:{key}" in standing.tests_passed


def tests_passed_by(*, user: User) -> frozenset[str]:
    keys: set[str] = set()
    for batch_id, scope, organisation_id, owner_id in QualificationAttempt.objects.filter(
        worker=user, passed=True
    ).values_list("batch_id", "batch__test_scope", "batch__organisation_id", "batch__owner_id"):
        keys.add(f"batch:{batch_id}")
        if scope == Batch.TestScope.CLIENT:
            keys.add(f"client:{client_key(organisation_id=organisation_id, owner_id=owner_id)}")
    return frozenset(keys)


@dataclass(frozen=True)
class TestStatus:
    required: bool
    qualified: bool
    attempts_used: int
    attempts_left: int
    last: QualificationAttempt | None


def worker_test_status(*, batch: Batch, user: User) -> TestStatus:
    """Where the worker stands with ``batch``'s qualification test."""
    if not batch.test_questions:
        return TestStatus(False, True, 0, 0, None)
    attempts = list(
        QualificationAttempt.objects.filter(batch=batch, worker=user).order_by("number")
    )
    standing = WorkerStanding(None, 0, None, [], tests_passed=tests_passed_by(user=user))
    return TestStatus(
        required=True,
        qualified=test_passed(batch, standing),
        attempts_used=len(attempts),
        attempts_left=max(0, batch.test_attempts - len(attempts)),
        last=attempts[-1] if attempts else None,
    )


def worker_approval_counts(*, user: User) -> tuple[int, int]:
    """(approved, rejected) over every batch, counting decided answers only. A rejection
    counts until an appeal overturns it: filing an appeal decides nothing, so an answer under
    appeal still counts as rejected (the rate must not jump when an appeal is filed); an
    overturned one counts as approved, a pending one for neither side."""
    counts = Answer.objects.filter(worker=user).aggregate(
        good=Count("pk", filter=Q(status__in=Answer.PAID_STATUSES)),
        bad=Count("pk", filter=Q(status__in=REJECTED_STATUSES)),
    )
    return counts["good"], counts["bad"]


def worker_standing(*, user: User) -> WorkerStanding:
    good, bad = worker_approval_counts(user=user)
    quality = WorkerQuality.objects.filter(worker=user).first()
    profile = getattr(user, "profile", None)
    return WorkerStanding(
        approval_rate=(good / (good + bad)) if good + bad else None,
        decided_answers=good + bad,
        gold_accuracy=quality.gold_accuracy if quality else None,
        languages=list(profile.languages or []) if profile else [],
        tests_passed=tests_passed_by(user=user),
    )


def worker_standing_for(*, batch: Batch, user: User) -> WorkerStanding:
    """The worker's record as far as ``batch`` needs it: read only for a batch with
    requirements (the approval rate is an aggregate over every answer they ever gave)."""
    return worker_standing(user=user) if record_needed(batch) else NO_RECORD


def qualification_problems(
    *,
    batch: Batch,
    standing: WorkerStanding,
    excluded: bool = False,
) -> list[str]:
    """Why a worker may not work on ``batch`` (empty: they qualify). A worker without a
    record yet (no reviewed answers, no gold answers) is not kept out by the minimums."""
    problems: list[str] = []
    if excluded:
        problems.append(_("The client excluded you from this batch."))
    if (
        batch.min_approval_rate is not None
        and standing.approval_rate is not None
        and standing.approval_rate < batch.min_approval_rate
    ):
        problems.append(
            _("Needs an approval rate of at least %(min).0f%% (yours is %(yours).0f%%).")
            % {"min": batch.min_approval_rate * 100, "yours": standing.approval_rate * 100}
        )
    if (
        batch.min_gold_accuracy is not None
        and standing.gold_accuracy is not None
        and standing.gold_accuracy < batch.min_gold_accuracy
    ):
        problems.append(
            _(
                "Needs an accuracy on test questions of at least %(min).0f%% "
                "(yours is %(yours).0f%%)."
            )
            % {"min": batch.min_gold_accuracy * 100, "yours": standing.gold_accuracy * 100}
        )
    if batch.test_questions and not test_passed(batch, standing):
        problems.append(_("Pass the qualification test to work on this batch."))
    missing = [code for code in batch.languages or [] if code not in standing.languages]
    if missing:
        problems.append(
            _("Needs these languages in your profile: %(codes)s.") % {"codes": ", ".join(missing)}
        )
    return problems


def worker_is_excluded(*, batch: Batch, user: User) -> bool:
    return BatchWorker.objects.filter(batch=batch, worker=user, excluded=True).exists()


def appeal_deadline(answer: Answer) -> datetime | None:
    """Until when a rejected answer may be appealed (``None``: it may not be, any more or
    at all)."""
    if answer.status != Answer.Status.REJECTED or answer.reviewed_at is None:
        return None
    return answer.reviewed_at + timedelta(days=appeal_days())


def appeal_refusal(answer: Answer, *, now: datetime) -> Conflict | None:
    """Why the worker may not appeal ``answer`` now (``None``: they may). The rule
    ``answer_appeal`` enforces and the history and appeal pages read."""
    if answer.status in (Answer.Status.APPEALED, Answer.Status.UPHELD, Answer.Status.OVERTURNED):
        return Conflict(_("You already appealed this answer."), code=ErrorCode.ALREADY_APPEALED)
    if not ANSWER_STATES.can(answer, Answer.Status.APPEALED):
        return Conflict(_("Only a rejected answer can be appealed."), code=ErrorCode.NOT_REJECTED)
    deadline = appeal_deadline(answer)
    if deadline is not None and deadline <= now:
        return Conflict(
            _("The %(days)d days to appeal have passed.") % {"days": appeal_days()},
            code=ErrorCode.APPEAL_CLOSED,
        )
    return None


# --- fair pay --------------------------------------------------------------------------


# The working time of a batch is known once this many different workers answered (and at
# least ``fair_pay_min_answers``): one fast clicker must not set a batch's hourly pay.
PAY_MIN_WORKERS = 3


def batch_median_seconds(*, batch_id: int) -> tuple[int, float | None]:
    """(answers counted, median working seconds) over answers that were not rejected; the
    median is ``None`` until there are ``fair_pay_min_answers`` such answers from
    ``PAY_MIN_WORKERS`` workers. Robust: the median over workers of each worker's median, so
    every worker weighs the same however many answers they gave, and a few very fast or very
    slow answers move nothing. The one figure behind the hourly pay shown to workers and
    clients and the fair-pay pause."""
    per_worker: dict[int, list[int]] = {}
    for worker_id, seconds in (
        Answer.objects.filter(batch_id=batch_id)
        .exclude(status__in=[Answer.Status.REJECTED, Answer.Status.UPHELD])
        .order_by()
        .values_list("worker_id", "working_seconds")
        .iterator(chunk_size=5000)
    ):
        per_worker.setdefault(worker_id, []).append(seconds)
    n = sum(len(times) for times in per_worker.values())
    if n < fair_pay_min_answers() or len(per_worker) < PAY_MIN_WORKERS:
        return n, None
    return n, float(statistics.median(statistics.median(t) for t in per_worker.values()))


@dataclass(frozen=True)
class FairPayShortfall:
    """A batch paused for fair pay whose reward still pays less than the platform minimum
    an hour at the median working time."""

    needed: int
    median_seconds: float
    minimum_hourly: int


def fair_pay_shortfall(*, batch: Batch, reward: int | None = None) -> FairPayShortfall | None:
    """For a batch paused for fair pay: the smallest reward that pays the platform minimum
    at the median working time, when ``reward`` (default: the batch's) is below it. The one
    rule behind resuming such a batch, raising its reward, and the page offering either.
    ``None`` for any other batch, before a median exists, or when the reward is enough."""
    if batch.pause_reason != Batch.PauseReason.FAIR_PAY:
        return None
    _n, median = batch_median_seconds(batch_id=batch.pk)
    if not median:
        return None
    minimum = min_hourly_cents()
    needed = reward_for_hourly(hourly=minimum, seconds=median)
    if (batch.reward if reward is None else reward) >= needed:
        return None
    return FairPayShortfall(needed=needed, median_seconds=median, minimum_hourly=minimum)


# --- working on a batch ----------------------------------------------------------------


def work_refusal(
    *, batch: Batch, manages: bool, problems: Sequence[str], answered: int
) -> ApplicationError | None:
    """Why a worker may not take items of ``batch`` now (``None``: they may), from what is
    known about them: whether they manage the batch, their qualification ``problems``
    and how many of its items they ``answered``. The one rule: ``lease_claim`` raises it,
    the batch page, the list of batches and the API show it."""
    if manages:
        return PermissionDenied(
            _("You cannot work on a batch you manage."), code=ErrorCode.OWN_BATCH
        )
    if batch.status != Batch.Status.OPEN:
        message = (
            _("This batch is paused.")
            if batch.status == Batch.Status.PAUSED
            else _("This batch is closed.")
        )
        return Conflict(message, code=ErrorCode.BATCH_NOT_OPEN)
    if problems:
        return PermissionDenied(" ".join(problems), code=ErrorCode.NOT_QUALIFIED)
    cap = batch.max_answers_per_worker
    if cap is not None and answered >= cap:
        return Conflict(
            _("You reached this batch's limit of %(n)d answers per worker.") % {"n": cap},
            code=ErrorCode.CAP_REACHED,
        )
    return None


def record_needed(batch: Batch) -> bool:
    """Whether qualifying for ``batch`` needs the worker's record (an aggregate over every
    answer they ever gave): only for a batch with requirements."""
    return (
        batch.min_approval_rate is not None
        or batch.min_gold_accuracy is not None
        or bool(batch.languages)
        or batch.test_questions > 0
    )
