"""What the accounts app tells people (registered with the notifications module)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from trefpunt.community.notifications import NotificationKind, notification_kinds_register

from .models import Role


def _invitation(context: dict[str, Any]) -> dict[str, Any]:
    return {**context, "role_label": str(Role(context["role"]).label).lower()}


def register() -> None:
    notification_kinds_register(
        NotificationKind(
            "accounts.org_invitation",
            "accounts/email/invitation.txt",
            _("Invitations to join an organisation"),
            essential=True,
            prepare=_invitation,
        ),
    )
