"""The microtask story in a real browser: a client defines a batch, uploads a CSV of 20 items
with redundancy 2, funds it through the sandbox checkout and publishes; two workers work
through it with the keyboard alone (one item at a time), or, with 5 items per page, a page at
a time with one submit each (one page first sent with an answer missing: nothing is stored);
the client rejects one answer, the worker appeals, the client overturns; the export holds all
40 answers, pseudonymised."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable

import pytest
from playwright.sync_api import FilePayload, Page, expect

from trefpunt.accounts.models import User
from trefpunt.accounts.tests.factories import UserFactory
from trefpunt.core.testing import log_in
from trefpunt.ledger.services import wallet_for_user
from trefpunt.microtasks.models import Answer, Batch, Item

from .money import assert_escrow_adds_up, escrow_of

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

REVIEWS = [
    "Arrived quickly and works as described.",
    "Broke after two days, very disappointed.",
    "Does the job; nothing special.",
    'Great value, "would" buy again.',
]


def items_file() -> FilePayload:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["text", "source"])
    for i in range(20):
        writer.writerow([f"{REVIEWS[i % 4]} (#{i + 1})", f"shop-{i % 3}"])
    return {"name": "reviews.csv", "mimeType": "text/csv", "buffer": out.getvalue().encode()}


def work_through(page: Page, batch_id: int, key: str) -> None:
    """Answer every item offered, with the keyboard only: Enter starts, a digit picks the
    choice, Enter submits; the next item arrives without a page load."""
    page.goto(f"/en/microtasks/batches/{batch_id}/work/")
    expect(page.get_by_role("heading", name="Ready?")).to_be_visible()
    page.keyboard.press("Enter")
    for n in range(1, 21):
        expect(page.locator("#mt-panel [data-item]")).to_be_visible()
        expect(page.locator("[data-mt-left]")).to_have_text(re.compile(r"^\d+:\d\d$"))
        page.keyboard.press(key)
        expect(page.locator(f'input[data-key="{key}"]')).to_be_checked()
        page.keyboard.press("Enter")
        answered = rf"You answered {n} items? in this batch\."
        expect(page.locator("#mt-panel footer")).to_contain_text(re.compile(answered))
    expect(page.get_by_role("heading", name="All done here")).to_be_visible()


def work_through_pages(
    page: Page, batch_id: int, key: str, *, worker: User, leave_one_out: bool
) -> None:
    """Answer every page of five items with one submit each; with ``leave_one_out`` the
    first submit misses the third item's answer: nothing is stored, that item is marked, the
    other four keep their choice, and the page goes through once it is answered."""
    page.goto(f"/en/microtasks/batches/{batch_id}/work/")
    expect(page.get_by_role("heading", name="Ready?")).to_be_visible()
    expect(page.get_by_text("You get up to 5 items at a time")).to_be_visible()
    page.keyboard.press("Enter")
    for n in range(1, 5):
        items = page.locator("#mt-panel [data-mt-page-item]")
        expect(items).to_have_count(5)
        expect(page.locator("#mt-panel header")).to_contain_text("A page of 5 items")
        expect(page.locator("[data-mt-left]")).to_have_text(re.compile(r"^\d+:\d\d$"))
        for i in range(5):
            if not (leave_one_out and n == 1 and i == 2):
                items.nth(i).locator(f'input[data-key="{key}"]').check()
        page.get_by_role("button", name="Submit all 5 answers").click()
        if leave_one_out and n == 1:
            expect(page.get_by_text("Please check the answer of 1 item below.")).to_be_visible()
            expect(page.locator("#mt-panel .mt-page-item.has-error")).to_have_count(1)
            expect(items.nth(2)).to_have_class(re.compile("has-error"))
            expect(items.nth(2)).to_contain_text("This field is required.")
            expect(items.nth(0).locator(f'input[data-key="{key}"]')).to_be_checked()
            assert not Answer.objects.filter(batch_id=batch_id, worker=worker).exists()
            # The number keys choose in the item that holds the focus.
            items.nth(2).locator('input[type="radio"]').last.focus()
            page.keyboard.press(key)
            expect(items.nth(2).locator(f'input[data-key="{key}"]')).to_be_checked()
            page.get_by_role("button", name="Submit all 5 answers").click()
        answered = rf"You answered {5 * n} items in this batch\."
        expect(page.locator("#mt-panel footer")).to_contain_text(re.compile(answered))
        expect(page.get_by_text("5 answers saved.")).to_be_visible()
    expect(page.get_by_role("heading", name="All done here")).to_be_visible()


@pytest.mark.parametrize("page_size", [1, 5])
def test_microtask_story_in_the_browser(
    page: Page, new_page: Callable[[], Page], page_size: int
) -> None:
    client = UserFactory.create(display_name="Noor Client")
    ana = UserFactory.create(display_name="Ana Worker")
    ben = UserFactory.create(display_name="Ben Worker")

    # --- the client defines the batch and uploads 20 items -------------------------------
    log_in(page, client)
    page.goto("/en/microtasks/manage/")
    page.get_by_role("button", name="New batch").click()
    page.locator("#id_title").fill("Sentiment of product reviews")
    page.locator("#id_instructions").fill("Pick the **overall** sentiment.")
    page.locator("#id_reward").fill("0,10")
    page.locator("#id_estimated_seconds").fill("20")
    page.locator("#id_min_answers").fill("2")
    page.locator("#id_max_answers").fill("2")
    page.get_by_label("Items per page").fill(str(page_size))
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_text("Draft saved. Now upload the items.")).to_be_visible()
    batch = Batch.objects.get(title="Sentiment of product reviews")
    page.locator("#id_file").set_input_files(files=[items_file()])
    page.get_by_role("button", name="Upload items").click()
    expect(page.get_by_text("20 items added.")).to_be_visible()
    expect(page.locator(".mt-item")).to_contain_text("Arrived quickly and works as described.")

    # --- funds it through the sandbox checkout and publishes ------------------------------
    page.get_by_role("button", name=re.compile("Fund and publish")).click()
    expect(page.locator(".funding tfoot")).to_contain_text(re.compile(r"€\s4\.80"))
    page.get_by_role("button", name=re.compile(r"Deposit €\s5\.00")).click()
    expect(page.get_by_text("Sandbox payment provider — no real money")).to_be_visible()
    page.get_by_role("button", name="Confirm payment").click()
    expect(page.get_by_role("heading", name="Payment received")).to_be_visible()
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name=re.compile("Publish and move")).click()
    expect(page.get_by_text("Published. Workers can start right away.")).to_be_visible()
    batch.refresh_from_db()
    assert batch.status == Batch.Status.OPEN
    assert escrow_of(batch).balance == 20 * 2 * 12

    # --- two workers work through it with the keyboard ------------------------------------
    ana_page = new_page()
    log_in(ana_page, ana)
    ana_page.goto("/en/microtasks/")
    expect(ana_page.get_by_role("link", name="Sentiment of product reviews")).to_be_visible()
    assert batch.page_size == page_size
    if page_size == 1:
        work_through(ana_page, batch.pk, "1")
    else:
        work_through_pages(ana_page, batch.pk, "1", worker=ana, leave_one_out=True)
    ben_page = new_page()
    log_in(ben_page, ben)
    if page_size == 1:
        work_through(ben_page, batch.pk, "3")
    else:
        work_through_pages(ben_page, batch.pk, "3", worker=ben, leave_one_out=False)
    assert Answer.objects.filter(batch=batch).count() == 40
    # They disagree on every item, which has no room for a third answer: each needs review.
    assert set(Item.objects.filter(batch=batch).values_list("status", flat=True)) == {"review"}
    assert {a.data["sentiment"] for a in Answer.objects.filter(worker=ana)} == {"positive"}
    assert {a.data["sentiment"] for a in Answer.objects.filter(worker=ben)} == {"negative"}

    # --- the client rejects one answer (htmx row), the worker appeals, the client overturns
    page.goto(f"/en/microtasks/manage/{batch.pk}/review/")
    first_row = page.locator("table.mt-review tbody tr").first
    row_id = first_row.get_attribute("id")
    assert row_id is not None
    rejected = Answer.objects.get(pk=int(row_id.split("-")[1]))
    first_row.get_by_label("Reason to reject").fill("The review is clearly negative.")
    first_row.get_by_role("button", name="Reject").click()
    expect(page.locator(f"#{row_id}")).to_contain_text("Rejected")
    expect(page.locator(f"#{row_id}")).to_contain_text("The review is clearly negative.")
    worker_page = ana_page if rejected.worker_id == ana.pk else ben_page
    worker_page.goto("/en/microtasks/answers/")
    expect(worker_page.get_by_text("The review is clearly negative.")).to_be_visible()
    worker_page.get_by_role("link", name="Appeal", exact=True).click()
    worker_page.get_by_label("Why is your answer right?").fill("The first sentence praises it.")
    worker_page.get_by_role("button", name="Send appeal").click()
    expect(worker_page.get_by_text("Appeal sent.")).to_be_visible()
    page.goto(f"/en/microtasks/manage/{batch.pk}/review/")
    expect(page.get_by_text("The first sentence praises it.")).to_be_visible()
    page.get_by_role("button", name="Overturn: approve and pay").click()
    expect(page.get_by_text("Overturned: the answer is approved and paid.")).to_be_visible()
    rejected.refresh_from_db()
    assert (rejected.status, rejected.paid_reward) == (Answer.Status.OVERTURNED, 10)
    assert wallet_for_user(user=rejected.worker).balance == 10

    # --- the export holds all 40 answers, pseudonymised -----------------------------------
    response = page.request.get(f"/en/microtasks/manage/{batch.pk}/export.csv")
    assert response.ok
    rows = list(csv.DictReader(io.StringIO(response.text())))
    assert len(rows) == 40
    assert len({r["answer_id"] for r in rows}) == 40
    assert len({r["worker"] for r in rows}) == 2
    assert all(r["worker"].startswith("w-") for r in rows)
    assert ana.email not in response.text() and ben.email not in response.text()
    assert {r["answer.sentiment"] for r in rows} == {"positive", "negative"}
    assert_escrow_adds_up(batch)
