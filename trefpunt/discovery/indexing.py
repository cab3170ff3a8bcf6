"""Keeping the index current: every save of a registered model (or of a model a kind follows),
every ``core.Event`` on a registered subject and every change of a person's skills re-indexes
the things it touched, inside the transaction that made the change. If that transaction rolls
back, so does the index; nothing is queued, nothing can be lost between two processes.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.db import transaction
from django.db.models import Model, Q
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.utils import timezone

from . import registry
from .backends import backend
from .freshness import index_changed
from .models import SearchDocument, SearchWord
from .registry import Document, SearchKind
from .text import words_of

logger = logging.getLogger(__name__)

BODY_MAX = 6000
# Prize or budget bands in cents: 0 = none, then up to €100, €500, €2,000, more.
BAND_LIMITS = (10_000, 50_000, 200_000)
UPDATE_FIELDS = [
    "title",
    "body",
    "names",
    "keywords",
    "stems",
    "category",
    "tags",
    "status",
    "languages",
    "amount",
    "band",
    "currency",
    "url_key",
    "detail",
    "score",
    "published_at",
    "updated_at",
]


def amount_band(amount: int | None) -> int:
    if not amount:
        return 0
    for band, limit in enumerate(BAND_LIMITS, start=1):
        if amount < limit:
            return band
    return len(BAND_LIMITS) + 1


def _spaced(values: Iterable[str]) -> str:
    values = [v for v in values if v]
    return f" {' '.join(values)} " if values else ""


def document_row(kind: SearchKind, obj: Any, doc: Document) -> SearchDocument:
    fields = backend().prepare(
        {
            "title": doc.title[:300],
            "body": doc.body[:BODY_MAX],
            "names": doc.names[:400],
            "keywords": doc.keywords[:600],
        }
    )
    return SearchDocument(
        kind=kind.name,
        object_id=obj.pk,
        category=doc.category,
        tags=_spaced(doc.tags)[:400],
        status=doc.status,
        languages=_spaced(doc.languages)[:40],
        amount=doc.amount,
        band=amount_band(doc.amount),
        currency=doc.currency,
        url_key=doc.url_key,
        detail=dict(doc.detail),
        score=doc.score,
        published_at=doc.published_at,
        updated_at=doc.updated_at or timezone.now(),
        **fields,
    )


def index_refresh(kind: SearchKind, ids: Iterable[int]) -> None:
    """Write the documents of ``ids`` that ``kind.public`` returns; delete the others."""
    wanted = {int(i) for i in ids if i is not None}
    if not wanted:
        return
    with transaction.atomic(savepoint=False):
        index_changed()
        objects = list(kind.public().filter(pk__in=wanted))
        gone = wanted - {o.pk for o in objects}
        if gone:
            SearchDocument.objects.filter(kind=kind.name, object_id__in=gone).delete()
        if objects:
            rows = [document_row(kind, o, kind.document(o)) for o in objects]
            documents_write(rows)


def documents_write(rows: list[SearchDocument]) -> None:
    index_changed()
    SearchDocument.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["kind", "object_id"],
        update_fields=UPDATE_FIELDS,
    )
    words: set[str] = set()
    for row in rows:
        words |= words_of(f"{row.title} {row.names} {row.keywords}")
    if words:
        SearchWord.objects.bulk_create(
            [SearchWord(word=w, first=w[0], length=len(w)) for w in sorted(words)],
            ignore_conflicts=True,
        )


def index_forget(texts: Iterable[str]) -> None:
    """After an account is deleted: write again every document that still shows the
    person's former name or handle (the person's own, their work's), and drop those words
    from the "did you mean" vocabulary unless another document still uses them."""
    texts = [t for t in texts if t and len(t) >= 3]
    if not texts:
        return
    mentions = Q()
    for text in texts:
        mentions |= Q(title__icontains=text) | Q(names__icontains=text) | Q(body__icontains=text)
    found: dict[str, set[int]] = {}
    for kind_name, object_id in SearchDocument.objects.filter(mentions).values_list(
        "kind", "object_id"
    ):
        found.setdefault(kind_name, set()).add(object_id)
    for kind_name, ids in found.items():
        kind = registry.kind_get(kind_name)
        if kind is None:
            SearchDocument.objects.filter(kind=kind_name, object_id__in=ids).delete()
        else:
            index_refresh(kind, ids)
    for word in words_of(" ".join(texts)):
        used = SearchDocument.objects.filter(
            Q(title__icontains=word) | Q(names__icontains=word) | Q(keywords__icontains=word)
        )
        if not used.exists():
            SearchWord.objects.filter(word=word).delete()


def index_rebuild(kind: SearchKind, *, chunk: int = 500) -> int:
    """Re-index every public thing of ``kind`` and drop documents of things no longer public
    (the ``search_reindex`` command; tests use it to compare with the kept-current index)."""
    count = 0
    with transaction.atomic():
        index_changed()
        SearchDocument.objects.filter(kind=kind.name).delete()
        batch: list[SearchDocument] = []
        for obj in kind.public().iterator(chunk_size=chunk):
            batch.append(document_row(kind, obj, kind.document(obj)))
            if len(batch) >= chunk:
                documents_write(batch)
                count += len(batch)
                batch = []
        if batch:
            documents_write(batch)
            count += len(batch)
    return count


# --- hooks ------------------------------------------------------------------------------


def _on_save(sender: type[Model], instance: Model, **kwargs: Any) -> None:
    if kwargs.get("raw"):
        return
    for kind in registry.kinds_for_model(sender):
        index_refresh(kind, [instance.pk])
    for kind, related in registry.kinds_following(sender):
        index_refresh(kind, related(instance))


def _on_delete(sender: type[Model], instance: Model, **kwargs: Any) -> None:
    index_changed()
    for kind in registry.kinds_for_model(sender):
        SearchDocument.objects.filter(kind=kind.name, object_id=instance.pk).delete()
    for kind, related in registry.kinds_following(sender):
        try:
            ids = list(related(instance))
        except ObjectDoesNotExist:
            # The related row went first (a cascade); its own delete cleans up after it.
            logger.debug("discovery: %s gone before %s", kind.name, sender)
            continue
        index_refresh(kind, ids)


def _on_event(sender: type[Model], instance: Any, created: bool = False, **kwargs: Any) -> None:
    if not created or kwargs.get("raw"):
        return
    for kind in registry.kinds_for_event(instance.subject):
        index_refresh(kind, kind.events[instance.subject](instance))


def _on_m2m(sender: type[Model], instance: Model, action: str, **kwargs: Any) -> None:
    if action not in {"post_add", "post_remove", "post_clear"}:
        return
    for kind, related in registry.kinds_following(sender):
        index_refresh(kind, related(instance))


def connect() -> None:
    """Connect the hooks for every registered kind (``apps.ready``, after autodiscovery)."""
    from trefpunt.core.models import Event

    models: set[type[Model]] = set()
    for kind in registry.kinds():
        models.add(kind.model)
        models.update(m for m in kind.follows if not m._meta.auto_created)
    for model in models:
        uid = f"discovery:{model._meta.label}"
        post_save.connect(_on_save, sender=model, dispatch_uid=uid, weak=False)
        post_delete.connect(_on_delete, sender=model, dispatch_uid=uid, weak=False)
    for kind in registry.kinds():
        for model in kind.follows:
            if model._meta.auto_created:  # a many-to-many table
                m2m_changed.connect(
                    _on_m2m, sender=model, dispatch_uid=f"discovery:{model._meta.label}", weak=False
                )
    post_save.connect(_on_event, sender=Event, dispatch_uid="discovery:event", weak=False)
