"""What contests tell people, through the one notifications module
(``community.notifications``): queued after the transition commits, rendered in the
recipient's language from ``contests/email/<kind>.txt``, recorded in their notification
centre and emailed per their preference.

Contexts are JSON: titles and texts as written, amounts as cents with their currency,
moments as ISO strings (turned back into times by ``_prepare`` so the template formats them
in the recipient's language). Links are paths without a language prefix, so each person
lands in their own language.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from trefpunt.community.notifications import (
    NotificationKind,
    notification_kinds_register,
    notify,
    notify_address,
)

from . import limits

if TYPE_CHECKING:
    from trefpunt.accounts.models import User

    from .models import Contest, Entry, Payment

INVITED = "contests.invited"
FINALIST = "contests.finalist"
PAID = "contests.paid"
FEEDBACK = "contests.feedback"
DECLINED = "contests.declined"
DECLINE_REVIEWED = "contests.decline_reviewed"
FILES_DELIVERED = "contests.files_delivered"
NEW_ENTRY = "contests.new_entry"


def _prepare(context: dict[str, Any]) -> dict[str, Any]:
    values = dict(context)
    if values.get("deadline"):
        values["deadline"] = datetime.fromisoformat(values["deadline"])
    return values


def register() -> None:
    def kind(key: str, label: Any, *, essential: bool = False, **more: Any) -> NotificationKind:
        name = key.removeprefix("contests.")
        return NotificationKind(
            key, f"contests/email/{name}.txt", label, essential=essential, prepare=_prepare, **more
        )

    notification_kinds_register(
        kind(INVITED, _("Invitations to private contests")),
        kind(FINALIST, _("Your entry became a finalist")),
        # Money arrived, and the clock for confirming final files started: always at once.
        kind(PAID, _("Prizes and stipends you earned"), essential=True),
        kind(FILES_DELIVERED, _("Final files delivered for your contest"), essential=True),
        kind(FEEDBACK, _("Feedback on your entries")),
        kind(DECLINED, _("Your entry was declined")),
        kind(DECLINE_REVIEWED, _("Staff reviewed a decline of your entry")),
        kind(NEW_ENTRY, _("New entries in your contests"), default="digest"),
    )


def _path(name: str, pk: int) -> str:
    """The page's path without a language prefix (the site sends each person to it in
    their own language)."""
    with translation.override(settings.LANGUAGE_CODE):
        path = reverse(name, kwargs={"pk": pk})
    return path.removeprefix(f"/{settings.LANGUAGE_CODE}")


def notify_invited(contest: Contest, users: Iterable[User | int]) -> None:
    """Members invited by name. The link is the invitation page, which sends someone not
    logged in to log in first and then on to the contest (and its NDA)."""
    notify(
        users=users,
        kind=INVITED,
        context={"title": contest.title},
        path=_path("contests:invitation", contest.pk),
    )


def notify_invited_addresses(contest: Contest, addresses: Iterable[str]) -> None:
    """People invited by an address that has no account yet: the same notice, by email,
    in the language the client works in; its link leads through sign-up to the contest."""
    language = translation.get_language() or settings.LANGUAGE_CODE
    for address in addresses:
        notify_address(
            address=address,
            language=language,
            kind=INVITED,
            context={"title": contest.title},
            path=_path("contests:invitation", contest.pk),
        )


def notify_finalists(contest: Contest, entries: Iterable[Entry], deadline: datetime) -> None:
    for entry in entries:
        notify(
            users=[entry.entrant_id],
            kind=FINALIST,
            context={
                "title": entry.title,
                "contest": contest.title,
                "deadline": deadline.isoformat(),
            },
            path=_path("contests:entry", entry.pk),
        )


def notify_paid(contest: Contest, payments: Sequence[Payment]) -> None:
    """One notice per crowd member: everything they were paid in this contest, net."""
    totals: dict[int, tuple[int, int]] = {}
    for payment in payments:
        entry_id, net = totals.get(payment.recipient_id, (payment.entry_id, 0))
        totals[payment.recipient_id] = (entry_id, net + payment.net)
    for recipient_id, (entry_id, net) in totals.items():
        notify(
            users=[recipient_id],
            kind=PAID,
            context={"title": contest.title, "amount": net, "currency": contest.currency},
            path=_path("contests:entry", entry_id),
        )


def notify_feedback(entry: Entry, feedback: str) -> None:
    notify(
        users=[entry.entrant_id],
        kind=FEEDBACK,
        context={"title": entry.title, "feedback": feedback},
        path=_path("contests:entry", entry.pk),
    )


def notify_declined(entry: Entry, contest: Contest, *, reason: str, review: bool) -> None:
    """``review``: declined for a rule break, so staff will check it."""
    notify(
        users=[entry.entrant_id],
        kind=DECLINED,
        context={
            "title": entry.title,
            "contest": contest.title,
            "reason": reason,
            "review": review,
        },
        path=_path("contests:entry", entry.pk),
    )


def notify_decline_reviewed(entry: Entry, *, upheld: bool) -> None:
    notify(
        users=[entry.entrant_id],
        kind=DECLINE_REVIEWED,
        context={"title": entry.title, "upheld": upheld},
        path=_path("contests:entry", entry.pk),
    )


def notify_new_entry(contest: Contest, entry: Entry, managers: Iterable[User]) -> None:
    notify(
        users=managers,
        kind=NEW_ENTRY,
        context={"title": contest.title, "number": entry.number, "entry": entry.title},
        path=_path("contests:entry", entry.pk),
    )


def notify_files_delivered(contest: Contest, entry: Entry, managers: Iterable[User]) -> None:
    notify(
        users=managers,
        kind=FILES_DELIVERED,
        context={"title": contest.title, "days": limits.AUTO_CONFIRM_DAYS},
        path=_path("contests:handover", entry.pk),
    )
