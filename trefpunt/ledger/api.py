"""The wallet API (mounted at ``/api/v1/wallet``). Thin: selectors and services do the work.

Money-moving POSTs honour ``Idempotency-Key``: the middleware replays a stored
answer, and the key also goes down to the service, so even a retry that slips
past the middleware (a crash between booking and storing the answer) books
nothing twice.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from ninja import Field as NinjaField
from ninja import Query, Router, Status

from trefpunt.core.api_schema import OFFSET_MAX, InSchema
from trefpunt.core.exceptions import NotFound
from trefpunt.core.idempotency import idempotency_key_for
from trefpunt.core.types import AuthedRequest
from trefpunt.core.web import absolute_url

from .iban import iban_mask
from .models import Deposit, LedgerAccount, Payout
from .schemas import (
    DepositIn,
    DepositOut,
    PayoutIn,
    PayoutOut,
    PayoutPage,
    TransactionOut,
    TransactionPage,
    WalletOut,
)
from .selectors import (
    deposit_for_user,
    organisation_for_wallet_admin,
    wallet_payouts,
    wallet_postings,
    wallet_summary,
)
from .services import deposit_create, payout_request, wallet_for_organisation, wallet_for_user

if TYPE_CHECKING:
    from trefpunt.accounts.models import Organisation

router = Router(tags=["wallet"])


class WalletQuery(InSchema):
    organisation: str | None = NinjaField(
        None, description="An organisation's slug: its wallet (owners and admins only)."
    )


class PageQuery(WalletQuery):
    limit: int = NinjaField(25, ge=1, le=100)
    offset: int = NinjaField(0, ge=0, le=OFFSET_MAX)


def _wallet(request: AuthedRequest, slug: str | None) -> tuple[LedgerAccount, Organisation | None]:
    if not slug:
        return wallet_for_user(user=request.user), None
    organisation = organisation_for_wallet_admin(slug=slug, user=request.user)
    return wallet_for_organisation(organisation=organisation), organisation


def _deposit_out(deposit: Deposit) -> DepositOut:
    organisation = deposit.wallet.organisation
    return DepositOut(
        id=str(deposit.public_id),
        status=deposit.status,
        amount=deposit.amount,
        currency=deposit.currency,
        checkout_url=absolute_url(deposit.checkout_url) if deposit.checkout_url else "",
        return_path=deposit.return_path,
        organisation=organisation.slug if organisation else None,
        created_at=deposit.created_at,
        completed_at=deposit.completed_at,
    )


def _payout_out(payout: Payout) -> PayoutOut:
    return PayoutOut(
        id=payout.pk,
        status=payout.status,
        amount=payout.amount,
        currency=payout.currency,
        iban=iban_mask(payout.iban),
        account_holder=payout.account_holder,
        failure_reason=payout.failure_reason,
        created_at=payout.created_at,
        handled_at=payout.handled_at,
    )


def _next_offset(offset: int, limit: int, count: int) -> int | None:
    return offset + limit if offset + limit < count else None


@router.get("", response=WalletOut, summary="Balance of your wallet or an organisation's")
def wallet_get_api(request: AuthedRequest, query: Query[WalletQuery]) -> WalletOut:
    wallet, organisation = _wallet(request, query.organisation)
    summary = wallet_summary(wallet=wallet)
    return WalletOut(
        balance=summary.balance,
        in_escrow=summary.in_escrow,
        payouts_pending=summary.payouts_pending,
        currency=summary.currency,
        organisation=organisation.slug if organisation else None,
    )


@router.get("/transactions", response=TransactionPage, summary="Wallet history, newest first")
def transaction_list_api(request: AuthedRequest, query: Query[PageQuery]) -> TransactionPage:
    wallet, _organisation = _wallet(request, query.organisation)
    postings = wallet_postings(wallet=wallet)
    count = postings.count()
    page = postings[query.offset : query.offset + query.limit]
    return TransactionPage(
        count=count,
        limit=query.limit,
        offset=query.offset,
        next_offset=_next_offset(query.offset, query.limit, count),
        items=[
            TransactionOut(
                id=line.entry_id,
                date=line.entry.created_at,
                kind=line.entry.kind,
                kind_label=str(line.entry.get_kind_display()),
                description=line.entry.description,
                reference=line.entry.reference,
                amount=line.amount,
                currency=wallet.currency,
            )
            for line in page
        ],
    )


@router.post(
    "/deposits",
    response={201: DepositOut},
    summary="Start a deposit; send the payer to checkout_url",
)
def deposit_create_api(request: AuthedRequest, payload: DepositIn) -> Status[DepositOut]:
    wallet, _organisation = _wallet(request, payload.organisation)
    deposit = deposit_create(
        wallet=wallet,
        user=request.user,
        amount=payload.amount,
        return_path=payload.return_path,
        idempotency_key=idempotency_key_for(request, "deposit"),
    )
    return Status(201, _deposit_out(deposit))


@router.get("/deposits/{deposit_id}", response=DepositOut, summary="One of your deposits")
def deposit_get_api(request: AuthedRequest, deposit_id: str) -> DepositOut:
    try:
        public_id = str(uuid.UUID(deposit_id))
    except ValueError:
        raise NotFound() from None
    return _deposit_out(deposit_for_user(public_id=public_id, user=request.user))


@router.post("/payouts", response={201: PayoutOut}, summary="Request a payout to an IBAN")
def payout_create_api(request: AuthedRequest, payload: PayoutIn) -> Status[PayoutOut]:
    wallet, _organisation = _wallet(request, payload.organisation)
    payout = payout_request(
        wallet=wallet,
        user=request.user,
        amount=payload.amount,
        iban=payload.iban,
        account_holder=payload.account_holder,
        idempotency_key=idempotency_key_for(request, "payout"),
    )
    return Status(201, _payout_out(payout))


@router.get("/payouts", response=PayoutPage, summary="Payouts from your wallet, newest first")
def payout_list_api(request: AuthedRequest, query: Query[PageQuery]) -> PayoutPage:
    wallet, _organisation = _wallet(request, query.organisation)
    payouts = wallet_payouts(wallet=wallet)
    count = payouts.count()
    return PayoutPage(
        count=count,
        limit=query.limit,
        offset=query.offset,
        next_offset=_next_offset(query.offset, query.limit, count),
        items=[_payout_out(p) for p in payouts[query.offset : query.offset + query.limit]],
    )
