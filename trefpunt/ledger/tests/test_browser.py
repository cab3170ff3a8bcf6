"""The money flow in a real browser: log in, deposit through the sandbox checkout, see it in
the wallet, then request a payout (first with a mistyped IBAN)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from trefpunt.core.testing import log_in
from trefpunt.ledger.models import Payout
from trefpunt.ledger.selectors import ledger_verify

from .conftest import BAD_CHECKSUM_IBAN, new_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def euros(text: str) -> re.Pattern[str]:
    """``€ 25.00`` as the page renders it (with a no-break space)."""
    return re.compile(r"€\s" + re.escape(text))


def test_deposit_and_payout_in_the_browser(page: Page) -> None:
    member = new_user(display_name="Browser Member")
    log_in(page, member)

    page.get_by_role("banner").get_by_text("Browser Member").click()  # the user menu
    page.get_by_role("link", name="Wallet").click()
    expect(page.get_by_test_id("balance")).to_have_text(euros("0.00"))
    page.get_by_role("button", name="Deposit", exact=True).click()
    page.get_by_label("Amount in euros").fill("25,00")
    page.get_by_role("button", name="Continue to payment").click()

    expect(page.get_by_text("Sandbox payment provider — no real money")).to_be_visible()
    expect(page.get_by_test_id("checkout-amount")).to_have_text(euros("25.00"))
    page.get_by_role("button", name="Confirm payment").click()

    expect(page.get_by_role("heading", name="Payment received")).to_be_visible()
    page.get_by_role("button", name="Go to the wallet").click()
    expect(page.get_by_test_id("balance")).to_have_text(euros("25.00"))
    history = page.locator("table.history")
    expect(history.get_by_text("Deposit", exact=True)).to_be_visible()
    expect(history.locator("td.amount-pos")).to_have_text(re.compile(r"\+€\s25\.00"))

    page.get_by_role("button", name="Request a payout").click()
    page.get_by_label("Amount in euros").fill("20")
    page.get_by_label("IBAN").fill(BAD_CHECKSUM_IBAN)
    page.get_by_label("Account holder").fill("Browser Member")
    page.get_by_role("button", name="Request payout").click()

    iban_error = page.locator("#id_iban_error")
    expect(iban_error).to_contain_text("check digits do not match")
    expect(page.get_by_label("IBAN")).to_have_attribute("aria-invalid", "true")
    assert Payout.objects.count() == 0

    page.get_by_label("IBAN").fill("NL91 ABNA 0417 1643 00")
    page.get_by_role("button", name="Request payout").click()

    expect(page.get_by_text(re.compile(r"Your payout of €\s20\.00 is requested"))).to_be_visible()
    expect(page.get_by_test_id("balance")).to_have_text(euros("5.00"))
    expect(page.get_by_test_id("payouts-pending")).to_have_text(euros("20.00"))
    assert Payout.objects.get().iban == "NL91ABNA0417164300"
    assert ledger_verify() == []
