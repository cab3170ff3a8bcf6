"""Track records: computed from the platform's rows, on the profile page, in the API and in the
directory (kept current by the modes' events), microtask figures only when shown."""

from __future__ import annotations

import pytest
from django.test import Client

from trefpunt.contests.tests.factories import enter
from trefpunt.discovery.models import SearchDocument
from trefpunt.discovery.services import listing_update
from trefpunt.ideas.services import idea_stage_move
from trefpunt.ideas.tests.factories import post, stage
from trefpunt.microtasks.models import BatchWorker

from .factories import World, world

pytestmark = pytest.mark.django_db


@pytest.fixture
def w() -> World:
    return world()


def person_doc(w: World) -> SearchDocument:
    return SearchDocument.objects.get(kind="person", object_id=w.designer.profile.pk)


def test_track_record_counts_entries_and_selected_ideas(client: Client, w: World) -> None:
    enter(w.public_contest, w.designer)
    idea = post(w.public_call, w.designer, title="Paper bags from bakery flour sacks")
    accepted = stage(w.public_call, "selected")
    idea_stage_move(
        idea_id=idea.pk, user=w.client, stage_id=accepted.pk, reason="We will try this in May."
    )
    track = person_doc(w).detail["track"]
    assert track["contests_entered"] == 1
    assert track["ideas_posted"] == 1
    assert track["ideas_selected"] == 1
    html = client.get(w.designer.profile.get_absolute_url()).content.decode()
    assert "Track record" in html
    assert "<strong>1</strong> contest entered" in html
    assert "<strong>1</strong> idea taken further" in html
    data = client.get(f"/api/v1/profiles/{w.designer.profile.handle}").json()
    assert data["track_record"]["contests_entered"] == 1
    assert data["track_record"]["ideas_selected"] == 1
    html = client.get("/en/people/", {"track": "idea"}).content.decode()
    assert w.designer.profile.display_name in html


def test_microtask_figures_show_only_when_the_worker_shows_them(client: Client, w: World) -> None:
    BatchWorker.objects.create(
        batch=w.open_batch, worker=w.designer, gold_answers=10, gold_correct=9
    )
    url = f"/api/v1/profiles/{w.designer.profile.handle}"
    assert "gold_accuracy" not in client.get(url).json()["track_record"]
    listing_update(user=w.designer, listed=True, shows_work_stats=True)
    assert client.get(url).json()["track_record"]["gold_accuracy"] == 90
    assert (
        "right on test questions"
        in client.get(w.designer.profile.get_absolute_url()).content.decode()
    )


def test_hiding_a_profile_takes_it_out_of_search_and_the_directory(
    client: Client, w: World
) -> None:
    client.force_login(w.designer)
    response = client.post("/en/settings/findability/", {"shows_work_stats": "on"})
    assert response.status_code == 302
    assert not SearchDocument.objects.filter(kind="person", object_id=w.designer.profile.pk)
    client.logout()
    assert w.designer.profile.display_name not in client.get("/en/people/").content.decode()
    page = client.get(w.designer.profile.get_absolute_url()).content.decode()
    assert '<meta name="robots" content="noindex">' in page
    assert 'property="og:title"' not in page


def test_entry_and_idea_names_link_to_profiles(client: Client, w: World) -> None:
    entry = enter(w.public_contest, w.designer)
    profile_url = w.designer.profile.get_absolute_url()
    assert f'href="{profile_url}"' in client.get(entry.get_absolute_url()).content.decode()
    assert (
        f'href="{profile_url}"' in client.get(w.public_contest.get_absolute_url()).content.decode()
    )
    idea = post(w.public_call, w.designer, title="Bread subscriptions")
    assert f'href="{profile_url}"' in client.get(idea.get_absolute_url()).content.decode()
    assert f'href="{profile_url}"' in client.get(w.public_call.get_absolute_url()).content.decode()
