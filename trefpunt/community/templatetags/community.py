from __future__ import annotations

from typing import Any

from django import template

from trefpunt.community import selectors
from trefpunt.community.selectors import HeaderFacts

register = template.Library()


@register.simple_tag(takes_context=True)
def header_facts(context: dict[str, Any]) -> HeaderFacts | None:
    """The header's facts of the person logged in (name, profile link, unread badge): one
    statement, only where the header is rendered; ``None`` for a visitor."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    return selectors.header_facts(user=user)
