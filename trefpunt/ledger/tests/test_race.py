"""Concurrent money moves on PostgreSQL: real threads, each with its own connection and
transaction, released together by a barrier (``run_concurrently``)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.db import transaction

from trefpunt.accounts.models import User
from trefpunt.core.exceptions import Conflict, InsufficientFunds
from trefpunt.core.testing import run_concurrently
from trefpunt.ledger.models import (
    AccountKind,
    Deposit,
    EntryKind,
    JournalEntry,
    LedgerAccount,
    Payout,
)
from trefpunt.ledger.providers.sandbox import sandbox_notification, sandbox_sign
from trefpunt.ledger.selectors import ledger_verify
from trefpunt.ledger.services import (
    account_lock,
    deposit_create,
    escrow_account,
    escrow_fund,
    escrow_refund,
    escrow_release,
    payout_mark_failed,
    payout_mark_paid,
    payout_request,
    system_account,
    wallet_for_user,
    webhook_receive,
)
from trefpunt.ledger.tests.factories import funded_wallet

from .conftest import GOOD_IBAN, new_user

pytestmark = [pytest.mark.race, pytest.mark.django_db(transaction=True)]


def balance(account: LedgerAccount) -> int:
    return LedgerAccount.objects.values_list("balance", flat=True).get(pk=account.pk)


def funded_escrow(client: User, amount: int) -> LedgerAccount:
    wallet = funded_wallet(client, amount)
    escrow = escrow_account(reference="contest:1", funder=wallet, label="Prize")
    escrow_fund(wallet=wallet, escrow=escrow, amount=amount, idempotency_key="contest:1:fund")
    return escrow


def test_escrow_release_concurrent_repeats_with_one_key_pay_once() -> None:
    escrow = funded_escrow(new_user(), 10_000)
    payee = wallet_for_user(user=new_user())

    results = run_concurrently(
        lambda i: escrow_release(
            escrow=escrow, payee=payee, amount=6000, idempotency_key="contest:1:award:1"
        ),
        workers=4,
    )

    assert all(isinstance(r, JournalEntry) for r in results), results
    assert len({r.pk for r in results}) == 1
    assert JournalEntry.objects.filter(kind=EntryKind.ESCROW_RELEASE).count() == 1
    assert balance(payee) == 6000
    assert balance(escrow) == 4000
    assert ledger_verify() == []


def test_escrow_release_concurrent_different_keys_cannot_overdraw_the_escrow() -> None:
    escrow = funded_escrow(new_user(), 10_000)
    payees = [wallet_for_user(user=new_user()) for _ in range(2)]

    results = run_concurrently(
        lambda i: escrow_release(
            escrow=escrow, payee=payees[i], amount=7000, idempotency_key=f"contest:1:award:{i}"
        ),
        workers=2,
    )

    assert sorted(type(r).__name__ for r in results) == ["InsufficientFunds", "JournalEntry"]
    assert JournalEntry.objects.filter(kind=EntryKind.ESCROW_RELEASE).count() == 1
    assert sorted(balance(p) for p in payees) == [0, 7000]
    assert balance(escrow) == 3000
    assert ledger_verify() == []


def test_payout_request_concurrent_requests_exceeding_the_balance_refuse_one() -> None:
    member = new_user()
    wallet = funded_wallet(member, 5000)

    results = run_concurrently(
        lambda i: payout_request(
            wallet=wallet, user=member, amount=3000, iban=GOOD_IBAN, account_holder="A. Member"
        ),
        workers=2,
    )

    assert sorted(type(r).__name__ for r in results) == ["InsufficientFunds", "Payout"]
    refused = next(r for r in results if isinstance(r, InsufficientFunds))
    assert "amount" in refused.fields
    assert Payout.objects.count() == 1
    assert balance(wallet) == 2000
    assert ledger_verify() == []


def test_payout_request_concurrent_repeats_with_one_key_make_one_payout() -> None:
    member = new_user()
    wallet = funded_wallet(member, 9000)

    results = run_concurrently(
        lambda i: payout_request(
            wallet=wallet,
            user=member,
            amount=3000,
            iban=GOOD_IBAN,
            account_holder="A. Member",
            idempotency_key="payout:abc",
        ),
        workers=3,
    )

    assert all(isinstance(r, Payout) for r in results), results
    assert len({r.pk for r in results}) == 1
    assert balance(wallet) == 6000
    assert ledger_verify() == []


def test_payout_mark_paid_and_failed_racing_handle_the_payout_once() -> None:
    member = new_user()
    staff = new_user(is_staff=True)
    wallet = funded_wallet(member, 5000)
    payout = payout_request(
        wallet=wallet, user=member, amount=5000, iban=GOOD_IBAN, account_holder="A. Member"
    )

    def handle(i: int) -> Any:
        if i == 0:
            return payout_mark_paid(payout_id=payout.pk, staff=staff)
        return payout_mark_failed(payout_id=payout.pk, staff=staff, reason="Bounced")

    results = run_concurrently(handle, workers=2)

    assert sum(isinstance(r, Conflict) for r in results) == 1
    assert sum(isinstance(r, Payout) for r in results) == 1
    assert (
        JournalEntry.objects.filter(
            kind__in=[EntryKind.PAYOUT_PAID, EntryKind.PAYOUT_FAILED]
        ).count()
        == 1
    )
    assert ledger_verify() == []


def test_webhook_receive_concurrent_replays_book_once() -> None:
    member = new_user()
    wallet = wallet_for_user(user=member)
    deposit = deposit_create(wallet=wallet, user=member, amount=2500)
    body = sandbox_notification(deposit, "paid")
    headers = sandbox_sign(body)

    results = run_concurrently(
        lambda i: webhook_receive(provider="sandbox", body=body, headers=headers), workers=3
    )

    assert sorted(r[0] for r in results) == ["duplicate", "duplicate", "paid"], results
    assert JournalEntry.objects.filter(kind=EntryKind.DEPOSIT).count() == 1
    assert balance(wallet) == 2500
    assert Deposit.objects.get().status == Deposit.Status.PAID
    assert ledger_verify() == []


def test_deposit_create_concurrent_repeats_with_one_key_make_one_deposit() -> None:
    member = new_user()
    wallet = wallet_for_user(user=member)

    results = run_concurrently(
        lambda i: deposit_create(wallet=wallet, user=member, amount=2500, idempotency_key="d1"),
        workers=3,
    )

    assert all(isinstance(r, Deposit) for r in results), results
    assert len({r.pk for r in results}) == 1
    assert Deposit.objects.count() == 1
    assert Deposit.objects.get().provider_ref


def test_journal_post_lock_order_lets_an_escrow_lock_and_a_funding_cross_without_deadlock() -> None:
    """A domain service locks its escrow first and then pays into a wallet; at the same time
    that wallet funds the same escrow. Ordering accounts by id alone (the wallet is older than
    the escrow) would have each transaction hold what the other waits for."""
    client = new_user()
    wallet = funded_wallet(client, 10_000)
    escrow = escrow_account(reference="contest:1", funder=wallet)
    escrow_fund(wallet=wallet, escrow=escrow, amount=4000, idempotency_key="first")
    system_account(kind=AccountKind.PLATFORM_REVENUE)
    assert wallet.pk < escrow.pk

    def domain_refund() -> JournalEntry:
        with transaction.atomic(durable=True):
            account_lock(escrow)  # the contest service's first lock
            time.sleep(0.5)  # the funding below starts while we hold the escrow
            return escrow_refund(escrow=escrow, wallet=wallet, amount=1000, idempotency_key="r")

    def funding() -> JournalEntry:
        time.sleep(0.2)
        with transaction.atomic(durable=True):
            return escrow_fund(wallet=wallet, escrow=escrow, amount=2000, idempotency_key="f2")

    results = run_concurrently(lambda i: domain_refund() if i == 0 else funding(), workers=2)

    assert all(isinstance(r, JournalEntry) for r in results), results
    assert balance(escrow) == 5000
    assert balance(wallet) == 5000
    assert ledger_verify() == []
