"""How an item is shown to a worker: a safe template of the item's fields.

Clients never write HTML or Django templates for their items. The display is a
list of ``{"column": ..., "widget": ..., "label": ...}`` entries, and each widget
is rendered here by ``format_html`` with every value escaped:

- ``text``: the value as text, line breaks kept;
- ``image``: an ``<img>`` when the value is an http(s) URL (anything else is refused at
  upload, and shown as "image unavailable" should it reach the page);
- ``link``: a link that opens in a new tab, http(s) only, marked ``nofollow ugc``.

Instructions are Markdown rendered by ``markdown`` and sanitised by ``nh3``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import markdown
import nh3
from django.utils.html import format_html, format_html_join, linebreaks
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from trefpunt.core.exceptions import ValidationFailed

WIDGETS = ("text", "image", "link")
MAX_DISPLAY_ENTRIES = 20
MAX_URL_LENGTH = 2000


def url_is_safe(value: Any) -> bool:
    """An absolute http(s) URL with a host and no spaces or control characters."""
    if not isinstance(value, str) or not value or len(value) > MAX_URL_LENGTH:
        return False
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in value):
        return False
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def display_spec_clean(raw: Any) -> list[dict[str, str]]:
    """Check a display definition; ``ValidationFailed`` on field ``display``."""
    if not isinstance(raw, list) or not raw:
        raise ValidationFailed(
            fields={"display": _("Show at least one column of the item to the worker.")}
        )
    if len(raw) > MAX_DISPLAY_ENTRIES:
        raise ValidationFailed(
            fields={"display": _("Show at most %(n)d columns.") % {"n": MAX_DISPLAY_ENTRIES}}
        )
    cleaned: list[dict[str, str]] = []
    for index, entry in enumerate(raw):
        where = _("entry %(n)d") % {"n": index + 1}
        if isinstance(entry, str):
            entry = {"column": entry}
        if not isinstance(entry, dict):
            raise ValidationFailed(
                fields={"display": f"{where}: " + _("use an object with column and widget.")}
            )
        column = entry.get("column")
        if (
            not isinstance(column, str)
            or not column.strip()
            or len(column) > 100
            or column.startswith("_")
        ):
            raise ValidationFailed(
                fields={
                    "display": f"{where}: "
                    + _("name the column to show (1–100 characters, not starting with '_').")
                }
            )
        widget = entry.get("widget", "text")
        if widget not in WIDGETS:
            raise ValidationFailed(
                fields={
                    "display": f'{where} ("{column}"): '
                    + _("the widget must be one of: %(widgets)s.") % {"widgets": ", ".join(WIDGETS)}
                }
            )
        label = entry.get("label", "")
        if not isinstance(label, str) or len(label) > 200:
            raise ValidationFailed(
                fields={
                    "display": f'{where} ("{column}"): ' + _("the label is at most 200 characters.")
                }
            )
        cleaned.append({"column": column.strip(), "widget": widget, "label": label.strip()})
    return cleaned


def display_columns(display: list[dict[str, str]]) -> list[str]:
    """The item columns a display needs, in order, without repeats."""
    return list(dict.fromkeys(entry["column"] for entry in display))


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def item_render(display: list[dict[str, str]], data: dict[str, Any]) -> SafeString:
    """The item as HTML for the worker; every value is escaped by ``format_html``."""
    parts: list[SafeString] = []
    for entry in display:
        value = data.get(entry["column"])
        label = entry.get("label") or ""
        label_html = (
            format_html('<span class="mt-field-label">{}</span>', label)
            if label
            else SafeString("")
        )
        if entry["widget"] == "image":
            if url_is_safe(value):
                body = format_html(
                    '<img src="{}" alt="{}" loading="lazy" referrerpolicy="no-referrer">',
                    value,
                    label or entry["column"],
                )
            else:
                body = format_html('<p class="muted">{}</p>', _("Image unavailable."))
            parts.append(format_html('<figure class="mt-image">{}{}</figure>', body, label_html))
        elif entry["widget"] == "link":
            if url_is_safe(value):
                body = format_html(
                    '<a href="{}" target="_blank" rel="noopener noreferrer nofollow ugc">{}</a>',
                    value,
                    value,
                )
            else:
                body = format_html('<span class="muted">{}</span>', _("Link unavailable."))
            parts.append(format_html('<div class="mt-field">{}<p>{}</p></div>', label_html, body))
        else:
            # linebreaks escapes (autoescape=True) and wraps paragraphs.
            text = mark_safe(linebreaks(_text(value), autoescape=True))  # noqa: S308
            parts.append(
                format_html(
                    '<div class="mt-field">{}<div class="mt-text">{}</div></div>', label_html, text
                )
            )
    return format_html_join("", "{}", ((p,) for p in parts))


def markdown_render(text: str) -> SafeString:
    """Markdown → sanitised HTML (no scripts, styles or event handlers survive nh3)."""
    html = markdown.markdown(text or "", extensions=["sane_lists"], output_format="html")
    return mark_safe(nh3.clean(html, link_rel="noopener noreferrer nofollow ugc"))  # noqa: S308
