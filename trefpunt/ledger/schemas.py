"""Wallet API schemas. Amounts are integer cents; ``currency`` is the ISO 4217 code."""

from __future__ import annotations

from datetime import datetime

from ninja import Field, Schema

from trefpunt.core.api_schema import InSchema


class WalletOut(Schema):
    balance: int = Field(description="Available to spend or pay out, in cents.")
    in_escrow: int = Field(description="Held in escrow for work in progress, in cents.")
    payouts_pending: int = Field(description="Requested payouts not yet sent, in cents.")
    currency: str
    organisation: str | None = Field(None, description="The organisation's slug, if any.")


class TransactionOut(Schema):
    id: int = Field(description="The journal entry this line belongs to.")
    date: datetime
    kind: str = Field(description="deposit, escrow_fund, escrow_release, escrow_refund, …")
    kind_label: str
    description: str
    reference: str = Field(description="What the money was for, e.g. contest:12 or payout:3.")
    amount: int = Field(description="Signed cents: positive came in, negative went out.")
    currency: str


class TransactionPage(Schema):
    count: int
    limit: int
    offset: int
    next_offset: int | None
    items: list[TransactionOut]


class DepositIn(InSchema):
    amount: int = Field(strict=True, description="In cents, e.g. 2500 for €25.00.")
    organisation: str | None = Field(
        None, description="Deposit into this organisation's wallet (owners and admins)."
    )
    return_path: str = Field(
        "", max_length=300, description="Local path to continue to after the checkout."
    )


class DepositOut(Schema):
    id: str
    status: str
    amount: int
    currency: str
    checkout_url: str = Field(description="Send the payer here to pay.")
    return_path: str
    organisation: str | None
    created_at: datetime
    completed_at: datetime | None


class PayoutIn(InSchema):
    amount: int = Field(strict=True, description="In cents.")
    iban: str = Field(max_length=42)
    account_holder: str = Field(max_length=100)
    organisation: str | None = None


class PayoutOut(Schema):
    id: int
    status: str
    amount: int
    currency: str
    iban: str = Field(description="Masked: country, check digits and the last four.")
    account_holder: str
    failure_reason: str
    created_at: datetime
    handled_at: datetime | None


class PayoutPage(Schema):
    count: int
    limit: int
    offset: int
    next_offset: int | None
    items: list[PayoutOut]
