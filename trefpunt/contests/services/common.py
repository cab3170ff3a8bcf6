"""What the contest services share: the clock, text checks, the contest's event trail, who
acts for the client, and storing files outside the transactions that record them."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any, Final

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models.fields.files import FieldFile
from django.utils import timezone
from django.utils.translation import gettext as _

from trefpunt.accounts.models import Membership, Role
from trefpunt.core.exceptions import NotFound, ValidationFailed
from trefpunt.core.files import Derived, file_prepare
from trefpunt.core.models import Event
from trefpunt.core.states import event_record

from .. import limits
from ..models import Contest, Entry
from ..rules import CONTEST_STATES

if TYPE_CHECKING:
    from trefpunt.accounts.models import User

logger = logging.getLogger(__name__)


class _Keep:
    """Marker for 'leave this field as it is' in partial updates."""

    def __repr__(self) -> str:
        return "KEEP"


KEEP: Final = _Keep()


def now() -> datetime:
    return timezone.now()


def text_clean(errors: dict[str, str], name: str, value: Any, *, required: bool, limit: int) -> str:
    """``value`` stripped; a problem goes into ``errors[name]``."""
    text = (value if isinstance(value, str) else "").strip()
    if value is not None and not isinstance(value, str):
        errors[name] = _("Enter text.")
    elif required and not text:
        errors[name] = _("This field is required.")
    elif len(text) > limit:
        errors[name] = _("At most %(n)d characters.") % {"n": limit}
    return text


def reason_clean(errors: dict[str, str], name: str, value: Any, too_short: str) -> str:
    """A reason someone must give (a decline, a report): required, at least
    ``limits.REASON_MIN`` characters (``too_short`` says so), at most ``REASON_MAX``."""
    reason = text_clean(errors, name, value, required=True, limit=limits.REASON_MAX)
    if name not in errors and len(reason) < limits.REASON_MIN:
        errors[name] = too_short % {"n": limits.REASON_MIN}
    return reason


def int_clean(
    errors: dict[str, str], name: str, value: Any, *, low: int, high: int, message: str
) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        errors[name] = message
        return low
    return value


def aware(moment: datetime) -> datetime:
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


# --- the trail ---------------------------------------------------------------------------


def contest_event(
    contest: Contest, kind: str, actor: User | None, idempotency_key: str = "", **data: Any
) -> Event:
    """Record an event on the contest's trail that is not a state move (those record
    their own through ``CONTEST_STATES.move``)."""
    return event_record(
        subject=CONTEST_STATES.subject,
        subject_id=contest.pk,
        kind=kind,
        actor=actor,
        idempotency_key=idempotency_key,
        data=data,
    )


def contest_managers(contest: Contest) -> list[User]:
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


def contest_get_unscoped(contest_id: int) -> Contest:
    """A contest by id for the sweep and the background work (no viewer to scope by)."""
    contest = Contest.objects.filter(pk=contest_id).first()
    if contest is None:
        raise NotFound(_("Contest not found."))
    return contest


def entry_for_entrant(entry_id: int, user: User) -> Entry:
    entry = Entry.objects.select_related("contest").filter(pk=entry_id, entrant=user).first()
    if entry is None:
        raise NotFound(_("Entry not found."))
    return entry


# --- files -------------------------------------------------------------------------------


def files_prepare(
    files: Sequence[Any], errors: dict[str, str], field: str = "files"
) -> list[Derived]:
    """Check and process one to ``FILES_PER_VERSION_MAX`` uploads (images re-encoded,
    previews drawn, hashes computed): slow work, done before any lock is taken."""
    if not files:
        errors[field] = _("Add at least one file.")
        return []
    if len(files) > limits.FILES_PER_VERSION_MAX:
        errors[field] = _("At most %(n)d files.") % {"n": limits.FILES_PER_VERSION_MAX}
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


@dataclass
class Stored:
    """Files written to storage before the transaction that records them; if that
    transaction fails, ``discard`` removes them again."""

    saved: list[FieldFile]

    def put(self, field_file: FieldFile, name: str, content: bytes) -> None:
        field_file.save(name, ContentFile(content), save=False)
        self.saved.append(field_file)

    def discard(self) -> None:
        for field_file in self.saved:
            try:
                field_file.storage.delete(field_file.name or "")
            except OSError:  # pragma: no cover
                logger.warning("could not delete %s", field_file.name)


def files_delete_on_commit(field_files: Iterable[FieldFile]) -> None:
    """Delete stored files once the transaction that forgot them has committed."""
    for field_file in field_files:
        transaction.on_commit(partial(field_file.storage.delete, field_file.name or ""))
