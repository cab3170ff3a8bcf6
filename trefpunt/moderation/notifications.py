"""What moderation tells people (through ``community.notifications``). All of it is
essential: nobody may opt out of hearing that their work was hidden or their account
suspended. A suspended or banned person can no longer log in, so they are written to at
their address instead of their notification centre."""

from __future__ import annotations

from collections.abc import Iterable
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

if TYPE_CHECKING:
    from trefpunt.accounts.models import User

    from .models import Decision

HIDDEN = "moderation.hidden"
APPEAL_DECIDED = "moderation.appeal_decided"
WARNED = "moderation.warned"
LOCKED = "moderation.locked"
TAKEN_DOWN = "moderation.taken_down"


def register() -> None:
    def kind(key: str, label: Any) -> NotificationKind:
        name = key.removeprefix("moderation.")
        return NotificationKind(key, f"moderation/email/{name}.txt", label, essential=True)

    notification_kinds_register(
        kind(HIDDEN, _("Your content was hidden by staff")),
        kind(APPEAL_DECIDED, _("Staff decided your appeal")),
        kind(WARNED, _("A warning from staff")),
        kind(LOCKED, _("Your account was suspended or banned")),
        kind(TAKEN_DOWN, _("Work you took part in was taken down")),
    )


def _path(name: str, **kwargs: Any) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        path = reverse(name, kwargs=kwargs)
    return path.removeprefix(f"/{settings.LANGUAGE_CODE}")


def notify_hidden(decision: Decision, label: str) -> None:
    if decision.author_id is None:
        return
    notify(
        users=[decision.author_id],
        kind=HIDDEN,
        context={"title": decision.title, "what": label, "reason": decision.reason},
        path=_path("moderation:decision", pk=decision.pk),
    )


def notify_appeal_decided(decision: Decision) -> None:
    if decision.author_id is None:
        return
    notify(
        users=[decision.author_id],
        kind=APPEAL_DECIDED,
        context={
            "title": decision.title,
            "overturned": decision.appeal == decision.Appeal.OVERTURNED,
        },
        path=_path("moderation:decision", pk=decision.pk),
    )


def notify_warned(user: User, reason: str) -> None:
    notify(users=[user], kind=WARNED, context={"reason": reason})


def notify_locked(user: User, *, reason: str, ban: bool, ends: str) -> None:
    language = user.language or settings.LANGUAGE_CODE
    notify_address(
        address=user.email,
        language=language,
        kind=LOCKED,
        context={"reason": reason, "ban": ban, "ends": ends},
    )


def notify_taken_down(users: Iterable[int], *, title: str, what: str, refunded: bool) -> None:
    notify(
        users=users,
        kind=TAKEN_DOWN,
        context={"title": title, "what": what, "refunded": refunded},
    )
