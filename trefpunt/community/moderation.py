"""Messages can be reported (``moderation.registry``); a message the spam rules held back
is put in the same queue by the platform itself (``services.messages.message_post``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction
from django.utils.translation import gettext_lazy

from trefpunt.core.exceptions import NotFound
from trefpunt.moderation.registry import reportable_register

from .models import Message

if TYPE_CHECKING:
    from trefpunt.accounts.models import User


def _visible(message: Message, user: User) -> bool:
    from .selectors import message_visible, thread_get_for_user

    try:
        access = thread_get_for_user(thread_id=message.thread_id, user=user)
    except NotFound:
        return False
    return message_visible(access, message)


def _hide(message: Message, hidden: bool) -> None:
    """Hide for good, or show: a held message shown now reaches the other members."""
    if hidden:
        Message.objects.filter(pk=message.pk).update(status=Message.Status.HIDDEN)
        return
    released = Message.objects.filter(pk=message.pk, status=Message.Status.HELD).update(
        status=Message.Status.VISIBLE
    )
    Message.objects.filter(pk=message.pk).update(status=Message.Status.VISIBLE)
    if released:
        from .selectors import thread_get_for_user
        from .services.messages import _message_notify

        shown = Message.objects.select_related("author").get(pk=message.pk)
        access = thread_get_for_user(thread_id=shown.thread_id, user=shown.author)
        transaction.on_commit(lambda: _message_notify(access, shown))


def register() -> None:
    reportable_register(
        "community.message",
        model=Message,
        label=gettext_lazy("message"),
        author_field="author",
        visible_to=_visible,
        title=lambda message: message.body[:80],
        url=lambda message: f"/messages/{message.thread_id}/#m{message.number}",
        hide=_hide,
        is_hidden=lambda message: message.status != Message.Status.VISIBLE,
    )
