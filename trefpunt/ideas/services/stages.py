"""Stage decisions with public reasons, and the reward an idea earns by reaching the call's
reward stage: paid from escrow to its credited authors, once."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from trefpunt.accounts.models import PortfolioItem
from trefpunt.core.exceptions import Conflict, ErrorCode, NotFound, PermissionDenied
from trefpunt.core.money import split_bps
from trefpunt.ledger.funded import fee_shares, work_escrow_lock, work_pay, work_payees_lock

from ..models import (
    Idea,
    IdeaAuthor,
    IdeaCall,
    RewardedIdea,
    RewardPayment,
    Stage,
    StageChange,
)
from ..selectors import idea_get_for_user
from ..stages import StageMachine
from ..webhooks import idea_stage_changed_emit
from .common import call_work, idea_followers, raise_if, tell, text_clean

if TYPE_CHECKING:
    from trefpunt.accounts.models import User
    from trefpunt.ledger.models import LedgerAccount


def reward_split(amount: int, people: int) -> list[int]:
    """Equal shares; the first credited author (the idea's own) gets the odd cents."""
    if people <= 0:
        return []
    base, rest = divmod(amount, people)
    return [base + (rest if i == 0 else 0) for i in range(people)]


def _reward_pay(
    call: IdeaCall, idea: Idea, escrow: LedgerAccount, user: User
) -> list[RewardPayment]:
    """Pay the idea's reward (escrow already locked). Refuses when every reward is spent."""
    if RewardedIdea.objects.filter(idea=idea).exists():
        return []
    if RewardedIdea.objects.filter(call=call).count() >= call.reward_count:
        raise Conflict(
            _("All %(n)d rewards of this call are paid; choose another stage for this idea.")
            % {"n": call.reward_count},
            code=ErrorCode.REWARDS_USED_UP,
        )
    credits = list(IdeaAuthor.objects.filter(idea=idea).order_by("created_at", "id"))
    shares = reward_split(call.reward_amount, len(credits))
    work = call_work(call)
    work_payees_lock(work=work, escrow=escrow, payee_ids=[c.user_id for c in credits])
    paid_before = sum(RewardPayment.objects.filter(call=call).values_list("gross", flat=True))
    fees = fee_shares(fee=call.client_fee, base=call.reward_budget, amounts=[paid_before, *shares])
    RewardedIdea.objects.create(call=call, idea=idea, amount=call.reward_amount)
    payments = []
    for credit, gross, client_fee in zip(credits, shares, fees[1:], strict=True):
        if gross <= 0:
            continue
        crowd_fee = split_bps(gross, call.crowd_fee_bps)
        entry = work_pay(
            work=work,
            escrow=escrow,
            payee_id=credit.user_id,
            amount=gross,
            crowd_fee=crowd_fee,
            client_fee=client_fee,
            idempotency_key=f"ideacall:{call.pk}:reward:{idea.pk}:{credit.user_id}",
            description=f"Reward for idea {idea.pk}",
            created_by=user,
        )
        payments.append(
            RewardPayment.objects.create(
                call=call,
                idea=idea,
                recipient_id=credit.user_id,
                gross=gross,
                crowd_fee=crowd_fee,
                client_fee=client_fee,
                net=gross - crowd_fee,
                journal_entry=entry,
            )
        )
    if call.is_public:
        for credit in credits:
            _portfolio_add(idea, credit.user_id)
    return payments


def _portfolio_add(idea: Idea, user_id: int) -> None:
    from trefpunt.accounts.services import portfolio_item_create

    portfolio_item_create(
        owner=idea.author if idea.author_id == user_id else _user(user_id),
        title=idea.title[:120],
        description=_("Rewarded idea in “%(call)s”.") % {"call": idea.call.title},
        source=PortfolioItem.Source.IDEA,
        source_ref=f"ideas.idea:{idea.pk}",
    )


def _user(user_id: int) -> User:
    from trefpunt.accounts.models import User as UserModel

    return UserModel.objects.get(pk=user_id)


def idea_stage_move(
    *, idea_id: int, user: User, stage_id: int, reason: str, idempotency_key: str = ""
) -> Idea:
    """Move an idea from the stage it is in to ``stage_id``, with a reason its author and
    followers see. Reaching the call's reward stage pays the reward (once per idea, while
    rewards last). Of two concurrent moves of one idea exactly one happens: the move is
    "from the stage the client saw, if still there".

    Locks: the call's escrow (when the move pays), the call row, then the idea row."""
    access = idea_get_for_user(idea_id=idea_id, user=user)
    idea = access.idea
    if not access.call.can_manage and not access.call.is_staff:
        raise NotFound(_("Idea not found."))
    if not access.can_move_stage:
        if not idea.is_active:
            raise Conflict(_("This idea was merged or taken down."), code=ErrorCode.IDEA_MERGED)
        raise PermissionDenied(
            _("Stages change only while the call runs."), code=ErrorCode.WRONG_STATE
        )
    if idempotency_key and StageMachine([]).replayed(idea.pk, "stage_moved", idempotency_key):
        return idea
    errors: dict[str, str] = {}
    reason = text_clean(errors, StageChange, "reason", reason)
    stages = list(Stage.objects.filter(call_id=idea.call_id))
    target = next((s for s in stages if s.pk == stage_id), None)
    if target is None or target.kind == Stage.Kind.NEW:
        errors["stage"] = _("Choose one of the call's decision stages.")
    raise_if(errors)
    assert target is not None
    if target.pk == idea.stage_id:
        raise Conflict(_("The idea is already in this stage."), code=ErrorCode.SAME_STAGE)
    call = idea.call
    pays = call.has_rewards and call.reward_stage_id == target.pk
    from_stage = idea.stage
    machine = StageMachine(stages, from_stage=from_stage)
    with transaction.atomic(durable=True):
        escrow = work_escrow_lock(call_work(call)) if pays else None
        call = IdeaCall.objects.select_for_update().get(pk=call.pk)
        if call.status not in {IdeaCall.Status.OPEN, IdeaCall.Status.VOTING}:
            raise Conflict(_("The call is closed."), code=ErrorCode.WRONG_STATE)
        machine.move(
            idea,
            str(target.pk),
            action=_("move the idea"),
            actor=user,
            event="stage_moved",
            idempotency_key=idempotency_key,
            data={"from": from_stage.pk, "to": target.pk},
            stage_changed_at=timezone.now(),
        )
        idea.stage = target
        change = StageChange.objects.create(
            idea=idea, from_stage=from_stage, to_stage=target, reason=reason, actor=user
        )
        if escrow is not None:
            idea.call = call
            _reward_pay(call, idea, escrow, user)
        idea_stage_changed_emit(call, idea, change)
    tell(idea_followers(idea), "ideas.stage", idea=idea, skip=user.pk, change_id=change.pk)
    return idea
