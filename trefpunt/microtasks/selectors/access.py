"""Reads scoped to who is asking: a missing object and a forbidden one both give not-found.

A batch is *managed* by its owner and, for a batch posted in an organisation's name, by
that organisation's owners and admins. Everyone else gets not-found for the client pages
of a batch — the same answer as for a batch that does not exist. Workers see published
batches (open, paused, closed), never drafts.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from django.db import connection
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from trefpunt.core.db import (
    JoinPart,
    instances_from_row,
    joined_columns,
    model_fields,
    model_from_row,
    prepared_cursor,
    sql_literal,
)
from trefpunt.core.exceptions import ApplicationError, NotFound

from ..models import Answer, Batch, Item, Lease
from ..states import (
    ANSWER_STATES,
    BATCH_PUBLISH,
    BATCH_RUN,
    batch_is_editable,
    batch_is_running,
)
from .rules import (
    FairPayShortfall,
    WorkerStanding,
    appeal_deadline,
    appeal_refusal,
    fair_pay_shortfall,
    qualification_problems,
    work_refusal,
    worker_is_excluded,
    worker_standing_for,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from trefpunt.accounts.models import User


# --- access ----------------------------------------------------------------------------


def batches_managed_by(*, user: User) -> QuerySet[Batch]:
    if not user.is_authenticated:
        return Batch.objects.none()
    from trefpunt.accounts.selectors import organisations_user_can_post_for

    return Batch.objects.filter(
        Q(owner=user) | Q(organisation__in=organisations_user_can_post_for(user=user))
    )


def batch_for_manager(*, batch_id: int, user: User) -> Batch:
    batch = (
        batches_managed_by(user=user)
        .select_related("owner__profile", "organisation")
        .filter(pk=batch_id)
        .first()
    )
    if batch is None:
        raise NotFound(_("Batch not found."))
    return batch


def batch_manages(*, batch: Batch, user: User) -> bool:
    """Whether ``user`` manages ``batch`` (a query only for an organisation's batch)."""
    if not user.is_authenticated:
        return False
    if batch.owner_id == user.pk:
        return True
    return bool(batch.organisation_id) and batch_is_managed_by(batch=batch, user=user)


def batch_is_managed_by(*, batch: Batch, user: User) -> bool:
    return batches_managed_by(user=user).filter(pk=batch.pk).exists()


def batch_for_worker(*, batch_id: int) -> Batch:
    """A published batch as workers see it; drafts are not found."""
    batch = (
        Batch.objects.select_related("owner__profile", "organisation")
        .exclude(status=Batch.Status.DRAFT)
        .filter(pk=batch_id)
        .first()
    )
    if batch is None:
        raise NotFound(_("Batch not found."))
    return batch


# ``batch_for_work`` written out (PostgreSQL, prepared): the work page and its answers read
# the batch on every request, and compiling the ORM's query cost more than running it.
_BATCH_FOR_WORK = "SELECT {columns} FROM {batch} WHERE id = %s AND status <> {draft}"


@functools.cache
def _batch_for_work_query() -> str:
    return _BATCH_FOR_WORK.format(
        columns=", ".join(connection.ops.quote_name(f.column) for f in model_fields(Batch)),
        batch=connection.ops.quote_name(Batch._meta.db_table),
        draft=sql_literal(Batch.Status.DRAFT),
    )


def batch_for_work(*, batch_id: int) -> Batch:
    """``batch_for_worker`` for the work pages: the batch's own row alone (they show
    neither its client's name nor its organisation), in one prepared statement on
    PostgreSQL; drafts are not found."""
    if connection.vendor != "postgresql":
        batch = Batch.objects.exclude(status=Batch.Status.DRAFT).filter(pk=batch_id).first()
    else:
        with prepared_cursor() as cursor:
            cursor.execute(_batch_for_work_query(), [batch_id])
            row = cursor.fetchone()
        batch = None if row is None else model_from_row(Batch, model_fields(Batch), row)
    if batch is None:
        raise NotFound(_("Batch not found."))
    return batch


def answer_for_manager(*, answer_id: int, user: User, allow_staff: bool = False) -> Answer:
    answers = Answer.objects.select_related("batch", "item", "worker")
    if not (allow_staff and user.is_staff):
        answers = answers.filter(batch__in=batches_managed_by(user=user))
    answer = answers.filter(pk=answer_id).first()
    if answer is None:
        raise NotFound(_("Answer not found."))
    return answer


def answer_for_worker(*, answer_id: int, user: User) -> Answer:
    answer = (
        Answer.objects.select_related("batch", "item").filter(pk=answer_id, worker=user).first()
    )
    if answer is None:
        raise NotFound(_("Answer not found."))
    return answer


# ``lease_live_for_worker`` written out (PostgreSQL, prepared): the work page reads it on
# every request, and building the ORM's query cost more than running it.
_LEASE_LIVE = (
    "SELECT {columns} FROM {lease} l INNER JOIN {item} i ON i.id = l.item_id"
    " WHERE l.batch_id = %s AND l.worker_id = %s AND l.status = {active} AND l.expires_at > %s"
    " ORDER BY l.id LIMIT 1"
)


def _lease_live_parts() -> list[JoinPart]:
    return [("l", Lease, model_fields(Lease)), ("i", Item, model_fields(Item))]


@functools.cache
def _lease_live_query() -> str:
    quote = connection.ops.quote_name
    return _LEASE_LIVE.format(
        columns=joined_columns(_lease_live_parts()),
        lease=quote(Lease._meta.db_table),
        item=quote(Item._meta.db_table),
        active=sql_literal(Lease.Status.ACTIVE),
    )


def lease_live_for_worker(*, batch: Batch, user: User, now: datetime | None = None) -> Lease | None:
    """The worker's live lease in the batch (the first if they hold several), with its item;
    on PostgreSQL in one prepared statement."""
    now = now or timezone.now()
    if connection.vendor != "postgresql":
        return (
            Lease.objects.select_related("item")
            .filter(batch=batch, worker=user, status=Lease.Status.ACTIVE, expires_at__gt=now)
            .first()
        )
    with prepared_cursor() as cursor:
        cursor.execute(_lease_live_query(), [batch.pk, user.pk, now])
        row = cursor.fetchone()
    if row is None:
        return None
    lease, item = instances_from_row(_lease_live_parts(), row)
    Lease.item.field.set_cached_value(lease, item)
    return lease


# The worker's answers in a batch (the work page's count), written out: see above.
_ANSWERED = "SELECT COUNT(*) FROM {answer} WHERE batch_id = %s AND worker_id = %s"


def answers_count_for_worker(*, batch: Batch, worker_id: int | None) -> int:
    """How many answers the worker gave in the batch; prepared on PostgreSQL."""
    if connection.vendor != "postgresql":
        return Answer.objects.filter(batch=batch, worker_id=worker_id).count()
    with prepared_cursor() as cursor:
        table = connection.ops.quote_name(Answer._meta.db_table)
        cursor.execute(_ANSWERED.format(answer=table), [batch.pk, worker_id])
        return int(cursor.fetchone()[0])


def leases_live_for_worker(*, batch: Batch, user: User, now: datetime | None = None) -> list[Lease]:
    """The worker's page of the batch: every live lease they hold there, oldest first."""
    now = now or timezone.now()
    return list(
        Lease.objects.select_related("item")
        .filter(batch=batch, worker=user, status=Lease.Status.ACTIVE, expires_at__gt=now)
        .order_by("pk")
    )


def leases_for_worker(*, batch: Batch, lease_ids: list[int], user: User) -> list[Lease]:
    """The worker's own leases of the batch with these ids, in that order; not found when
    any of them is another's, another batch's or does not exist."""
    found = {
        lease.pk: lease
        for lease in Lease.objects.select_related("item").filter(
            pk__in=lease_ids, batch=batch, worker=user
        )
    }
    if not lease_ids or len(found) != len(set(lease_ids)):
        raise NotFound(_("Lease not found."))
    return [found[pk] for pk in dict.fromkeys(lease_ids)]


def lease_for_worker(*, lease_id: int, user: User) -> Lease:
    lease = Lease.objects.select_related("batch", "item").filter(pk=lease_id, worker=user).first()
    if lease is None:
        raise NotFound(_("Lease not found."))
    return lease


# --- capabilities: what this viewer may do ------------------------------------------------


@dataclass(frozen=True)
class BatchAccess:
    """What one viewer may do with one batch, computed once with the rules the services
    enforce (``states``, ``rules.work_refusal``, ``rules.fair_pay_shortfall``) and read by
    the views, the API output and the templates alike.

    ``work_refusal`` is why the viewer may not take items now (``None``: they may, when
    logged in); ``problems`` are their qualification problems, listed while the batch is
    open; ``lease`` is their live lease in it; ``nothing_left`` that no item is left for
    them (every open item with room is one they have seen); ``fair_pay`` what resuming a
    batch paused for fair pay needs."""

    batch: Batch
    user: User | None
    manages: bool
    work_refusal: ApplicationError | None = None
    problems: tuple[str, ...] = ()
    lease: Lease | None = None
    fair_pay: FairPayShortfall | None = None
    nothing_left: bool = False

    # --- the worker ---------------------------------------------------------------------

    @property
    def can_work(self) -> bool:
        return self.user is not None and self.work_refusal is None and not self.nothing_left

    @property
    def refusal_lines(self) -> list[str]:
        """Why the viewer cannot work here, one line a reason."""
        if self.problems:
            return list(self.problems)
        if self.work_refusal:
            return [self.work_refusal.message]
        if self.nothing_left:
            return [_("There is nothing more for you in this batch right now.")]
        return []

    # --- the client ---------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return batch_is_running(self.batch)

    @property
    def can_manage(self) -> bool:
        return self.manages

    @property
    def can_edit(self) -> bool:
        return self.manages and batch_is_editable(self.batch)

    @property
    def can_publish(self) -> bool:
        return self.manages and BATCH_PUBLISH.can(self.batch, Batch.Status.OPEN)

    @property
    def can_pause(self) -> bool:
        return self.manages and BATCH_RUN.can(self.batch, Batch.Status.PAUSED)

    @property
    def can_resume(self) -> bool:
        return (
            self.manages and BATCH_RUN.can(self.batch, Batch.Status.OPEN) and self.fair_pay is None
        )

    @property
    def can_close(self) -> bool:
        return self.manages and BATCH_RUN.can(self.batch, Batch.Status.CLOSED)

    @property
    def can_raise_reward(self) -> bool:
        return self.manages and self.batch.status != Batch.Status.CLOSED

    @property
    def can_review(self) -> bool:
        """Review answers, decide appeals, exclude workers, see results and export: the
        client's pages of a published batch."""
        return self.manages and not batch_is_editable(self.batch)

    def capabilities(self) -> dict[str, bool]:
        """The capabilities by name, as the API shows them."""
        return {name: getattr(self, f"can_{name}") for name in CAPABILITIES}


CAPABILITIES = (
    "work",
    "manage",
    "edit",
    "publish",
    "pause",
    "resume",
    "close",
    "raise_reward",
    "review",
)


def batch_access(
    batch: Batch,
    user: User | AnonymousUser | None,
    *,
    manages: bool | None = None,
    standing: WorkerStanding | None = None,
    excluded: bool | None = None,
    answered: int | None = None,
    with_lease: bool = True,
    nothing_left: bool | None = None,
) -> BatchAccess:
    """What ``user`` may do with ``batch``. A list that knows some of the facts for many
    batches at once passes them (``manages``, the worker's ``standing``, whether they are
    ``excluded``, how many items they ``answered``, whether ``nothing_left`` for them); the
    rest is read here, only what the answer needs."""
    person = user if user is not None and user.is_authenticated else None
    if person is None:
        return BatchAccess(batch=batch, user=None, manages=False)
    if manages is None:
        manages = batch_manages(batch=batch, user=person)
    if manages:
        return BatchAccess(
            batch=batch,
            user=person,
            manages=True,
            work_refusal=work_refusal(batch=batch, manages=True, problems=(), answered=0),
            fair_pay=fair_pay_shortfall(batch=batch)
            if batch.status == Batch.Status.PAUSED
            else None,
        )
    problems: list[str] = []
    if batch.status == Batch.Status.OPEN:
        problems = qualification_problems(
            batch=batch,
            standing=standing or worker_standing_for(batch=batch, user=person),
            excluded=worker_is_excluded(batch=batch, user=person) if excluded is None else excluded,
        )
        if answered is None and batch.max_answers_per_worker is not None:
            answered = Answer.objects.filter(batch=batch, worker=person).count()
    refusal = work_refusal(batch=batch, manages=False, problems=problems, answered=answered or 0)
    lease = lease_live_for_worker(batch=batch, user=person) if with_lease else None
    if nothing_left is None:
        nothing_left = (
            refusal is None
            and lease is None
            and not batch_has_items_for(batch_id=batch.pk, user_id=person.pk)
        )
    return BatchAccess(
        batch=batch,
        user=person,
        manages=False,
        work_refusal=refusal,
        problems=tuple(problems),
        lease=lease,
        nothing_left=nothing_left,
    )


def items_left_for(*, user_id: int) -> Q:
    """Filter on batches: the worker holds a live lease in it, or one of its open items
    still has room (answers below the target) and was never leased by them — the items the
    scheduler may hand them, leases of others aside (those run out)."""
    fresh = Item.objects.filter(
        batch=OuterRef("pk"),
        status=Item.Status.OPEN,
        answers_target__gt=F("answers_count"),
    ).exclude(Exists(Lease.objects.filter(item=OuterRef("pk"), worker_id=user_id)))
    holding = Lease.objects.filter(
        batch=OuterRef("pk"),
        worker_id=user_id,
        status=Lease.Status.ACTIVE,
        expires_at__gt=timezone.now(),
    )
    return Q(Exists(fresh)) | Q(Exists(holding))


def batch_has_items_for(*, batch_id: int, user_id: int) -> bool:
    """Whether the scheduler may still hand the worker an item of the batch (one query)."""
    return Batch.objects.filter(items_left_for(user_id=user_id), pk=batch_id).exists()


def batch_access_for_manager(*, batch_id: int, user: User) -> BatchAccess:
    """The batch and what its client may do with it; not-found for anyone else."""
    return batch_access(batch_for_manager(batch_id=batch_id, user=user), user, manages=True)


@dataclass(frozen=True)
class AnswerAccess:
    """What one viewer may do with one answer: its worker appeals a rejection (within the
    appeal window), its batch's client reviews it and decides an appeal."""

    answer: Answer
    is_worker: bool
    manages: bool
    now: datetime

    @property
    def appeal_refusal(self) -> ApplicationError | None:
        return appeal_refusal(self.answer, now=self.now)

    @property
    def can_appeal(self) -> bool:
        return self.is_worker and self.appeal_refusal is None

    @property
    def appeal_until(self) -> datetime | None:
        """Until when its worker may appeal (shown only while they may)."""
        return appeal_deadline(self.answer) if self.can_appeal else None

    @property
    def can_review(self) -> bool:
        return self.manages and ANSWER_STATES.can(self.answer, Answer.Status.APPROVED)

    @property
    def can_decide_appeal(self) -> bool:
        return self.manages and ANSWER_STATES.can(self.answer, Answer.Status.OVERTURNED)

    def capabilities(self) -> dict[str, bool]:
        return {
            "appeal": self.can_appeal,
            "review": self.can_review,
            "decide_appeal": self.can_decide_appeal,
        }


def answer_access(
    answer: Answer, *, worker: bool = False, manages: bool = False, now: datetime | None = None
) -> AnswerAccess:
    """What the answer's worker (``worker``) or its batch's client or staff (``manages``)
    may do with it; the caller found the answer through the matching scoped lookup."""
    return AnswerAccess(answer=answer, is_worker=worker, manages=manages, now=now or timezone.now())
