"""What the microtask mode tells people (registered with the notifications module).

Contexts are JSON (ids, titles, counts, amounts in cents); links are paths without a
language prefix, so each person lands in their own language."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from trefpunt.community.notifications import (
    NotificationKind,
    notification_kinds_register,
    notify,
)

if TYPE_CHECKING:
    from .models import Answer, Batch

FAIR_PAY_PAUSED = "microtasks.fair_pay_paused"
ANSWERS_REJECTED = "microtasks.answers_rejected"
APPEAL_DECIDED = "microtasks.appeal_decided"
BATCH_FINISHED = "microtasks.batch_finished"


def register() -> None:
    def kind(key: str, label: object, *, essential: bool = False) -> NotificationKind:
        name = key.removeprefix("microtasks.")
        return NotificationKind(key, f"microtasks/email/{name}.txt", label, essential=essential)

    notification_kinds_register(
        # The client's batch stopped handing out work until they raise the reward: money,
        # so it cannot be turned off.
        kind(
            FAIR_PAY_PAUSED,
            _("Batches paused because they pay below the minimum hourly rate"),
            essential=True,
        ),
        # A rejection is money the worker does not get, with a deadline to appeal.
        kind(ANSWERS_REJECTED, _("Your answers were rejected"), essential=True),
        kind(APPEAL_DECIDED, _("Your appeals were decided"), essential=True),
        kind(BATCH_FINISHED, _("Your batches are finished")),
    )


def _path(name: str, *args: int) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        path = reverse(name, args=args)
    return path.removeprefix(f"/{settings.LANGUAGE_CODE}")


def notify_answers_rejected(batch: Batch, by_worker: dict[int, int], reason: str) -> None:
    """Tell each worker how many of their answers were rejected, and why (one notice per
    worker for a bulk rejection)."""
    from .selectors import appeal_days

    for worker_id, count in by_worker.items():
        notify(
            users=[worker_id],
            kind=ANSWERS_REJECTED,
            context={"title": batch.title, "count": count, "reason": reason, "days": appeal_days()},
            path=_path("microtasks:answer_history"),
        )


def notify_appeal_decided(answer: Answer, batch: Batch) -> None:
    notify(
        users=[answer.worker_id],
        kind=APPEAL_DECIDED,
        context={
            "title": batch.title,
            "overturned": answer.status == answer.Status.OVERTURNED,
            "note": answer.appeal_note,
            "reward": batch.reward,
            "currency": batch.currency,
        },
        path=_path("microtasks:answer_history"),
    )


def notify_batch_finished(batch: Batch, managers: Iterable[int]) -> None:
    notify(
        users=managers,
        kind=BATCH_FINISHED,
        context={"title": batch.title},
        path=_path("microtasks:results", batch.pk),
        uid=f"microtasks.finished.{batch.pk}",
    )
