"""Judging: the client rates, gives feedback, declines with a reason and picks finalists
(and may start a finalist round); anyone may report an entry as copied; staff review
rule-break declines and dismiss flags.

Each locks the contest row before moving an entry, the lock ``contest_guarantee`` holds
while it picks the entries that share in the guarantee, so a judging action and the split
never interleave.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from trefpunt.core.exceptions import Conflict, ErrorCode, NotFound, ValidationFailed

from .. import limits
from ..models import Contest, Entry, EntryFlag
from ..notifications import (
    notify_decline_reviewed,
    notify_declined,
    notify_feedback,
    notify_finalists,
)
from ..rules import (
    ENTRY_STATES,
    finalist_round_refusal,
    finalists_full_refusal,
    judging_refusal,
    raise_refusal,
    rating_refusal,
    report_refusal,
)
from ..selectors import contest_access, contest_get_for_manager, entry_get_for_user
from .common import KEEP, _Keep, aware, contest_event, now, reason_clean, text_clean

if TYPE_CHECKING:
    from trefpunt.accounts.models import User

E = Entry.Status
RULE_BREAK_CODES = {Entry.DeclineCode.COPIED, Entry.DeclineCode.RULES}


def _entry_for_manager(entry_id: int, user: User) -> Entry:
    entry = Entry.objects.select_related("contest", "entrant").filter(pk=entry_id).first()
    if entry is None or not contest_access(entry.contest, user).can_manage:
        raise NotFound(_("Entry not found."))
    return entry


def _rating_clean(errors: dict[str, str], rating: Any) -> Any:
    if rating is not None and (
        isinstance(rating, bool)
        or not isinstance(rating, int)
        or not limits.RATING_MIN <= rating <= limits.RATING_MAX
    ):
        errors["rating"] = _("Rate from %(min)d to %(max)d stars.") % {
            "min": limits.RATING_MIN,
            "max": limits.RATING_MAX,
        }
    return rating


def _rating_changes(rating: Any, note: Any, feedback: Any) -> dict[str, Any]:
    errors: dict[str, str] = {}
    changes: dict[str, Any] = {}
    if not isinstance(rating, _Keep):
        changes["rating"] = _rating_clean(errors, rating)
    if not isinstance(note, _Keep):
        changes["private_note"] = text_clean(
            errors, "note", note or "", required=False, limit=limits.NOTE_MAX
        )
    if not isinstance(feedback, _Keep):
        changes["feedback"] = text_clean(
            errors, "feedback", feedback or "", required=False, limit=limits.NOTE_MAX
        )
    if errors:
        raise ValidationFailed(fields=errors)
    return changes


def entry_rate(
    *,
    entry_id: int,
    user: User,
    rating: int | _Keep | None = KEEP,
    note: str | _Keep = KEEP,
    feedback: str | _Keep = KEEP,
) -> Entry:
    """The client's judging of one entry: rating 1–5 (``None`` clears it), a private note
    and feedback the entrant sees (and is told about). Fields left as ``KEEP`` are not
    changed. Not a state move: the entry keeps its status."""
    entry = _entry_for_manager(entry_id, user)
    changes = _rating_changes(rating, note, feedback)
    feedback_changed = "feedback" in changes and changes["feedback"] != entry.feedback
    if feedback_changed:
        changes["feedback_at"] = now() if changes["feedback"] else None
    raise_refusal(rating_refusal(entry.contest))
    with transaction.atomic(durable=True):
        updated = (
            Entry.objects.filter(pk=entry.pk)
            .exclude(status=E.WITHDRAWN)
            .update(**changes, updated_at=now())
        )
        if updated != 1:
            raise Conflict(_("This entry was withdrawn."), code=ErrorCode.WRONG_STATE)
        if feedback_changed and changes["feedback"]:
            notify_feedback(entry, changes["feedback"])
    entry.refresh_from_db()
    return entry


def entry_decline(
    *, entry_id: int, user: User, reason: str, reason_code: str = Entry.DeclineCode.FIT
) -> Entry:
    """Decline an entry with a reason the entrant is told: the client cannot award it any
    more. It keeps its share in the guarantee unless ``reason_code`` names a rule break
    (``copied``, ``rules``) and staff uphold it (``entry_decline_review``)."""
    entry = _entry_for_manager(entry_id, user)
    errors: dict[str, str] = {}
    reason = reason_clean(
        errors, "reason", reason, _("Tell the entrant why, in at least %(n)d characters.")
    )
    if reason_code not in Entry.DeclineCode.values:
        errors["reason_code"] = _("Choose why you decline: %(codes)s.") % {
            "codes": ", ".join(Entry.DeclineCode.values)
        }
    if errors:
        raise ValidationFailed(fields=errors)
    review = reason_code in RULE_BREAK_CODES
    with transaction.atomic(durable=True):
        contest = Contest.objects.select_for_update().get(pk=entry.contest_id)
        raise_refusal(judging_refusal(contest, _("decline entries")))
        ENTRY_STATES.move(
            entry,
            E.DECLINED,
            action=_("decline this entry"),
            decline_reason=reason,
            decline_code=reason_code,
            decline_review=Entry.DeclineReview.PENDING if review else Entry.DeclineReview.NONE,
            declined_at=now(),
            finalist_at=None,
        )
        notify_declined(entry, contest, reason=reason, review=review)
    entry.refresh_from_db()
    return entry


def entry_decline_review(*, entry_id: int, staff: User, uphold: bool) -> Entry:
    """Staff decide on a decline for a rule break (copied, against the rules): upheld, the
    entry leaves the guarantee; overturned, it keeps its share (it stays declined, so the
    client still need not award it). Only while the contest is open or judging: afterwards
    the money has moved and the review can change nothing."""
    if not staff.is_staff:
        raise NotFound(_("Entry not found."))
    entry = Entry.objects.select_related("contest", "entrant").filter(pk=entry_id).first()
    if entry is None:
        raise NotFound(_("Entry not found."))
    with transaction.atomic(durable=True):
        contest = Contest.objects.select_for_update().get(pk=entry.contest_id)
        raise_refusal(judging_refusal(contest, _("review declines")))
        updated = Entry.objects.filter(
            pk=entry.pk,
            status=E.DECLINED,
            decline_review=Entry.DeclineReview.PENDING,
        ).update(
            decline_review=Entry.DeclineReview.UPHELD if uphold else Entry.DeclineReview.OVERTURNED,
            decline_reviewed_at=now(),
            decline_reviewed_by=staff,
        )
        if updated != 1:
            raise Conflict(
                _("This decline is not waiting for a review."), code=ErrorCode.WRONG_STATE
            )
        notify_decline_reviewed(entry, upheld=uphold)
    entry.refresh_from_db()
    return entry


def entry_finalist_set(*, entry_id: int, user: User, finalist: bool) -> Entry:
    """Mark an entry as finalist (up to the contest's number of finalists) or unmark it."""
    entry = _entry_for_manager(entry_id, user)
    with transaction.atomic(durable=True):
        contest = Contest.objects.select_for_update().get(pk=entry.contest_id)
        raise_refusal(judging_refusal(contest, _("choose finalists")))
        if finalist:
            count = contest.entries.filter(status=E.FINALIST).count()
            raise_refusal(finalists_full_refusal(contest, finalists=count))
            ENTRY_STATES.move(
                entry, E.FINALIST, action=_("make this entry a finalist"), finalist_at=now()
            )
        else:
            ENTRY_STATES.move(
                entry, E.SUBMITTED, action=_("unmark this finalist"), finalist_at=None
            )
    entry.refresh_from_db()
    return entry


def _round_deadline_clean(contest: Contest, deadline: Any) -> datetime:
    if not isinstance(deadline, datetime):
        raise ValidationFailed(fields={"deadline": _("Enter a date and time.")})
    deadline = aware(deadline)
    if deadline < now() + limits.DEADLINE_MIN_AHEAD:
        raise ValidationFailed(fields={"deadline": _("At least an hour from now.")})
    if contest.judging_ends_at and deadline >= contest.judging_ends_at:
        raise ValidationFailed(
            fields={"deadline": _("The finalist round must end before judging ends.")}
        )
    return deadline


def contest_finalist_round_open(*, contest_id: int, user: User, deadline: datetime) -> Contest:
    """Let the finalists submit revisions until ``deadline`` (during judging, before it
    ends; once per contest), and tell them."""
    contest = contest_get_for_manager(contest_id=contest_id, user=user)
    raise_refusal(finalist_round_refusal(contest))
    deadline = _round_deadline_clean(contest, deadline)
    with transaction.atomic(durable=True):
        locked = Contest.objects.select_for_update().get(pk=contest.pk)
        raise_refusal(finalist_round_refusal(locked))
        finalists = list(locked.entries.filter(status=E.FINALIST))
        if not finalists:
            raise Conflict(_("Mark at least one finalist first."), code=ErrorCode.NO_FINALISTS)
        Contest.objects.filter(pk=locked.pk).update(finalist_deadline=deadline)
        contest_event(locked, "finalist_round", user, deadline=deadline.isoformat())
        notify_finalists(locked, finalists, deadline)
    return Contest.objects.get(pk=contest.pk)


def entry_report(*, entry_id: int, user: User, reason: str) -> EntryFlag:
    """Anyone who can see an entry may report it as copied (not its entrant, and not its
    client, who declines it as copied instead); staff and the client see the report."""
    access = entry_get_for_user(entry_id=entry_id, user=user)
    raise_refusal(report_refusal(is_entrant=access.is_entrant, manages=access.contest.can_manage))
    errors: dict[str, str] = {}
    reason = reason_clean(
        errors, "reason", reason, _("Say where it was copied from, in at least %(n)d characters.")
    )
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
            dismissed_at=now(), dismissed_by=staff
        )
        if updated != 1:
            raise Conflict(_("This flag was already dismissed."), code=ErrorCode.ALREADY_DONE)
        still_open = EntryFlag.objects.filter(entry_id=flag.entry_id, dismissed_at__isnull=True)
        Entry.objects.filter(pk=flag.entry_id).update(is_flagged=still_open.exists())
    flag.refresh_from_db()
    return flag
