"""The project pages on a phone (390 px), in Dutch, where the words are longest: the next
step on a milestone and the proposals' list stay in view without scrolling sideways."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, ViewportSize

from trefpunt.core.testing import log_in
from trefpunt.projects import services

from .factories import delivered, hired, make_user, open_job, propose

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PHONE: ViewportSize = {"width": 390, "height": 844}


def _phone(page: Page) -> Page:
    page.set_viewport_size(PHONE)
    return page


def _right_edge(page: Page, selector: str) -> float:
    box = page.locator(selector).first.bounding_box()
    assert box is not None, selector
    return float(box["x"] + box["width"])


def test_phone_contract_shows_the_status_and_the_next_step_without_scrolling(page: Any) -> None:
    """Five columns pushed the status and the Approve/Fund buttons off the right side of
    the milestones table: on a phone the client saw the titles and amounts only."""
    contract = hired(freelancer=make_user(display_name="Anna"))
    milestone = delivered(contract)
    log_in(_phone(page), contract.client, "nl")
    page.goto(f"/nl/projects/contracts/{contract.pk}/")
    approve = f"#milestones a[href$='/milestones/{milestone.pk}/approve/']"
    fund = "#milestones a[href$='/fund/']"
    badge = f"#milestones tr[data-milestone='{milestone.pk}'] .badge"
    for selector in (approve, fund, badge):
        assert _right_edge(page, selector) <= PHONE["width"], selector
    scroll = page.evaluate(
        "() => { const t = document.querySelector('#milestones .table-scroll');"
        " return t.scrollWidth - t.clientWidth; }"
    )
    assert scroll == 0
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_phone_job_page_lists_the_proposals_without_breaking_names(page: Any) -> None:
    """The client's proposals table had four columns: on a phone the names and headers
    broke letter by letter ("Bra / m / Wille / ms", "Da / ge / n")."""
    job = open_job()
    for name in ("Bram Willems", "Anouk Dekker", "Chiara Rossi"):
        propose(job, make_user(display_name=name))
    hire = job.proposals.order_by("pk").first()
    assert hire is not None
    services.proposal_accept(proposal_id=hire.pk, user=job.created_by)
    log_in(_phone(page), job.created_by, "nl")
    page.goto(f"/nl/projects/jobs/{job.pk}/")
    link = page.locator("#proposals a", has_text="Anouk Dekker")
    box = link.bounding_box()
    assert box is not None
    line = float(page.evaluate("parseFloat(getComputedStyle(document.body).lineHeight)"))
    assert box["height"] < 1.5 * line  # one line
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_phone_job_form_shows_who_can_propose_whole(page: Page) -> None:
    """'Who can propose' was a select whose choice ('Openbaar: iedereen kan een voorstel
    doen') was cut off, on a phone and in a third of the desktop form: now two radios."""
    client = make_user()
    log_in(_phone(page), client, "nl")
    page.goto("/nl/projects/new/")
    public = page.get_by_label("Openbaar: iedereen kan een voorstel doen")
    invited = page.get_by_label("Alleen uitgenodigde freelancers")
    assert public.is_checked() and not invited.is_checked()
    for label in page.locator("fieldset label").all():
        assert _right_edge(page, f"text={label.inner_text().strip()}") <= PHONE["width"]
