"""Atom feeds per kind (``/en/feeds/contest/``) and per category (``/en/feeds/contest/logo/``),
newest first, read from the search index: only public things, never a private one."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.syndication.views import Feed
from django.http import Http404, HttpRequest
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.translation import gettext as _

from . import registry
from .models import SearchDocument
from .registry import SearchKind

FEED_SIZE = 50


def feed_title(kind: SearchKind, category: str = "") -> str:
    """A kind's feed's title (of one of its categories), as the feed and the list page's
    ``<link>`` to it give it."""
    if category:
        label = dict(kind.category_labels()).get(category, category)
        return _("%(kind)s on Trefpunt: %(category)s") % {"kind": kind.label, "category": label}
    return _("%(kind)s on Trefpunt") % {"kind": kind.label}


class KindFeed(Feed):
    feed_type = Atom1Feed

    def get_object(
        self, request: HttpRequest, kind: str, category: str = ""
    ) -> tuple[SearchKind, str]:
        found = registry.kind_get(kind)
        if found is None or not found.in_feeds:
            raise Http404
        return found, category

    def title(self, obj: tuple[SearchKind, str]) -> str:
        return feed_title(*obj)

    def subtitle(self, obj: tuple[SearchKind, str]) -> str:
        return _("The newest public %(kind)s.") % {"kind": str(obj[0].label).lower()}

    def link(self, obj: tuple[SearchKind, str]) -> str:
        kind, category = obj
        query = f"?kind={kind.name}" + (f"&category={category}" if category else "")
        return reverse("discovery:search") + query

    def items(self, obj: tuple[SearchKind, str]) -> list[SearchDocument]:
        kind, category = obj
        docs = SearchDocument.objects.filter(kind=kind.name)
        if category:
            docs = docs.filter(tags__contains=f" {category} ")
        return list(docs.order_by("-published_at", "-id")[:FEED_SIZE])

    def item_title(self, item: SearchDocument) -> str:
        return item.title

    def item_description(self, item: SearchDocument) -> str:
        return str(item.detail.get("summary") or item.body[:500])

    def item_link(self, item: SearchDocument) -> str:
        kind = registry.kind_get(item.kind)
        return kind.url(item.url_key) if kind else "/"

    def item_pubdate(self, item: SearchDocument) -> datetime | None:
        return item.published_at

    def item_updateddate(self, item: SearchDocument) -> datetime:
        return item.updated_at

    def item_author_name(self, item: SearchDocument) -> str | None:
        by: dict[str, Any] = item.detail.get("by") or {}
        return by.get("name") or None

    def item_categories(self, item: SearchDocument) -> list[str]:
        return [t for t in item.tags.split() if t]
