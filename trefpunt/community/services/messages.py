"""Every write of conversations: open a thread on a piece of work, post, edit, read, and the
staff decision on held messages.

Lock order: the thread row (``select_for_update``), then its member rows. Posting numbers
the message under the thread lock (``message_count + 1``), so numbers are gapless and two
concurrent posts never share one; the unique (thread, number) is the backstop. Files are
checked and stored *before* the lock is taken and removed again if the post fails.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from trefpunt.community.notifications import notify
from trefpunt.core.db import is_id
from trefpunt.core.exceptions import (
    ApplicationError,
    Conflict,
    ErrorCode,
    NotFound,
    ValidationFailed,
)
from trefpunt.core.files import file_prepare

from ..models import Message, MessageAttachment, Thread, ThreadMember
from ..selectors import EDIT_WINDOW, ThreadAccess, thread_get_for_user
from ..threads import target_may_read, thread_kind, thread_targets

if TYPE_CHECKING:
    from trefpunt.accounts.models import User

BODY_MAX = Message._meta.get_field("body").max_length or 5000
MAX_FILES = 5
LINK = re.compile(r"https?://|www\.", re.IGNORECASE)


class RateLimited(ApplicationError):
    status = 429
    code = ErrorCode.RATE_LIMITED
    default_message = _("You are sending messages too fast. Wait a few minutes and try again.")


def thread_open(*, user: User, subject: str, subject_id: int, key: str = "") -> Thread:
    """The thread on ``subject:subject_id`` (and ``key``), started if it does not exist yet.
    Only people who may read it (and, to start it, the mode's ``may_start``) get it;
    everyone else gets not-found, as for work they cannot see."""
    kind = thread_kind(subject)
    target = (
        thread_targets([(subject, subject_id, key)]).get((subject, subject_id, key))
        if kind and is_id(subject_id)
        else None
    )
    if kind is None or target is None or not target_may_read(target, user):
        raise NotFound(_("Conversation not found."))
    thread = Thread.objects.filter(subject=subject, subject_id=subject_id, key=key).first()
    if thread is not None:
        return thread
    if kind.may_start is not None and not kind.may_start(user, subject_id, key):
        raise NotFound(_("Conversation not found."))
    try:
        with transaction.atomic(durable=True):
            thread = Thread.objects.create(
                subject=subject, subject_id=subject_id, key=key, created_by=user
            )
            ThreadMember.objects.bulk_create(
                [ThreadMember(thread=thread, user_id=pk) for pk in sorted(target.participants)]
            )
    except IntegrityError:  # started at the same moment by the other side
        thread = Thread.objects.get(subject=subject, subject_id=subject_id, key=key)
    return thread


def _body_clean(body: str, files: Sequence[Any]) -> str:
    body = (body or "").strip()
    errors: dict[str, str] = {}
    if not body and not files:
        errors["body"] = _("Write a message or attach a file.")
    elif len(body) > BODY_MAX:
        errors["body"] = _("At most %(n)d characters.") % {"n": BODY_MAX}
    if len(files) > MAX_FILES:
        errors["files"] = _("At most %(n)d files per message.") % {"n": MAX_FILES}
    if errors:
        raise ValidationFailed(fields=errors)
    return body


def _rate_check(user: User) -> None:
    """At most ``MESSAGE_RATE_LIMIT`` messages per person per ten minutes, counted in the
    shared cache (Redis when several processes serve the site)."""
    limit = int(settings.MESSAGE_RATE_LIMIT)
    bucket = f"community:messages:{user.pk}:{int(timezone.now().timestamp()) // 600}"
    cache.add(bucket, 0, timeout=600)
    try:
        sent = cache.incr(bucket)
    except ValueError:  # expired between add and incr
        cache.set(bucket, 1, timeout=600)
        sent = 1
    if sent > limit:
        raise RateLimited()


def _held(user: User, body: str) -> bool:
    """A link-heavy first message from a new account waits for staff (spam's usual shape)."""
    young = timezone.now() - user.date_joined < timedelta(days=settings.NEW_ACCOUNT_DAYS)
    return (
        young
        and len(LINK.findall(body)) >= 2
        and not Message.objects.filter(author=user, status=Message.Status.VISIBLE).exists()
    )


def _files_store(files: Sequence[Any]) -> list[tuple[Any, MessageAttachment]]:
    stored = []
    for upload in files:
        prepared = file_prepare(upload, field="files", derive=False)
        attachment = MessageAttachment(
            name=prepared.original_name,
            content_type=prepared.content_type,
            size=prepared.size,
        )
        attachment.file.save(prepared.name(), ContentFile(prepared.content), save=False)
        stored.append((upload, attachment))
    return stored


def report_raise(*, kind: str, object_id: int) -> None:
    from trefpunt.moderation.services import report_raise as raise_report

    raise_report(kind=kind, object_id=object_id)


def message_post(*, thread_id: int, user: User, body: str, files: Sequence[Any] = ()) -> Message:
    """Add a message to a thread its author may write in; the other members are told
    (unless the message is held for staff). Locks the thread row, then the members."""
    access = thread_get_for_user(thread_id=thread_id, user=user)
    if not access.can_post:
        raise NotFound(_("Conversation not found."))
    body = _body_clean(body, files)
    _rate_check(user)
    held = _held(user, body)
    stored = _files_store(files)
    try:
        with transaction.atomic(durable=True):
            message = _message_add_locked(access, user, body, held)
            if held:
                # Into the one moderation queue; a dismissal there releases it.
                report_raise(kind="community.message", object_id=message.pk)
            for _upload, attachment in stored:
                attachment.message = message
            MessageAttachment.objects.bulk_create([a for _u, a in stored])
    except Exception:
        for _upload, attachment in stored:
            attachment.file.storage.delete(attachment.file.name or "")
        raise
    if not held:
        _message_notify(access, message)
    return message


def _message_add_locked(access: ThreadAccess, user: User, body: str, held: bool) -> Message:
    thread = Thread.objects.select_for_update().get(pk=access.thread.pk)
    now = timezone.now()
    number = thread.message_count + 1
    message = Message.objects.create(
        thread=thread,
        number=number,
        author=user,
        body=body,
        status=Message.Status.HELD if held else Message.Status.VISIBLE,
    )
    Thread.objects.filter(pk=thread.pk).update(message_count=number, last_message_at=now)
    wanted = set(access.target.participants) | {user.pk}
    existing = set(
        ThreadMember.objects.filter(thread=thread, user_id__in=wanted).values_list(
            "user_id", flat=True
        )
    )
    ThreadMember.objects.bulk_create(
        [ThreadMember(thread=thread, user_id=pk) for pk in sorted(wanted - existing)]
    )
    ThreadMember.objects.filter(thread=thread).update(last_message_at=now)
    ThreadMember.objects.filter(thread=thread, user=user).update(read_count=number)
    return message


def _message_notify(access: ThreadAccess, message: Message) -> None:
    others = [pk for pk in access.target.participants if pk != message.author_id]
    if others:
        notify(
            users=others,
            kind="community.message",
            context={
                "author": str(message.author),
                "title": access.target.title,
                "excerpt": message.body[:300],
            },
            path=f"/messages/{access.thread.pk}/#m{message.number}",
        )


def message_edit(*, message_id: int, user: User, body: str) -> Message:
    """Change one's own message within ten minutes of sending it."""
    message = Message.objects.filter(pk=message_id, author=user).first()
    if message is None:
        raise NotFound(_("Message not found."))
    access = thread_get_for_user(thread_id=message.thread_id, user=user)
    body = _body_clean(body, list(message.attachments.all()))
    if not access.can_edit(message, timezone.now()):
        raise Conflict(
            _("A message can be changed only in the first %(m)d minutes.")
            % {"m": int(EDIT_WINDOW.total_seconds() // 60)},
            code=ErrorCode.EDIT_WINDOW_CLOSED,
        )
    Message.objects.filter(pk=message.pk).update(body=body, edited_at=timezone.now())
    message.refresh_from_db()
    return message


def thread_read(*, access: ThreadAccess) -> None:
    """The viewer has read everything in the thread so far (members only; read receipts)."""
    if access.user is not None and access.is_member:
        ThreadMember.objects.filter(
            thread=access.thread, user=access.user, read_count__lt=F("thread__message_count")
        ).update(read_count=access.thread.message_count)


def held_message_decide(*, message_id: int, staff: User, release: bool) -> Message:
    """Staff release a held message (the members are told then) or hide it for good."""
    if not staff.is_staff:
        raise NotFound(_("Message not found."))
    with transaction.atomic(durable=True):
        updated = Message.objects.filter(pk=message_id, status=Message.Status.HELD).update(
            status=Message.Status.VISIBLE if release else Message.Status.HIDDEN
        )
        if not updated:
            raise Conflict(_("This message was already decided."), code=ErrorCode.ALREADY_DONE)
    message = Message.objects.select_related("author").get(pk=message_id)
    if release:
        access = thread_get_for_user(thread_id=message.thread_id, user=staff)
        _message_notify(access, message)
    return message
