"""Rendered pieces of pages kept in the shared cache, so a page of 24 judging cards or 50
dashboard rows renders only what changed.

A fragment is keyed by *everything it shows* (the values, not a version number that some
write could forget to bump), the language and the script prefix: a change of any of them is
a new key, so nothing needs invalidating and no stale piece can be shown; old pieces expire.
Whoever may see the values may see the fragment, so a key is only ever built after the
access check of the page that shows it.

Forms in a fragment carry a placeholder instead of the CSRF token (which belongs to one
browser); ``csrf_fill`` puts the viewer's token in after the fragments are fetched.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlencode

from django.core.cache import cache
from django.http import HttpRequest
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.urls import get_script_prefix
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

FRAGMENT_SECONDS = 3600
# Public listings (contest lists, their filters, the home page's contests) are also keyed by
# the search index's generation, which every change of a public thing bumps after its commit
# (``discovery.freshness``): a new or closed contest shows at once. What the index does not
# follow (an entry count, "3 days left") may lag this long.
LISTING_SECONDS = 30
CSRF_PLACEHOLDER = "csrf-placeholder-7f3a9c"


def fragment_key(kind: str, parts: Sequence[Any]) -> str:
    """The cache key of a fragment showing ``parts`` (plain values: str, int, bool, None,
    dates, tuples of these — their ``repr`` is the identity)."""
    digest = hashlib.blake2b(repr(tuple(parts)).encode(), digest_size=16).hexdigest()
    return f"contests:fragment:{kind}:{get_language()}:{get_script_prefix()}:{digest}"


def fragments_render(
    kind: str,
    parts: Sequence[Sequence[Any]],
    render: Callable[[int], str],
    prepare: Callable[[list[int]], None] | None = None,
) -> list[SafeString]:
    """The fragment of each of ``parts``, from the cache when it is there, otherwise
    ``render(i)`` (stored for the next request), after ``prepare`` was given the indexes of
    all the missing ones (to load what only rendering needs, in one query). One cache read
    and at most one write."""
    keys = [fragment_key(kind, p) for p in parts]
    found = cache.get_many(keys) if keys else {}
    missing = [i for i, key in enumerate(keys) if key not in found]
    if missing:
        if prepare is not None:
            prepare(missing)
        rendered = {keys[i]: str(render(i)) for i in missing}
        cache.set_many(rendered, FRAGMENT_SECONDS)
        found = {**found, **rendered}
    return [mark_safe(found[key]) for key in keys]  # noqa: S308 — escaped by our templates


def csrf_fill(request: HttpRequest, pieces: list[SafeString]) -> list[SafeString]:
    """``pieces`` with the viewer's CSRF token where the placeholder is."""
    token = get_token(request)
    return [mark_safe(p.replace(CSRF_PLACEHOLDER, token)) for p in pieces]  # noqa: S308


def form_key(request: HttpRequest, form: Any) -> str:
    """What a GET filter form's rendering depends on besides the language: its fields'
    values in the query (for ``{% cache … lang form_key %}``)."""
    return urlencode([(name, request.GET.getlist(name)) for name in form.fields], doseq=True)


def listing_cached(kind: str, parts: Sequence[Any], compute: Callable[[], Any]) -> Any:
    """A value of a public listing that is the same for everyone asking with ``parts``:
    from the cache for ``LISTING_SECONDS`` and until the search index changes, otherwise
    ``compute()`` (stored)."""
    from trefpunt.discovery.freshness import index_generation

    key = fragment_key(kind, (index_generation(), *parts))
    value = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, LISTING_SECONDS)
    return value


def listing_cached_many(
    kind: str, ids: Sequence[int], compute: Callable[[list[int]], dict[int, Any]]
) -> dict[int, Any]:
    """Per-thing values of a public listing (one per id, the same for everyone), kept as
    ``listing_cached`` (until the search index changes, at most ``LISTING_SECONDS``): one
    cache read for all of ``ids``; ``compute`` is given the missing ones and returns their
    values by id (stored). Which ids a viewer gets stays the caller's query: only what
    every viewer may see of a thing is kept here."""
    from trefpunt.discovery.freshness import index_generation

    generation = index_generation()
    keys = {pk: fragment_key(kind, (generation, pk)) for pk in ids}
    found = cache.get_many(list(keys.values())) if keys else {}
    values = {pk: found[key] for pk, key in keys.items() if key in found}
    missing = [pk for pk in ids if pk not in values]
    if missing:
        computed = compute(missing)
        cache.set_many({keys[pk]: v for pk, v in computed.items()}, LISTING_SECONDS)
        values.update(computed)
    return values


def listing_render(
    request: HttpRequest, kind: str, template: str, context: Callable[[], dict[str, Any]]
) -> SafeString:
    """The part of a public listing page that is the same for every visitor with this
    address (the full path, so the query and the page), language and login state (a
    logged-in visitor may be offered other links), kept as ``listing_cached``; ``template``
    is rendered with ``context()`` (only then are its queries run)."""
    html = listing_cached(
        kind,
        (request.user.is_authenticated, request.get_full_path()),
        lambda: render_to_string(template, context(), request),
    )
    return mark_safe(html)  # noqa: S308 — rendered by our template, escaped there


def entry_tiles_render(
    rows: Sequence[Any], load: Callable[[list[Any]], Sequence[Any]]
) -> SafeString:
    """``contests/_entry_tile.html`` for the entries of ``rows`` (plain rows with ``pk``,
    ``number``, ``title``, ``status``, ``entrant__profile__handle`` and
    ``current_version_id``), as one fragment keyed by what the tiles show; only when the
    tiles are not in the cache are the entries made (``load(rows)``: loaded as
    ``_entry_base`` does, in the rows' order) and their files loaded."""
    from django.db.models import prefetch_related_objects

    from .selectors import entry_files_prefetch

    if not rows:
        return mark_safe("")
    parts = [
        # A version's files never change: its id stands for them.
        (r.pk, r.number, r.title, r.status, r.entrant__profile__handle, r.current_version_id)
        for r in rows
    ]
    entries: list[Any] = []

    def files_load(_missing: list[int]) -> None:
        entries.extend(load(list(rows)))
        prefetch_related_objects(entries, entry_files_prefetch())

    def render(_i: int) -> str:
        return "".join(render_to_string("contests/_entry_tile.html", {"entry": e}) for e in entries)

    return fragments_render("entry-tiles", [tuple(parts)], render, files_load)[0]
