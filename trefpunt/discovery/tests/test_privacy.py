"""Point 7 of the findability issue: every kind of private thing is absent from every surface
discovery serves (search results, facet counts, suggestions, the directory, sitemaps, feeds,
JSON-LD, share tags, the API's list endpoints), by title and by id, while its public twin is
present. Runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from trefpunt.discovery import registry

from .factories import World, world

pytestmark = pytest.mark.django_db


@pytest.fixture
def w() -> World:
    return world()


def surfaces(client: Client, queries: list[str]) -> str:
    """Everything a visitor, a crawler or a script can read from discovery, concatenated."""
    texts = []
    for q in ["", *queries]:
        for lang in ("en", "nl"):
            texts.append(client.get(f"/{lang}/search/", {"q": q}).content.decode())
            texts.append(client.get(f"/{lang}/people/", {"q": q}).content.decode())
        texts.append(client.get("/api/v1/search", {"q": q}).content.decode())
        texts.append(client.get("/api/v1/people", {"q": q}).content.decode())
    index = client.get("/sitemap.xml").content.decode()
    texts.append(index)
    for section in re.findall(r"/sitemap-([a-z]+)\.xml", index):
        texts.append(client.get(f"/sitemap-{section}.xml").content.decode())
    # The modes' own list pages and list endpoints, and the public twins' pages (JSON-LD and
    # share tags are in them).
    for path in ["/en/contests/", "/nl/ideas/", "/en/microtasks/", "/en/projects/", "/en/"]:
        texts.append(client.get(path).content.decode())
    for path in ["/api/v1/contests", "/api/v1/idea-calls", "/api/v1/projects"]:
        texts.append(client.get(path).content.decode())
    for kind in registry.kinds():
        if kind.in_feeds:
            texts.append(client.get(f"/en/feeds/{kind.name}/").content.decode())
            texts.append(client.get(f"/en/feeds/{kind.name}/logo/").content.decode())
    return "\n".join(texts)


def private_refs(w: World) -> dict[str, list[str]]:
    """Per kind of private thing: the words that would give it away, and its addresses."""
    return {
        "private contest": [
            "zebrafinch",
            "quagmire",  # its NDA text
            f"/contests/{w.private_contest.pk}/",
        ],
        "draft contest": ["walrusgrain", f"/contests/{w.draft_contest.pk}/"],
        "organisation-only call": ["lemurcall", f"/ideas/calls/{w.org_call.pk}/"],
        "invited call": ["ibexcall", f"/ideas/calls/{w.invited_call.pk}/"],
        "draft call": ["okapinote", f"/ideas/calls/{w.draft_call.pk}/"],
        "idea in an organisation-only call": ["narwhalbread", f"/ideas/{w.org_idea.pk}/"],
        "idea in an invited call": ["quokkacake", f"/ideas/{w.invited_idea.pk}/"],
        "draft batch": ["axolotltask", f"/microtasks/batches/{w.draft_batch.pk}/"],
        "paused batch": ["tapirtask", f"/microtasks/batches/{w.paused_batch.pk}/"],
        "hidden profile": ["Hidden Heron", f"/@{w.hidden.profile.handle}/"],
        "suspended account": ["Suspended Stoat", f"/@{w.suspended.profile.handle}/"],
    }


def test_private_things_appear_on_no_surface_while_public_twins_do(
    client: Client, w: World
) -> None:
    from trefpunt.projects.models import Job
    from trefpunt.projects.tests.factories import draft_job, open_job

    public_job = open_job(w.client, title="Shop sign pelicanjob")
    invited_job = open_job(
        w.client, title="Invite-only gibbonjob", visibility=Job.Visibility.INVITED
    )
    drafted_job = draft_job(w.client, title="Draft marmotjob")
    jobs = {
        "invite-only project": ["gibbonjob", f"/projects/jobs/{invited_job.pk}/"],
        "draft project": ["marmotjob", f"/projects/jobs/{drafted_job.pk}/"],
    }
    # Searching for a private thing's own words finds nothing and suggests nothing.
    refs_by_thing = {**private_refs(w), **jobs}
    words = [ref for refs in refs_by_thing.values() for ref in refs if not ref.startswith("/")]
    for word in words:
        data = client.get("/api/v1/search", {"q": word}).json()
        assert (data["count"], data["items"], data["suggestion"]) == (0, [], ""), word
        assert client.get("/api/v1/people", {"q": word}).json()["count"] == 0, word
    # Every surface, browsed and searched with words near the private ones.
    text = surfaces(client, ["logo", "zebrafinc", "heron", "stoa", "secret", "task", "job"])
    text += client.get(public_job.get_absolute_url()).content.decode()
    text += client.get(w.public_contest.get_absolute_url()).content.decode()
    for what, refs in refs_by_thing.items():
        for ref in refs:
            assert ref not in text, f"{what} leaks: {ref}"
    public = [
        f"/contests/{w.public_contest.pk}/",
        f"/ideas/calls/{w.public_call.pk}/",
        f"/ideas/{w.public_idea.pk}/",
        f"/microtasks/batches/{w.open_batch.pk}/",
        f"/projects/jobs/{public_job.pk}/",
        "pelicanjob",
        f"/@{w.designer.profile.handle}/",
        "Bakkerij Van der Meulen",
        "Daan Designer",
    ]
    for ref in public:
        assert ref in text, f"public twin missing: {ref}"


def test_facet_counts_leave_private_things_out(client: Client, w: World) -> None:
    data = client.get("/api/v1/search", {"q": "logo"}).json()
    kinds = {
        v["value"]: v["count"] for f in data["facets"] if f["name"] == "kind" for v in f["values"]
    }
    # One public logo contest (not the private or draft ones), one listed logo designer (not
    # the hidden or suspended ones).
    assert kinds == {"contest": 1, "person": 1}


def test_private_pages_carry_no_structured_data(client: Client, w: World) -> None:
    client.force_login(w.client)  # the owner may see the private pages themselves
    for url in [
        w.private_contest.get_absolute_url(),
        w.draft_contest.get_absolute_url(),
        w.org_idea.get_absolute_url(),
    ]:
        html = client.get(url).content.decode()
        assert "application/ld+json" not in html, url
    client.logout()
    client.force_login(w.hidden)
    html = client.get(w.hidden.profile.get_absolute_url()).content.decode()
    assert "application/ld+json" not in html
    assert "og:title" not in html
