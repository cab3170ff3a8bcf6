"""Every write of notifications and preferences."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from trefpunt.core.exceptions import Conflict, ErrorCode, NotFound, ValidationFailed

from ..models import Delivery, Notification, NotificationSetting
from ..notifications import notification_kind, unsubscribe_token_read
from ..selectors import notification_get_for_user

if TYPE_CHECKING:
    from trefpunt.accounts.models import User


def notification_read(*, notification_id: int, user: User) -> Notification:
    """Mark one of the person's notices read (reading it again changes nothing)."""
    notice = notification_get_for_user(notification_id=notification_id, user=user)
    if notice.read_at is None:
        now = timezone.now()
        Notification.objects.filter(pk=notice.pk, read_at__isnull=True).update(read_at=now)
        notice.read_at = now
    return notice


def notifications_read_all(*, user: User) -> int:
    """Mark every unread notice of the person read; returns how many."""
    return Notification.objects.filter(user=user, read_at__isnull=True).update(
        read_at=timezone.now()
    )


def notification_settings_update(*, user: User, choices: Mapping[str, str]) -> None:
    """Set how the person gets each kind of notice. Every bad choice is named at once and
    nothing is saved; essential kinds (money, security) always go by email at once."""
    errors: dict[str, str] = {}
    for key, delivery in choices.items():
        try:
            kind = notification_kind(key)
        except ValueError:
            errors[key] = _("Unknown kind of notification.")
            continue
        if delivery not in Delivery.values:
            errors[key] = _("Choose one of: %(choices)s.") % {"choices": ", ".join(Delivery.values)}
        elif kind.essential and delivery != Delivery.IMMEDIATE:
            errors[key] = _("Emails about money and security cannot be turned off.")
    if errors:
        raise ValidationFailed(fields=errors)
    with transaction.atomic(durable=True):
        for key, delivery in choices.items():
            NotificationSetting.objects.update_or_create(
                user=user, kind=key, defaults={"delivery": delivery}
            )


def notification_unsubscribe(*, token: str) -> str:
    """Turn off the email of one kind for the person the signed token names (no login:
    the token is the proof). Returns the kind. A tampered token is not found."""
    found = unsubscribe_token_read(token)
    if found is None:
        raise NotFound(_("This unsubscribe link is not valid."))
    user_id, key = found
    if notification_kind(key).essential:
        raise Conflict(
            _("Emails about money and security cannot be turned off."),
            code=ErrorCode.ESSENTIAL_NOTICE,
        )
    with transaction.atomic(durable=True):
        NotificationSetting.objects.update_or_create(
            user_id=user_id, kind=key, defaults={"delivery": Delivery.OFF}
        )
    return key
