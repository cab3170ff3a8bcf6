"""Money in tests arrives the way it does in production: a deposit confirmed by a signed
provider notification."""

from __future__ import annotations

import io

from django.core.management import call_command
from django.db.models import Sum

from trefpunt.accounts.models import User
from trefpunt.ledger.models import AccountKind, Deposit, LedgerAccount
from trefpunt.ledger.providers.sandbox import sandbox_notification, sandbox_sign
from trefpunt.ledger.selectors import ledger_verify
from trefpunt.ledger.services import (
    deposit_create,
    wallet_for_user,
    webhook_receive,
)


def fund_wallet(wallet: LedgerAccount, user: User, amount: int) -> LedgerAccount:
    deposit = deposit_create(wallet=wallet, user=user, amount=amount)
    body = sandbox_notification(deposit, "paid")
    webhook_receive(provider="sandbox", body=body, headers=sandbox_sign(body))
    wallet.refresh_from_db()
    return wallet


def funded_wallet(user: User, amount: int) -> LedgerAccount:
    return fund_wallet(wallet_for_user(user=user), user, amount)


def balance(user: User) -> int:
    """The person's wallet balance, read from the database."""
    return LedgerAccount.objects.values_list("balance", flat=True).get(
        pk=wallet_for_user(user=user).pk
    )


def escrow_balance_of(reference: str) -> int:
    """What the escrow of the work named ``reference`` (e.g. ``milestone:3``) holds."""
    return (
        LedgerAccount.objects.filter(kind=AccountKind.ESCROW, reference=reference)
        .values_list("balance", flat=True)
        .first()
        or 0
    )


def assert_money_consistent() -> None:
    """Zero-sum ledger, ``ledger_check`` clean, and exactly the deposits are held."""
    assert ledger_verify() == []
    call_command("ledger_check", stdout=io.StringIO())
    deposited = (
        Deposit.objects.filter(status=Deposit.Status.PAID).aggregate(s=Sum("amount"))["s"] or 0
    )
    held = (
        LedgerAccount.objects.filter(
            kind__in=[AccountKind.WALLET, AccountKind.ESCROW, AccountKind.PLATFORM_REVENUE]
        ).aggregate(s=Sum("balance"))["s"]
        or 0
    )
    assert held == deposited
