"""``trefpunt ledger_check``: passes on a healthy ledger, fails loudly on a corrupted one."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, transaction
from django.db.models import F

from trefpunt.accounts.models import User
from trefpunt.ledger.models import LedgerAccount, Posting
from trefpunt.ledger.selectors import ledger_verify
from trefpunt.ledger.services import escrow_account, escrow_fund, escrow_release, wallet_for_user
from trefpunt.ledger.tests.factories import funded_wallet

pytestmark = pytest.mark.django_db


@pytest.fixture
def busy_ledger(user: User, other_user: User) -> LedgerAccount:
    """Deposits, an escrow, a release with fees: a few entries of every shape."""
    wallet = funded_wallet(user, 20_000)
    escrow = escrow_account(reference="contest:1", funder=wallet)
    escrow_fund(wallet=wallet, escrow=escrow, amount=11_000, idempotency_key="fund")
    escrow_release(
        escrow=escrow,
        payee=wallet_for_user(user=other_user),
        amount=10_000,
        crowd_fee=500,
        client_fee=1000,
        idempotency_key="award",
    )
    return wallet


def run_check() -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("ledger_check", stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_ledger_check_passes_on_a_healthy_ledger(busy_ledger: LedgerAccount) -> None:
    out, err = run_check()

    assert "ledger check passed" in out
    assert err == ""


def test_ledger_check_fails_when_a_cached_balance_is_changed(busy_ledger: LedgerAccount) -> None:
    LedgerAccount.objects.filter(pk=busy_ledger.pk).update(balance=F("balance") + 100)

    with pytest.raises(CommandError, match="FAILED"):
        run_check()
    problems = ledger_verify()
    assert any(f"account {busy_ledger.pk} " in p and "!= postings" in p for p in problems)
    assert any("balances sum to 100" in p for p in problems)


def test_ledger_check_fails_on_an_unbalanced_entry(busy_ledger: LedgerAccount) -> None:
    posting = Posting.objects.filter(account=busy_ledger).order_by("pk").first()
    assert posting is not None
    Posting.objects.filter(pk=posting.pk).update(amount=F("amount") + 1)

    with pytest.raises(CommandError):
        run_check()
    problems = ledger_verify()
    assert any(f"entry {posting.entry_id} " in p and "summing to 1" in p for p in problems)


def test_ledger_check_fails_on_an_entry_with_a_single_posting(busy_ledger: LedgerAccount) -> None:
    posting = Posting.objects.filter(account=busy_ledger).order_by("pk").first()
    assert posting is not None
    # Move the counter-postings to a copy of the entry, leaving one line behind.
    others = Posting.objects.filter(entry_id=posting.entry_id).exclude(pk=posting.pk)
    entry = posting.entry
    entry.pk = None
    entry.idempotency_key = "copy"
    entry.save()
    others.update(entry=entry)

    with pytest.raises(CommandError):
        run_check()
    assert any("1 postings" in p for p in ledger_verify())


def test_a_wallet_cannot_be_taken_negative_even_by_a_raw_update(user: User) -> None:
    wallet = funded_wallet(user, 1000)

    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerAccount.objects.filter(pk=wallet.pk).update(balance=-5)

    assert ledger_verify() == []
