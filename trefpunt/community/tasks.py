"""Background work of the community app. Tasks take ids and plain values."""

from __future__ import annotations

from typing import Any

from django_tasks import task


@task()
def notification_send_task(
    *, to: int | str, kind: str, context: dict[str, Any], path: str = "", language: str = ""
) -> bool:
    """Render one notice in the recipient's language and send it."""
    from .notifications import notification_deliver

    return notification_deliver(to=to, kind=kind, context=context, path=path, language=language)


@task()
def email_send_task(*, subject: str, body: str, to: list[str], html: str = "") -> None:
    """Send an email rendered earlier (allauth's, rendered in the request's language)."""
    from django.core.mail import EmailMultiAlternatives

    message = EmailMultiAlternatives(subject=subject, body=body, to=to)
    if html:
        message.attach_alternative(html, "text/html")
    message.send()
