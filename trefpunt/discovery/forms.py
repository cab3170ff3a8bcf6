"""The query string of the search page and the directory, read leniently: an unknown value is
dropped (a search never fails), everything else becomes a ``SearchQuery``."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from . import registry
from .selectors import SearchQuery

SORTS = [("relevance", _("Relevance")), ("score", _("Track record")), ("newest", _("Newest"))]


class SearchForm(forms.Form):
    q = forms.CharField(label=_("Search"), max_length=200, required=False)
    kind = forms.CharField(max_length=20, required=False)
    category = forms.SlugField(max_length=50, required=False)
    status = forms.SlugField(max_length=20, required=False)
    language = forms.RegexField(regex=r"^[a-z]{2,3}$", required=False)
    band = forms.IntegerField(min_value=0, max_value=9, required=False)
    page = forms.IntegerField(min_value=1, max_value=10_000, required=False)
    sort = forms.ChoiceField(choices=SORTS, required=False)

    def query(self, **fixed: Any) -> SearchQuery:
        data: dict[str, Any] = {}
        self.is_valid()
        cleaned = getattr(self, "cleaned_data", {})
        for name in SearchForm.base_fields:
            if name in cleaned and name not in self.errors and cleaned[name] not in ("", None):
                data[name] = cleaned[name]
        if data.get("kind") and registry.kind_get(data["kind"]) is None:
            data.pop("kind")
        data.update(fixed)
        return SearchQuery(**data)


TRACK_FILTERS = {
    "won": ("contests_won", _("Won a contest")),
    "finalist": ("contests_finalist", _("Finalist in a contest")),
    "idea": ("ideas_selected", _("Had an idea taken further")),
    "entered": ("contests_entered", _("Entered a contest")),
}


class DirectoryForm(SearchForm):
    location = forms.CharField(label=_("Location"), max_length=80, required=False)
    track = forms.ChoiceField(
        label=_("Track record"),
        choices=[("", _("Anyone")), *((k, label) for k, (_f, label) in TRACK_FILTERS.items())],
        required=False,
    )


class ListingForm(forms.Form):
    listed = forms.BooleanField(
        label=_("Show my profile in search, the talent directory and to search engines"),
        required=False,
    )
    shows_work_stats = forms.BooleanField(
        label=_("Show my microtask approval rate and gold accuracy on my profile"),
        required=False,
    )
