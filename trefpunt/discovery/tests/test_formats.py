# ruff: noqa: S314 - parses our own responses
"""The sitemap, the feeds and the structured data, checked by parsing: the sitemaps.org schema's
elements and value formats, Atom's required elements, and the schema.org keys each type needs."""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any
from xml.etree import ElementTree as ET

import pytest
from django.conf import settings
from django.test import Client

from .factories import World, world

pytestmark = pytest.mark.django_db

SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
XHTML = "{http://www.w3.org/1999/xhtml}"
ATOM = "{http://www.w3.org/2005/Atom}"
W3C_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?$")
# The elements the sitemaps.org XSD allows in a <url>, each at most once (xhtml:link aside).
URL_CHILDREN = {f"{SM}loc", f"{SM}lastmod", f"{SM}changefreq", f"{SM}priority"}
REQUIRED_KEYS = {
    "JobPosting": {"title", "description", "datePosted", "hiringOrganization"},
    "CreativeWork": {"name", "url", "creator"},
    "Person": {"name", "url"},
    "Organization": {"name", "url"},
    "ProfilePage": {"mainEntity", "url"},
    "WebPage": {"name", "url"},
    "BreadcrumbList": {"itemListElement"},
    "ListItem": {"position", "name", "item"},
    "MonetaryAmount": {"currency"},  # and a value or a range (``check_nodes``)
    "QuantitativeValue": {"value", "unitText"},
}


@pytest.fixture
def w() -> World:
    return world()


def check_url_element(url: ET.Element) -> str:
    tags = [child.tag for child in url if child.tag.startswith(SM)]
    assert set(tags) <= URL_CHILDREN
    assert len(tags) == len(set(tags))
    loc = url.findtext(f"{SM}loc") or ""
    assert loc.startswith(("http://", "https://")) and len(loc) < 2048
    lastmod = url.findtext(f"{SM}lastmod")
    if lastmod is not None:
        assert W3C_DATETIME.match(lastmod), lastmod
    return loc


def test_sitemap_index_and_sections_follow_the_schema(client: Client, w: World) -> None:
    response = client.get("/sitemap.xml")
    assert response.status_code == 200
    index = ET.fromstring(response.content)
    assert index.tag == f"{SM}sitemapindex"
    sections = [s.findtext(f"{SM}loc") or "" for s in index.findall(f"{SM}sitemap")]
    assert any(s.endswith("/sitemap-contest.xml") for s in sections)
    locs = []
    for section in sections:
        path = "/" + section.split("/", 3)[3]
        root = ET.fromstring(client.get(path).content)
        assert root.tag == f"{SM}urlset"
        for url in root.findall(f"{SM}url"):
            locs.append(check_url_element(url))
            links = url.findall(f"{XHTML}link")
            hreflangs = {link.get("hreflang") for link in links}
            assert hreflangs == {"en", "nl", "x-default"}
            assert all(link.get("rel") == "alternate" for link in links)
    contest = f"/en/contests/{w.public_contest.pk}/"
    assert any(loc.endswith(contest) for loc in locs)
    assert any(loc.endswith(f"/nl/contests/{w.public_contest.pk}/") for loc in locs)


def test_robots_txt_points_at_the_sitemap_and_keeps_private_areas_out(client: Client) -> None:
    text = client.get("/robots.txt").content.decode()
    assert re.search(r"^Sitemap: https?://\S+/sitemap\.xml$", text, re.M)
    for path in ["/api/", "/en/wallet/", "/nl/accounts/", "/en/settings/"]:
        assert f"Disallow: {path}" in text
    # Work for visitors stays crawlable: no rule is a prefix of a public list or detail page.
    rules = re.findall(r"^Disallow: (\S+)$", text, re.M)
    for public in [
        "/en/microtasks/",
        "/nl/microtasks/batches/1/",
        "/en/contests/1/",
        "/en/people/",
    ]:
        assert not [r for r in rules if public.startswith(r)], public


@pytest.mark.parametrize(
    "path", ["/en/feeds/contest/", "/nl/feeds/contest/logo/", "/en/feeds/batch/"]
)
def test_feeds_are_atom(client: Client, w: World, path: str) -> None:
    response = client.get(path)
    assert response["Content-Type"].startswith("application/atom+xml")
    feed = ET.fromstring(response.content)
    assert feed.tag == f"{ATOM}feed"
    for required in ("id", "title", "updated"):
        assert feed.find(f"{ATOM}{required}") is not None
    entries = feed.findall(f"{ATOM}entry")
    assert entries
    for entry in entries:
        for required in ("id", "title", "updated"):
            assert (entry.findtext(f"{ATOM}{required}") or "").strip()
        # Atom's ids are IRIs: the entry's absolute address, as its link.
        assert (entry.findtext(f"{ATOM}id") or "").startswith(("http://", "https://"))
        datetime.fromisoformat(entry.findtext(f"{ATOM}updated") or "")
        assert (entry.find(f"{ATOM}link") is not None) and entry.find(f"{ATOM}link").get("href")  # type: ignore[union-attr]


def test_feeds_for_people_or_unknown_kinds_do_not_exist(client: Client) -> None:
    assert client.get("/en/feeds/person/").status_code == 404
    assert client.get("/en/feeds/nope/").status_code == 404


def nodes_of(html: str) -> list[dict[str, object]]:
    scripts = re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    found: list[dict[str, object]] = []

    def walk(value: object) -> None:
        if isinstance(value, dict):
            if "@type" in value:
                found.append(value)
            for child in value.values():
                walk(child)
        elif isinstance(value, list):
            for child in value:
                walk(child)

    for script in scripts:
        walk(json.loads(script))
    return found


def check_nodes(nodes: list[dict[str, object]]) -> set[str]:
    types = set()
    for node in nodes:
        kind = str(node["@type"])
        types.add(kind)
        missing = REQUIRED_KEYS.get(kind, set()) - set(node)
        assert not missing, f"{kind} lacks {missing}"
        if kind == "MonetaryAmount":
            assert "value" in node or {"minValue", "maxValue"} <= set(node), node
    return types


def test_structured_data_has_the_keys_of_each_type(client: Client, w: World) -> None:
    pages = {
        w.public_contest.get_absolute_url(): {"WebPage", "Organization", "BreadcrumbList"},
        w.designer.profile.get_absolute_url(): {"ProfilePage", "Person", "BreadcrumbList"},
        w.bakery.get_absolute_url(): {"Organization", "BreadcrumbList"},
        w.public_idea.get_absolute_url(): {"CreativeWork", "Person", "BreadcrumbList"},
    }
    from trefpunt.projects.tests.factories import open_job

    job = open_job(w.client)
    pages[f"/en/projects/jobs/{job.pk}/"] = {
        "JobPosting",
        "Organization" if job.organisation_id else "Person",
        "MonetaryAmount",
        "BreadcrumbList",
    }
    client.force_login(w.designer)  # batch pages are for members today
    pages[f"/en/microtasks/batches/{w.open_batch.pk}/"] = {
        "JobPosting",
        "MonetaryAmount",
        "QuantitativeValue",
        "BreadcrumbList",
    }
    for url, expected in pages.items():
        html = client.get(url).content.decode()
        types = check_nodes(nodes_of(html))
        assert expected <= types, (url, types)


def test_cached_sitemap_drops_a_contest_as_soon_as_it_stops_being_public(
    client: Client, w: World, django_capture_on_commit_callbacks: Any
) -> None:
    from trefpunt.contests.services import contest_cancel
    from trefpunt.contests.tests.factories import published

    contest = published(w.client, title="Short lived sitemap contest")
    path = f"/contests/{contest.pk}/"
    assert path in client.get("/sitemap-contest.xml").content.decode()
    assert path in client.get("/sitemap-contest.xml").content.decode()  # from the cache
    with django_capture_on_commit_callbacks(execute=True):
        contest_cancel(contest_id=contest.pk, user=w.client)
    assert path not in client.get("/sitemap-contest.xml").content.decode()


def test_each_public_page_names_its_canonical_address_and_its_languages(
    client: Client, w: World
) -> None:
    """Every public page says which address is its own (the query left out but for the page
    number) and where it is in the other language, as the sitemap does."""
    site = settings.SITE_URL
    contest = w.public_contest.pk
    for path, canonical, english, dutch, default in [
        (
            f"/nl/contests/{contest}/",
            f"/nl/contests/{contest}/",
            f"/en/contests/{contest}/",
            f"/nl/contests/{contest}/",
            f"/contests/{contest}/",
        ),
        (
            "/en/contests/?page=2&sort=new",
            "/en/contests/?page=2",
            "/en/contests/?page=2",
            "/nl/contests/?page=2",
            "/contests/?page=2",
        ),
    ]:
        html = client.get(path).content.decode()
        assert f'<link rel="canonical" href="{site}{canonical}">' in html
        links = dict(re.findall(r'<link rel="alternate" hreflang="([^"]+)" href="([^"]+)">', html))
        assert links == {"en": site + english, "nl": site + dutch, "x-default": site + default}


def test_a_page_is_either_kept_out_of_search_engines_or_names_its_canonical_address(
    client: Client, w: World
) -> None:
    """Never both: a noindex page that named a canonical address would point a search
    engine at a page it may not index; a public page without one loses its alternates."""
    client.force_login(w.client)
    hidden = [
        "/en/search/?q=logo",
        w.draft_call.get_absolute_url(),
        w.org_call.get_absolute_url(),
        w.private_contest.get_absolute_url(),
        w.draft_contest.get_absolute_url(),
    ]
    shown = [
        w.public_contest.get_absolute_url(),
        w.public_call.get_absolute_url(),
        w.public_idea.get_absolute_url(),
        w.designer.profile.get_absolute_url(),
    ]
    for path in hidden + shown:
        html = client.get(path).content.decode()
        noindex = re.search(r'<meta name="robots" content="noindex[^"]*">', html) is not None
        canonical = 'rel="canonical"' in html
        assert (noindex, canonical) == ((True, False) if path in hidden else (False, True)), path


def test_markdown_is_plain_text_in_descriptions_feeds_and_structured_data(
    client: Client, w: World, django_capture_on_commit_callbacks: Any
) -> None:
    from trefpunt.ideas.tests.factories import post

    with django_capture_on_commit_callbacks(execute=True):
        idea = post(
            w.public_call,
            w.designer,
            title="Deposit cups",
            description="A **€1 deposit** on a [sturdy cup](https://example.org/cup) & more.",
        )
    plain = "A €1 deposit on a sturdy cup &amp; more."
    html = client.get(idea.get_absolute_url()).content.decode()
    assert f'<meta name="description" content="{plain}">' in html
    texts = [str(n.get("text", "")) for n in nodes_of(html) if n["@type"] == "CreativeWork"]
    assert texts == [plain.replace("&amp;", "&")]
    feed = client.get("/en/feeds/idea/").content.decode()
    assert "Deposit cups" in feed and "**" not in feed and "](https" not in feed


def test_each_list_page_links_its_feed(client: Client, w: World) -> None:
    for path, kind in [
        ("/en/contests/", "contest"),
        ("/nl/ideas/", "ideacall"),
        ("/en/microtasks/", "batch"),
        ("/nl/projects/", "job"),
    ]:
        html = client.get(path).content.decode()
        found = re.search(
            r'<link rel="alternate" type="application/atom\+xml" href="([^"]+)" title="[^"]+">',
            html,
        )
        assert found, path
        assert found.group(1) == f"{path[:3]}/feeds/{kind}/"
        feed = client.get(found.group(1))
        assert feed.status_code == 200 and feed["Content-Type"].startswith("application/atom")
