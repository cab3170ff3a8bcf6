"""What the webhooks tell their owners (registered with the notifications module)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from trefpunt.community.notifications import NotificationKind, notification_kinds_register

ENDPOINT_DISABLED = "webhooks.endpoint_disabled"


def register() -> None:
    notification_kinds_register(
        # Their systems stop hearing about their work: they must know, so it cannot be off.
        NotificationKind(
            ENDPOINT_DISABLED,
            "webhooks/email/endpoint_disabled.txt",
            _("Webhook endpoints disabled after failing"),
            essential=True,
        ),
    )
