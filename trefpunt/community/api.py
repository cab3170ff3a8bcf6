"""Notifications and notification settings of the authenticated person."""

from __future__ import annotations

from django.utils.translation import get_language
from ninja import Body, Query, Router
from pydantic import Field

from trefpunt.core.api_schema import OFFSET_MAX, InSchema
from trefpunt.core.types import AuthedRequest

from . import selectors, services
from .models import Notification
from .notifications import absolute_url
from .schemas import NotificationOut, NotificationPageOut, NotificationSettingOut, ReadAllOut

router = Router(tags=["notifications"])

MAX_LIMIT = 100


class PageIn(InSchema):
    unread: bool = False
    limit: int = Field(30, ge=1, le=MAX_LIMIT)
    offset: int = Field(0, ge=0, le=OFFSET_MAX)


def _out(notice: Notification) -> NotificationOut:
    return NotificationOut(
        id=notice.pk,
        kind=notice.kind,
        title=notice.title(get_language() or "en"),
        url=absolute_url(notice.path),
        created_at=notice.created_at,
        read=notice.read_at is not None,
    )


@router.get("/notifications", response=NotificationPageOut, summary="My notifications")
def notification_list_api(request: AuthedRequest, page: Query[PageIn]) -> NotificationPageOut:
    notices = selectors.notifications_for_user(user=request.user, unread=page.unread)
    return NotificationPageOut(
        count=notices.count(),
        unread=selectors.unread_count(user=request.user),
        items=[_out(n) for n in notices[page.offset : page.offset + page.limit]],
    )


@router.post("/notifications/{notification_id}/read", response=NotificationOut)
def notification_read_api(request: AuthedRequest, notification_id: int) -> NotificationOut:
    return _out(services.notification_read(notification_id=notification_id, user=request.user))


@router.post("/notifications/read-all", response=ReadAllOut, summary="Mark all as read")
def notification_read_all_api(request: AuthedRequest) -> ReadAllOut:
    return ReadAllOut(marked_read=services.notifications_read_all(user=request.user))


def _settings(request: AuthedRequest) -> list[NotificationSettingOut]:
    return [
        NotificationSettingOut(
            kind=row.kind, label=str(row.label), delivery=row.delivery, essential=row.essential
        )
        for row in selectors.notification_settings_for_user(user=request.user)
    ]


@router.get("/me/notification-settings", response=list[NotificationSettingOut])
def notification_settings_api(request: AuthedRequest) -> list[NotificationSettingOut]:
    return _settings(request)


@router.put(
    "/me/notification-settings",
    response=list[NotificationSettingOut],
    summary="Choose how each kind of notification reaches me",
    description="Send `{kind: delivery}` for the kinds to change; delivery is `immediate`, "
    "`digest` or `off`. Money and security kinds stay `immediate`.",
)
def notification_settings_update_api(
    request: AuthedRequest, choices: Body[dict[str, str]]
) -> list[NotificationSettingOut]:
    services.notification_settings_update(user=request.user, choices=choices)
    return _settings(request)
