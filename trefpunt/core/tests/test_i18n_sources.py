"""No user-visible English outside gettext: the text and the accessible names in every
template, and the strings of our JavaScript.

The catalogue tests (test_i18n.py) catch a string that was marked but not translated; these
catch one that was never marked, so it would show in English on a Dutch page."""

from __future__ import annotations

import datetime
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

CODE_DIR = Path(settings.BASE_DIR)
COMMENTS = re.compile(r"{#.*?#}|{%\s*comment\s*%}.*?{%\s*endcomment\s*%}|<!--.*?-->", re.S)
BLOCKS = re.compile(r"{%\s*blocktrans(?:late)?\b.*?{%\s*endblocktrans(?:late)?\s*%}", re.S)
# Code, keys and samples are not prose: scripts, styles, <pre>, <code>, <kbd>, inline SVG.
NOT_PROSE = re.compile(r"<(script|style|pre|code|kbd|svg|symbol)\b.*?</\1>", re.S)
DJANGO = re.compile(r"{%.*?%}|{{.*?}}", re.S)
HTML_TAG = re.compile(r"<[^>]*>", re.S)
NAMED = re.compile(r"\b(?:aria-label|placeholder|title|alt)\s*=\s*\"([^\"]*)\"")
WORD = re.compile(r"[A-Za-zÀ-ÿ]{2,}")
# Names that read the same in both languages.
SAME_IN_BOTH = {"Trefpunt", "API", "IBAN", "CSV", "JSON", "Lines", "PDF", "ZIP", "EN", "NL"}
JS_GETTEXT = re.compile(
    r"\b(?:gettext|ngettext|pgettext|npgettext)\(\s*([\"'])((?:\\.|(?!\1).)*)\1"
)


def _templates() -> list[Path]:
    return [p for p in sorted(CODE_DIR.rglob("*.html")) if "tests" not in p.parts]


def untranslated_in_template(source: str) -> list[str]:
    """Words a template shows (text, or an attribute people hear or read) that no
    ``{% translate %}`` or ``{% blocktranslate %}`` covers."""
    text = BLOCKS.sub(" ", COMMENTS.sub(" ", source))
    text = NOT_PROSE.sub(" ", text)
    found: list[str] = []
    without_django = DJANGO.sub("", text)
    for value in NAMED.findall(without_django):
        if [w for w in WORD.findall(value) if w not in SAME_IN_BOTH]:
            found.append(f'attribute "{value}"')
    for line in HTML_TAG.sub(" ", DJANGO.sub(" ", text)).splitlines():
        if [w for w in WORD.findall(line) if w not in SAME_IN_BOTH]:
            found.append(line.strip())
    return found


def untranslated_in_javascript(source: str) -> list[str]:
    """String literals that read like prose (two words or more) outside gettext()."""
    code = re.sub(r"//[^\n]*|/\*.*?\*/", " ", source, flags=re.S)
    marked = {m.group(2) for m in JS_GETTEXT.finditer(code)}
    found = []
    for match in re.finditer(r"([\"'])((?:\\.|(?!\1).)*)\1", code):
        literal = match.group(2)
        prose = len(WORD.findall(literal)) >= 2 and " " in literal
        selector_or_directive = any(c in literal for c in "[]#=") or literal == "use strict"
        if prose and not selector_or_directive and literal not in marked:
            found.append(literal)
    return found


def test_every_template_marks_its_text_for_translation() -> None:
    problems = {
        str(path.relative_to(CODE_DIR)): found
        for path in _templates()
        if (found := untranslated_in_template(path.read_text(encoding="utf-8")))
    }
    assert problems == {}, "wrap these in {% translate %} and translate them in the .po"


def test_the_template_check_finds_unmarked_text_and_names() -> None:
    page = (
        '{% load i18n %}<nav aria-label="breadcrumb"><p>{% translate "Fine" %}</p>'
        "<p>Not marked</p><kbd>Enter</kbd><pre>sample, data</pre>"
        "<img alt=\"{% translate 'Fine' %}\">{% blocktranslate %}Also fine{% endblocktranslate %}"
    )
    assert untranslated_in_template(page) == ['attribute "breadcrumb"', "Not marked"]


def test_our_javascript_shows_no_unmarked_text() -> None:
    scripts = [
        p for p in CODE_DIR.rglob("*.js") if "vendor" not in p.parts and "tests" not in p.parts
    ]
    assert scripts, "the check should see at least the microtask work page's script"
    problems = {
        str(p.relative_to(CODE_DIR)): found
        for p in scripts
        if (found := untranslated_in_javascript(p.read_text(encoding="utf-8")))
    }
    assert problems == {}, "use gettext() from the JavaScript catalogue for these"


def test_the_javascript_check_finds_prose_outside_gettext() -> None:
    code = (
        '"use strict"; el.textContent = "Time is up"; q("input[data-key=\\"1\\"]");'
        ' ok(gettext("Time left"));'
    )
    assert untranslated_in_javascript(code) == ["Time is up"]


@pytest.mark.django_db
def test_words_follow_the_glossary_in_both_languages(client: Client) -> None:
    from django.utils import translation
    from django.utils.dateformat import format as date_format

    login_nl = client.get("/nl/accounts/login/").content.decode()
    login_en = client.get("/en/accounts/login/").content.decode()
    assert "Inloggen" in login_nl
    assert "Aanmelden" not in login_nl
    assert "Log in" in login_en and "Remember me" in login_en
    assert "Sign In" not in login_en and "Remember Me" not in login_en
    day = datetime.date(2026, 12, 12)
    with translation.override("nl"):
        assert date_format(day, "j N Y") == "12 dec. 2026"
        assert translation.gettext("Confirmation email sent to %(email)s.").startswith(
            "Bevestigingsmail"
        )
    with translation.override("en"):
        assert date_format(day, "j N Y") == "12 Dec 2026"
