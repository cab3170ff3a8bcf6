"""The brief: drafts (every field checked at once), reference files and invitations to a
private contest. No money moves here."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from trefpunt.accounts.models import Organisation
from trefpunt.accounts.selectors import organisations_user_can_post_for
from trefpunt.core.exceptions import Conflict, ErrorCode, NotFound, ValidationFailed
from trefpunt.core.files import file_prepare
from trefpunt.core.money import format_cents

from .. import limits
from ..models import Category, Contest, ContestAttachment, ContestInvitation, Prize
from ..notifications import notify_invited, notify_invited_addresses
from ..rules import brief_edit_refusal, brief_files_refusal, invite_refusal, raise_refusal
from ..selectors import (
    contest_access,
    contest_get_for_manager,
    contest_get_for_user,
    contest_invitation_for_user,
)
from .common import (
    Stored,
    aware,
    contest_event,
    files_delete_on_commit,
    int_clean,
    now,
    text_clean,
)

if TYPE_CHECKING:
    from trefpunt.accounts.models import User

DRAFT_FIELDS = (
    "title",
    "summary",
    "description",
    "category",
    "prizes",
    "finalist_stipend",
    "finalists_max",
    "entry_deadline",
    "judging_days",
    "visibility",
    "max_entries_per_entrant",
    "is_private",
    "nda_text",
    "organisation",
)


def prize_amount_problem(position: int, amount: Any) -> str:
    """What is wrong with one prize amount on its own (empty when nothing): forms check each
    prize with it even while another prize field cannot be read."""
    if isinstance(amount, bool) or not isinstance(amount, int):
        return _("Prize %(n)d must be an amount in cents.") % {"n": position}
    if not limits.PRIZE_MIN_CENTS <= amount <= limits.PRIZE_MAX_CENTS:
        return _("Prize %(n)d must be between %(min)s and %(max)s.") % {
            "n": position,
            "min": format_cents(limits.PRIZE_MIN_CENTS),
            "max": format_cents(limits.PRIZE_MAX_CENTS),
        }
    return ""


def _prizes_clean(errors: dict[str, str], prizes: Any) -> list[int]:
    if not isinstance(prizes, list | tuple) or not 1 <= len(prizes) <= limits.PRIZES_MAX:
        errors["prizes"] = _("Offer one to %(n)d prizes.") % {"n": limits.PRIZES_MAX}
        return []
    cleaned: list[int] = []
    for n, amount in enumerate(prizes, start=1):
        problem = prize_amount_problem(n, amount)
        if problem:
            errors[f"prize_{n}"] = problem
        elif cleaned and amount > cleaned[-1]:
            errors[f"prize_{n}"] = _("Prize %(n)d cannot be larger than prize %(prev)d.") % {
                "n": n,
                "prev": n - 1,
            }
        cleaned.append(amount if isinstance(amount, int) else 0)
    return cleaned


def deadline_clean(errors: dict[str, str], value: Any) -> datetime | None:
    if not isinstance(value, datetime):
        errors["entry_deadline"] = _("Enter the date and time entries close.")
        return None
    value = aware(value)
    moment = now()
    if value < moment + limits.DEADLINE_MIN_AHEAD:
        errors["entry_deadline"] = _(
            "The entry deadline must be at least an hour from now; it is in the past or too soon."
        )
    elif value > moment + limits.DEADLINE_MAX_AHEAD:
        errors["entry_deadline"] = _("The entry deadline can be at most %(n)d days from now.") % {
            "n": limits.DEADLINE_MAX_DAYS
        }
    return value


def _texts_clean(errors: dict[str, str], data: Mapping[str, Any]) -> dict[str, Any]:
    def text(name: str, *, required: bool, limit: int) -> str:
        value = data.get(name) if required else data.get(name) or ""
        return text_clean(errors, name, value, required=required, limit=limit)

    return {
        "title": text("title", required=True, limit=limits.TITLE_MAX),
        "summary": text("summary", required=True, limit=limits.SUMMARY_MAX),
        "description": text("description", required=False, limit=limits.DESCRIPTION_MAX),
        "nda_text": text("nda_text", required=False, limit=limits.NDA_MAX),
    }


def _numbers_clean(errors: dict[str, str], data: Mapping[str, Any]) -> dict[str, Any]:
    out = {
        "finalist_stipend": int_clean(
            errors,
            "finalist_stipend",
            data.get("finalist_stipend", 0),
            low=0,
            high=limits.PRIZE_MAX_CENTS,
            message=_("The stipend must be zero or a positive amount up to %(max)s.")
            % {"max": format_cents(limits.PRIZE_MAX_CENTS)},
        ),
        "finalists_max": int_clean(
            errors,
            "finalists_max",
            data.get("finalists_max", limits.FINALISTS_DEFAULT),
            low=0,
            high=limits.FINALISTS_MAX,
            message=_("Choose between 0 and %(n)d finalists.") % {"n": limits.FINALISTS_MAX},
        ),
        "judging_days": int_clean(
            errors,
            "judging_days",
            data.get("judging_days", limits.JUDGING_DAYS_DEFAULT),
            low=limits.JUDGING_DAYS_MIN,
            high=limits.JUDGING_DAYS_MAX,
            message=_("Judging takes %(min)d to %(n)d days.")
            % {"min": limits.JUDGING_DAYS_MIN, "n": limits.JUDGING_DAYS_MAX},
        ),
        "max_entries_per_entrant": int_clean(
            errors,
            "max_entries_per_entrant",
            data.get("max_entries_per_entrant", limits.ENTRIES_PER_ENTRANT_DEFAULT),
            low=1,
            high=limits.ENTRIES_PER_ENTRANT_MAX,
            message=_("Allow 1 to %(n)d entries per entrant.")
            % {"n": limits.ENTRIES_PER_ENTRANT_MAX},
        ),
    }
    if out["finalist_stipend"] and not out["finalists_max"] and "finalists_max" not in errors:
        errors["finalists_max"] = _("A stipend needs at least one finalist.")
    return out


def _organisation_clean(errors: dict[str, str], user: User, organisation: Any) -> Any:
    if organisation is not None and not isinstance(organisation, Organisation):
        errors["organisation"] = _("Choose an organisation you administer.")
    elif (
        organisation is not None
        and not organisations_user_can_post_for(user=user).filter(pk=organisation.pk).exists()
    ):
        errors["organisation"] = _("You can only post for organisations you own or administer.")
    return organisation


def _draft_clean(user: User, data: Mapping[str, Any]) -> dict[str, Any]:
    """Validate every field of a draft at once; raise one ``ValidationFailed`` naming each
    bad field."""
    errors: dict[str, str] = {}
    out = _texts_clean(errors, data) | _numbers_clean(errors, data)
    if data.get("category") not in Category.values:
        errors["category"] = _("Choose a category.")
    out["category"] = data.get("category")
    out["prizes"] = _prizes_clean(errors, data.get("prizes"))
    out["entry_deadline"] = deadline_clean(errors, data.get("entry_deadline"))
    out["visibility"] = data.get("visibility", Contest.Visibility.OPEN)
    if out["visibility"] not in Contest.Visibility.values:
        errors["visibility"] = _("Choose open or blind.")
    out["is_private"] = bool(data.get("is_private", False))
    out["organisation"] = _organisation_clean(errors, user, data.get("organisation"))
    if errors:
        raise ValidationFailed(fields=errors)
    return out


def _unknown_fields_refuse(fields: Mapping[str, Any]) -> None:
    unknown = set(fields) - set(DRAFT_FIELDS)
    if unknown:
        raise ValidationFailed(fields={name: _("Unknown field.") for name in sorted(unknown)})


def contest_draft_check(*, user: User, **fields: Any) -> None:
    """Validate draft fields without saving anything (``ValidationFailed`` names every bad
    field). Forms use it to show the service's rules next to the fields they could parse
    while other fields still have form errors, so every problem shows at once."""
    _unknown_fields_refuse(fields)
    _draft_clean(user, fields)


def _prizes_replace(contest: Contest, prizes: list[int]) -> None:
    contest.prizes.all().delete()
    Prize.objects.bulk_create(
        [
            Prize(contest=contest, position=n, amount=amount)
            for n, amount in enumerate(prizes, start=1)
        ]
    )
    contest.prize_total = sum(prizes)
    Contest.objects.filter(pk=contest.pk).update(prize_total=contest.prize_total)


def contest_create_draft(
    *,
    user: User,
    title: str,
    summary: str,
    category: str,
    prizes: Sequence[int],
    entry_deadline: datetime,
    description: str = "",
    finalist_stipend: int = 0,
    finalists_max: int = limits.FINALISTS_DEFAULT,
    judging_days: int = limits.JUDGING_DAYS_DEFAULT,
    visibility: str = Contest.Visibility.OPEN,
    max_entries_per_entrant: int = limits.ENTRIES_PER_ENTRANT_DEFAULT,
    is_private: bool = False,
    nda_text: str = "",
    organisation: Organisation | None = None,
) -> Contest:
    """Create a draft brief, posted as ``user`` or as an organisation they administer.
    Nothing is visible to others and no money moves until it is published."""
    data = _draft_clean(
        user,
        {
            "title": title,
            "summary": summary,
            "description": description,
            "category": category,
            "prizes": list(prizes),
            "finalist_stipend": finalist_stipend,
            "finalists_max": finalists_max,
            "entry_deadline": entry_deadline,
            "judging_days": judging_days,
            "visibility": visibility,
            "max_entries_per_entrant": max_entries_per_entrant,
            "is_private": is_private,
            "nda_text": nda_text,
            "organisation": organisation,
        },
    )
    prizes_clean = data.pop("prizes")
    with transaction.atomic(durable=True):
        contest = Contest.objects.create(
            created_by=user, currency=settings.DEFAULT_CURRENCY, **data
        )
        _prizes_replace(contest, prizes_clean)
        contest_event(contest, "created", user)
    return contest


def contest_update_draft(*, contest_id: int, user: User, **changes: Any) -> Contest:
    """Change any fields of a draft (the others stay); the whole result is validated.
    Locks the contest row, so a publish cannot slip in between check and write."""
    _unknown_fields_refuse(changes)
    contest = contest_get_for_manager(contest_id=contest_id, user=user)
    raise_refusal(brief_edit_refusal(contest))
    current: dict[str, Any] = {
        name: getattr(contest, name) for name in DRAFT_FIELDS if name not in {"prizes"}
    }
    current["prizes"] = [p.amount for p in contest.prizes.all()]
    current.update(changes)
    data = _draft_clean(user, current)
    prizes_clean = data.pop("prizes")
    with transaction.atomic(durable=True):
        locked = Contest.objects.select_for_update().get(pk=contest.pk)
        raise_refusal(brief_edit_refusal(locked))
        for name, value in data.items():
            setattr(locked, name, value)
        locked.save()
        _prizes_replace(locked, prizes_clean)
        contest_event(locked, "edited", user)
    return contest_get_for_manager(contest_id=contest.pk, user=user)


def contest_attachment_add(*, contest_id: int, user: User, upload: Any) -> ContestAttachment:
    """Attach a reference file to the brief (draft or open contest). The file is checked
    and stored before the short transaction that records it."""
    contest = contest_get_for_manager(contest_id=contest_id, user=user)
    raise_refusal(brief_files_refusal(contest, _("add reference files")))
    if contest.attachments.count() >= limits.ATTACHMENTS_MAX:
        raise ValidationFailed(
            fields={"file": _("At most %(n)d reference files.") % {"n": limits.ATTACHMENTS_MAX}}
        )
    derived = file_prepare(upload, field="file", derive=False)
    attachment = ContestAttachment(
        contest=contest,
        original_name=derived.original_name,
        kind=derived.kind,
        size=derived.size,
    )
    stored = Stored([])
    try:
        stored.put(attachment.file, derived.name(), derived.content)
        with transaction.atomic(durable=True):
            attachment.save()
    except Exception:
        stored.discard()
        raise
    return attachment


def contest_attachment_remove(*, contest_id: int, user: User, attachment_id: int) -> None:
    contest = contest_get_for_manager(contest_id=contest_id, user=user)
    attachment = contest.attachments.filter(pk=attachment_id).first()
    if attachment is None:
        raise NotFound(_("File not found."))
    raise_refusal(brief_files_refusal(contest, _("remove reference files")))
    with transaction.atomic(durable=True):
        attachment.delete()
        files_delete_on_commit([attachment.file])


def _invitee_find(who: str) -> tuple[User | None, str]:
    """The member with this handle or address, or else the address to invite by email."""
    from trefpunt.accounts.models import User as UserModel

    text = (who or "").strip().lstrip("@")
    invitee = (
        UserModel.objects.filter(Q(email__iexact=text) | Q(profile__handle=text.lower()))
        .filter(is_active=True)
        .first()
        if text
        else None
    )
    if invitee is not None:
        return invitee, ""
    try:
        validate_email(text)
    except DjangoValidationError:
        raise ValidationFailed(
            fields={"who": _("No member with this handle; enter their email address instead.")}
        ) from None
    if UserModel.objects.filter(email__iexact=text).exists():
        # An account that is not active (suspended or closed) is not invited.
        raise ValidationFailed(fields={"who": _("This member cannot be invited.")})
    return None, text.lower()


def contest_invite(*, contest_id: int, user: User, who: str) -> ContestInvitation:
    """Invite someone to a private contest: a member by handle or email address, anyone
    else by email address (they sign up with it to join). An open contest's invitee is told
    at once; a draft's are told when it is published."""
    contest = contest_get_for_manager(contest_id=contest_id, user=user)
    raise_refusal(invite_refusal(contest))
    invitee, email = _invitee_find(who)
    if invitee is not None and contest_access(contest, invitee).can_manage:
        raise ValidationFailed(fields={"who": _("This member already manages the contest.")})
    with transaction.atomic(durable=True):
        try:
            with transaction.atomic():
                invitation, created = ContestInvitation.objects.get_or_create(
                    contest=contest, user=invitee, email=email, defaults={"invited_by": user}
                )
        except IntegrityError:
            created = False
        if not created:
            raise ValidationFailed(fields={"who": _("This member is already invited.")})
        if contest.status == Contest.Status.OPEN:
            if invitee is not None:
                notify_invited(contest, [invitee])
            else:
                notify_invited_addresses(contest, [email])
    return invitation


def contest_invitation_claim(*, contest_id: int, user: User) -> ContestInvitation:
    """The invitation link, opened by a logged-in ``user``: their invitation to the
    published private contest, or one sent to an address of theirs that they verified
    (which becomes theirs). Anything else is not found, so the link tells nobody else that
    the contest exists."""
    from allauth.account.models import EmailAddress

    invitation = contest_invitation_for_user(contest_id=contest_id, user=user)
    if invitation is not None:
        return invitation
    verified = EmailAddress.objects.filter(user=user, verified=True).values_list("email", flat=True)
    addresses = [address.lower() for address in verified]
    with transaction.atomic(durable=True):
        pending = (
            ContestInvitation.objects.select_for_update()
            .filter(
                contest_id=contest_id,
                contest__is_private=True,
                user__isnull=True,
                email__in=addresses,
            )
            .exclude(contest__status=Contest.Status.DRAFT)
            .first()
        )
        if pending is None:
            raise NotFound(_("Contest not found."))
        pending.user = user
        pending.save(update_fields=["user"])
        contest_event(pending.contest, "invitation_claimed", user, invitation=pending.pk)
    return pending


def contest_nda_accept(*, contest_id: int, user: User) -> ContestInvitation:
    """An invitee accepts the contest's NDA; from then on they see the brief, its files and
    the entries. The moment and the version of the text are kept (and an event recorded).
    Accepting again the same text changes nothing."""
    access = contest_get_for_user(contest_id=contest_id, user=user)
    contest = access.contest
    if not access.is_invited or not contest.has_nda:
        raise Conflict(
            _("Only people invited to a private contest with an NDA accept it."),
            code=ErrorCode.NO_NDA,
        )
    version = contest.nda_version
    with transaction.atomic(durable=True):
        accepted = (
            ContestInvitation.objects.filter(contest=contest, user=user)
            .exclude(nda_version=version)
            .update(nda_accepted_at=now(), nda_version=version)
        )
        if accepted:
            contest_event(contest, "nda_accepted", user, version=version)
    return ContestInvitation.objects.get(contest=contest, user=user)
