"""The double-entry ledger.

Every cent lives in a ``LedgerAccount``. Money moves only by a
``JournalEntry`` whose ``Posting`` amounts sum to zero. Rows are never
updated or deleted (a correction is a reversing entry) except the cached
``LedgerAccount.balance``, which the posting service keeps equal to the sum of
the account's postings and ``trefpunt ledger_check`` verifies.

Sign convention: a positive balance is money the account holds. Wallets,
escrows and the payout clearing account can never go negative (a database
check enforces it); the provider clearing account mirrors money outside the
platform and is negative by the amount deposited and not yet paid out.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from trefpunt.core.models import record_name
from trefpunt.core.money import format_cents


class AccountKind(models.TextChoices):
    WALLET = "wallet", _("Wallet")
    ESCROW = "escrow", _("Escrow")
    PLATFORM_REVENUE = "platform_revenue", _("Platform revenue")
    PROVIDER_CLEARING = "provider_clearing", _("Payment provider clearing")
    PAYOUT_CLEARING = "payout_clearing", _("Payouts in progress")


class LedgerAccount(models.Model):
    kind = models.CharField(_("kind"), max_length=20, choices=AccountKind.choices)
    currency = models.CharField(_("currency"), max_length=3, default="EUR")
    # A wallet belongs to exactly one user or one organisation.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ledger_accounts",
        verbose_name=_("user"),
    )
    organisation = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ledger_accounts",
        verbose_name=pgettext_lazy("model", "organisation"),
    )
    # Escrows are per contest / milestone / batch: "contest:12", "batch:7".
    # System accounts use the empty reference.
    reference = models.CharField(_("reference"), max_length=60, blank=True, default="")
    label = models.CharField(_("label"), max_length=200, blank=True)
    # For an escrow: the wallet that funded it and gets refunds.
    funder = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="funded_escrows",
        verbose_name=_("funded by"),
    )
    balance = models.BigIntegerField(_("balance (cents)"), default=0)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("ledger account")
        verbose_name_plural = _("ledger accounts")
        constraints = [
            models.CheckConstraint(
                condition=Q(balance__gte=0) | Q(kind="provider_clearing"),
                name="ledger_account_no_overdraft",
            ),
            models.CheckConstraint(
                condition=(
                    Q(kind="wallet", user__isnull=False, organisation__isnull=True)
                    | Q(kind="wallet", user__isnull=True, organisation__isnull=False)
                    | (~Q(kind="wallet") & Q(user__isnull=True, organisation__isnull=True))
                ),
                name="ledger_account_wallet_has_one_owner",
            ),
            models.UniqueConstraint(
                fields=["user", "currency"],
                condition=Q(kind="wallet", user__isnull=False),
                name="ledger_one_user_wallet_per_currency",
            ),
            models.UniqueConstraint(
                fields=["organisation", "currency"],
                condition=Q(kind="wallet", organisation__isnull=False),
                name="ledger_one_org_wallet_per_currency",
            ),
            models.UniqueConstraint(
                fields=["kind", "reference", "currency"],
                condition=~Q(kind="wallet"),
                name="ledger_system_account_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.reference or self.user_id or ''} ({self.currency})"


class EntryKind(models.TextChoices):
    DEPOSIT = "deposit", _("Deposit")
    ESCROW_FUND = "escrow_fund", _("Moved into escrow")
    ESCROW_RELEASE = "escrow_release", _("Paid from escrow")
    ESCROW_REFUND = "escrow_refund", _("Refunded from escrow")
    PAYOUT_REQUEST = "payout_request", _("Payout requested")
    PAYOUT_PAID = "payout_paid", _("Payout sent")
    PAYOUT_FAILED = "payout_failed", _("Payout failed, money returned")


class JournalEntry(models.Model):
    kind = models.CharField(_("kind"), max_length=20, choices=EntryKind.choices)
    # Repeating an operation with the same key returns the first entry.
    idempotency_key = models.CharField(_("idempotency key"), max_length=200, unique=True)
    # What the entry was for, e.g. "contest:12" and a readable description.
    reference = models.CharField(_("reference"), max_length=60, blank=True)
    description = models.CharField(_("description"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("journal entry")
        verbose_name_plural = _("journal entries")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_kind_display()} {self.reference}"


class Posting(models.Model):
    entry = models.ForeignKey(
        JournalEntry,
        on_delete=models.PROTECT,
        related_name="postings",
        verbose_name=_("journal entry"),
    )
    account = models.ForeignKey(
        LedgerAccount,
        on_delete=models.PROTECT,
        related_name="postings",
        verbose_name=_("ledger account"),
    )
    amount = models.BigIntegerField(_("amount (cents)"))

    class Meta:
        verbose_name = _("posting")
        verbose_name_plural = _("postings")
        constraints = [models.CheckConstraint(condition=~Q(amount=0), name="posting_non_zero")]
        indexes = [models.Index(fields=["account", "entry"])]

    def __str__(self) -> str:
        return record_name(self)


class Deposit(models.Model):
    """Money a user pays in through a payment provider, credited on the provider's webhook."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for payment")
        PAID = "paid", _("Paid")
        CANCELLED = "cancelled", _("Cancelled")
        FAILED = "failed", _("Failed")

    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    wallet = models.ForeignKey(
        LedgerAccount,
        on_delete=models.PROTECT,
        related_name="deposits",
        verbose_name=_("wallet"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="deposits",
        verbose_name=_("created by"),
    )
    amount = models.BigIntegerField(_("amount (cents)"))
    currency = models.CharField(_("currency"), max_length=3, default="EUR")
    provider = models.CharField(_("payment provider"), max_length=20)
    provider_ref = models.CharField(_("provider reference"), max_length=100, blank=True)
    checkout_url = models.CharField(_("checkout URL"), max_length=500, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    # Where to send the user after the checkout (a local path, never a full URL).
    return_path = models.CharField(_("return path"), max_length=300, blank=True)
    idempotency_key = models.CharField(_("idempotency key"), max_length=200, blank=True)
    journal_entry = models.OneToOneField(
        JournalEntry,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("journal entry"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("deposit")
        verbose_name_plural = _("deposits")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="deposit_amount_positive"),
            models.UniqueConstraint(
                fields=["provider", "provider_ref"],
                condition=~Q(provider_ref=""),
                name="deposit_provider_ref_unique",
            ),
            models.UniqueConstraint(
                fields=["created_by", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="deposit_idempotency_unique",
            ),
        ]

    def __str__(self) -> str:
        return record_name(self, format_cents(self.amount, self.currency))


class WebhookEvent(models.Model):
    """Every provider notification we accepted, once (deduplicated by the provider's id)."""

    provider = models.CharField(max_length=20)
    event_id = models.CharField(max_length=100)
    payload = models.JSONField()
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["provider", "event_id"], name="webhook_event_unique"),
        ]


class Payout(models.Model):
    class Status(models.TextChoices):
        REQUESTED = "requested", _("Requested")
        PAID = "paid", _("Paid")
        FAILED = "failed", _("Failed")

    wallet = models.ForeignKey(
        LedgerAccount,
        on_delete=models.PROTECT,
        related_name="payouts",
        verbose_name=_("wallet"),
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="payouts",
        verbose_name=_("requested by"),
    )
    amount = models.BigIntegerField(_("amount (cents)"))
    currency = models.CharField(_("currency"), max_length=3, default="EUR")
    iban = models.CharField(_("IBAN"), max_length=34)
    account_holder = models.CharField(_("account holder"), max_length=100)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.REQUESTED
    )
    failure_reason = models.CharField(_("failure reason"), max_length=300, blank=True)
    idempotency_key = models.CharField(_("idempotency key"), max_length=200, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("handled by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    handled_at = models.DateTimeField(_("handled at"), null=True, blank=True)

    class Meta:
        verbose_name = _("payout")
        verbose_name_plural = _("payouts")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payout_amount_positive"),
            models.UniqueConstraint(
                fields=["requested_by", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="payout_idempotency_unique",
            ),
        ]

    def __str__(self) -> str:
        return record_name(self, format_cents(self.amount, self.currency))
