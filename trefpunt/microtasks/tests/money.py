"""Checks that the escrow of a batch adds up, independently of the code under test."""

from __future__ import annotations

import io

from django.core.management import call_command

from trefpunt.ledger.models import AccountKind, LedgerAccount
from trefpunt.ledger.selectors import ledger_verify
from trefpunt.microtasks.models import Batch
from trefpunt.microtasks.selectors import Money, batch_money


def escrow_of(batch: Batch) -> LedgerAccount:
    return LedgerAccount.objects.get(kind=AccountKind.ESCROW, reference=f"batch:{batch.pk}")


def assert_escrow_adds_up(batch: Batch) -> Money:
    """Funded = rewards paid + fees + refunds + what the escrow still holds, the ledger is
    consistent, and ``trefpunt ledger_check`` passes."""
    money = batch_money(batch=batch)
    escrow = escrow_of(batch)
    assert escrow.balance >= 0
    assert money.funded == money.rewards_paid + money.fees_paid + money.refunded + escrow.balance
    assert ledger_verify() == []
    out = io.StringIO()
    call_command("ledger_check", stdout=out)
    assert "ledger check passed" in out.getvalue()
    return money
