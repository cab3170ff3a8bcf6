"""The project story in a real browser, in English and in Dutch: a client posts a job, two
freelancers propose, the client compares and hires one, funds milestone 1 through the
sandbox checkout, the freelancer delivers, the client requests changes, the freelancer
delivers again, the client approves (a confirm step that states the amounts), the freelancer
sees the money in the wallet, the contract ends, both review and see each other's review —
and not before both are in."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from trefpunt.core.testing import log_in
from trefpunt.projects.models import Contract, Job, Milestone

from .factories import assert_money_consistent, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TEXT = {
    "en": {
        "post_job": "Post a job",
        "save": "Save draft",
        "publish": "Publish the job",
        "published": "Published. Freelancers can now send proposals, for free.",
        "propose": "Send a proposal",
        "send": "Send proposal",
        "sent": "Your proposal is sent. It cost you nothing.",
        "compare": "Compare proposals",
        "hire": "Hire Anna",
        "hired": "Hired. Fund the first milestone so that the work can start.",
        "fund": "Fund",
        "deposit": "Deposit €\u00a0210.00",
        "continue": "Continue",
        "move": "Move €\u00a0210.00 into escrow",
        "funded": "Funded. The money is in escrow; the work can start.",
        "deliver": "Deliver",
        "delivered": "Delivered. The client has 14 days to answer.",
        "changes": "Request changes",
        "send_changes": "Send change request",
        "changes_sent": "Changes requested. The money stays in escrow.",
        "approve": "Approve",
        "release": "Approve and release €\u00a0200.00",
        "net": "€\u00a0180.00",
        "approved": "Approved. The freelancer is paid.",
        "end": "End the contract",
        "end_yes": "Yes, end the contract",
        "ended": "The contract has ended.",
        "review": "Post review",
        "hidden": "only you can see this for now",
    },
    "nl": {
        "post_job": "Een opdracht plaatsen",
        "save": "Concept opslaan",
        "publish": "De opdracht publiceren",
        "published": "Gepubliceerd. Freelancers kunnen nu gratis voorstellen doen.",
        "propose": "Een voorstel doen",
        "send": "Voorstel versturen",
        "sent": "Je voorstel is verstuurd. Het kostte je niets.",
        "compare": "Voorstellen vergelijken",
        "hire": "Anna inhuren",
        "hired": "Ingehuurd. Financier de eerste mijlpaal zodat het werk kan beginnen.",
        "fund": "Financieren",
        "deposit": "€\u00a0210,00 storten",
        "continue": "Verder",
        "move": "€\u00a0210,00 in bewaring zetten",
        "funded": "Gefinancierd. Het geld staat in bewaring; het werk kan beginnen.",
        "deliver": "Opleveren",
        "delivered": "Opgeleverd. De opdrachtgever heeft 14 dagen om te antwoorden.",
        "changes": "Wijzigingen vragen",
        "send_changes": "Wijzigingsverzoek versturen",
        "changes_sent": "Wijzigingen gevraagd. Het geld blijft in bewaring.",
        "approve": "Goedkeuren",
        "release": "Goedkeuren en €\u00a0200,00 vrijgeven",
        "net": "€\u00a0180,00",
        "approved": "Goedgekeurd. De freelancer is betaald.",
        "end": "Het contract beëindigen",
        "end_yes": "Ja, beëindig het contract",
        "ended": "Het contract is beëindigd.",
        "review": "Beoordeling plaatsen",
        "hidden": "alleen jij ziet dit voorlopig",
    },
}


def propose(
    page: Page, job_url: str, price: str, letter: str, plan: str, t: dict[str, str]
) -> None:
    page.goto(job_url)
    page.get_by_role("button", name=t["propose"]).click()
    page.locator("input[name=price]").fill(price)
    page.locator("input[name=duration_days]").fill("14")
    page.locator("textarea[name=cover_letter]").fill(letter)
    page.locator("textarea[name=milestone_plan]").fill(plan)
    page.get_by_role("button", name=t["send"]).click()
    expect(page.get_by_text(t["sent"])).to_be_visible()


def deliver(page: Page, contract_url: str, row: str, message: str, t: dict[str, str]) -> None:
    page.goto(contract_url)
    page.locator(row).get_by_role("button", name=t["deliver"], exact=True).click()
    page.locator("textarea[name=message]").fill(message)
    page.get_by_role("button", name=t["deliver"], exact=True).click()
    expect(page.get_by_text(t["delivered"])).to_be_visible()


def review(page: Page, contract_url: str, stars: str, text: str, t: dict[str, str]) -> None:
    page.goto(contract_url)
    page.locator(f"#reviews input[name=rating][value='{stars}']").check()
    page.locator("#reviews textarea[name=text]").fill(text)
    page.get_by_role("button", name=t["review"]).click()


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_project_story_in_the_browser(page: Page, new_page: Callable[[], Page], lang: str) -> None:
    t = TEXT[lang]
    client = make_user(display_name="Bakery Client")
    anna, bram = make_user(display_name="Anna"), make_user(display_name="Bram")

    # --- the client posts a job ------------------------------------------------------------
    log_in(page, client, lang)
    page.goto(f"/{lang}/projects/")
    page.get_by_role("button", name=t["post_job"]).first.click()
    page.locator("input[name=title]").fill("A logo for our bakery")
    page.locator("textarea[name=description]").fill("We bake **bread** since 1962.")
    page.locator("input[name=budget_min]").fill("400")
    page.locator("input[name=budget_max]").fill("600")
    page.get_by_role("button", name=t["save"]).click()
    page.get_by_role("button", name=t["publish"]).click()
    expect(page.get_by_text(t["published"])).to_be_visible()
    job = Job.objects.get(title="A logo for our bakery")
    assert job.status == Job.Status.OPEN
    job_url = f"/{lang}/projects/jobs/{job.pk}/"

    # --- two freelancers propose (for free) ------------------------------------------------
    anna_page = new_page()
    log_in(anna_page, anna, lang)
    propose(
        anna_page,
        job_url,
        "500",
        "Twenty bakery logos so far.",
        "Sketches | 200 | 7\nFinal | 300 | 14",
        t,
    )
    bram_page = new_page()
    log_in(bram_page, bram, lang)
    propose(bram_page, job_url, "450", "Modern and simple.", "", t)

    # --- the client compares them side by side and hires Anna ------------------------------
    page.goto(job_url)
    page.get_by_role("button", name=t["compare"]).click()
    expect(page.locator("article.proposal-column")).to_have_count(2)
    expect(page.get_by_text("Modern and simple.")).to_be_visible()
    page.get_by_role("button", name=t["hire"]).click()
    expect(page.get_by_text(t["hired"])).to_be_visible()
    contract = Contract.objects.get(job=job)
    assert contract.freelancer == anna
    first = Milestone.objects.get(contract=contract, position=0)
    row = f"tr[data-milestone='{first.pk}']"
    contract_url = f"/{lang}/projects/contracts/{contract.pk}/"

    # --- the client funds milestone 1 through the sandbox checkout -------------------------
    page.locator(row).get_by_role("button", name=t["fund"]).click()
    expect(page.locator("#into-escrow")).to_contain_text("210")
    page.get_by_role("button", name=t["deposit"]).click()
    page.locator("button[value=confirm]").click()
    page.get_by_role("button", name=t["continue"]).click()
    page.get_by_role("button", name=t["move"]).click()
    expect(page.get_by_text(t["funded"])).to_be_visible()

    # --- deliver, changes, deliver again, approve after a confirm with the amounts ---------
    deliver(anna_page, contract_url, row, "Three sketches attached.", t)
    page.goto(contract_url)
    page.locator(row).get_by_role("button", name=t["changes"]).click()
    page.locator("textarea[name=reason]").fill("A bigger loaf, please.")
    page.get_by_role("button", name=t["send_changes"]).click()
    expect(page.get_by_text(t["changes_sent"])).to_be_visible()
    anna_page.goto(contract_url)
    expect(anna_page.get_by_text("A bigger loaf, please.")).to_be_visible()
    deliver(anna_page, contract_url, row, "A bigger loaf.", t)
    page.goto(contract_url)
    page.locator(row).get_by_role("button", name=t["approve"], exact=True).click()
    expect(page.locator("#net")).to_have_text(t["net"])
    page.get_by_role("button", name=t["release"]).click()
    expect(page.get_by_text(t["approved"])).to_be_visible()

    # --- Anna sees the money in her wallet ------------------------------------------------
    anna_page.goto(f"/{lang}/wallet/")
    expect(anna_page.get_by_test_id("balance")).to_have_text(re.compile(re.escape(t["net"])))

    # --- the contract ends; both review, each sees the other's only when both are in -------
    page.goto(contract_url)
    page.get_by_role("button", name=t["end"]).click()
    page.get_by_role("button", name=t["end_yes"]).click()
    expect(page.get_by_text(t["ended"])).to_be_visible()
    review(page, contract_url, "5", "Anna drew a wonderful loaf.", t)
    expect(page.get_by_text(t["hidden"])).to_be_visible()
    anna_page.goto(contract_url)
    expect(anna_page.get_by_text("Anna drew a wonderful loaf.")).to_have_count(0)
    review(anna_page, contract_url, "4", "A clear brief and quick answers.", t)
    expect(anna_page.get_by_text("Anna drew a wonderful loaf.")).to_be_visible()
    page.goto(contract_url)
    expect(page.get_by_text("A clear brief and quick answers.")).to_be_visible()
    expect(page.get_by_text(t["hidden"])).to_have_count(0)
    assert_money_consistent()
