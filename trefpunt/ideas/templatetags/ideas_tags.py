"""Template helpers of the idea-call pages."""

from __future__ import annotations

import json
from typing import Any

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from ..models import Idea, IdeaCall, Stage
from ..selectors import IdeaAccess, IdeaCallAccess

register = template.Library()

_STAGE_CLASS: dict[str, str] = {
    Stage.Kind.NEW: "badge-muted",
    Stage.Kind.ACTIVE: "",
    Stage.Kind.ACCEPTED: "badge-ok",
    Stage.Kind.DECLINED: "badge-warn",
}


@register.simple_tag
def stage_badge(stage: Stage) -> SafeString:
    return format_html(
        '<span class="badge {}">{}</span>', _STAGE_CLASS.get(stage.kind, ""), stage.label
    )


@register.simple_tag
def call_badge(call: IdeaCall) -> SafeString:
    css = {"open": "badge-ok", "voting": "", "closed": "badge-muted", "draft": "badge-warn"}
    return format_html(
        '<span class="badge {}">{}</span>', css.get(call.status, ""), call.get_status_display()
    )


@register.filter
def call_poster(call: IdeaCall) -> str:
    if call.organisation_id and call.organisation:
        return call.organisation.name
    profile = getattr(call.created_by, "profile", None)
    return profile.display_name if profile else _("a member")


@register.inclusion_tag("ideas/_vote.html", takes_context=True)
def idea_vote_box(context: dict[str, Any], idea: Idea, access: IdeaCallAccess) -> dict[str, Any]:
    """The vote box of an idea in a list (``my_points`` annotated by the selector)."""
    return {
        "idea": idea,
        "call": access.call,
        "access": IdeaAccess(idea, access),
        "my_points": getattr(idea, "my_points", 0),
        "points_left": context.get("points_left"),
        "request": context.get("request"),
        "csrf_token": context.get("csrf_token"),
    }


@register.filter
def percent(part: int, whole: int) -> int:
    return round(100 * part / whole) if whole else 0


@register.filter
def call_json_ld(call: IdeaCall) -> SafeString:
    """Structured data of a public call (schema.org ``Question``), safe inside a script."""
    from django.conf import settings

    data = {
        "@context": "https://schema.org",
        "@type": "Question",
        "name": call.title,
        "text": call.question,
        "url": settings.SITE_URL + call.get_absolute_url(),
        "dateCreated": call.published_at.isoformat() if call.published_at else None,
        "author": {
            "@type": "Organization" if call.organisation_id else "Person",
            "name": call_poster(call),
        },
    }
    text = json.dumps(data, ensure_ascii=False)
    for raw, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(raw, escaped)
    return mark_safe(text)  # noqa: S308 - JSON with <, > and & escaped


@register.filter
def comment_editable(comment: Any) -> bool:
    from django.utils import timezone

    from ..services import comment_edit_until

    return timezone.now() <= comment_edit_until(comment)


@register.simple_tag(takes_context=True)
def page_link(context: dict[str, Any], number: int) -> str:
    """This page's query string with another page number (filters kept)."""
    request = context.get("request")
    query = request.GET.copy() if request is not None else None
    if query is None:
        return f"?page={number}"
    query["page"] = str(number)
    return "?" + query.urlencode()
