"""Concurrency on PostgreSQL: real row locks, transactions at once. After every race the
ledger is zero-sum, ``ledger_check`` is clean and wallets + escrows + fees hold exactly what
was deposited."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from trefpunt.core.exceptions import Conflict
from trefpunt.core.money import split_bps
from trefpunt.core.testing import run_concurrently
from trefpunt.ledger.models import JournalEntry
from trefpunt.projects import services
from trefpunt.projects.models import Contract, Dispute, Job, Milestone, Proposal

from .factories import (
    assert_money_consistent,
    balance,
    delivered,
    escrow_of,
    first,
    hired,
    open_job,
    payer_wallet,
    propose,
)

pytestmark = [pytest.mark.race, pytest.mark.django_db(transaction=True)]


def net(amount: int) -> int:
    return amount - split_bps(amount, 1000)


def test_approve_racing_auto_approve_pays_once() -> None:
    contract = hired()
    milestone = delivered(contract)
    with time_machine.travel(timezone.now() + timedelta(days=14, minutes=5), tick=False):
        actions = [
            lambda: services.milestone_approve(milestone_id=milestone.pk, user=contract.client),
            lambda: services.milestones_sweep(),
        ]
        run_concurrently(lambda i: actions[i](), workers=2)
    milestone.refresh_from_db()
    assert milestone.status == Milestone.Status.RELEASED
    assert balance(contract.freelancer) == net(20_000)
    assert (
        JournalEntry.objects.filter(idempotency_key=f"milestone:{milestone.pk}:release").count()
        == 1
    )
    assert escrow_of(milestone) == 0
    assert_money_consistent()


def test_two_approvals_at_once_pay_once() -> None:
    contract = hired()
    milestone = delivered(contract)
    results = run_concurrently(
        lambda i: services.milestone_approve(milestone_id=milestone.pk, user=contract.client),
        workers=3,
    )
    assert sum(isinstance(r, Milestone) for r in results) == 1, results
    assert sum(isinstance(r, Conflict) for r in results) == 2, results
    assert balance(contract.freelancer) == net(20_000)
    assert_money_consistent()


def test_two_accepts_on_one_job_hire_once() -> None:
    job = open_job()
    proposals = [propose(job), propose(job)]
    results = run_concurrently(
        lambda i: services.proposal_accept(proposal_id=proposals[i].pk, user=job.created_by),
        workers=2,
    )
    assert sum(isinstance(r, Contract) for r in results) == 1, results
    assert sum(isinstance(r, Conflict) for r in results) == 1, results
    assert Contract.objects.filter(job=job).count() == 1
    assert Job.objects.get(pk=job.pk).status == Job.Status.HIRED
    statuses = sorted(Proposal.objects.filter(job=job).values_list("status", flat=True))
    assert statuses == [Proposal.Status.ACCEPTED, Proposal.Status.NOT_SELECTED]


def test_two_proposals_at_once_respect_the_cap() -> None:
    job = open_job(proposal_cap=1)
    results = run_concurrently(lambda i: propose(job), workers=3)
    assert sum(isinstance(r, Proposal) for r in results) == 1, results
    assert Proposal.objects.filter(job=job).count() == 1


def test_two_fundings_at_once_fund_once() -> None:
    contract = hired()
    milestone = first(contract)
    amount, fee = services.milestone_funding_total(milestone)
    from trefpunt.ledger.tests.factories import fund_wallet

    fund_wallet(payer_wallet(contract), contract.client, 2 * (amount + fee))
    results = run_concurrently(
        lambda i: services.milestone_fund(milestone_id=milestone.pk, user=contract.client),
        workers=2,
    )
    assert sum(isinstance(r, Milestone) for r in results) == 1, results
    assert escrow_of(milestone) == amount + fee
    assert_money_consistent()


def test_dispute_racing_an_approval_moves_the_money_once() -> None:
    contract = hired()
    milestone = delivered(contract)
    fee = Milestone.objects.get(pk=milestone.pk).client_fee
    actions = [
        lambda: services.milestone_approve(milestone_id=milestone.pk, user=contract.client),
        lambda: services.dispute_open(
            contract_id=contract.pk, user=contract.freelancer, reason="Pay me."
        ),
    ]
    results = run_concurrently(lambda i: actions[i](), workers=2)
    milestone.refresh_from_db()
    if isinstance(results[0], Milestone):  # the approval won: nothing left to dispute
        assert milestone.status == Milestone.Status.RELEASED
        assert isinstance(results[1], Conflict)
        assert balance(contract.freelancer) == net(20_000)
    else:  # the dispute won: the approval was refused, the split moves the money once
        assert milestone.status == Milestone.Status.DISPUTED
        services.dispute_offer(
            contract_id=contract.pk, user=contract.freelancer, freelancer_amount=10_000
        )
        accepted = run_concurrently(
            lambda i: services.dispute_accept(
                contract_id=contract.pk, user=contract.client, freelancer_amount=10_000
            ),
            workers=2,
        )
        assert sum(isinstance(r, Dispute) for r in accepted) == 1, accepted
        assert balance(contract.freelancer) == net(10_000)
        assert balance(contract.client) == 10_000 + fee - fee // 2
    assert escrow_of(milestone) == 0
    assert_money_consistent()


def test_a_split_accept_racing_the_staff_step_moves_once() -> None:
    contract = hired()
    milestone = delivered(contract)
    services.dispute_open(contract_id=contract.pk, user=contract.client, reason="Late.")
    services.dispute_offer(contract_id=contract.pk, user=contract.client, freelancer_amount=5_000)
    actions = [
        lambda: services.dispute_accept(
            contract_id=contract.pk, user=contract.freelancer, freelancer_amount=5_000
        ),
        lambda: services.dispute_escalate(contract_id=contract.pk, user=contract.client),
    ]
    run_concurrently(lambda i: actions[i](), workers=2)
    dispute = Dispute.objects.get(contract=contract)
    if dispute.status == Dispute.Status.STAFF:
        from .factories import make_user

        services.dispute_decide(
            contract_id=contract.pk,
            user=make_user(is_staff=True),
            freelancer_amount=5_000,
            reason="As offered.",
        )
    assert balance(contract.freelancer) == net(5_000)
    assert escrow_of(milestone) == 0
    assert_money_consistent()
