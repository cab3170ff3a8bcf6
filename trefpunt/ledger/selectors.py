"""Reads of the ledger, scoped to what the asking user may see.

A wallet, deposit or payout the user may not see is "not found", the same as
one that does not exist, so ids cannot be probed.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.paginator import Page, Paginator
from django.db import connection
from django.db.models import (
    Case,
    CharField,
    Count,
    F,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    When,
)
from django.db.models.functions import Cast, Coalesce, TruncDate
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext as _

from trefpunt.core.db import prepared_cursor, sql_literal
from trefpunt.core.exceptions import NotFound

from .models import AccountKind, Deposit, JournalEntry, LedgerAccount, Payout, Posting

if TYPE_CHECKING:
    from trefpunt.accounts.models import Organisation, User


@dataclass(frozen=True)
class WalletSummary:
    wallet: LedgerAccount
    balance: int
    in_escrow: int
    payouts_pending: int
    currency: str


# The wallet's figures in one written-out statement (prepared on PostgreSQL): the wallet
# page, the deposit form and the API read them on every request.
_SUMMARY = """
SELECT w.balance,
  (SELECT COALESCE(SUM(e.balance), 0) FROM {account} e
   WHERE e.funder_id = w.id AND e.kind = {escrow}),
  (SELECT COALESCE(SUM(p.amount), 0) FROM {payout} p
   WHERE p.wallet_id = w.id AND p.status = {requested})
FROM {account} w WHERE w.id = %s
"""


@functools.cache
def _summary_query() -> str:
    return _SUMMARY.format(
        account=LedgerAccount._meta.db_table,
        payout=Payout._meta.db_table,
        escrow=sql_literal(AccountKind.ESCROW),
        requested=sql_literal(Payout.Status.REQUESTED),
    )


def wallet_summary(*, wallet: LedgerAccount) -> WalletSummary:
    """The wallet's figures, read fresh in one statement: what it holds, what it has in
    escrow and what is on its way to the bank."""
    with prepared_cursor() as cursor:
        cursor.execute(_summary_query(), [wallet.pk])
        balance, escrowed, pending = cursor.fetchone()
    return WalletSummary(
        wallet=wallet,
        balance=int(balance),
        in_escrow=int(escrowed),
        payouts_pending=int(pending),
        currency=wallet.currency,
    )


def wallet_escrows(*, wallet: LedgerAccount) -> QuerySet[LedgerAccount]:
    """The escrows this wallet funded that still hold money, newest first."""
    return LedgerAccount.objects.filter(
        kind=AccountKind.ESCROW, funder=wallet, balance__gt=0
    ).order_by("-created_at", "-id")


def wallet_postings(*, wallet: LedgerAccount) -> QuerySet[Posting]:
    """The wallet's lines, newest first, each with the entry that says what it was for.

    ``journal_post`` books at most one posting per account per entry, so a
    line is identified by its entry. Ordered by entry id (the booking order),
    which the (account, entry) index serves.
    """
    return Posting.objects.filter(account=wallet).select_related("entry").order_by("-entry_id")


def wallet_lines(*, wallet: LedgerAccount) -> QuerySet[Any, Any]:
    """The wallet's history as people read it, newest first: what one piece of work paid or
    took on one day is one line ("12 payments" from a microtask batch on 3 December, not
    twelve), each with its reference (the wallet page turns it into words and a link), its
    kind, total and count. Postings without a reference stay a line each."""
    group = Case(
        When(entry__reference="", then=Cast("entry_id", CharField())),
        default=F("entry__reference"),
        output_field=CharField(),
    )
    return (
        Posting.objects.filter(account=wallet)
        .values("entry__kind", group=group, day=TruncDate("entry__created_at"))
        .annotate(
            amount=Sum("amount"),
            count=Count("id"),
            last_entry=Max("entry_id"),
            at=Max("entry__created_at"),
            reference=Max("entry__reference"),
            description=Max("entry__description"),
        )
        .order_by("-last_entry")
    )


# ``wallet_lines`` written out (PostgreSQL, prepared; ``wallet_lines_pages``): the wallet
# page reads its count and a page of it on every request, and building the ORM's grouped
# query (a CASE, a cast, a date in the current time zone, six aggregates) twice cost the
# page more than running it. The same columns, groups and order.
_LINES_FROM = (
    " FROM {posting} p INNER JOIN {entry} j ON p.entry_id = j.id WHERE p.account_id = %(wallet)s"
    " GROUP BY 1, 2, 3"
)
_LINES_GROUP = (
    "SELECT j.kind, CASE WHEN j.reference = '' THEN (p.entry_id)::varchar ELSE j.reference END,"
    " (j.created_at AT TIME ZONE %(tz)s)::date"
)
_LINES_COUNT = "SELECT COUNT(*) FROM ({group}{source}) t"
_LINES_PAGE = (
    "{group}, SUM(p.amount), COUNT(p.id), MAX(p.entry_id), MAX(j.created_at),"
    " MAX(j.reference), MAX(j.description){source}"
    " ORDER BY 6 DESC LIMIT %(limit)s OFFSET %(offset)s"
)
# The keys of a line, as ``wallet_lines``' ``values`` gives them.
_LINE_KEYS = (
    "entry__kind",
    "group",
    "day",
    "amount",
    "count",
    "last_entry",
    "at",
    "reference",
    "description",
)


@functools.cache
def _lines_statement(template: str) -> str:
    source = _LINES_FROM.format(
        posting=connection.ops.quote_name(Posting._meta.db_table),
        entry=connection.ops.quote_name(JournalEntry._meta.db_table),
    )
    return template.format(group=_LINES_GROUP, source=source)


class _WalletLinesPaginator(Paginator):
    """``Paginator(wallet_lines(wallet=…))`` through the written-out statements."""

    def __init__(self, wallet: LedgerAccount, per_page: int) -> None:
        super().__init__([], per_page)
        # The day in the current time zone, named as ``TruncDate`` names it to PostgreSQL.
        tz = connection.ops._prepare_tzname_delta(timezone.get_current_timezone_name())  # type: ignore[attr-defined]
        self.params = {"wallet": wallet.pk, "tz": tz}

    def _run(self, template: str, **more: Any) -> list[Any]:
        with prepared_cursor() as cursor:
            cursor.execute(_lines_statement(template), {**self.params, **more})
            return list(cursor.fetchall())

    @cached_property
    def count(self) -> int:
        return int(self._run(_LINES_COUNT)[0][0])

    def page(self, number: Any) -> Page:
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        rows = self._run(_LINES_PAGE, offset=bottom, limit=self.per_page)
        return Page([dict(zip(_LINE_KEYS, r, strict=True)) for r in rows], number, self)


def wallet_lines_pages(*, wallet: LedgerAccount, per_page: int) -> Paginator:
    """The pages of ``wallet_lines`` (dicts with its keys); on PostgreSQL from prepared
    statements."""
    if connection.vendor != "postgresql":
        return Paginator(wallet_lines(wallet=wallet), per_page)
    return _WalletLinesPaginator(wallet, per_page)


def wallet_payouts(*, wallet: LedgerAccount, status: str | None = None) -> QuerySet[Payout]:
    payouts = Payout.objects.filter(wallet=wallet)
    if status:
        payouts = payouts.filter(status=status)
    return payouts.order_by("-created_at", "-id")


def organisation_for_wallet_admin(*, slug: str, user: User) -> Organisation:
    """The organisation whose wallet ``user`` may see and spend: owners and admins only.
    Anyone else, members included, gets not-found."""
    from trefpunt.accounts.selectors import organisations_user_can_post_for

    organisation = organisations_user_can_post_for(user=user).filter(slug=slug).first()
    if organisation is None:
        raise NotFound(_("Organisation not found."))
    return organisation


def deposit_for_user(*, public_id: str, user: User) -> Deposit:
    """A deposit the user started; anyone else's is not found."""
    deposit = (
        Deposit.objects.select_related("wallet", "wallet__organisation")
        .filter(public_id=public_id, created_by=user)
        .first()
    )
    if deposit is None:
        raise NotFound(_("Payment not found."))
    return deposit


def payouts_pending() -> QuerySet[Payout]:
    """The staff queue: requested payouts, oldest first."""
    return (
        Payout.objects.filter(status=Payout.Status.REQUESTED)
        .select_related("requested_by__profile", "wallet__organisation")
        .order_by("created_at", "id")
    )


def payout_for_staff(*, payout_id: int, user: User) -> Payout:
    """One payout with its member, for finance staff; not-found for everyone else."""
    payout = (
        Payout.objects.select_related("requested_by__profile", "wallet__organisation")
        .filter(pk=payout_id)
        .first()
    )
    if payout is None or not user.is_staff:
        raise NotFound(_("Payout not found."))
    return payout


def payouts_recently_handled(*, limit: int = 10) -> QuerySet[Payout]:
    return (
        Payout.objects.exclude(status=Payout.Status.REQUESTED)
        .select_related("requested_by__profile", "handled_by__profile")
        .order_by("-handled_at", "-id")[:limit]
    )


def ledger_verify() -> list[str]:
    """Every violation of the ledger's invariants, as readable lines (empty = healthy).

    Checks, all in the database: each entry has at least two postings, in one
    currency, summing to zero; each account's cached balance equals the sum of
    its postings; no account but provider clearing is negative; the balances
    of each currency sum to zero.
    """
    problems: list[str] = []
    entries = (
        JournalEntry.objects.annotate(
            total=Sum("postings__amount"),
            lines=Count("postings"),
            currencies=Count("postings__account__currency", distinct=True),
        )
        .filter(~Q(total=0) | Q(total__isnull=True) | Q(lines__lt=2) | Q(currencies__gt=1))
        .order_by("pk")
        .values_list("pk", "idempotency_key", "total", "lines", "currencies")
    )
    for pk, key, total, lines, currencies in entries:
        problems.append(
            f"entry {pk} ({key}): {lines} postings in {currencies} currencies summing to {total}"
        )
    posted = (
        Posting.objects.filter(account=OuterRef("pk"))
        .order_by()
        .values("account")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    accounts = (
        LedgerAccount.objects.annotate(posted=Coalesce(Subquery(posted), 0))
        .filter(
            ~Q(balance=F("posted")) | (Q(balance__lt=0) & ~Q(kind=AccountKind.PROVIDER_CLEARING))
        )
        .order_by("pk")
    )
    for account in accounts:
        if account.balance != account.posted:
            problems.append(
                f"account {account.pk} ({account}): cached balance "
                f"{account.balance} != postings {account.posted}"
            )
        if account.balance < 0 and account.kind != AccountKind.PROVIDER_CLEARING:
            problems.append(f"account {account.pk} ({account}): negative balance {account.balance}")
    for currency, total in (
        LedgerAccount.objects.order_by()
        .values_list("currency")
        .annotate(total=Sum("balance"))
        .order_by("currency")
    ):
        if total:
            problems.append(f"currency {currency}: balances sum to {total}, not 0")
    return problems
