"""Profiles can be reported (``moderation.registry``). Hiding one is kept by moderation
(``selectors.profile_get`` leaves hidden ones out); a suspended member's profile is gone
anyway, since only active members have a public profile."""

from __future__ import annotations

from django.utils.translation import gettext_lazy

from trefpunt.moderation.registry import reportable_register

from .models import Profile


def register() -> None:
    reportable_register(
        "accounts.profile",
        model=Profile,
        label=gettext_lazy("profile"),
        author_field="user",
        visible_to=lambda profile, user: profile.user.is_active,
        title=lambda profile: f"{profile.display_name} (@{profile.handle})",
    )
