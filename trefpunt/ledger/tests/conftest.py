"""Fixtures for the ledger's tests: wallets with money, escrows, organisations with roles."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import pytest

from trefpunt.accounts.models import Organisation, Role, User
from trefpunt.accounts.services import invitation_accept, organisation_invite
from trefpunt.accounts.tests.factories import OrganisationFactory, UserFactory
from trefpunt.ledger.models import LedgerAccount
from trefpunt.ledger.services import escrow_account, escrow_fund

GOOD_IBAN = "NL91ABNA0417164300"
BAD_CHECKSUM_IBAN = "NL91ABNA0417164301"


def member_add(organisation: Organisation, owner: User, role: str) -> User:
    """A new user who joined ``organisation`` with ``role`` through a real invitation."""
    member = new_user()
    _invitation, token = organisation_invite(
        organisation=organisation, inviter=owner, email=member.email, role=role
    )
    invitation_accept(token=token, user=member)
    return member


def new_user(**kwargs: Any) -> User:
    return cast(User, UserFactory(**kwargs))


@pytest.fixture
def other_user(db: None) -> User:
    return new_user()


@pytest.fixture
def org_owner(db: None) -> User:
    return new_user()


@pytest.fixture
def organisation(org_owner: User) -> Organisation:
    return cast(Organisation, OrganisationFactory(user=org_owner))


@pytest.fixture
def org_admin(organisation: Organisation, org_owner: User) -> User:
    return member_add(organisation, org_owner, Role.ADMIN)


@pytest.fixture
def org_member(organisation: Organisation, org_owner: User) -> User:
    return member_add(organisation, org_owner, Role.MEMBER)


@pytest.fixture
def make_escrow() -> Callable[..., LedgerAccount]:
    """An escrow ``reference`` funded with ``amount`` cents from ``wallet``."""

    def make(wallet: LedgerAccount, amount: int, reference: str = "contest:1") -> LedgerAccount:
        escrow = escrow_account(reference=reference, funder=wallet, label=f"Prize of {reference}")
        escrow_fund(
            wallet=wallet, escrow=escrow, amount=amount, idempotency_key=f"{reference}:fund"
        )
        escrow.refresh_from_db()
        return escrow

    return make
