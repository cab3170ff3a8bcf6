"""What the microtask mode tells people (registered with the notifications module)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from trefpunt.community.notifications import NotificationKind, notification_kinds_register

FAIR_PAY_PAUSED = "microtasks.fair_pay_paused"


def register() -> None:
    notification_kinds_register(
        # The client's batch stopped handing out work until they raise the reward: money,
        # so it cannot be turned off.
        NotificationKind(
            FAIR_PAY_PAUSED,
            "microtasks/email/fair_pay_paused.txt",
            _("Batches paused because they pay below the minimum hourly rate"),
            essential=True,
        ),
    )
