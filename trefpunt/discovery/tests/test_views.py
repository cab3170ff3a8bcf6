"""The search page, the directory and their API endpoints: public, private-free, constant in
queries."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from .factories import World, world

pytestmark = pytest.mark.django_db


@pytest.fixture
def w() -> World:
    return world()


def test_search_page_shows_results_with_facets_and_linked_names(client: Client, w: World) -> None:
    response = client.get("/en/search/", {"q": "logo"})
    html = response.content.decode()
    assert response.status_code == 200
    assert w.public_contest.title.split()[0] in html
    assert "<mark>" in html
    assert f'href="/en/orgs/{w.bakery.slug}/"' in html  # the poster, linked
    assert f'href="/en/@{w.designer.profile.handle}/"' in html
    assert "?q=logo&amp;kind=contest" in html  # a facet link


def test_search_page_in_dutch(client: Client, w: World) -> None:
    response = client.get("/nl/search/", {"q": "bakkerij", "kind": "contest"})
    assert response.status_code == 200
    assert 'lang="nl"' in response.content.decode()
    assert f'href="/nl/contests/{w.public_contest.pk}/"' in response.content.decode()


def test_search_page_suggests_a_spelling(client: Client, w: World) -> None:
    html = client.get("/en/search/", {"q": "bakkerei"}).content.decode()
    assert "?q=bakkerij" in html


def test_search_page_survives_any_input(client: Client, w: World) -> None:
    for q in ["_", "__*", '"', "🙂", "x" * 500, "ö", "a b c d e f g h i j k"]:
        assert client.get("/en/search/", {"q": q, "band": "x", "kind": "nope"}).status_code == 200
        assert client.get("/api/v1/search", {"q": q}).status_code in {200, 422}


def test_search_api_is_public_and_complete(client: Client, w: World) -> None:
    data = client.get("/api/v1/search", {"q": "bakkerij"}).json()
    found = {(i["kind"], i["id"]) for i in data["items"]}
    assert ("contest", w.public_contest.pk) in found
    assert ("organisation", w.bakery.pk) in found
    item = next(i for i in data["items"] if i["kind"] == "contest")
    assert item["url"].endswith(f"/contests/{w.public_contest.pk}/")
    assert item["by"]["name"] == "Bakkerij Van der Meulen"
    assert {f["name"] for f in data["facets"]} >= {"kind", "category", "status", "language"}


def test_directory_filters_by_skill_location_and_track_record(client: Client, w: World) -> None:
    html = client.get("/en/people/").content.decode()
    assert w.designer.profile.display_name in html
    assert w.hidden.profile.display_name not in html
    assert w.suspended.profile.display_name not in html
    html = client.get("/en/people/", {"category": "illustration"}).content.decode()
    assert w.designer.profile.display_name in html
    assert w.client.profile.display_name not in html
    html = client.get("/en/people/", {"track": "won"}).content.decode()
    assert w.designer.profile.display_name not in html
    data = client.get("/api/v1/people", {"q": "logos"}).json()
    assert [i["title"] for i in data["items"]] == [w.designer.profile.display_name]


@pytest.mark.parametrize("path", ["/en/search/", "/en/people/", "/api/v1/search"])
def test_search_query_count_does_not_grow_with_results(client: Client, w: World, path: str) -> None:
    counts = []
    for q in ["zzzznothing", "logo"]:
        with CaptureQueriesContext(connection) as ctx:
            client.get(path, {"q": q})
        counts.append(len(ctx.captured_queries))
    # No results asks "did you mean" (a few more); results never cost more than that.
    assert counts[1] <= counts[0] + 1
    with CaptureQueriesContext(connection) as ctx:
        client.get(path, {"q": "logo", "page": "1"})
    assert len(ctx.captured_queries) == counts[1]


def test_directory_and_search_speak_dutch(client: Client, w: World) -> None:
    assert "Talentengids" in client.get("/nl/people/").content.decode()
    html = client.get("/nl/search/", {"q": "logo"}).content.decode()
    assert "Categorie of vaardigheid" in html
    assert "2 resultaten" in html


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_open_work_is_browsable_without_an_account(client: Client, w: World, lang: str) -> None:
    pages = {
        f"/{lang}/microtasks/": w.open_batch.title,
        f"/{lang}/microtasks/batches/{w.open_batch.pk}/": w.open_batch.title,
        f"/{lang}/contests/": w.public_contest.title,
        f"/{lang}/ideas/": w.public_call.title,
    }
    for path, title in pages.items():
        response = client.get(path)
        assert response.status_code == 200, path
        assert title in response.content.decode(), path
    batches = client.get(f"/{lang}/microtasks/").content.decode()
    assert f"/{lang}/accounts/login/?next=/{lang}/microtasks/batches/{w.open_batch.pk}/" in batches
    for private in [w.draft_batch.title, w.paused_batch.title]:
        assert private not in batches
