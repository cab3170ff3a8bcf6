"""People who meet can talk, in a real browser: a worker asks a batch's client about an
instruction and sees the answer and the unread badge arrive without reloading; an entrant
answers the client's feedback on their entry. In English and Dutch."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from trefpunt.contests.services import entry_rate
from trefpunt.contests.tests.factories import enter, make_user, published
from trefpunt.core.testing import log_in
from trefpunt.microtasks.tests.factories import published_batch

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TEXT = {
    "en": {
        "ask": "Ask the client a question",
        "send": "Send",
        "message_client": "Message the client",
        "notifications": "Notifications",
    },
    "nl": {
        "ask": "Stel de opdrachtgever een vraag",
        "send": "Versturen",
        "message_client": "Bericht aan de opdrachtgever",
        "notifications": "Notificaties",
    },
}


def write(page: Page, text: str, t: dict[str, str]) -> None:
    page.locator("#message-body").fill(text)
    page.get_by_role("button", name=t["send"], exact=True).click()
    expect(page.locator("#messages")).to_contain_text(text)


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_a_worker_asks_the_client_and_sees_the_answer_without_reloading(
    page: Page, new_page: Callable[[], Page], lang: str
) -> None:
    t = TEXT[lang]
    batch = published_batch(items=3)
    worker = make_user(display_name="Wim Worker")

    log_in(page, worker, lang)
    page.goto(f"/{lang}/microtasks/batches/{batch.pk}/")
    page.get_by_role("button", name=t["ask"]).click()
    write(page, "Does sarcasm count as negative?", t)
    thread_path = page.url.removeprefix(page.url.split(f"/{lang}/")[0])

    client = new_page()
    log_in(client, batch.owner, lang)
    badge = client.locator("#notification-badge .badge")
    expect(badge).to_have_text("1")
    client.goto(thread_path)
    expect(client.locator("#messages")).to_contain_text("sarcasm")
    write(client, "Yes: sarcasm counts as negative.", t)

    # The worker's page was not reloaded: the poll brings the answer and the badge.
    expect(page.locator("#messages")).to_contain_text("sarcasm counts as negative", timeout=20_000)
    expect(page.locator("#notification-badge .badge")).to_have_text("1", timeout=25_000)
    expect(page.locator("#notification-badge a")).to_have_attribute("aria-label", re.compile(r"1"))


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_an_entrant_replies_to_the_clients_feedback(
    page: Page, new_page: Callable[[], Page], lang: str
) -> None:
    t = TEXT[lang]
    owner = make_user(display_name="Bakery Client")
    entry = enter(published(owner))
    entry_rate(entry_id=entry.pk, user=owner, rating=3, feedback="Try a warmer red.")

    log_in(page, entry.entrant, lang)
    page.goto(f"/{lang}/contests/entries/{entry.pk}/")
    expect(page.get_by_text("Try a warmer red.")).to_be_visible()
    page.get_by_role("button", name=t["message_client"]).click()
    write(page, "Like this? I used brick red.", t)
    thread_path = page.url.removeprefix(page.url.split(f"/{lang}/")[0])

    client = new_page()
    log_in(client, owner, lang)
    client.goto(thread_path)
    expect(client.locator("#messages")).to_contain_text("brick red")
