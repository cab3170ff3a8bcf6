"""Wallet pages: what they show, who may see them, and bad input next to the field."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from trefpunt.accounts.models import Organisation, User
from trefpunt.ledger.models import Deposit, JournalEntry, LedgerAccount, Payout
from trefpunt.ledger.selectors import ledger_verify
from trefpunt.ledger.services import (
    deposit_create,
    escrow_account,
    escrow_fund,
    escrow_refund,
    escrow_release,
    payout_request,
    wallet_for_organisation,
    wallet_for_user,
)
from trefpunt.ledger.tests.factories import fund_wallet, funded_wallet

from .conftest import BAD_CHECKSUM_IBAN, GOOD_IBAN, new_user

pytestmark = pytest.mark.django_db


def balance(account: LedgerAccount) -> int:
    return LedgerAccount.objects.values_list("balance", flat=True).get(pk=account.pk)


def field_error(html: str, field: str) -> str:
    """The error text rendered next to ``field`` (``id_<field>_error``), or ``""``."""
    match = re.search(rf'id="id_{field}_error">(.*?)</small>', html, re.S)
    return match.group(1) if match else ""


def history_lines(wallet: LedgerAccount, pairs: int) -> None:
    """``2 * pairs`` more history lines: escrow funding and refunding back and forth, each
    pair on its own piece of work (lines of one piece of work on one day are one line)."""
    for i in range(pairs):
        escrow = escrow_account(reference=f"contest:busy{i}", funder=wallet, label="Busy")
        escrow_fund(wallet=wallet, escrow=escrow, amount=100, idempotency_key=f"busy:f{i}")
        escrow_refund(escrow=escrow, wallet=wallet, amount=100, idempotency_key=f"busy:r{i}")


def page_queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


# --- the wallet page --------------------------------------------------------------------


def test_wallet_view_shows_balance_escrow_payouts_and_history(client: Client, user: User) -> None:
    wallet = funded_wallet(user, 10_000)
    escrow = escrow_account(reference="contest:42", funder=wallet, label="Prize for 'Logo'")
    escrow_fund(wallet=wallet, escrow=escrow, amount=3000, idempotency_key="c42:fund")
    payout_request(wallet=wallet, user=user, amount=2000, iban=GOOD_IBAN, account_holder="Me")
    client.force_login(user)

    response = client.get(reverse("ledger:wallet"))

    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="balance">€\xa050.00<' in html
    assert 'data-testid="in-escrow">€\xa030.00<' in html
    assert 'data-testid="payouts-pending">€\xa020.00<' in html
    assert "Prize for &#x27;Logo&#x27;" in html  # escaped
    assert "contest:42" in html
    assert "NL91 •••• 4300" in html
    assert GOOD_IBAN not in html
    for label in ["Deposit", "Moved into escrow", "Payout requested"]:
        assert f"<strong>{label}</strong>" in html
    assert 'amount-pos">+€\xa0100.00<' in html
    assert 'amount-neg">-€\xa030.00<' in html


def test_wallet_view_history_is_paginated_newest_first(client: Client, user: User) -> None:
    wallet = funded_wallet(user, 1000)
    history_lines(wallet, 15)  # 31 lines: 25 on page one
    client.force_login(user)

    first = client.get(reverse("ledger:wallet")).content.decode()
    second = client.get(reverse("ledger:wallet") + "?page=2").content.decode()

    assert first.count('class="num amount amount-') == 25
    assert second.count('class="num amount amount-') == 6
    assert "<strong>Deposit</strong>" not in first
    assert "<strong>Deposit</strong>" in second
    assert "Page 1 of 2" in first


def test_wallet_view_shows_one_line_per_piece_of_work_per_day_in_words(
    client: Client, user: User
) -> None:
    client_wallet = funded_wallet(new_user(), 5000)
    escrow = escrow_account(reference="contest:7", funder=client_wallet, label="Prize")
    escrow_fund(wallet=client_wallet, escrow=escrow, amount=1200, idempotency_key="c7:fund")
    payee = wallet_for_user(user=user)
    for i in range(12):
        escrow_release(escrow=escrow, payee=payee, amount=100, idempotency_key=f"c7:pay:{i}")
    client.force_login(user)

    page = client.get(reverse("ledger:wallet")).content.decode()

    assert page.count('class="num amount amount-') == 1
    assert "(12 bookings)" in page
    assert "+€\xa012.00" in page
    assert "contest:7" not in page


def test_wallet_view_query_count_does_not_grow_with_history(client: Client, user: User) -> None:
    wallet = funded_wallet(user, 1000)
    first = escrow_account(reference="contest:100", funder=wallet, label="Prize")
    escrow_fund(wallet=wallet, escrow=first, amount=100, idempotency_key="c100:fund")
    client.force_login(user)
    url = reverse("ledger:wallet")
    few = page_queries(client, url)

    fund_wallet(wallet, user, 5000)
    history_lines(wallet, 30)
    for i in range(3):
        escrow = escrow_account(reference=f"contest:{i}", funder=wallet, label=f"Prize {i}")
        escrow_fund(wallet=wallet, escrow=escrow, amount=500, idempotency_key=f"c{i}:fund")
        payout_request(wallet=wallet, user=user, amount=1000, iban=GOOD_IBAN, account_holder="Me")
    fund_wallet(wallet, user, 700)  # a deposit among the newest lines, as on the first page
    many = page_queries(client, url)

    assert many == few
    # 12 for the wallet, 1 naming the deposits, 1 for the header's unread-notifications badge
    assert many <= 14


def test_wallet_view_needs_login(client: Client) -> None:
    response = client.get(reverse("ledger:wallet"))

    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


# --- organisation wallet ---------------------------------------------------------------


def test_org_wallet_view_is_for_owners_and_admins(
    client: Client, organisation: Organisation, org_owner: User, org_admin: User
) -> None:
    fund_wallet(wallet_for_organisation(organisation=organisation), org_owner, 7000)
    url = reverse("ledger:org_wallet", kwargs={"slug": organisation.slug})

    for person in (org_owner, org_admin):
        client.force_login(person)
        response = client.get(url)
        assert response.status_code == 200
        assert 'data-testid="balance">€\xa070.00<' in response.content.decode()
        assert f"?org={organisation.slug}" in response.content.decode()


def test_org_wallet_view_is_not_found_for_members_and_strangers(
    client: Client, organisation: Organisation, org_member: User, other_user: User
) -> None:
    url = reverse("ledger:org_wallet", kwargs={"slug": organisation.slug})

    for person in (org_member, other_user):
        client.force_login(person)
        assert client.get(url).status_code == 404
    assert client.get(reverse("ledger:org_wallet", kwargs={"slug": "no-such-org"})).status_code == (
        404
    )


# --- deposits ---------------------------------------------------------------------------


@pytest.mark.parametrize(("typed", "cents"), [("12,50", 1250), ("12.50", 1250), ("25", 2500)])
def test_deposit_create_view_starts_a_deposit_and_sends_to_checkout(
    client: Client, user: User, typed: str, cents: int
) -> None:
    client.force_login(user)

    response = client.post(reverse("ledger:deposit_create"), {"amount": typed})

    deposit = Deposit.objects.get()
    assert deposit.amount == cents
    assert deposit.wallet == wallet_for_user(user=user)
    assert response.status_code == 302
    assert response["Location"] == f"/pay/sandbox/{deposit.public_id}/"


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("0", "smallest deposit"),
        ("-5", "Enter an amount like 12.50"),
        ("abc", "Enter an amount like 12.50"),
        ("12.505", "at most two decimals"),
        ("1.000,00", "Enter an amount like 12.50"),
        ("100000,01", "largest deposit"),
        ("", "This field is required"),
    ],
)
def test_deposit_create_view_shows_bad_amounts_next_to_the_field(
    client: Client, user: User, typed: str, message: str
) -> None:
    client.force_login(user)

    response = client.post(reverse("ledger:deposit_create"), {"amount": typed})

    assert response.status_code == 422
    html = response.content.decode()
    assert message in field_error(html, "amount")
    assert 'aria-invalid="true"' in html
    assert Deposit.objects.count() == 0


def test_deposit_create_view_double_submit_makes_one_deposit(client: Client, user: User) -> None:
    client.force_login(user)
    data = {"amount": "25,00", "request_token": "a" * 32}

    first = client.post(reverse("ledger:deposit_create"), data)
    again = client.post(reverse("ledger:deposit_create"), data)

    assert Deposit.objects.count() == 1
    assert first["Location"] == again["Location"]


def test_deposit_create_view_prefills_amount_and_keeps_a_local_return_path(
    client: Client, user: User
) -> None:
    client.force_login(user)

    form = client.get(reverse("ledger:deposit_create") + "?amount=40,00&next=/en/contests/3/")
    html = form.content.decode()
    assert 'value="40,00"' in html
    assert 'value="/en/contests/3/"' in html

    client.post(
        reverse("ledger:deposit_create"), {"amount": "40,00", "return_path": "/en/contests/3/"}
    )
    assert Deposit.objects.get().return_path == "/en/contests/3/"


def test_deposit_create_view_drops_a_return_path_off_the_site(client: Client, user: User) -> None:
    client.force_login(user)

    html = client.get(reverse("ledger:deposit_create") + "?next=//evil.example/").content.decode()
    client.post(
        reverse("ledger:deposit_create"), {"amount": "40", "return_path": "https://evil.example/"}
    )

    assert 'value="//evil.example/"' not in html
    assert Deposit.objects.get().return_path == ""


def test_deposit_create_view_into_an_organisation_wallet(
    client: Client, organisation: Organisation, org_admin: User
) -> None:
    client.force_login(org_admin)

    form = client.get(reverse("ledger:deposit_create") + f"?org={organisation.slug}")
    client.post(reverse("ledger:deposit_create"), {"amount": "80", "org": organisation.slug})

    assert organisation.name in form.content.decode()
    assert Deposit.objects.get().wallet == wallet_for_organisation(organisation=organisation)


def test_deposit_create_view_into_an_organisation_wallet_is_not_found_for_members(
    client: Client, organisation: Organisation, org_member: User
) -> None:
    client.force_login(org_member)

    get = client.get(reverse("ledger:deposit_create") + f"?org={organisation.slug}")
    post = client.post(reverse("ledger:deposit_create"), {"amount": "80", "org": organisation.slug})

    assert get.status_code == 404
    assert post.status_code == 404
    assert Deposit.objects.count() == 0


def test_deposit_return_view_after_payment_continues_to_the_return_path(
    client: Client, user: User
) -> None:
    client.force_login(user)
    deposit = deposit_create(
        wallet=wallet_for_user(user=user), user=user, amount=2500, return_path="/en/contests/3/"
    )
    client.post(deposit.checkout_url, {"action": "confirm"})

    response = client.get(reverse("ledger:deposit_return", args=[deposit.public_id]))

    html = response.content.decode()
    assert 'data-status="paid"' in html
    assert "Payment received" in html
    assert 'href="/en/contests/3/" role="button">Continue' in html


def test_deposit_return_view_shows_pending_and_cancelled(client: Client, user: User) -> None:
    client.force_login(user)
    wallet = wallet_for_user(user=user)
    pending = deposit_create(wallet=wallet, user=user, amount=2500)
    cancelled = deposit_create(wallet=wallet, user=user, amount=1250)
    client.post(cancelled.checkout_url, {"action": "cancel"})

    pending_html = client.get(
        reverse("ledger:deposit_return", args=[pending.public_id])
    ).content.decode()
    cancelled_html = client.get(
        reverse("ledger:deposit_return", args=[cancelled.public_id])
    ).content.decode()

    assert "Waiting for the payment" in pending_html
    assert pending.checkout_url in pending_html
    assert "Payment cancelled" in cancelled_html
    assert "amount=12%2C50" in cancelled_html  # "Try again" prefilled
    assert balance(wallet) == 0


def test_deposit_return_view_of_someone_elses_deposit_is_not_found(
    client: Client, user: User, other_user: User
) -> None:
    deposit = deposit_create(wallet=wallet_for_user(user=user), user=user, amount=2500)
    client.force_login(other_user)

    assert client.get(reverse("ledger:deposit_return", args=[deposit.public_id])).status_code == 404


# --- payouts ----------------------------------------------------------------------------


def test_payout_create_view_requests_a_payout(client: Client, user: User) -> None:
    wallet = funded_wallet(user, 5000)
    client.force_login(user)

    response = client.post(
        reverse("ledger:payout_create"),
        {"amount": "30,00", "iban": "NL91 ABNA 0417 1643 00", "account_holder": "A. Member"},
        follow=True,
    )

    payout = Payout.objects.get()
    assert (payout.amount, payout.iban, payout.account_holder) == (3000, GOOD_IBAN, "A. Member")
    assert balance(wallet) == 2000
    assert "Your payout of €\xa030.00 is requested" in response.content.decode()
    assert ledger_verify() == []


def test_payout_create_view_shows_a_bad_iban_next_to_the_field(client: Client, user: User) -> None:
    wallet = funded_wallet(user, 5000)
    client.force_login(user)

    response = client.post(
        reverse("ledger:payout_create"),
        {"amount": "30", "iban": BAD_CHECKSUM_IBAN, "account_holder": "A. Member"},
    )

    assert response.status_code == 422
    assert "check digits do not match" in field_error(response.content.decode(), "iban")
    assert Payout.objects.count() == 0
    assert balance(wallet) == 5000


def test_payout_create_view_shows_more_than_the_balance_next_to_the_amount(
    client: Client, user: User
) -> None:
    wallet = funded_wallet(user, 5000)
    client.force_login(user)

    response = client.post(
        reverse("ledger:payout_create"),
        {"amount": "50,01", "iban": GOOD_IBAN, "account_holder": "A. Member"},
    )

    assert response.status_code == 422
    error = field_error(response.content.decode(), "amount")
    assert "more than your balance of €\xa050.00" in error
    assert Payout.objects.count() == 0
    assert balance(wallet) == 5000


def test_payout_create_view_names_every_missing_field(client: Client, user: User) -> None:
    funded_wallet(user, 5000)
    client.force_login(user)

    response = client.post(reverse("ledger:payout_create"), {})

    html = response.content.decode()
    for field in ("amount", "iban", "account_holder"):
        assert "This field is required" in field_error(html, field)
    assert Payout.objects.count() == 0


def test_payout_create_view_double_submit_makes_one_payout(client: Client, user: User) -> None:
    wallet = funded_wallet(user, 9000)
    client.force_login(user)
    data = {
        "amount": "30",
        "iban": GOOD_IBAN,
        "account_holder": "A. Member",
        "request_token": "b" * 32,
    }

    client.post(reverse("ledger:payout_create"), data)
    client.post(reverse("ledger:payout_create"), data)

    assert Payout.objects.count() == 1
    assert balance(wallet) == 6000


# --- staff queue -------------------------------------------------------------------------


@pytest.fixture
def requested_payout(user: User) -> Payout:
    wallet = funded_wallet(user, 5000)
    return payout_request(
        wallet=wallet, user=user, amount=3000, iban=GOOD_IBAN, account_holder="A. Member"
    )


def test_staff_payouts_view_is_not_found_for_everyone_but_staff(
    client: Client, user: User, requested_payout: Payout
) -> None:
    urls = [
        reverse("ledger:staff_payouts"),
        reverse("ledger:payout_failed", args=[requested_payout.pk]),
    ]
    for url in urls:
        assert client.get(url).status_code == 404
    client.force_login(user)
    for url in urls:
        assert client.get(url).status_code == 404
    assert client.post(reverse("ledger:payout_paid", args=[requested_payout.pk])).status_code == 404
    requested_payout.refresh_from_db()
    assert requested_payout.status == Payout.Status.REQUESTED


def test_staff_payouts_view_shows_the_full_iban_to_staff(
    client: Client, staff_user: User, requested_payout: Payout
) -> None:
    client.force_login(staff_user)

    html = client.get(reverse("ledger:staff_payouts")).content.decode()

    assert "NL91 ABNA 0417 1643 00" in html
    assert "A. Member" in html
    assert "1 payout waiting" in html


def test_staff_payouts_view_query_count_does_not_grow_with_the_queue(
    client: Client, staff_user: User
) -> None:
    client.force_login(staff_user)
    url = reverse("ledger:staff_payouts")
    members = [new_user() for _ in range(6)]
    for member in members[:1]:
        payout_request(
            wallet=funded_wallet(member, 5000),
            user=member,
            amount=2000,
            iban=GOOD_IBAN,
            account_holder="M",
        )
    few = page_queries(client, url)

    for member in members[1:]:
        payout_request(
            wallet=funded_wallet(member, 5000),
            user=member,
            amount=2000,
            iban=GOOD_IBAN,
            account_holder="M",
        )
    many = page_queries(client, url)

    assert many == few


def test_payout_paid_view_marks_paid_once_and_answers_409_the_second_time(
    client: Client, staff_user: User, requested_payout: Payout
) -> None:
    client.force_login(staff_user)
    url = reverse("ledger:payout_paid", args=[requested_payout.pk])

    first = client.post(url)
    second = client.post(url)

    assert first.status_code == 302
    assert second.status_code == 409
    assert "already handled" in second.content.decode()
    requested_payout.refresh_from_db()
    assert requested_payout.status == Payout.Status.PAID
    assert ledger_verify() == []


def test_payout_failed_view_returns_the_money_and_answers_409_the_second_time(
    client: Client, staff_user: User, requested_payout: Payout
) -> None:
    client.force_login(staff_user)
    url = reverse("ledger:payout_failed", args=[requested_payout.pk])

    form = client.get(url)
    first = client.post(url, {"reason": "Account closed"})
    second = client.post(url, {"reason": "Account closed"})

    assert form.status_code == 200
    assert first.status_code == 302
    assert second.status_code == 409
    assert balance(requested_payout.wallet) == 5000
    requested_payout.refresh_from_db()
    assert requested_payout.failure_reason == "Account closed"
    assert JournalEntry.objects.filter(description="Account closed").count() == 1


def test_payout_failed_view_needs_a_reason(
    client: Client, staff_user: User, requested_payout: Payout
) -> None:
    client.force_login(staff_user)

    response = client.post(
        reverse("ledger:payout_failed", args=[requested_payout.pk]), {"reason": ""}
    )

    assert response.status_code == 422
    assert "This field is required" in field_error(response.content.decode(), "reason")
    requested_payout.refresh_from_db()
    assert requested_payout.status == Payout.Status.REQUESTED


def test_wallet_names_a_deposit_in_the_readers_language(client: Client, user: User) -> None:
    """The journal entry's description is stored in English when the webhook arrives; the
    wallet says what the deposit was in the language of the page."""
    funded_wallet(user, 10_000)
    client.force_login(user)

    dutch = client.get("/nl/wallet/").content.decode()
    english = client.get("/en/wallet/").content.decode()

    assert "Via de sandbox (testbetalingen)" in dutch
    assert "Deposit via" not in dutch
    assert "Via the sandbox (test payments)" in english


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="the wallet's written-out statements are PostgreSQL's (elsewhere the ORM's)",
)
@pytest.mark.parametrize("zone", ["Europe/Amsterdam", "America/Los_Angeles", "Etc/GMT+5"])
def test_wallet_lines_statements_give_the_lines_of_the_querysets(
    user: User, zone: str, django_assert_num_queries: Any
) -> None:
    """``wallet_lines_pages`` gives, page by page, the lines ``wallet_lines`` gives (grouped
    per piece of work per day in the current time zone, newest first), and
    ``wallet_for_user`` the wallet the ORM reads, in one query."""
    from django.utils import timezone

    from trefpunt.ledger.selectors import wallet_lines, wallet_lines_pages

    client_wallet = funded_wallet(new_user(), 5000)
    escrow = escrow_account(reference="contest:8", funder=client_wallet, label="Prize")
    escrow_fund(wallet=client_wallet, escrow=escrow, amount=1200, idempotency_key="c8:fund")
    payee = wallet_for_user(user=user)
    fund_wallet(payee, user, 700)
    for i in range(3):
        escrow_release(escrow=escrow, payee=payee, amount=100, idempotency_key=f"c8:pay:{i}")
    history_lines(payee, 2)
    with timezone.override(zone):
        expected = list(wallet_lines(wallet=payee))
        paginator = wallet_lines_pages(wallet=payee, per_page=2)
        shown = [line for n in paginator.page_range for line in paginator.page(n).object_list]
    assert len(expected) > 4
    assert paginator.count == len(expected)
    assert shown == expected
    with django_assert_num_queries(1):
        again = wallet_for_user(user=user)
    loaded = LedgerAccount.objects.get(pk=payee.pk)
    assert {f.attname: getattr(again, f.attname) for f in LedgerAccount._meta.fields} == {
        f.attname: getattr(loaded, f.attname) for f in LedgerAccount._meta.fields
    }
