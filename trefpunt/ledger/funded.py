"""Funded work: the one way every mode holds money for a piece of work.

A contest's prizes, a batch's rewards, an idea call's rewards and a project milestone are
all *funded work*: the payer (the person who posted it, or the organisation it was posted
for) moves the money from their wallet into the work's own escrow before anyone starts,
the escrow pays the crowd with fees, and what is left goes back to the payer. A mode
describes its piece of work with a ``Work`` (usually a ``funded_work`` property on its model)
and calls the functions below; it never picks wallets or escrows itself.

- ``funding_quote``: what the payer's wallet holds against what funding needs, and the
  deposit that closes the gap (exactly the shortfall, raised to the provider's minimum).
- ``work_deposit_shortfall``: start that deposit; the payer comes back and funds.
- ``work_escrow_lock`` → ``work_fund``: inside the mode's durable transaction, lock the
  escrow first (the platform's lock order: escrows, then the mode's rows, then wallets),
  then move the money in. Too little in the wallet refuses with ``InsufficientFunds`` that
  names the shortfall, and nothing moves.
- ``work_payees_lock`` → ``work_pay``: pay crowd members from the escrow, each payment one
  journal entry with its fees, keyed so that a repeat pays nothing.
- ``work_refund``: give back what the escrow holds (or a part) to the wallet that paid in.

The words on the wallet line come from the mode: it registers a resolver for its reference
prefix with ``ledger.references.reference_register`` (``contest`` → "Contest: Logo for a
bakery", linked), so wallet pages describe every line in the reader's language.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.utils.translation import gettext as _

from trefpunt.core.exceptions import Conflict, ErrorCode, InsufficientFunds
from trefpunt.core.money import format_cents

from .models import AccountKind, LedgerAccount
from .services import (
    account_lock,
    accounts_lock,
    deposit_create,
    escrow_account,
    escrow_fund,
    escrow_refund,
    escrow_release,
    system_account,
)

if TYPE_CHECKING:
    from trefpunt.accounts.models import User

    from .models import Deposit, JournalEntry


@dataclass(frozen=True)
class Work:
    """What a mode tells the ledger about one funded piece of work.

    ``reference`` names the work's escrow and its journal entries (``contest:12``,
    ``batch:7``, ``milestone:3``); the payer is the organisation when there is one, else
    the person who posted the work."""

    reference: str
    currency: str
    poster_id: int
    organisation_id: int | None = None

    def payer_filter(self) -> dict[str, int]:
        if self.organisation_id:
            return {"organisation_id": self.organisation_id}
        return {"user_id": self.poster_id}


@dataclass(frozen=True)
class FundingQuote:
    total: int
    wallet: LedgerAccount | None
    balance: int
    shortfall: int
    deposit_amount: int
    currency: str


# --- reading (no writes, no locks) ------------------------------------------------------


def payer_wallet_lookup(work: Work) -> LedgerAccount | None:
    """The wallet that pays for the work, if it exists yet."""
    return LedgerAccount.objects.filter(
        kind=AccountKind.WALLET, currency=work.currency, **work.payer_filter()
    ).first()


def work_escrow_lookup(work: Work) -> LedgerAccount | None:
    """The work's escrow, if it was ever funded."""
    return LedgerAccount.objects.filter(
        kind=AccountKind.ESCROW, reference=work.reference, currency=work.currency
    ).first()


def funding_quote(*, work: Work, total: int) -> FundingQuote:
    """What funding ``total`` needs from the payer's wallet: its balance, the shortfall and
    the deposit that closes it (exactly the shortfall, at least the smallest deposit)."""
    wallet = payer_wallet_lookup(work)
    balance = wallet.balance if wallet else 0
    shortfall = max(0, total - balance)
    deposit = max(shortfall, int(settings.MIN_DEPOSIT_CENTS)) if shortfall else 0
    return FundingQuote(
        total=total,
        wallet=wallet,
        balance=balance,
        shortfall=shortfall,
        deposit_amount=deposit,
        currency=work.currency,
    )


# --- writing ---------------------------------------------------------------------------


def payer_wallet(work: Work) -> LedgerAccount:
    """The payer's wallet, created on first use."""
    owner = work.payer_filter()
    label = (
        f"wallet of organisation {work.organisation_id}"
        if work.organisation_id
        else f"wallet of user {work.poster_id}"
    )
    account, _created = LedgerAccount.objects.get_or_create(
        kind=AccountKind.WALLET, currency=work.currency, **owner, defaults={"label": label}
    )
    return account


def work_escrow(work: Work) -> LedgerAccount:
    """The work's escrow, created on first use, funded from (and refunded to) the payer's
    wallet for good."""
    return escrow_account(reference=work.reference, funder=payer_wallet(work), label=work.reference)


def work_escrow_lock(work: Work) -> LedgerAccount:
    """Create (if needed) and lock the work's escrow; return it fresh. Call it first in the
    mode's transaction, before locking the mode's own rows."""
    return account_lock(work_escrow(work))


def work_fund(
    *,
    work: Work,
    escrow: LedgerAccount,
    amount: int,
    idempotency_key: str,
    description: str = "",
    created_by: User | None = None,
) -> JournalEntry:
    """Move ``amount`` from the payer's wallet into the (locked) escrow. Refuses with
    ``InsufficientFunds`` naming the total, the balance and the shortfall when the wallet
    holds too little; the caller's transaction then rolls back and nothing moves. A repeat
    with the same key returns the first entry."""
    wallet = payer_wallet(work)
    try:
        return escrow_fund(
            wallet=wallet,
            escrow=escrow,
            amount=amount,
            idempotency_key=idempotency_key,
            description=description,
            created_by=created_by,
        )
    except InsufficientFunds:
        balance = LedgerAccount.objects.values_list("balance", flat=True).get(pk=wallet.pk)
        raise shortfall_error(total=amount, balance=balance, currency=work.currency) from None


def shortfall_error(*, total: int, balance: int, currency: str) -> InsufficientFunds:
    """The one refusal for funding that the wallet cannot cover."""
    short = format_cents(max(0, total - balance), currency)
    return InsufficientFunds(
        _("This needs %(total)s; the wallet holds %(balance)s. Deposit %(short)s first.")
        % {
            "total": format_cents(total, currency),
            "balance": format_cents(balance, currency),
            "short": short,
        },
        fields={"wallet": _("%(short)s short.") % {"short": short}},
    )


def work_deposit_shortfall(*, work: Work, user: User, total: int, return_path: str) -> Deposit:
    """Start a deposit of exactly what funding ``total`` lacks into the payer's wallet; the
    payer comes back to ``return_path`` and funds. Refuses when nothing is lacking."""
    quote = funding_quote(work=work, total=total)
    if not quote.shortfall:
        raise Conflict(
            _("The wallet already holds enough; nothing to deposit."),
            code=ErrorCode.NO_SHORTFALL,
        )
    return deposit_create(
        wallet=payer_wallet(work),
        user=user,
        amount=quote.deposit_amount,
        return_path=return_path,
    )


def work_payees_lock(
    *, work: Work, escrow: LedgerAccount, payee_ids: Iterable[int]
) -> dict[int, LedgerAccount]:
    """Lock, in the ledger's global order, every account that paying ``payee_ids`` (user
    ids) and refunding the rest will touch: the escrow, the payees' wallets, the payer's
    wallet and platform revenue. For a mode that books several payments in one transaction,
    so that two such transactions sharing a wallet never wait on each other in a cycle.
    Returns the payees' wallets by user id."""
    wallets = {
        user_id: LedgerAccount.objects.get_or_create(
            kind=AccountKind.WALLET,
            user_id=user_id,
            currency=work.currency,
            defaults={"label": f"wallet of user {user_id}"},
        )[0]
        for user_id in sorted(set(payee_ids))
    }
    revenue = _revenue(work.currency)
    funder = [LedgerAccount(pk=escrow.funder_id)] if escrow.funder_id else []
    accounts_lock([escrow, *wallets.values(), revenue, *funder])
    return wallets


def _revenue(currency: str) -> LedgerAccount:
    return system_account(
        kind=AccountKind.PLATFORM_REVENUE, currency=currency, label="platform revenue"
    )


def work_pay(
    *,
    work: Work,
    escrow: LedgerAccount,
    payee_id: int,
    amount: int,
    idempotency_key: str,
    crowd_fee: int = 0,
    client_fee: int = 0,
    description: str = "",
    created_by: User | None = None,
) -> JournalEntry:
    """Pay ``amount`` from the (locked) escrow to user ``payee_id``'s wallet: the payee gets
    ``amount - crowd_fee``, platform revenue both fees, the escrow gives ``amount +
    client_fee``. One journal entry; a repeat with the same key pays nothing."""
    payee, _created = LedgerAccount.objects.get_or_create(
        kind=AccountKind.WALLET,
        user_id=payee_id,
        currency=work.currency,
        defaults={"label": f"wallet of user {payee_id}"},
    )
    return escrow_release(
        escrow=escrow,
        payee=payee,
        amount=amount,
        crowd_fee=crowd_fee,
        client_fee=client_fee,
        idempotency_key=idempotency_key,
        description=description,
        created_by=created_by,
    )


def work_refund(
    *,
    work: Work,
    escrow: LedgerAccount,
    idempotency_key: str,
    amount: int | None = None,
    description: str = "",
    created_by: User | None = None,
) -> int:
    """Give ``amount`` (default: everything the locked escrow holds) back to the wallet that
    paid in. Returns the amount refunded; refunding nothing books nothing."""
    if amount is None:
        amount = LedgerAccount.objects.values_list("balance", flat=True).get(pk=escrow.pk)
    if amount <= 0:
        return 0
    escrow_refund(
        escrow=escrow,
        wallet=LedgerAccount.objects.get(pk=escrow.funder_id or 0),
        amount=amount,
        idempotency_key=idempotency_key,
        description=description,
        created_by=created_by,
    )
    return amount


def escrow_balance(escrow: LedgerAccount) -> int:
    return LedgerAccount.objects.values_list("balance", flat=True).get(pk=escrow.pk)


def fee_shares(*, fee: int, base: int, amounts: Sequence[int]) -> list[int]:
    """Share a client fee charged on ``base`` out over payments of ``amounts`` by cumulative
    flooring: after payments ``a1..ak`` the fee released so far is
    ``floor(fee × (a1+…+ak) / base)``. The shares never exceed ``fee``, and what the
    payments do not use of ``base`` keeps its share of the fee for the refund, so an escrow
    funded with ``base + fee`` always ends at exactly zero."""
    if base <= 0:
        return [0 for _ in amounts]
    shares: list[int] = []
    paid = released = 0
    for amount in amounts:
        paid += amount
        due = fee * paid // base
        shares.append(due - released)
        released = due
    return shares
