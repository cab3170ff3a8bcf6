"""Background work of the community app. Tasks take ids and plain values."""

from __future__ import annotations

from typing import Any

from django_tasks import task

from trefpunt.core.scheduling import periodic


@task()
def notification_send_task(
    *,
    to: int | str,
    kind: str,
    context: dict[str, Any],
    path: str = "",
    language: str = "",
    uid: str = "",
) -> bool:
    """Record one notice and email it in the recipient's language, per their preference."""
    from .notifications import notification_deliver

    return notification_deliver(
        to=to, kind=kind, context=context, path=path, language=language, uid=uid
    )


@task()
def email_send_task(*, subject: str, body: str, to: list[str], html: str = "") -> None:
    """Send an email rendered earlier (allauth's, rendered in the request's language)."""
    from django.core.mail import EmailMultiAlternatives

    message = EmailMultiAlternatives(subject=subject, body=body, to=to)
    if html:
        message.attach_alternative(html, "text/html")
    message.send()


@periodic
@task()
def notifications_digest_task() -> int:
    """The daily summary (sends nothing until the summary hour, and each notice once)."""
    from .notifications import notifications_digest_send

    return notifications_digest_send()
