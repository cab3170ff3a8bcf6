"""The personal start page: what needs me now (from every mode's ``start.py``), then
recommended open work; login lands there."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from trefpunt.accounts.tests.factories import PASSWORD
from trefpunt.contests.tests.factories import enter, make_user
from trefpunt.discovery.start import (
    DEADLINE_SOON,
    NEEDS_APPROVAL,
    NEEDS_DECISION,
    NEEDS_JUDGING,
    NEEDS_REVIEW,
    start_page_for,
)
from trefpunt.microtasks.services import lease_answer
from trefpunt.microtasks.tests.factories import claim
from trefpunt.projects.tests.factories import delivered, hired

from .factories import World, world

pytestmark = pytest.mark.django_db


@pytest.fixture
def w() -> World:
    return world()


def groups_of(user: object) -> dict[str, list[str]]:
    page = start_page_for(user)
    return {g.name: [i.text for i in g.items] for g in page.groups}


def test_start_page_lists_what_needs_the_client_in_every_mode(w: World) -> None:
    enter(w.public_contest, w.designer)
    lease = claim(w.open_batch, w.designer)
    lease_answer(lease_id=lease.pk, worker=w.designer, answer={"sentiment": "pos"})
    contract = hired(client=w.client, freelancer=w.designer)
    delivered(contract)

    groups = groups_of(w.client)

    assert groups[NEEDS_JUDGING] == [f"1 entry to judge in “{w.public_contest.title}”"]
    assert f"1 idea waiting for a decision in “{w.public_call.title}”" in groups[NEEDS_DECISION]
    assert groups[NEEDS_APPROVAL][0].startswith("Approve “")
    assert groups[NEEDS_REVIEW] == [f"1 answer to review in “{w.open_batch.title}”"]
    # The entrant's side: the contest they entered closes within a week.
    assert groups_of(w.designer)[DEADLINE_SOON] == [f"Entries for “{w.public_contest.title}” close"]


def test_start_page_recommends_open_public_work_only(w: World) -> None:
    recommended = start_page_for(w.designer).recommended
    titles = {str(h.plain_title) for h in recommended}
    assert w.public_contest.title in titles
    assert not titles & set(w.private_titles())
    # Not one's own work.
    assert not {h.kind for h in start_page_for(w.client).recommended} & {"person"}


def test_start_page_query_count_does_not_grow_with_the_work(w: World) -> None:
    with CaptureQueriesContext(connection) as before:
        start_page_for(w.client)
    enter(w.public_contest, w.designer)
    enter(w.public_contest, make_user())
    with CaptureQueriesContext(connection) as after:
        start_page_for(w.client)
    assert len(after.captured_queries) == len(before.captured_queries)


def test_login_lands_on_the_start_page(client: Client, w: World) -> None:
    response = client.post("/en/accounts/login/", {"login": w.designer.email, "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/en/start/"
    page = client.get("/en/start/")
    assert page.status_code == 200
    assert "Work for you" in page.content.decode()
    assert client.get("/nl/start/").status_code == 200


def test_start_page_needs_a_login(client: Client) -> None:
    response = client.get("/en/start/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_start_page_dates_read_like_the_other_pages(client: Client, w: World) -> None:
    """A deadline on the start page is written as everywhere else ('7 dec. 2026, 19:12'),
    not in the short numeric form ('07-12-2026 19:12')."""
    enter(w.public_contest, w.designer)
    client.force_login(w.designer)
    page = client.get("/nl/start/", HTTP_ACCEPT_LANGUAGE="nl").content.decode()
    shown = re.findall(r"<time datetime=\"[^\"]+\">([^<]+)</time>", page)
    assert shown
    assert all(re.fullmatch(r"\d{1,2} [a-z]+\.? \d{4}, \d{2}:\d{2}", text) for text in shown), shown
