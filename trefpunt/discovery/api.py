"""``GET /api/v1/search`` and ``GET /api/v1/people``: public, no token needed; they read the
same index as the pages, which holds public things only."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router

from trefpunt.core.web import absolute_url

from . import registry
from .forms import TRACK_FILTERS
from .models import SearchDocument
from .schemas import PeopleIn, SearchIn, SearchOut
from .selectors import SearchQuery, SearchResults, search

router = Router(tags=["search"])


def _query(params: SearchIn) -> SearchQuery:
    kind = params.kind if registry.kind_get(params.kind) else ""
    return SearchQuery(
        q=params.q,
        kind=kind,
        category=params.category,
        status=params.status,
        language=params.language,
        band=params.band,
        page=params.page,
        sort=params.sort,
    )


def _out(results: SearchResults) -> dict[str, Any]:
    return {
        "items": [
            {
                "kind": h.kind,
                "id": h.object_id,
                "title": h.plain_title,
                "title_html": str(h.title),
                "snippet_html": str(h.snippet),
                "url": absolute_url(h.url),
                "by": {"name": h.by.name, "url": absolute_url(h.by.url) if h.by.url else ""}
                if h.by
                else None,
                "status": h.status,
                "category": h.category,
                "amount": h.amount,
                "currency": h.currency,
                "published_at": h.published_at,
                "detail": dict(h.detail),
            }
            for h in results.hits
        ],
        "count": results.total,
        "count_is_lower_bound": results.count_is_lower_bound,
        "page": results.query.page,
        "pages": results.pages,
        "facets": [asdict(f) for f in results.facets],
        "suggestion": results.suggestion,
    }


@router.get(
    "/search",
    response=SearchOut,
    auth=None,
    summary="Search everything public",
    description="Contests, idea calls, ideas, open microtask batches, people and "
    "organisations, ranked, with facet counts and highlighted snippets. Public, no token "
    "needed; private, draft and hidden things are never in it.",
)
def search_api(request: HttpRequest, params: Query[SearchIn]) -> dict[str, Any]:
    return _out(search(_query(params)))


@router.get(
    "/people",
    response=SearchOut,
    auth=None,
    summary="The talent directory",
    description="People with a public profile, with their track record in ``detail.track``. "
    "Filter by skill (``category``), ``language``, ``location`` and ``track`` (won, "
    "finalist, idea, entered); ``sort=score`` sorts by track record.",
)
def people_api(request: HttpRequest, params: Query[PeopleIn]) -> dict[str, Any]:
    query = _query(params)
    base = SearchDocument.objects.filter(kind="person")
    if params.location:
        base = base.filter(keywords__icontains=params.location)
    if params.track in TRACK_FILTERS:
        base = base.filter(**{f"detail__track__{TRACK_FILTERS[params.track][0]}__gte": 1})
    return _out(search(SearchQuery(**{**asdict(query), "kind": "person"}), base=base))
