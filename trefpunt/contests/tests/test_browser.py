"""The whole contest story in a real browser: a client creates a contest and funds it through
the sandbox checkout, two crowd members enter a blind contest (B cannot see A's entry), the
client rates one entry, declines the other and awards the first; the winner finds the prize
minus the crowd fee in the wallet and the entry on the public portfolio."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from playwright.sync_api import FilePayload, Page, expect

from trefpunt.accounts.models import PortfolioItem
from trefpunt.contests.models import Contest, Entry
from trefpunt.contests.services import contests_sweep
from trefpunt.core.testing import log_in
from trefpunt.ledger.services import wallet_for_user

from .factories import assert_money_consistent, image_bytes, make_user, structured_image

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def euros(text: str) -> re.Pattern[str]:
    return re.compile(r"€\s" + re.escape(text))


def enter_contest(page: Page, url: str, title: str, seed: int) -> None:
    page.goto(url)
    form = page.locator("#enter form")
    form.locator("#id_title").fill(title)
    upload: FilePayload = {
        "name": f"{title.lower().replace(' ', '-')}.png",
        "mimeType": "image/png",
        "buffer": image_bytes(structured_image(seed)),
    }
    form.locator("#id_files").set_input_files(files=[upload])
    form.get_by_label("This is my own original work").check()
    form.get_by_role("button", name="Submit entry").click()
    expect(page.get_by_text(re.compile(r"Your entry #\d+ is in"))).to_be_visible()
    expect(page.get_by_role("heading", name=re.compile(title))).to_be_visible()


def test_contest_story_in_the_browser(page: Page, new_page: Callable[[], Page]) -> None:
    client = make_user(display_name="Bakery Client", email="client-browser@example.org")
    anna = make_user(display_name="Anna Entrant")
    bram = make_user(display_name="Bram Entrant")

    # --- the client writes the brief ------------------------------------------------------
    log_in(page, client)
    page.goto("/en/contests/")
    page.get_by_role("button", name="Start a contest").click()
    page.locator("#id_title").fill("Logo for a corner bakery")
    page.locator("#id_summary").fill("Warm, simple, works in one colour.")
    page.locator("#id_description").fill("We bake **sourdough**. No wheat clichés, please.")
    page.locator("#id_category").select_option("logo")
    page.locator("#id_prize_1").fill("300")
    deadline = timezone.localtime(timezone.now() + timedelta(days=3)).replace(second=0)
    page.locator("#id_entry_deadline").fill(deadline.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("Blind: entrants see only their own entries").check()
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_text("Draft saved.")).to_be_visible()
    contest = Contest.objects.get(title="Logo for a corner bakery")
    assert contest.status == Contest.Status.DRAFT

    # --- funds it: the wallet is empty, so the publish page offers the shortfall ----------
    page.get_by_role("button", name="Review and publish").click()
    expect(page.get_by_role("heading", name="Fund and publish")).to_be_visible()
    page.get_by_role("button", name=euros("330.00")).click()  # Deposit € 330.00
    expect(page.get_by_text("Sandbox payment provider — no real money")).to_be_visible()
    expect(page.get_by_test_id("checkout-amount")).to_have_text(euros("330.00"))
    page.get_by_role("button", name="Confirm payment").click()
    expect(page.get_by_role("heading", name="Payment received")).to_be_visible()
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Fund and publish")).to_be_visible()
    page.get_by_role("button", name=re.compile("Publish and move")).click()
    expect(page.get_by_text("Published. Your contest is open for entries.")).to_be_visible()
    contest.refresh_from_db()
    assert contest.status == Contest.Status.OPEN
    contest_url = contest.get_absolute_url()

    # --- two crowd members enter; the contest is blind ------------------------------------
    anna_page = new_page()
    log_in(anna_page, anna)
    enter_contest(anna_page, contest_url, "Golden loaf", seed=11)
    anna_entry = Entry.objects.get(entrant=anna)

    bram_page = new_page()
    log_in(bram_page, bram)
    enter_contest(bram_page, contest_url, "Rye wheel", seed=12)
    bram_page.goto(contest_url)
    expect(bram_page.get_by_text("This is a blind contest")).to_be_visible()
    expect(bram_page.get_by_role("link", name=re.compile(r"^#\d+ Rye wheel$"))).to_be_visible()
    expect(bram_page.get_by_text("Golden loaf")).to_have_count(0)
    guessed = bram_page.goto(anna_entry.get_absolute_url())
    assert guessed is not None and guessed.status == 404
    anna_file = anna_entry.current_version.files.get()  # type: ignore[union-attr]
    for variant in ("thumb", "preview", "original"):
        response = bram_page.goto(f"/en/contests/files/{anna_file.pk}/{variant}/")
        assert response is not None and response.status == 404

    # --- the client rates Anna's entry and declines Bram's (htmx, no reloads) -------------
    page.goto(f"/en/contests/{contest.pk}/judge/")
    anna_card = page.locator(f"#entry-{anna_entry.pk}")
    anna_card.get_by_title("4 stars").click()
    expect(anna_card.get_by_title("4 stars")).to_have_attribute("aria-pressed", "true")
    bram_entry = Entry.objects.get(entrant=bram)
    bram_card = page.locator(f"#entry-{bram_entry.pk}")
    bram_card.get_by_text("Decline", exact=True).click()
    # The reasons are radios, each read whole (a select cut them off on a phone).
    expect(bram_card.get_by_label("Not what I am looking for")).to_be_checked()
    expect(bram_card.get_by_label("Copied or not original")).not_to_be_checked()
    bram_card.get_by_label("Reason (the entrant is told)").fill("Too close to a supermarket logo.")
    bram_card.get_by_role("button", name="Decline entry").click()
    expect(bram_card.get_by_text("Declined", exact=True)).to_be_visible()
    declined = Entry.objects.get(pk=bram_entry.pk)
    assert (declined.status, declined.decline_code) == (Entry.Status.DECLINED, "fit")
    assert Entry.objects.get(pk=anna_entry.pk).rating == 4

    # --- the deadline passes (the scheduler's sweep), the client awards Anna --------------
    with time_machine.travel(contest.entry_deadline + timedelta(minutes=5), tick=True):
        assert contests_sweep().judging == [contest.pk]
        page.goto(contest_url)
        anna_before = wallet_for_user(user=anna).balance
        page.get_by_role("button", name="Award prizes").click()
        prize = page.get_by_label("Prize 1")
        expect(prize.locator("option", has_text="Rye wheel")).to_have_count(0)
        prize.select_option(str(anna_entry.pk))
        page.get_by_role("button", name="Review the payments").click()
        # The confirm step states who gets what; nothing is paid until it is confirmed.
        expect(page.get_by_role("heading", name="Confirm the award")).to_be_visible()
        row = page.locator(".confirm-table tbody tr", has_text="Golden loaf")
        expect(row).to_contain_text(anna.profile.display_name)
        expect(row).to_contain_text(euros("300.00"))
        expect(row).to_contain_text(euros("15.00"))
        expect(row).to_contain_text(euros("285.00"))
        contest.refresh_from_db()
        assert contest.status == Contest.Status.JUDGING
        assert wallet_for_user(user=anna).balance == anna_before
        page.get_by_role("button", name=re.compile("^Yes, pay")).click()
        expect(page.get_by_text("Prizes awarded and paid.")).to_be_visible()

        # --- the winner sees the prize minus the 5 % crowd fee, and the entry in public ---
        anna_page.goto("/en/wallet/")
        expect(anna_page.get_by_test_id("balance")).to_have_text(euros("285.00"))
        handle = anna.profile.handle
        visitor = new_page()
        visitor.goto(f"/en/@{handle}/")
        expect(visitor.get_by_role("heading", name="Golden loaf")).to_be_visible()

    assert PortfolioItem.objects.get(owner=anna).source == PortfolioItem.Source.CONTEST_WIN
    contest.refresh_from_db()
    assert contest.status == Contest.Status.AWARDED
    assert_money_consistent()
