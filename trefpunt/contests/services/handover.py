"""After the award: the winner hands over the final files, the client confirms (or the
sweep confirms after ``AUTO_CONFIRM_DAYS``), the rights pass, and the contest completes with
the last handover. Entries of public contests may go into their creators' portfolios.

Lock order: the contest row, then the handover row. Files are stored before the short
transaction that records them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils.translation import gettext as _

from trefpunt.accounts.models import PortfolioItem
from trefpunt.core.exceptions import Conflict, ErrorCode, NotFound, ValidationFailed

from .. import limits
from ..models import Contest, Entry, EntryFile, Handover, HandoverFile, RightsTransfer
from ..notifications import notify_files_delivered
from ..rules import CONTEST_STATES, HANDOVER_STATES, portfolio_refusal, raise_refusal
from .common import (
    Stored,
    contest_event,
    contest_managers,
    entry_for_entrant,
    files_prepare,
    now,
    text_clean,
)
from .judging import _entry_for_manager

if TYPE_CHECKING:
    from trefpunt.accounts.models import User

H = Handover.Status

RIGHTS_AGREEMENT_VERSION = "2025-1"
RIGHTS_AGREEMENT_TEXT = (
    "Transfer of rights, version 2025-1. With the confirmed handover of the final files, "
    "the creator transfers to the client all transferable intellectual property rights in "
    "the winning entry and the final files, worldwide and without limit in time, in "
    "exchange for the prize paid through Trefpunt. The creator declares that the work is "
    "their own original work and that it does not infringe the rights of others. Unless "
    "the contest was private, the creator may show the work in their portfolio."
)


def handover_deliver(
    *, entry_id: int, user: User, files: Sequence[Any], note: str = ""
) -> Handover:
    """The winner uploads the final files (any accepted type, checked like entries). Each
    delivery restarts the wait after which the handover confirms itself. The client is
    told."""
    entry = entry_for_entrant(entry_id, user)
    handover = Handover.objects.filter(entry=entry).first()
    if handover is None:
        raise NotFound(_("Handover not found."))
    HANDOVER_STATES.check(handover, H.DELIVERED, _("deliver files"))
    errors: dict[str, str] = {}
    note = text_clean(errors, "note", note or "", required=False, limit=limits.NOTE_MAX)
    prepared = files_prepare(files, errors)
    if errors:
        raise ValidationFailed(fields=errors)
    stored = Stored([])
    try:
        records = []
        for item in prepared:
            record = HandoverFile(
                handover=handover,
                original_name=item.original_name,
                kind=item.kind,
                content_type=item.content_type,
                size=item.size,
            )
            stored.put(record.file, item.name(), item.content)
            records.append(record)
        with transaction.atomic(durable=True):
            contest = Contest.objects.select_for_update().get(pk=entry.contest_id)
            HANDOVER_STATES.move(
                handover, H.DELIVERED, action=_("deliver files"), delivered_at=now(), note=note
            )
            HandoverFile.objects.bulk_create(records)
            notify_files_delivered(contest, entry, contest_managers(contest))
    except Exception:
        stored.discard()
        raise
    handover.refresh_from_db()
    return handover


def _handover_confirm_locked(
    contest: Contest, handover: Handover, actor: User | None, auto: bool
) -> None:
    """Confirm a delivered handover, record the rights transfer, complete the contest when
    it was the last one. Caller holds the contest lock (``contest`` is the locked row)."""
    moment = now()
    HANDOVER_STATES.move(
        handover,
        H.CONFIRMED,
        action=_("confirm the files"),
        confirmed_at=moment,
        confirmed_by=actor,
        auto_confirmed=auto,
    )
    entry = handover.entry
    RightsTransfer.objects.create(
        handover=handover,
        entry=entry,
        creator_id=entry.entrant_id,
        recipient_user_id=contest.created_by_id,
        recipient_organisation_id=contest.organisation_id,
        agreement_version=RIGHTS_AGREEMENT_VERSION,
        agreement_text=RIGHTS_AGREEMENT_TEXT,
        transferred_at=moment,
    )
    contest_event(contest, "handover_confirmed", actor, entry=entry.pk, auto=auto)
    if not contest.handovers.exclude(status=H.CONFIRMED).exists():
        CONTEST_STATES.move(
            contest, Contest.Status.COMPLETED, actor=actor, event="completed", completed_at=moment
        )


def _handover_lock(contest_id: int, **lookup: Any) -> tuple[Contest, Handover]:
    contest = Contest.objects.select_for_update().get(pk=contest_id)
    handover = Handover.objects.select_for_update().select_related("entry").filter(**lookup).first()
    if handover is None:
        raise NotFound(_("Handover not found."))
    return contest, handover


def handover_confirm(*, entry_id: int, user: User) -> Handover:
    """The client confirms receipt of the final files; the rights pass."""
    entry = _entry_for_manager(entry_id, user)
    with transaction.atomic(durable=True):
        contest, handover = _handover_lock(entry.contest_id, entry=entry)
        _handover_confirm_locked(contest, handover, user, auto=False)
    handover.refresh_from_db()
    return handover


def handover_auto_confirm(*, handover_id: int) -> Handover:
    """Confirm a handover the client left unanswered for ``AUTO_CONFIRM_DAYS`` after
    delivery."""
    found = Handover.objects.filter(pk=handover_id).first()
    if found is None:
        raise NotFound(_("Handover not found."))
    with transaction.atomic(durable=True):
        contest, handover = _handover_lock(found.contest_id, pk=found.pk)
        if (
            handover.delivered_at is None
            or handover.delivered_at > now() - limits.AUTO_CONFIRM_AFTER
        ):
            raise Conflict(_("Not due for automatic confirmation."), code=ErrorCode.NOT_DUE)
        _handover_confirm_locked(contest, handover, None, auto=True)
    handover.refresh_from_db()
    return handover


def _first_image(entry: Entry) -> list[SimpleUploadedFile]:
    first = (
        EntryFile.objects.filter(version_id=entry.current_version_id, kind="image")
        .order_by("position", "id")
        .first()
    )
    if first is None:
        return []
    with first.file.storage.open(first.file.name or "", "rb") as handle:
        return [
            SimpleUploadedFile(first.original_name, handle.read(), content_type=first.content_type)
        ]


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
    raise_refusal(portfolio_refusal(contest, entry))
    won = entry.status == Entry.Status.WINNER
    return portfolio_item_create(
        owner=entry.entrant,
        title=entry.title,
        description=(_("Winning entry in “%(contest)s”.") if won else _("Entry in “%(contest)s”."))
        % {"contest": contest.title},
        images=_first_image(entry),
        source=PortfolioItem.Source.CONTEST_WIN if won else PortfolioItem.Source.CONTEST_ENTRY,
        source_ref=f"contests.entry:{entry.pk}",
    )
