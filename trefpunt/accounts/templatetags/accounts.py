"""Avatars and profile bits for any template: ``{% load accounts %}``."""

from __future__ import annotations

from typing import Any

from django import template
from django.conf.locale import LANG_INFO
from django.utils.translation import gettext, pgettext_lazy

register = template.Library()

# Languages Django has no name for.
EXTRA_LANGUAGE_NAMES = {
    "tl": pgettext_lazy("language", "Tagalog"),
    "zh": pgettext_lazy("language", "Chinese"),
}
AVATAR_SIZES = {"sm": 32, "md": 48, "lg": 112}


@register.filter
def initials(name: str) -> str:
    """``"Anna de Vries"`` → ``"AV"``: first and last word, skipping lowercase particles."""
    words = [w for w in (name or "").split() if w[:1].isalnum()]
    capitals = [w for w in words if w[:1].isupper()] or words
    if not capitals:
        return "?"
    if len(capitals) == 1:
        return capitals[0][:1].upper()
    return (capitals[0][:1] + capitals[-1][:1]).upper()


@register.filter
def language_name(code: str) -> str:
    if code in EXTRA_LANGUAGE_NAMES:
        return str(EXTRA_LANGUAGE_NAMES[code])
    info = LANG_INFO.get(code)
    return gettext(info["name"]) if info and "name" in info else code.upper()


@register.inclusion_tag("accounts/_avatar.html")
def avatar(profile: Any, size: str = "sm") -> dict[str, Any]:
    """A profile's avatar image, or a circle with its initials when there is none."""
    return {"profile": profile, "size": size, "pixels": AVATAR_SIZES.get(size, 32)}
