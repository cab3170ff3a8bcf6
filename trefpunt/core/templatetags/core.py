from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from django import template
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.template.loader import get_template
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse, translate_url
from django.utils.html import conditional_escape, format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, get_language_from_path, get_language_info

from trefpunt.core.markdown import markdown_render, markdown_text
from trefpunt.core.money import format_cents

register = template.Library()

# Each mode app registers its entry in the main navigation here:
# (url name, label function). Missing URLs are skipped, so an app can be absent.
NAV_LINKS: list[tuple[str, Any]] = []
# The modes, in the order DESIGN.md and the home page's cards give them; each has an icon in
# templates/_icons.svg and a colour in trefpunt.css (.mode-…).
MODES = ("contests", "ideas", "microtasks", "projects")


# Reversed addresses of the page chrome (the navigation, the user menu, the language links),
# per language, script prefix and URL configuration: the same for every request a process
# serves, and about 45 reversals per logged-in page otherwise (a third of a light page's
# work). A process's URL configuration does not change while it serves; tests that swap it
# go through ``override_settings``, which empties these.
_REVERSED: dict[tuple[Any, ...], dict[str, str]] = {}


def url_cached(name: str) -> str:
    """``reverse(name)`` (no arguments), computed once per language, script prefix and URL
    configuration in this process."""
    urls = _REVERSED.setdefault((get_language(), get_script_prefix(), get_urlconf()), {})
    url = urls.get(name)
    if url is None:
        url = urls[name] = reverse(name)
    return url


@lru_cache(maxsize=4096)
def _translated(path: str, code: str, language: str, prefix: str, urlconf: Any) -> str:
    # ``language``, ``prefix`` and ``urlconf`` are what ``translate_url`` reads besides its
    # arguments: part of the key.
    return translate_url(path, code)


@receiver(setting_changed)
def _urls_forget(**kwargs: Any) -> None:
    _REVERSED.clear()
    _NAV_ITEMS.clear()
    _NAV_HTML.clear()
    _USER_MENU.clear()
    _translated.cache_clear()


@register.simple_tag
def nav_url(name: str) -> str:
    """``{% url name %}`` for the page chrome's argument-free links, from ``url_cached``."""
    return url_cached(name)


@register.filter
def money(cents: int | str | None, currency: str = "EUR") -> str:
    """Cents as money; an empty or missing value (a template's unset variable) shows nothing
    instead of failing the whole page."""
    if cents is None or cents == "":
        return ""
    return format_cents(int(cents), currency or "EUR")


@register.simple_tag
def mail_folder() -> str:
    """The folder the file email backend writes to, relative to the project, when the
    site runs with ``DEBUG`` and that backend (``make run``): the pages that say an email
    was sent point there, since nothing arrives in an inbox. Empty otherwise (and for a
    folder outside the project: no machine paths on a page)."""
    if not settings.DEBUG or not settings.EMAIL_BACKEND.endswith("filebased.EmailBackend"):
        return ""
    try:
        return f"{Path(settings.EMAIL_FILE_PATH).relative_to(settings.REPO_DIR)}/"
    except ValueError:
        return ""


@register.filter
def field_error_count(form: Any) -> int:
    """How many fields of a bound form have errors (form-wide errors not counted)."""
    return sum(1 for name in form.errors if name != "__all__")


@register.filter
def markdown(text: str) -> SafeString:
    """User Markdown as sanitised HTML (``core.markdown``), for every mode's pages."""
    return markdown_render(text)


@register.filter(name="markdown_text")
def markdown_text_filter(text: str) -> str:
    """User Markdown as plain text (``core.markdown.markdown_text``): a meta description."""
    return markdown_text(text)


@register.simple_tag(takes_context=True)
def page_addresses(context: dict[str, Any]) -> dict[str, Any] | None:
    """The page's canonical address and its address in each language (``hreflang``) with
    ``x-default`` (the address without a language, which sends a visitor to theirs), as the
    sitemap gives them; the query left out but for the page number. None for a page
    outside the language-prefixed addresses."""
    request = context.get("request")
    if request is None or get_language_from_path(request.path) is None:
        return None
    current = get_language()
    path, page = request.path, request.GET.get("page", "")
    query = f"?page={page}" if page.isdigit() and page != "1" else ""
    alternates = [
        (code, _translated(path, code, current, get_script_prefix(), get_urlconf()))
        for code, _name in settings.LANGUAGES
    ]
    default = dict(alternates)[settings.LANGUAGE_CODE]
    default = default.replace(f"/{settings.LANGUAGE_CODE}/", "/", 1)
    return {
        "canonical": settings.SITE_URL + path + query,
        "alternates": [
            (code, settings.SITE_URL + url + query)
            for code, url in [*alternates, ("x-default", default)]
        ],
    }


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
            "url": _translated(path, code, current, get_script_prefix(), get_urlconf()),
        }
        for code, _name in settings.LANGUAGES
    ]


# The main navigation's links per language, script prefix and URL configuration, and its
# rendering per current link (``_urls_forget`` empties both with the reversed addresses).
_NAV_ITEMS: dict[tuple[Any, ...], list[tuple[str, str, SafeString | str, str]]] = {}
_NAV_HTML: dict[tuple[Any, ...], SafeString] = {}


def _nav_items(key: tuple[Any, ...]) -> list[tuple[str, str, SafeString | str, str]]:
    """(mode, address, icon, label) of each main navigation link in the active language."""
    items = _NAV_ITEMS.get(key)
    if items is not None:
        return items
    items = []
    for url_name, label in NAV_LINKS:
        try:
            url = url_cached(url_name)
        except NoReverseMatch:
            continue
        mode = url_name.split(":")[0]
        # Only the modes have an icon; other links (search, people) take no empty space.
        icon = (
            format_html('<svg class="icon" aria-hidden="true"><use href="#i-{}"></use></svg>', mode)
            if mode in MODES
            else ""
        )
        items.append((mode, url, icon, str(label())))
    # The modes first, in their order (the apps register them in INSTALLED_APPS order).
    items.sort(key=lambda item: MODES.index(item[0]) if item[0] in MODES else len(MODES))
    _NAV_ITEMS[key] = items
    return items


@register.simple_tag(takes_context=True)
def nav_links(context: dict[str, Any]) -> SafeString:
    request = context.get("request")
    key = (get_language(), get_script_prefix(), get_urlconf(), len(NAV_LINKS))
    items = _nav_items(key)
    current = tuple(bool(request and request.path.startswith(item[1])) for item in items)
    html = _NAV_HTML.get((*key, current))
    if html is None:
        html = _NAV_HTML[(*key, current)] = format_html_join(
            "",
            '<li class="mode-{}"><a href="{}"{}>{}{}</a></li>',
            (
                (mode, url, " aria-current=page" if on else "", icon, label)
                for (mode, url, icon, label), on in zip(items, current, strict=True)
            ),
        )
    return html


# The user menu (``_user_menu.html``, twice on every page a logged-in person opens: in the
# header's dropdown and the phone menu) per language, script prefix, URL configuration and
# staff flag: the same for everyone but the profile link, put in afterwards. Rendered, it
# was a dozen translations and reversed links each time.
_USER_MENU: dict[tuple[Any, ...], str] = {}
_PROFILE_URL_PLACEHOLDER = "profile-url-placeholder-5e1d7b"


@register.simple_tag(takes_context=True)
def user_menu(context: Any) -> SafeString:
    """``{% include "_user_menu.html" %}`` for the logged-in ``user`` with the header's
    facts ``me`` (``community.header_facts``)."""
    is_staff = bool(context["user"].is_staff)
    key = (get_language(), get_script_prefix(), get_urlconf(), is_staff)
    html = _USER_MENU.get(key)
    if html is None:
        html = _USER_MENU[key] = get_template("_user_menu.html").render(
            {"me": {"profile_url": _PROFILE_URL_PLACEHOLDER}, "user": {"is_staff": is_staff}}
        )
    # Escaped as the template escapes ``{{ me.profile_url }}``.
    url = conditional_escape(context["me"].profile_url)
    return mark_safe(html.replace(_PROFILE_URL_PLACEHOLDER, url))  # noqa: S308
