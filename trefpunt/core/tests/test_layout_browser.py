"""The layout in a real Chromium: the phone header's menu button (without JavaScript too),
keyboard hints only where there is a keyboard, the favicon, filter fields side by side, and
what phones must keep: the lists' search and filters (folded) and the side column of the
job and proposal pages."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from trefpunt.accounts.tests.factories import PASSWORD, UserFactory
from trefpunt.core.testing import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _phone(browser: Any, live_server: Any, *, javascript: bool) -> Any:
    context = browser.new_context(
        base_url=live_server.url,
        locale="en-GB",
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
        java_script_enabled=javascript,
    )
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    return tab


@pytest.mark.parametrize("javascript", [True, False])
def test_phone_header_shows_one_menu_button_that_opens_the_links(browser, live_server, javascript):
    tab = _phone(browser, live_server, javascript=javascript)
    tab.goto("/en/")
    header = tab.locator(".site-header")
    assert header.bounding_box()["height"] < 120  # one row; the wrapped lists were 3 rows
    wide_contests = tab.locator(".nav-wide").get_by_role("link", name="Contests")
    expect(wide_contests).to_be_hidden()
    menu_contests = tab.locator(".nav-phone").get_by_role("link", name="Contests")
    expect(menu_contests).to_be_hidden()
    tab.get_by_text("Menu", exact=True).click()
    expect(menu_contests).to_be_visible()
    expect(tab.locator(".nav-phone").get_by_role("link", name="Log in")).to_be_visible()
    menu_contests.click()
    expect(tab).to_have_url(f"{live_server.url}/en/contests/")
    tab.context.close()


def test_desktop_header_has_no_menu_button_and_the_favicon_loads(page, live_server):
    page.set_viewport_size({"width": 1280, "height": 800})
    failed: list[str] = []
    page.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)
    page.goto("/en/")
    expect(page.get_by_text("Menu", exact=True)).to_be_hidden()
    expect(page.locator(".nav-wide").get_by_role("link", name="Contests")).to_be_visible()
    icon = page.locator("link[rel=icon]").get_attribute("href")
    assert icon and icon.endswith(".svg")
    assert page.request.get(icon).status == 200
    assert failed == []


def test_header_is_one_row_in_dutch_logged_in_at_every_width_the_wallet_where_it_fits(
    page, live_server
):
    """Below 1280 px the modes sit behind the menu button; from 1280 px the header lists
    them and stays one row (two rows were 201–226 px, at 1100–1279 px and from 1440 px),
    the wallet in the user menu until 1536 px and beside it from there."""
    person = UserFactory.create(display_name="Chiara Rossi")
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto("/nl/accounts/login/")
    page.get_by_label("E-mail").fill(person.email)
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.locator("form").get_by_role("button", name="Inloggen").click()
    header = page.locator(".site-header")
    expect(header.get_by_text("Chiara Rossi")).to_be_visible()
    wide_wallet = header.locator(".nav-wallet").get_by_role("link", name="Portemonnee")
    menu_wallet = header.locator(".nav-wallet-in-menu").get_by_role("link", name="Portemonnee")
    for width in [1024, 1100, 1280, 1366, 1440, 1536, 1920, 2560]:
        page.set_viewport_size({"width": width, "height": 800})
        box = header.bounding_box()
        assert box is not None and box["height"] < 150, (width, box)
        if width < 1280:
            expect(header.get_by_text("Menu", exact=True)).to_be_visible()
        elif width < 1536:
            expect(wide_wallet).to_be_hidden()
        else:
            expect(wide_wallet).to_be_visible()
    page.set_viewport_size({"width": 1440, "height": 800})
    header.get_by_text("Chiara Rossi").click()
    expect(menu_wallet).to_be_visible()
    menu_wallet.click()
    expect(page).to_have_url(re.compile(r"/nl/wallet/$"))


def test_home_page_mode_titles_stay_beside_their_icons_in_dutch(page, live_server):
    """'Ideeënoproepen' dropped below its icon at 1280–1535 px (the four cards are 245 px
    wide there); each title now shares one line with its icon at every width."""
    page.goto("/nl/")
    titles = page.locator(".mode-card h2")
    expect(titles).to_have_count(4)
    for width in [390, 1024, 1280, 1440, 1920]:
        page.set_viewport_size({"width": width, "height": 900})
        for index in range(4):
            title = titles.nth(index)
            icon = title.locator(".icon").bounding_box()
            link = title.locator("a").bounding_box()
            assert icon and link and link["height"] < 1.5 * icon["height"], (width, index)
            assert abs(link["y"] - icon["y"]) < 0.5 * icon["height"], (width, index)


def test_cards_one_under_another_keep_apart(page, live_server):
    """In the page's column and in a .stack (a batch's manage page had both) cards touched:
    .card's margin: 0 beat the stack's spacing; in a grid the gap keeps them apart."""
    two = '<article class="card">{}</article><article class="card">{}</article>'
    html = (
        two.format("a", "b")
        + f'<div class="stack">{two.format("c", "d")}</div>'
        + f'<div class="grid-3">{two.format("e", "f")}</div>'
    )
    page.goto("/en/")
    page.evaluate("html => document.querySelector('main').innerHTML = html", html)
    cards = page.locator("main .card")

    def gap(upper: int) -> float:
        above, below = cards.nth(upper).bounding_box(), cards.nth(upper + 1).bounding_box()
        assert above and below
        return below["y"] - (above["y"] + above["height"])

    assert gap(0) >= 8 and gap(2) >= 8
    grid = [cards.nth(n).bounding_box() for n in (4, 5)]
    assert grid[0] and grid[1] and grid[0]["y"] == grid[1]["y"]  # side by side, unmoved


def test_phone_notification_settings_show_each_choice_whole(browser, live_server):
    """Beside their kinds the choices were cut to 'Dir…' at 390 px; now each sits below."""
    tab = _phone(browser, live_server, javascript=True)
    log_in(tab, UserFactory.create(), "nl")
    tab.goto("/nl/settings/notifications/")
    choices = tab.locator("main select")
    assert choices.count() > 3
    for n in range(choices.count()):
        box = choices.nth(n).bounding_box()
        assert box and box["width"] > 250, (n, box)
    tab.context.close()


def test_phone_organisation_members_stack_with_role_and_remove_in_view(browser, live_server):
    """The members table scrolled sideways on a phone: role, date and Remove were off screen."""
    from trefpunt.contests.tests.factories import make_organisation

    owner = UserFactory.create(display_name="Marieke van der Meulen")
    organisation = make_organisation(owner)
    tab = _phone(browser, live_server, javascript=True)
    log_in(tab, owner, "nl")
    tab.goto(f"/nl/orgs/{organisation.slug}/")
    table = tab.locator("table.members")
    table.get_by_text(owner.profile.display_name).scroll_into_view_if_needed()
    expect(table.get_by_text("Eigenaar")).to_be_in_viewport()
    table_box, role = table.bounding_box(), table.get_by_text("Eigenaar").bounding_box()
    assert table_box and role and role["x"] + role["width"] <= table_box["x"] + table_box["width"]
    tab.context.close()


def test_phone_handover_breadcrumb_keeps_the_entry_number_whole(browser, live_server):
    """At 390 px the crumb '#1' broke into '#' and '1' between a long contest title and
    'Overdracht', which was cut off at the edge."""
    from datetime import timedelta

    import time_machine

    from trefpunt.contests.services import contest_award, contest_close_entries
    from trefpunt.contests.tests.factories import enter, make_user, published

    contest = published(make_user(), title="Poster for a summer river festival")
    entry = enter(contest)
    with time_machine.travel(contest.entry_deadline + timedelta(minutes=1), tick=False):
        contest_close_entries(contest_id=contest.pk)
    contest_award(contest_id=contest.pk, user=contest.created_by, awards={1: entry.pk})
    tab = _phone(browser, live_server, javascript=True)
    log_in(tab, entry.entrant, "nl")
    tab.goto(f"/nl/contests/entries/{entry.pk}/handover/")
    crumbs = tab.locator("nav.contest-crumbs li")
    expect(crumbs).to_have_count(4)
    number, last = crumbs.nth(2).locator("a").bounding_box(), crumbs.nth(3).bounding_box()
    assert number and last and number["height"] < 48, number  # one line (two: 64 px)
    assert last["x"] + last["width"] <= 390, last
    tab.context.close()


def test_keyboard_hints_show_with_a_keyboard_and_hide_on_touch_screens(browser, live_server, page):
    """The shortcut keys and the sentences about them hide on a touch screen; the work
    page's footer keeps the worker's count there (it used to hide whole)."""
    html = (
        '<p>Choose <kbd aria-hidden="true">1</kbd> <span class="key-hint">Keys: 1–9</span></p>'
        '<footer class="mt-keys"><span id="count">You answered 3 items.</span></footer>'
    )
    page.goto("/en/")
    page.evaluate("html => document.querySelector('main').innerHTML = html", html)
    expect(page.locator("main kbd")).to_be_visible()
    expect(page.locator("main .key-hint")).to_be_visible()
    tab = _phone(browser, live_server, javascript=True)
    tab.goto("/en/")
    tab.evaluate("html => document.querySelector('main').innerHTML = html", html)
    expect(tab.locator("main kbd")).to_be_hidden()
    expect(tab.locator("main .key-hint")).to_be_hidden()
    expect(tab.locator("#count")).to_be_visible()
    tab.context.close()


def test_side_by_side_filter_fields_line_up_when_a_label_wraps(browser, live_server):
    """The project list's budget pair in Dutch: 'Budget vanaf (€)' wraps in the narrow
    filter column and 'tot (€)' does not; their inputs still share one line."""
    context = browser.new_context(
        base_url=live_server.url, locale="nl-NL", viewport={"width": 1280, "height": 900}
    )
    tab = context.new_page()
    tab.goto("/nl/projects/")
    aside = tab.locator("aside")  # the filter column (phones get their own copy, folded)
    names = ("budget_min", "budget_max")
    low, high = (aside.locator(f"input[name={name}]") for name in names)
    assert abs(low.bounding_box()["y"] - high.bounding_box()["y"]) < 1
    # The case at hand: the first label takes a line more, so it starts higher.
    labels = (aside.locator("label", has=tab.locator(f"input[name={name}]")) for name in names)
    top = [label.bounding_box()["y"] for label in labels]
    assert top[0] < top[1] - 10
    context.close()


@pytest.mark.parametrize(
    ("path", "title"), [("/en/ideas/", "Less zebra waste"), ("/en/projects/", "A zebra mascot")]
)
def test_phone_list_folds_its_search_and_filters_away_and_they_work(
    browser, live_server, path, title
):
    """The idea call and job lists hid their filter column on phones, search included."""
    from trefpunt.ideas.tests.factories import open_call
    from trefpunt.projects.tests.factories import open_job

    client = UserFactory.create()
    open_call(client, title="Less zebra waste", question="How can we cut waste?")
    open_call(client, title="A sandwich for the canteen", question="What should we add?")
    open_job(client, title="A zebra mascot")
    open_job(client, title="A webshop for a florist")
    tab = _phone(browser, live_server, javascript=True)
    tab.goto(path)
    search = tab.locator("details.contest-filters-phone input[name=q]")
    expect(tab.locator(".contest-layout > aside")).to_be_hidden()
    expect(search).to_be_hidden()
    tab.get_by_text("Search and filters", exact=True).click()
    search.fill("zebra")
    search.press("Enter")
    expect(tab.get_by_role("link", name=title)).to_be_visible()
    expect(tab.get_by_text("Search and filters (1 active)")).to_be_visible()
    assert tab.locator(".contest-list article").count() == 1
    tab.context.close()


def test_phone_job_and_proposal_pages_show_their_side_column(browser, live_server):
    """The job's budget and the client's 'Hire' button sat in a column phones hid."""
    from trefpunt.projects.tests.factories import open_job, propose

    client = UserFactory.create()
    job = open_job(client, title="Bakery logo")
    proposal = propose(job)
    tab = _phone(browser, live_server, javascript=True)
    log_in(tab, client)
    tab.goto(job.get_absolute_url())
    expect(tab.get_by_text("1 of at most")).to_be_visible()
    tab.goto(proposal.get_absolute_url())
    expect(tab.get_by_role("button", name=re.compile(r"^Hire "))).to_be_visible()
    tab.context.close()


@pytest.mark.parametrize("path", ["/en/search/?q=logo", "/en/people/"])
def test_phone_search_folds_the_facets_above_the_results(browser, live_server, path):
    """Search and the talent directory listed every facet before the first result on a
    phone; the facets now fold above the results, and a facet link still filters."""
    from trefpunt.discovery.tests.factories import world

    world()
    tab = _phone(browser, live_server, javascript=True)
    tab.goto(path)
    fold = tab.locator("details.facets-phone")
    expect(tab.locator(".search-layout > aside .facets")).to_be_hidden()
    expect(fold.locator(".facets")).to_be_hidden()
    first_result = tab.locator(".hits > li").first
    assert first_result.bounding_box()["y"] < 900  # on the first screen or just below it
    fold.locator("summary").click()
    facet = fold.locator(".facets a").first
    expect(facet).to_be_visible()
    facet.click()
    expect(tab.locator("details.facets-phone > summary")).to_have_text("Filters (1 active)")
    clear = tab.locator(".facets a", has_text="Clear filters")
    expect(clear).to_have_count(2)  # in the column and in the fold
    tab.goto(path)
    expect(clear).to_have_count(0)  # nothing chosen (the directory's own kind is not a choice)
    tab.context.close()


# A hint for a failing check: the elements that reach furthest right (in a scrolling box or
# not: a hidden one can widen the page from inside a box that does not contain it).
FURTHEST_RIGHT = """() => [...document.querySelectorAll('body *')]
  .map(e => [Math.round(e.getBoundingClientRect().right), `${e.tagName}.${e.className}`])
  .sort((a, b) => b[0] - a[0]).slice(0, 3).map(([right, name]) => `${name} ${right}`)"""


def test_phone_pages_do_not_scroll_sideways(browser, live_server):
    """A table wider than a phone made the whole page scroll sideways (the client's jobs
    and contracts, a contract's milestones, an idea call's stages, a batch's answers per
    item), and so did an organisation's members through the visually hidden text of a
    header cell: wide tables scroll inside their box, and keep what they hold there."""
    from trefpunt.discovery.tests.factories import world
    from trefpunt.microtasks.services import lease_answer
    from trefpunt.microtasks.tests.factories import claim
    from trefpunt.projects.tests.factories import hired

    w = world()
    contract = hired(
        client=w.client, freelancer=w.designer, title="Packaging design for our cookie tins"
    )
    lease = claim(w.open_batch, w.designer)
    lease_answer(lease_id=lease.pk, worker=w.designer, answer={"sentiment": "pos"})
    batch = f"/en/microtasks/manage/{w.open_batch.pk}"
    client_pages = [
        "/en/start/",
        "/en/projects/dashboard/",
        "/en/contests/dashboard/",
        "/en/ideas/dashboard/",
        "/en/microtasks/manage/",
        "/en/wallet/",
        contract.get_absolute_url(),
        f"/en/ideas/calls/{w.public_call.pk}/edit/",
        f"/en/orgs/{w.bakery.slug}/",
        *(f"{batch}/{page}" for page in ("", "items/", "results/", "workers/", "review/")),
    ]
    crowd_pages = [
        "/en/start/",
        "/en/projects/mine/",
        "/en/contests/my-entries/",
        "/en/ideas/mine/",
        "/en/microtasks/answers/",
        "/en/wallet/",
    ]
    wide: dict[str, list[str]] = {}
    for user, paths in ((w.client, client_pages), (w.designer, crowd_pages)):
        tab = _phone(browser, live_server, javascript=True)
        log_in(tab, user)
        for path in paths:
            assert tab.goto(path).status == 200, path
            if tab.evaluate("document.documentElement.scrollWidth") > 390:
                wide[path] = tab.evaluate(FURTHEST_RIGHT)
        tab.context.close()
    assert wide == {}
