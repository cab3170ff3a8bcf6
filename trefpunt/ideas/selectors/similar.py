"""The similar-ideas suggestion: the call's index (``similarity.Index``) from the stored
features, rebuilt only when the call's active ideas changed."""

from __future__ import annotations

from django.db.models import Count, Max, Sum

from ..models import Idea, IdeaCall
from ..similarity import INDEXES, SUGGEST_LIMIT, SUGGEST_MIN_SCORE, Index, features


def _signature(call_id: int) -> tuple[object, ...]:
    row = Idea.objects.filter(call_id=call_id, status=Idea.Status.ACTIVE).aggregate(
        n=Count("pk"), ids=Sum("pk"), last=Max("indexed_at")
    )
    return (row["n"], row["ids"], row["last"])


def call_index(call_id: int) -> Index:
    """The call's index, from the per-process cache when its signature still matches."""
    signature = _signature(call_id)
    index = INDEXES.get(call_id, signature)
    if index is None:
        rows = list(
            Idea.objects.filter(call_id=call_id, status=Idea.Status.ACTIVE)
            .order_by("pk")
            .values_list("pk", "features")
        )
        index = Index.build([(pk, bytes(blob)) for pk, blob in rows])
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
