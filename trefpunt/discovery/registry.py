"""Each mode registers how its public things index, in one small module ``<app>/search.py``
(found by ``apps.DiscoveryConfig.ready``)::

    from trefpunt.discovery.registry import Document, SearchKind, register

    def register_search() -> None:
        register(SearchKind(
            name="contest",
            label=gettext_lazy("Contests"),
            model=Contest,
            public=lambda: Contest.objects.filter(is_private=False, status__in=...),
            document=contest_document,
            url=lambda key: reverse("contests:detail", kwargs={"pk": key}),
            events={"contest": same},
            follows={Prize: lambda prize: [prize.contest_id]},
        ))

``public`` is the rule that keeps private things out: only what it returns is ever indexed, and
a thing it stops returning loses its document in the same transaction. ``events`` are the
``core.Event`` subjects whose events re-index the thing (state moves are conditional updates
that no ``post_save`` sees); ``follows`` are other models whose saves re-index it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Model, QuerySet


@dataclass(frozen=True)
class Document:
    title: str
    updated_at: datetime
    url_key: str
    body: str = ""
    names: str = ""
    keywords: str = ""
    category: str = ""
    tags: Sequence[str] = ()
    status: str = ""
    languages: Sequence[str] = ()
    amount: int | None = None
    currency: str = ""
    detail: Mapping[str, Any] = field(default_factory=dict)
    score: int = 0
    published_at: datetime | None = None


@dataclass(frozen=True)
class SearchKind:
    name: str
    label: Any  # lazy text, plural: "Contests"
    model: type[Model]
    public: Callable[[], QuerySet[Any]]
    document: Callable[[Any], Document]
    url: Callable[[str], str]
    # core.Event subject → the ids of this kind's things an event on that subject changes
    # (given the event: its ``subject_id``, ``kind`` and ``data``).
    events: Mapping[str, Callable[[Any], Iterable[int]]] = field(default_factory=dict)
    follows: Mapping[type[Model], Callable[[Any], Iterable[int]]] = field(default_factory=dict)
    # Labels of the kind's categories and statuses, for facets.
    category_labels: Callable[[], Mapping[str, str]] = dict
    status_labels: Callable[[], Mapping[str, str]] = dict
    # Shown in the sitemap and feeds (people and organisations have no feed).
    in_feeds: bool = True
    # Where the kind comes in lists of kinds (facets, the sitemap index).
    order: int = 100


def same(event: Any) -> list[int]:
    """For ``events``: the event's subject is the thing itself."""
    return [int(event.subject_id)]


_KINDS: dict[str, SearchKind] = {}


def register(kind: SearchKind) -> None:
    """Register (or replace: tests and reloads register again) a kind."""
    _KINDS[kind.name] = kind


def kinds() -> list[SearchKind]:
    return sorted(_KINDS.values(), key=lambda k: (k.order, k.name))


def kind_get(name: str) -> SearchKind | None:
    return _KINDS.get(name)


def kinds_for_model(model: type[Model]) -> list[SearchKind]:
    return [k for k in _KINDS.values() if k.model is model]


def kinds_following(model: type[Model]) -> list[tuple[SearchKind, Callable[[Any], Iterable[int]]]]:
    return [(k, k.follows[model]) for k in _KINDS.values() if model in k.follows]


def kinds_for_event(subject: str) -> list[SearchKind]:
    return [k for k in _KINDS.values() if subject in k.events]


# --- track records -----------------------------------------------------------------------


@dataclass(frozen=True)
class TrackPart:
    """One mode's share of a person's track record, computed from what happened on the
    platform: ``compute(user_ids)`` answers ``{user_id: {figure: value}}`` in a fixed number of
    queries, whatever the number of people. ``private`` figures are shown only to people who
    chose to show them (``ProfileListing.shows_work_stats``); ``score`` weighs the figures for
    sorting the directory."""

    name: str
    compute: Callable[[Sequence[int]], Mapping[int, Mapping[str, Any]]]
    score: Callable[[Mapping[str, Any]], int] = lambda figures: 0
    private: frozenset[str] = frozenset()
    order: int = 100
    # What changes the figures, as for ``SearchKind`` but answering *user* ids: the people
    # whose directory entries must be re-indexed.
    events: Mapping[str, Callable[[Any], Iterable[int]]] = field(default_factory=dict)
    follows: Mapping[type[Model], Callable[[Any], Iterable[int]]] = field(default_factory=dict)


_TRACK: dict[str, TrackPart] = {}


def register_track(part: TrackPart) -> None:
    _TRACK[part.name] = part


def track_parts() -> list[TrackPart]:
    return sorted(_TRACK.values(), key=lambda p: (p.order, p.name))
