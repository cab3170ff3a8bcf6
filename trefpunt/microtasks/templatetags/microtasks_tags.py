from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import template
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

register = template.Library()

ANSWER_BADGES = {
    "pending": "badge-muted",
    "approved": "badge-ok",
    "overturned": "badge-ok",
    "rejected": "badge-danger",
    "upheld": "badge-danger",
    "appealed": "badge-warn",
}
BATCH_BADGES = {"draft": "badge-muted", "open": "badge-ok", "paused": "badge-warn", "closed": ""}


@register.filter
def duration(seconds: Any) -> str:
    """``75`` → ``1 min 15 s``; ``timedelta`` works too."""
    if seconds is None or seconds == "":
        return "—"
    if isinstance(seconds, timedelta):
        seconds = seconds.total_seconds()
    total = round(float(seconds))
    if total < 60:
        return _("%(s)d s") % {"s": total}
    minutes, secs = divmod(total, 60)
    if minutes < 60:
        if secs:
            return _("%(m)d min %(s)d s") % {"m": minutes, "s": secs}
        return _("%(m)d min") % {"m": minutes}
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        if minutes:
            return _("%(h)d h %(m)d min") % {"h": hours, "m": minutes}
        return _("%(h)d h") % {"h": hours}
    days = hours // 24
    return ngettext("%(d)d day", "%(d)d days", days) % {"d": days}


@register.filter
def label_colon(label: Any) -> str:
    """A field's label before its value: ``Shop`` → ``Shop:``, but ``Same product?`` stays
    as it is (no ``?:``)."""
    text = str(label).rstrip()
    return text if text.endswith(("?", ":", "!")) else f"{text}:"


@register.filter
def answer_badge(status: str) -> str:
    return ANSWER_BADGES.get(status, "")


@register.filter
def batch_badge(status: str) -> str:
    return BATCH_BADGES.get(status, "")


@register.filter
def share(value: Any) -> str:
    """``0.925`` → ``93 %``."""
    if value is None:
        return "—"
    return f"{round(float(value) * 100)}\u00a0%"


@register.filter
def percent1(value: Any) -> str:
    """``0.9512`` → ``95.1 %`` (one decimal, for confidences near the target; the decimal
    separator follows the language: ``95,1 %`` in Dutch)."""
    if value is None:
        return "—"
    return f"{number_format(float(value) * 100, 1, use_l10n=True)}\u00a0%"


@register.simple_tag(takes_context=True)
def query_with(context: dict[str, Any], **changes: Any) -> str:
    """The current query string with ``changes`` applied (for pagination links)."""
    request = context.get("request")
    query = request.GET.copy() if request else None
    if query is None:
        return "?" + "&".join(f"{k}={v}" for k, v in changes.items())
    for key, value in changes.items():
        query[key] = value
    return "?" + query.urlencode()


@register.filter
def amount_input(cents: Any) -> str:
    """Cents as a form field value: ``24`` → ``0.24``."""
    if cents is None or cents == "":
        return ""
    return f"{int(cents) / 100:.2f}"
