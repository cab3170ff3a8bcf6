from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from trefpunt.contests.fragments import listing_render

from .selectors import home_contests, home_figures


def home_view(request: HttpRequest) -> HttpResponse:
    def content() -> dict[str, Any]:
        return {"figures": home_figures(), "contests": home_contests()}

    html = listing_render(request, "home", "core/home.html#content", content)
    return render(request, "core/home.html", {"content": html})
