"""Small helpers for project pages."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import gettext as _

from ..models import Job

register = template.Library()


@register.simple_tag(takes_context=True)
def page_link(context: dict[str, Any], number: int) -> str:
    """This page's query string with another page number (filters kept)."""
    request = context.get("request")
    if request is None:
        return f"?page={number}"
    query = request.GET.copy()
    query["page"] = str(number)
    return "?" + query.urlencode()


@register.filter
def job_poster(job: Job) -> str:
    if job.organisation_id and job.organisation:
        return job.organisation.name
    profile = getattr(job.created_by, "profile", None)
    return profile.display_name if profile else _("a member")


@register.filter
def person(user: Any) -> str:
    profile = getattr(user, "profile", None)
    return profile.display_name if profile else ""


@register.filter
def percent(value: float | None) -> str:
    return "" if value is None else f"{round(value * 100)}%"


@register.filter
def stars(rating: Any) -> str:
    try:
        n = round(float(rating))
    except (TypeError, ValueError):
        return ""
    return "★" * n + "☆" * (5 - n)
