"""What idea calls put on a person's start page (``discovery.start``): ideas waiting for a
decision in the calls they run, and the tags of the calls they took part in."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.urls import reverse
from django.utils.translation import ngettext

from trefpunt.discovery.start import NEEDS_DECISION, StartItem, StartPart
from trefpunt.discovery.start import register_part as register

from .models import CallTag, Idea
from .selectors import calls_managed_by


def call_needs(user: Any) -> list[StartItem]:
    """One query: the person's calls with ideas waiting (``calls_managed_by`` counts them)."""
    managed: QuerySet[Any] = calls_managed_by(user=user)  # annotated with ``waiting``
    calls = list(managed.filter(waiting__gt=0).order_by("-waiting", "pk")[:20])
    return [
        StartItem(
            NEEDS_DECISION,
            ngettext(
                "%(n)s idea waiting for a decision in “%(title)s”",
                "%(n)s ideas waiting for a decision in “%(title)s”",
                call.waiting,
            )
            % {"n": call.waiting, "title": call.title},
            reverse("ideas:call", kwargs={"pk": call.pk}),
            count=call.waiting,
        )
        for call in calls
    ]


def call_interests(user: Any) -> list[str]:
    """The tags of the calls the person sent ideas to."""
    calls = Idea.objects.filter(author=user).values("call_id")
    return list(
        CallTag.objects.filter(call__in=calls).values_list("slug", flat=True).distinct()[:20]
    )


def register_start() -> None:
    register(StartPart(name="ideas", needs=call_needs, interests=call_interests, order=20))
