"""Every write to the ledger.

Lock order (one for the whole platform, so two transactions never wait on each
other in a cycle): ledger accounts first, in the order escrow accounts →
wallets → system accounts (revenue, clearing), by ascending id within each
group. ``journal_post`` takes its accounts in that order. A domain service
that also locks rows of its own (contest, batch, milestone) locks the escrow
first with ``account_lock``, then its own rows parent before child, then
posts. A service that books several entries in one transaction (an award that
pays three winners) locks every account it will touch up front with
``accounts_lock``, because the accounts of a later entry may sort before
accounts an earlier entry already holds. The locks are ``FOR NO KEY UPDATE``:
inserting a row that merely references a locked account (a deposit, a payout,
a posting) does not wait for it.

``journal_post`` and the escrow services join the caller's transaction
(``atomic(savepoint=False)``) so a contest award and its payments commit or
fail together; the services a view calls directly are ``durable``.

Idempotency: every entry has a unique key. ``journal_post`` looks for the key
*after* locking the entry's accounts, so a concurrent repeat waits for the
first attempt to commit and then returns its entry instead of booking again.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Case, F, IntegerField, Value, When
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from trefpunt.core.db import model_fields, model_from_row, prepared_cursor, sql_literal
from trefpunt.core.exceptions import (
    ApplicationError,
    Conflict,
    ErrorCode,
    InsufficientFunds,
    NotFound,
    ValidationFailed,
)
from trefpunt.core.money import format_cents

from .iban import iban_mask, iban_validate
from .models import (
    AccountKind,
    Deposit,
    EntryKind,
    JournalEntry,
    LedgerAccount,
    Payout,
    Posting,
    WebhookEvent,
)
from .providers import WebhookNotice, provider_get

if TYPE_CHECKING:
    from trefpunt.accounts.models import Organisation, User

Line = tuple[LedgerAccount, int]

# The global lock order of ledger accounts: escrows, then wallets, then system accounts.
LOCK_ORDER = Case(
    When(kind=AccountKind.ESCROW, then=Value(0)),
    When(kind=AccountKind.WALLET, then=Value(1)),
    default=Value(2),
    output_field=IntegerField(),
)
MAX_ACCOUNT_HOLDER = 100
MAX_FAILURE_REASON = 300
MAX_RETURN_PATH = 300


# --- accounts -----------------------------------------------------------------


# A person's wallet, read with a prepared statement on PostgreSQL (``wallet_for_user``):
# every wallet page and the wallet API read it first, and building the ORM's get cost more
# than running it.
_WALLET_OF_USER = (
    "SELECT {columns} FROM {account} WHERE kind = {wallet} AND user_id = %s AND currency = %s"
)


@functools.cache
def _wallet_of_user_query() -> str:
    quote = connection.ops.quote_name
    return _WALLET_OF_USER.format(
        columns=", ".join(quote(f.column) for f in model_fields(LedgerAccount)),
        account=quote(LedgerAccount._meta.db_table),
        wallet=sql_literal(AccountKind.WALLET),
    )


def wallet_for_user(*, user: User, currency: str = "EUR") -> LedgerAccount:
    """The person's wallet in ``currency``, made on first use."""
    if connection.vendor == "postgresql":
        with prepared_cursor() as cursor:
            cursor.execute(_wallet_of_user_query(), [user.pk, currency])
            row = cursor.fetchone()
        if row is not None:
            wallet: LedgerAccount = model_from_row(LedgerAccount, model_fields(LedgerAccount), row)
            return wallet
    account, _created = LedgerAccount.objects.get_or_create(
        kind=AccountKind.WALLET,
        user=user,
        currency=currency,
        defaults={"label": f"wallet of user {user.pk}"},
    )
    return account


def wallet_for_organisation(*, organisation: Organisation, currency: str = "EUR") -> LedgerAccount:
    account, _created = LedgerAccount.objects.get_or_create(
        kind=AccountKind.WALLET,
        organisation=organisation,
        currency=currency,
        defaults={"label": f"wallet of organisation {organisation.pk}"},
    )
    return account


def system_account(
    *, kind: str, currency: str = "EUR", reference: str = "", label: str = ""
) -> LedgerAccount:
    if kind in {AccountKind.WALLET, AccountKind.ESCROW}:
        raise ValueError("wallets and escrows have their own constructors")
    account, _created = LedgerAccount.objects.get_or_create(
        kind=kind,
        reference=reference,
        currency=currency,
        defaults={"label": label},
    )
    return account


def escrow_account(*, reference: str, funder: LedgerAccount, label: str = "") -> LedgerAccount:
    """The escrow of one contest / milestone / batch, e.g. ``reference="contest:12"``,
    funded from (and refunded to) the wallet ``funder``.

    ``label`` says what the escrow is for ("Prize of 'Logo for a bakery'"); the funder
    sees it on the wallet page. An escrow belongs to one funder for good: asking for
    the same reference with another funder is refused, so a refund can never reach a
    wallet that did not pay in.
    """
    if funder.kind != AccountKind.WALLET:
        raise ValueError("an escrow is funded from a wallet")
    if not reference:
        raise ValueError("an escrow needs a reference such as 'contest:12'")
    account, _created = LedgerAccount.objects.get_or_create(
        kind=AccountKind.ESCROW,
        reference=reference,
        currency=funder.currency,
        defaults={"label": label[:200], "funder": funder},
    )
    if account.funder_id != funder.pk:
        raise Conflict(
            _("This escrow is funded from another wallet."), code=ErrorCode.ESCROW_FUNDER_MISMATCH
        )
    return account


def account_lock(account: LedgerAccount) -> LedgerAccount:
    """Lock one account row and return it fresh. Must run inside a transaction.

    A domain service calls this on its escrow *before* locking its own rows
    (contest, batch, milestone): escrows come first in the global lock order.
    """
    return LedgerAccount.objects.select_for_update(no_key=True).get(pk=account.pk)


def accounts_lock(accounts: Iterable[LedgerAccount]) -> dict[int, LedgerAccount]:
    """Lock several accounts in the global order (escrows, wallets, system accounts; by id)
    and return them fresh by id. Must run inside a transaction.

    For services that book more than one entry in a transaction: locking every
    account up front keeps the global order even when a later entry touches an
    account that sorts before one an earlier entry already holds.
    """
    pks = {account.pk for account in accounts}
    locked = (
        LedgerAccount.objects.select_for_update(no_key=True)
        .filter(pk__in=pks)
        .order_by(LOCK_ORDER, "pk")
    )
    return {account.pk: account for account in locked}


# --- the one posting primitive ---------------------------------------------------


def journal_post(
    *,
    kind: str,
    idempotency_key: str,
    lines: Iterable[Line],
    reference: str = "",
    description: str = "",
    created_by: User | None = None,
) -> tuple[JournalEntry, bool]:
    """Book one balanced entry; return ``(entry, created)``.

    Locks every account of the entry in the global order, then looks for an
    entry with the same idempotency key: an operation with the same key
    touches the same accounts, so a concurrent repeat waits on those locks and
    then finds the first entry instead of booking again (and the unique key is
    the backstop). Balances are checked on the freshly locked rows, so two
    concurrent debits cannot both pass. Refuses to take any account except
    provider clearing below zero.
    """
    if not idempotency_key:
        raise ValueError("a journal entry needs an idempotency key")
    totals: dict[int, int] = defaultdict(int)
    for account, amount in lines:
        if isinstance(amount, bool) or not isinstance(amount, int):
            raise TypeError(f"amounts are integer cents, not {amount!r}")
        totals[account.pk] += amount
    totals = {pk: amount for pk, amount in totals.items() if amount}
    if not totals:
        raise ValueError("a journal entry needs at least one non-zero line")
    if sum(totals.values()) != 0:
        raise ValueError(f"journal entry {idempotency_key!r} does not balance: {totals}")
    # A refusal is raised after the block: raising inside ``atomic(savepoint=False)`` would
    # mark the caller's whole transaction as broken, and a caller may want to carry on
    # (show the message, try a smaller amount). Nothing is written before a refusal.
    refusal: ApplicationError
    with transaction.atomic(savepoint=False):
        accounts = accounts_lock(LedgerAccount(pk=pk) for pk in totals)
        if len(accounts) != len(totals):
            raise ValueError(f"journal entry {idempotency_key!r} names an unknown account")
        existing = JournalEntry.objects.filter(idempotency_key=idempotency_key).first()
        if existing is not None and existing.kind == kind:
            return existing, False
        if len({a.currency for a in accounts.values()}) != 1:
            raise ValueError("all lines of a journal entry must have one currency")
        overdrawn = [
            account
            for account in accounts.values()
            if account.kind != AccountKind.PROVIDER_CLEARING
            and account.balance + totals[account.pk] < 0
        ]
        if existing is not None:
            refusal = Conflict(
                _("This idempotency key was already used for another operation."),
                code=ErrorCode.IDEMPOTENCY_KEY_REUSED,
            )
        elif overdrawn:
            account = overdrawn[0]
            refusal = InsufficientFunds(
                _("Not enough money: the %(account)s holds %(balance)s.")
                % {
                    "account": account.get_kind_display().lower(),
                    "balance": format_cents(account.balance, account.currency),
                }
            )
        else:
            entry = JournalEntry.objects.create(
                kind=kind,
                idempotency_key=idempotency_key,
                reference=reference[:60],
                description=description[:300],
                created_by=created_by,
            )
            Posting.objects.bulk_create(
                [
                    Posting(entry=entry, account_id=pk, amount=amount)
                    for pk, amount in totals.items()
                ]
            )
            for pk, amount in totals.items():
                LedgerAccount.objects.filter(pk=pk).update(balance=F("balance") + amount)
            return entry, True
    raise refusal


# --- escrow ------------------------------------------------------------------------


def _positive(amount: int, field: str = "amount") -> int:
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        raise ValidationFailed(fields={field: _("The amount must be a positive number of cents.")})
    return amount


def _fee(value: int, field: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValidationFailed(fields={field: _("A fee is zero or a positive number of cents.")})
    return value


def _escrow_check(escrow: LedgerAccount, wallet: LedgerAccount | None = None) -> None:
    if escrow.kind != AccountKind.ESCROW:
        raise ValueError(f"account {escrow.pk} is not an escrow")
    if wallet is not None and escrow.funder_id != wallet.pk:
        raise Conflict(
            _("This escrow is funded from another wallet."), code=ErrorCode.ESCROW_FUNDER_MISMATCH
        )


def escrow_fund(
    *,
    wallet: LedgerAccount,
    escrow: LedgerAccount,
    amount: int,
    idempotency_key: str,
    description: str = "",
    created_by: User | None = None,
) -> JournalEntry:
    """Move ``amount`` from a wallet into an escrow it funds (joins the caller's transaction).

    Locks: the escrow, then the wallet (global order). Refuses more than the
    wallet holds with ``InsufficientFunds``.
    """
    _positive(amount)
    _escrow_check(escrow, wallet)
    entry, _created = journal_post(
        kind=EntryKind.ESCROW_FUND,
        idempotency_key=idempotency_key,
        lines=[(wallet, -amount), (escrow, amount)],
        reference=escrow.reference,
        description=description or escrow.label,
        created_by=created_by,
    )
    return entry


def escrow_release(
    *,
    escrow: LedgerAccount,
    payee: LedgerAccount,
    amount: int,
    idempotency_key: str,
    crowd_fee: int = 0,
    client_fee: int = 0,
    description: str = "",
    created_by: User | None = None,
) -> JournalEntry:
    """Pay ``amount`` from an escrow: the payee gets ``amount - crowd_fee``, platform revenue
    gets both fees; the escrow gives ``amount + client_fee``. One entry per payment.

    Locks: the escrow, then the payee's wallet, then platform revenue. The
    balance check runs on the locked escrow, so two concurrent releases that
    together exceed it pay once; a repeat with the same key returns the first
    entry.
    """
    _positive(amount)
    _fee(crowd_fee, "crowd_fee")
    _fee(client_fee, "client_fee")
    if crowd_fee > amount:
        raise ValidationFailed(fields={"crowd_fee": _("The fee cannot exceed the amount.")})
    _escrow_check(escrow)
    if payee.kind != AccountKind.WALLET:
        raise ValueError("escrow money is paid into a wallet")
    revenue = system_account(
        kind=AccountKind.PLATFORM_REVENUE, currency=escrow.currency, label="platform revenue"
    )
    entry, _created = journal_post(
        kind=EntryKind.ESCROW_RELEASE,
        idempotency_key=idempotency_key,
        lines=[
            (escrow, -(amount + client_fee)),
            (payee, amount - crowd_fee),
            (revenue, crowd_fee + client_fee),
        ],
        reference=escrow.reference,
        description=description,
        created_by=created_by,
    )
    return entry


def escrow_refund(
    *,
    escrow: LedgerAccount,
    wallet: LedgerAccount,
    amount: int,
    idempotency_key: str,
    description: str = "",
    created_by: User | None = None,
) -> JournalEntry:
    """Return ``amount`` from an escrow to the wallet that funded it (and only that one)."""
    _positive(amount)
    _escrow_check(escrow, wallet)
    entry, _created = journal_post(
        kind=EntryKind.ESCROW_REFUND,
        idempotency_key=idempotency_key,
        lines=[(escrow, -amount), (wallet, amount)],
        reference=escrow.reference,
        description=description,
        created_by=created_by,
    )
    return entry


# --- deposits ------------------------------------------------------------------------


def return_path_clean(value: str) -> str:
    """``value`` if it is a local path on this site (``/en/contests/3/``), else ``""``."""
    value = (value or "").strip()
    if (
        not value.startswith("/")
        or value.startswith("//")
        or "\\" in value
        or len(value) > MAX_RETURN_PATH
        or not value.isprintable()
        or not url_has_allowed_host_and_scheme(value, allowed_hosts=None)
    ):
        return ""
    return value


def _deposit_amount_check(amount: int) -> None:
    if not isinstance(amount, int) or isinstance(amount, bool):
        raise ValidationFailed(fields={"amount": _("Enter the amount as a whole number of cents.")})
    if amount < settings.MIN_DEPOSIT_CENTS:
        raise ValidationFailed(
            fields={
                "amount": _("The smallest deposit is %(min)s.")
                % {"min": format_cents(settings.MIN_DEPOSIT_CENTS)}
            }
        )
    if amount > settings.MAX_DEPOSIT_CENTS:
        raise ValidationFailed(
            fields={
                "amount": _("The largest deposit is %(max)s.")
                % {"max": format_cents(settings.MAX_DEPOSIT_CENTS)}
            }
        )


def _deposit_checkout(deposit: Deposit) -> Deposit:
    """Open the provider's checkout for a pending deposit that has none yet.

    Runs outside any transaction: a real provider is an HTTP call, and no lock
    should wait on it. The conditional update keeps the first checkout when two
    requests race.
    """
    if deposit.provider_ref or deposit.status != Deposit.Status.PENDING:
        return deposit
    gateway = provider_get(deposit.provider)
    try:
        checkout = gateway.checkout_create(deposit)
    except Exception as exc:
        Deposit.objects.filter(pk=deposit.pk, status=Deposit.Status.PENDING).update(
            status=Deposit.Status.FAILED, completed_at=timezone.now()
        )
        raise ApplicationError(
            _("The payment provider could not be reached. Please try again."),
            code=ErrorCode.PROVIDER_UNAVAILABLE,
        ) from exc
    Deposit.objects.filter(pk=deposit.pk, provider_ref="").update(
        provider_ref=checkout.provider_ref, checkout_url=checkout.url
    )
    deposit.refresh_from_db()
    return deposit


def deposit_create(
    *,
    wallet: LedgerAccount,
    user: User,
    amount: int,
    return_path: str = "",
    idempotency_key: str = "",
    provider: str | None = None,
) -> Deposit:
    """Start a deposit: a pending row and a checkout at the provider. Nothing is booked yet;
    the provider's signed webhook books it (``webhook_receive``).

    With an ``idempotency_key``, a repeat by the same user returns the first
    deposit (the unique constraint settles a concurrent repeat). Who may
    deposit into ``wallet`` is the caller's check (the selectors scope wallets).
    """
    if wallet.kind != AccountKind.WALLET:
        raise ValueError("deposits go into wallets")
    if idempotency_key:
        existing = Deposit.objects.filter(created_by=user, idempotency_key=idempotency_key).first()
        if existing is not None:
            return _deposit_checkout(existing)
    _deposit_amount_check(amount)
    cleaned_path = return_path_clean(return_path)
    if return_path and not cleaned_path:
        raise ValidationFailed(
            fields={"return_path": _("Give a path on this site, starting with a single /.")}
        )
    gateway = provider_get(provider)
    try:
        with transaction.atomic(durable=True):
            deposit = Deposit.objects.create(
                wallet=wallet,
                created_by=user,
                amount=amount,
                currency=wallet.currency,
                provider=gateway.name,
                return_path=cleaned_path,
                idempotency_key=idempotency_key,
            )
    except IntegrityError:
        if not idempotency_key:
            raise
        # A concurrent request with the same idempotency key won the insert.
        deposit = Deposit.objects.get(created_by=user, idempotency_key=idempotency_key)
    return _deposit_checkout(deposit)


def deposit_confirm(*, provider: str, provider_ref: str, amount: int, currency: str) -> Deposit:
    """Credit a deposit the provider reports as paid. Idempotent per deposit.

    Joins the caller's transaction; ``webhook_receive`` is the top level.
    Locks: the deposit row, then (through ``journal_post``) the wallet and the
    provider's clearing account. An amount or currency that does not match
    the deposit is refused and books nothing. A payment reported after a
    cancellation is still credited: the provider has the money.
    """
    with transaction.atomic(savepoint=False):
        deposit = (
            Deposit.objects.select_for_update(of=("self",), no_key=True)
            .select_related("wallet")
            .filter(provider=provider, provider_ref=provider_ref)
            .first()
        )
        if deposit is None:
            raise NotFound(_("Unknown payment."))
        if deposit.amount != amount or deposit.currency != currency:
            raise Conflict(
                _("The paid amount does not match the deposit."), code=ErrorCode.AMOUNT_MISMATCH
            )
        clearing = system_account(
            kind=AccountKind.PROVIDER_CLEARING,
            currency=currency,
            reference=provider,
            label=f"{provider} clearing",
        )
        entry, _created = journal_post(
            kind=EntryKind.DEPOSIT,
            idempotency_key=f"deposit:{deposit.pk}",
            lines=[(clearing, -amount), (deposit.wallet, amount)],
            reference=f"deposit:{deposit.pk}",
            description=_("Deposit via %(provider)s") % {"provider": provider},
            created_by=deposit.created_by,
        )
        Deposit.objects.filter(pk=deposit.pk).exclude(status=Deposit.Status.PAID).update(
            status=Deposit.Status.PAID, journal_entry=entry, completed_at=timezone.now()
        )
        deposit.refresh_from_db()
        return deposit


def deposit_close(*, provider: str, provider_ref: str, outcome: str) -> Deposit:
    """Mark a pending deposit cancelled or failed. A paid one stays paid: a late
    cancellation cannot undo money the provider has."""
    if outcome not in {"cancelled", "failed"}:
        raise ValueError(f"unknown outcome {outcome!r}")
    with transaction.atomic(savepoint=False):
        status = Deposit.Status.CANCELLED if outcome == "cancelled" else Deposit.Status.FAILED
        Deposit.objects.filter(
            provider=provider,
            provider_ref=provider_ref,
            status=Deposit.Status.PENDING,
        ).update(status=status, completed_at=timezone.now())
        deposit = Deposit.objects.filter(provider=provider, provider_ref=provider_ref).first()
        if deposit is None:
            raise NotFound(_("Unknown payment."))
        return deposit


def webhook_receive(*, provider: str, body: bytes, headers: dict[str, str]) -> tuple[str, Deposit]:
    """The one path a payment notification takes, from a real provider or the sandbox.

    Verifies the signature first (a bad one raises ``WebhookRejected`` and
    changes nothing), records the event once by the provider's event id, and
    applies it, all in one transaction: a refused event (unknown payment,
    amount mismatch) leaves no trace, so the provider's retry is judged afresh.
    A replayed event returns ``("duplicate", deposit)`` and books nothing.
    """
    notice: WebhookNotice = provider_get(provider).webhook_verify(body, headers)
    with transaction.atomic(durable=True):
        try:
            with transaction.atomic():
                WebhookEvent.objects.create(
                    provider=provider,
                    event_id=notice.event_id,
                    payload={
                        "ref": notice.provider_ref,
                        "outcome": notice.outcome,
                        "amount": notice.amount,
                        "currency": notice.currency,
                    },
                )
        except IntegrityError:
            deposit = Deposit.objects.filter(
                provider=provider, provider_ref=notice.provider_ref
            ).first()
            if deposit is None:
                raise NotFound(_("Unknown payment.")) from None
            return "duplicate", deposit
        if notice.outcome == "paid":
            deposit = deposit_confirm(
                provider=provider,
                provider_ref=notice.provider_ref,
                amount=notice.amount,
                currency=notice.currency,
            )
        else:
            deposit = deposit_close(
                provider=provider, provider_ref=notice.provider_ref, outcome=notice.outcome
            )
        return notice.outcome, deposit


# --- payouts ----------------------------------------------------------------------------


def wallet_user_may_spend(*, wallet: LedgerAccount, user: User) -> bool:
    """Whether ``user`` may move money out of ``wallet``: their own wallet, or the wallet of
    an organisation they own or administer."""
    if wallet.kind != AccountKind.WALLET:
        return False
    if wallet.user_id is not None:
        return wallet.user_id == user.pk
    if wallet.organisation_id is None:
        return False
    from trefpunt.accounts.selectors import organisations_user_can_post_for

    return organisations_user_can_post_for(user=user).filter(pk=wallet.organisation_id).exists()


def _payout_fields_clean(*, amount: int, iban: str, account_holder: str) -> tuple[str, str]:
    """The payout's IBAN and account holder, cleaned; every bad field refused at once."""
    errors: dict[str, str] = {}
    if not isinstance(amount, int) or isinstance(amount, bool):
        errors["amount"] = _("Enter the amount as a whole number of cents.")
    elif amount < settings.MIN_PAYOUT_CENTS:
        errors["amount"] = _("The smallest payout is %(min)s.") % {
            "min": format_cents(settings.MIN_PAYOUT_CENTS)
        }
    elif amount > settings.MAX_PAYOUT_CENTS:
        errors["amount"] = _("The largest payout is %(max)s.") % {
            "max": format_cents(settings.MAX_PAYOUT_CENTS)
        }
    try:
        iban = iban_validate(iban)
    except ValidationFailed as exc:
        errors.update({k: v[0] for k, v in exc.fields.items()})
    holder = " ".join((account_holder or "").split())
    if not holder:
        errors["account_holder"] = _("Enter the name of the account holder.")
    elif len(holder) > MAX_ACCOUNT_HOLDER:
        errors["account_holder"] = _("At most %(n)d characters.") % {"n": MAX_ACCOUNT_HOLDER}
    if errors:
        raise ValidationFailed(fields=errors)
    return iban, holder


def payout_request(
    *,
    wallet: LedgerAccount,
    user: User,
    amount: int,
    iban: str,
    account_holder: str,
    idempotency_key: str = "",
) -> Payout:
    """Move money from a wallet to payouts-in-progress, to be sent to ``iban`` by staff.

    Locks (through ``journal_post``): the wallet, then the payout clearing
    account; the balance check runs on the locked wallet, so two concurrent
    requests that together exceed it cannot both pass. With an
    ``idempotency_key``, a repeat by the same user returns the first payout.
    """
    if not wallet_user_may_spend(wallet=wallet, user=user):
        raise NotFound(_("Wallet not found."))
    if idempotency_key:
        existing = Payout.objects.filter(requested_by=user, idempotency_key=idempotency_key).first()
        if existing is not None:
            return existing
    iban, holder = _payout_fields_clean(amount=amount, iban=iban, account_holder=account_holder)
    clearing = system_account(
        kind=AccountKind.PAYOUT_CLEARING, currency=wallet.currency, label="payouts in progress"
    )
    try:
        with transaction.atomic(durable=True):
            payout = Payout.objects.create(
                wallet=wallet,
                requested_by=user,
                amount=amount,
                currency=wallet.currency,
                iban=iban,
                account_holder=holder,
                idempotency_key=idempotency_key,
            )
            try:
                journal_post(
                    kind=EntryKind.PAYOUT_REQUEST,
                    idempotency_key=f"payout:{payout.pk}:request",
                    lines=[(wallet, -amount), (clearing, amount)],
                    reference=f"payout:{payout.pk}",
                    description=_("Payout to %(iban)s") % {"iban": iban_mask(iban)},
                    created_by=user,
                )
            except InsufficientFunds:
                available = LedgerAccount.objects.get(pk=wallet.pk).balance
                shown = format_cents(available, wallet.currency)
                raise InsufficientFunds(
                    _("You can pay out at most %(available)s.") % {"available": shown},
                    fields={
                        "amount": _("This is more than your balance of %(available)s.")
                        % {"available": shown}
                    },
                ) from None
    except IntegrityError:
        if not idempotency_key:
            raise
        # A concurrent request with the same key won the insert; return its payout.
        return Payout.objects.get(requested_by=user, idempotency_key=idempotency_key)
    return payout


def _payout_finish(*, payout_id: int, staff: User, status: str, reason: str = "") -> Payout:
    """Move a requested payout to paid or failed, exactly once.

    The conditional update (``requested`` → new status) is the guard: of two
    staff clicks, or a "paid" and a "failed" racing, one wins and the other
    gets ``Conflict``. Locks: the payout row, then (through ``journal_post``)
    the wallet and the clearing accounts.
    """
    if not staff.is_staff:
        raise NotFound(_("Payout not found."))
    with transaction.atomic(durable=True):
        payout = Payout.objects.select_related("wallet").filter(pk=payout_id).first()
        if payout is None:
            raise NotFound(_("Payout not found."))
        won = Payout.objects.filter(pk=payout.pk, status=Payout.Status.REQUESTED).update(
            status=status, handled_by=staff, handled_at=timezone.now(), failure_reason=reason
        )
        if not won:
            raise Conflict(_("This payout was already handled."), code=ErrorCode.PAYOUT_HANDLED)
        clearing = system_account(
            kind=AccountKind.PAYOUT_CLEARING, currency=payout.currency, label="payouts in progress"
        )
        if status == Payout.Status.PAID:
            bank = system_account(
                kind=AccountKind.PROVIDER_CLEARING,
                currency=payout.currency,
                reference="bank",
                label="bank transfers",
            )
            journal_post(
                kind=EntryKind.PAYOUT_PAID,
                idempotency_key=f"payout:{payout.pk}:paid",
                lines=[(clearing, -payout.amount), (bank, payout.amount)],
                reference=f"payout:{payout.pk}",
                description=_("Payout sent to %(iban)s") % {"iban": iban_mask(payout.iban)},
                created_by=staff,
            )
        else:
            journal_post(
                kind=EntryKind.PAYOUT_FAILED,
                idempotency_key=f"payout:{payout.pk}:failed",
                lines=[(clearing, -payout.amount), (payout.wallet, payout.amount)],
                reference=f"payout:{payout.pk}",
                description=reason,
                created_by=staff,
            )
        payout.refresh_from_db()
        return payout


def payout_mark_paid(*, payout_id: int, staff: User) -> Payout:
    """Staff confirm the bank transfer went out; the money leaves payouts-in-progress."""
    return _payout_finish(payout_id=payout_id, staff=staff, status=Payout.Status.PAID)


def payout_mark_failed(*, payout_id: int, staff: User, reason: str) -> Payout:
    """Staff record that the transfer failed; the money returns to the wallet."""
    reason = " ".join((reason or "").split())
    if not reason:
        raise ValidationFailed(fields={"reason": _("Say why the payout failed.")})
    if len(reason) > MAX_FAILURE_REASON:
        raise ValidationFailed(
            fields={"reason": _("At most %(n)d characters.") % {"n": MAX_FAILURE_REASON}}
        )
    return _payout_finish(
        payout_id=payout_id, staff=staff, status=Payout.Status.FAILED, reason=reason
    )
