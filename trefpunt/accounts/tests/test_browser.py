"""The first browser test: a person signs up, verifies their address, edits their profile and
sees it on their public page — in a real Chromium against the live server."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from trefpunt.accounts.models import Profile

CONFIRM_LINK = re.compile(r"https?://[^\s/]+(/en/accounts/confirm-email/[^\s/]+/)")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_signup_verify_edit_profile_and_see_the_public_page(page, settings):
    settings.ACCOUNT_FORMS = {"signup": "trefpunt.accounts.forms.SignupForm"}

    page.goto("/en/")
    page.get_by_role("button", name="Sign up", exact=True).click()
    page.get_by_label("Your name").fill("Femke Jansen")
    page.get_by_label("Email").fill("femke@example.org")
    page.get_by_label(re.compile(r"^Password\W*$")).fill("a-long-pass-phrase")
    page.get_by_label("Password (again)").fill("a-long-pass-phrase")
    page.get_by_role("button", name="Sign up", exact=True).last.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile("Verify"))

    assert len(mail.outbox) == 1
    link = CONFIRM_LINK.search(str(mail.outbox[0].body))
    assert link is not None
    page.goto(link.group(1))
    expect(page.get_by_text("femke@example.org")).to_be_visible()
    page.get_by_role("button", name="Confirm").click()
    # Confirming in the browser that signed up logs the person in.
    expect(page.get_by_text("Femke Jansen").first).to_be_visible()

    page.goto("/en/settings/profile/")
    page.get_by_label("Display name").fill("Femke J. Jansen")
    page.get_by_label("Handle").fill("femke-fotografie")
    page.get_by_label("Headline").fill("Food photographer in Den Bosch")
    page.get_by_label("Skills").fill("photography, food styling")
    page.get_by_role("button", name="Save profile").click()
    expect(page).to_have_url(re.compile(r"/en/@femke-fotografie/$"))

    page.goto("/en/@femke-fotografie/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Femke J. Jansen")
    expect(page.get_by_text("Food photographer in Den Bosch")).to_be_visible()
    expect(page.locator(".tags").get_by_text("food styling")).to_be_visible()
    expect(page.locator(".tags").get_by_text("photography")).to_be_visible()
    assert Profile.objects.get(handle="femke-fotografie").user.email == "femke@example.org"
