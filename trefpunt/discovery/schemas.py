from datetime import datetime
from typing import Any

from ninja import Field, Schema

from trefpunt.core.api_schema import PAGE_MAX, InSchema


class SearchIn(InSchema):
    q: str = Field("", max_length=200, description="Words; each matches as a prefix.")
    kind: str = Field("", max_length=20, description="contest, ideacall, idea, batch, person…")
    category: str = Field("", max_length=50, description="A category or skill slug.")
    status: str = Field("", max_length=20)
    language: str = Field("", max_length=3, description="nl, en, …")
    band: int | None = Field(None, ge=0, le=9, description="Prize or budget band (facet value).")
    page: int = Field(1, ge=1, le=PAGE_MAX)
    sort: str = Field("relevance", pattern="^(relevance|score|newest)$")


class PeopleIn(SearchIn):
    location: str = Field("", max_length=80)
    track: str = Field("", pattern="^(|won|finalist|idea|entered)$")


class LinkOut(Schema):
    name: str
    url: str


class HitOut(Schema):
    kind: str
    id: int
    title: str
    title_html: str = Field(description="The title with matches in <mark>, escaped.")
    snippet_html: str = Field(description="A passage with matches in <mark>, escaped.")
    url: str
    by: LinkOut | None
    status: str
    category: str
    amount: int | None
    currency: str
    published_at: datetime | None
    detail: dict[str, Any]


class FacetValueOut(Schema):
    value: str
    label: str
    count: int
    selected: bool


class FacetOut(Schema):
    name: str
    label: str
    values: list[FacetValueOut]


class SearchOut(Schema):
    items: list[HitOut]
    count: int
    count_is_lower_bound: bool = Field(
        description="True when more matched than are counted (1,000): then ``count`` and the"
        " facet counts mean 'at least'."
    )
    page: int
    pages: int
    facets: list[FacetOut]
    suggestion: str = Field(description='"Did you mean": a spelling that finds results, or "".')
