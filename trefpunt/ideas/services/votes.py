"""Votes: one per verified person per idea (up-votes), or points from a budget spread over
the call's ideas; changeable until the voting deadline.

Locks: the idea row, then the voter's participant row (one per person and call), then the
vote. The participant lock serialises one person's votes in a call, so a repeated vote finds
the first (counted once) and two budget votes at once cannot overspend; the unique
(idea, voter) key is the last guard."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.translation import gettext as _

from trefpunt.core.exceptions import Conflict, ErrorCode, PermissionDenied, ValidationFailed

from ..models import Idea, IdeaCall, Participant, Vote
from ..selectors import IdeaAccess, idea_get_for_user
from .common import require_verified

if TYPE_CHECKING:
    from trefpunt.accounts.models import User


def _vote_check(access: IdeaAccess, user: User) -> None:
    if access.is_author:
        raise PermissionDenied(_("You cannot vote for your own idea."), code=ErrorCode.OWN_IDEA)
    if not access.idea.is_active:
        raise Conflict(_("This idea was merged or taken down."), code=ErrorCode.IDEA_MERGED)
    if not access.call.voting_open:
        raise Conflict(_("Voting has ended for this call."), code=ErrorCode.VOTING_CLOSED)
    require_verified(user)


def _participant_lock(call: IdeaCall, user: User) -> Participant:
    Participant.objects.get_or_create(call=call, user=user)
    return Participant.objects.select_for_update().get(call=call, user=user)


def _locked_idea(idea_id: int) -> Idea:
    idea = Idea.objects.select_for_update().get(pk=idea_id)
    if not idea.is_active:
        raise Conflict(_("This idea was merged or taken down."), code=ErrorCode.IDEA_MERGED)
    return idea


def _points_clean(call: IdeaCall, points: int | None) -> int:
    if not call.is_budget:
        return 1
    if points is None or not 1 <= int(points) <= call.budget_points:
        raise ValidationFailed(
            fields={"points": _("Give between 1 and %(n)d points.") % {"n": call.budget_points}}
        )
    return int(points)


def idea_vote(*, idea_id: int, user: User, points: int | None = None) -> Vote:
    """Vote for an idea (or, in budget voting, set the points given to it). Voting again
    changes nothing in up-vote mode: the vote counts once."""
    access = idea_get_for_user(idea_id=idea_id, user=user)
    _vote_check(access, user)
    call = access.call.call
    wanted = _points_clean(call, points)
    with transaction.atomic(durable=True):
        _locked_idea(idea_id)
        participant = _participant_lock(call, user)
        existing = Vote.objects.filter(idea_id=idea_id, voter=user).first()
        delta = wanted - (existing.points if existing else 0)
        if existing is not None and delta == 0:
            return existing
        if call.is_budget and participant.points_spent + delta > call.budget_points:
            raise Conflict(
                _("You have %(n)d points left in this call.")
                % {"n": call.budget_points - participant.points_spent},
                code=ErrorCode.BUDGET_EXCEEDED,
            )
        if existing is None:
            try:
                with transaction.atomic():
                    existing = Vote.objects.create(
                        idea_id=idea_id,
                        call=call,
                        voter=user,
                        points=wanted,
                        new_account=bool(
                            call.published_at and user.date_joined > call.published_at
                        ),
                    )
            except IntegrityError:  # pragma: no cover - the participant lock prevents it
                return Vote.objects.get(idea_id=idea_id, voter=user)
            Idea.objects.filter(pk=idea_id).update(
                score=F("score") + wanted, voter_count=F("voter_count") + 1
            )
        else:
            Vote.objects.filter(pk=existing.pk).update(points=wanted)
            existing.points = wanted
            Idea.objects.filter(pk=idea_id).update(score=F("score") + delta)
        Participant.objects.filter(pk=participant.pk).update(points_spent=F("points_spent") + delta)
    return existing


def idea_unvote(*, idea_id: int, user: User) -> bool:
    """Take a vote back (until the voting deadline). Returns whether there was one."""
    access = idea_get_for_user(idea_id=idea_id, user=user)
    if not access.call.voting_open:
        raise Conflict(_("Voting has ended for this call."), code=ErrorCode.VOTING_CLOSED)
    call = access.call.call
    with transaction.atomic(durable=True):
        Idea.objects.select_for_update().get(pk=idea_id)
        participant = _participant_lock(call, user)
        vote = Vote.objects.filter(idea_id=idea_id, voter=user).first()
        if vote is None:
            return False
        vote.delete()
        Idea.objects.filter(pk=idea_id).update(
            score=F("score") - vote.points, voter_count=F("voter_count") - 1
        )
        Participant.objects.filter(pk=participant.pk).update(
            points_spent=F("points_spent") - vote.points
        )
    return True
