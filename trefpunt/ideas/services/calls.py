"""A call from draft to closed: write the draft (question, stages, tags, audience, rewards),
publish it (rewards into escrow), move it to voting at the submission deadline, close it
(every idea answered; unspent rewards back to the payer)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from trefpunt.accounts.models import Organisation
from trefpunt.accounts.selectors import organisations_user_can_post_for
from trefpunt.core.exceptions import Conflict, ErrorCode, ValidationFailed
from trefpunt.core.files import file_prepare
from trefpunt.core.money import split_bps
from trefpunt.core.states import event_record
from trefpunt.ledger.funded import (
    escrow_balance,
    work_deposit_shortfall,
    work_escrow_lock,
    work_escrow_lookup,
    work_fund,
    work_refund,
)

from ..models import CallInvitation, CallTag, Idea, IdeaCall, Stage, StageChange
from ..selectors import call_access, call_get_for_manager
from ..stages import CALL_STATES, DEFAULT_STAGES, NOT_SELECTED_KEY, REWARD_STAGE_KEY
from .common import MAX_TAGS, call_work, idea_followers, raise_if, tell, text_clean

if TYPE_CHECKING:
    from trefpunt.accounts.models import User
    from trefpunt.ledger.models import Deposit

MAX_REWARD_CENTS = 10_000_000
C = IdeaCall.Status


# --- the draft ---------------------------------------------------------------------------


def _organisation_clean(errors: dict[str, str], user: User, slug: Any) -> Organisation | None:
    if not slug:
        return None
    organisation = organisations_user_can_post_for(user=user).filter(slug=str(slug)).first()
    if organisation is None:
        errors["organisation"] = _("You can post only for organisations you own or run.")
    return organisation


def _deadlines_clean(errors: dict[str, str], data: Mapping[str, Any]) -> None:
    submit, vote = data.get("submission_deadline"), data.get("voting_deadline")
    if not isinstance(submit, datetime):
        errors["submission_deadline"] = _("Enter a date and time.")
    elif submit <= timezone.now():
        errors["submission_deadline"] = _("Choose a moment in the future.")
    if not isinstance(vote, datetime):
        errors["voting_deadline"] = _("Enter a date and time.")
    elif isinstance(submit, datetime) and vote < submit:
        errors["voting_deadline"] = _("Voting cannot end before ideas close.")


def _int_clean(errors: dict[str, str], name: str, value: Any, low: int, high: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        errors[name] = _("Enter a whole number.")
        return low
    if not low <= number <= high:
        errors[name] = _("Between %(low)d and %(high)d.") % {"low": low, "high": high}
    return number


def _choice_clean(errors: dict[str, str], name: str, value: Any, choices: Any) -> str:
    text = str(value or "")
    if text not in {c.value for c in choices}:
        errors[name] = _("Choose one of the options.")
    return text


def tags_parse(raw: Any) -> list[str]:
    """Tags from a list or a comma-separated text, without duplicates, in order."""
    items = raw if isinstance(raw, list | tuple) else str(raw or "").split(",")
    seen: dict[str, str] = {}
    for item in items:
        name = str(item).strip()
        if name and slugify(name) and slugify(name) not in seen:
            seen[slugify(name)] = name
    return list(seen.values())


def _tags_clean(errors: dict[str, str], raw: Any) -> list[str]:
    names = tags_parse(raw)
    most = CallTag._meta.get_field("name").max_length or 40
    if len(names) > MAX_TAGS:
        errors["tags"] = _("At most %(n)d tags.") % {"n": MAX_TAGS}
    elif any(len(n) > most for n in names):
        errors["tags"] = _("A tag has at most %(n)d characters.") % {"n": most}
    return names


def _draft_clean(user: User, data: Mapping[str, Any]) -> dict[str, Any]:
    errors: dict[str, str] = {}
    fields: dict[str, Any] = {
        "title": text_clean(errors, IdeaCall, "title", data.get("title")),
        "question": text_clean(errors, IdeaCall, "question", data.get("question")),
        "description": text_clean(
            errors, IdeaCall, "description", data.get("description"), required=False
        ),
        "audience": _choice_clean(errors, "audience", data.get("audience"), IdeaCall.Audience),
        "voting_mode": _choice_clean(
            errors, "voting_mode", data.get("voting_mode"), IdeaCall.VotingMode
        ),
        "budget_points": _int_clean(
            errors, "budget_points", data.get("budget_points", 10), 1, 1000
        ),
        "reward_amount": _int_clean(
            errors, "reward_amount", data.get("reward_amount") or 0, 0, MAX_REWARD_CENTS
        ),
        "reward_count": _int_clean(errors, "reward_count", data.get("reward_count") or 0, 0, 100),
        "submission_deadline": data.get("submission_deadline"),
        "voting_deadline": data.get("voting_deadline"),
        "organisation": _organisation_clean(errors, user, data.get("organisation")),
        "tags": _tags_clean(errors, data.get("tags", [])),
    }
    _deadlines_clean(errors, data)
    if fields["audience"] == IdeaCall.Audience.ORGANISATION and fields["organisation"] is None:
        errors.setdefault(
            "audience", _("Post the call for an organisation to limit it to its members.")
        )
    if bool(fields["reward_amount"]) != bool(fields["reward_count"]):
        errors.setdefault("reward_count", _("Give both the reward and how many ideas get it."))
    raise_if(errors)
    return fields


def call_draft_check(*, user: User, **data: Any) -> None:
    """The draft's rules without saving (a form shows every problem at once)."""
    _draft_clean(user, data)


def _tags_replace(call: IdeaCall, names: Sequence[str]) -> None:
    keep = {slugify(n): n for n in names}
    CallTag.objects.filter(call=call).exclude(slug__in=list(keep)).delete()
    existing = set(CallTag.objects.filter(call=call).values_list("slug", flat=True))
    CallTag.objects.bulk_create(
        [CallTag(call=call, name=n, slug=s[:50]) for s, n in keep.items() if s not in existing]
    )


def _cover_store(call: IdeaCall, upload: Any) -> None:
    derived = file_prepare(upload, field="cover", kinds=frozenset({"image"}))
    call.cover.save(derived.name(), ContentFile(derived.content), save=False)
    call.cover_thumb.save(
        derived.name("-t", "webp"), ContentFile(derived.preview_clean), save=False
    )


def call_create_draft(*, user: User, cover: Any = None, **data: Any) -> IdeaCall:
    """A new draft with the default stages (the reward stage is "selected")."""
    fields = _draft_clean(user, data)
    tags = fields.pop("tags")
    with transaction.atomic(durable=True):
        call = IdeaCall(created_by=user, **fields)
        if cover:
            _cover_store(call, cover)
        call.save()
        stages = Stage.objects.bulk_create(
            [
                Stage(call=call, position=i, key=key, kind=kind)
                for i, (key, kind) in enumerate(DEFAULT_STAGES)
            ]
        )
        call.reward_stage = next(s for s in stages if s.key == REWARD_STAGE_KEY)
        call.save(update_fields=["reward_stage"])
        _tags_replace(call, tags)
        event_record(subject="ideacall", subject_id=call.pk, kind="created", actor=user)
    return call


def call_update_draft(*, call_id: int, user: User, cover: Any = None, **data: Any) -> IdeaCall:
    call = call_get_for_manager(call_id=call_id, user=user)
    CALL_STATES.check(call, C.OPEN, _("edit the call"))
    fields = _draft_clean(user, data)
    tags = fields.pop("tags")
    reward_stage_id = data.get("reward_stage_id")
    with transaction.atomic(durable=True):
        updated = IdeaCall.objects.filter(pk=call.pk, status=C.DRAFT).update(**fields)
        if not updated:
            raise CALL_STATES.wrong_state(call, _("edit the call"))
        for name, value in fields.items():
            setattr(call, name, value)
        if reward_stage_id:
            call.reward_stage = Stage.objects.get(call=call, pk=int(reward_stage_id))
            call.save(update_fields=["reward_stage"])
        if cover:
            _cover_store(call, cover)
            call.save(update_fields=["cover", "cover_thumb"])
        _tags_replace(call, tags)
    return call


def call_stage_save(
    *,
    call_id: int,
    user: User,
    name: str,
    kind: str = Stage.Kind.ACTIVE,
    stage_id: int | None = None,
) -> Stage:
    """Rename a stage (``stage_id``) or add one at the end of the pipeline."""
    call = call_get_for_manager(call_id=call_id, user=user)
    if call.status == C.CLOSED:
        raise CALL_STATES.wrong_state(call, _("change the stages"))
    errors: dict[str, str] = {}
    name = text_clean(errors, Stage, "name", name)
    if stage_id is None and kind not in {
        Stage.Kind.ACTIVE,
        Stage.Kind.ACCEPTED,
        Stage.Kind.DECLINED,
    }:
        errors["kind"] = _("Choose one of the options.")
    raise_if(errors)
    if stage_id is not None:
        stage = Stage.objects.filter(call=call, pk=stage_id).first()
        if stage is None:
            raise ValidationFailed(fields={"stage": _("This stage is not part of the call.")})
        stage.name = name
        stage.save(update_fields=["name"])
        return stage
    with transaction.atomic(durable=True):
        IdeaCall.objects.select_for_update().filter(pk=call.pk).first()
        last = Stage.objects.filter(call=call).order_by("-position").first()
        return Stage.objects.create(
            call=call, position=(last.position + 1) if last else 0, name=name, kind=kind
        )


def call_invite(*, call_id: int, user: User, who: str) -> CallInvitation:
    """Invite a member (by handle or email) to an invite-only call."""
    from trefpunt.accounts.models import User as UserModel

    call = call_get_for_manager(call_id=call_id, user=user)
    if call.audience != IdeaCall.Audience.INVITED:
        raise Conflict(_("Only invite-only calls have invitations."), code=ErrorCode.NOT_PRIVATE)
    if call.status == C.CLOSED:
        raise CALL_STATES.wrong_state(call, _("invite people"))
    text = (who or "").strip().lstrip("@")
    invitee = (
        UserModel.objects.filter(Q(email__iexact=text) | Q(profile__handle=text.lower()))
        .filter(is_active=True)
        .first()
        if text
        else None
    )
    if invitee is None:
        raise ValidationFailed(fields={"who": _("No member with this handle or email address.")})
    if call_access(call, invitee).can_manage:
        raise ValidationFailed(fields={"who": _("This member already runs the call.")})
    invitation, created = CallInvitation.objects.get_or_create(
        call=call, user=invitee, defaults={"invited_by": user}
    )
    if not created:
        raise ValidationFailed(fields={"who": _("This member is already invited.")})
    return invitation


# --- publish ------------------------------------------------------------------------------


def _publish_check(call: IdeaCall) -> None:
    CALL_STATES.check(call, C.OPEN, _("publish the call"))
    if call.submission_deadline <= timezone.now():
        raise ValidationFailed(
            fields={"submission_deadline": _("Ideas must close in the future: change the date.")}
        )
    if call.has_rewards and call.reward_stage_id is None:
        raise ValidationFailed(fields={"reward_stage": _("Choose the stage that pays the reward.")})


def call_funding_total(call: IdeaCall) -> tuple[int, int]:
    """(rewards, client fee) that publishing moves into escrow."""
    fee = split_bps(call.reward_budget, int(settings.FEES_BPS["ideas"]["client"]))
    return call.reward_budget, fee


def call_publish(*, call_id: int, user: User, idempotency_key: str = "") -> IdeaCall:
    """Open the call; with rewards, move them and the client fee from the payer's wallet into
    the call's escrow first (too little refuses with ``insufficient_funds``, nothing moves).

    Locks: the call's escrow, then the call row (the platform's order)."""
    call = call_get_for_manager(call_id=call_id, user=user)
    if idempotency_key and CALL_STATES.replayed(call.pk, "published", idempotency_key):
        return call
    _publish_check(call)
    rewards, fee = call_funding_total(call)
    bps = settings.FEES_BPS["ideas"]
    work = call_work(call)
    with transaction.atomic(durable=True):
        escrow = work_escrow_lock(work) if rewards else None
        call = IdeaCall.objects.select_for_update().get(pk=call.pk)
        _publish_check(call)
        if escrow is not None:
            work_fund(
                work=work,
                escrow=escrow,
                amount=rewards + fee,
                idempotency_key=f"ideacall:{call.pk}:fund",
                description=f"Rewards of idea call {call.pk}",
                created_by=user,
            )
        CALL_STATES.move(
            call,
            C.OPEN,
            action=_("publish the call"),
            actor=user,
            event="published",
            idempotency_key=idempotency_key,
            data={"funded": rewards + fee},
            published_at=timezone.now(),
            client_fee_bps=int(bps["client"]),
            crowd_fee_bps=int(bps["crowd"]),
            client_fee=fee,
            funded_amount=rewards + fee,
        )
    return call


def call_deposit_shortfall(*, call_id: int, user: User, return_path: str) -> Deposit:
    call = call_get_for_manager(call_id=call_id, user=user)
    rewards, fee = call_funding_total(call)
    return work_deposit_shortfall(
        work=call_work(call), user=user, total=rewards + fee, return_path=return_path
    )


# --- voting, closing ----------------------------------------------------------------------


def call_voting_start(*, call_id: int, user: User | None = None) -> bool:
    """Open → voting: by the sweep once the submission deadline passed (harmless twice), or
    earlier by a manager (``user``) who has ideas enough and wants the votes to start."""
    call = (
        call_get_for_manager(call_id=call_id, user=user)
        if user is not None
        else IdeaCall.objects.filter(pk=call_id).first()
    )
    if call is None or call.status != C.OPEN:
        if user is not None and call is not None:
            raise CALL_STATES.wrong_state(call, _("start the voting"))
        return False
    if user is None and call.submission_deadline > timezone.now():
        return False
    with transaction.atomic(durable=True):
        updated = IdeaCall.objects.filter(pk=call.pk, status=C.OPEN).update(
            status=C.VOTING, voting_started_at=timezone.now()
        )
        if updated:
            event_record(subject="ideacall", subject_id=call.pk, kind="voting_started", actor=user)
    return bool(updated)


def calls_sweep() -> list[int]:
    """Every open call whose submission deadline passed moves to voting."""
    due = IdeaCall.objects.filter(status=C.OPEN, submission_deadline__lte=timezone.now())
    return [pk for pk in due.values_list("pk", flat=True) if call_voting_start(call_id=pk)]


def _undecided(call: IdeaCall) -> list[Idea]:
    return list(
        Idea.objects.filter(call=call, status=Idea.Status.ACTIVE, stage__kind=Stage.Kind.NEW)
    )


def _close_undecided(call: IdeaCall, ideas: Sequence[Idea], reason: str, user: User) -> None:
    declined = Stage.objects.filter(call=call, kind=Stage.Kind.DECLINED)
    target = declined.filter(key=NOT_SELECTED_KEY).first() or declined.order_by("position").first()
    if target is None:
        target = Stage.objects.create(
            call=call,
            position=Stage.objects.filter(call=call).count() + 100,
            key=NOT_SELECTED_KEY,
            kind=Stage.Kind.DECLINED,
        )
    now = timezone.now()
    for idea in ideas:
        moved = Idea.objects.filter(pk=idea.pk, stage_id=idea.stage_id).update(
            stage=target, stage_changed_at=now
        )
        if moved:
            change = StageChange.objects.create(
                idea=idea, from_stage_id=idea.stage_id, to_stage=target, reason=reason, actor=user
            )
            tell(idea_followers(idea), "ideas.stage", idea=idea, skip=user.pk, change_id=change.pk)


def call_close(
    *, call_id: int, user: User, reason: str = "", idempotency_key: str = ""
) -> IdeaCall:
    """Close the call. Ideas still without any stage decision block it, unless ``reason`` is
    given: then they all move to "not selected" with that reason. What the escrow still holds
    (unspent rewards and their share of the fee) goes back to the payer.

    Locks: the escrow, then the call row."""
    call = call_get_for_manager(call_id=call_id, user=user)
    if idempotency_key and CALL_STATES.replayed(call.pk, "closed", idempotency_key):
        return call
    CALL_STATES.check(call, C.CLOSED, _("close the call"))
    errors: dict[str, str] = {}
    reason = text_clean(errors, IdeaCall, "close_reason", reason, required=False)
    raise_if(errors)
    undecided = _undecided(call)
    if undecided and not reason:
        raise Conflict(
            ngettext(
                "%(n)d idea has no decision yet. Decide it, or close it with a reason the "
                "author will see.",
                "%(n)d ideas have no decision yet. Decide them, or close them all with one "
                "reason the authors will see.",
                len(undecided),
            )
            % {"n": len(undecided)},
            code=ErrorCode.UNDECIDED_IDEAS,
        )
    work = call_work(call)
    with transaction.atomic(durable=True):
        escrow = work_escrow_lock(work) if work_escrow_lookup(work) else None
        call = IdeaCall.objects.select_for_update().get(pk=call.pk)
        undecided = _undecided(call)
        if undecided and not reason:
            raise Conflict(
                _("New ideas came in; decide them first."), code=ErrorCode.UNDECIDED_IDEAS
            )
        _close_undecided(call, undecided, reason, user)
        CALL_STATES.move(
            call,
            C.CLOSED,
            action=_("close the call"),
            actor=user,
            event="closed",
            idempotency_key=idempotency_key,
            data={"closed_undecided": len(undecided)},
            closed_at=timezone.now(),
            close_reason=reason,
        )
        if escrow is not None and escrow_balance(escrow) > 0:
            work_refund(
                work=work,
                escrow=escrow,
                idempotency_key=f"ideacall:{call.pk}:refund",
                description=f"Unspent rewards of idea call {call.pk}",
                created_by=user,
            )
    return call


def call_take_down(*, call_id: int, staff: User) -> tuple[IdeaCall, int, list[int]]:
    """Staff end a call that breaks the rules (``moderation``): it closes whatever its
    ideas, those without a decision move to "not selected", and what the escrow still holds
    goes back to the wallet that paid in. Returns the call, the refund and the idea authors
    to tell. Locks escrow → call, like ``call_close``. Only staff; others get not-found."""
    from trefpunt.core.exceptions import NotFound

    call = IdeaCall.objects.filter(pk=call_id).first()
    if call is None or not staff.is_staff:
        raise NotFound(_("Idea call not found."))
    CALL_STATES.check(call, C.CLOSED, _("take down"))
    work = call_work(call)
    reason = _("The call was taken down by the platform's moderators.")
    with transaction.atomic(durable=True):
        escrow = work_escrow_lock(work) if work_escrow_lookup(work) else None
        call = IdeaCall.objects.select_for_update().get(pk=call.pk)
        CALL_STATES.check(call, C.CLOSED, _("take down"))
        undecided = _undecided(call)
        _close_undecided(call, undecided, reason, staff)
        CALL_STATES.move(
            call,
            C.CLOSED,
            action=_("take down"),
            actor=staff,
            event="closed",
            data={"closed_undecided": len(undecided), "taken_down": True},
            closed_at=timezone.now(),
            close_reason=reason,
        )
        refunded = 0
        if escrow is not None and escrow_balance(escrow) > 0:
            refunded = work_refund(
                work=work,
                escrow=escrow,
                idempotency_key=f"ideacall:{call.pk}:refund",
                description=f"Idea call {call.pk} taken down by staff",
                created_by=staff,
            )
        authors = sorted(set(Idea.objects.filter(call=call).values_list("author_id", flat=True)))
    return IdeaCall.objects.get(pk=call.pk), refunded, authors
