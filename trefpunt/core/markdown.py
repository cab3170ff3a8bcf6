"""User Markdown → safe HTML: rendered with ``markdown``, then sanitised with ``nh3``.

Raw HTML in the source is allowed through the Markdown step and then cleaned,
so ``<script>``, event handlers, ``javascript:`` links, styles and images from
other sites never survive. Links get ``rel="nofollow noopener noreferrer"``.
"""

from __future__ import annotations

import html as html_lib
import re

import markdown as md
import nh3
from django.utils.safestring import SafeString, mark_safe

ALLOWED_TAGS = frozenset(
    {
        "p",
        "br",
        "hr",
        "h3",
        "h4",
        "h5",
        "h6",
        "strong",
        "em",
        "b",
        "i",
        "code",
        "pre",
        "blockquote",
        "ul",
        "ol",
        "li",
        "a",
        "table",
        "thead",
        "tbody",
        "tr",
        "th",
        "td",
    }
)
_HEADING = re.compile(r"<(/?)h([1-6])\b")
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "th": {"align"}, "td": {"align"}}


def markdown_render(text: str) -> SafeString:
    """Render user-written Markdown to HTML that is safe to put in a page."""
    html = md.markdown(text or "", extensions=["tables", "sane_lists", "nl2br"])
    # Headings in a brief sit below the page's own h1 and its section h2: the text's top
    # level becomes h3 and the others follow it, so no level is skipped (an outline that
    # skips one is an accessibility fault).
    levels = [int(level) for _slash, level in _HEADING.findall(html)]
    shift = 3 - min(levels) if levels else 0
    html = _HEADING.sub(lambda m: f"<{m[1]}h{max(3, min(int(m[2]) + shift, 6))}", html)
    clean = nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        attributes={k: set(v) for k, v in ALLOWED_ATTRIBUTES.items()},
        url_schemes={"http", "https", "mailto"},
        link_rel="nofollow noopener noreferrer",
        clean_content_tags={"script", "style"},
    )
    return mark_safe(clean)  # noqa: S308 - sanitised by nh3 just above


# Where a block of Markdown's HTML ends (a paragraph, a list item, a heading, a table cell):
# one line of the plain text each.
_BLOCK_END = re.compile(r"</(?:p|li|h[1-6]|blockquote|pre|dt|dd|td|th)>|<br\s*/?>", re.IGNORECASE)
_SENTENCE_END = tuple(".!?:;…")


def one_line(text: str) -> str:
    """The lines of a text as one line. A line that ends a sentence is followed by a space,
    any other by " · ", so that list items, headings and a headline above a bio do not run
    together ("Instagram. Three sketches first · the final logo")."""
    out = ""
    for line in text.splitlines():
        line = " ".join(line.split())
        if line:
            out += (" " if out.endswith(_SENTENCE_END) else " · ") if out else ""
            out += line
    return out


def markdown_text(text: str) -> str:
    """User Markdown as one line of plain text, for where no markup belongs: a page's
    description, a feed item, structured data, the search index. Line breaks inside a
    paragraph are spaces; each block is a line of :func:`one_line`."""
    html = md.markdown(text or "", extensions=["tables", "sane_lists"])
    html = _BLOCK_END.sub(lambda end: end.group(0) + "\n", " ".join(html.split()))
    plain = nh3.clean(html, tags=set(), clean_content_tags={"script", "style"})
    return one_line(html_lib.unescape(plain))
