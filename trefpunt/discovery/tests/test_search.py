"""Search over every kind, on the database the suite runs on (SQLite FTS5 or PostgreSQL
full-text): what is found, what never is, stemming, prefixes, facets, snippets, "did you
mean", and the index kept current in the changing transaction."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext

from trefpunt.accounts.services import profile_update
from trefpunt.contests.services import contest_cancel
from trefpunt.discovery import registry
from trefpunt.discovery.indexing import index_rebuild
from trefpunt.discovery.models import SearchDocument
from trefpunt.discovery.selectors import SearchQuery, search
from trefpunt.ideas.services import idea_hide
from trefpunt.microtasks.services import batch_close

from .factories import World, person, world

pytestmark = pytest.mark.django_db


@pytest.fixture
def w() -> World:
    return world()


def titles(q: str, **filters: object) -> list[str]:
    return [h.plain_title for h in search(SearchQuery(q=q, **filters)).hits]  # type: ignore[arg-type]


def test_search_finds_contests_by_their_organisations_name(w: World) -> None:
    assert w.public_contest.title in titles("bakkerij")
    assert w.public_contest.title in titles("Van der Meulen")


def test_search_matches_prefixes(w: World) -> None:
    assert w.public_contest.title in titles("bakk")
    assert w.designer.profile.display_name in titles("desig")


def test_search_stems_dutch_and_english(w: World) -> None:
    # "ontwerpen" (to design) finds "ontwerp" (a design); "reviewing" finds "reviews".
    assert w.public_contest.title in titles("ontwerpen")
    assert w.open_batch.title in titles("reviewing")


def test_search_finds_a_person_by_skill_and_an_open_batch_by_its_instructions(w: World) -> None:
    assert w.designer.profile.display_name in titles("illustration")
    assert w.open_batch.title in titles("croissant")


def test_search_never_returns_private_things(w: World) -> None:
    results = search(SearchQuery(q="", per_page=100))
    found = {h.plain_title for h in results.hits}
    for title in w.public_titles():
        assert title in found
    for title in w.private_titles():
        assert title not in found
        assert not titles(title)
    assert not titles("quagmire")  # the private contest's NDA text
    ids = {(h.kind, h.object_id) for h in results.hits}
    assert ("contest", w.private_contest.pk) not in ids
    assert ("idea", w.org_idea.pk) not in ids
    assert ("person", w.hidden.profile.pk) not in ids


def test_search_facets_count_only_public_things(w: World) -> None:
    results = search(SearchQuery(q="logo"))
    kinds = {v.value: v.count for f in results.facets if f.name == "kind" for v in f.values}
    # The public contest and the one listed designer; the private, draft, hidden and
    # suspended logos are not counted.
    assert kinds == {"contest": 1, "person": 1}
    assert results.total == 2


def test_search_filters_by_facets_and_keeps_the_other_facets_counts(w: World) -> None:
    results = search(SearchQuery(q="logo", kind="contest"))
    assert [h.kind for h in results.hits] == ["contest"]
    kinds = {v.value: v.count for f in results.facets if f.name == "kind" for v in f.values}
    assert kinds == {"contest": 1, "person": 1}
    categories = {v.value for f in results.facets if f.name == "category" for v in f.values}
    assert "logo" in categories
    assert titles("", category="logo-design") == [w.designer.profile.display_name]
    assert w.public_contest.title in titles("", language="nl")
    assert w.public_contest.title in titles("", band=2)  # €300


def test_search_highlights_matches_escaped(w: World) -> None:
    person("<b>Bold</b> Logo Person", skills="Logo design")
    hits = search(SearchQuery(q="logo", kind="person")).hits
    html = " ".join(str(h.title) for h in hits)
    assert "<mark>" in html
    # SQLite escapes the tag, PostgreSQL's headline drops it: either way it is not HTML.
    assert "<b>" not in html
    assert "Bold" in html


def test_a_persons_snippet_keeps_the_headline_apart_from_the_bio(w: World) -> None:
    """It read 'Logo and identity designer Simple marks that survive…' as one sentence."""
    gent = person("Gent Maker", skills="Logo design", headline="Logo and identity designer")
    profile_update(
        profile=gent.profile,
        handle=gent.profile.handle,
        display_name="Gent Maker",
        headline="Logo and identity designer",
        bio="Simple marks that survive a fax machine.",
        skills="Logo design",
    )
    hits = search(SearchQuery(q="survive", kind="person")).hits
    summaries = [str(h.snippet) for h in hits if h.plain_title == "Gent Maker"]
    assert len(summaries) == 1 and "designer · Simple marks" in summaries[0], summaries


def test_search_suggests_a_spelling_that_finds_public_results(w: World) -> None:
    results = search(SearchQuery(q="bakkerei"))
    assert results.total == 0
    assert results.suggestion == "bakkerij"


def test_search_never_suggests_a_word_of_a_private_thing(w: World) -> None:
    assert search(SearchQuery(q="zebrafinc")).suggestion == ""


def test_search_query_syntax_is_only_words(w: World) -> None:
    for q in ['"logo', "logo*", "logo OR x", "NEAR(a b)", "a:b", "(!)", "' OR 1=1 --", "&|!"]:
        search(SearchQuery(q=q))  # no error from either database's query parser


def test_index_follows_state_moves_in_the_same_transaction(w: World) -> None:
    assert w.open_batch.title in titles("croissant")
    batch_close(batch_id=w.open_batch.pk, user=w.client)
    assert not titles("croissant")
    from trefpunt.ideas.tests.factories import make_user

    staff = make_user(is_staff=True)
    idea_hide(idea_id=w.public_idea.pk, staff=staff, reason="Breaks the rules of the call.")
    assert not titles("oat milk")


def test_index_follows_edits_and_rolls_back_with_them(w: World) -> None:
    profile = w.client.profile
    with pytest.raises(RuntimeError), transaction.atomic():
        profile_update(profile=profile, handle=profile.handle, display_name="Rolled Backname")
        raise RuntimeError
    assert not titles("backname")
    profile_update(profile=profile, handle=profile.handle, display_name="Anna Zeewier")
    assert "Anna Zeewier" in titles("zeewier")


def test_index_drops_a_cancelled_contest(w: World) -> None:
    from trefpunt.contests.tests.factories import published

    contest = published(w.client, title="Short lived pelicanlogo")
    assert titles("pelicanlogo") == [contest.title]
    contest_cancel(contest_id=contest.pk, user=w.client)
    assert titles("pelicanlogo") == []


def test_index_kept_current_equals_a_rebuild(w: World) -> None:
    before = set(SearchDocument.objects.values_list("kind", "object_id", "title"))
    for kind in registry.kinds():
        index_rebuild(kind)
    after = set(SearchDocument.objects.values_list("kind", "object_id", "title"))
    assert before == after


def test_search_costs_the_same_queries_whatever_it_finds(w: World) -> None:
    counts = []
    for q in ["logo", "bakkerij", ""]:
        with CaptureQueriesContext(connection) as ctx:
            search(SearchQuery(q=q, kind="contest"))
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1] == 4
    assert counts[2] == 3  # no text: nothing to highlight


def test_search_counts_and_ranks_a_capped_pool_and_says_at_least(
    client: Client, w: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from trefpunt.discovery import selectors

    for n in range(4):
        person(f"Logo maker {n}", skills="Logo design")
    monkeypatch.setattr(selectors, "POOL", 3)
    with CaptureQueriesContext(connection) as ctx:
        results = search(SearchQuery(q="logo", per_page=2))
    assert len(ctx.captured_queries) == 4
    assert (results.total, results.count_is_lower_bound, results.pages) == (3, True, 2)
    assert sum(v.count for f in results.facets if f.name == "kind" for v in f.values) == 3
    assert search(SearchQuery(q="bakkerij")).count_is_lower_bound is False
    data = client.get("/api/v1/search", {"q": "logo"}).json()
    assert (data["count"], data["count_is_lower_bound"]) == (3, True)
    assert "At least 3 results" in client.get("/en/search/", {"q": "logo"}).content.decode()
