"""Reads of a person's notifications, preferences and conversations (only ever what they may
see: a thread outside their work is not found)."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.db.models import F, Q, QuerySet
from django.urls import reverse
from django.utils.translation import gettext as _

from trefpunt.core.db import prepared_cursor
from trefpunt.core.exceptions import NotFound

from .models import (
    Delivery,
    Message,
    MessageAttachment,
    Notification,
    NotificationSetting,
    Thread,
    ThreadMember,
)
from .notifications import notification_kinds
from .threads import ThreadTarget, target_may_read, thread_targets

# A message can be edited this long after it was sent.
EDIT_WINDOW = timedelta(minutes=10)
MESSAGES_PER_PAGE = 50  # a long thread opens on its latest messages
MESSAGES_PER_POLL = 200

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
class HeaderFacts:
    """What the page header shows of the person logged in."""

    display_name: str
    profile_url: str
    unread: int


# The header's facts in one written-out statement (prepared on PostgreSQL): every page a
# logged-in person opens renders the header, which read the profile and counted the unread
# notices with two ORM queries.
_HEADER = """
SELECT
  (SELECT p.display_name FROM {profile} p WHERE p.user_id = %s),
  (SELECT p.handle FROM {profile} p WHERE p.user_id = %s),
  (SELECT COUNT(*) FROM {notification} n WHERE n.user_id = %s AND n.read_at IS NULL)
"""


@functools.cache
def _header_query() -> str:
    from trefpunt.accounts.models import Profile

    return _HEADER.format(profile=Profile._meta.db_table, notification=Notification._meta.db_table)


def header_facts(*, user: User) -> HeaderFacts:
    """The person's display name, the address of their profile (their settings while they
    have no profile) and how many notices they have not read, in one statement."""
    with prepared_cursor() as cursor:
        cursor.execute(_header_query(), [user.pk, user.pk, user.pk])
        display_name, handle, unread = cursor.fetchone()
    return HeaderFacts(
        display_name=display_name or "",
        profile_url=(
            reverse("accounts:profile", kwargs={"handle": handle})
            if handle
            else reverse("accounts:profile_edit")
        ),
        unread=int(unread),
    )


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
            delivery=Delivery.IMMEDIATE if kind.essential else chosen.get(kind.key, kind.default),
            essential=kind.essential,
        )
        for kind in notification_kinds()
    ]


# --- conversations ----------------------------------------------------------------------


@dataclass(frozen=True)
class ThreadAccess:
    """What this viewer may do in this thread (the one answer views, API and templates use)."""

    thread: Thread
    target: ThreadTarget
    user: User | None
    is_member: bool
    is_staff: bool

    @property
    def can_post(self) -> bool:
        return self.user is not None and (self.is_member or self.target.public)

    def can_edit(self, message: Message, now: datetime) -> bool:
        return (
            self.user is not None
            and message.author_id == self.user.pk
            and message.status != Message.Status.HIDDEN
            and now - message.created_at <= EDIT_WINDOW
        )


def _authed(user: Any) -> User | None:
    return user if user is not None and user.is_authenticated else None


def thread_get_for_user(*, thread_id: int, user: Any) -> ThreadAccess:
    """A thread its viewer may read: a participant of the work it belongs to, anyone the
    mode lets read a public one (Q&A), or staff. Everyone else — and threads whose work is
    gone or not registered — get not-found."""
    thread = Thread.objects.filter(pk=thread_id).first()
    authed = _authed(user)
    if thread is None:
        raise NotFound(_("Conversation not found."))
    target = thread_targets([(thread.subject, thread.subject_id, thread.key)]).get(
        (thread.subject, thread.subject_id, thread.key)
    )
    is_staff = bool(authed and authed.is_staff)  # staff read every thread (moderation)
    if target is None or not (is_staff or target_may_read(target, authed)):
        raise NotFound(_("Conversation not found."))
    return ThreadAccess(
        thread=thread,
        target=target,
        user=authed,
        is_member=bool(authed and authed.pk in target.participants),
        is_staff=is_staff,
    )


def thread_messages(
    *, access: ThreadAccess, after: int | None = None, before: int | None = None
) -> list[Message]:
    """Messages the viewer may see, with authors and files, oldest first: those after
    number ``after`` (the poll and the API, from 0 on), or else the latest
    ``MESSAGES_PER_PAGE`` (before number ``before`` for the earlier pages of a long thread).
    Held messages show only to their author and staff; hidden ones to staff."""
    messages = (
        Message.objects.filter(thread=access.thread)
        .select_related("author__profile")
        .prefetch_related("attachments")
    )
    if not access.is_staff:
        own_held = (
            Q(author_id=access.user.pk, status=Message.Status.HELD) if access.user else Q(pk=None)
        )
        messages = messages.filter(Q(status=Message.Status.VISIBLE) | own_held)
    if after is not None:
        return list(messages.filter(number__gt=after).order_by("number")[:MESSAGES_PER_POLL])
    if before is not None:
        messages = messages.filter(number__lt=before)
    return list(reversed(messages.order_by("-number")[:MESSAGES_PER_PAGE]))


def thread_read_by(*, access: ThreadAccess) -> dict[int, list[str]]:
    """Read receipts: for each message number, who else has read up to it."""
    members = ThreadMember.objects.filter(thread=access.thread).select_related("user__profile")
    if access.user is not None:
        members = members.exclude(user_id=access.user.pk)
    seen: dict[int, list[str]] = {}
    for member in members:
        if member.read_count:
            seen.setdefault(member.read_count, []).append(member.user.profile.display_name)
    return seen


@dataclass(frozen=True)
class InboxRow:
    thread: Thread
    target: ThreadTarget
    unread: int


def inbox_for_user(*, user: User, limit: int = 50, offset: int = 0) -> list[InboxRow]:
    """The person's conversations, most recent first, with unread counts: one query for the
    page of memberships, then one resolver call per kind of work on it."""
    members = list(
        ThreadMember.objects.filter(user=user, last_message_at__isnull=False)
        .select_related("thread")
        .order_by("-last_message_at", "-id")[offset : offset + limit]
    )
    targets = thread_targets(
        [(m.thread.subject, m.thread.subject_id, m.thread.key) for m in members]
    )
    rows = []
    for member in members:
        thread = member.thread
        target = targets.get((thread.subject, thread.subject_id, thread.key))
        if target is not None and user.pk in target.participants | {thread.created_by_id}:
            rows.append(InboxRow(thread, target, max(0, thread.message_count - member.read_count)))
    return rows


def unread_messages(*, user: User) -> int:
    """How many of the person's conversations have messages they have not read."""
    return ThreadMember.objects.filter(user=user, read_count__lt=F("thread__message_count")).count()


def messages_held() -> QuerySet[Message]:
    """The staff queue: messages held back before anyone saw them, oldest first."""
    return (
        Message.objects.filter(status=Message.Status.HELD)
        .select_related("author__profile", "thread")
        .order_by("created_at", "id")
    )


def attachment_get_for_user(*, attachment_id: int, user: Any) -> MessageAttachment:
    attachment = (
        MessageAttachment.objects.select_related("message").filter(pk=attachment_id).first()
    )
    if attachment is None:
        raise NotFound(_("File not found."))
    access = thread_get_for_user(thread_id=attachment.message.thread_id, user=user)
    if not message_visible(access, attachment.message):
        raise NotFound(_("File not found."))
    return attachment


def message_visible(access: ThreadAccess, message: Message) -> bool:
    """Held messages show only to their author and staff; hidden ones only to staff."""
    if access.is_staff or message.status == Message.Status.VISIBLE:
        return True
    return (
        access.user is not None
        and message.author_id == access.user.pk
        and message.status == Message.Status.HELD
    )
