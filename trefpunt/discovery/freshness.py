"""Cached pages of the index (the sitemaps) stay exactly as fresh as the index.

A plain ``cache_page`` would keep serving a thing for its whole timeout after it went private
or was cancelled: a leak by cache. Instead every change of the index bumps a generation number
in the shared cache after its transaction commits, and cached pages are keyed by it, so the
next request after a change builds the page anew (the old entries simply expire)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.http import HttpRequest, HttpResponse

GENERATION_KEY = "discovery:index-generation"


def index_generation() -> int:
    value = cache.get(GENERATION_KEY)
    if value is None:
        cache.add(GENERATION_KEY, 1, timeout=None)
        value = cache.get(GENERATION_KEY, 1)
    return int(value)


def _bump() -> None:
    try:
        cache.incr(GENERATION_KEY)
    except ValueError:  # not there yet (or evicted): any new value is a new generation
        cache.set(GENERATION_KEY, index_generation() + 1, timeout=None)


def index_changed() -> None:
    """Called by ``indexing`` on every write; the bump waits for the commit (a rolled back
    change changes nothing, and no page is cached from before the commit under the new
    number)."""
    transaction.on_commit(_bump)


def cached_with_index(seconds: int) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Like ``cache_page(seconds)`` for GET pages built only from the index, keyed by the
    index generation, the language and the full path."""

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            key = (
                f"discovery:page:{index_generation()}:{request.get_host()}"
                f":{request.get_full_path()}"
            )
            cached = cache.get(key)
            if cached is not None:
                return HttpResponse(
                    cached["content"], content_type=cached["type"], status=cached["status"]
                )
            response = view(request, *args, **kwargs)

            def store(done: HttpResponse) -> None:
                if done.status_code == 200:
                    entry = {
                        "content": done.content,
                        "type": done["Content-Type"],
                        "status": done.status_code,
                    }
                    cache.set(key, entry, seconds)

            if hasattr(response, "add_post_render_callback") and not response.is_rendered:
                response.add_post_render_callback(store)
            else:
                store(response)
            return response

        return wrapped

    return decorator
