"""Reads scoped to who is asking: a missing object and a forbidden one both give not-found.

A batch is *managed* by its owner and, for a batch posted in an organisation's name, by
that organisation's owners and admins. Everyone else gets not-found for the client pages
of a batch — the same answer as for a batch that does not exist. Workers see published
batches (open, paused, closed), never drafts.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from trefpunt.core.exceptions import NotFound

from ..models import Answer, Batch, Lease

if TYPE_CHECKING:
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


def lease_live_for_worker(*, batch: Batch, user: User, now: datetime | None = None) -> Lease | None:
    now = now or timezone.now()
    return (
        Lease.objects.select_related("item")
        .filter(batch=batch, worker=user, status=Lease.Status.ACTIVE, expires_at__gt=now)
        .first()
    )


def lease_for_worker(*, lease_id: int, user: User) -> Lease:
    lease = Lease.objects.select_related("batch", "item").filter(pk=lease_id, worker=user).first()
    if lease is None:
        raise NotFound(_("Lease not found."))
    return lease
