"""The personal start page after login: what needs me now, then work recommended for me.

Each mode says what of it needs a person, in one small module ``<app>/start.py`` (found by
``apps.DiscoveryConfig.ready``, like ``search.py``)::

    from trefpunt.discovery.start import NEEDS_JUDGING, StartItem, StartPart, register_part

    def register_start() -> None:
        register_part(StartPart(name="contests", needs=..., interests=...))

``needs(user)`` answers the person's open jobs of that mode (entries to judge, answers to
review, milestones to approve, ideas waiting for a decision, deadlines soon) in a fixed number
of queries; ``interests(user)`` the categories and skills of the work they did, which with
their profile's skills choose the recommended work. Recommendations come from the search index,
which holds public things only, so nothing private is ever recommended.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import reduce
from operator import or_
from typing import Any

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# The groups of "what needs me now", in the order the page shows them.
NEEDS_JUDGING = "judge"
NEEDS_REVIEW = "review"
NEEDS_APPROVAL = "approve"
NEEDS_DECISION = "decide"
DEADLINE_SOON = "deadline"
GROUPS: dict[str, Any] = {
    NEEDS_JUDGING: _("Entries to judge"),
    NEEDS_REVIEW: _("Answers to review"),
    NEEDS_APPROVAL: _("Milestones to approve"),
    NEEDS_DECISION: _("Ideas waiting for a decision"),
    DEADLINE_SOON: _("Deadlines soon"),
}
# "Soon": a deadline within this many days.
SOON = timedelta(days=7)
RECOMMENDED_MAX = 8
# The kinds of the index that are work one can take part in.
WORK_KINDS = ("contest", "ideacall", "batch", "job")


@dataclass(frozen=True)
class StartItem:
    group: str
    text: str
    url: str
    when: datetime | None = None
    count: int = 0


@dataclass(frozen=True)
class StartPart:
    name: str
    needs: Callable[[Any], Iterable[StartItem]]
    interests: Callable[[Any], Iterable[str]] = lambda user: ()
    order: int = 100


@dataclass(frozen=True)
class StartGroup:
    name: str
    label: str
    items: list[StartItem]


@dataclass(frozen=True)
class StartPage:
    groups: list[StartGroup]
    recommended: list[Any]  # selectors.Hit

    @property
    def needs_count(self) -> int:
        return sum(len(g.items) for g in self.groups)


_PARTS: dict[str, StartPart] = {}


def register_part(part: StartPart) -> None:
    _PARTS[part.name] = part


def start_parts() -> list[StartPart]:
    return sorted(_PARTS.values(), key=lambda p: (p.order, p.name))


def soon() -> datetime:
    return timezone.now() + SOON


def start_page_for(user: Any) -> StartPage:
    """The page's content: every part's needs grouped (soonest deadline first within a group),
    then recommended open work."""
    items: list[StartItem] = []
    interests: set[str] = set()
    for part in start_parts():
        items += part.needs(user)
        interests.update(part.interests(user))
    far = timezone.now() + timedelta(days=36500)
    groups = []
    for name, label in GROUPS.items():
        mine = sorted((i for i in items if i.group == name), key=lambda i: (i.when or far, i.text))
        if mine:
            groups.append(StartGroup(name=name, label=str(label), items=mine))
    return StartPage(groups=groups, recommended=recommended_for(user, interests))


def _skill_slugs(user: Any) -> list[str]:
    profile = getattr(user, "profile", None)
    if profile is None:
        return []
    return list(profile.skills.values_list("slug", flat=True))


def recommended_for(user: Any, interests: Iterable[str] = ()) -> list[Any]:
    """Open public work matching the person's skills and the categories of what they did,
    newest first; topped up with the newest open work when few match. Two queries (three with
    the profile's skills), whatever the person did."""
    from .models import SearchDocument
    from .selectors import _hit

    tags = sorted({*interests, *_skill_slugs(user)} - {""})
    open_work = SearchDocument.objects.filter(kind__in=WORK_KINDS, status="open").defer(
        "body", "stems", "keywords"
    )
    handle = getattr(getattr(user, "profile", None), "handle", "")

    def others(docs: Iterable[SearchDocument]) -> list[SearchDocument]:
        # Not one's own work (the poster's handle is in the document's link data). Filtered
        # here: a JSON key missing from most rows makes an SQL exclude drop them too.
        return [d for d in docs if not handle or d.detail.get("by", {}).get("handle") != handle]

    order = ("-published_at", "-id")
    picked: list[SearchDocument] = []
    if tags:
        match = reduce(or_, (Q(tags__contains=f" {t} ") | Q(category=t) for t in tags))
        picked = others(open_work.filter(match).order_by(*order)[: RECOMMENDED_MAX * 2])
    picked = picked[:RECOMMENDED_MAX]
    if len(picked) < RECOMMENDED_MAX:
        seen = [d.pk for d in picked]
        more = open_work.exclude(pk__in=seen).order_by(*order)[: RECOMMENDED_MAX * 2]
        picked += others(more)[: RECOMMENDED_MAX - len(picked)]
    return [_hit(d, None, "") for d in picked]
