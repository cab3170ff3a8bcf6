"""Reading the index: one search over every kind, with facets, snippets and "did you mean".

Every read goes through ``SearchDocument``, which holds public things only (``indexing``), so
no rule here can let a private thing through. A search costs the same number of queries
whatever it finds: one for the facet counts, one for the page (and the total), one for the page's
highlights, one for skill labels; "did you mean" adds a few only when nothing was found.
"""

from __future__ import annotations

import difflib
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from django.db.models import Count, F, Q, QuerySet, Value, Window
from django.db.models.fields import FloatField
from django.urls import NoReverseMatch, reverse
from django.utils.safestring import SafeString
from django.utils.translation import get_language_info
from django.utils.translation import gettext as _

from trefpunt.core.money import format_cents

from . import registry
from .backends import backend
from .indexing import BAND_LIMITS
from .models import SearchDocument, SearchWord
from .text import highlighted, query_terms

PER_PAGE = 20
PAGES_MAX = 50
FACETS = ("kind", "category", "status", "language", "band")
FACET_FIELDS = ("kind", "category", "tags", "status", "languages", "band")
# At most this many matches are counted for the facets and ranked for the page (50 pages of 20).
POOL = PAGES_MAX * PER_PAGE


@dataclass(frozen=True)
class SearchQuery:
    q: str = ""
    kind: str = ""
    category: str = ""
    status: str = ""
    language: str = ""
    band: int | None = None
    page: int = 1
    per_page: int = PER_PAGE
    # "relevance" (text rank, then score) or "score" (track record, prize) or "newest".
    sort: str = "relevance"

    @property
    def terms(self) -> list[str]:
        return query_terms(self.q)

    def filters(self) -> dict[str, Any]:
        return {
            name: getattr(self, name) for name in FACETS if getattr(self, name) not in ("", None)
        }


@dataclass(frozen=True)
class FacetValue:
    value: str
    label: str
    count: int
    selected: bool


@dataclass(frozen=True)
class Facet:
    name: str
    label: str
    values: list[FacetValue]


@dataclass(frozen=True)
class Link:
    name: str
    url: str


@dataclass(frozen=True)
class Hit:
    kind: str
    kind_label: str
    object_id: int
    title: SafeString
    snippet: SafeString
    url: str
    by: Link | None
    category: str
    category_label: str
    status: str
    status_label: str
    amount: int | None
    currency: str
    detail: Mapping[str, Any]
    published_at: Any
    plain_title: str


@dataclass(frozen=True)
class SearchResults:
    query: SearchQuery
    hits: list[Hit]
    total: int
    facets: list[Facet]
    suggestion: str = ""
    pages: int = 1
    # More matched than the pool holds: ``total`` and the facet counts are "at least".
    count_is_lower_bound: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


# --- labels -------------------------------------------------------------------------------


def band_label(band: int) -> str:
    limits = [format_cents(x, "EUR") for x in BAND_LIMITS]
    if band == 1:
        return _("Up to %(amount)s") % {"amount": limits[0]}
    if 1 < band <= len(limits):
        return _("%(low)s to %(high)s") % {"low": limits[band - 2], "high": limits[band - 1]}
    if band == len(limits) + 1:
        return _("Over %(amount)s") % {"amount": limits[-1]}
    return _("No prize or budget")


def language_label(code: str) -> str:
    try:
        return str(get_language_info(code)["name_translated"])
    except KeyError:
        return code


def _labels(kind_name: str, attr: str) -> Mapping[str, str]:
    kind = registry.kind_get(kind_name)
    return getattr(kind, attr)() if kind else {}


def _all_labels(attr: str, selected_kind: str = "") -> dict[str, str]:
    labels: dict[str, str] = {}
    kinds = registry.kinds()
    if selected_kind:
        kinds = sorted(kinds, key=lambda k: k.name != selected_kind)
    for kind in reversed(kinds):
        labels.update(getattr(kind, attr)())
    return labels


def skill_labels(slugs: Sequence[str]) -> dict[str, str]:
    from trefpunt.accounts.models import Skill

    # Always one query (the empty slug keeps the list non-empty), so a search costs the same
    # number of queries whatever it finds.
    return dict(Skill.objects.filter(slug__in=[*slugs, ""]).values_list("slug", "name"))


# --- filtering ----------------------------------------------------------------------------


def _facet_q(name: str, value: Any) -> Q:
    if name == "category":
        return Q(category=value) | Q(tags__contains=f" {value} ")
    if name == "language":
        return Q(languages__contains=f" {value} ")
    return Q(**{name: value})


def _row_passes(row: Mapping[str, Any], name: str, value: Any) -> bool:
    if name == "category":
        return row["category"] == value or f" {value} " in (row["tags"] or "")
    if name == "language":
        return f" {value} " in (row["languages"] or "")
    return row[name] == value


def matched(
    terms: Sequence[str], base: QuerySet[SearchDocument] | None = None
) -> QuerySet[SearchDocument]:
    qs = base if base is not None else SearchDocument.objects.all()
    return backend().filter(qs, terms) if terms else qs


def _candidates(qs: QuerySet[SearchDocument], terms: Sequence[str]) -> QuerySet[SearchDocument]:
    """The order candidates are taken in. With words: the text index's own order (a ranked
    cut would have to rank every match first, which is what the pool avoids); the pool is
    then ranked. Without words: newest first, which the ``-published_at`` indexes serve."""
    if terms:
        return qs.order_by()
    # Plain DESC, as the indexes are (undated documents come first on PostgreSQL, last on
    # SQLite; the page itself orders them last on both).
    return qs.order_by("-published_at", "-id")


def _grouped(qs: QuerySet[SearchDocument]) -> tuple[list[dict[str, Any]], bool]:
    """The facet fields of at most ``POOL`` matches, grouped (with ``n``), and whether there
    were more."""
    rows = list(qs.values_list(*FACET_FIELDS)[: POOL + 1])
    capped = len(rows) > POOL
    counted = Counter(rows[:POOL])
    return [
        {**dict(zip(FACET_FIELDS, key, strict=True)), "n": n} for key, n in counted.items()
    ], capped


def _order(query: SearchQuery, terms: Sequence[str]) -> list[Any]:
    if query.sort == "score":
        return [F("score").desc(), F("rank").desc(), F("published_at").desc(nulls_last=True)]
    if query.sort == "newest" or not terms:
        return [F("published_at").desc(nulls_last=True), F("score").desc()]
    return [F("rank").desc(), F("score").desc(), F("published_at").desc(nulls_last=True)]


def _page(
    filtered: QuerySet[SearchDocument], query: SearchQuery, terms: Sequence[str], page: int
) -> list[SearchDocument]:
    """One query: the page's rows out of at most ``POOL + 1`` candidates, ranked, each row
    carrying the number of candidates (``pool_size``)."""
    candidates = _candidates(filtered, terms).values("id")[: POOL + 1]
    page_qs = SearchDocument.objects.filter(id__in=candidates)
    if terms:
        page_qs = backend().rank(page_qs, terms)
    else:
        page_qs = page_qs.annotate(rank=Value(0.0, output_field=FloatField()))
    page_qs = page_qs.annotate(pool_size=Window(Count("id")))
    start = (page - 1) * query.per_page
    return list(
        page_qs.defer("body", "stems", "keywords").order_by(*_order(query, terms), "id")[
            start : start + query.per_page
        ]
    )


def search(query: SearchQuery, *, base: QuerySet[SearchDocument] | None = None) -> SearchResults:
    """Facets count, and the page ranks, at most ``POOL`` matches each: a word that matches
    most of the index costs what a rarer one does. Beyond the pool the counts are lower
    bounds (``count_is_lower_bound``: "at least 1,000 results"). Four queries whatever the
    search finds: the facet rows, the page, its highlights, the skill labels."""
    terms = query.terms
    docs = matched(terms, base)
    filters = query.filters()

    # The facet counts: each facet counted with the other facets' filters applied (so choosing
    # a kind still shows the other kinds), over the unfiltered pool.
    rows, _capped = _grouped(_candidates(docs, terms))
    facets = _facets(rows, filters, query)

    filtered = docs
    for name, value in filters.items():
        filtered = filtered.filter(_facet_q(name, value))
    page = max(1, min(query.page, PAGES_MAX))
    docs_page = _page(filtered, query, terms, page)
    if not docs_page and page > 1:
        # Past the last page (a hand-made link): show the last one instead.
        docs_page = _page(filtered, query, terms, 1)
        pool = docs_page[0].pool_size if docs_page else 0  # type: ignore[attr-defined]
        page = max(1, min(PAGES_MAX, math.ceil(min(pool, POOL) / query.per_page)))
        docs_page = _page(filtered, query, terms, page)
    pool = docs_page[0].pool_size if docs_page else 0  # type: ignore[attr-defined]
    lower_bound = pool > POOL
    total = min(pool, POOL)
    page_count = max(1, min(PAGES_MAX, math.ceil(total / query.per_page)))

    snippets = backend().snippets([d.pk for d in docs_page], terms) if terms and docs_page else {}
    hits = [_hit(d, snippets.get(d.pk), query.kind) for d in docs_page]

    suggestion = ""
    if not total and terms:
        suggestion = suggestion_for(terms, base)
    return SearchResults(
        query=replace(query, page=page),
        hits=hits,
        total=total,
        facets=facets,
        suggestion=suggestion,
        pages=page_count,
        count_is_lower_bound=lower_bound,
    )


def _row_values(row: Mapping[str, Any], name: str) -> list[Any]:
    """The facet values one grouped row adds to: several languages, else its one value."""
    if name == "language":
        return (row["languages"] or "").split()
    return [row[name]] if row[name] else []


def _facet_counts(
    rows: Sequence[Mapping[str, Any]], filters: Mapping[str, Any]
) -> dict[str, Counter[Any]]:
    """Each facet counted under every filter but its own (choosing a value of a facet
    leaves that facet's other values visible)."""
    counts: dict[str, Counter[Any]] = {name: Counter() for name in FACETS}
    for row in rows:
        for name in FACETS:
            others = {k: v for k, v in filters.items() if k != name}
            if all(_row_passes(row, k, v) for k, v in others.items()):
                for value in _row_values(row, name):
                    counts[name][value] += row["n"]
    return counts


def _facets(
    rows: Sequence[Mapping[str, Any]], filters: Mapping[str, Any], query: SearchQuery
) -> list[Facet]:
    counts = _facet_counts(rows, filters)

    kind_labels = {k.name: str(k.label) for k in registry.kinds()}
    category_labels = _all_labels("category_labels", query.kind)
    missing = [c for c in counts["category"] if c not in category_labels]
    category_labels.update(skill_labels(missing))
    status_labels = _all_labels("status_labels", query.kind)
    label_of: dict[str, Any] = {
        "kind": lambda v: kind_labels.get(v, v),
        "category": lambda v: category_labels.get(v, v),
        "status": lambda v: status_labels.get(v, v),
        "language": language_label,
        "band": band_label,
    }
    titles = {
        "kind": _("Kind"),
        "category": _("Category or skill"),
        "status": _("Status"),
        "language": _("Language"),
        "band": _("Prize or budget"),
    }
    facets = []
    for name in FACETS:
        values = counts[name]
        if name == "kind":
            ordered = [k.name for k in registry.kinds() if k.name in values]
        elif name == "band":
            ordered = sorted(values)
        else:
            ordered = [v for v, _n in values.most_common(12)]
        chosen = filters.get(name)
        facets.append(
            Facet(
                name=name,
                label=titles[name],
                values=[
                    FacetValue(
                        value=str(v),
                        label=str(label_of[name](v)),
                        count=values[v],
                        selected=chosen is not None and str(chosen) == str(v),
                    )
                    for v in ordered
                ],
            )
        )
    return facets


def by_link(by: Mapping[str, str] | None) -> Link | None:
    """The poster or author of a result, linked to their organisation or profile page."""
    if not by or not by.get("name"):
        return None
    try:
        if by.get("org"):
            return Link(by["name"], reverse("accounts:org_detail", kwargs={"slug": by["org"]}))
        if by.get("handle"):
            return Link(by["name"], reverse("accounts:profile", kwargs={"handle": by["handle"]}))
    except NoReverseMatch:
        pass
    return Link(by["name"], "")


def _hit(doc: SearchDocument, snippet: tuple[str, str] | None, selected_kind: str) -> Hit:
    kind = registry.kind_get(doc.kind)
    url = kind.url(doc.url_key) if kind else ""
    title_html = highlighted(snippet[0]) if snippet else highlighted(doc.title)
    body_html = (
        highlighted(snippet[1]) if snippet else highlighted(str(doc.detail.get("summary", "")))
    )
    categories = dict(kind.category_labels()) if kind else {}
    statuses = dict(kind.status_labels()) if kind else {}
    return Hit(
        kind=doc.kind,
        kind_label=str(kind.label) if kind else doc.kind,
        object_id=doc.object_id,
        title=title_html,
        snippet=body_html,
        url=url,
        by=by_link(doc.detail.get("by")),
        category=doc.category,
        category_label=categories.get(doc.category, ""),
        status=doc.status,
        status_label=statuses.get(doc.status, ""),
        amount=doc.amount,
        currency=doc.currency,
        detail=doc.detail,
        published_at=doc.published_at,
        plain_title=doc.title,
    )


# --- did you mean -------------------------------------------------------------------------


def suggestion_for(terms: Sequence[str], base: QuerySet[SearchDocument] | None = None) -> str:
    """A nearby spelling of the query that finds public results, or ''. Candidates are words
    seen in titles and names; a candidate is only offered once a search for it finds
    something, so a word that came from a thing now private is never suggested."""
    better: list[str] = []
    changed = False
    for term in terms:
        if len(term) < 3:
            better.append(term)
            continue
        words = list(
            SearchWord.objects.filter(
                first=term[0], length__gte=len(term) - 2, length__lte=len(term) + 2
            ).values_list("word", flat=True)[:5000]
        )
        if term in words:
            better.append(term)
            continue
        close = difflib.get_close_matches(term, words, n=1, cutoff=0.7)
        if close:
            better.append(close[0])
            changed = True
        else:
            better.append(term)
    if not changed:
        return ""
    if not matched(better, base).exists():
        return ""
    return " ".join(better)
