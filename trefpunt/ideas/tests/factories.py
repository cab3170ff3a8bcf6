"""Idea calls built the way production builds them: through the services, with money that
arrived as a confirmed deposit."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, cast

from django.utils import timezone

from trefpunt.accounts.models import Organisation, User
from trefpunt.accounts.tests.factories import OrganisationFactory, UserFactory
from trefpunt.ideas.models import Idea, IdeaCall, Stage
from trefpunt.ideas.services import call_create_draft, call_publish, idea_submit
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

REWARD = 10000  # € 100.00 per rewarded idea


def make_user(**fields: Any) -> User:
    return cast(User, UserFactory(**fields))


def make_organisation(owner: User) -> Organisation:
    return cast(Organisation, OrganisationFactory(user=owner))


def join(organisation: Organisation, inviter: User, role: str = "member") -> User:
    from trefpunt.accounts.services import invitation_accept, organisation_invite

    member = make_user()
    _invitation, token = organisation_invite(
        organisation=organisation, inviter=inviter, email=member.email, role=role
    )
    invitation_accept(token=token, user=member)
    return member


def later(days: float = 5) -> datetime:
    return timezone.now() + timedelta(days=days)


def draft_call(client: User, **overrides: Any) -> IdeaCall:
    fields: dict[str, Any] = {
        "user": client,
        "title": "Less packaging waste",
        "question": "How can we cut packaging waste in our shops?",
        "description": "We sell **a lot** of take-away food.",
        "audience": IdeaCall.Audience.PUBLIC,
        "submission_deadline": later(5),
        "voting_deadline": later(10),
        "voting_mode": IdeaCall.VotingMode.UP,
        "budget_points": 10,
        "reward_amount": 0,
        "reward_count": 0,
        "tags": ["Packaging", "Shops"],
    }
    fields.update(overrides)
    return call_create_draft(**fields)


def wallet_of(call: IdeaCall) -> LedgerAccount:
    if call.organisation_id:
        return wallet_for_organisation(organisation=call.organisation)  # type: ignore[arg-type]
    return wallet_for_user(user=call.created_by)


def open_call(client: User, *, rewards: int = 0, fund_extra: int = 0, **overrides: Any) -> IdeaCall:
    """A published call; with ``rewards`` ideas rewarded at ``REWARD`` each, funded first."""
    if rewards:
        overrides.setdefault("reward_amount", REWARD)
        overrides.setdefault("reward_count", rewards)
    call = draft_call(client, **overrides)
    if call.has_rewards:
        total = call.reward_budget + call.reward_budget // 10 + fund_extra
        fund_wallet(wallet_of(call), client, total)
    return call_publish(call_id=call.pk, user=client)


def post(call: IdeaCall, author: User | None = None, **fields: Any) -> Idea:
    fields.setdefault("title", "Reusable cups")
    fields.setdefault("description", "Give every customer a deposit cup they bring back.")
    return idea_submit(call_id=call.pk, user=author or make_user(), **fields)


def stage(call: IdeaCall, key: str) -> Stage:
    return Stage.objects.get(call=call, key=key)


def escrow_balance(call: IdeaCall) -> int:
    return escrow_balance_of(f"ideacall:{call.pk}")
