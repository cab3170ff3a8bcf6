"""Entering: submitting an entry, revising it, withdrawing it.

The slow work never runs under a row lock: the uploads are checked and processed (images
re-encoded, previews drawn, hashes computed), compared with the images of other entrants
and every past winner, and written to storage *before* the transaction; the transaction
locks the contest row (and the entry, for a revision) only to check the deadline and the
entry limit again, number the entry, record the rows and flags. Files stored for a
transaction that then fails are deleted again. Images that arrive in the same contest
while the scan ran are compared under the lock (only those, by id), so two near-copies
submitted at the same moment still flag each other.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import Max, Q
from django.utils.translation import gettext as _

from trefpunt.core.exceptions import NotFound, ValidationFailed
from trefpunt.core.files import Derived
from trefpunt.core.originality import is_near_duplicate

from .. import limits
from ..models import Contest, Entry, EntryFile, EntryFlag, EntryVersion
from ..notifications import notify_new_entry
from ..rules import (
    ENTRY_STATES,
    entry_limit_refusal,
    raise_refusal,
    revision_refusal,
    submit_refusal,
    withdraw_refusal,
)
from ..selectors import contest_access
from ..webhooks import entry_submitted_emit
from .brief import contest_nda_accept
from .common import Stored, contest_managers, entry_for_entrant, files_prepare, now, text_clean

if TYPE_CHECKING:
    from trefpunt.accounts.models import User


# --- originality ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Match:
    index: int  # the new file's position in the upload
    other_entry_id: int
    other_file_id: int
    distance: int


@dataclass(frozen=True)
class _Scan:
    matches: list[_Match]
    # The newest entry file when the scan started: files after it are compared under the
    # lock.
    seen_upto: int


def _compare(prepared: Sequence[Derived], candidates: Any, matches: list[_Match]) -> list[_Match]:
    hashed = [(i, item) for i, item in enumerate(prepared) if item.phash is not None]
    if not hashed:
        return matches
    for other_pk, other_phash, other_dhash, other_entry_id in candidates:
        for index, item in hashed:
            distance = is_near_duplicate(item.phash, item.dhash, other_phash, other_dhash)  # type: ignore[arg-type]
            if distance is not None:
                matches.append(_Match(index, other_entry_id, other_pk, distance))
    return matches


def _candidates(contest_id: int, entrant_id: int, where: Q) -> Any:
    """Images of other entrants that were not withdrawn, as (pk, phash, dhash, entry id)."""
    return (
        EntryFile.objects.filter(phash__isnull=False)
        .filter(where)
        .exclude(version__entry__entrant_id=entrant_id)
        .exclude(version__entry__status=Entry.Status.WITHDRAWN)
        .values_list("pk", "phash", "dhash", "version__entry_id")
    )


def _originality_scan(prepared: Sequence[Derived], contest: Contest, entrant_id: int) -> _Scan:
    """Compare each new image with the images of other entrants in this contest and with
    past winning entries of public contests (no lock held)."""
    seen_upto = EntryFile.objects.aggregate(n=Max("pk"))["n"] or 0
    if all(item.phash is None for item in prepared):
        return _Scan([], seen_upto)
    where = Q(version__entry__contest_id=contest.pk) | Q(
        version__entry__status=Entry.Status.WINNER,
        version__entry__contest__is_private=False,
    )
    candidates = _candidates(contest.pk, entrant_id, where).iterator()
    return _Scan(_compare(prepared, candidates, []), seen_upto)


def _originality_catch_up_locked(
    prepared: Sequence[Derived], scan: _Scan, contest: Contest, entrant_id: int
) -> list[_Match]:
    """The scan's matches plus those with images of this contest that arrived while it
    ran. Caller holds the contest lock, which every submission and revision takes."""
    if all(item.phash is None for item in prepared):
        return scan.matches
    where = Q(version__entry__contest_id=contest.pk, pk__gt=scan.seen_upto)
    return _compare(prepared, _candidates(contest.pk, entrant_id, where), list(scan.matches))


def _flags_record(entry: Entry, files: Sequence[EntryFile], matches: Sequence[_Match]) -> None:
    if not matches:
        return
    EntryFlag.objects.bulk_create(
        [
            EntryFlag(
                entry=entry,
                kind=EntryFlag.Kind.NEAR_DUPLICATE,
                file=files[match.index],
                other_entry_id=match.other_entry_id,
                other_file_id=match.other_file_id,
                distance=match.distance,
            )
            for match in matches
        ],
        ignore_conflicts=True,
    )
    Entry.objects.filter(pk=entry.pk).update(is_flagged=True)
    entry.is_flagged = True


# --- files -----------------------------------------------------------------------------------


def _files_store(prepared: Sequence[Derived], stored: Stored) -> list[EntryFile]:
    """Write the processed files to storage; the rows are saved later, in the transaction."""
    files: list[EntryFile] = []
    for position, item in enumerate(prepared):
        entry_file = EntryFile(
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
        stored.put(entry_file.file, item.name(), item.content)
        if item.thumb:
            stored.put(entry_file.thumb, item.name("-t", "webp"), item.thumb)
            stored.put(entry_file.thumb_public, item.name("-tp", "webp"), item.thumb_public)
            stored.put(entry_file.preview, item.name("-p", "webp"), item.preview)
            stored.put(entry_file.preview_clean, item.name("-c", "webp"), item.preview_clean)
        files.append(entry_file)
    return files


def _version_create(
    entry: Entry, number: int, note: str, files: Sequence[EntryFile]
) -> EntryVersion:
    version = EntryVersion.objects.create(entry=entry, number=number, note=note)
    for entry_file in files:
        entry_file.version = version
        entry_file.save()
    Entry.objects.filter(pk=entry.pk).update(current_version=version)
    entry.current_version = version
    return version


# --- submit, revise, withdraw -------------------------------------------------------------------


def _submission_clean(
    contest: Contest,
    *,
    title: str,
    description: str,
    files: Sequence[Any],
    originality_declared: bool,
    nda_pending: bool,
) -> tuple[str, str, list[Derived]]:
    errors: dict[str, str] = {}
    title = text_clean(errors, "title", title, required=True, limit=limits.ENTRY_TITLE_MAX)
    description = text_clean(
        errors,
        "description",
        description or "",
        required=False,
        limit=limits.ENTRY_DESCRIPTION_MAX,
    )
    if originality_declared is not True:
        errors["originality_declared"] = _(
            "Declare that the entry is your own original work to enter."
        )
    if nda_pending:
        errors["nda_accepted"] = _("Accept the non-disclosure agreement to enter.")
    prepared = files_prepare(files, errors)
    if errors:
        raise ValidationFailed(fields=errors)
    return title, description, prepared


def _entry_create_locked(contest: Contest, user: User, title: str, description: str) -> Entry:
    """Check the deadline and the entrant's limit and number the entry. Caller holds the
    contest lock, so concurrent submissions count each other."""
    raise_refusal(submit_refusal(contest, now(), manages=False))
    mine = (
        Entry.objects.filter(contest=contest, entrant=user)
        .exclude(status=Entry.Status.WITHDRAWN)
        .count()
    )
    raise_refusal(entry_limit_refusal(contest, mine=mine))
    number = (Entry.objects.filter(contest=contest).aggregate(n=Max("number"))["n"] or 0) + 1
    return Entry.objects.create(
        contest=contest,
        entrant=user,
        number=number,
        title=title,
        description=description,
        originality_declared=True,
    )


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
    """Enter a contest before its deadline (server clock) with one to
    ``FILES_PER_VERSION_MAX`` files, each checked by content and size; images are
    re-encoded and hashed, and near-duplicates flagged. An invitee enters once they
    accepted the contest's NDA (``nda_accepted`` accepts it first, for API clients).

    The files are processed, scanned and stored before the contest row is locked; under
    the lock the entrant's entries are counted and the entry is numbered and recorded."""
    found = Contest.objects.select_related("organisation").filter(pk=contest_id).first()
    if found is None:
        raise NotFound(_("Contest not found."))
    access = contest_access(found, user)
    contest = access.contest
    if not access.can_view:
        raise NotFound(_("Contest not found."))
    raise_refusal(submit_refusal(contest, now(), manages=access.can_manage))
    if access.can_accept_nda and nda_accepted:
        contest_nda_accept(contest_id=contest.pk, user=user)
        access = contest_access(contest, user)
    title, description, prepared = _submission_clean(
        contest,
        title=title,
        description=description,
        files=files,
        originality_declared=originality_declared,
        nda_pending=access.nda_pending,
    )
    scan = _originality_scan(prepared, contest, user.pk)
    stored = Stored([])
    try:
        entry_files = _files_store(prepared, stored)
        with transaction.atomic(durable=True):
            locked = Contest.objects.select_for_update().get(pk=contest.pk)
            entry = _entry_create_locked(locked, user, title, description)
            _version_create(entry, 1, "", entry_files)
            matches = _originality_catch_up_locked(prepared, scan, locked, user.pk)
            _flags_record(entry, entry_files, matches)
            notify_new_entry(locked, entry, contest_managers(locked))
            entry_submitted_emit(locked, entry)
    except Exception:
        stored.discard()
        raise
    return entry


def entry_revise(
    *, entry_id: int, user: User, files: Sequence[Any], note: str = ""
) -> EntryVersion:
    """Submit a new version of an entry (all versions are kept): before the entry deadline,
    or as a finalist during the finalist round. Processed, scanned and stored like a
    submission; locks contest → entry only to check the window again and record it."""
    entry = entry_for_entrant(entry_id, user)
    raise_refusal(revision_refusal(entry.contest, entry, now()))
    errors: dict[str, str] = {}
    note = text_clean(errors, "note", note or "", required=False, limit=limits.NOTE_MAX)
    prepared = files_prepare(files, errors)
    if errors:
        raise ValidationFailed(fields=errors)
    scan = _originality_scan(prepared, entry.contest, user.pk)
    stored = Stored([])
    try:
        entry_files = _files_store(prepared, stored)
        with transaction.atomic(durable=True):
            contest = Contest.objects.select_for_update().get(pk=entry.contest_id)
            locked = Entry.objects.select_for_update().get(pk=entry.pk)
            raise_refusal(revision_refusal(contest, locked, now()))
            number = (locked.versions.aggregate(n=Max("number"))["n"] or 0) + 1
            version = _version_create(locked, number, note, entry_files)
            matches = _originality_catch_up_locked(prepared, scan, contest, user.pk)
            _flags_record(locked, entry_files, matches)
    except Exception:
        stored.discard()
        raise
    return version


def entry_withdraw(*, entry_id: int, user: User) -> Entry:
    """The entrant takes an entry back, before the entry deadline. Locks the contest row
    (the sweep closing entries takes it too), then moves the entry."""
    entry = entry_for_entrant(entry_id, user)
    with transaction.atomic(durable=True):
        contest = Contest.objects.select_for_update().get(pk=entry.contest_id)
        raise_refusal(withdraw_refusal(contest, entry, now()))
        ENTRY_STATES.move(
            entry,
            Entry.Status.WITHDRAWN,
            action=_("withdraw this entry"),
            withdrawn_at=now(),
            finalist_at=None,
        )
    entry.refresh_from_db()
    return entry
