"""Discussion: comments with replies (the public form of conversation on an idea), an edit
window, reports to staff, and following an idea or a call."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from trefpunt.core.exceptions import Conflict, ErrorCode, NotFound, PermissionDenied

from ..models import Comment, Follow, Idea, Report
from ..selectors import call_get_for_user, idea_get_for_user
from .common import idea_followers, raise_if, tell, text_clean

if TYPE_CHECKING:
    from trefpunt.accounts.models import User
    from trefpunt.moderation.models import Report as ModerationReport


def comment_edit_until(comment: Comment) -> datetime:
    return comment.created_at + timedelta(minutes=int(settings.IDEAS_COMMENT_EDIT_MINUTES))


def comment_create(*, idea_id: int, user: User, body: str, parent_id: int | None = None) -> Comment:
    """Comment on an idea, or reply to a comment (a reply to a reply joins its thread).
    The idea's authors and followers are told."""
    access = idea_get_for_user(idea_id=idea_id, user=user)
    if not access.can_comment:
        raise Conflict(_("Comments are closed here."), code=ErrorCode.WRONG_STATE)
    errors: dict[str, str] = {}
    body = text_clean(errors, Comment, "body", body)
    parent = None
    if parent_id:
        parent = Comment.objects.filter(pk=parent_id, idea_id=idea_id).first()
        if parent is None:
            errors["parent"] = _("You can reply only to a comment on this idea.")
        elif parent.parent_id:
            parent = Comment.objects.get(pk=parent.parent_id)
    raise_if(errors)
    with transaction.atomic(durable=True):
        comment = Comment.objects.create(idea=access.idea, author=user, body=body, parent=parent)
        Idea.objects.filter(pk=idea_id).update(comment_count=F("comment_count") + 1)
        people = set(idea_followers(access.idea))
        if parent is not None:
            people.add(parent.author_id)
        tell(sorted(people), "ideas.comment", idea=access.idea, skip=user.pk, comment_id=comment.pk)
    return comment


def comment_edit(*, comment_id: int, user: User, body: str) -> Comment:
    comment = Comment.objects.filter(pk=comment_id, hidden_at__isnull=True).first()
    if comment is None:
        raise NotFound(_("Comment not found."))
    idea_get_for_user(idea_id=comment.idea_id, user=user)
    if comment.author_id != user.pk:
        raise PermissionDenied(_("Only the author can edit a comment."), code=ErrorCode.FORBIDDEN)
    if timezone.now() > comment_edit_until(comment):
        raise Conflict(
            _("Comments can be edited for %(n)d minutes.")
            % {"n": settings.IDEAS_COMMENT_EDIT_MINUTES},
            code=ErrorCode.EDIT_WINDOW_PASSED,
        )
    errors: dict[str, str] = {}
    body = text_clean(errors, Comment, "body", body)
    raise_if(errors)
    Comment.objects.filter(pk=comment.pk).update(body=body, edited_at=timezone.now())
    comment.refresh_from_db()
    return comment


def report_create(
    *, idea_id: int, user: User, reason: str, comment_id: int | None = None
) -> ModerationReport:
    """Report an idea or a comment to the staff, into the one moderation queue; once per
    person and thing while the report is open."""
    from trefpunt.moderation.models import Reason
    from trefpunt.moderation.services import report_create as moderation_report

    access = idea_get_for_user(idea_id=idea_id, user=user)
    comment = None
    if comment_id:
        comment = Comment.objects.filter(pk=comment_id, idea=access.idea).first()
        if comment is None:
            raise NotFound(_("Comment not found."))
    errors: dict[str, str] = {}
    reason = text_clean(errors, Report, "reason", reason)
    raise_if(errors)
    return moderation_report(
        user=user,
        kind="ideas.comment" if comment else "ideas.idea",
        object_id=comment.pk if comment else access.idea.pk,
        reason=Reason.OTHER,
        details=reason,
    )


def comment_hide(*, comment_id: int, staff: User) -> Comment:
    """Staff take a comment down: it stays in the thread as "removed"."""
    comment = Comment.objects.filter(pk=comment_id).first()
    if comment is None or not staff.is_staff:
        raise NotFound(_("Comment not found."))
    now = timezone.now()
    with transaction.atomic(durable=True):
        Comment.objects.filter(pk=comment.pk, hidden_at__isnull=True).update(hidden_at=now)
        Report.objects.filter(comment=comment, resolved_at__isnull=True).update(resolved_at=now)
    comment.refresh_from_db()
    return comment


def report_dismiss(*, report_id: int, staff: User) -> None:
    if not staff.is_staff:
        raise NotFound(_("Report not found."))
    Report.objects.filter(pk=report_id, resolved_at__isnull=True).update(resolved_at=timezone.now())


def follow_set(
    *, user: User, follow: bool, idea_id: int | None = None, call_id: int | None = None
) -> bool:
    """Follow or stop following an idea or a call. Returns the new state."""
    target: dict[str, Any] = (
        {"idea": idea_get_for_user(idea_id=idea_id, user=user).idea}
        if idea_id
        else {"call": call_get_for_user(call_id=call_id or 0, user=user).call}
    )
    if follow:
        try:
            with transaction.atomic():
                Follow.objects.get_or_create(user=user, **target)
        except IntegrityError:
            pass
    else:
        Follow.objects.filter(user=user, **target).delete()
    return follow


def is_following(
    *, user: User | None, idea: Idea | None = None, call_id: int | None = None
) -> bool:
    if user is None:
        return False
    if idea is not None:
        return Follow.objects.filter(user=user, idea=idea).exists()
    return Follow.objects.filter(user=user, call_id=call_id).exists()
