# ruff: noqa: E501 - the demo texts are prose, kept on one line each
"""Demo projects for ``trefpunt demo``: jobs in every state (draft, open with proposals,
hired, closed), an invite-only job with an invitation, a contract with funded, delivered and
approved milestones, a contract whose dispute was settled by an agreed split, and revealed
reviews — so ``make run`` shows living projects.

Runs after the accounts demo and takes its people from it (``demo_people``). Everything goes
through the services; money arrives as signed sandbox deposits. Idempotent: each demo job
has a fixed title and is skipped when it exists.
"""

from __future__ import annotations

from typing import IO, Any

from trefpunt.accounts.demo import demo_people, demo_people_ensure, wallet_top_up
from trefpunt.accounts.models import Skill, User
from trefpunt.ledger.services import wallet_for_user

from . import services
from .models import Contract, Job, Milestone

PLAN = [
    {"title": "Three sketches", "amount": 30_000, "days": 7},
    {"title": "Final logo and files", "amount": 45_000, "days": 14},
    {"title": "Business cards", "amount": 15_000, "days": 21},
]


def _skills(*wanted: str) -> list[str]:
    slugs = set(Skill.objects.values_list("slug", flat=True))
    return [s for s in wanted if s in slugs]


def _job(client: User, title: str, description: str, **fields: Any) -> Job | None:
    if Job.objects.filter(title=title, created_by=client).exists():
        return None
    fields.setdefault("budget_min", 60_000)
    fields.setdefault("budget_max", 90_000)
    return services.job_create_draft(user=client, title=title, description=description, **fields)


def _propose(job: Job, freelancer: User, price: int, letter: str, plan: Any = ()) -> Any:
    return services.proposal_create(
        job_id=job.pk,
        user=freelancer,
        price=price,
        duration_days=21,
        cover_letter=letter,
        milestone_plan=list(plan),
    )


def _fund(contract: Contract, milestone: Milestone) -> None:
    amount, fee = services.milestone_funding_total(milestone)
    wallet_top_up(
        wallet_for_user(user=contract.client),
        contract.client,
        amount + fee,
        f"demo:projects:milestone:{contract.job.title}:{milestone.position}",
    )
    services.milestone_fund(milestone_id=milestone.pk, user=contract.client)


def load(stdout: IO[str]) -> list[tuple[str, str, str]]:
    clients, _organisations, crowd = demo_people()
    demo_people_ensure(clients, crowd)
    alice, bob = clients[0], clients[1]
    made = 0

    # Open, with proposals, one shortlisted and one declined.
    job = _job(
        alice,
        "Logo and house style for a neighbourhood bakery",
        "We are **De Korenschoof**, a bakery in Utrecht since 1962. We need a logo that works on paper bags, the shop window and Instagram.\n\n- three sketches first\n- the final logo as SVG and PNG\n- business cards",
        skills=_skills("logo-design", "illustration", "branding"),
    )
    if job is not None:
        made += 1
        services.job_publish(job_id=job.pk, user=alice)
        first = _propose(
            job,
            crowd[0],
            85_000,
            "I designed logos for six bakeries; I start with hand-drawn sketches.",
            [*PLAN[:2], {"title": "Business cards", "amount": 10_000, "days": 21}],
        )
        second = _propose(
            job, crowd[1], 70_000, "Modern, simple, and it prints well on kraft paper."
        )
        third = _propose(job, crowd[2], 120_000, "A full brand book, with a typeface of its own.")
        services.proposal_shortlist(proposal_id=first.pk, user=alice)
        services.proposal_decline(
            proposal_id=third.pk, user=alice, reason="Above our budget, sorry."
        )
        del second

    # Invite-only, with an invitation by match.
    job = _job(
        bob,
        "Texts for our new website (invited writers)",
        "Five pages in Dutch and English about our cycling tours.",
        visibility=Job.Visibility.INVITED,
        budget_min=40_000,
        budget_max=40_000,
        skills=_skills("copywriting", "translation"),
    )
    if job is not None:
        made += 1
        services.job_publish(job_id=job.pk, user=bob)
        services.job_invite(job_id=job.pk, user=bob, invitee_id=crowd[3].pk)

    # A draft, and a closed job.
    if (
        _job(alice, "Illustrations for our spring menu", "Six small drawings of seasonal dishes.")
        is not None
    ):
        made += 1
    job = _job(
        bob,
        "Flyer for a summer market",
        "One A5 flyer, both sides.",
        budget_min=15_000,
        budget_max=25_000,
    )
    if job is not None:
        made += 1
        services.job_publish(job_id=job.pk, user=bob)
        services.job_close(job_id=job.pk, user=bob)

    # Hired: milestones approved (both reviewed), delivered, funded.
    job = _job(
        bob,
        "Photo series of our cycling tours",
        "Twenty photos of three tours, edited, for the website and print.",
        skills=_skills("photography"),
    )
    if job is not None:
        made += 1
        services.job_publish(job_id=job.pk, user=bob)
        proposal = _propose(job, crowd[0], 90_000, "I cycle myself; I shoot on the move.", PLAN)
        _propose(job, crowd[4], 95_000, "Drone shots included.")
        contract = services.proposal_accept(proposal_id=proposal.pk, user=bob)
        sketches, final, cards = list(contract.milestones.order_by("position"))
        _fund(contract, sketches)
        services.milestone_deliver(
            milestone_id=sketches.pk,
            user=crowd[0],
            message="Here is the first tour: 8 photos, edited.",
        )
        services.milestone_request_changes(
            milestone_id=sketches.pk, user=bob, reason="Less sky, more riders, please."
        )
        services.milestone_deliver(
            milestone_id=sketches.pk,
            user=crowd[0],
            message="Recropped, and two new shots of the riders.",
        )
        services.milestone_approve(milestone_id=sketches.pk, user=bob)
        _fund(contract, final)
        services.milestone_deliver(
            milestone_id=final.pk, user=crowd[0], message="The other two tours, 12 photos."
        )
        _fund(contract, cards)

    # A dispute settled by an agreed split, then both reviews (revealed).
    job = _job(
        alice,
        "Packaging design for our cookie tins",
        "A design for round tins, three flavours.",
        budget_min=50_000,
        budget_max=50_000,
        skills=_skills("packaging-design", "illustration"),
    )
    if job is not None:
        made += 1
        services.job_publish(job_id=job.pk, user=alice)
        proposal = _propose(job, crowd[1], 50_000, "Tins are my favourite thing to design.")
        contract = services.proposal_accept(proposal_id=proposal.pk, user=alice)
        milestone = contract.milestones.get()
        _fund(contract, milestone)
        services.milestone_deliver(
            milestone_id=milestone.pk,
            user=crowd[1],
            message="Two flavours done; the third needs more time.",
        )
        services.dispute_open(
            contract_id=contract.pk,
            user=alice,
            reason="Only two of the three flavours were delivered.",
        )
        services.dispute_offer(contract_id=contract.pk, user=crowd[1], freelancer_amount=35_000)
        services.dispute_accept(contract_id=contract.pk, user=alice, freelancer_amount=35_000)
        services.review_create(
            contract_id=contract.pk,
            user=alice,
            rating=3,
            text="Lovely designs, but one flavour short. We settled it fairly.",
        )
        services.review_create(
            contract_id=contract.pk,
            user=crowd[1],
            rating=4,
            text="Clear brief and a fair client when things went wrong.",
        )

    stdout.write(f"projects: {made} new demo jobs ({Job.objects.count()} in all).\n")
    return []
