"""The idea-call story in a real browser, in English and in Dutch: a client creates a call and
funds its reward through the sandbox checkout; two members post ideas (the second sees the
first as similar while typing and votes there instead); a third posts an improvement; members
vote and comment (htmx, no reloads); the client moves the idea through stages with reasons;
the selected author is paid and finds the reward in the wallet."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from trefpunt.core.testing import log_in
from trefpunt.ideas import services
from trefpunt.ideas.models import Idea, IdeaCall, RewardPayment

from .factories import assert_money_consistent, make_user, open_call, post

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TEXT = {
    "en": {
        "start": "Start an idea call",
        "save": "Save draft",
        "review": "Review and publish",
        "published": "Published. Your call is open for ideas.",
        "post": "Post idea",
        "posted": "Your idea is in.",
        "similar": "These ideas look alike",
        "improve": "Post an improvement",
        "post_improvement": "Post improvement",
        "improvement_of": "An improvement of",
        "comment": "Post comment",
        "change": "Change stage",
        "changed": "Stage changed",
        "review_stage": "Under review",
        "selected": "Selected",
        "paid": "Reward paid",
        "balance": "€\u00a0100.00",
        "continue": "Continue",
    },
    "nl": {
        "start": "Ideeënoproep starten",
        "save": "Concept opslaan",
        "review": "Controleren en publiceren",
        "published": "Gepubliceerd. Je oproep is open voor ideeën.",
        "post": "Idee plaatsen",
        "posted": "Je idee staat erin.",
        "similar": "Deze ideeën lijken erop",
        "improve": "Een verbetering voorstellen",
        "post_improvement": "Verbetering plaatsen",
        "improvement_of": "Een verbetering van",
        "comment": "Reactie plaatsen",
        "change": "Fase wijzigen",
        "changed": "Fase gewijzigd",
        "review_stage": "In behandeling",
        "selected": "Gekozen",
        "paid": "Beloning uitgekeerd",
        "balance": "€\u00a0100,00",
        "continue": "Verder",
    },
}


def post_idea(page: Page, url: str, title: str, description: str, t: dict[str, str]) -> None:
    page.goto(url + "#submit")
    page.locator("#id_title").fill(title)
    page.locator("#id_description").fill(description)
    page.locator("#submit").get_by_role("button", name=t["post"], exact=True).click()
    expect(page.get_by_text(t["posted"])).to_be_visible()


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_idea_call_story_in_the_browser(
    page: Page, new_page: Callable[[], Page], lang: str
) -> None:
    t = TEXT[lang]
    client = make_user(display_name="Shop Client")
    anna, bram, cees = (make_user(display_name=n) for n in ("Anna", "Bram", "Cees"))

    # --- the client writes the call and funds its reward -----------------------------------
    log_in(page, client, lang)
    page.goto(f"/{lang}/ideas/")
    page.get_by_role("button", name=t["start"]).first.click()
    page.locator("#id_title").fill("Less packaging waste")
    page.locator("#id_question").fill("How can we cut packaging waste in our shops?")
    soon = timezone.localtime(timezone.now() + timedelta(days=3)).replace(second=0)
    page.locator("#id_submission_deadline").fill(soon.strftime("%Y-%m-%dT%H:%M"))
    page.locator("#id_voting_deadline").fill((soon + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M"))
    page.locator("#id_reward_amount").fill("100")
    page.locator("#id_reward_count").fill("1")
    page.get_by_role("button", name=t["save"]).click()
    call = IdeaCall.objects.get(title="Less packaging waste")
    page.get_by_role("button", name=t["review"]).click()
    page.locator("form:has(input[value=deposit]) button").click()  # deposit € 110 (reward + fee)
    page.locator("button[value=confirm]").click()
    page.get_by_role("button", name=t["continue"]).click()
    page.locator("form:has(input[value=publish]) button").click()
    expect(page.get_by_text(t["published"])).to_be_visible()
    call.refresh_from_db()
    assert call.status == IdeaCall.Status.OPEN
    call_url = f"/{lang}/ideas/calls/{call.pk}/"

    # --- Anna posts an idea; Bram starts typing the same idea and votes there instead -----
    anna_page = new_page()
    log_in(anna_page, anna, lang)
    post_idea(
        anna_page,
        call_url,
        "Deposit on coffee cups",
        "Customers pay a deposit on a sturdy cup and get it back when they return it.",
        t,
    )
    idea = Idea.objects.get(author=anna)

    bram_page = new_page()
    log_in(bram_page, bram, lang)
    bram_page.goto(call_url + "#submit")
    bram_page.locator("#id_title").press_sequentially("Coffee cups with a deposit", delay=20)
    similar = bram_page.locator("#similar")
    expect(similar).to_contain_text(t["similar"])
    expect(similar.get_by_role("link", name="Deposit on coffee cups")).to_be_visible()
    bram_page.goto(f"/{lang}/ideas/{idea.pk}/")
    bram_page.locator(f"#vote-{idea.pk} button").click()
    expect(bram_page.locator(f"#vote-{idea.pk} button[aria-pressed=true]")).to_be_visible()
    assert not Idea.objects.filter(author=bram).exists()

    # --- Cees posts an improvement, votes and comments (htmx: the page is not reloaded) ----
    cees_page = new_page()
    log_in(cees_page, cees, lang)
    cees_page.goto(f"/{lang}/ideas/{idea.pk}/")
    cees_page.locator(f"#vote-{idea.pk} button").click()
    expect(cees_page.locator(f"#vote-{idea.pk} .idea-score strong")).to_have_text("2")
    cees_page.locator("#id_body").fill("Could the cups fit every coffee machine?")
    cees_page.get_by_role("button", name=t["comment"]).click()
    expect(cees_page.locator("#comments-list")).to_contain_text("fit every coffee machine")
    cees_page.get_by_text(t["improve"], exact=True).click()
    cees_page.locator("#improve-title").fill("Deposit cups that fit every machine")
    cees_page.locator("#improve-description").fill("The same cups, sized for all machines.")
    cees_page.get_by_role("button", name=t["post_improvement"]).click()
    expect(cees_page.get_by_text(t["improvement_of"])).to_be_visible()
    improvement = Idea.objects.get(author=cees)
    assert improvement.improves_id == idea.pk

    # --- the client moves Anna's idea through the stages, with reasons ---------------------
    page.goto(f"/{lang}/ideas/{idea.pk}/")
    page.locator("#id_stage").select_option(label=t["review_stage"])
    page.locator("#id_reason").fill("Our kitchen team is testing it.")
    page.get_by_role("button", name=t["change"]).click()
    expect(page.get_by_text(t["changed"])).to_be_visible()
    page.locator("#id_stage").select_option(label=t["selected"])
    page.locator("#id_reason").fill("We start a pilot in March.")
    page.get_by_role("button", name=t["change"]).click()
    expect(page.get_by_text(t["paid"])).to_be_visible()

    # --- Anna reads the reasons and finds the reward in the wallet ------------------------
    anna_page.goto(f"/{lang}/ideas/{idea.pk}/")
    expect(anna_page.get_by_text("We start a pilot in March.")).to_be_visible()
    expect(anna_page.get_by_text("Our kitchen team is testing it.")).to_be_visible()
    anna_page.goto(f"/{lang}/wallet/")
    expect(anna_page.get_by_test_id("balance")).to_have_text(re.compile(re.escape(t["balance"])))
    assert RewardPayment.objects.get(idea=idea).recipient == anna
    assert_money_consistent()


@pytest.mark.parametrize("width", [390, 1440])
def test_merged_ideas_list_keeps_each_title_and_author_on_one_line(page: Page, width: int) -> None:
    owner = make_user()
    call = open_call(owner)
    kept = post(call, title="Deposit cups")
    duplicate = post(call, make_user(display_name="Bram"), title="Cups")
    services.idea_merge(idea_id=duplicate.pk, into_id=kept.pk, user=owner)
    page.set_viewport_size({"width": width, "height": 900})

    page.goto(f"/en/ideas/{kept.pk}/")

    row = page.locator("aside .plain-list li", has_text="Bram")
    title = row.get_by_role("link", name="Cups", exact=True).bounding_box()
    author = row.get_by_role("link", name="Bram").bounding_box()
    assert title and author
    assert author["y"] < title["y"] + title["height"]  # the author starts on the title's line


def test_phone_call_page_shows_the_chosen_sort_whole(page: Page) -> None:
    """The sort select read 'Meeste stemm…' at 390 px: each filter now takes a row there."""
    call = open_call(make_user())
    post(call, title="Deposit cups")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"/nl/ideas/calls/{call.pk}/")
    choice = page.locator("select[name=sort]")
    text_width = choice.evaluate(
        """s => { const c = document.createElement('canvas').getContext('2d');
                  c.font = getComputedStyle(s).font;
                  return c.measureText(s.options[s.selectedIndex].text).width; }"""
    )
    box = choice.bounding_box()
    assert box and text_width + 56 <= box["width"], (text_width, box)  # 56: padding, arrow
