"""Reads of the ledger, scoped to what the asking user may see."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db.models import Count, Q, QuerySet, Sum
from django.utils.translation import gettext as _

from trefpunt.core.exceptions import NotFound

from .models import AccountKind, Deposit, JournalEntry, LedgerAccount, Payout, Posting

if TYPE_CHECKING:
    from trefpunt.accounts.models import User


@dataclass(frozen=True)
class WalletSummary:
    wallet: LedgerAccount
    balance: int
    in_escrow: int
    payouts_pending: int
    currency: str


def wallet_summary(*, wallet: LedgerAccount) -> WalletSummary:
    escrowed = (
        LedgerAccount.objects.filter(kind=AccountKind.ESCROW, funder=wallet).aggregate(
            total=Sum("balance")
        )["total"]
        or 0
    )
    pending = (
        Payout.objects.filter(wallet=wallet, status=Payout.Status.REQUESTED).aggregate(
            total=Sum("amount")
        )["total"]
        or 0
    )
    wallet.refresh_from_db(fields=["balance"])
    return WalletSummary(
        wallet=wallet,
        balance=wallet.balance,
        in_escrow=escrowed,
        payouts_pending=pending,
        currency=wallet.currency,
    )


def wallet_escrows(*, wallet: LedgerAccount) -> QuerySet[LedgerAccount]:
    return LedgerAccount.objects.filter(
        kind=AccountKind.ESCROW, funder=wallet, balance__gt=0
    ).order_by("-created_at")


def wallet_postings(*, wallet: LedgerAccount) -> QuerySet[Posting]:
    """The wallet's history, newest first, with the entry each line belongs to."""
    return (
        Posting.objects.filter(account=wallet)
        .select_related("entry")
        .order_by("-entry__created_at", "-id")
    )


def deposit_for_user(*, public_id: str, user: User) -> Deposit:
    deposit = (
        Deposit.objects.select_related("wallet")
        .filter(public_id=public_id, created_by=user)
        .first()
    )
    if deposit is None:
        raise NotFound(_("Payment not found."))
    return deposit


def payouts_pending() -> QuerySet[Payout]:
    return (
        Payout.objects.filter(status=Payout.Status.REQUESTED)
        .select_related("requested_by__profile", "wallet")
        .order_by("created_at")
    )


def ledger_verify() -> list[str]:
    """Every violation of the ledger's invariants, as readable lines (empty = healthy).

    Checks: each entry's postings sum to zero and it has at least two; each
    account's cached balance equals the sum of its postings; no account but
    provider clearing is negative; all accounts together sum to zero.
    """
    problems: list[str] = []
    unbalanced = (
        JournalEntry.objects.annotate(total=Sum("postings__amount"), lines=Count("postings"))
        .filter(~Q(total=0) | Q(lines__lt=2) | Q(total__isnull=True))
        .values_list("pk", "idempotency_key", "total", "lines")
    )
    for pk, key, total, lines in unbalanced:
        problems.append(f"entry {pk} ({key}): {lines} postings summing to {total}")
    for account in LedgerAccount.objects.annotate(posted=Sum("postings__amount")).order_by("pk"):
        posted = account.posted or 0
        if account.balance != posted:
            problems.append(
                f"account {account.pk} ({account}): cached balance "
                f"{account.balance} != postings {posted}"
            )
        if account.balance < 0 and account.kind != AccountKind.PROVIDER_CLEARING:
            problems.append(f"account {account.pk} ({account}): negative balance {account.balance}")
    for currency, total in (
        LedgerAccount.objects.values_list("currency")
        .annotate(total=Sum("balance"))
        .order_by("currency")
    ):
        if total:
            problems.append(f"currency {currency}: balances sum to {total}, not 0")
    return problems
