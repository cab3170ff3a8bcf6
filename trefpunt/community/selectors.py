"""Reads of a person's notifications and preferences (only ever their own)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from trefpunt.core.exceptions import NotFound

from .models import Delivery, Notification, NotificationSetting
from .notifications import notification_kinds

if TYPE_CHECKING:
    from trefpunt.accounts.models import User


def notifications_for_user(*, user: User, unread: bool = False) -> QuerySet[Notification]:
    """The person's notices, newest first (one query per page; titles are stored)."""
    notices = Notification.objects.filter(user=user)
    if unread:
        notices = notices.filter(read_at__isnull=True)
    return notices.order_by("-id")


def notification_get_for_user(*, notification_id: int, user: User) -> Notification:
    notice = Notification.objects.filter(pk=notification_id, user=user).first()
    if notice is None:
        raise NotFound(_("Notification not found."))
    return notice


def unread_count(*, user: User) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


@dataclass(frozen=True)
class SettingRow:
    kind: str
    label: Any
    delivery: str
    essential: bool


def notification_settings_for_user(*, user: User) -> list[SettingRow]:
    """Every kind of notice with the person's choice (or the default, email at once)."""
    chosen = dict(NotificationSetting.objects.filter(user=user).values_list("kind", "delivery"))
    return [
        SettingRow(
            kind=kind.key,
            label=kind.label or kind.key,
            delivery=Delivery.IMMEDIATE if kind.essential else chosen.get(kind.key, "immediate"),
            essential=kind.essential,
        )
        for kind in notification_kinds()
    ]
