"""Every write to contests and entries.

Lock order (the platform's one order, see ``ledger/services.py``): the contest's
escrow account (``account_lock``) first, then the contest row
(``select_for_update``), then its entries by ascending id, then the wallets
and the revenue account the payments touch, in ascending id, before posting.
Services that do not move money skip the escrow and start at the contest row.
Every state change is a conditional update whose row count is checked, so of two
concurrent moves exactly one wins and the other answers ``Conflict``.

Money (all integer cents, fees fixed on the contest when it is published):

* **Publish** moves prize pool + stipend budget (stipend × finalists at most) +
  client fee (``FEES_BPS["contest"]["client"]`` of those two, rounded half up)
  from the paying wallet (the poster's, or the organisation's) into the
  contest's escrow, in one journal entry ``contest:{id}:fund``.
* **Award / guarantee** release one journal entry per payment: the gross
  amount minus the crowd fee to the crowd member's wallet, the crowd fee and a
  share of the client fee to platform revenue. The client fee is shared out in
  proportion to the money paid by *cumulative flooring*: after the payments
  ``g1..gk`` the fee released so far is ``floor(fee × (g1+…+gk) / base)`` with
  ``base`` = prize pool + stipend budget; what is left of the fee goes back
  with the unused stipend budget in the refund ``contest:{id}:refund``. So the
  escrow always ends at exactly zero and no cent is created or lost.
* A prize split among several entries gives each ``floor(prize / n)``; the
  ``prize mod n`` cents that do not divide go one each to the earliest
  submitted entries (lowest entry number) — the stated party for rounding.
* **Cancel** (from draft, or open without entries) refunds the whole escrow.

The guarantee (``contest_guarantee``) and why a client cannot game it: a prize the client
has not awarded when judging ends is split equally among the finalists, or, without
finalists, among every entry that *shares in the guarantee*: every entry that was not
withdrawn, **declined ones included**. A decline tells the entrant the client will not
choose the entry; it does not take it out of the guarantee — otherwise a client could
decline everything and take the prize back. Only a decline for a rule break (reason code
``copied`` or ``rules``) that **staff upheld** (``entry_decline_review``) before the split
takes an entry out; a rule-break decline still waiting for review counts as eligible. So
the money goes back to the client only when nobody entered, every entrant withdrew, or
staff found every remaining entry copied or against the rules.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any, Final

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Max, Q
from django.db.models.fields.files import FieldFile
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from trefpunt.accounts.models import Membership, Organisation, PortfolioItem, Role
from trefpunt.accounts.selectors import organisations_user_can_post_for
from trefpunt.core.exceptions import (
    Conflict,
    ErrorCode,
    InsufficientFunds,
    NotFound,
    ValidationFailed,
)
from trefpunt.core.files import Derived, file_prepare
from trefpunt.core.money import format_cents, split_bps
from trefpunt.core.originality import is_near_duplicate
from trefpunt.ledger.models import AccountKind, LedgerAccount
from trefpunt.ledger.services import (
    account_lock,
    accounts_lock,
    deposit_create,
    escrow_account,
    escrow_fund,
    escrow_refund,
    escrow_release,
    system_account,
    wallet_for_organisation,
    wallet_for_user,
)

from .models import (
    Category,
    Contest,
    ContestAttachment,
    ContestEvent,
    ContestInvitation,
    Entry,
    EntryFile,
    EntryFlag,
    EntryVersion,
    Handover,
    HandoverFile,
    Payment,
    Prize,
    RightsTransfer,
)
from .selectors import (
    ACTIVE_ENTRY,
    contest_access,
    contest_amounts,
    contest_get_for_manager,
    entry_get_for_user,
)

if TYPE_CHECKING:
    from trefpunt.accounts.models import User
    from trefpunt.ledger.models import Deposit

logger = logging.getLogger(__name__)

PRIZE_MIN_CENTS = 100
PRIZE_MAX_CENTS = 10_000_000
MAX_PRIZES = 3
DEADLINE_MIN_AHEAD = timedelta(hours=1)
DEADLINE_MAX_AHEAD = timedelta(days=90)
JUDGING_DAYS_MAX = 30
FINALISTS_MAX = 10
MAX_ENTRIES_PER_ENTRANT = 20
MAX_FILES_PER_VERSION = 5
MAX_ATTACHMENTS = 10
EARLY_CLOSE_MIN_ENTRIES = 5
AUTO_CONFIRM_AFTER = timedelta(days=7)
DECLINE_REASON_MIN = 10

RIGHTS_AGREEMENT_VERSION = "2025-1"
RIGHTS_AGREEMENT_TEXT = (
    "Transfer of rights, version 2025-1. With the confirmed handover of the final files, "
    "the creator transfers to the client all transferable intellectual property rights in "
    "the winning entry and the final files, worldwide and without limit in time, in "
    "exchange for the prize paid through Trefpunt. The creator declares that the work is "
    "their own original work and that it does not infringe the rights of others. Unless "
    "the contest was private, the creator may show the work in their portfolio."
)


class _Keep:
    """Marker for 'leave this field as it is' in partial updates."""

    def __repr__(self) -> str:
        return "KEEP"


KEEP: Final = _Keep()


def _now() -> datetime:
    return timezone.now()


def _event(
    contest: Contest,
    kind: str,
    actor: User | None,
    idempotency_key: str = "",
    **data: Any,
) -> ContestEvent:
    return ContestEvent.objects.create(
        contest=contest, kind=kind, actor=actor, idempotency_key=idempotency_key, data=data
    )


def _replayed(contest_id: int, kind: str, idempotency_key: str) -> bool:
    return (
        bool(idempotency_key)
        and ContestEvent.objects.filter(
            contest_id=contest_id, kind=kind, idempotency_key=idempotency_key
        ).exists()
    )


def _notify(user: User, subject: str, body: str) -> None:
    """Email after commit; a failing mail server never undoes the transition."""

    def send() -> None:
        try:
            send_mail(subject, body, None, [user.email])
        except Exception:  # pragma: no cover - logged, not fatal
            logger.exception("could not email user %s", user.pk)

    transaction.on_commit(send)


def _contest_managers(contest: Contest) -> list[User]:
    """Who acts for the client: the poster, or the active owners and admins of the
    organisation the contest is posted for (the same people ``contest_can_manage`` lets
    in; the poster may have left the organisation since)."""
    if contest.organisation_id is None:
        return [contest.created_by]
    return [
        membership.user
        for membership in Membership.objects.filter(
            organisation_id=contest.organisation_id,
            role__in=[Role.OWNER, Role.ADMIN],
            user__is_active=True,
        )
        .select_related("user")
        .order_by("user_id")
    ]


def _url(path: str) -> str:
    return settings.SITE_URL + path


def _status_label(contest: Contest) -> str:
    return str(Contest.Status(contest.status).label).lower()


def _wrong_state(contest: Contest, action: str) -> Conflict:
    return Conflict(
        _("You cannot %(action)s: the contest is %(status)s.")
        % {"action": action, "status": _status_label(contest)},
        code=ErrorCode.WRONG_STATE,
    )


# --- drafts --------------------------------------------------------------------------------


def _text(errors: dict[str, str], name: str, value: Any, *, required: bool, limit: int) -> str:
    text = (value if isinstance(value, str) else "").strip()
    if value is not None and not isinstance(value, str):
        errors[name] = _("Enter text.")
    elif required and not text:
        errors[name] = _("This field is required.")
    elif len(text) > limit:
        errors[name] = _("At most %(n)d characters.") % {"n": limit}
    return text


def _int(
    errors: dict[str, str], name: str, value: Any, *, low: int, high: int, message: str
) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        errors[name] = message
        return low
    return value


def prize_amount_problem(position: int, amount: Any) -> str:
    """What is wrong with one prize amount on its own (empty when nothing): forms check each
    prize with it even while another prize field cannot be read."""
    if isinstance(amount, bool) or not isinstance(amount, int):
        return _("Prize %(n)d must be an amount in cents.") % {"n": position}
    if not PRIZE_MIN_CENTS <= amount <= PRIZE_MAX_CENTS:
        return _("Prize %(n)d must be between %(min)s and %(max)s.") % {
            "n": position,
            "min": format_cents(PRIZE_MIN_CENTS),
            "max": format_cents(PRIZE_MAX_CENTS),
        }
    return ""


def _prizes_clean(errors: dict[str, str], prizes: Any) -> list[int]:
    if not isinstance(prizes, list | tuple) or not 1 <= len(prizes) <= MAX_PRIZES:
        errors["prizes"] = _("Offer one to three prizes.")
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


def _deadline_clean(errors: dict[str, str], value: Any) -> datetime | None:
    if not isinstance(value, datetime):
        errors["entry_deadline"] = _("Enter the date and time entries close.")
        return None
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    now = _now()
    if value < now + DEADLINE_MIN_AHEAD:
        errors["entry_deadline"] = _(
            "The entry deadline must be at least an hour from now; it is in the past or too soon."
        )
    elif value > now + DEADLINE_MAX_AHEAD:
        errors["entry_deadline"] = _("The entry deadline can be at most 90 days from now.")
    return value


_DRAFT_FIELDS = (
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


def _draft_clean(user: User, data: Mapping[str, Any]) -> dict[str, Any]:
    """Validate every field of a draft at once; raise one ``ValidationFailed`` naming each
    bad field."""
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    out["title"] = _text(errors, "title", data.get("title"), required=True, limit=120)
    out["summary"] = _text(errors, "summary", data.get("summary"), required=True, limit=280)
    out["description"] = _text(
        errors, "description", data.get("description") or "", required=False, limit=20000
    )
    if data.get("category") not in Category.values:
        errors["category"] = _("Choose a category.")
    out["category"] = data.get("category")
    out["prizes"] = _prizes_clean(errors, data.get("prizes"))
    out["finalist_stipend"] = _int(
        errors,
        "finalist_stipend",
        data.get("finalist_stipend", 0),
        low=0,
        high=PRIZE_MAX_CENTS,
        message=_("The stipend must be zero or a positive amount up to %(max)s.")
        % {"max": format_cents(PRIZE_MAX_CENTS)},
    )
    out["finalists_max"] = _int(
        errors,
        "finalists_max",
        data.get("finalists_max", 5),
        low=0,
        high=FINALISTS_MAX,
        message=_("Choose between 0 and %(n)d finalists.") % {"n": FINALISTS_MAX},
    )
    if out["finalist_stipend"] and not out["finalists_max"] and "finalists_max" not in errors:
        errors["finalists_max"] = _("A stipend needs at least one finalist.")
    out["entry_deadline"] = _deadline_clean(errors, data.get("entry_deadline"))
    out["judging_days"] = _int(
        errors,
        "judging_days",
        data.get("judging_days", 7),
        low=1,
        high=JUDGING_DAYS_MAX,
        message=_("Judging takes 1 to %(n)d days.") % {"n": JUDGING_DAYS_MAX},
    )
    if data.get("visibility", Contest.Visibility.OPEN) not in Contest.Visibility.values:
        errors["visibility"] = _("Choose open or blind.")
    out["visibility"] = data.get("visibility", Contest.Visibility.OPEN)
    out["max_entries_per_entrant"] = _int(
        errors,
        "max_entries_per_entrant",
        data.get("max_entries_per_entrant", 3),
        low=1,
        high=MAX_ENTRIES_PER_ENTRANT,
        message=_("Allow 1 to %(n)d entries per entrant.") % {"n": MAX_ENTRIES_PER_ENTRANT},
    )
    out["is_private"] = bool(data.get("is_private", False))
    out["nda_text"] = _text(
        errors, "nda_text", data.get("nda_text") or "", required=False, limit=10000
    )
    organisation = data.get("organisation")
    if organisation is not None and not isinstance(organisation, Organisation):
        errors["organisation"] = _("Choose an organisation you administer.")
    elif (
        organisation is not None
        and not organisations_user_can_post_for(user=user).filter(pk=organisation.pk).exists()
    ):
        errors["organisation"] = _("You can only post for organisations you own or administer.")
    out["organisation"] = organisation
    if errors:
        raise ValidationFailed(fields=errors)
    return out


def contest_draft_check(*, user: User, **fields: Any) -> None:
    """Validate draft fields without saving anything (``ValidationFailed`` names every bad
    field). Forms use it to show the service's rules next to the fields they could parse
    while other fields still have form errors, so every problem shows at once."""
    unknown = set(fields) - set(_DRAFT_FIELDS)
    if unknown:
        raise ValidationFailed(fields={name: _("Unknown field.") for name in sorted(unknown)})
    _draft_clean(user, fields)


def _prizes_replace(contest: Contest, prizes: list[int]) -> None:
    contest.prizes.all().delete()
    Prize.objects.bulk_create(
        [
            Prize(contest=contest, position=n, amount=amount)
            for n, amount in enumerate(prizes, start=1)
        ]
    )


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
    finalists_max: int = 5,
    judging_days: int = 7,
    visibility: str = Contest.Visibility.OPEN,
    max_entries_per_entrant: int = 3,
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
        _event(contest, "created", user)
    return contest


def contest_update_draft(*, contest_id: int, user: User, **changes: Any) -> Contest:
    """Change any fields of a draft (the others stay); the whole result is validated."""
    unknown = set(changes) - set(_DRAFT_FIELDS)
    if unknown:
        raise ValidationFailed(fields={name: _("Unknown field.") for name in sorted(unknown)})
    contest = contest_get_for_manager(contest_id=contest_id, user=user)
    if contest.status != Contest.Status.DRAFT:
        raise _wrong_state(contest, _("edit the brief"))
    current: dict[str, Any] = {
        name: getattr(contest, name) for name in _DRAFT_FIELDS if name not in {"prizes"}
    }
    current["prizes"] = [p.amount for p in contest.prizes.all()]
    current.update(changes)
    data = _draft_clean(user, current)
    prizes_clean = data.pop("prizes")
    with transaction.atomic(durable=True):
        locked = Contest.objects.select_for_update().get(pk=contest.pk)
        if locked.status != Contest.Status.DRAFT:
            raise _wrong_state(locked, _("edit the brief"))
        for name, value in data.items():
            setattr(locked, name, value)
        locked.save()
        _prizes_replace(locked, prizes_clean)
        _event(locked, "edited", user)
    return contest_get_for_manager(contest_id=contest.pk, user=user)


def contest_attachment_add(*, contest_id: int, user: User, upload: Any) -> ContestAttachment:
    """Attach a reference file to the brief (draft or open contest)."""
    contest = contest_get_for_manager(contest_id=contest_id, user=user)
    if contest.status not in {Contest.Status.DRAFT, Contest.Status.OPEN}:
        raise _wrong_state(contest, _("add reference files"))
    if contest.attachments.count() >= MAX_ATTACHMENTS:
        raise ValidationFailed(
            fields={"file": _("At most %(n)d reference files.") % {"n": MAX_ATTACHMENTS}}
        )
    derived = file_prepare(upload, field="file", derive=False)
    attachment = ContestAttachment(
        contest=contest,
        original_name=derived.original_name,
        kind=derived.kind,
        size=derived.size,
    )
    saved: list[FieldFile] = []
    try:
        with transaction.atomic(durable=True):
            _store(attachment.file, derived.name(), derived.content, saved)
            attachment.save()
    except Exception:
        _unstore(saved)
        raise
    return attachment


def contest_attachment_remove(*, contest_id: int, user: User, attachment_id: int) -> None:
    contest = contest_get_for_manager(contest_id=contest_id, user=user)
    attachment = contest.attachments.filter(pk=attachment_id).first()
    if attachment is None:
        raise NotFound(_("File not found."))
    if contest.status not in {Contest.Status.DRAFT, Contest.Status.OPEN}:
        raise _wrong_state(contest, _("remove reference files"))
    name = attachment.file.name or ""
    storage = attachment.file.storage
    attachment.delete()
    transaction.on_commit(lambda: storage.delete(name))


def contest_invite(*, contest_id: int, user: User, who: str) -> ContestInvitation:
    """Invite a crowd member (by handle or email) to a private contest."""
    from trefpunt.accounts.models import User as UserModel

    contest = contest_get_for_manager(contest_id=contest_id, user=user)
    if not contest.is_private:
        raise Conflict(
            _("Only private contests have invitations; this one is public."),
            code=ErrorCode.NOT_PRIVATE,
        )
    if contest.status not in {Contest.Status.DRAFT, Contest.Status.OPEN}:
        raise _wrong_state(contest, _("invite people"))
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
    if contest_access(contest, invitee).can_manage:
        raise ValidationFailed(fields={"who": _("This member already manages the contest.")})
    invitation, created = ContestInvitation.objects.get_or_create(
        contest=contest, user=invitee, defaults={"invited_by": user}
    )
    if not created:
        raise ValidationFailed(fields={"who": _("This member is already invited.")})
    if contest.status == Contest.Status.OPEN:
        _notify(
            invitee,
            _("You are invited to a private contest on Trefpunt"),
            _("You are invited to enter “%(title)s”: %(url)s")
            % {"title": contest.title, "url": _url(contest.get_absolute_url())},
        )
    return invitation


# --- publish, cancel -------------------------------------------------------------------------


def _paying_wallet(contest: Contest) -> LedgerAccount:
    if contest.organisation_id:
        return wallet_for_organisation(
            organisation=contest.organisation,  # type: ignore[arg-type]
            currency=contest.currency,
        )
    return wallet_for_user(user=contest.created_by, currency=contest.currency)


def _publish_check(contest: Contest) -> None:
    errors: dict[str, str] = {}
    _deadline_clean(errors, contest.entry_deadline)
    if not contest.prizes.exists():
        errors["prizes"] = _("Offer at least one prize.")
    if errors:
        raise ValidationFailed(fields=errors)


def contest_publish(*, contest_id: int, user: User, idempotency_key: str = "") -> Contest:
    """Draft → open: move prize pool + stipend budget + client fee from the paying wallet into
    the contest's escrow. Refuses with ``InsufficientFunds`` (naming the shortfall) when the
    wallet holds too little; then nothing moves and the contest stays a draft.

    Locks the escrow account, then the contest row; the fund entry
    ``contest:{id}:fund`` and the conditional draft → open update make a repeat
    harmless. A repeat with the same ``idempotency_key`` returns the contest.
    """
    contest = contest_get_for_manager(contest_id=contest_id, user=user)
    if _replayed(contest.pk, "published", idempotency_key):
        return contest
    if contest.status != Contest.Status.DRAFT:
        raise _wrong_state(contest, _("publish"))
    _publish_check(contest)
    wallet = _paying_wallet(contest)
    with transaction.atomic(durable=True):
        escrow = escrow_account(
            reference=contest.escrow_reference, funder=wallet, label=f"contest {contest.pk}"
        )
        escrow = account_lock(escrow)
        locked = Contest.objects.select_for_update().get(pk=contest.pk)
        if locked.status != Contest.Status.DRAFT:
            raise _wrong_state(locked, _("publish"))
        pool, stipends, fee = contest_amounts(locked)
        total = pool + stipends + fee
        try:
            escrow_fund(
                wallet=wallet,
                escrow=escrow,
                amount=total,
                idempotency_key=f"contest:{locked.pk}:fund",
                description=f"Prizes, stipends and fee of contest {locked.pk}",
                created_by=user,
            )
        except InsufficientFunds:
            balance = LedgerAccount.objects.get(pk=wallet.pk).balance
            shortfall = format_cents(total - balance, contest.currency)
            raise InsufficientFunds(
                _("Publishing needs %(total)s; the wallet holds %(balance)s. Deposit %(short)s.")
                % {
                    "total": format_cents(total, contest.currency),
                    "balance": format_cents(balance, contest.currency),
                    "short": shortfall,
                },
                fields={"wallet": _("%(short)s short.") % {"short": shortfall}},
            ) from None
        updated = Contest.objects.filter(pk=locked.pk, status=Contest.Status.DRAFT).update(
            status=Contest.Status.OPEN,
            published_at=_now(),
            client_fee_bps=settings.FEES_BPS["contest"]["client"],
            crowd_fee_bps=settings.FEES_BPS["contest"]["crowd"],
            client_fee=fee,
            funded_amount=total,
        )
        if updated != 1:  # pragma: no cover - the row lock makes this impossible
            raise _wrong_state(locked, _("publish"))
        _event(locked, "published", user, idempotency_key, funded=total, fee=fee)
    for invitation in ContestInvitation.objects.filter(contest=contest).select_related("user"):
        _notify(
            invitation.user,
            _("You are invited to a private contest on Trefpunt"),
            _("You are invited to enter “%(title)s”: %(url)s")
            % {"title": contest.title, "url": _url(contest.get_absolute_url())},
        )
    return contest_get_for_manager(contest_id=contest.pk, user=user)


def contest_deposit_shortfall(*, contest_id: int, user: User, return_path: str) -> Deposit:
    """Start a deposit of exactly what publishing lacks (at least the provider's minimum)
    into the paying wallet; the user comes back to ``return_path`` and publishes."""
    from .selectors import contest_funding

    contest = contest_get_for_manager(contest_id=contest_id, user=user)
    if contest.status != Contest.Status.DRAFT:
        raise _wrong_state(contest, _("fund the contest"))
    funding = contest_funding(contest=contest)
    if not funding.shortfall:
        raise Conflict(
            _("The wallet already holds enough to publish."), code=ErrorCode.NO_SHORTFALL
        )
    return deposit_create(
        wallet=_paying_wallet(contest),
        user=user,
        amount=funding.deposit_amount,
        return_path=return_path,
    )


def _refund_all(
    contest: Contest, escrow: LedgerAccount, actor: User | None, description: str
) -> int:
    """Refund whatever the (locked) escrow holds to the wallet that funded it."""
    amount = LedgerAccount.objects.get(pk=escrow.pk).balance
    if amount:
        escrow_refund(
            escrow=escrow,
            wallet=LedgerAccount.objects.get(pk=escrow.funder_id or 0),
            amount=amount,
            idempotency_key=f"contest:{contest.pk}:refund",
            description=description,
            created_by=actor,
        )
    return amount


def _escrow_of(contest: Contest) -> LedgerAccount:
    escrow = LedgerAccount.objects.filter(
        kind=AccountKind.ESCROW, reference=contest.escrow_reference, currency=contest.currency
    ).first()
    if escrow is None:  # pragma: no cover - every published contest has one
        raise Conflict(_("This contest has no escrow."), code=ErrorCode.NO_ESCROW)
    return escrow


def contest_cancel(*, contest_id: int, user: User, idempotency_key: str = "") -> Contest:
    """Cancel a draft, or an open contest that has no entries (withdrawn ones aside), and
    refund the whole escrow. Locks escrow → contest; entries are counted under the contest
    lock, which ``entry_submit`` also takes, so no entry can slip in."""
    contest = contest_get_for_manager(contest_id=contest_id, user=user)
    if _replayed(contest.pk, "cancelled", idempotency_key):
        return contest
    if contest.status == Contest.Status.DRAFT:
        with transaction.atomic(durable=True):
            updated = Contest.objects.filter(pk=contest.pk, status=Contest.Status.DRAFT).update(
                status=Contest.Status.CANCELLED, cancelled_at=_now(), cancel_reason="client"
            )
            if updated != 1:
                raise _wrong_state(Contest.objects.get(pk=contest.pk), _("cancel"))
            _event(contest, "cancelled", user, idempotency_key, refunded=0)
        return contest_get_for_manager(contest_id=contest.pk, user=user)
    if contest.status != Contest.Status.OPEN:
        raise _wrong_state(contest, _("cancel"))
    escrow = _escrow_of(contest)
    with transaction.atomic(durable=True):
        escrow = account_lock(escrow)
        locked = Contest.objects.select_for_update().get(pk=contest.pk)
        if locked.status != Contest.Status.OPEN:
            raise _wrong_state(locked, _("cancel"))
        if locked.entries.exclude(status=Entry.Status.WITHDRAWN).exists():
            raise Conflict(
                _(
                    "This contest has entries; it can no longer be cancelled. Judge them and "
                    "award the prizes."
                ),
                code=ErrorCode.HAS_ENTRIES,
            )
        refunded = _refund_all(locked, escrow, user, f"Contest {locked.pk} cancelled")
        updated = Contest.objects.filter(pk=locked.pk, status=Contest.Status.OPEN).update(
            status=Contest.Status.CANCELLED, cancelled_at=_now(), cancel_reason="client"
        )
        if updated != 1:  # pragma: no cover
            raise _wrong_state(locked, _("cancel"))
        _event(locked, "cancelled", user, idempotency_key, refunded=refunded)
    return contest_get_for_manager(contest_id=contest.pk, user=user)


# --- open → judging ---------------------------------------------------------------------------


def contest_close_entries(*, contest_id: int, user: User | None = None) -> Contest:
    """Open → judging. With ``user``: the client closes early, allowed once at least five
    entries are in. Without: the deadline sweep, allowed once the deadline has passed; a
    contest that got no entries at all is cancelled and refunded instead."""
    if user is not None:
        contest = contest_get_for_manager(contest_id=contest_id, user=user)
    else:
        found = Contest.objects.filter(pk=contest_id).first()
        if found is None:
            raise NotFound(_("Contest not found."))
        contest = found
    if contest.status != Contest.Status.OPEN:
        raise _wrong_state(contest, _("close entries"))
    now = _now()
    if user is None and contest.entry_deadline > now:
        raise Conflict(_("The entry deadline has not passed yet."), code=ErrorCode.NOT_DUE)
    escrow = _escrow_of(contest)
    with transaction.atomic(durable=True):
        escrow = account_lock(escrow)
        locked = Contest.objects.select_for_update().get(pk=contest.pk)
        if locked.status != Contest.Status.OPEN:
            raise _wrong_state(locked, _("close entries"))
        count = locked.entries.exclude(status=Entry.Status.WITHDRAWN).count()
        if user is not None and count < EARLY_CLOSE_MIN_ENTRIES:
            raise Conflict(
                _("You can close entries early once %(n)d entries are in; there are %(count)d.")
                % {"n": EARLY_CLOSE_MIN_ENTRIES, "count": count},
                code=ErrorCode.TOO_FEW_ENTRIES,
            )
        if count == 0:
            refunded = _refund_all(locked, escrow, None, f"Contest {locked.pk}: no entries")
            Contest.objects.filter(pk=locked.pk, status=Contest.Status.OPEN).update(
                status=Contest.Status.CANCELLED, cancelled_at=now, cancel_reason="no_entries"
            )
            _event(locked, "cancelled", None, refunded=refunded, reason="no_entries")
        else:
            start = now if user is not None else locked.entry_deadline
            updated = Contest.objects.filter(pk=locked.pk, status=Contest.Status.OPEN).update(
                status=Contest.Status.JUDGING,
                judging_started_at=now,
                judging_ends_at=start + timedelta(days=locked.judging_days),
                entry_deadline=min(locked.entry_deadline, now),
            )
            if updated != 1:  # pragma: no cover
                raise _wrong_state(locked, _("close entries"))
            _event(locked, "judging", user, early=user is not None, entries=count)
    return Contest.objects.get(pk=contest.pk)


def contest_finalist_round_open(*, contest_id: int, user: User, deadline: datetime) -> Contest:
    """Let the finalists submit revisions until ``deadline`` (during judging, before it
    ends)."""
    contest = contest_get_for_manager(contest_id=contest_id, user=user)
    if contest.status != Contest.Status.JUDGING:
        raise _wrong_state(contest, _("start a finalist round"))
    if not isinstance(deadline, datetime):
        raise ValidationFailed(fields={"deadline": _("Enter a date and time.")})
    if timezone.is_naive(deadline):
        deadline = timezone.make_aware(deadline)
    if deadline < _now() + DEADLINE_MIN_AHEAD:
        raise ValidationFailed(fields={"deadline": _("At least an hour from now.")})
    if contest.judging_ends_at and deadline >= contest.judging_ends_at:
        raise ValidationFailed(
            fields={"deadline": _("The finalist round must end before judging ends.")}
        )
    with transaction.atomic(durable=True):
        locked = Contest.objects.select_for_update().get(pk=contest.pk)
        if not locked.entries.filter(status=Entry.Status.FINALIST).exists():
            raise Conflict(_("Mark at least one finalist first."), code=ErrorCode.NO_FINALISTS)
        updated = Contest.objects.filter(pk=locked.pk, status=Contest.Status.JUDGING).update(
            finalist_deadline=deadline
        )
        if updated != 1:
            raise _wrong_state(locked, _("start a finalist round"))
        _event(locked, "finalist_round", user, deadline=deadline.isoformat())
        for entry in locked.entries.filter(status=Entry.Status.FINALIST).select_related("entrant"):
            _notify(
                entry.entrant,
                _("Your entry is a finalist"),
                _(
                    "“%(title)s” is a finalist. You can submit a revision until %(deadline)s: "
                    "%(url)s"
                )
                % {
                    "title": entry.title,
                    "deadline": timezone.localtime(deadline).strftime("%Y-%m-%d %H:%M"),
                    "url": _url(entry.get_absolute_url()),
                },
            )
    return Contest.objects.get(pk=contest.pk)


# --- payments --------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlannedPayment:
    kind: str
    entry: Entry
    gross: int
    key: str
    prize: Prize | None = None


def split_equally(amount: int, entries: Sequence[Entry]) -> list[tuple[Entry, int]]:
    """``amount`` in equal shares; the cents that do not divide go one each to the earliest
    entries (lowest number)."""
    ordered = sorted(entries, key=lambda e: e.number)
    share, rest = divmod(amount, len(ordered))
    return [(entry, share + (1 if i < rest else 0)) for i, entry in enumerate(ordered)]


def _plan_prizes(
    contest: Contest,
    prizes: Sequence[Prize],
    winners: Mapping[int, Entry],
    split_among: Sequence[Entry],
) -> list[PlannedPayment]:
    plan: list[PlannedPayment] = []
    for prize in prizes:
        winner = winners.get(prize.position)
        if winner is not None:
            plan.append(
                PlannedPayment(
                    Payment.Kind.PRIZE,
                    winner,
                    prize.amount,
                    f"contest:{contest.pk}:prize:{prize.position}",
                    prize,
                )
            )
            continue
        for entry, share in split_equally(prize.amount, split_among):
            if share:
                plan.append(
                    PlannedPayment(
                        Payment.Kind.SHARE,
                        entry,
                        share,
                        f"contest:{contest.pk}:prize:{prize.position}:share:{entry.pk}",
                        prize,
                    )
                )
    return plan


def _plan_stipends(contest: Contest, finalists: Sequence[Entry]) -> list[PlannedPayment]:
    if not contest.finalist_stipend:
        return []
    return [
        PlannedPayment(
            Payment.Kind.STIPEND,
            entry,
            contest.finalist_stipend,
            f"contest:{contest.pk}:stipend:{entry.pk}",
        )
        for entry in sorted(finalists, key=lambda e: e.number)
    ]


def _payments_execute(
    contest: Contest, escrow: LedgerAccount, plan: Sequence[PlannedPayment], actor: User | None
) -> tuple[list[Payment], int]:
    """Release every planned payment (one journal entry each), then refund the rest.
    Must run inside the caller's transaction with the escrow and the contest locked.

    Returns the payments and the refunded amount. Checks that the escrow ends at zero."""
    base = contest.funded_amount - contest.client_fee
    fee_total = contest.client_fee
    payees = {p.entry.entrant_id: wallet_for_user(user=p.entry.entrant) for p in plan}
    revenue = system_account(
        kind=AccountKind.PLATFORM_REVENUE, currency=contest.currency, label="platform revenue"
    )
    # Take every account lock now, in the ledger's global order, so two awards that
    # share a wallet or the revenue account cannot deadlock halfway through their postings.
    funder = [escrow.funder] if escrow.funder is not None else []
    accounts_lock([escrow, *payees.values(), revenue, *funder])
    payments: list[Payment] = []
    paid = 0
    fee_released = 0
    for item in plan:
        paid += item.gross
        fee_due = fee_total * paid // base
        client_fee = fee_due - fee_released
        fee_released = fee_due
        crowd_fee = split_bps(item.gross, contest.crowd_fee_bps)
        journal = escrow_release(
            escrow=escrow,
            payee=payees[item.entry.entrant_id],
            amount=item.gross,
            crowd_fee=crowd_fee,
            client_fee=client_fee,
            idempotency_key=item.key,
            description=f"{Payment.Kind(item.kind).label} of contest {contest.pk}, entry "
            f"#{item.entry.number}",
            created_by=actor,
        )
        payments.append(
            Payment.objects.create(
                contest=contest,
                entry=item.entry,
                recipient_id=item.entry.entrant_id,
                kind=item.kind,
                prize=item.prize,
                gross=item.gross,
                crowd_fee=crowd_fee,
                client_fee=client_fee,
                net=item.gross - crowd_fee,
                journal_entry=journal,
                idempotency_key=item.key,
            )
        )
    expected_rest = (base - paid) + (fee_total - fee_released)
    if paid > base or LedgerAccount.objects.get(pk=escrow.pk).balance != expected_rest:
        raise RuntimeError(f"contest {contest.pk}: escrow does not match the payments")
    refunded = _refund_all(contest, escrow, actor, f"Unused budget of contest {contest.pk}")
    return payments, refunded


def _entries_lock(contest: Contest) -> list[Entry]:
    return list(
        Entry.objects.select_for_update()
        .filter(contest=contest)
        .select_related("entrant")
        .order_by("pk")
    )


def contest_award(
    *,
    contest_id: int,
    user: User,
    awards: Mapping[int, int],
    idempotency_key: str = "",
) -> Contest:
    """Judging → awarded: pay each prize to the entry the client chose for it
    (``awards`` maps prize position → entry id), the stipend to every finalist who did not
    win, and refund the unused stipend budget with its share of the fee.

    Every prize must get a distinct, active entry (not withdrawn or declined). When the
    contest has fewer active entries than prizes, each of them must win a prize and the
    prizes left over are guaranteed too: they are split like the guarantee splits them,
    equally among the other entries that share in the guarantee (declined ones that staff
    did not find breaking the rules) — so declining entries never moves their money to the
    client's chosen winners — and among the winners only when no such entry is left.

    Locks escrow → contest → entries (ascending id) → wallets; the conditional
    judging → awarded update and the per-payment journal keys make a second award
    (or the guarantee sweep racing this one) pay nothing.
    """
    contest = contest_get_for_manager(contest_id=contest_id, user=user)
    if _replayed(contest.pk, "awarded", idempotency_key):
        return contest
    if contest.status != Contest.Status.JUDGING:
        if contest.status == Contest.Status.OPEN:
            raise Conflict(
                _("Entries are still open. Close entries (or wait for the deadline) first."),
                code=ErrorCode.WRONG_STATE,
            )
        raise _wrong_state(contest, _("award the prizes"))
    if not isinstance(awards, Mapping) or not awards:
        raise ValidationFailed(fields={"awards": _("Choose a winning entry for each prize.")})
    escrow = _escrow_of(contest)
    with transaction.atomic(durable=True):
        escrow = account_lock(escrow)
        locked = Contest.objects.select_for_update().get(pk=contest.pk)
        if locked.status != Contest.Status.JUDGING:
            raise _wrong_state(locked, _("award the prizes"))
        entries = {e.pk: e for e in _entries_lock(locked)}
        prizes = list(Prize.objects.filter(contest=locked).order_by("position"))
        active = [e for e in entries.values() if e.status in ACTIVE_ENTRY]
        errors: dict[str, str] = {}
        winners: dict[int, Entry] = {}
        positions = {p.position for p in prizes}
        for position, entry_id in sorted(awards.items()):
            name = f"prize_{position}"
            entry = entries.get(entry_id) if isinstance(entry_id, int) else None
            if position not in positions:
                errors[name] = _("This contest has no prize %(n)s.") % {"n": position}
            elif entry is None:
                errors[name] = _("Entry not found in this contest.")
            elif entry.status == Entry.Status.WITHDRAWN:
                errors[name] = _("Entry #%(n)d was withdrawn and cannot win.") % {"n": entry.number}
            elif entry.status == Entry.Status.DECLINED:
                errors[name] = _("Entry #%(n)d was declined and cannot win.") % {"n": entry.number}
            elif entry in winners.values():
                errors[name] = _("Entry #%(n)d already wins another prize.") % {"n": entry.number}
            else:
                winners[position] = entry
        needed = min(len(prizes), len(active))
        if not errors and len(winners) < needed:
            for prize in prizes:
                if prize.position not in winners:
                    errors[f"prize_{prize.position}"] = _("Choose a winning entry for this prize.")
        if errors:
            raise ValidationFailed(fields=errors)
        winner_ids = {e.pk for e in winners.values()}
        finalists = [e for e in active if e.status == Entry.Status.FINALIST]
        others = [e for e in entries.values() if e.shares_in_guarantee and e.pk not in winner_ids]
        plan = _plan_prizes(locked, prizes, winners, others or list(winners.values()))
        plan += _plan_stipends(locked, [e for e in finalists if e.pk not in winner_ids])
        now = _now()
        updated = Contest.objects.filter(pk=locked.pk, status=Contest.Status.JUDGING).update(
            status=Contest.Status.AWARDED, award_method=Contest.AwardMethod.CLIENT, awarded_at=now
        )
        if updated != 1:  # pragma: no cover - the row lock makes this impossible
            raise _wrong_state(locked, _("award the prizes"))
        payments, refunded = _payments_execute(locked, escrow, plan, user)
        for prize in prizes:
            if prize.position in winners:
                prize.winner = winners[prize.position]
                prize.save(update_fields=["winner"])
        Entry.objects.filter(pk__in=winner_ids).update(status=Entry.Status.WINNER)
        Entry.objects.filter(contest=locked, status__in=ACTIVE_ENTRY).exclude(
            pk__in=winner_ids
        ).update(status=Entry.Status.NOT_SELECTED)
        for entry in winners.values():
            Handover.objects.create(entry=entry, contest=locked)
        _event(
            locked,
            "awarded",
            user,
            idempotency_key,
            winners={str(k): v.pk for k, v in winners.items()},
            paid=sum(p.gross for p in payments),
            refunded=refunded,
        )
        _award_notify(locked, payments)
        if not locked.is_private:
            for entry in winners.values():
                transaction.on_commit(partial(_portfolio_enqueue, entry.pk))
    return contest_get_for_manager(contest_id=contest.pk, user=user)


def _portfolio_enqueue(entry_id: int) -> None:
    from .tasks import entry_portfolio_task

    entry_portfolio_task.enqueue(entry_id)


def _award_notify(contest: Contest, payments: Sequence[Payment]) -> None:
    totals: dict[int, tuple[Entry, int]] = {}
    for payment in payments:
        entry, net = totals.get(payment.recipient_id, (payment.entry, 0))
        totals[payment.recipient_id] = (entry, net + payment.net)
    for entry, net in totals.values():
        _notify(
            entry.entrant,
            _("You earned %(amount)s in “%(title)s”")
            % {"amount": format_cents(net, contest.currency), "title": contest.title},
            _("%(amount)s is in your Trefpunt wallet. %(url)s")
            % {
                "amount": format_cents(net, contest.currency),
                "url": _url(entry.get_absolute_url()),
            },
        )


def contest_guarantee(*, contest_id: int) -> Contest:
    """The guarantee, run by the sweep when judging has ended without an award: every prize
    is split equally among the finalists, or, when there are none, among all entries that
    share in the guarantee (``Entry.shares_in_guarantee``: not withdrawn, and not declined
    for a rule break that staff upheld — a plain decline does not count, see the module
    docstring); every finalist also gets the stipend. With no such entry at all the escrow
    is refunded and the contest cancelled. Ends in ``completed`` (nothing to hand over: the
    client chose no winner, so no rights pass).

    Same locks and guards as ``contest_award``; whichever commits first wins."""
    contest = Contest.objects.filter(pk=contest_id).first()
    if contest is None:
        raise NotFound(_("Contest not found."))
    if contest.status != Contest.Status.JUDGING:
        raise _wrong_state(contest, _("split the prizes"))
    if contest.judging_ends_at is None or contest.judging_ends_at > _now():
        raise Conflict(_("Judging has not ended yet."), code=ErrorCode.NOT_DUE)
    escrow = _escrow_of(contest)
    with transaction.atomic(durable=True):
        escrow = account_lock(escrow)
        locked = Contest.objects.select_for_update().get(pk=contest.pk)
        if locked.status != Contest.Status.JUDGING:
            raise _wrong_state(locked, _("split the prizes"))
        entries = _entries_lock(locked)
        eligible = [e for e in entries if e.shares_in_guarantee]
        now = _now()
        if not eligible:
            refunded = _refund_all(
                locked, escrow, None, f"Contest {locked.pk}: no eligible entries"
            )
            Contest.objects.filter(pk=locked.pk, status=Contest.Status.JUDGING).update(
                status=Contest.Status.CANCELLED,
                cancelled_at=now,
                cancel_reason="no_eligible_entries",
            )
            _event(locked, "cancelled", None, refunded=refunded, reason="no_eligible_entries")
            return Contest.objects.get(pk=contest.pk)
        finalists = [e for e in eligible if e.status == Entry.Status.FINALIST]
        prizes = list(Prize.objects.filter(contest=locked).order_by("position"))
        plan = _plan_prizes(locked, prizes, {}, finalists or eligible)
        plan += _plan_stipends(locked, finalists)
        updated = Contest.objects.filter(pk=locked.pk, status=Contest.Status.JUDGING).update(
            status=Contest.Status.COMPLETED,
            award_method=Contest.AwardMethod.GUARANTEE,
            awarded_at=now,
            completed_at=now,
        )
        if updated != 1:  # pragma: no cover
            raise _wrong_state(locked, _("split the prizes"))
        payments, refunded = _payments_execute(locked, escrow, plan, None)
        Entry.objects.filter(contest=locked, status__in=ACTIVE_ENTRY).update(
            status=Entry.Status.NOT_SELECTED
        )
        _event(
            locked,
            "guarantee",
            None,
            recipients=len({p.entry_id for p in payments}),
            among="finalists" if finalists else "entries",
            paid=sum(p.gross for p in payments),
            refunded=refunded,
        )
        _award_notify(locked, payments)
    return Contest.objects.get(pk=contest.pk)


# --- entries ---------------------------------------------------------------------------------


def _store(field_file: FieldFile, name: str, content: bytes, saved: list[FieldFile]) -> None:
    field_file.save(name, ContentFile(content), save=False)
    saved.append(field_file)


def _unstore(saved: Sequence[FieldFile]) -> None:
    for field_file in saved:
        try:
            field_file.storage.delete(field_file.name or "")
        except OSError:  # pragma: no cover
            logger.warning("could not delete %s", field_file.name)


def _files_prepare(
    files: Sequence[Any], errors: dict[str, str], field: str = "files"
) -> list[Derived]:
    if not files:
        errors[field] = _("Add at least one file.")
        return []
    if len(files) > MAX_FILES_PER_VERSION:
        errors[field] = _("At most %(n)d files.") % {"n": MAX_FILES_PER_VERSION}
        return []
    prepared: list[Derived] = []
    for upload in files:
        try:
            prepared.append(file_prepare(upload, field=field))
        except ValidationFailed as exc:
            errors[field] = " ".join(
                [errors.get(field, ""), *exc.fields.get(field, [exc.message])]
            ).strip()
    return prepared


def _version_store(
    entry: Entry, number: int, note: str, prepared: Sequence[Derived], saved: list[FieldFile]
) -> EntryVersion:
    version = EntryVersion.objects.create(entry=entry, number=number, note=note)
    for position, item in enumerate(prepared):
        entry_file = EntryFile(
            version=version,
            position=position,
            kind=item.kind,
            content_type=item.content_type,
            original_name=item.original_name,
            size=item.size,
            width=item.width,
            height=item.height,
            phash=item.phash,
            dhash=item.dhash,
        )
        _store(entry_file.file, item.name(), item.content, saved)
        if item.thumb:
            _store(entry_file.thumb, item.name("-t", "webp"), item.thumb, saved)
            _store(entry_file.thumb_public, item.name("-tp", "webp"), item.thumb_public, saved)
            _store(entry_file.preview, item.name("-p", "webp"), item.preview, saved)
            _store(entry_file.preview_clean, item.name("-c", "webp"), item.preview_clean, saved)
        entry_file.save()
    Entry.objects.filter(pk=entry.pk).update(current_version=version)
    entry.current_version = version
    return version


def _originality_check(entry: Entry, version: EntryVersion) -> int:
    """Compare each new image with the images of other entrants in this contest and with
    past winning entries of public contests; flag near-duplicates. Returns the number of
    new flags."""
    new_files = [f for f in version.files.all() if f.phash is not None]
    if not new_files:
        return 0
    candidates = (
        EntryFile.objects.filter(phash__isnull=False)
        .filter(
            Q(version__entry__contest_id=entry.contest_id)
            | Q(
                version__entry__status=Entry.Status.WINNER,
                version__entry__contest__is_private=False,
            )
        )
        .exclude(version__entry__entrant_id=entry.entrant_id)
        .exclude(version__entry__status=Entry.Status.WITHDRAWN)
        .values_list("pk", "phash", "dhash", "version__entry_id")
    )
    flags: list[EntryFlag] = []
    for new in new_files:
        for other_pk, other_phash, other_dhash, other_entry_id in candidates:
            distance = is_near_duplicate(new.phash, new.dhash, other_phash, other_dhash)  # type: ignore[arg-type]
            if distance is not None:
                flags.append(
                    EntryFlag(
                        entry=entry,
                        kind=EntryFlag.Kind.NEAR_DUPLICATE,
                        file=new,
                        other_entry_id=other_entry_id,
                        other_file_id=other_pk,
                        distance=distance,
                    )
                )
    if flags:
        EntryFlag.objects.bulk_create(flags, ignore_conflicts=True)
        Entry.objects.filter(pk=entry.pk).update(is_flagged=True)
        entry.is_flagged = True
    return len(flags)


def _entry_open_for(contest: Contest, now: datetime) -> bool:
    return contest.status == Contest.Status.OPEN and contest.entry_deadline > now


def entry_submit(
    *,
    contest_id: int,
    user: User,
    title: str,
    files: Sequence[Any],
    originality_declared: bool,
    description: str = "",
    nda_accepted: bool = False,
) -> Entry:
    """Enter a contest before its deadline (server clock) with one to five files, each checked
    by content and size; images are re-encoded and hashed, and near-duplicates flagged.

    The files are checked and processed before any lock is taken; the contest row is
    locked while the entrant's entries are counted and the entry is numbered."""
    found = Contest.objects.select_related("organisation").filter(pk=contest_id).first()
    if found is None:
        raise NotFound(_("Contest not found."))
    access = contest_access(found, user)
    contest = access.contest
    if not access.can_view:
        raise NotFound(_("Contest not found."))
    if access.can_manage:
        raise Conflict(_("You cannot enter your own contest."), code=ErrorCode.OWN_CONTEST)
    if not _entry_open_for(contest, _now()):
        raise Conflict(_("This contest no longer takes entries."), code=ErrorCode.WRONG_STATE)
    errors: dict[str, str] = {}
    title = _text(errors, "title", title, required=True, limit=120)
    description = _text(errors, "description", description or "", required=False, limit=4000)
    if originality_declared is not True:
        errors["originality_declared"] = _(
            "Declare that the entry is your own original work to enter."
        )
    if contest.is_private and contest.nda_text and not nda_accepted:
        errors["nda_accepted"] = _("Accept the non-disclosure agreement to enter.")
    prepared = _files_prepare(files, errors)
    if errors:
        raise ValidationFailed(fields=errors)
    saved: list[FieldFile] = []
    try:
        with transaction.atomic(durable=True):
            locked = Contest.objects.select_for_update().get(pk=contest.pk)
            if not _entry_open_for(locked, _now()):
                raise Conflict(
                    _("This contest no longer takes entries."), code=ErrorCode.WRONG_STATE
                )
            mine = (
                Entry.objects.filter(contest=locked, entrant=user)
                .exclude(status=Entry.Status.WITHDRAWN)
                .count()
            )
            if mine >= locked.max_entries_per_entrant:
                raise Conflict(
                    _("You have reached the limit of %(n)d entries in this contest.")
                    % {"n": locked.max_entries_per_entrant},
                    code=ErrorCode.ENTRY_LIMIT,
                )
            number = (Entry.objects.filter(contest=locked).aggregate(n=Max("number"))["n"] or 0) + 1
            entry = Entry.objects.create(
                contest=locked,
                entrant=user,
                number=number,
                title=title,
                description=description,
                originality_declared=True,
            )
            version = _version_store(entry, 1, "", prepared, saved)
            if locked.is_private and locked.nda_text:
                ContestInvitation.objects.filter(
                    contest=locked, user=user, nda_accepted_at__isnull=True
                ).update(nda_accepted_at=_now())
            _originality_check(entry, version)
    except Exception:
        _unstore(saved)
        raise
    return entry


def _entry_for_entrant(entry_id: int, user: User) -> Entry:
    entry = Entry.objects.select_related("contest").filter(pk=entry_id, entrant=user).first()
    if entry is None:
        raise NotFound(_("Entry not found."))
    return entry


def entry_revision_allowed(contest: Contest, entry: Entry, now: datetime) -> bool:
    if entry.status not in ACTIVE_ENTRY:
        return False
    if _entry_open_for(contest, now):
        return True
    return (
        contest.status == Contest.Status.JUDGING
        and entry.status == Entry.Status.FINALIST
        and contest.finalist_deadline is not None
        and contest.finalist_deadline > now
    )


def entry_revise(
    *, entry_id: int, user: User, files: Sequence[Any], note: str = ""
) -> EntryVersion:
    """Submit a new version of an entry (all versions are kept): before the entry deadline,
    or as a finalist during the finalist round."""
    entry = _entry_for_entrant(entry_id, user)
    if not entry_revision_allowed(entry.contest, entry, _now()):
        raise Conflict(
            _(
                "You can revise an entry only before the deadline, or as a finalist in the "
                "finalist round."
            ),
            code=ErrorCode.WRONG_STATE,
        )
    errors: dict[str, str] = {}
    note = _text(errors, "note", note or "", required=False, limit=2000)
    prepared = _files_prepare(files, errors)
    if errors:
        raise ValidationFailed(fields=errors)
    saved: list[FieldFile] = []
    try:
        with transaction.atomic(durable=True):
            contest = Contest.objects.select_for_update().get(pk=entry.contest_id)
            locked = Entry.objects.select_for_update().get(pk=entry.pk)
            if not entry_revision_allowed(contest, locked, _now()):
                raise Conflict(
                    _("This entry can no longer be revised."), code=ErrorCode.WRONG_STATE
                )
            number = (locked.versions.aggregate(n=Max("number"))["n"] or 0) + 1
            version = _version_store(locked, number, note, prepared, saved)
            _originality_check(locked, version)
    except Exception:
        _unstore(saved)
        raise
    return version


def entry_withdraw(*, entry_id: int, user: User) -> Entry:
    """The entrant takes an entry back, before the entry deadline."""
    entry = _entry_for_entrant(entry_id, user)
    with transaction.atomic(durable=True):
        contest = Contest.objects.select_for_update().get(pk=entry.contest_id)
        if not _entry_open_for(contest, _now()):
            raise Conflict(
                _("Entries can be withdrawn only before the entry deadline."),
                code=ErrorCode.WRONG_STATE,
            )
        updated = Entry.objects.filter(pk=entry.pk, status__in=ACTIVE_ENTRY).update(
            status=Entry.Status.WITHDRAWN, withdrawn_at=_now(), finalist_at=None
        )
        if updated != 1:
            raise Conflict(
                _("This entry was already withdrawn or declined."), code=ErrorCode.WRONG_STATE
            )
    entry.refresh_from_db()
    return entry


def _entry_for_manager(entry_id: int, user: User) -> Entry:
    entry = Entry.objects.select_related("contest", "entrant").filter(pk=entry_id).first()
    if entry is None or not contest_access(entry.contest, user).can_manage:
        raise NotFound(_("Entry not found."))
    return entry


JUDGING_STATES = {Contest.Status.OPEN, Contest.Status.JUDGING}


def entry_rate(
    *,
    entry_id: int,
    user: User,
    rating: int | _Keep | None = KEEP,
    note: str | _Keep = KEEP,
    feedback: str | _Keep = KEEP,
) -> Entry:
    """The client's judging of one entry: rating 1–5 (``None`` clears it), a private note
    and feedback the entrant sees. Fields left as ``KEEP`` are not changed."""
    entry = _entry_for_manager(entry_id, user)
    errors: dict[str, str] = {}
    changes: dict[str, Any] = {}
    if not isinstance(rating, _Keep):
        if rating is not None and (
            isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5
        ):
            errors["rating"] = _("Rate from 1 to 5 stars.")
        changes["rating"] = rating
    if not isinstance(note, _Keep):
        changes["private_note"] = _text(errors, "note", note or "", required=False, limit=2000)
    if not isinstance(feedback, _Keep):
        changes["feedback"] = _text(errors, "feedback", feedback or "", required=False, limit=2000)
    if errors:
        raise ValidationFailed(fields=errors)
    feedback_changed = "feedback" in changes and changes["feedback"] != entry.feedback
    if feedback_changed:
        changes["feedback_at"] = _now() if changes["feedback"] else None
    with transaction.atomic(durable=True):
        if entry.contest.status not in JUDGING_STATES | {
            Contest.Status.AWARDED,
            Contest.Status.COMPLETED,
        }:
            raise _wrong_state(entry.contest, _("rate entries"))
        updated = (
            Entry.objects.filter(pk=entry.pk)
            .exclude(status=Entry.Status.WITHDRAWN)
            .update(**changes, updated_at=_now())
        )
        if updated != 1:
            raise Conflict(_("This entry was withdrawn."), code=ErrorCode.WRONG_STATE)
        if feedback_changed and changes["feedback"]:
            _notify(
                entry.entrant,
                _("Feedback on your entry “%(title)s”") % {"title": entry.title},
                _("The client wrote: %(feedback)s\n\n%(url)s")
                % {"feedback": changes["feedback"], "url": _url(entry.get_absolute_url())},
            )
    entry.refresh_from_db()
    return entry


RULE_BREAK_CODES = {Entry.DeclineCode.COPIED, Entry.DeclineCode.RULES}


def entry_decline(
    *, entry_id: int, user: User, reason: str, reason_code: str = Entry.DeclineCode.FIT
) -> Entry:
    """Decline an entry with a reason the entrant is told: the client cannot award it any
    more. It keeps its share in the guarantee unless ``reason_code`` names a rule break
    (``copied``, ``rules``) and staff uphold it (``entry_decline_review``)."""
    entry = _entry_for_manager(entry_id, user)
    errors: dict[str, str] = {}
    reason = _text(errors, "reason", reason, required=True, limit=1000)
    if not errors and len(reason) < DECLINE_REASON_MIN:
        errors["reason"] = _("Tell the entrant why, in at least %(n)d characters.") % {
            "n": DECLINE_REASON_MIN
        }
    if reason_code not in Entry.DeclineCode.values:
        errors["reason_code"] = _("Choose why you decline: %(codes)s.") % {
            "codes": ", ".join(Entry.DeclineCode.values)
        }
    if errors:
        raise ValidationFailed(fields=errors)
    review = (
        Entry.DeclineReview.PENDING if reason_code in RULE_BREAK_CODES else Entry.DeclineReview.NONE
    )
    with transaction.atomic(durable=True):
        contest = Contest.objects.select_for_update().get(pk=entry.contest_id)
        if contest.status not in JUDGING_STATES:
            raise _wrong_state(contest, _("decline entries"))
        updated = Entry.objects.filter(pk=entry.pk, status__in=ACTIVE_ENTRY).update(
            status=Entry.Status.DECLINED,
            decline_reason=reason,
            decline_code=reason_code,
            decline_review=review,
            declined_at=_now(),
            finalist_at=None,
        )
        if updated != 1:
            raise Conflict(
                _("Only submitted entries and finalists can be declined."),
                code=ErrorCode.WRONG_STATE,
            )
        guarantee_note = (
            _(
                "The client says it breaks the rules; our staff will check. Unless they agree, "
                "your entry keeps its share if the prizes are split by the guarantee."
            )
            if review
            else _(
                "Your entry keeps its share if the client does not award the prizes and they "
                "are split by the guarantee."
            )
        )
        _notify(
            entry.entrant,
            _("Your entry “%(title)s” was declined") % {"title": entry.title},
            _("The client declined your entry in “%(contest)s”. Their reason: %(reason)s")
            % {"contest": contest.title, "reason": reason}
            + "\n\n"
            + guarantee_note
            + "\n\n"
            + _url(entry.get_absolute_url()),
        )
    entry.refresh_from_db()
    return entry


def entry_decline_review(*, entry_id: int, staff: User, uphold: bool) -> Entry:
    """Staff decide on a decline for a rule break (copied, against the rules): upheld, the
    entry leaves the guarantee; overturned, it keeps its share (it stays declined, so the
    client still need not award it). Only while the contest is open or judging: afterwards
    the money has moved and the review can change nothing.

    Takes the contest row lock, which ``contest_guarantee`` also holds while it picks the
    entries, so a review and the split never interleave."""
    if not staff.is_staff:
        raise NotFound(_("Entry not found."))
    entry = Entry.objects.select_related("contest", "entrant").filter(pk=entry_id).first()
    if entry is None:
        raise NotFound(_("Entry not found."))
    with transaction.atomic(durable=True):
        contest = Contest.objects.select_for_update().get(pk=entry.contest_id)
        if contest.status not in JUDGING_STATES:
            raise _wrong_state(contest, _("review declines"))
        updated = Entry.objects.filter(
            pk=entry.pk,
            status=Entry.Status.DECLINED,
            decline_review=Entry.DeclineReview.PENDING,
        ).update(
            decline_review=Entry.DeclineReview.UPHELD if uphold else Entry.DeclineReview.OVERTURNED,
            decline_reviewed_at=_now(),
            decline_reviewed_by=staff,
        )
        if updated != 1:
            raise Conflict(
                _("This decline is not waiting for a review."), code=ErrorCode.WRONG_STATE
            )
        _notify(
            entry.entrant,
            _("Staff reviewed the decline of “%(title)s”") % {"title": entry.title},
            (
                _(
                    "Our staff agree that the entry breaks the contest rules. It no longer "
                    "shares in the guaranteed prizes."
                )
                if uphold
                else _(
                    "Our staff found no rule break. Your entry stays declined by the client, but "
                    "keeps its share if the prizes are split by the guarantee."
                )
            )
            + "\n\n"
            + _url(entry.get_absolute_url()),
        )
    entry.refresh_from_db()
    return entry


def entry_finalist_set(*, entry_id: int, user: User, finalist: bool) -> Entry:
    """Mark an entry as finalist (up to the contest's number of finalists) or unmark it."""
    entry = _entry_for_manager(entry_id, user)
    with transaction.atomic(durable=True):
        contest = Contest.objects.select_for_update().get(pk=entry.contest_id)
        if contest.status not in JUDGING_STATES:
            raise _wrong_state(contest, _("choose finalists"))
        if finalist:
            count = contest.entries.filter(status=Entry.Status.FINALIST).count()
            if count >= contest.finalists_max:
                raise Conflict(
                    _("This contest has room for %(n)d finalists; unmark one first.")
                    % {"n": contest.finalists_max},
                    code=ErrorCode.FINALISTS_FULL,
                )
            updated = Entry.objects.filter(pk=entry.pk, status=Entry.Status.SUBMITTED).update(
                status=Entry.Status.FINALIST, finalist_at=_now()
            )
        else:
            updated = Entry.objects.filter(pk=entry.pk, status=Entry.Status.FINALIST).update(
                status=Entry.Status.SUBMITTED, finalist_at=None
            )
        if updated != 1:
            raise Conflict(
                _("Only a submitted entry can become a finalist.")
                if finalist
                else _("This entry is not a finalist."),
                code=ErrorCode.WRONG_STATE,
            )
    entry.refresh_from_db()
    return entry


def entry_report(*, entry_id: int, user: User, reason: str) -> EntryFlag:
    """Anyone who can see an entry may report it as copied; staff and the client see it."""
    access = entry_get_for_user(entry_id=entry_id, user=user)
    if access.is_entrant:
        raise ValidationFailed(_("You cannot report your own entry."))
    errors: dict[str, str] = {}
    reason = _text(errors, "reason", reason, required=True, limit=1000)
    if not errors and len(reason) < DECLINE_REASON_MIN:
        errors["reason"] = _("Say where it was copied from, in at least %(n)d characters.") % {
            "n": DECLINE_REASON_MIN
        }
    if errors:
        raise ValidationFailed(fields=errors)
    try:
        with transaction.atomic(durable=True):
            flag = EntryFlag.objects.create(
                entry=access.entry, kind=EntryFlag.Kind.REPORT, reported_by=user, reason=reason
            )
            Entry.objects.filter(pk=access.entry.pk).update(is_flagged=True)
    except IntegrityError:
        raise Conflict(
            _("You already reported this entry."), code=ErrorCode.ALREADY_REPORTED
        ) from None
    return flag


def flag_dismiss(*, flag_id: int, staff: User) -> EntryFlag:
    """Staff looked at a flag and found nothing wrong; the entry is unflagged when no other
    open flag is left."""
    if not staff.is_staff:
        raise NotFound(_("Flag not found."))
    with transaction.atomic(durable=True):
        flag = EntryFlag.objects.select_for_update().filter(pk=flag_id).first()
        if flag is None:
            raise NotFound(_("Flag not found."))
        updated = EntryFlag.objects.filter(pk=flag.pk, dismissed_at__isnull=True).update(
            dismissed_at=_now(), dismissed_by=staff
        )
        if updated != 1:
            raise Conflict(_("This flag was already dismissed."), code=ErrorCode.WRONG_STATE)
        still_open = EntryFlag.objects.filter(entry_id=flag.entry_id, dismissed_at__isnull=True)
        Entry.objects.filter(pk=flag.entry_id).update(is_flagged=still_open.exists())
    flag.refresh_from_db()
    return flag


def entry_portfolio_add(*, entry_id: int, user: User | None = None) -> PortfolioItem | None:
    """Put an entry with its first image into the entrant's portfolio (idempotent).

    Winning entries of public contests are added by the award (``user`` None);
    an entrant may add any other entry of theirs once the contest is decided,
    unless the contest was private."""
    from trefpunt.accounts.services import portfolio_item_create

    entry = (
        Entry.objects.select_related("contest", "entrant", "current_version")
        .filter(pk=entry_id)
        .first()
    )
    if entry is None or (user is not None and entry.entrant_id != user.pk):
        raise NotFound(_("Entry not found."))
    contest = entry.contest
    if contest.is_private:
        raise Conflict(
            _("Entries of private contests stay out of portfolios."), code=ErrorCode.PRIVATE
        )
    if contest.status not in {Contest.Status.AWARDED, Contest.Status.COMPLETED}:
        raise Conflict(
            _("You can show the entry once the contest is decided."), code=ErrorCode.WRONG_STATE
        )
    if entry.status == Entry.Status.WITHDRAWN:
        raise Conflict(_("This entry was withdrawn."), code=ErrorCode.WRONG_STATE)
    won = entry.status == Entry.Status.WINNER
    images = []
    first = (
        EntryFile.objects.filter(version_id=entry.current_version_id, kind="image")
        .order_by("position", "id")
        .first()
    )
    if first is not None:
        with first.file.storage.open(first.file.name or "", "rb") as handle:
            images.append(
                SimpleUploadedFile(
                    first.original_name, handle.read(), content_type=first.content_type
                )
            )
    return portfolio_item_create(
        owner=entry.entrant,
        title=entry.title,
        description=(_("Winning entry in “%(contest)s”.") if won else _("Entry in “%(contest)s”."))
        % {"contest": contest.title},
        images=images,
        source=PortfolioItem.Source.CONTEST_WIN if won else PortfolioItem.Source.CONTEST_ENTRY,
        source_ref=f"contests.entry:{entry.pk}",
    )


# --- handover ---------------------------------------------------------------------------------


def handover_deliver(
    *, entry_id: int, user: User, files: Sequence[Any], note: str = ""
) -> Handover:
    """The winner uploads the final files (any accepted type, checked like entries). Each
    delivery restarts the seven days after which the handover confirms itself."""
    entry = _entry_for_entrant(entry_id, user)
    handover = Handover.objects.filter(entry=entry).first()
    if handover is None:
        raise NotFound(_("Handover not found."))
    errors: dict[str, str] = {}
    note = _text(errors, "note", note or "", required=False, limit=2000)
    prepared = _files_prepare(files, errors)
    if errors:
        raise ValidationFailed(fields=errors)
    saved: list[FieldFile] = []
    try:
        with transaction.atomic(durable=True):
            Contest.objects.select_for_update().get(pk=entry.contest_id)
            updated = Handover.objects.filter(
                pk=handover.pk,
                status__in=[Handover.Status.AWAITING_FILES, Handover.Status.DELIVERED],
            ).update(status=Handover.Status.DELIVERED, delivered_at=_now(), note=note)
            if updated != 1:
                raise Conflict(_("This handover is already confirmed."), code=ErrorCode.WRONG_STATE)
            for item in prepared:
                record = HandoverFile(
                    handover=handover,
                    original_name=item.original_name,
                    kind=item.kind,
                    content_type=item.content_type,
                    size=item.size,
                )
                _store(record.file, item.name(), item.content, saved)
                record.save()
            contest = entry.contest
            for manager in _contest_managers(contest):
                _notify(
                    manager,
                    _("Final files for “%(title)s” are ready") % {"title": contest.title},
                    _("Check them and confirm receipt within 7 days: %(url)s")
                    % {"url": _url(reverse("contests:handover", kwargs={"pk": entry.pk}))},
                )
    except Exception:
        _unstore(saved)
        raise
    handover.refresh_from_db()
    return handover


def _handover_confirm_locked(handover: Handover, actor: User | None, auto: bool) -> None:
    """Confirm a delivered handover, record the rights transfer, complete the contest when
    it was the last one. Caller holds the contest lock."""
    now = _now()
    updated = Handover.objects.filter(pk=handover.pk, status=Handover.Status.DELIVERED).update(
        status=Handover.Status.CONFIRMED, confirmed_at=now, confirmed_by=actor, auto_confirmed=auto
    )
    if updated != 1:
        raise Conflict(
            _("Only delivered files can be confirmed; this handover is %(status)s.")
            % {"status": str(Handover.Status(handover.status).label).lower()},
            code=ErrorCode.WRONG_STATE,
        )
    entry = handover.entry
    contest = handover.contest
    RightsTransfer.objects.create(
        handover=handover,
        entry=entry,
        creator_id=entry.entrant_id,
        recipient_user_id=contest.created_by_id,
        recipient_organisation_id=contest.organisation_id,
        agreement_version=RIGHTS_AGREEMENT_VERSION,
        agreement_text=RIGHTS_AGREEMENT_TEXT,
        transferred_at=now,
    )
    _event(contest, "handover_confirmed", actor, entry=entry.pk, auto=auto)
    if not contest.handovers.exclude(status=Handover.Status.CONFIRMED).exists():
        Contest.objects.filter(pk=contest.pk, status=Contest.Status.AWARDED).update(
            status=Contest.Status.COMPLETED, completed_at=now
        )
        _event(contest, "completed", actor)


def handover_confirm(*, entry_id: int, user: User) -> Handover:
    """The client confirms receipt of the final files; the rights pass."""
    entry = _entry_for_manager(entry_id, user)
    with transaction.atomic(durable=True):
        Contest.objects.select_for_update().get(pk=entry.contest_id)
        handover = (
            Handover.objects.select_for_update()
            .select_related("entry", "contest")
            .filter(entry=entry)
            .first()
        )
        if handover is None:
            raise NotFound(_("Handover not found."))
        _handover_confirm_locked(handover, user, auto=False)
    handover.refresh_from_db()
    return handover


def handover_auto_confirm(*, handover_id: int) -> Handover:
    """Confirm a handover the client left unanswered for seven days after delivery."""
    handover = Handover.objects.filter(pk=handover_id).first()
    if handover is None:
        raise NotFound(_("Handover not found."))
    with transaction.atomic(durable=True):
        Contest.objects.select_for_update().get(pk=handover.contest_id)
        locked = (
            Handover.objects.select_for_update()
            .select_related("entry", "contest")
            .get(pk=handover.pk)
        )
        if locked.delivered_at is None or locked.delivered_at > _now() - AUTO_CONFIRM_AFTER:
            raise Conflict(_("Not due for automatic confirmation."), code=ErrorCode.NOT_DUE)
        _handover_confirm_locked(locked, None, auto=True)
    handover.refresh_from_db()
    return handover


# --- the sweep -------------------------------------------------------------------------------


@dataclass
class SweepResult:
    judging: list[int]
    guaranteed: list[int]
    confirmed: list[int]

    def as_dict(self) -> dict[str, list[int]]:
        return {"judging": self.judging, "guaranteed": self.guaranteed, "confirmed": self.confirmed}


def contests_sweep() -> SweepResult:
    """Apply every time-driven transition that is due: entry deadline → judging (or refund
    when nobody entered), judging end → guarantee, delivered handover + 7 days → confirmed.
    Each runs in its own transaction through the guarded services, so a concurrent run or a
    client acting at the same moment is harmless (the loser sees ``Conflict``)."""
    now = _now()
    result = SweepResult([], [], [])
    due_open = Contest.objects.filter(status=Contest.Status.OPEN, entry_deadline__lte=now)
    for pk in due_open.values_list("pk", flat=True).order_by("entry_deadline"):
        try:
            contest_close_entries(contest_id=pk)
            result.judging.append(pk)
        except Conflict:
            continue
    due_judging = Contest.objects.filter(status=Contest.Status.JUDGING, judging_ends_at__lte=now)
    for pk in due_judging.values_list("pk", flat=True).order_by("judging_ends_at"):
        try:
            contest_guarantee(contest_id=pk)
            result.guaranteed.append(pk)
        except Conflict:
            continue
    due_handovers = Handover.objects.filter(
        status=Handover.Status.DELIVERED, delivered_at__lte=now - AUTO_CONFIRM_AFTER
    )
    for pk in due_handovers.values_list("pk", flat=True).order_by("delivered_at"):
        try:
            handover_auto_confirm(handover_id=pk)
            result.confirmed.append(pk)
        except Conflict:
            continue
    return result
