"""Ideas: submit (also as an improvement of another idea), edit until the first vote or
comment, add updates after that, merge duplicates (votes move, one per person; both
authors credited; followers told), and take down."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Sum
from django.db.models.fields.files import FieldFile
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from trefpunt.core.exceptions import (
    Conflict,
    ErrorCode,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from trefpunt.core.files import Derived, file_prepare
from trefpunt.core.states import event_record

from ..models import (
    CallTag,
    Follow,
    Idea,
    IdeaAttachment,
    IdeaAuthor,
    IdeaCall,
    IdeaUpdate,
    Participant,
    RewardedIdea,
    Stage,
    Vote,
)
from ..selectors import call_get_for_user, idea_get_for_user
from ..similarity import features
from ..stages import IDEA_STATES
from .common import MAX_ATTACHMENTS, idea_followers, raise_if, tell, text_clean

if TYPE_CHECKING:
    from trefpunt.accounts.models import User


def _tags_for(call_id: int, slugs: Sequence[str], errors: dict[str, str]) -> list[CallTag]:
    wanted = {slugify(str(s)) for s in slugs if str(s).strip()}
    tags = list(CallTag.objects.filter(call_id=call_id, slug__in=wanted))
    if len(tags) != len(wanted):
        errors["tags"] = _("Choose tags of this call.")
    return tags


def _files_prepare(files: Sequence[Any], errors: dict[str, str]) -> list[Derived]:
    if len(files) > MAX_ATTACHMENTS:
        errors["files"] = _("At most %(n)d files.") % {"n": MAX_ATTACHMENTS}
        return []
    prepared = []
    for upload in files:
        try:
            prepared.append(file_prepare(upload, field="files"))
        except ValidationFailed as exc:
            errors["files"] = " ".join(exc.fields.get("files", [exc.message]))
    return prepared


def _files_store(idea: Idea, prepared: Sequence[Derived], saved: list[FieldFile]) -> None:
    for item in prepared:
        attachment = IdeaAttachment(
            idea=idea,
            kind=item.kind,
            content_type=item.content_type,
            original_name=item.original_name,
            size=item.size,
            width=item.width,
            height=item.height,
        )
        attachment.file.save(item.name(), ContentFile(item.content), save=False)
        saved.append(attachment.file)
        if item.preview_clean:
            attachment.thumb.save(item.name("-t", "webp"), ContentFile(item.thumb), save=False)
            saved.append(attachment.thumb)
        attachment.save()


def _unstore(saved: Sequence[FieldFile]) -> None:
    for field_file in saved:
        field_file.storage.delete(field_file.name or "")


# The same idea from the same author this soon is the same request sent twice.
RESENT_WITHIN = timedelta(minutes=10)


def _improves_clean(call_id: int, improves_id: Any, errors: dict[str, str]) -> Idea | None:
    if not improves_id:
        return None
    original = Idea.objects.filter(
        pk=improves_id, call_id=call_id, status=Idea.Status.ACTIVE
    ).first()
    if original is None:
        errors["improves"] = _("You can improve only an active idea of this call.")
    return original


def idea_submit(
    *,
    call_id: int,
    user: User,
    title: str,
    description: str,
    tags: Sequence[str] = (),
    improves_id: int | None = None,
    files: Sequence[Any] = (),
) -> Idea:
    """Post an idea (or an improvement of ``improves_id``) while the call takes ideas. The
    author follows it and is credited for it. The same idea sent again by its author (a
    double click, a resent form) returns the first one instead of posting a twin.

    Locks: the author's participant row of the call (serialises one person's posts)."""
    access = call_get_for_user(call_id=call_id, user=user)
    if not access.submissions_open:
        raise Conflict(_("This call no longer takes ideas."), code=ErrorCode.SUBMISSIONS_CLOSED)
    errors: dict[str, str] = {}
    title = text_clean(errors, Idea, "title", title)
    description = text_clean(errors, Idea, "description", description)
    chosen = _tags_for(call_id, tags, errors)
    original = _improves_clean(call_id, improves_id, errors)
    prepared = _files_prepare(files, errors)
    raise_if(errors)
    saved: list[FieldFile] = []
    try:
        with transaction.atomic(durable=True):
            Participant.objects.get_or_create(call_id=call_id, user=user)
            Participant.objects.select_for_update().get(call_id=call_id, user=user)
            twin = Idea.objects.filter(
                call_id=call_id,
                author=user,
                title=title,
                description=description,
                improves=original,
                status=Idea.Status.ACTIVE,
                created_at__gte=timezone.now() - RESENT_WITHIN,
            ).first()
            if twin is not None:
                return twin
            idea = Idea.objects.create(
                call=access.call,
                author=user,
                title=title,
                description=description,
                stage=Stage.objects.get(call_id=call_id, kind=Stage.Kind.NEW),
                improves=original,
                features=features(title, description),
                indexed_at=timezone.now(),
            )
            idea.tags.set(chosen)
            IdeaAuthor.objects.create(idea=idea, user=user)
            Follow.objects.create(idea=idea, user=user)
            _files_store(idea, prepared, saved)
            event_record(subject="idea", subject_id=idea.pk, kind="submitted", actor=user)
            if original is not None:
                tell(
                    idea_followers(original),
                    "ideas.improved",
                    idea=original,
                    skip=user.pk,
                    improvement_id=idea.pk,
                )
    except Exception:
        _unstore(saved)
        raise
    return idea


def _own_idea(idea_id: int, user: User) -> Idea:
    access = idea_get_for_user(idea_id=idea_id, user=user)
    if not access.is_author:
        raise PermissionDenied(_("Only the author can change the idea."), code=ErrorCode.FORBIDDEN)
    return access.idea


def idea_edit(
    *, idea_id: int, user: User, title: str, description: str, tags: Sequence[str] = ()
) -> Idea:
    """The author edits the idea, until its first vote or comment (then: updates), and
    never once the call is closed: what was decided and paid stays what was posted."""
    idea = _own_idea(idea_id, user)
    if idea.call.status == IdeaCall.Status.CLOSED:
        raise Conflict(
            _("The call is closed: its ideas can no longer be edited."),
            code=ErrorCode.WRONG_STATE,
        )
    errors: dict[str, str] = {}
    title = text_clean(errors, Idea, "title", title)
    description = text_clean(errors, Idea, "description", description)
    chosen = _tags_for(idea.call_id, tags, errors)
    raise_if(errors)
    with transaction.atomic(durable=True):
        updated = Idea.objects.filter(
            pk=idea.pk, status=Idea.Status.ACTIVE, voter_count=0, comment_count=0
        ).update(
            title=title,
            description=description,
            features=features(title, description),
            indexed_at=timezone.now(),
            updated_at=timezone.now(),
        )
        if not updated:
            raise Conflict(
                _("The idea has votes or comments now: add an update instead of editing it."),
                code=ErrorCode.IDEA_LOCKED,
            )
        idea.tags.set(chosen)
    idea.refresh_from_db()
    return idea


def idea_update_add(*, idea_id: int, user: User, text: str) -> IdeaUpdate:
    """Once the idea is locked, the author adds updates; followers are told."""
    idea = _own_idea(idea_id, user)
    if not idea.is_active:
        raise Conflict(_("This idea was merged or taken down."), code=ErrorCode.IDEA_MERGED)
    errors: dict[str, str] = {}
    text = text_clean(errors, IdeaUpdate, "text", text)
    raise_if(errors)
    with transaction.atomic(durable=True):
        update = IdeaUpdate.objects.create(idea=idea, author=user, text=text)
        tell(idea_followers(idea), "ideas.update", idea=idea, skip=user.pk)
    return update


# --- merge ------------------------------------------------------------------------------


def _votes_merge(duplicate: Idea, kept: Idea) -> int:
    """Move the duplicate's votes to the kept idea; a person who voted for both keeps one
    vote (the larger, in budget voting: the smaller one's points come back to them).
    Returns how many votes moved."""
    both = {v.voter_id: v for v in Vote.objects.filter(idea=kept)}
    moved = 0
    for vote in Vote.objects.filter(idea=duplicate).order_by("pk"):
        other = both.get(vote.voter_id)
        if other is None:
            Vote.objects.filter(pk=vote.pk).update(idea=kept)
            moved += 1
            continue
        keep, drop = max(other.points, vote.points), min(other.points, vote.points)
        Vote.objects.filter(pk=other.pk).update(points=keep)
        vote.delete()
        if duplicate.call.is_budget:
            Participant.objects.filter(call_id=kept.call_id, user_id=vote.voter_id).update(
                points_spent=F("points_spent") - drop
            )
    for idea in (kept, duplicate):
        totals = Vote.objects.filter(idea=idea).aggregate(n=Count("pk"), s=Sum("points"))
        Idea.objects.filter(pk=idea.pk).update(voter_count=totals["n"] or 0, score=totals["s"] or 0)
    return moved


def _credits_merge(duplicate: Idea, kept: Idea) -> None:
    people = {
        duplicate.author_id,
        *IdeaAuthor.objects.filter(idea=duplicate).values_list("user_id", flat=True),
    }
    for user_id in sorted(people):
        try:
            with transaction.atomic():
                IdeaAuthor.objects.create(idea=kept, user_id=user_id, merged_from=duplicate)
        except IntegrityError:
            pass  # already credited (e.g. the same person wrote both)


def _followers_merge(duplicate: Idea, kept: Idea) -> None:
    already = set(Follow.objects.filter(idea=kept).values_list("user_id", flat=True))
    Follow.objects.bulk_create(
        [
            Follow(idea=kept, user_id=user_id)
            for user_id in Follow.objects.filter(idea=duplicate).values_list("user_id", flat=True)
            if user_id not in already
        ]
    )


def idea_merge(*, idea_id: int, into_id: int, user: User, idempotency_key: str = "") -> Idea:
    """Merge the duplicate ``idea_id`` into ``into_id`` (same call). Both authors are
    credited on the kept idea, votes move without counting anyone twice, and the followers
    of both hear about it. Returns the kept idea.

    Locks: both idea rows in id order."""
    access = idea_get_for_user(idea_id=idea_id, user=user)
    if not access.call.can_manage and not access.call.is_staff:
        raise NotFound(_("Idea not found."))
    if idea_id == into_id:
        raise Conflict(_("An idea cannot be merged into itself."), code=ErrorCode.MERGE_SAME)
    kept = Idea.objects.filter(pk=into_id, call_id=access.idea.call_id).first()
    if kept is None:
        raise ValidationFailed(fields={"into": _("Choose an idea of the same call.")})
    if not access.call.can_decide:
        raise Conflict(_("Ideas merge only while the call runs."), code=ErrorCode.WRONG_STATE)
    if idempotency_key and IDEA_STATES.replayed(idea_id, "merged", idempotency_key):
        return kept
    with transaction.atomic(durable=True):
        locked = {
            i.pk: i
            for i in Idea.objects.select_for_update()
            .filter(pk__in=[idea_id, into_id])
            .select_related("call")
            .order_by("pk")
        }
        duplicate, kept = locked[idea_id], locked[into_id]
        if not kept.is_active:
            raise Conflict(
                _("The idea to keep was merged or taken down."), code=ErrorCode.IDEA_MERGED
            )
        if RewardedIdea.objects.filter(idea=duplicate).exists():
            # Its authors were paid for it: merged away, they would share the kept idea's
            # reward too, and its own authors would get less.
            raise Conflict(
                _(
                    "This idea got a reward, so it cannot be merged away. Merge the other "
                    "idea into it instead."
                ),
                code=ErrorCode.WRONG_STATE,
            )
        IDEA_STATES.move(
            duplicate,
            Idea.Status.MERGED,
            action=_("merge the idea"),
            actor=user,
            event="merged",
            idempotency_key=idempotency_key,
            data={"into": kept.pk},
            merged_into=kept,
            indexed_at=timezone.now(),
        )
        moved = _votes_merge(duplicate, kept)
        _credits_merge(duplicate, kept)
        _followers_merge(duplicate, kept)
        event_record(
            subject="idea",
            subject_id=kept.pk,
            kind="merged_in",
            actor=user,
            data={"from": duplicate.pk, "votes": moved},
        )
        tell(
            sorted(set(idea_followers(kept)) | set(idea_followers(duplicate))),
            "ideas.merged",
            idea=kept,
            skip=user.pk,
            duplicate_id=duplicate.pk,
        )
    kept.refresh_from_db()
    return kept


def idea_hide(*, idea_id: int, staff: User, reason: str) -> Idea:
    """Staff take an idea down (a report upheld); it disappears from the call."""
    if not staff.is_staff:
        raise NotFound(_("Idea not found."))
    idea = Idea.objects.filter(pk=idea_id).first()
    if idea is None:
        raise NotFound(_("Idea not found."))
    with transaction.atomic(durable=True):
        IDEA_STATES.move(
            idea,
            Idea.Status.HIDDEN,
            action=_("take the idea down"),
            actor=staff,
            event="hidden",
            data={"reason": reason[:500]},
            indexed_at=timezone.now(),
        )
        from ..models import Report

        Report.objects.filter(idea=idea, comment__isnull=True, resolved_at__isnull=True).update(
            resolved_at=timezone.now()
        )
    return idea
