"""Projects built the way production builds them: through the services, with money that
arrived as a confirmed deposit."""

from __future__ import annotations

from typing import Any, cast

from trefpunt.accounts.models import Organisation, Skill, User
from trefpunt.accounts.tests.factories import OrganisationFactory, UserFactory
from trefpunt.ledger.models import LedgerAccount
from trefpunt.ledger.services import wallet_for_organisation, wallet_for_user
from trefpunt.ledger.tests.factories import (
    assert_money_consistent as assert_money_consistent,
)
from trefpunt.ledger.tests.factories import (
    balance as balance,
)
from trefpunt.ledger.tests.factories import (
    escrow_balance_of,
    fund_wallet,
)
from trefpunt.projects import services
from trefpunt.projects.models import Contract, Job, Milestone, Proposal

PRICE = 50_000  # € 500.00
PLAN = [
    {"title": "Sketches", "amount": 20_000, "days": 7},
    {"title": "Final", "amount": 30_000, "days": 14},
]


def make_user(**fields: Any) -> User:
    return cast(User, UserFactory(**fields))


def make_organisation(owner: User) -> Organisation:
    return cast(Organisation, OrganisationFactory(user=owner))


def skill(name: str) -> Skill:
    from django.utils.text import slugify

    return Skill.objects.get_or_create(slug=slugify(name), defaults={"name": name})[0]


def draft_job(client: User, **overrides: Any) -> Job:
    skill("Logo design")
    fields: dict[str, Any] = {
        "user": client,
        "title": "A logo for our bakery",
        "description": "We bake **bread**. We need a logo.",
        "budget_min": 40_000,
        "budget_max": 60_000,
        "duration": Job.Duration.WEEKS,
        "visibility": Job.Visibility.PUBLIC,
        "skills": ["logo-design"],
    }
    fields.update(overrides)
    return services.job_create_draft(**fields)


def open_job(client: User | None = None, **overrides: Any) -> Job:
    job = draft_job(client or make_user(), **overrides)
    return services.job_publish(job_id=job.pk, user=job.created_by)


def propose(job: Job, freelancer: User | None = None, **fields: Any) -> Proposal:
    fields.setdefault("price", PRICE)
    fields.setdefault("duration_days", 14)
    fields.setdefault("cover_letter", "I have drawn logos for twenty bakeries.")
    fields.setdefault("milestone_plan", PLAN)
    return services.proposal_create(job_id=job.pk, user=freelancer or make_user(), **fields)


def hired(
    client: User | None = None, freelancer: User | None = None, **job_fields: Any
) -> Contract:
    job = open_job(client, **job_fields)
    proposal = propose(job, freelancer)
    return services.proposal_accept(proposal_id=proposal.pk, user=job.created_by)


def payer_wallet(contract: Contract) -> LedgerAccount:
    if contract.organisation_id:
        return wallet_for_organisation(organisation=contract.organisation)  # type: ignore[arg-type]
    return wallet_for_user(user=contract.client)


def first(contract: Contract) -> Milestone:
    return Milestone.objects.filter(contract=contract).order_by("position").first()  # type: ignore[return-value]


def milestones(contract: Contract) -> list[Milestone]:
    return list(Milestone.objects.filter(contract=contract).order_by("position"))


def funded(contract: Contract, milestone: Milestone | None = None) -> Milestone:
    """Deposit exactly what funding needs, then fund."""
    milestone = milestone or first(contract)
    amount, fee = services.milestone_funding_total(milestone)
    fund_wallet(payer_wallet(contract), contract.client, amount + fee)
    return services.milestone_fund(milestone_id=milestone.pk, user=contract.client)


def delivered(contract: Contract, milestone: Milestone | None = None) -> Milestone:
    milestone = milestone or funded(contract)
    services.milestone_deliver(
        milestone_id=milestone.pk, user=contract.freelancer, message="Here are the sketches."
    )
    milestone.refresh_from_db()
    return milestone


def escrow_of(milestone: Milestone) -> int:
    return escrow_balance_of(f"milestone:{milestone.pk}")
