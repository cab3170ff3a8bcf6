"""What idea calls tell people (registered with the notifications module): comments, stage
decisions with their reasons, merges, improvements and author updates, to an idea's
authors and followers."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from trefpunt.community.notifications import NotificationKind, notification_kinds_register


def _idea(context: dict[str, Any]) -> dict[str, Any]:
    from .models import Comment, Idea, RewardPayment, StageChange

    idea = Idea.objects.select_related("call", "stage").filter(pk=context["idea_id"]).first()
    values: dict[str, Any] = {**context, "idea": idea, "call": idea.call if idea else None}
    if context.get("change_id"):
        values["change"] = (
            StageChange.objects.select_related("to_stage").filter(pk=context["change_id"]).first()
        )
        values["rewards"] = list(RewardPayment.objects.filter(idea_id=context["idea_id"]))
    if context.get("comment_id"):
        values["comment"] = (
            Comment.objects.select_related("author__profile")
            .filter(pk=context["comment_id"])
            .first()
        )
    for key in ("duplicate_id", "improvement_id"):
        if context.get(key):
            values[key[:-3]] = Idea.objects.filter(pk=context[key]).first()
    return values


def register() -> None:
    notification_kinds_register(
        NotificationKind(
            "ideas.comment",
            "ideas/email/comment.txt",
            _("Comments on ideas you follow"),
            prepare=_idea,
        ),
        NotificationKind(
            "ideas.stage",
            "ideas/email/stage.txt",
            _("Stage decisions on ideas you follow"),
            essential=True,
            prepare=_idea,
        ),
        NotificationKind(
            "ideas.merged", "ideas/email/merged.txt", _("Merged ideas you follow"), prepare=_idea
        ),
        NotificationKind(
            "ideas.improved",
            "ideas/email/improved.txt",
            _("Improvements of ideas you follow"),
            prepare=_idea,
        ),
        NotificationKind(
            "ideas.update",
            "ideas/email/update.txt",
            _("Updates from authors of ideas you follow"),
            prepare=_idea,
        ),
    )
