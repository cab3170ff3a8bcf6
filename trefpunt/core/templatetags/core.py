from __future__ import annotations

from typing import Any

from django import template
from django.conf import settings
from django.urls import NoReverseMatch, reverse, translate_url
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import get_language, get_language_info

from trefpunt.core.markdown import markdown_render
from trefpunt.core.money import format_cents

register = template.Library()

# Each mode app registers its entry in the main navigation here:
# (url name, label function). Missing URLs are skipped, so an app can be absent.
NAV_LINKS: list[tuple[str, Any]] = []
# The modes with an icon in templates/_icons.svg and a colour in trefpunt.css (.mode-…).
MODE_ICONS = {"contests", "ideas", "microtasks", "projects"}


@register.filter
def money(cents: int | str | None, currency: str = "EUR") -> str:
    """Cents as money; an empty or missing value (a template's unset variable) shows nothing
    instead of failing the whole page."""
    if cents is None or cents == "":
        return ""
    return format_cents(int(cents), currency or "EUR")


@register.filter
def markdown(text: str) -> SafeString:
    """User Markdown as sanitised HTML (``core.markdown``), for every mode's pages."""
    return markdown_render(text)


@register.simple_tag(takes_context=True)
def language_links(context: dict[str, Any]) -> list[dict[str, Any]]:
    request = context.get("request")
    path = request.get_full_path() if request else "/"
    current = get_language()
    return [
        {
            "code": code,
            # Each language in its own name, so a reader finds theirs whatever is shown now.
            "name": get_language_info(code)["name_local"],
            "current": code == current,
            "url": translate_url(path, code),
        }
        for code, _name in settings.LANGUAGES
    ]


@register.simple_tag(takes_context=True)
def nav_links(context: dict[str, Any]) -> SafeString:
    request = context.get("request")
    items = []
    for url_name, label in NAV_LINKS:
        try:
            url = reverse(url_name)
        except NoReverseMatch:
            continue
        current = bool(request and request.path.startswith(url))
        mode = url_name.split(":")[0]
        # Only the modes have an icon; other links (search, people) take no empty space.
        icon = (
            format_html('<svg class="icon" aria-hidden="true"><use href="#i-{}"></use></svg>', mode)
            if mode in MODE_ICONS
            else ""
        )
        items.append((mode, url, " aria-current=page" if current else "", icon, label()))
    return format_html_join("", '<li class="mode-{}"><a href="{}"{}>{}{}</a></li>', items)
