"""Notifications: the one way the platform tells a person that something happened.

Every notice goes through ``notify``: after the transaction that caused it commits, it
enqueues one background task per recipient (the web request never waits for a mail server,
and a failing one never undoes the transition). The task records the notice in the
person's notification centre (``Notification``) and emails it per their preference for its
kind (``NotificationSetting``): at once, in the daily summary (``notifications_digest_send``),
or not at all — except *essential* kinds (money, security), which always go at once. Emails
are rendered **in the recipient's language** (the language they last used the site in,
``User.language``) with absolute links built from ``settings.SITE_URL``, the site's name from
``settings.SITE_NAME``, a link to the preferences and, for kinds that can be turned off, a
signed one-click unsubscribe link (RFC 8058 headers).

A mode registers its kinds once (from ``AppConfig.ready``)::

    notification_kinds_register(
        NotificationKind("contests.awarded", "contests/email/awarded.txt", _("You won a prize"),
                         essential=True),
    )

and calls ``notify(users=[winner], kind="contests.awarded", context={...}, path=url)``.
The context must be JSON (it travels through the task queue): ids, numbers, strings —
amounts as cents with their currency, formatted by the template's ``money`` filter in the
recipient's language; a kind's ``prepare`` turns ids into objects when the notice is
sent. A template extends ``community/email/base.txt`` and fills the blocks ``subject`` (one
line) and ``body``.

``essential`` kinds (money, security) are the ones a person cannot turn off once
preferences exist.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from trefpunt.core.web import absolute_url

if TYPE_CHECKING:
    from trefpunt.accounts.models import User

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class NotificationKind:
    key: str
    template: str
    label: Any = ""
    essential: bool = False
    # How a person who never chose gets it by email: "immediate" or "digest" (for kinds that
    # can come many times a day, such as each new entry in a contest).
    default: str = "immediate"
    # Turns the queued context (ids, numbers) into what the template shows, in the
    # recipient's language and at sending time (e.g. loads the contest by its id).
    prepare: Callable[[dict[str, Any]], dict[str, Any]] | None = None


_KINDS: dict[str, NotificationKind] = {}
UNSUBSCRIBE_SALT = "trefpunt.community.unsubscribe"


def notification_kinds_register(*kinds: NotificationKind) -> None:
    for kind in kinds:
        _KINDS[kind.key] = kind


def notification_kind(key: str) -> NotificationKind:
    try:
        return _KINDS[key]
    except KeyError:
        raise ValueError(f"unknown notification kind {key!r}: register it first") from None


def notification_kinds() -> list[NotificationKind]:
    return sorted(_KINDS.values(), key=lambda k: k.key)


def notify(
    *,
    users: Iterable[User | int],
    kind: str,
    context: Mapping[str, Any] | None = None,
    path: str = "",
    uid: str = "",
) -> None:
    """Tell ``users`` that ``kind`` happened, after the current transaction commits (at
    once outside one). One queued task per person; duplicates in ``users`` are told once.
    A stable ``uid`` (at most 40 characters) makes a notice that two transactions may both
    decide to send (a batch finishing) reach each person once."""
    notification_kind(kind)
    payload = _json(context)
    recipients = sorted({u if isinstance(u, int) else int(u.pk) for u in users})
    if not recipients:
        return
    uid = uid or uuid.uuid4().hex

    def enqueue() -> None:
        from .tasks import notification_send_task

        for user_id in recipients:
            notification_send_task.enqueue(
                to=user_id, kind=kind, context=payload, path=path, uid=uid
            )

    transaction.on_commit(enqueue)


def notify_address(
    *,
    address: str,
    language: str,
    kind: str,
    context: Mapping[str, Any] | None = None,
    path: str = "",
) -> None:
    """Like ``notify`` for someone known only by email address (an invitation to join)."""
    notification_kind(kind)
    payload = _json(context)

    def enqueue() -> None:
        from .tasks import notification_send_task

        notification_send_task.enqueue(
            to=address, kind=kind, context=payload, path=path, language=language
        )

    transaction.on_commit(enqueue)


def _json(context: Mapping[str, Any] | None) -> dict[str, Any]:
    payload = dict(context or {})
    json.dumps(payload)  # fail where the notice is made, not later in the worker
    return payload


def notification_render(
    *,
    kind: str,
    context: Mapping[str, Any],
    language: str,
    name: str = "",
    path: str = "",
    extra: Mapping[str, Any] | None = None,
) -> tuple[str, str]:
    """``(subject, body)`` of a notice, rendered in ``language``."""
    spec = notification_kind(kind)
    with translation.override(language):
        values = spec.prepare(dict(context)) if spec.prepare else dict(context)
        text = render_to_string(
            spec.template,
            {
                **values,
                **(extra or {}),
                "name": name,
                "link": absolute_url(path, language),
                "site_name": settings.SITE_NAME,
                "site_url": settings.SITE_URL,
                "language": language,
            },
        )
    subject, _sep, body = text.strip().partition("\n")
    return subject.strip(), body.strip() + "\n"


# --- delivery -------------------------------------------------------------------------


def delivery_for(*, user_id: int, kind: NotificationKind) -> str:
    """How ``user_id`` gets ``kind`` by email: their choice, else at once. Essential kinds
    (money, security) always go at once."""
    from .models import Delivery, NotificationSetting

    if kind.essential:
        return Delivery.IMMEDIATE
    chosen = (
        NotificationSetting.objects.filter(user_id=user_id, kind=kind.key)
        .values_list("delivery", flat=True)
        .first()
    )
    return chosen or kind.default


def unsubscribe_token(*, user_id: int, kind: str) -> str:
    """A signed token that turns off one kind of email for one person, without logging in."""
    return signing.dumps({"u": user_id, "k": kind}, salt=UNSUBSCRIBE_SALT, compress=True)


def unsubscribe_token_read(token: str) -> tuple[int, str] | None:
    """``(user id, kind)`` of a valid token; ``None`` for a tampered or foreign one."""
    try:
        data = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("u"), int):
        return None
    if not isinstance(data.get("k"), str) or data["k"] not in _KINDS:
        return None
    return data["u"], data["k"]


def _footer_links(user_id: int, kind: NotificationKind) -> dict[str, str]:
    links = {"settings_link": absolute_url(reverse("community:settings"))}
    if not kind.essential:
        token = unsubscribe_token(user_id=user_id, kind=kind.key)
        links["unsubscribe_link"] = absolute_url(reverse("unsubscribe", args=[token]))
    return links


def _send(*, address: str, subject: str, body: str, unsubscribe: str = "") -> None:
    headers = {}
    if unsubscribe:
        # RFC 8058: mail programs offer a one-click "unsubscribe" that POSTs to this link.
        headers = {
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        }
    EmailMessage(
        subject=f"{settings.ACCOUNT_EMAIL_SUBJECT_PREFIX}{subject}",
        body=body,
        to=[address],
        headers=headers,
    ).send()


def notification_deliver(
    *,
    to: int | str,
    kind: str,
    context: Mapping[str, Any],
    path: str = "",
    language: str = "",
    uid: str = "",
) -> bool:
    """Record and send one notice (run by the task worker). ``to`` is a user id — the notice
    lands in their notification centre and is emailed per their preference — or an
    address (emailed only). A person who no longer exists or is inactive gets nothing.
    Running it twice for the same ``uid`` records and emails once."""
    if isinstance(to, str):
        subject, body = notification_render(
            kind=kind, context=context, language=language or settings.LANGUAGE_CODE, path=path
        )
        _send(address=to, subject=subject, body=body)
        return True
    from trefpunt.accounts.models import User

    from .models import Delivery, Notification

    user = User.objects.select_related("profile").filter(pk=to, is_active=True).first()
    if user is None:
        return False
    spec = notification_kind(kind)
    name = user.profile.display_name if hasattr(user, "profile") else ""
    titles = {
        code: notification_render(kind=kind, context=context, language=code, path=path)[0]
        for code, _label in settings.LANGUAGES
    }
    delivery = delivery_for(user_id=user.pk, kind=spec)
    notice, _created = Notification.objects.get_or_create(
        user=user,
        uid=uid or uuid.uuid4().hex,
        defaults={
            "kind": kind,
            "context": dict(context),
            "path": path,
            "titles": titles,
            "email": Notification.Email.DIGEST
            if delivery == Delivery.DIGEST
            else Notification.Email.NONE,
        },
    )
    if delivery != Delivery.IMMEDIATE:
        return True
    # Claim the email before sending it, so a second run of the task does not send it again.
    claimed = Notification.objects.filter(pk=notice.pk, email=Notification.Email.NONE).update(
        email=Notification.Email.SENT
    )
    if not claimed:
        return True
    links = _footer_links(user.pk, spec)
    subject, body = notification_render(
        kind=kind,
        context=context,
        language=user.language or settings.LANGUAGE_CODE,
        name=name,
        path=path,
        extra=links,
    )
    try:
        _send(
            address=user.email,
            subject=subject,
            body=body,
            unsubscribe=links.get("unsubscribe_link", ""),
        )
    except Exception:
        Notification.objects.filter(pk=notice.pk).update(email=Notification.Email.NONE)
        raise
    return True


# --- the daily summary -------------------------------------------------------------------


def digest_cutoff(now: datetime) -> datetime:
    """The latest summary time at or before ``now`` (``NOTIFICATION_DIGEST_HOUR`` o'clock in
    the site's time zone): notices made before it go into that day's summary."""
    local = timezone.localtime(now)
    cutoff = local.replace(
        hour=settings.NOTIFICATION_DIGEST_HOUR, minute=0, second=0, microsecond=0
    )
    if cutoff > local:
        cutoff -= timedelta(days=1)
    return cutoff


def notifications_digest_send(*, now: datetime | None = None) -> int:
    """Send each person one email with every notice waiting for their daily summary that
    was made before today's summary time. Idempotent: each person's notices are claimed by
    a conditional update before the email goes, so a second run (or a concurrent one) sends
    nothing more. Returns the number of summaries sent."""
    from trefpunt.accounts.models import User

    from .models import Notification

    cutoff = digest_cutoff(now or timezone.now())
    waiting = Notification.objects.filter(email=Notification.Email.DIGEST, created_at__lt=cutoff)
    sent = 0
    for user_id in waiting.order_by().values_list("user_id", flat=True).distinct():
        notices = list(waiting.filter(user_id=user_id).order_by("id"))
        claimed = Notification.objects.filter(
            pk__in=[n.pk for n in notices], email=Notification.Email.DIGEST
        ).update(email=Notification.Email.SENT)
        user = User.objects.select_related("profile").filter(pk=user_id, is_active=True).first()
        if claimed != len(notices) or user is None:
            continue  # another run took them, or the person is gone
        _digest_email(user, notices)
        sent += 1
    return sent


def _digest_email(user: Any, notices: list[Any]) -> None:
    language = user.language or settings.LANGUAGE_CODE
    with translation.override(language):
        text = render_to_string(
            "community/email/digest.txt",
            {
                "name": user.profile.display_name if hasattr(user, "profile") else "",
                "items": [(n.title(language), absolute_url(n.path, language)) for n in notices],
                "count": len(notices),
                "site_name": settings.SITE_NAME,
                "site_url": settings.SITE_URL,
                "settings_link": absolute_url(reverse("community:settings")),
            },
        )
    subject, _sep, body = text.strip().partition("\n")
    _send(address=user.email, subject=subject.strip(), body=body.strip() + "\n")
