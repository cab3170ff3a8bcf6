"""Point 8 of the findability issue: axe-core (vendored from npm, test-only) finds no serious
or critical violation on the home page, search, the directory, a profile, every list page and
every detail page of each mode, and the start page, in English and in Dutch.

axe is injected into each page after it loaded; the context bypasses the Content-Security-Policy
for that injection only (the pages themselves allow no inline script)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from trefpunt.contests.tests.factories import enter
from trefpunt.projects.tests.factories import open_job

from .factories import World, world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = Path(__file__).parent / "vendor" / "axe-core-4.14.1" / "axe.min.js"
BLOCKING = ("serious", "critical")

# The violations axe reports, reduced to what a reader of a failing test needs.
AXE_RUN = """async (blocking) => {
  const result = await axe.run(document, {resultTypes: ['violations']});
  return result.violations
    .filter(v => blocking.includes(v.impact))
    .map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 3).map(n => n.target.join(' ')),
                why: ((v.nodes[0].any.concat(v.nodes[0].all)[0] || {}).message || '')
                     + ' ' + v.nodes[0].html}));
}"""


def point8_pages(w: World, lang: str, job_id: int) -> list[str]:
    entry = w.public_contest.entries.get()
    return [
        f"/{lang}/",
        f"/{lang}/search/?q=logo",
        f"/{lang}/search/?q=logo&kind=contest",
        f"/{lang}/people/",
        f"/{lang}/@{w.designer.profile.handle}/",
        f"/{lang}/orgs/{w.bakery.slug}/",
        f"/{lang}/contests/",
        f"/{lang}/contests/{w.public_contest.pk}/",
        f"/{lang}/contests/entries/{entry.pk}/",
        f"/{lang}/ideas/",
        f"/{lang}/ideas/calls/{w.public_call.pk}/",
        f"/{lang}/ideas/{w.public_idea.pk}/",
        f"/{lang}/microtasks/",
        f"/{lang}/microtasks/batches/{w.open_batch.pk}/",
        f"/{lang}/projects/",
        f"/{lang}/projects/jobs/{job_id}/",
    ]


def violations(tab: Any, path: str) -> list[dict[str, Any]]:
    response = tab.goto(path)
    assert response is not None and response.status == 200, path
    tab.add_script_tag(path=str(AXE))
    found: list[dict[str, Any]] = tab.evaluate(AXE_RUN, list(BLOCKING))
    return [{"page": path, **v} for v in found]


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_axe_finds_no_serious_or_critical_violations(browser, live_server, lang):
    w = world()
    enter(w.public_contest, w.designer)
    job = open_job(w.client, title="Webshop voor onze bakkerij")
    context = browser.new_context(
        base_url=live_server.url, locale="nl-NL" if lang == "nl" else "en-GB", bypass_csp=True
    )
    tab = context.new_page()
    tab.set_default_timeout(20_000)
    found: list[dict[str, Any]] = []
    for path in point8_pages(w, lang, job.pk):
        found += violations(tab, path)
    # The start page, logged in.
    from trefpunt.accounts.tests.factories import PASSWORD

    tab.goto(f"/{lang}/accounts/login/")
    tab.locator("form input[name=login]").fill(w.designer.email)
    tab.locator("form input[name=password]").fill(PASSWORD)
    tab.locator("form input[name=password]").press("Enter")
    tab.wait_for_url(f"**/{lang}/start/")
    found += violations(tab, f"/{lang}/start/")
    context.close()
    assert found == [], "\n".join(f"{v['page']} {v['id']}: {v['nodes']} {v['why']}" for v in found)


def test_keyboard_reaches_the_skip_link_search_and_facets(page, live_server):
    world()
    page.goto("/en/search/?q=logo")
    page.keyboard.press("Tab")
    skip = page.locator(".skip-link")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    assert skip.bounding_box()["x"] >= 0  # shown on screen while focused
    page.keyboard.press("Enter")
    # Playwright learns of the same-document navigation from an event: wait for it.
    expect(page).to_have_url(re.compile(r"#main$"))
    # From the content: the search field, its button, then the facet links, each with a
    # visible focus indicator (an outline or a box shadow).
    reached: list[str] = []
    for _ in range(8):
        page.keyboard.press("Tab")
        reached.append(page.evaluate("document.activeElement.id || document.activeElement.href"))
        style = page.evaluate(
            "(() => { const s = getComputedStyle(document.activeElement);"
            " return s.outlineStyle + ' ' + s.boxShadow; })()"
        )
        assert style != "none none", reached[-1]
    assert "search-q" in reached
    assert any("kind=contest" in str(r) for r in reached)
