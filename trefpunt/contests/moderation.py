"""What of contests can be reported (``moderation.registry``): the brief (taken down,
with the escrow refunded to the client and the entrants told) and entries (hidden)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils import timezone
from django.utils.translation import gettext_lazy

from trefpunt.moderation.registry import TakenDown, reportable_register

from .access import contest_access
from .models import Contest, Entry

if TYPE_CHECKING:
    from trefpunt.accounts.models import User


def _entry_visible(entry: Entry, user: User) -> bool:
    from .selectors import entry_get_for_user

    try:
        entry_get_for_user(entry_id=entry.pk, user=user)
    except Exception:
        return False
    return True


def _entry_hide(entry: Entry, hidden: bool) -> None:
    Entry.objects.filter(pk=entry.pk).update(hidden_at=timezone.now() if hidden else None)


def _contest_take_down(contest: Contest, staff: User, reason: str) -> TakenDown:
    from .services import contest_take_down

    taken, refunded, entrants = contest_take_down(contest_id=contest.pk, staff=staff)
    return TakenDown(refunded=refunded, currency=taken.currency, told=entrants)


def register() -> None:
    reportable_register(
        "contests.contest",
        model=Contest,
        label=gettext_lazy("contest brief"),
        author_field="created_by",
        visible_to=lambda contest, user: contest_access(contest, user).can_read_brief,
        title=lambda contest: contest.title,
        take_down=_contest_take_down,
        # Not hidden one by one: while the client is suspended the search index leaves
        # their briefs out (``search.contests_public``); these are re-read then.
        public_of_author=lambda user_id: Contest.objects.filter(created_by_id=user_id).values_list(
            "pk", flat=True
        ),
    )
    reportable_register(
        "contests.entry",
        model=Entry,
        label=gettext_lazy("contest entry"),
        author_field="entrant",
        visible_to=_entry_visible,
        title=lambda entry: f"#{entry.number} {entry.title}",
        hide=_entry_hide,
        is_hidden=lambda entry: entry.hidden_at is not None,
        public_of_author=lambda user_id: Entry.objects.filter(
            entrant_id=user_id, hidden_at__isnull=True
        ).values_list("pk", flat=True),
    )
