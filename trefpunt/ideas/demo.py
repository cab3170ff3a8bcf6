# ruff: noqa: E501 - the demo texts are prose, kept on one line each
"""Demo idea calls for ``trefpunt demo``: one in every state (draft, open, voting, closed)
and an invite-only one, with ideas, an improvement, a merged duplicate, comments and
replies, votes (up-votes and a budget call), stage decisions with their reasons and a paid
reward — so ``make run`` shows a living idea call.

Runs after the accounts demo and takes its people from it (``demo_people``). Everything
goes through the services; money arrives as signed sandbox deposits. Idempotent: each demo
call has a fixed title and is skipped when it exists.
"""

from __future__ import annotations

from datetime import timedelta
from typing import IO

from django.utils import timezone

from trefpunt.accounts.demo import demo_people, demo_people_ensure, wallet_top_up
from trefpunt.accounts.models import Membership, Organisation, Role, User
from trefpunt.ledger.services import wallet_for_organisation, wallet_for_user

from .models import Idea, IdeaCall, Stage
from .services import (
    call_close,
    call_create_draft,
    call_invite,
    call_publish,
    call_voting_start,
    comment_create,
    idea_merge,
    idea_stage_move,
    idea_submit,
    idea_vote,
)

PACKAGING = [
    ("Deposit on coffee cups", "A **€1 deposit** on a sturdy cup: bring it back, get your euro back. Cafés in Utrecht already do this."),
    ("Sell vegetables loose", "Cucumbers and peppers do not need plastic film. Put them loose in the crate with a paper bag next to it."),
    ("Refill station for shampoo and soap", "Customers bring their own bottles and fill them at a tap. Pay by weight."),
    ("Cardboard instead of plastic trays", "Meat and cheese on cardboard trays that go in the paper bin."),
    ("Right-sized boxes for web orders", "Our parcels are half air. Pick the box that fits the order, or fold one to size."),
    ("Collect packaging at the checkout", "A bin at the till where people leave packaging they do not want; we recycle it."),
    ("Reusable cups with a deposit", "Give cups a deposit so people return them and we wash and reuse them."),
]  # fmt: skip
SANDWICHES = [
    ("Hummus with roasted pepper", "Vegan, filling, and cheap to make."),
    ("Old cheese with apple syrup", "A Dutch classic on dark rye."),
    ("Smoked mackerel with beetroot", "Fish once a week, local and smoky."),
    ("Tofu banh mi", "Pickled carrot, coriander and crispy tofu."),
]


def _poster(organisation: Organisation | None, fallback: User) -> User:
    if organisation is None:
        return fallback
    owner = Membership.objects.filter(organisation=organisation, role=Role.OWNER).first()
    return owner.user if owner else fallback


def _call(user: User, title: str, **fields: object) -> IdeaCall:
    now = timezone.now()
    data: dict[str, object] = {
        "question": "",
        "description": "",
        "audience": IdeaCall.Audience.PUBLIC,
        "submission_deadline": now + timedelta(days=10),
        "voting_deadline": now + timedelta(days=17),
        "voting_mode": IdeaCall.VotingMode.UP,
        "tags": [],
    }
    data.update(fields)
    return call_create_draft(user=user, title=title, **data)


def _publish(call: IdeaCall, user: User) -> None:
    if call.has_rewards:
        wallet = (
            wallet_for_organisation(organisation=call.organisation)
            if call.organisation
            else wallet_for_user(user=user)
        )
        total = call.reward_budget + call.reward_budget // 5
        wallet_top_up(wallet, user, total, f"demo-ideas-{call.pk}")
    call_publish(call_id=call.pk, user=user)


def _move(idea: Idea, user: User, key: str, reason: str) -> None:
    target = Stage.objects.get(call_id=idea.call_id, key=key)
    idea_stage_move(idea_id=idea.pk, user=user, stage_id=target.pk, reason=reason)


def _votes(ideas: list[Idea], crowd: list[User], counts: list[int]) -> None:
    for idea, count in zip(ideas, counts, strict=False):
        voters = [u for u in crowd if u.pk != idea.author_id][:count]
        for voter in voters:
            idea_vote(idea_id=idea.pk, user=voter)


def _open_call(client: User, crowd: list[User]) -> None:
    call = _call(
        client,
        "Less packaging waste in our shops",
        question="How can we cut packaging waste in our 40 shops and web shop?",
        description=(
            "We sell groceries in 40 shops and online. Every week we throw away **tonnes** of "
            "plastic and cardboard.\n\n- What can go?\n- What can customers bring themselves?\n"
            "- What would make you come back?\n\nWe answer every idea."
        ),
        tags=["Shops", "Web shop", "Customers"],
        reward_amount=15_000,
        reward_count=2,
    )
    _publish(call, client)
    ideas = [
        idea_submit(
            call_id=call.pk, user=crowd[i % len(crowd)], title=t, description=d, tags=["shops"]
        )
        for i, (t, d) in enumerate(PACKAGING)
    ]
    improvement = idea_submit(
        call_id=call.pk,
        user=crowd[5 % len(crowd)],
        title="Deposit cups that fit every coffee machine",
        description="The same deposit cup, but sized so it fits under all our coffee machines.",
        improves_id=ideas[0].pk,
    )
    _votes([*ideas, improvement], crowd, [6, 4, 5, 2, 3, 1, 2, 3])
    talk = comment_create(
        idea_id=ideas[0].pk,
        user=crowd[2],
        body="I would pay the deposit. Can I return the cup in any shop?",
    )
    comment_create(
        idea_id=ideas[0].pk,
        user=crowd[0],
        body="Yes, that is the point: any shop, any time.",
        parent_id=talk.pk,
    )
    comment_create(
        idea_id=ideas[1].pk,
        user=crowd[3],
        body="Loose peppers bruise faster. A paper bag would solve that.",
    )
    idea_merge(idea_id=ideas[6].pk, into_id=ideas[0].pk, user=client)
    _move(
        ideas[0],
        client,
        "selected",
        "Our shops in Utrecht start a pilot with deposit cups in March. Thank you!",
    )
    _move(
        ideas[1],
        client,
        "under_review",
        "Our fresh-produce team is checking how long loose peppers keep.",
    )
    _move(ideas[4], client, "in_progress", "The warehouse is testing three box sizes this month.")
    _move(
        ideas[5],
        client,
        "not_selected",
        "Most packaging already goes in the paper and plastic bins at home; a bin at the till would mostly collect rubbish.",
    )


def _voting_call(poster: User, organisation: Organisation | None, crowd: list[User]) -> None:
    call = _call(
        poster,
        "What should our next sandwich be?",
        question="Which sandwich should our canteen add to the menu?",
        description="Spread your **10 points** over the sandwiches you would order most.",
        organisation=organisation.slug if organisation else None,
        voting_mode=IdeaCall.VotingMode.BUDGET,
        budget_points=10,
        tags=["Vegan", "Fish", "Cheese"],
    )
    _publish(call, poster)
    ideas = [
        idea_submit(call_id=call.pk, user=crowd[(i + 2) % len(crowd)], title=t, description=d)
        for i, (t, d) in enumerate(SANDWICHES)
    ]
    call_voting_start(call_id=call.pk, user=poster)
    for n, voter in enumerate(crowd[:6]):
        spread = [(0, 6), (1, 4)] if n % 2 else [(3, 5), (2, 3), (0, 2)]
        for index, points in spread:
            if ideas[index].author_id != voter.pk:
                idea_vote(idea_id=ideas[index].pk, user=voter, points=points)


def _closed_call(client: User, crowd: list[User]) -> None:
    call = _call(
        client,
        "A name for our cargo-bike sharing",
        question="What should we call the cargo bikes you can share in your street?",
        tags=["Names"],
    )
    _publish(call, client)
    names = [
        ("Bakkie", "Short for bakfiets, friendly."),
        ("Buurbak", "A bike for the neighbours."),
        ("Samenrit", "Riding together."),
    ]
    ideas = [
        idea_submit(call_id=call.pk, user=crowd[i + 1], title=t, description=d)
        for i, (t, d) in enumerate(names)
    ]
    _votes(ideas, crowd, [5, 3, 1])
    _move(ideas[0], client, "selected", "Short, Dutch, and everybody smiles when they say it.")
    call_close(call_id=call.pk, user=client, reason="We chose Bakkie. Thank you for every name!")


def load(stdout: IO[str]) -> list[tuple[str, str, str]]:
    clients, organisations, crowd = demo_people()
    demo_people_ensure(clients, crowd)
    a, b = clients[0], clients[1]
    organisation = organisations[0] if organisations else None
    made = 0
    builders = [
        ("Less packaging waste in our shops", lambda: _open_call(a, crowd)),
        (
            "What should our next sandwich be?",
            lambda: _voting_call(_poster(organisation, b), organisation, crowd),
        ),
        ("A name for our cargo-bike sharing", lambda: _closed_call(b, crowd)),
    ]
    for title, build in builders:
        if not IdeaCall.objects.filter(title=title).exists():
            build()
            made += 1
    if not IdeaCall.objects.filter(title="Ideas for our staff day").exists():
        call = _call(
            a,
            "Ideas for our staff day",
            question="What should we do together on our staff day in June?",
            audience=IdeaCall.Audience.INVITED,
        )
        call_invite(call_id=call.pk, user=a, who=crowd[0].email)
        _publish(call, a)
        idea_submit(
            call_id=call.pk,
            user=crowd[0],
            title="Sailing on the IJsselmeer",
            description="A day on a flat-bottomed boat.",
        )
        made += 1
    if not IdeaCall.objects.filter(title="Greener commuting").exists():
        _call(b, "Greener commuting", question="How can our people travel to work greener?")
        made += 1
    stdout.write(f"ideas: {made} new demo idea calls.\n")
    return []
