"""Money in tests arrives the way it does in production: a deposit confirmed by a signed
provider notification."""

from __future__ import annotations

from trefpunt.accounts.models import User
from trefpunt.ledger.models import LedgerAccount
from trefpunt.ledger.providers.sandbox import sandbox_notification, sandbox_sign
from trefpunt.ledger.services import deposit_create, wallet_for_user, webhook_receive


def fund_wallet(wallet: LedgerAccount, user: User, amount: int) -> LedgerAccount:
    deposit = deposit_create(wallet=wallet, user=user, amount=amount)
    body = sandbox_notification(deposit, "paid")
    webhook_receive(provider="sandbox", body=body, headers=sandbox_sign(body))
    wallet.refresh_from_db()
    return wallet


def funded_wallet(user: User, amount: int) -> LedgerAccount:
    return fund_wallet(wallet_for_user(user=user), user, amount)
