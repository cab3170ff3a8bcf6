"""Small presentation helpers for contest pages."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from trefpunt.contests import limits
from trefpunt.contests.models import Contest, Entry
from trefpunt.core.markdown import markdown_render

register = template.Library()

CONTEST_BADGE: dict[str, str] = {
    Contest.Status.DRAFT: "badge-muted",
    Contest.Status.OPEN: "badge-ok",
    Contest.Status.JUDGING: "badge-warn",
    Contest.Status.AWARDED: "",
    Contest.Status.COMPLETED: "",
    Contest.Status.CANCELLED: "badge-danger",
}
ENTRY_BADGE: dict[str, str] = {
    Entry.Status.SUBMITTED: "badge-muted",
    Entry.Status.FINALIST: "",
    Entry.Status.WINNER: "badge-ok",
    Entry.Status.NOT_SELECTED: "badge-muted",
    Entry.Status.DECLINED: "badge-danger",
    Entry.Status.WITHDRAWN: "badge-muted",
}


@register.filter
def markdown(text: str) -> SafeString:
    return markdown_render(text)


@register.simple_tag
def contest_badge(contest: Contest) -> SafeString:
    return format_html(
        '<span class="badge {}">{}</span>',
        CONTEST_BADGE.get(contest.status, ""),
        contest.get_status_display(),
    )


@register.simple_tag
def entry_badge(entry: Entry) -> SafeString:
    return format_html(
        '<span class="badge {}">{}</span>',
        ENTRY_BADGE.get(entry.status, ""),
        entry.get_status_display(),
    )


@register.filter
def time_left(moment: datetime | None) -> str:
    """``3 days left`` / ``5 hours left`` / ``12 minutes left`` / ``ended``."""
    if moment is None:
        return ""
    seconds = (moment - timezone.now()).total_seconds()
    if seconds <= 0:
        return _("ended")
    days = int(seconds // 86400)
    if days >= 2:
        return ngettext("%(n)d day left", "%(n)d days left", days) % {"n": days}
    hours = int(seconds // 3600)
    if hours >= 1:
        return ngettext("%(n)d hour left", "%(n)d hours left", hours) % {"n": hours}
    minutes = max(1, int(seconds // 60))
    return ngettext("%(n)d minute left", "%(n)d minutes left", minutes) % {"n": minutes}


@register.filter
def stars(rating: int | None) -> str:
    if not rating:
        return ""
    return "★" * rating + "☆" * (limits.RATING_MAX - rating)


@register.simple_tag(takes_context=True)
def query_with(context: dict[str, Any], **changes: Any) -> str:
    """The current query string with some parameters replaced (for pagination links)."""
    request = context["request"]
    params = request.GET.copy()
    for key, value in changes.items():
        if value in (None, ""):
            params.pop(key, None)
        else:
            params[key] = value
    encoded = params.urlencode()
    return f"?{encoded}" if encoded else "?"


@register.simple_tag(takes_context=True)
def star_choices(context: Any) -> list[tuple[int, str]]:
    """``(value, "3 stars")`` for the rating buttons, translated once per page (a judging
    page has 24 cards with five buttons each)."""
    cached = context.render_context.get("contest_star_choices")
    if cached is None:
        cached = [
            (n, ngettext("%(n)s star", "%(n)s stars", n) % {"n": n})
            for n in range(limits.RATING_MIN, limits.RATING_MAX + 1)
        ]
        context.render_context["contest_star_choices"] = cached
    return cached


@register.simple_tag
def contest_limits() -> Any:
    """The limits of contests and entries (``contests/limits.py``), for
    ``{% contest_limits as limits %}``."""
    return limits


@register.simple_tag
def decline_codes() -> list[tuple[str, str]]:
    return [(value, str(label)) for value, label in Entry.DeclineCode.choices]


@register.filter
def poster(contest: Contest) -> str:
    """Who posted the contest: the organisation's name, or the person's display name."""
    if contest.organisation_id and contest.organisation:
        return contest.organisation.name
    profile = getattr(contest.created_by, "profile", None)
    return profile.display_name if profile else ""
