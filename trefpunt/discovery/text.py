"""Words: what a query's terms are, Dutch stems, a guess at a text's language, and turning a
database's highlighted snippet into safe HTML."""

from __future__ import annotations

import re
from functools import lru_cache

import snowballstemmer
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from trefpunt.core.markdown import one_line

# Highlight markers the databases put around matches: private-use characters no user types,
# replaced by <mark> only after the text around them is escaped.
MARK_START = "\ue000"
MARK_END = "\ue001"

WORD_RE = re.compile(r"\w+", re.UNICODE)
TERMS_MAX = 8
TERM_MAX = 40

_DUTCH_HINTS = frozenset(
    [
        "de",
        "het",
        "een",
        "en",
        "van",
        "voor",
        "met",
        "op",
        "is",
        "zijn",
        "wij",
        "we",
        "jullie",
        "onze",
        "ons",
        "naar",
        "bij",
        "wordt",
        "worden",
        "niet",
        "ook",
        "maar",
        "als",
        "dat",
        "die",
        "dit",
        "deze",
        "nieuwe",
        "nieuw",
        "graag",
        "zoeken",
    ]
)
_ENGLISH_HINTS = frozenset(
    [
        "the",
        "a",
        "an",
        "and",
        "of",
        "for",
        "with",
        "on",
        "is",
        "are",
        "we",
        "you",
        "our",
        "us",
        "to",
        "at",
        "be",
        "been",
        "not",
        "also",
        "but",
        "as",
        "that",
        "this",
        "these",
        "new",
        "looking",
    ]
)


def query_terms(query: str) -> list[str]:
    """The words of a query, lowercased, at most ``TERMS_MAX`` of them. Everything that is not
    a letter or digit is dropped, so no query syntax of either database reaches it."""
    terms = [t.lower()[:TERM_MAX] for t in WORD_RE.findall(query or "")]
    seen: list[str] = []
    for term in terms:
        if term not in seen:
            seen.append(term)
    return seen[:TERMS_MAX]


@lru_cache(maxsize=1)
def _dutch() -> snowballstemmer.stemmer:
    return snowballstemmer.stemmer("dutch")


def dutch_stem(word: str) -> str:
    return str(_dutch().stemWord(word.lower()))


def dutch_stems(text: str) -> str:
    """The Dutch stems of a text's words, space-separated (for SQLite's index)."""
    return " ".join(dutch_stem(w) for w in WORD_RE.findall(text or ""))


def guess_language(text: str) -> str:
    """'nl' or 'en' from the share of common words, '' when the text says too little."""
    words = [w.lower() for w in WORD_RE.findall(text or "")[:400]]
    nl = sum(1 for w in words if w in _DUTCH_HINTS)
    en = sum(1 for w in words if w in _ENGLISH_HINTS)
    if nl == en:
        return ""
    return "nl" if nl > en else "en"


def highlighted(text: str) -> SafeString:
    """Escape a snippet and turn the database's markers into ``<mark>``; its lines (a
    person's headline above their bio) as one line, as in a description."""
    html = str(escape(one_line(text or "")))
    html = html.replace(MARK_START, "<mark>").replace(MARK_END, "</mark>")
    # A snippet cut inside a match leaves an unclosed mark.
    if html.count("<mark>") > html.count("</mark>"):
        html += "</mark>"
    return mark_safe(html)  # noqa: S308 - escaped above; only our markers became tags


def words_of(text: str) -> set[str]:
    return {w.lower() for w in WORD_RE.findall(text or "") if 3 <= len(w) <= 40}
