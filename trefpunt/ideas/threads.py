"""What a conversation can attach to in idea calls (``community.threads``): one private
thread per idea between the people who run its call and the idea's credited authors (the
public discussion is the idea's comments). Nobody else may read it: the call's audience
rules do not widen it."""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.translation import gettext_lazy as _

from trefpunt.accounts.selectors import clients_acting
from trefpunt.community.threads import ThreadKind, ThreadTarget, thread_kinds_register

from .models import Idea, IdeaAuthor


def idea_thread_targets(wanted: Sequence[tuple[int, str]]) -> dict[tuple[int, str], ThreadTarget]:
    """Targets of idea threads (three queries for any number of ideas)."""
    ids = sorted({pk for pk, key in wanted if key == ""})
    ideas = Idea.objects.select_related("call").in_bulk(ids)
    credits: dict[int, set[int]] = {}
    for idea_id, user_id in IdeaAuthor.objects.filter(idea_id__in=ids).values_list(
        "idea_id", "user_id"
    ):
        credits.setdefault(idea_id, set()).add(user_id)
    managers = clients_acting(
        {pk: (i.call.organisation_id, i.call.created_by_id) for pk, i in ideas.items()}
    )
    targets = {}
    for pk, idea in ideas.items():
        if idea.status == Idea.Status.HIDDEN:
            continue
        targets[(pk, "")] = ThreadTarget(
            title=idea.title,
            url=idea.get_absolute_url(),
            participants=managers[pk] | credits.get(pk, {idea.author_id}),
        )
    return targets


def register() -> None:
    thread_kinds_register(ThreadKind("idea", _("Idea"), idea_thread_targets))
