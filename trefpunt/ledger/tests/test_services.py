"""The ledger's services: zero-sum after each, idempotency, balance checks, state guards."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction
from django.test.utils import override_settings

from trefpunt.accounts.models import Organisation, User
from trefpunt.core.exceptions import (
    Conflict,
    InsufficientFunds,
    NotFound,
    ValidationFailed,
)
from trefpunt.ledger.models import (
    AccountKind,
    Deposit,
    EntryKind,
    JournalEntry,
    LedgerAccount,
    Payout,
    Posting,
)
from trefpunt.ledger.providers.sandbox import sandbox_notification, sandbox_sign
from trefpunt.ledger.selectors import ledger_verify, wallet_summary
from trefpunt.ledger.services import (
    accounts_lock,
    deposit_create,
    escrow_account,
    escrow_fund,
    escrow_refund,
    escrow_release,
    journal_post,
    payout_mark_failed,
    payout_mark_paid,
    payout_request,
    system_account,
    wallet_for_organisation,
    wallet_for_user,
    webhook_receive,
)
from trefpunt.ledger.tests.factories import fund_wallet, funded_wallet

from .conftest import BAD_CHECKSUM_IBAN, GOOD_IBAN

pytestmark = pytest.mark.django_db


def balance(account: LedgerAccount) -> int:
    return LedgerAccount.objects.values_list("balance", flat=True).get(pk=account.pk)


def revenue() -> LedgerAccount:
    return system_account(kind=AccountKind.PLATFORM_REVENUE)


# --- deposits ------------------------------------------------------------------------


def test_deposit_confirm_credits_the_wallet_and_keeps_the_ledger_balanced(user: User) -> None:
    wallet = funded_wallet(user, 2500)

    assert wallet.balance == 2500
    deposit = Deposit.objects.get(created_by=user)
    assert deposit.status == Deposit.Status.PAID
    assert deposit.journal_entry is not None
    assert deposit.journal_entry.kind == EntryKind.DEPOSIT
    assert ledger_verify() == []


def test_deposit_create_books_nothing_until_the_provider_confirms(user: User) -> None:
    wallet = wallet_for_user(user=user)

    deposit = deposit_create(wallet=wallet, user=user, amount=2500)

    assert deposit.status == Deposit.Status.PENDING
    assert deposit.provider_ref.startswith("sbx_")
    assert deposit.checkout_url == f"/pay/sandbox/{deposit.public_id}/"
    assert JournalEntry.objects.count() == 0
    assert balance(wallet) == 0


def test_deposit_create_is_idempotent(user: User) -> None:
    wallet = wallet_for_user(user=user)

    first = deposit_create(wallet=wallet, user=user, amount=2500, idempotency_key="k1")
    again = deposit_create(wallet=wallet, user=user, amount=9900, idempotency_key="k1")

    assert again.pk == first.pk
    assert again.amount == 2500
    assert Deposit.objects.count() == 1


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        (0, "smallest deposit"),
        (-500, "smallest deposit"),
        (499, "smallest deposit"),
        (10_000_001, "largest deposit"),
        ("2500", "whole number of cents"),
        (25.0, "whole number of cents"),
    ],
)
def test_deposit_create_refuses_bad_amounts_and_saves_nothing(
    user: User, amount: object, message: str
) -> None:
    wallet = wallet_for_user(user=user)

    with pytest.raises(ValidationFailed) as excinfo:
        deposit_create(wallet=wallet, user=user, amount=amount)  # type: ignore[arg-type]

    assert list(excinfo.value.fields) == ["amount"]
    assert message in excinfo.value.fields["amount"][0]
    assert Deposit.objects.count() == 0


@pytest.mark.parametrize("path", ["https://evil.example/", "//evil.example/", "/\\evil.example"])
def test_deposit_create_refuses_a_return_path_off_the_site(user: User, path: str) -> None:
    with pytest.raises(ValidationFailed) as excinfo:
        deposit_create(wallet=wallet_for_user(user=user), user=user, amount=2500, return_path=path)

    assert list(excinfo.value.fields) == ["return_path"]
    assert Deposit.objects.count() == 0


def test_deposit_create_keeps_a_local_return_path(user: User) -> None:
    deposit = deposit_create(
        wallet=wallet_for_user(user=user), user=user, amount=2500, return_path="/en/contests/3/"
    )

    assert deposit.return_path == "/en/contests/3/"


def test_deposit_create_marks_the_deposit_failed_when_the_provider_is_down(
    user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    from trefpunt.core.exceptions import ApplicationError
    from trefpunt.ledger.providers.sandbox import SandboxProvider

    def down(self: SandboxProvider, deposit: Deposit) -> None:
        raise ConnectionError("provider down")

    monkeypatch.setattr(SandboxProvider, "checkout_create", down)

    with pytest.raises(ApplicationError) as excinfo:
        deposit_create(wallet=wallet_for_user(user=user), user=user, amount=2500)

    assert excinfo.value.code == "provider_unavailable"
    assert Deposit.objects.get().status == Deposit.Status.FAILED


def test_deposit_close_leaves_a_paid_deposit_paid(user: User) -> None:
    wallet = funded_wallet(user, 2500)
    deposit = Deposit.objects.get()
    body = sandbox_notification(deposit, "cancelled")

    outcome, closed = webhook_receive(provider="sandbox", body=body, headers=sandbox_sign(body))

    assert outcome == "cancelled"
    assert closed.status == Deposit.Status.PAID
    assert balance(wallet) == 2500
    assert ledger_verify() == []


# --- escrow ------------------------------------------------------------------------


def test_escrow_fund_moves_money_from_the_wallet_into_escrow(user: User) -> None:
    wallet = funded_wallet(user, 10_000)
    escrow = escrow_account(reference="contest:7", funder=wallet, label="Prize")

    entry = escrow_fund(wallet=wallet, escrow=escrow, amount=6000, idempotency_key="c7:fund")

    assert entry.kind == EntryKind.ESCROW_FUND
    assert entry.reference == "contest:7"
    assert balance(wallet) == 4000
    assert balance(escrow) == 6000
    assert wallet_summary(wallet=wallet).in_escrow == 6000
    assert ledger_verify() == []


def test_escrow_fund_refuses_more_than_the_wallet_holds(user: User) -> None:
    wallet = funded_wallet(user, 1000)
    escrow = escrow_account(reference="contest:7", funder=wallet)

    with pytest.raises(InsufficientFunds):
        escrow_fund(wallet=wallet, escrow=escrow, amount=1001, idempotency_key="c7:fund")

    assert balance(wallet) == 1000
    assert JournalEntry.objects.filter(kind=EntryKind.ESCROW_FUND).count() == 0
    assert ledger_verify() == []


def test_escrow_fund_refuses_a_wallet_that_is_not_the_escrows_funder(
    user: User, other_user: User
) -> None:
    wallet = funded_wallet(user, 5000)
    other = funded_wallet(other_user, 5000)
    escrow = escrow_account(reference="contest:7", funder=wallet)

    with pytest.raises(Conflict):
        escrow_fund(wallet=other, escrow=escrow, amount=1000, idempotency_key="c7:fund")

    assert balance(other) == 5000


def test_escrow_account_refuses_a_second_funder_for_the_same_reference(
    user: User, other_user: User
) -> None:
    escrow_account(reference="contest:7", funder=wallet_for_user(user=user))

    with pytest.raises(Conflict):
        escrow_account(reference="contest:7", funder=wallet_for_user(user=other_user))


def test_escrow_release_splits_the_fees_to_platform_revenue(
    user: User, other_user: User, make_escrow
) -> None:
    escrow = make_escrow(funded_wallet(user, 20_000), 11_000)
    payee = wallet_for_user(user=other_user)

    entry = escrow_release(
        escrow=escrow,
        payee=payee,
        amount=10_000,
        crowd_fee=500,
        client_fee=1000,
        idempotency_key="c1:award:1",
        description="First prize",
    )

    assert balance(escrow) == 0
    assert balance(payee) == 9500
    assert balance(revenue()) == 1500
    assert sorted(entry.postings.values_list("amount", flat=True)) == [-11_000, 1500, 9500]
    assert ledger_verify() == []


def test_escrow_release_is_idempotent(user: User, other_user: User, make_escrow) -> None:
    escrow = make_escrow(funded_wallet(user, 20_000), 20_000)
    payee = wallet_for_user(user=other_user)
    entries_before = JournalEntry.objects.count()

    first = escrow_release(escrow=escrow, payee=payee, amount=5000, idempotency_key="c1:award:1")
    again = escrow_release(escrow=escrow, payee=payee, amount=5000, idempotency_key="c1:award:1")

    assert again.pk == first.pk
    assert JournalEntry.objects.count() == entries_before + 1
    assert balance(payee) == 5000
    assert balance(escrow) == 15_000
    assert ledger_verify() == []


def test_escrow_release_returns_the_first_result_even_when_a_repeat_would_not_fit(
    user: User, other_user: User, make_escrow
) -> None:
    escrow = make_escrow(funded_wallet(user, 5000), 5000)
    payee = wallet_for_user(user=other_user)
    first = escrow_release(escrow=escrow, payee=payee, amount=5000, idempotency_key="c1:award:1")

    again = escrow_release(escrow=escrow, payee=payee, amount=5000, idempotency_key="c1:award:1")

    assert again.pk == first.pk
    assert balance(payee) == 5000


def test_escrow_release_refuses_more_than_the_escrow_holds(
    user: User, other_user: User, make_escrow
) -> None:
    escrow = make_escrow(funded_wallet(user, 5000), 5000)
    payee = wallet_for_user(user=other_user)

    with pytest.raises(InsufficientFunds):
        escrow_release(
            escrow=escrow, payee=payee, amount=5000, client_fee=1, idempotency_key="c1:award:1"
        )

    assert balance(payee) == 0
    assert balance(escrow) == 5000
    assert ledger_verify() == []


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"amount": 0}, "amount"),
        ({"amount": -1}, "amount"),
        ({"amount": 100, "crowd_fee": 101}, "crowd_fee"),
        ({"amount": 100, "crowd_fee": -1}, "crowd_fee"),
        ({"amount": 100, "client_fee": -1}, "client_fee"),
    ],
)
def test_escrow_release_refuses_bad_amounts(
    user: User, other_user: User, make_escrow, kwargs: dict[str, Any], field: str
) -> None:
    escrow = make_escrow(funded_wallet(user, 5000), 5000)

    with pytest.raises(ValidationFailed) as excinfo:
        escrow_release(
            escrow=escrow, payee=wallet_for_user(user=other_user), idempotency_key="k", **kwargs
        )

    assert list(excinfo.value.fields) == [field]
    assert balance(escrow) == 5000


def test_escrow_release_with_a_key_used_for_another_operation_is_refused(
    user: User, other_user: User, make_escrow
) -> None:
    wallet = funded_wallet(user, 5000)
    escrow = make_escrow(wallet, 3000)

    with pytest.raises(Conflict) as excinfo:
        escrow_release(
            escrow=escrow,
            payee=wallet_for_user(user=other_user),
            amount=1000,
            idempotency_key="contest:1:fund",  # the key make_escrow funded with
        )

    assert excinfo.value.code == "idempotency_key_reused"
    assert balance(escrow) == 3000


def test_escrow_refund_returns_money_to_the_funder(user: User, make_escrow) -> None:
    wallet = funded_wallet(user, 5000)
    escrow = make_escrow(wallet, 3000)

    entry = escrow_refund(escrow=escrow, wallet=wallet, amount=3000, idempotency_key="c1:refund")
    again = escrow_refund(escrow=escrow, wallet=wallet, amount=3000, idempotency_key="c1:refund")

    assert again.pk == entry.pk
    assert balance(wallet) == 5000
    assert balance(escrow) == 0
    assert ledger_verify() == []


def test_escrow_refund_refuses_a_wallet_that_did_not_fund_the_escrow(
    user: User, other_user: User, make_escrow
) -> None:
    escrow = make_escrow(funded_wallet(user, 5000), 3000)
    stranger = wallet_for_user(user=other_user)

    with pytest.raises(Conflict):
        escrow_refund(escrow=escrow, wallet=stranger, amount=3000, idempotency_key="c1:refund")

    assert balance(stranger) == 0
    assert balance(escrow) == 3000


def test_escrow_from_an_organisation_wallet_is_refunded_to_it(
    organisation: Organisation, org_owner: User, make_escrow
) -> None:
    org_wallet = fund_wallet(wallet_for_organisation(organisation=organisation), org_owner, 8000)
    escrow = make_escrow(org_wallet, 8000, reference="contest:9")

    escrow_refund(escrow=escrow, wallet=org_wallet, amount=8000, idempotency_key="c9:refund")

    assert balance(org_wallet) == 8000
    assert ledger_verify() == []


# --- the posting primitive --------------------------------------------------------------


def test_journal_post_refuses_an_unbalanced_entry(user: User) -> None:
    wallet = funded_wallet(user, 1000)
    clearing = system_account(kind=AccountKind.PAYOUT_CLEARING)

    with pytest.raises(ValueError, match="does not balance"):
        journal_post(
            kind=EntryKind.PAYOUT_REQUEST,
            idempotency_key="broken",
            lines=[(wallet, -500), (clearing, 400)],
        )

    assert not JournalEntry.objects.filter(idempotency_key="broken").exists()
    assert ledger_verify() == []


def test_accounts_lock_takes_escrows_then_wallets_then_system_accounts(
    user: User, other_user: User
) -> None:
    # Created in the opposite order, so ascending ids alone would lock them the other way round.
    platform = system_account(kind=AccountKind.PLATFORM_REVENUE)
    wallet = wallet_for_user(user=user)
    second_wallet = wallet_for_user(user=other_user)
    escrow = escrow_account(reference="contest:1", funder=wallet)
    assert platform.pk < wallet.pk < escrow.pk

    with transaction.atomic():
        locked = accounts_lock([platform, second_wallet, escrow, wallet])

    assert list(locked) == [escrow.pk, wallet.pk, second_wallet.pk, platform.pk]


# --- payouts ----------------------------------------------------------------------------


def test_payout_request_moves_money_to_payouts_in_progress(user: User) -> None:
    wallet = funded_wallet(user, 5000)

    payout = payout_request(
        wallet=wallet, user=user, amount=3000, iban="nl91 abna 0417 1643 00", account_holder="A"
    )

    assert payout.status == Payout.Status.REQUESTED
    assert payout.iban == GOOD_IBAN
    assert balance(wallet) == 2000
    assert balance(system_account(kind=AccountKind.PAYOUT_CLEARING)) == 3000
    assert wallet_summary(wallet=wallet).payouts_pending == 3000
    assert ledger_verify() == []


def test_payout_request_refuses_more_than_the_balance_with_a_clear_message(user: User) -> None:
    wallet = funded_wallet(user, 5000)

    with pytest.raises(InsufficientFunds) as excinfo:
        payout_request(
            wallet=wallet, user=user, amount=5001, iban=GOOD_IBAN, account_holder="A. Member"
        )

    assert "€\xa050.00" in excinfo.value.fields["amount"][0]
    assert "balance" in excinfo.value.fields["amount"][0]
    assert Payout.objects.count() == 0
    assert balance(wallet) == 5000
    assert ledger_verify() == []


@override_settings(MAX_PAYOUT_CENTS=100_000)
@pytest.mark.parametrize("amount", [100_001, 2**63, 10**30])
def test_payout_request_refuses_more_than_the_largest_payout(user: User, amount: int) -> None:
    wallet = funded_wallet(user, 5000)

    with pytest.raises(ValidationFailed) as excinfo:
        payout_request(wallet=wallet, user=user, amount=amount, iban=GOOD_IBAN, account_holder="A")

    assert list(excinfo.value.fields) == ["amount"]
    assert Payout.objects.count() == 0
    assert balance(wallet) == 5000


def test_payout_request_refuses_an_iban_with_a_bad_checksum(user: User) -> None:
    wallet = funded_wallet(user, 5000)

    with pytest.raises(ValidationFailed) as excinfo:
        payout_request(
            wallet=wallet, user=user, amount=2000, iban=BAD_CHECKSUM_IBAN, account_holder="A"
        )

    assert "check digits" in excinfo.value.fields["iban"][0]
    assert Payout.objects.count() == 0
    assert balance(wallet) == 5000


def test_payout_request_names_every_bad_field_at_once(user: User) -> None:
    wallet = funded_wallet(user, 5000)

    with pytest.raises(ValidationFailed) as excinfo:
        payout_request(wallet=wallet, user=user, amount=999, iban="abc", account_holder="  ")

    assert set(excinfo.value.fields) == {"amount", "iban", "account_holder"}
    assert Payout.objects.count() == 0


def test_payout_request_is_idempotent(user: User) -> None:
    wallet = funded_wallet(user, 5000)
    entries_before = JournalEntry.objects.count()

    first = payout_request(
        wallet=wallet,
        user=user,
        amount=2000,
        iban=GOOD_IBAN,
        account_holder="A",
        idempotency_key="p",
    )
    again = payout_request(
        wallet=wallet,
        user=user,
        amount=2000,
        iban=GOOD_IBAN,
        account_holder="A",
        idempotency_key="p",
    )

    assert again.pk == first.pk
    assert JournalEntry.objects.count() == entries_before + 1
    assert balance(wallet) == 3000


def test_payout_request_from_someone_elses_wallet_is_not_found(
    user: User, other_user: User
) -> None:
    wallet = funded_wallet(user, 5000)

    with pytest.raises(NotFound):
        payout_request(
            wallet=wallet, user=other_user, amount=2000, iban=GOOD_IBAN, account_holder="Thief"
        )

    assert balance(wallet) == 5000
    assert Payout.objects.count() == 0


def test_payout_request_from_an_organisation_wallet_needs_an_owner_or_admin(
    organisation: Organisation, org_owner: User, org_admin: User, org_member: User
) -> None:
    wallet = fund_wallet(wallet_for_organisation(organisation=organisation), org_owner, 9000)

    with pytest.raises(NotFound):
        payout_request(
            wallet=wallet, user=org_member, amount=2000, iban=GOOD_IBAN, account_holder="Org"
        )
    payout = payout_request(
        wallet=wallet, user=org_admin, amount=2000, iban=GOOD_IBAN, account_holder="Org"
    )

    assert payout.wallet_id == wallet.pk
    assert balance(wallet) == 7000


@override_settings(MIN_PAYOUT_CENTS=1000)
def test_payout_mark_paid_moves_money_out_and_refuses_twice(user: User, staff_user: User) -> None:
    wallet = funded_wallet(user, 5000)
    payout = payout_request(
        wallet=wallet, user=user, amount=3000, iban=GOOD_IBAN, account_holder="A"
    )

    paid = payout_mark_paid(payout_id=payout.pk, staff=staff_user)
    with pytest.raises(Conflict):
        payout_mark_paid(payout_id=payout.pk, staff=staff_user)
    with pytest.raises(Conflict):
        payout_mark_failed(payout_id=payout.pk, staff=staff_user, reason="too late")

    assert paid.status == Payout.Status.PAID
    assert paid.handled_by == staff_user
    assert balance(wallet) == 2000
    assert balance(system_account(kind=AccountKind.PAYOUT_CLEARING)) == 0
    assert JournalEntry.objects.filter(kind=EntryKind.PAYOUT_PAID).count() == 1
    assert ledger_verify() == []


def test_payout_mark_failed_returns_the_money_and_refuses_twice(
    user: User, staff_user: User
) -> None:
    wallet = funded_wallet(user, 5000)
    payout = payout_request(
        wallet=wallet, user=user, amount=3000, iban=GOOD_IBAN, account_holder="A"
    )

    failed = payout_mark_failed(payout_id=payout.pk, staff=staff_user, reason="Account closed")
    with pytest.raises(Conflict):
        payout_mark_failed(payout_id=payout.pk, staff=staff_user, reason="Account closed")
    with pytest.raises(Conflict):
        payout_mark_paid(payout_id=payout.pk, staff=staff_user)

    assert failed.status == Payout.Status.FAILED
    assert failed.failure_reason == "Account closed"
    assert balance(wallet) == 5000
    returned = JournalEntry.objects.get(kind=EntryKind.PAYOUT_FAILED)
    assert returned.description == "Account closed"
    assert Posting.objects.filter(entry=returned, account=wallet).get().amount == 3000
    assert ledger_verify() == []


def test_payout_mark_failed_needs_a_reason(user: User, staff_user: User) -> None:
    wallet = funded_wallet(user, 5000)
    payout = payout_request(
        wallet=wallet, user=user, amount=3000, iban=GOOD_IBAN, account_holder="A"
    )

    with pytest.raises(ValidationFailed) as excinfo:
        payout_mark_failed(payout_id=payout.pk, staff=staff_user, reason="   ")

    assert list(excinfo.value.fields) == ["reason"]
    payout.refresh_from_db()
    assert payout.status == Payout.Status.REQUESTED


def test_payout_mark_paid_by_a_non_staff_user_is_not_found(user: User) -> None:
    wallet = funded_wallet(user, 5000)
    payout = payout_request(
        wallet=wallet, user=user, amount=3000, iban=GOOD_IBAN, account_holder="A"
    )

    with pytest.raises(NotFound):
        payout_mark_paid(payout_id=payout.pk, staff=user)

    payout.refresh_from_db()
    assert payout.status == Payout.Status.REQUESTED


def test_every_service_leaves_the_ledger_balanced(
    user: User, other_user: User, staff_user: User
) -> None:
    wallet = funded_wallet(user, 30_000)
    escrow = escrow_account(reference="contest:1", funder=wallet)
    payee = wallet_for_user(user=other_user)
    steps = [
        lambda: escrow_fund(wallet=wallet, escrow=escrow, amount=20_000, idempotency_key="f"),
        lambda: escrow_release(
            escrow=escrow,
            payee=payee,
            amount=10_000,
            crowd_fee=500,
            client_fee=1000,
            idempotency_key="r",
        ),
        lambda: escrow_refund(escrow=escrow, wallet=wallet, amount=9000, idempotency_key="b"),
        lambda: payout_request(
            wallet=payee, user=other_user, amount=4000, iban=GOOD_IBAN, account_holder="B"
        ),
        lambda: payout_mark_paid(payout_id=Payout.objects.get().pk, staff=staff_user),
        lambda: payout_request(
            wallet=payee, user=other_user, amount=5500, iban=GOOD_IBAN, account_holder="B"
        ),
        lambda: payout_mark_failed(
            payout_id=Payout.objects.latest("pk").pk, staff=staff_user, reason="Bounced"
        ),
    ]

    for step in steps:
        step()
        assert ledger_verify() == []

    assert balance(wallet) == 19_000
    assert balance(payee) == 5500
    assert balance(escrow) == 0
    assert balance(revenue()) == 1500
