"""Notifications and notification settings of the authenticated person."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse
from django.utils.translation import get_language
from ninja import Body, Query, Router
from pydantic import Field

from trefpunt.core.api_schema import OFFSET_MAX, InSchema, declares
from trefpunt.core.types import AuthedRequest

from . import selectors, services
from .models import Message, Notification, Thread
from .notifications import absolute_url
from .schemas import (
    AttachmentOut,
    MessageIn,
    MessageOut,
    NotificationOut,
    NotificationPageOut,
    NotificationSettingOut,
    ReadAllOut,
    ThreadIn,
    ThreadOut,
)
from .selectors import ThreadAccess
from .services.messages import RateLimited

router = Router(tags=["notifications"])

MAX_LIMIT = 100


class PageIn(InSchema):
    unread: bool = False
    limit: int = Field(30, ge=1, le=MAX_LIMIT)
    offset: int = Field(0, ge=0, le=OFFSET_MAX)


def _out(notice: Notification) -> NotificationOut:
    """The notice in the request's language: its title and the link to its page."""
    language = get_language() or settings.LANGUAGE_CODE
    return NotificationOut(
        id=notice.pk,
        kind=notice.kind,
        title=notice.title(language),
        url=absolute_url(notice.path, language),
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


# --- conversations ----------------------------------------------------------------------


def _thread_out(thread: Thread, title: str, url: str, unread: int) -> ThreadOut:
    return ThreadOut(
        id=thread.pk,
        subject=thread.subject,
        subject_id=thread.subject_id,
        key=thread.key,
        title=title,
        url=absolute_url(url),
        message_count=thread.message_count,
        unread=unread,
        last_message_at=thread.last_message_at,
    )


def _access_out(access: ThreadAccess) -> ThreadOut:
    member = access.thread.members.filter(user=access.user).first() if access.user else None
    unread = access.thread.message_count - member.read_count if member else 0
    return _thread_out(access.thread, access.target.title, access.target.url, unread)


def _message_out(message: Message) -> MessageOut:
    return MessageOut(
        id=message.pk,
        number=message.number,
        author=str(message.author),
        body=message.body,
        status=message.status,
        created_at=message.created_at,
        edited_at=message.edited_at,
        attachments=[
            AttachmentOut(
                name=a.name,
                size=a.size,
                url=absolute_url(reverse("community:attachment", args=[a.pk])),
            )
            for a in message.attachments.all()
        ],
    )


class ThreadPageIn(InSchema):
    limit: int = Field(50, ge=1, le=MAX_LIMIT)
    offset: int = Field(0, ge=0, le=OFFSET_MAX)


@router.get("/threads", response=list[ThreadOut], summary="My conversations, newest first")
def thread_list_api(request: AuthedRequest, page: Query[ThreadPageIn]) -> list[ThreadOut]:
    rows = selectors.inbox_for_user(user=request.user, limit=page.limit, offset=page.offset)
    return [_thread_out(r.thread, r.target.title, r.target.url, r.unread) for r in rows]


@router.post(
    "/threads",
    response=ThreadOut,
    summary="Open the conversation on a piece of work",
    description="`subject` names the kind of work (`entry`, `batch`, `proposal`, …) and "
    "`subject_id` its id; `key` separates several conversations on one piece of work. "
    "Starts the conversation when it does not exist yet; work you cannot see answers 404.",
)
def thread_open_api(request: AuthedRequest, payload: ThreadIn) -> ThreadOut:
    thread = services.thread_open(
        user=request.user, subject=payload.subject, subject_id=payload.subject_id, key=payload.key
    )
    return _access_out(selectors.thread_get_for_user(thread_id=thread.pk, user=request.user))


@router.get("/threads/{thread_id}", response=ThreadOut)
def thread_get_api(request: AuthedRequest, thread_id: int) -> ThreadOut:
    return _access_out(selectors.thread_get_for_user(thread_id=thread_id, user=request.user))


class AfterIn(InSchema):
    after: int = Field(0, ge=0, le=2**31)


@router.get(
    "/threads/{thread_id}/messages",
    response=list[MessageOut],
    summary="Messages of a conversation (after number `after`); marks them read",
)
def message_list_api(
    request: AuthedRequest, thread_id: int, page: Query[AfterIn]
) -> list[MessageOut]:
    access = selectors.thread_get_for_user(thread_id=thread_id, user=request.user)
    items = selectors.thread_messages(access=access, after=page.after)
    services.thread_read(access=access)
    return [_message_out(m) for m in items]


@router.post("/threads/{thread_id}/messages", response=MessageOut, summary="Write a message")
@declares(RateLimited)
def message_create_api(request: AuthedRequest, thread_id: int, payload: MessageIn) -> MessageOut:
    message = services.message_post(thread_id=thread_id, user=request.user, body=payload.body)
    return _message_out(message)
