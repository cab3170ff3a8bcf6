"""The funded-work module every mode holds its money through."""

from __future__ import annotations

import pytest
from django.db import transaction

from trefpunt.accounts.models import Organisation, User
from trefpunt.core.exceptions import Conflict, ErrorCode, InsufficientFunds
from trefpunt.core.money import format_cents
from trefpunt.core.testing import run_concurrently
from trefpunt.ledger.funded import (
    Work,
    escrow_balance,
    fee_shares,
    funding_quote,
    payer_wallet,
    work_deposit_shortfall,
    work_escrow_lock,
    work_escrow_lookup,
    work_fund,
    work_pay,
    work_payees_lock,
    work_refund,
)
from trefpunt.ledger.models import AccountKind, LedgerAccount
from trefpunt.ledger.selectors import ledger_verify
from trefpunt.ledger.services import wallet_for_organisation, wallet_for_user
from trefpunt.ledger.tests.factories import fund_wallet, funded_wallet

from .conftest import new_user


def balance(account: LedgerAccount) -> int:
    return LedgerAccount.objects.values_list("balance", flat=True).get(pk=account.pk)


def work_of(user: User, organisation: Organisation | None = None, ref: str = "job:1") -> Work:
    return Work(
        reference=ref,
        currency="EUR",
        poster_id=user.pk,
        organisation_id=organisation.pk if organisation else None,
    )


def fund(work: Work, amount: int, key: str = "job:1:fund") -> LedgerAccount:
    with transaction.atomic():
        escrow = work_escrow_lock(work)
        work_fund(work=work, escrow=escrow, amount=amount, idempotency_key=key)
    return escrow


@pytest.mark.django_db
def test_work_fund_moves_money_from_the_posters_wallet_into_the_works_escrow() -> None:
    poster = new_user()
    wallet = funded_wallet(poster, 5000)
    work = work_of(poster)

    escrow = fund(work, 3000)

    assert balance(wallet) == 2000
    assert balance(escrow) == 3000
    assert escrow.funder_id == wallet.pk
    assert work_escrow_lookup(work) == escrow
    assert ledger_verify() == []


@pytest.mark.django_db
def test_work_fund_uses_the_organisations_wallet_when_posted_for_one(
    organisation: Organisation, org_owner: User
) -> None:
    org_wallet = fund_wallet(wallet_for_organisation(organisation=organisation), org_owner, 4000)
    own_wallet = funded_wallet(org_owner, 4000)
    work = work_of(org_owner, organisation)

    fund(work, 1500)

    assert payer_wallet(work) == org_wallet
    assert balance(org_wallet) == 2500
    assert balance(own_wallet) == 4000


@pytest.mark.django_db
def test_work_fund_refuses_a_shortfall_naming_it_and_moves_nothing() -> None:
    poster = new_user()
    wallet = funded_wallet(poster, 1000)
    work = work_of(poster)

    with pytest.raises(InsufficientFunds) as exc:
        fund(work, 2500)

    assert exc.value.code == ErrorCode.INSUFFICIENT_FUNDS
    assert format_cents(1500) in exc.value.fields["wallet"][0]
    assert balance(wallet) == 1000
    assert funding_quote(work=work, total=2500).shortfall == 1500


@pytest.mark.django_db
def test_work_fund_repeated_with_its_key_moves_the_money_once() -> None:
    poster = new_user()
    wallet = funded_wallet(poster, 5000)
    work = work_of(poster)

    fund(work, 2000)
    escrow = fund(work, 2000)

    assert balance(wallet) == 3000
    assert balance(escrow) == 2000


@pytest.mark.django_db
def test_funding_quote_offers_exactly_the_shortfall_at_least_the_minimum_deposit(
    settings: object,
) -> None:
    poster = new_user()
    funded_wallet(poster, 1000)
    work = work_of(poster)

    assert funding_quote(work=work, total=5000).deposit_amount == 4000
    assert funding_quote(work=work, total=1001).deposit_amount == 500  # the minimum
    assert funding_quote(work=work, total=900).deposit_amount == 0


@pytest.mark.django_db
def test_work_deposit_shortfall_starts_a_deposit_of_the_shortfall_or_refuses_when_none() -> None:
    poster = new_user()
    wallet = funded_wallet(poster, 1000)
    work = work_of(poster)

    deposit = work_deposit_shortfall(work=work, user=poster, total=3000, return_path="/x/")

    assert deposit.amount == 2000
    assert deposit.wallet_id == wallet.pk
    with pytest.raises(Conflict) as exc:
        work_deposit_shortfall(work=work, user=poster, total=800, return_path="/x/")
    assert exc.value.code == ErrorCode.NO_SHORTFALL


@pytest.mark.django_db
def test_work_pay_and_refund_take_fees_and_leave_the_escrow_empty() -> None:
    poster, worker = new_user(), new_user()
    wallet = funded_wallet(poster, 10_000)
    work = work_of(poster)
    fund(work, 1100)  # 1000 for the worker + 100 client fee

    with transaction.atomic():
        escrow = work_escrow_lock(work)
        payees = work_payees_lock(work=work, escrow=escrow, payee_ids=[worker.pk])
        work_pay(
            work=work,
            escrow=escrow,
            payee_id=worker.pk,
            amount=600,
            crowd_fee=60,
            client_fee=60,
            idempotency_key="job:1:pay:1",
        )
        refunded = work_refund(work=work, escrow=escrow, idempotency_key="job:1:refund")

    revenue = LedgerAccount.objects.get(kind=AccountKind.PLATFORM_REVENUE, currency="EUR")
    assert balance(payees[worker.pk]) == 540
    assert balance(revenue) == 120
    assert refunded == 440
    assert balance(wallet) == 10_000 - 1100 + 440
    assert escrow_balance(escrow) == 0
    assert ledger_verify() == []


@pytest.mark.django_db
def test_work_refund_of_an_empty_escrow_books_nothing() -> None:
    poster = new_user()
    funded_wallet(poster, 1000)
    work = work_of(poster)
    escrow = fund(work, 1000)
    with transaction.atomic():
        work_refund(work=work, escrow=work_escrow_lock(work), idempotency_key="job:1:refund:1")

    with transaction.atomic():
        again = work_refund(
            work=work, escrow=work_escrow_lock(work), idempotency_key="job:1:refund:2"
        )

    assert again == 0
    assert balance(escrow) == 0


def test_fee_shares_never_exceed_the_fee_and_leave_the_unused_part_for_the_refund() -> None:
    assert fee_shares(fee=100, base=1000, amounts=[333, 333, 334]) == [33, 33, 34]
    assert fee_shares(fee=7, base=300, amounts=[100, 100]) == [2, 2]  # 3 cents stay
    assert sum(fee_shares(fee=99, base=1000, amounts=[1] * 1000)) == 99
    assert fee_shares(fee=5, base=0, amounts=[0]) == [0]


@pytest.mark.race
@pytest.mark.django_db(transaction=True)
def test_work_pay_concurrent_repeats_with_one_key_pay_once() -> None:
    poster, worker = new_user(), new_user()
    funded_wallet(poster, 5000)
    work = work_of(poster)
    escrow = fund(work, 5000)

    def pay(_i: int) -> object:
        with transaction.atomic(durable=True):
            locked = work_escrow_lock(work)
            work_payees_lock(work=work, escrow=locked, payee_ids=[worker.pk])
            return work_pay(
                work=work, escrow=locked, payee_id=worker.pk, amount=3000, idempotency_key="k"
            )

    results = run_concurrently(pay, workers=4)

    assert len({getattr(r, "pk", r) for r in results}) == 1, results
    assert balance(wallet_for_user(user=worker)) == 3000
    assert balance(escrow) == 2000
    assert ledger_verify() == []


@pytest.mark.race
@pytest.mark.django_db(transaction=True)
def test_work_fund_concurrent_funds_of_two_works_cannot_overdraw_the_wallet() -> None:
    poster = new_user()
    wallet = funded_wallet(poster, 5000)
    works = [work_of(poster, ref=f"job:{i}") for i in (1, 2)]

    def fund_one(i: int) -> object:
        with transaction.atomic(durable=True):
            escrow = work_escrow_lock(works[i])
            return work_fund(
                work=works[i], escrow=escrow, amount=3000, idempotency_key=f"job:{i}:fund"
            )

    results = run_concurrently(fund_one, workers=2)

    assert sum(isinstance(r, InsufficientFunds) for r in results) == 1, results
    assert balance(wallet) == 2000
    assert ledger_verify() == []
