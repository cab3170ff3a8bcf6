"""What a worker sees: the batches they may work on, their answers and earnings, and the
subqueries the scheduler uses to find them an item."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import connection
from django.db.models import Count, Exists, OuterRef, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from trefpunt.core.db import prepared_cursor, sql_literal

from ..models import Answer, Batch, BatchWorker, Item, Lease
from .access import BatchAccess, batch_access, batches_managed_by, items_left_for
from .rules import NO_RECORD, hourly_cents, record_needed, worker_standing

if TYPE_CHECKING:
    from trefpunt.accounts.models import User


# --- the worker's list of batches ----------------------------------------------------


@dataclass
class AvailableBatch:
    batch: Batch
    items_left: int
    seconds_per_task: int
    hourly: int | None
    my_answers: int
    cap_left: int | None
    access: BatchAccess

    @property
    def cap_binds(self) -> bool:
        """Whether the batch's cap per worker, not its items, limits what this worker can
        still answer (one answer per item: with 13 items left, a cap leaving 34 says
        nothing, and the card leaves it out)."""
        return self.cap_left is not None and self.cap_left < self.items_left

    @property
    def problems(self) -> list[str]:
        return self.access.refusal_lines

    @property
    def qualifies(self) -> bool:
        return self.access.can_work


def _open_items_count() -> Coalesce:
    """A batch's open items, as a per-row subquery (0 when it has none)."""
    open_items = (
        Item.objects.filter(batch=OuterRef("pk"), status=Item.Status.OPEN)
        .order_by()
        .values("batch")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(open_items), 0)


def _batches_listed(ids: list[int]) -> dict[int, Any]:
    """The open batches ``ids`` as every worker sees them in a list (their client's name
    loaded, ``items_left`` annotated), kept as the public listings are
    (``contests.fragments.listing_cached_many``: a batch paused or changed shows at once,
    its items left may lag ``LISTING_SECONDS``)."""
    from trefpunt.contests.fragments import listing_cached_many

    def load(missing: list[int]) -> dict[int, Any]:
        return {
            b.pk: b
            for b in Batch.objects.filter(pk__in=missing)
            .select_related("organisation", "owner__profile")
            .annotate(items_left=_open_items_count())
        }

    return listing_cached_many("batch-row", ids, load)


def _worker_batches(*, user: User, limit: int) -> list[tuple[int, int, bool]]:
    """(id, the worker's answers there, whether its client excluded them) of the open
    batches the worker does not manage and that still have an item for them, newest
    first."""
    listed = list(
        Batch.objects.filter(status=Batch.Status.OPEN)
        .exclude(pk__in=batches_managed_by(user=user).values("pk"))
        .filter(items_left_for(user_id=user.pk))
        .order_by("-published_at", "-id")
        .values_list("pk", flat=True)[:limit]
    )
    mine = dict(
        Answer.objects.filter(worker=user, batch_id__in=listed)
        .order_by()
        .values_list("batch_id")
        .annotate(n=Count("pk"))
    )
    excluded = set(
        BatchWorker.objects.filter(worker=user, batch_id__in=listed, excluded=True).values_list(
            "batch_id", flat=True
        )
    )
    return [(pk, mine.get(pk, 0), pk in excluded) for pk in listed]


# ``_worker_batches`` written out once (PostgreSQL, prepared): the batch list and the
# batches API ask it on every request, and compiling its three querysets cost more than
# running them (the managed-batch and items-left filters are ``batches_managed_by`` and
# ``items_left_for``; a test holds the two paths to the same rows).
_WORKER_BATCHES = """
SELECT b.id,
  (SELECT COUNT(*) FROM {answer} a WHERE a.batch_id = b.id AND a.worker_id = %(worker)s),
  EXISTS (
    SELECT 1 FROM {batch_worker} w
    WHERE w.batch_id = b.id AND w.worker_id = %(worker)s AND w.excluded
  )
FROM {batch} b
WHERE b.status = {batch_open} AND b.owner_id <> %(worker)s
  AND (b.organisation_id IS NULL OR b.organisation_id NOT IN (
    SELECT m.organisation_id FROM {membership} m
    WHERE m.user_id = %(worker)s AND m.role IN ({roles})
  ))
  AND (
    EXISTS (
      SELECT 1 FROM {item} i
      WHERE i.batch_id = b.id AND i.status = {item_open} AND i.answers_target > i.answers_count
        AND NOT EXISTS (
          SELECT 1 FROM {lease} s WHERE s.item_id = i.id AND s.worker_id = %(worker)s
        )
    )
    OR EXISTS (
      SELECT 1 FROM {lease} l
      WHERE l.batch_id = b.id AND l.worker_id = %(worker)s AND l.status = {active}
        AND l.expires_at > %(now)s
    )
  )
ORDER BY b.published_at DESC, b.id DESC
LIMIT %(limit)s
"""


@functools.cache
def _worker_batches_query() -> str:
    from trefpunt.accounts.models import Membership, Role

    return _WORKER_BATCHES.format(
        batch_open=sql_literal(Batch.Status.OPEN),
        roles=", ".join(sql_literal(role) for role in (Role.OWNER, Role.ADMIN)),
        item_open=sql_literal(Item.Status.OPEN),
        active=sql_literal(Lease.Status.ACTIVE),
        answer=Answer._meta.db_table,
        batch_worker=BatchWorker._meta.db_table,
        batch=Batch._meta.db_table,
        membership=Membership._meta.db_table,
        item=Item._meta.db_table,
        lease=Lease._meta.db_table,
    )


def _worker_batches_sql(*, user: User, limit: int) -> list[tuple[int, int, bool]]:
    """``_worker_batches`` in one prepared statement (PostgreSQL)."""
    params = {
        "worker": user.pk,
        "now": timezone.now(),
        "limit": limit,
    }
    with prepared_cursor() as cursor:
        cursor.execute(_worker_batches_query(), params)
        return [(int(pk), int(n), bool(excluded)) for pk, n, excluded in cursor.fetchall()]


def batches_available(*, user: User, limit: int = 100) -> list[AvailableBatch]:
    """Open batches the worker does not manage and that still have an item for them (a batch
    whose open items they have all seen is not listed), with what a worker wants to know and
    what they may do (``BatchAccess``, from facts read for all batches at once). Which
    batches is asked every time; the batches' own rows come from the listing cache
    (``_batches_listed``). At most eight queries however many batches there are (on
    PostgreSQL six: the batches and the worker's facts there are one statement; four are
    the worker's record, read only when a listed batch has requirements)."""
    if connection.vendor == "postgresql":
        facts = _worker_batches_sql(user=user, limit=limit)
    else:
        facts = _worker_batches(user=user, limit=limit)
    rows_by_id = _batches_listed([pk for pk, _answered, _excluded in facts])
    # A batch closed between the two reads is left out.
    batches = [
        rows_by_id[pk]
        for pk, _answered, _excluded in facts
        if pk in rows_by_id and rows_by_id[pk].status == Batch.Status.OPEN
    ]
    mine = {pk: answered for pk, answered, _excluded in facts}
    excluded = {pk for pk, _answered, is_excluded in facts if is_excluded}
    # The worker's record is an aggregate over every answer they gave: read only when a
    # listed batch has requirements (``batch_access`` leaves it alone otherwise).
    standing = worker_standing(user=user) if any(record_needed(b) for b in batches) else NO_RECORD
    rows: list[AvailableBatch] = []
    for batch in batches:
        seconds = batch.median_seconds or batch.estimated_seconds
        answered = mine.get(batch.pk, 0)
        cap_left = (
            None
            if batch.max_answers_per_worker is None
            else max(0, batch.max_answers_per_worker - answered)
        )
        rows.append(
            AvailableBatch(
                batch=batch,
                items_left=batch.items_left,
                seconds_per_task=seconds,
                hourly=hourly_cents(reward=batch.reward, seconds=seconds),
                my_answers=answered,
                cap_left=cap_left,
                access=batch_access(
                    batch,
                    user,
                    manages=False,
                    standing=standing,
                    excluded=batch.pk in excluded,
                    answered=answered,
                    with_lease=False,
                    nothing_left=False,
                ),
            )
        )
    return rows


def batches_open_for_visitors(*, limit: int = 100) -> list[AvailableBatch]:
    """Open batches as a visitor without an account sees them: what each pays, how long a
    task takes and how much is left; working starts after logging in. Two queries however
    many batches there are."""
    batches = list(
        Batch.objects.filter(status=Batch.Status.OPEN)
        .select_related("organisation", "owner__profile")
        .annotate(items_left=_open_items_count())
        .filter(items_left__gt=0)
        .order_by("-published_at", "-id")[:limit]
    )
    rows = []
    for batch in batches:
        seconds = batch.median_seconds or batch.estimated_seconds
        rows.append(
            AvailableBatch(
                batch=batch,
                items_left=batch.items_left,
                seconds_per_task=seconds,
                hourly=hourly_cents(reward=batch.reward, seconds=seconds),
                my_answers=0,
                cap_left=None,
                access=batch_access(batch, None),
            )
        )
    return rows


def answers_of_worker(*, user: User) -> QuerySet[Answer]:
    return Answer.objects.filter(worker=user).select_related("batch").order_by("-created_at", "-id")


@dataclass(frozen=True)
class Earnings:
    paid: int
    pending: int
    answers: int


def worker_earnings(*, user: User) -> Earnings:
    """What a worker earned from microtasks (gross rewards) and what awaits review."""
    row = Answer.objects.filter(worker=user).aggregate(
        paid=Coalesce(Sum("paid_reward"), 0),
        answers=Count("pk"),
    )
    pending = Answer.objects.filter(
        worker=user,
        status__in=[Answer.Status.PENDING, Answer.Status.APPEALED],
    ).aggregate(total=Coalesce(Sum("batch__reward"), 0))["total"]
    return Earnings(paid=row["paid"], pending=pending, answers=row["answers"])


def item_live_leases(*, now: datetime) -> Any:
    """Subquery: the number of live leases of the outer item."""
    return Coalesce(
        Subquery(
            Lease.objects.filter(
                item=OuterRef("pk"), status=Lease.Status.ACTIVE, expires_at__gt=now
            )
            .order_by()
            .values("item")
            .annotate(n=Count("pk"))
            .values("n")
        ),
        0,
    )


def item_seen_by(*, user_id: int) -> Exists:
    return Exists(Lease.objects.filter(item=OuterRef("pk"), worker_id=user_id))
