"""The WSGI application ``bench/web.py`` serves under gunicorn: the real one, plus a trivial
view (``/bench-trivial/``, ``HttpResponse("ok")`` behind the same middleware) as the
baseline of the same server, workers and load."""

from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application
from django.http import HttpRequest, HttpResponse
from django.urls import clear_url_caches, path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "trefpunt.settings.base")
application = get_wsgi_application()


def trivial_view(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok")


def trivial_add() -> None:
    from trefpunt import urls

    if not any(getattr(p, "name", "") == "bench-trivial" for p in urls.urlpatterns):
        urls.urlpatterns.insert(0, path("bench-trivial/", trivial_view, name="bench-trivial"))
        clear_url_caches()


trivial_add()
