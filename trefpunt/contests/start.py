"""What contests put on a person's start page (``discovery.start``): entries to judge in the
contests they run, deadlines soon (judging they must finish, entries they may still revise),
and the categories of the contests they entered, for recommendations."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from trefpunt.discovery.start import (
    DEADLINE_SOON,
    NEEDS_JUDGING,
    StartItem,
    StartPart,
    soon,
)
from trefpunt.discovery.start import register_part as register

from .models import Contest, Entry
from .rules import ACTIVE_ENTRY


def _managed(user: Any) -> Q:
    from trefpunt.accounts.selectors import organisations_user_can_post_for

    return Q(created_by=user, organisation__isnull=True) | Q(
        organisation__in=organisations_user_can_post_for(user=user)
    )


def contest_needs(user: Any) -> list[StartItem]:
    """Two queries: the contests the person runs that have unrated entries or a judging
    deadline soon, and the open contests they entered that close soon."""
    items: list[StartItem] = []
    unrated = Count(
        "entries", filter=Q(entries__status__in=ACTIVE_ENTRY, entries__rating__isnull=True)
    )
    running = (
        Contest.objects.filter(_managed(user))
        .filter(status__in=[Contest.Status.OPEN, Contest.Status.JUDGING])
        .annotate(unrated=unrated)
        .filter(Q(unrated__gt=0) | Q(status=Contest.Status.JUDGING, judging_ends_at__lte=soon()))
        .order_by("judging_ends_at", "entry_deadline", "pk")[:20]
    )
    for contest in running:
        url = reverse("contests:judge", kwargs={"pk": contest.pk})
        if contest.unrated:
            text = ngettext(
                "%(n)s entry to judge in “%(title)s”",
                "%(n)s entries to judge in “%(title)s”",
                contest.unrated,
            ) % {"n": contest.unrated, "title": contest.title}
            items.append(StartItem(NEEDS_JUDGING, text, url, count=contest.unrated))
        if contest.status == Contest.Status.JUDGING and contest.judging_ends_at:
            text = _("Choose the winners of “%(title)s”") % {"title": contest.title}
            items.append(StartItem(DEADLINE_SOON, text, url, when=contest.judging_ends_at))
    entered = (
        Contest.objects.filter(
            status=Contest.Status.OPEN,
            entry_deadline__gte=timezone.now(),
            entry_deadline__lte=soon(),
            entries__entrant=user,
            entries__status__in=ACTIVE_ENTRY,
        )
        .distinct()
        .order_by("entry_deadline", "pk")[:20]
    )
    for closing in entered:
        text = _("Entries for “%(title)s” close") % {"title": closing.title}
        url = reverse("contests:detail", kwargs={"pk": closing.pk})
        items.append(StartItem(DEADLINE_SOON, text, url, when=closing.entry_deadline))
    return items


def contest_interests(user: Any) -> list[str]:
    """The categories of the contests the person entered."""
    return list(
        Contest.objects.filter(entries__entrant=user)
        .exclude(entries__status=Entry.Status.WITHDRAWN)
        .values_list("category", flat=True)
        .distinct()[:20]
    )


def register_start() -> None:
    register(StartPart(name="contests", needs=contest_needs, interests=contest_interests, order=10))
