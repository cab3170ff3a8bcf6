"""The visitor's path through findability, in a real Chromium: search "logo", filter to
contests, open one, follow an entrant's name to their profile and read the track record, then
log in and land on the personal start page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from trefpunt.accounts.tests.factories import PASSWORD
from trefpunt.contests.tests.factories import enter

from .factories import world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_visitor_finds_a_contest_and_an_entrant_then_lands_on_the_start_page(
    page: Page, live_server: object
) -> None:
    w = world()
    enter(w.public_contest, w.designer)
    designer = w.designer.profile

    page.goto("/en/")
    page.get_by_role("link", name="Search").first.click()
    page.get_by_role("searchbox").fill("logo")
    page.get_by_role("searchbox").press("Enter")
    expect(page.get_by_role("status")).to_contain_text("results")

    page.get_by_role("navigation", name="Filters").get_by_role("link", name="Contests").click()
    expect(page).to_have_url(re.compile(r"kind=contest"))
    hits = page.locator(".hits article")
    expect(hits).to_have_count(1)
    expect(hits.first).to_have_attribute("data-kind", "contest")

    hits.first.get_by_role("link", name=re.compile("Logo ontwerp")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(w.public_contest.title)

    # The entry tiles name their entrant by handle, linked to the profile.
    page.get_by_role("link", name=f"@{designer.handle}").first.click()
    expect(page).to_have_url(re.compile(rf"/en/@{designer.handle}/$"))
    track = page.locator(".profile-track")
    expect(track.get_by_role("heading", name="Track record")).to_be_visible()
    expect(track).to_contain_text("1 contest entered")

    page.get_by_role("link", name="Log in").first.click()
    page.get_by_label("Email").fill(w.designer.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.locator("form").get_by_role("button", name=re.compile("log in", re.I)).click()
    expect(page).to_have_url(re.compile(r"/en/start/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(designer.display_name)
    needs = page.locator("[data-group=deadline]")
    expect(needs).to_contain_text(w.public_contest.title)
    expect(page.get_by_role("heading", name="Work for you")).to_be_visible()
