"""The sweep: every time-driven transition that is due, through the same guarded services a
person would use, so a concurrent run or a client acting at the same moment is harmless
(the loser sees ``Conflict`` and the sweep moves on)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from trefpunt.core.exceptions import Conflict

from .. import limits
from ..models import Contest, Handover
from .common import now
from .handover import handover_auto_confirm
from .payments import contest_guarantee
from .publish import contest_close_entries


@dataclass
class SweepResult:
    judging: list[int]
    guaranteed: list[int]
    confirmed: list[int]

    def as_dict(self) -> dict[str, list[int]]:
        return {"judging": self.judging, "guaranteed": self.guaranteed, "confirmed": self.confirmed}


def contests_sweep() -> SweepResult:
    """Entry deadline → judging (or refund when nobody entered), judging end → guarantee,
    delivered handover + ``AUTO_CONFIRM_DAYS`` → confirmed. Each in its own transaction."""
    moment = now()
    due_open = Contest.objects.filter(status=Contest.Status.OPEN, entry_deadline__lte=moment)
    due_judging = Contest.objects.filter(status=Contest.Status.JUDGING, judging_ends_at__lte=moment)
    due_handovers = Handover.objects.filter(
        status=Handover.Status.DELIVERED, delivered_at__lte=moment - limits.AUTO_CONFIRM_AFTER
    )
    return SweepResult(
        judging=_each(
            due_open.values_list("pk", flat=True).order_by("entry_deadline"),
            lambda pk: contest_close_entries(contest_id=pk),
        ),
        guaranteed=_each(
            due_judging.values_list("pk", flat=True).order_by("judging_ends_at"),
            lambda pk: contest_guarantee(contest_id=pk),
        ),
        confirmed=_each(
            due_handovers.values_list("pk", flat=True).order_by("delivered_at"),
            lambda pk: handover_auto_confirm(handover_id=pk),
        ),
    )


def _each(pks: Iterable[int], action: Callable[[int], object]) -> list[int]:
    """Run ``action`` for each id; the ids it went through for (a ``Conflict`` means
    someone else got there first)."""
    done: list[int] = []
    for pk in pks:
        try:
            action(pk)
        except Conflict:
            continue
        done.append(pk)
    return done
