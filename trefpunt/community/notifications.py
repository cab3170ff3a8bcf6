"""Notifications: the one way the platform tells a person that something happened.

Every email (and, with the notification centre, every in-app notice) goes through
``notify``: it runs after the transaction that caused it commits, enqueues one background
task per recipient (the web request never waits for a mail server, and a failing one never
undoes the transition), and the task renders the kind's template **in the recipient's
language** (the language they last used the site in, ``User.language``) with absolute links
built from ``settings.SITE_URL`` and the site's name from ``settings.SITE_NAME``.

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
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import translation

if TYPE_CHECKING:
    from trefpunt.accounts.models import User

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class NotificationKind:
    key: str
    template: str
    label: Any = ""
    essential: bool = False
    # Turns the queued context (ids, numbers) into what the template shows, in the
    # recipient's language and at sending time (e.g. loads the contest by its id).
    prepare: Callable[[dict[str, Any]], dict[str, Any]] | None = None


_KINDS: dict[str, NotificationKind] = {}


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


def absolute_url(path: str) -> str:
    """``path`` on this site as an absolute link (``settings.SITE_URL``); full URLs pass."""
    if not path or path.startswith(("http://", "https://")):
        return path
    return settings.SITE_URL + (path if path.startswith("/") else "/" + path)


def notify(
    *,
    users: Iterable[User | int],
    kind: str,
    context: Mapping[str, Any] | None = None,
    path: str = "",
) -> None:
    """Tell ``users`` that ``kind`` happened, after the current transaction commits (at
    once outside one). One queued task per person; duplicates in ``users`` are told once."""
    notification_kind(kind)
    payload = _json(context)
    recipients = sorted({u if isinstance(u, int) else int(u.pk) for u in users})
    if not recipients:
        return

    def enqueue() -> None:
        from .tasks import notification_send_task

        for user_id in recipients:
            notification_send_task.enqueue(to=user_id, kind=kind, context=payload, path=path)

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
) -> tuple[str, str]:
    """``(subject, body)`` of a notice, rendered in ``language``."""
    spec = notification_kind(kind)
    with translation.override(language):
        values = spec.prepare(dict(context)) if spec.prepare else dict(context)
        text = render_to_string(
            spec.template,
            {
                **values,
                "name": name,
                "link": absolute_url(path),
                "site_name": settings.SITE_NAME,
                "site_url": settings.SITE_URL,
                "language": language,
            },
        )
    subject, _sep, body = text.strip().partition("\n")
    return subject.strip(), body.strip() + "\n"


def notification_deliver(
    *,
    to: int | str,
    kind: str,
    context: Mapping[str, Any],
    path: str = "",
    language: str = "",
) -> bool:
    """Render and send one notice (run by the task worker). ``to`` is a user id, or an
    address. A person who no longer exists or is inactive gets nothing."""
    from trefpunt.accounts.models import User

    if isinstance(to, int):
        user = User.objects.select_related("profile").filter(pk=to, is_active=True).first()
        if user is None:
            return False
        address = user.email
        language = user.language or settings.LANGUAGE_CODE
        profile = getattr(user, "profile", None)
        name = profile.display_name if profile else ""
    else:
        address, name = to, ""
        language = language or settings.LANGUAGE_CODE
    subject, body = notification_render(
        kind=kind, context=context, language=language, name=name, path=path
    )
    EmailMessage(
        subject=f"{settings.ACCOUNT_EMAIL_SUBJECT_PREFIX}{subject}", body=body, to=[address]
    ).send()
    return True
