from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from django.db import transaction
from django.http import HttpRequest

from .services import profile_create


class AccountAdapter(DefaultAccountAdapter):
    """Gives every signed-up user a profile in the same transaction as the user row, and
    queues allauth's emails (verification, password reset, security notices) instead of
    sending them in the web request: rendered here, in the language of the page the person
    is on, sent by the task worker."""

    def render_mail(self, template_prefix: str, email: str, context: dict[str, Any]) -> Any:
        message = super().render_mail(template_prefix, email, context)
        html = next(
            (body for body, mime in getattr(message, "alternatives", []) if mime == "text/html"),
            "",
        )
        return _QueuedEmail(str(message.subject), str(message.body), list(message.to), str(html))

    def save_user(self, request: HttpRequest, user: Any, form: Any, commit: bool = True) -> Any:
        with transaction.atomic():
            user = super().save_user(request, user, form, commit=commit)
            if commit:
                profile_create(user=user, display_name=form.cleaned_data.get("display_name", ""))
        return user


class _QueuedEmail:
    """An allauth email, rendered: ``send()`` queues it for the task worker (after the
    transaction commits) instead of talking to the mail server in the web request."""

    def __init__(self, subject: str, body: str, to: list[str], html: str) -> None:
        self.subject, self.body, self.to, self.html = subject, body, to, html

    def send(self) -> int:
        from trefpunt.community.tasks import email_send_task

        transaction.on_commit(
            lambda: email_send_task.enqueue(
                subject=self.subject, body=self.body, to=self.to, html=self.html
            )
        )
        return 1
