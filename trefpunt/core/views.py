from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from .selectors import home_contests, home_figures


def home_view(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "core/home.html",
        {"figures": home_figures(), "contests": home_contests()},
    )
