"""Every write to the ledger.

Lock order (one for the whole platform): ledger accounts by ascending id,
taken by ``journal_post``; a domain service that also locks its own rows
(contest, batch, milestone) locks the escrow account first, through
``account_lock``, then its own rows parent before child, then posts.

``journal_post`` and the escrow services join the caller's transaction
(``atomic(savepoint=False)``) so a contest award and its payments commit or
fail together; the services a view calls directly are ``durable``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from trefpunt.core.exceptions import Conflict, InsufficientFunds, NotFound, ValidationFailed
from trefpunt.core.money import format_cents

from .iban import iban_validate
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


# --- accounts -----------------------------------------------------------------


def wallet_for_user(*, user: User, currency: str = "EUR") -> LedgerAccount:
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
    account, _created = LedgerAccount.objects.get_or_create(
        kind=kind,
        reference=reference,
        currency=currency,
        defaults={"label": label},
    )
    return account


def escrow_account(*, reference: str, funder: LedgerAccount, label: str = "") -> LedgerAccount:
    """The escrow of one contest / milestone / batch, e.g. ``reference="contest:12"``,
    funded from (and refunded to) the wallet ``funder``."""
    account, _created = LedgerAccount.objects.get_or_create(
        kind=AccountKind.ESCROW,
        reference=reference,
        currency=funder.currency,
        defaults={"label": label, "funder": funder},
    )
    return account


def account_lock(account: LedgerAccount) -> LedgerAccount:
    """Lock one account row (first in the global lock order) and return it fresh."""
    return LedgerAccount.objects.select_for_update().get(pk=account.pk)


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

    Locks every account of the entry in ascending id order, then looks for an
    entry with the same idempotency key: an operation with the same key
    touches the same accounts, so a concurrent repeat waits on those locks and
    then finds the first entry instead of booking again. Refuses to take any
    account except provider clearing below zero.
    """
    totals: dict[int, int] = defaultdict(int)
    for account, amount in lines:
        totals[account.pk] += int(amount)
    totals = {pk: amount for pk, amount in totals.items() if amount}
    if not totals:
        raise ValueError("a journal entry needs at least one non-zero line")
    if sum(totals.values()) != 0:
        raise ValueError(f"journal entry {idempotency_key!r} does not balance: {totals}")
    with transaction.atomic(savepoint=False):
        accounts = list(
            LedgerAccount.objects.select_for_update().filter(pk__in=totals).order_by("pk")
        )
        existing = JournalEntry.objects.filter(idempotency_key=idempotency_key).first()
        if existing is not None:
            return existing, False
        if len({a.currency for a in accounts}) != 1:
            raise ValueError("all lines of a journal entry must have one currency")
        for account in accounts:
            if (
                account.kind != AccountKind.PROVIDER_CLEARING
                and account.balance + totals[account.pk] < 0
            ):
                raise InsufficientFunds(
                    _("Not enough money: %(account)s holds %(balance)s.")
                    % {
                        "account": account.get_kind_display().lower(),
                        "balance": format_cents(account.balance, account.currency),
                    }
                )
        entry = JournalEntry.objects.create(
            kind=kind,
            idempotency_key=idempotency_key,
            reference=reference,
            description=description[:300],
            created_by=created_by,
        )
        Posting.objects.bulk_create(
            [Posting(entry=entry, account_id=pk, amount=amount) for pk, amount in totals.items()]
        )
        for pk, amount in totals.items():
            LedgerAccount.objects.filter(pk=pk).update(balance=F("balance") + amount)
        return entry, True


# --- escrow ------------------------------------------------------------------------


def _positive(amount: int, field: str = "amount") -> int:
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        raise ValidationFailed(fields={field: _("The amount must be a positive number of cents.")})
    return amount


def escrow_fund(
    *,
    wallet: LedgerAccount,
    escrow: LedgerAccount,
    amount: int,
    idempotency_key: str,
    description: str = "",
    created_by: User | None = None,
) -> JournalEntry:
    """Move ``amount`` from a wallet into an escrow (joins the caller's transaction)."""
    _positive(amount)
    entry, _created = journal_post(
        kind=EntryKind.ESCROW_FUND,
        idempotency_key=idempotency_key,
        lines=[(wallet, -amount), (escrow, amount)],
        reference=escrow.reference,
        description=description,
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
    gets both fees; the escrow gives ``amount + client_fee``. One entry per payment."""
    _positive(amount)
    if not 0 <= crowd_fee <= amount or client_fee < 0:
        raise ValidationFailed(_("Fees must be between zero and the amount."))
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
    """Return ``amount`` from an escrow to the wallet that funded it."""
    _positive(amount)
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


def deposit_create(
    *,
    wallet: LedgerAccount,
    user: User,
    amount: int,
    return_path: str = "",
    idempotency_key: str = "",
    provider: str | None = None,
) -> Deposit:
    """Start a deposit: a pending row and a checkout at the provider. Nothing is booked yet."""
    if idempotency_key:
        existing = Deposit.objects.filter(created_by=user, idempotency_key=idempotency_key).first()
        if existing is not None:
            return existing
    if not isinstance(amount, int) or amount < settings.MIN_DEPOSIT_CENTS:
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
    if not return_path.startswith("/") or return_path.startswith("//"):
        return_path = ""
    gateway = provider_get(provider)
    try:
        with transaction.atomic(durable=True):
            deposit = Deposit.objects.create(
                wallet=wallet,
                created_by=user,
                amount=amount,
                currency=wallet.currency,
                provider=gateway.name,
                return_path=return_path,
                idempotency_key=idempotency_key,
            )
            checkout = gateway.checkout_create(deposit)
            deposit.provider_ref = checkout.provider_ref
            deposit.checkout_url = checkout.url
            deposit.save(update_fields=["provider_ref", "checkout_url"])
    except IntegrityError:
        # A concurrent request with the same idempotency key won the insert.
        return Deposit.objects.get(created_by=user, idempotency_key=idempotency_key)
    return deposit


def deposit_confirm(*, provider: str, provider_ref: str, amount: int, currency: str) -> Deposit:
    """Credit a deposit the provider reports as paid. Idempotent per deposit.

    Joins the caller's transaction; ``webhook_receive`` is the top level.
    """
    with transaction.atomic(savepoint=False):
        deposit = (
            Deposit.objects.select_for_update()
            .filter(provider=provider, provider_ref=provider_ref)
            .first()
        )
        if deposit is None:
            raise NotFound(_("Unknown payment."))
        if deposit.amount != amount or deposit.currency != currency:
            raise Conflict(_("The paid amount does not match the deposit."), code="amount_mismatch")
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
            description=f"Deposit via {provider}",
            created_by=deposit.created_by,
        )
        if deposit.status != Deposit.Status.PAID:
            deposit.status = Deposit.Status.PAID
            deposit.journal_entry = entry
            deposit.completed_at = timezone.now()
            deposit.save(update_fields=["status", "journal_entry", "completed_at"])
        return deposit


def deposit_close(*, provider: str, provider_ref: str, outcome: str) -> Deposit:
    """Mark a pending deposit cancelled or failed; a paid one stays paid."""
    with transaction.atomic(savepoint=False):
        status = Deposit.Status.CANCELLED if outcome == "cancelled" else Deposit.Status.FAILED
        updated = Deposit.objects.filter(
            provider=provider,
            provider_ref=provider_ref,
            status=Deposit.Status.PENDING,
        ).update(status=status, completed_at=timezone.now())
        deposit = Deposit.objects.filter(provider=provider, provider_ref=provider_ref).first()
        if deposit is None:
            raise NotFound(_("Unknown payment."))
        if not updated and deposit.status == Deposit.Status.PAID:
            raise Conflict(_("This payment was already completed."))
        return deposit


def webhook_receive(*, provider: str, body: bytes, headers: dict[str, str]) -> tuple[str, Deposit]:
    """The one path a payment notification takes, from a real provider or the sandbox.

    Verifies the signature first (a bad one raises ``WebhookRejected`` and
    changes nothing), records the event once by the provider's event id, and
    applies it. A replayed event returns ``("duplicate", deposit)``.
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


def payout_request(
    *,
    wallet: LedgerAccount,
    user: User,
    amount: int,
    iban: str,
    account_holder: str,
    idempotency_key: str = "",
) -> Payout:
    """Move money from a wallet to payouts-in-progress, to be sent to ``iban`` by staff."""
    if idempotency_key:
        existing = Payout.objects.filter(requested_by=user, idempotency_key=idempotency_key).first()
        if existing is not None:
            return existing
    errors: dict[str, str] = {}
    try:
        iban = iban_validate(iban)
    except ValidationFailed as exc:
        errors.update({k: v[0] for k, v in exc.fields.items()})
    holder = (account_holder or "").strip()
    if not holder:
        errors["account_holder"] = _("Enter the name of the account holder.")
    if not isinstance(amount, int) or amount < settings.MIN_PAYOUT_CENTS:
        errors["amount"] = _("The smallest payout is %(min)s.") % {
            "min": format_cents(settings.MIN_PAYOUT_CENTS)
        }
    if errors:
        raise ValidationFailed(fields=errors)
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
                account_holder=holder[:100],
                idempotency_key=idempotency_key,
            )
            try:
                journal_post(
                    kind=EntryKind.PAYOUT_REQUEST,
                    idempotency_key=f"payout:{payout.pk}:request",
                    lines=[(wallet, -amount), (clearing, amount)],
                    reference=f"payout:{payout.pk}",
                    description=f"Payout to {iban[:4]}…{iban[-4:]}",
                    created_by=user,
                )
            except InsufficientFunds:
                available = LedgerAccount.objects.get(pk=wallet.pk).balance
                raise InsufficientFunds(
                    _("You can pay out at most %(available)s.")
                    % {"available": format_cents(available, wallet.currency)},
                    fields={
                        "amount": _("More than your balance of %(available)s.")
                        % {"available": format_cents(available, wallet.currency)}
                    },
                ) from None
    except IntegrityError:
        if not idempotency_key:
            raise
        return Payout.objects.get(requested_by=user, idempotency_key=idempotency_key)
    return payout


def _payout_finish(*, payout_id: int, staff: User, status: str, reason: str = "") -> Payout:
    if not staff.is_staff:
        raise NotFound(_("Payout not found."))
    with transaction.atomic(durable=True):
        payout = Payout.objects.select_related("wallet").filter(pk=payout_id).first()
        if payout is None:
            raise NotFound(_("Payout not found."))
        clearing = system_account(
            kind=AccountKind.PAYOUT_CLEARING, currency=payout.currency, label="payouts in progress"
        )
        # The conditional update is the guard: of two staff clicks, one wins.
        won = Payout.objects.filter(pk=payout.pk, status=Payout.Status.REQUESTED).update(
            status=status, handled_by=staff, handled_at=timezone.now(), failure_reason=reason
        )
        if not won:
            raise Conflict(_("This payout was already handled."))
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
                description="Payout sent",
                created_by=staff,
            )
        else:
            journal_post(
                kind=EntryKind.PAYOUT_FAILED,
                idempotency_key=f"payout:{payout.pk}:failed",
                lines=[(clearing, -payout.amount), (payout.wallet, payout.amount)],
                reference=f"payout:{payout.pk}",
                description=f"Payout failed: {reason}"[:300],
                created_by=staff,
            )
        payout.refresh_from_db()
        return payout


def payout_mark_paid(*, payout_id: int, staff: User) -> Payout:
    return _payout_finish(payout_id=payout_id, staff=staff, status=Payout.Status.PAID)


def payout_mark_failed(*, payout_id: int, staff: User, reason: str) -> Payout:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(fields={"reason": _("Say why the payout failed.")})
    return _payout_finish(
        payout_id=payout_id, staff=staff, status=Payout.Status.FAILED, reason=reason
    )
