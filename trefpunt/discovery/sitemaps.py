"""Sitemaps: one section per registered kind, read from the search index (so only public things
are ever listed), each address in both languages with ``hreflang`` pairs and ``x-default``, and
``lastmod`` from the document; a section for the public list pages. ``/sitemap.xml`` is the
index, ``robots.txt`` points at it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.sitemaps import Sitemap
from django.db.models import Max, QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import NoReverseMatch, reverse
from django.views.decorators.cache import cache_page

from . import registry
from .models import SearchDocument

PAGES = [
    "home",
    "discovery:people",
    "contests:list",
    "ideas:list",
    "microtasks:batch_list",
    "projects:list",
]


class KindSitemap(Sitemap[SearchDocument]):
    i18n = True
    alternates = True
    x_default = True
    limit = 10_000

    def __init__(self, kind: str) -> None:
        self.kind = kind

    def items(self) -> QuerySet[SearchDocument]:
        return (
            SearchDocument.objects.filter(kind=self.kind)
            .only("kind", "object_id", "url_key", "updated_at")
            .order_by("id")
        )

    def location(self, item: SearchDocument) -> str:
        kind = registry.kind_get(self.kind)
        return kind.url(item.url_key) if kind else ""

    def lastmod(self, item: SearchDocument) -> datetime:
        return item.updated_at

    def latest(self) -> datetime | None:
        value = SearchDocument.objects.filter(kind=self.kind).aggregate(m=Max("updated_at"))["m"]
        return value


class PagesSitemap(Sitemap[str]):
    i18n = True
    alternates = True
    x_default = True
    changefreq = "daily"

    def items(self) -> list[str]:
        names = []
        for name in PAGES:
            try:
                reverse(name)
            except NoReverseMatch:
                continue
            names.append(name)
        return names

    def location(self, item: str) -> str:
        return reverse(item)


def sitemaps() -> dict[str, Any]:
    sections: dict[str, Any] = {"pages": PagesSitemap()}
    for kind in registry.kinds():
        sections[kind.name] = KindSitemap(kind.name)
    return sections


def robots_txt(request: HttpRequest) -> HttpResponse:
    """Crawlers: everything public, nothing personal or transactional; where the sitemap is."""
    private = ["/api/", "/pay/", "/unsubscribe/", "/admin/"]
    for code, _name in settings.LANGUAGES:
        private += [
            f"/{code}/accounts/",
            f"/{code}/wallet/",
            f"/{code}/settings/",
            f"/{code}/admin/",
            f"/{code}/notifications/",
            f"/{code}/messages/",
            f"/{code}/search/",
            f"/{code}/contests/dashboard/",
            f"/{code}/microtasks/manage/",
            f"/{code}/microtasks/answers/",
        ]
    lines = ["User-agent: *", *(f"Disallow: {path}" for path in private)]
    lines.append(f"Sitemap: {settings.SITE_URL}/sitemap.xml")
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")


robots_view = cache_page(60 * 60)(robots_txt)
