"""The client's review: approve (and pay), reject with a reason, appeals and their
decision, bulk review, and excluding a worker from a batch.

Lock order: the batch's escrow, the batch row, item rows by id, answer rows by id.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from trefpunt.core.exceptions import Conflict, ErrorCode, NotFound, ValidationFailed
from trefpunt.ledger.funded import work_escrow_lock, work_payees_lock
from trefpunt.ledger.models import LedgerAccount

from .. import limits
from ..models import Answer, Batch, BatchWorker, Item
from ..notifications import notify_answers_rejected, notify_appeal_decided
from ..selectors import (
    answer_for_manager,
    answer_for_worker,
    appeal_refusal,
    batch_for_manager,
    worker_id_for_pseudonym,
)
from ..states import ANSWER_STATES
from .aggregation import (
    ITEM_CHUNK,
    ITEM_FIELDS,
    aggregate_on_commit,
    item_recombine_unlocked,
    items_rows,
)
from .funding import answer_pay_unlocked

if TYPE_CHECKING:
    from trefpunt.accounts.models import User


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
        rows = items_rows(item_ids=item_ids, batch_id=batch.pk)
        for item in items:
            item_recombine_unlocked(
                item=item, batch=batch, now=now, reopen=True, rows=rows[item.pk]
            )
        Item.objects.bulk_update(items, ITEM_FIELDS, batch_size=ITEM_CHUNK)
        aggregate_on_commit(batch.pk)
    return row


def _reason_clean(reason: str, field: str, message: str) -> str:
    text = (reason or "").strip()
    if len(text) < limits.REASON_MIN_LENGTH:
        raise ValidationFailed(fields={field: message})
    if len(text) > limits.REASON_MAX_LENGTH:
        raise ValidationFailed(
            fields={
                field: _("At most %(n)s characters.")
                % {"n": number_format(limits.REASON_MAX_LENGTH, force_grouping=True)}
            }
        )
    return text


def answer_approve_unlocked(
    *, answer: Answer, batch: Batch, escrow: LedgerAccount, user: User | None, now: datetime
) -> None:
    ANSWER_STATES.move(answer, Answer.Status.APPROVED, reviewed_by=user, reviewed_at=now)
    answer_pay_unlocked(answer=answer, batch=batch, escrow=escrow, created_by=user)


def answers_approve_unlocked(
    *,
    answers: list[Answer],
    batch: Batch,
    escrow: LedgerAccount,
    user: User | None,
    now: datetime,
) -> None:
    """Approve and pay several pending answers of one batch in one transaction. The caller
    holds the escrow lock and the answers' row locks; the workers' wallets are locked here,
    up front and in the ledger's order, so that two such transactions paying the same
    workers never wait on each other in a cycle."""
    work_payees_lock(
        work=batch.funded_work, escrow=escrow, payee_ids=[a.worker_id for a in answers]
    )
    for answer in answers:
        answer_approve_unlocked(answer=answer, batch=batch, escrow=escrow, user=user, now=now)


def _already_reviewed() -> Conflict:
    return Conflict(_("This answer was already reviewed."), code=ErrorCode.ALREADY_REVIEWED)


def answer_approve(*, answer_id: int, user: User) -> Answer:
    """Approve an answer and pay its reward from the escrow. Approving an approved answer
    again pays nothing. Locks: escrow, answer."""
    answer = answer_for_manager(answer_id=answer_id, user=user)
    with transaction.atomic(durable=True):
        escrow = work_escrow_lock(answer.batch.funded_work)
        batch = Batch.objects.get(pk=answer.batch_id)
        answer = Answer.objects.select_for_update(no_key=True).get(pk=answer.pk)
        if answer.status in Answer.PAID_STATUSES:
            return answer
        if not ANSWER_STATES.can(answer, Answer.Status.APPROVED):
            raise _already_reviewed()
        answer_approve_unlocked(
            answer=answer, batch=batch, escrow=escrow, user=user, now=timezone.now()
        )
    return answer


def answer_reject(*, answer_id: int, user: User, reason: str) -> Answer:
    """Reject an answer with a reason the worker sees; they may appeal it once. Rejecting a
    rejected answer again changes nothing."""
    reason = _reason_clean(reason, "reason", _("Say why the answer is rejected."))
    answer = answer_for_manager(answer_id=answer_id, user=user)
    batch = answer.batch
    with transaction.atomic(durable=True):
        answer = Answer.objects.select_for_update(no_key=True).get(pk=answer.pk)
        if answer.status == Answer.Status.REJECTED:
            return answer
        if not ANSWER_STATES.can(answer, Answer.Status.REJECTED):
            raise _already_reviewed()
        ANSWER_STATES.move(
            answer,
            Answer.Status.REJECTED,
            reject_reason=reason,
            reviewed_by=user,
            reviewed_at=timezone.now(),
        )
        notify_answers_rejected(batch, {answer.worker_id: 1}, reason)
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
    now = timezone.now()
    with transaction.atomic(durable=True):
        escrow = work_escrow_lock(batch.funded_work)
        batch = Batch.objects.get(pk=batch.pk)
        locked = list(answers.select_for_update(no_key=True).order_by("pk"))
        if decision == "approve" and locked:
            answers_approve_unlocked(answers=locked, batch=batch, escrow=escrow, user=user, now=now)
        if decision == "reject" and locked:
            rejectable = [
                a for a in locked if a.status in ANSWER_STATES.sources(Answer.Status.REJECTED)
            ]
            Answer.objects.filter(pk__in=[a.pk for a in rejectable]).update(
                status=Answer.Status.REJECTED,
                reject_reason=reason,
                reviewed_by=user,
                reviewed_at=now,
            )
            notify_answers_rejected(batch, Counter(a.worker_id for a in rejectable), reason)
    return len(locked)


def answer_appeal(*, answer_id: int, worker: User, message: str) -> Answer:
    """The worker appeals a rejection, once, within the appeal period. Locks: escrow (the
    settlement sweep decides on the same answers), answer."""
    message = _reason_clean(message, "message", _("Tell the client why your answer is right."))
    answer = answer_for_worker(answer_id=answer_id, user=worker)
    with transaction.atomic(durable=True):
        work_escrow_lock(answer.batch.funded_work)
        answer = Answer.objects.select_for_update(no_key=True).get(pk=answer.pk)
        now = timezone.now()
        refusal = appeal_refusal(answer, now=now)
        if refusal is not None:
            raise refusal
        ANSWER_STATES.move(answer, Answer.Status.APPEALED, appeal_message=message, appealed_at=now)
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
    with transaction.atomic(durable=True):
        escrow = work_escrow_lock(answer.batch.funded_work)
        batch = Batch.objects.get(pk=answer.batch_id)
        answer = Answer.objects.select_for_update(no_key=True).get(pk=answer.pk)
        wanted = Answer.Status.OVERTURNED if overturn else Answer.Status.UPHELD
        if answer.status == wanted:
            return answer
        if not ANSWER_STATES.can(answer, wanted):
            raise Conflict(_("This answer has no open appeal."), code=ErrorCode.NO_APPEAL)
        ANSWER_STATES.move(
            answer,
            wanted,
            appeal_note=(note or "").strip(),
            appeal_decided_by=user,
            appeal_decided_at=timezone.now(),
        )
        if overturn:
            answer_pay_unlocked(answer=answer, batch=batch, escrow=escrow, created_by=user)
        notify_appeal_decided(answer, batch)
    return answer
