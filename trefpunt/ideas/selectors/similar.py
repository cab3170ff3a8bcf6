"""The similar-ideas suggestion: the call's index (``similarity.Index``) from the stored
features, kept per process and brought up to date cheaply.

A signature of the call's active ideas (count, id sum, last indexed) is read on every
request. When it changed, the ideas posted or edited since the index was built are read
(a few rows) and scored beside it, ideas merged or taken down are left out, and only when
that delta grows past ``DELTA_MAX`` (or the index is older than ``REBUILD_SECONDS``) is the
whole index rebuilt from the stored features. A suggestion never uses a stale index.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Max, QuerySet, Sum

from ..models import Idea, IdeaCall
from ..similarity import INDEXES, SUGGEST_LIMIT, SUGGEST_MIN_SCORE, Index, features

DELTA_MAX = 300
REBUILD_SECONDS = 600


@dataclass(frozen=True)
class CallIndex:
    base: Index
    base_ids: frozenset[int]
    base_last: datetime | None
    built: float
    delta: tuple[tuple[int, bytes], ...] = ()
    hidden: frozenset[int] = frozenset()  # base ideas no longer active, or edited since

    def query(
        self, blob: bytes, *, limit: int, exclude: tuple[int, ...]
    ) -> list[tuple[int, float]]:
        skip = self.hidden | set(exclude)
        hits = self.base.query(blob, limit=limit, exclude=skip)
        hits += [(pk, sc) for pk, sc in self.base.score_rows(blob, self.delta) if pk not in exclude]
        return sorted(hits, key=lambda h: (-h[1], h[0]))[:limit]


def _active(call_id: int) -> QuerySet[Idea]:
    return Idea.objects.filter(call_id=call_id, status=Idea.Status.ACTIVE)


def _signature(call_id: int) -> tuple[object, ...]:
    row = _active(call_id).aggregate(n=Count("pk"), ids=Sum("pk"), last=Max("indexed_at"))
    return (row["n"], row["ids"], row["last"])


def _full(call_id: int) -> CallIndex:
    rows = list(_active(call_id).order_by("pk").values_list("pk", "features", "indexed_at"))
    return CallIndex(
        base=Index.build([(pk, bytes(blob)) for pk, blob, _at in rows]),
        base_ids=frozenset(pk for pk, _blob, _at in rows),
        base_last=max((at for _pk, _blob, at in rows if at is not None), default=None),
        built=time.monotonic(),
    )


def _refreshed(call_id: int, old: CallIndex, signature: tuple[object, ...]) -> CallIndex | None:
    """``old`` with the ideas changed since it was built (posted, edited, merged, taken
    down: each sets ``indexed_at``); ``None`` when a rebuild is due, or when the result does
    not add up to the signature (a change committed with an older timestamp)."""
    if old.base_last is None or time.monotonic() - old.built > REBUILD_SECONDS:
        return None
    changed = list(
        Idea.objects.filter(call_id=call_id, indexed_at__gt=old.base_last)
        .order_by("pk")
        .values_list("pk", "status", "features")[: DELTA_MAX + 1]
    )
    if len(changed) > DELTA_MAX:
        return None
    delta = tuple((pk, bytes(blob)) for pk, status, blob in changed if status == Idea.Status.ACTIVE)
    gone = {pk for pk, status, _blob in changed if status != Idea.Status.ACTIVE}
    active = (old.base_ids - gone) | {pk for pk, _blob in delta}
    if (len(active), sum(active) or None) != signature[:2]:
        return None
    return CallIndex(
        base=old.base,
        base_ids=old.base_ids,
        base_last=old.base_last,
        built=old.built,
        delta=delta,
        hidden=frozenset(old.base_ids & {pk for pk, _status, _blob in changed}),
    )


def call_index(call_id: int) -> CallIndex:
    """The call's index, up to date with its active ideas."""
    signature = _signature(call_id)
    cached = INDEXES.get(call_id, signature)
    if isinstance(cached, CallIndex):
        return cached
    stale = INDEXES.latest(call_id)
    index = _refreshed(call_id, stale, signature) if isinstance(stale, CallIndex) else None
    if index is None:
        index = _full(call_id)
    INDEXES.put(call_id, signature, index)
    return index


def similar_ideas(
    *,
    call: IdeaCall,
    title: str,
    description: str = "",
    exclude: tuple[int, ...] = (),
    limit: int = SUGGEST_LIMIT,
    min_score: float = SUGGEST_MIN_SCORE,
) -> list[tuple[Idea, float]]:
    """Active ideas of ``call`` that look like the text, best first, with their scores
    (the caller has checked that the viewer may see the call)."""
    blob = features(title, description)
    if not blob:
        return []
    hits = [
        (pk, score)
        for pk, score in call_index(call.pk).query(blob, limit=limit, exclude=exclude)
        if score >= min_score
    ]
    if not hits:
        return []
    ideas = Idea.objects.select_related("stage").in_bulk([pk for pk, _s in hits])
    return [(ideas[pk], score) for pk, score in hits if pk in ideas]
