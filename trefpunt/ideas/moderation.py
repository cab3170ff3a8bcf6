"""What of idea calls can be reported (``moderation.registry``): the call itself (taken
down: closed, the escrow's unspent rewards refunded to the payer, the idea authors told),
ideas and comments, both hidden by staff (an idea leaves its call, a comment shows as
removed). A suspended poster's calls leave the search index (``search.calls_public``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils import timezone
from django.utils.translation import gettext_lazy

from trefpunt.core.exceptions import NotFound
from trefpunt.moderation.registry import TakenDown, reportable_register

from .models import Comment, Idea, IdeaCall

if TYPE_CHECKING:
    from trefpunt.accounts.models import User


def _idea_visible(idea: Idea, user: User) -> bool:
    from .selectors import idea_get_for_user

    try:
        idea_get_for_user(idea_id=idea.pk, user=user)
    except NotFound:
        return False
    return True


def _idea_hide(idea: Idea, hidden: bool) -> None:
    """A hidden idea leaves its call (status ``hidden``); shown again it is active."""
    if hidden:
        Idea.objects.filter(pk=idea.pk, status=Idea.Status.ACTIVE).update(
            status=Idea.Status.HIDDEN, indexed_at=timezone.now()
        )
    else:
        Idea.objects.filter(pk=idea.pk, status=Idea.Status.HIDDEN).update(
            status=Idea.Status.ACTIVE, indexed_at=timezone.now()
        )


def _comment_hide(comment: Comment, hidden: bool) -> None:
    Comment.objects.filter(pk=comment.pk).update(hidden_at=timezone.now() if hidden else None)


def _call_visible(call: IdeaCall, user: User) -> bool:
    from .selectors import call_access

    return bool(call_access(call, user).can_view)


def _call_take_down(call: IdeaCall, staff: User, reason: str) -> TakenDown:
    from .services import call_take_down

    taken, refunded, authors = call_take_down(call_id=call.pk, staff=staff)
    return TakenDown(refunded=refunded, currency=taken.currency, told=authors)


def register() -> None:
    reportable_register(
        "ideas.call",
        model=IdeaCall,
        label=gettext_lazy("idea call"),
        author_field="created_by",
        visible_to=_call_visible,
        title=lambda call: call.title,
        take_down=_call_take_down,
        public_of_author=lambda user_id: IdeaCall.objects.filter(created_by_id=user_id).values_list(
            "pk", flat=True
        ),
    )
    reportable_register(
        "ideas.idea",
        model=Idea,
        label=gettext_lazy("idea"),
        author_field="author",
        visible_to=_idea_visible,
        title=lambda idea: idea.title,
        hide=_idea_hide,
        is_hidden=lambda idea: idea.status == Idea.Status.HIDDEN,
        public_of_author=lambda user_id: Idea.objects.filter(
            author_id=user_id, status=Idea.Status.ACTIVE
        ).values_list("pk", flat=True),
    )
    reportable_register(
        "ideas.comment",
        model=Comment,
        label=gettext_lazy("comment"),
        author_field="author",
        visible_to=lambda comment, user: (
            comment.hidden_at is None and _idea_visible(comment.idea, user)
        ),
        title=lambda comment: comment.body[:80],
        url=lambda comment: f"{comment.idea.get_absolute_url()}#comment-{comment.pk}",
        hide=_comment_hide,
        is_hidden=lambda comment: comment.hidden_at is not None,
        public_of_author=lambda user_id: Comment.objects.filter(
            author_id=user_id, hidden_at__isnull=True
        ).values_list("pk", flat=True),
    )
