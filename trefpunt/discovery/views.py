"""The search page and the talent directory: thin views over ``selectors.search``."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from trefpunt.core.types import AuthedRequest

from .forms import TRACK_FILTERS, DirectoryForm, ListingForm, SearchForm
from .models import SearchDocument
from .selectors import SearchResults, search
from .selectors_people import listing_of
from .services import listing_update
from .start import start_page_for


def _links(
    request: HttpRequest, results: SearchResults, hide: tuple[str, ...] = ()
) -> dict[str, object]:
    """Query strings for facet links, pages and the suggestion, keeping what is chosen."""
    params = {k: v for k, v in request.GET.items() if k != "page" and v}

    def url(**changes: object) -> str:
        merged = {**params, **{k: v for k, v in changes.items()}}
        return "?" + urlencode({k: v for k, v in merged.items() if v not in ("", None)})

    facets = [
        {
            "facet": facet,
            "values": [
                {"value": v, "url": url(**{facet.name: "" if v.selected else v.value})}
                for v in facet.values
            ],
        }
        for facet in results.facets
        if facet.values and facet.name not in hide
    ]
    page = results.query.page
    return {
        "facet_links": facets,
        "prev_url": url(page=page - 1) if page > 1 else "",
        "next_url": url(page=page + 1) if page < results.pages else "",
        "suggestion_url": url(q=results.suggestion) if results.suggestion else "",
        "clear_url": url(kind="", category="", status="", language="", band=""),
        # The facets the visitor chose (the directory's fixed kind is not one).
        "active_facets": sum(1 for name in results.query.filters() if name not in hide),
    }


@require_GET
def search_view(request: HttpRequest) -> HttpResponse:
    form = SearchForm(request.GET)
    results = search(form.query())
    context = {"form": form, "results": results, **_links(request, results)}
    return render(request, "discovery/search.html", context)


@require_GET
def people_view(request: HttpRequest) -> HttpResponse:
    form = DirectoryForm(request.GET)
    query = form.query(kind="person")
    base = SearchDocument.objects.filter(kind="person")
    cleaned = getattr(form, "cleaned_data", {})
    if cleaned.get("location"):
        base = base.filter(keywords__icontains=cleaned["location"])
    if cleaned.get("track") in TRACK_FILTERS:
        figure = TRACK_FILTERS[cleaned["track"]][0]
        base = base.filter(**{f"detail__track__{figure}__gte": 1})
    results = search(query, base=base)
    context = {"form": form, "results": results, **_links(request, results, hide=("kind",))}
    return render(request, "discovery/people.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def listing_view(request: AuthedRequest) -> HttpResponse:
    listing = listing_of(request.user)
    if request.method == "POST":
        form = ListingForm(request.POST)
        if form.is_valid():
            listing_update(user=request.user, **form.cleaned_data)
            messages.success(request, _("Saved."))
            return redirect(request.user.profile)
    else:
        form = ListingForm(
            initial={"listed": listing.listed, "shows_work_stats": listing.shows_work_stats}
        )
    return render(request, "discovery/listing.html", {"form": form})


@login_required
@require_GET
def start_view(request: AuthedRequest) -> HttpResponse:
    """Where login lands: what needs me now, then work recommended for me."""
    return render(request, "discovery/start.html", {"start": start_page_for(request.user)})
