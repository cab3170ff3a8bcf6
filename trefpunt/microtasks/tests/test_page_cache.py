"""The visitors' batch list is kept like the public contest list (``contests.fragments``):
the same for every visitor, and a batch published or paused shows at once. A worker's list
asks which batches every time and takes the batches' rows and rendered cards from the
cache."""

from __future__ import annotations

import pytest
from django.test import Client

from trefpunt.accounts.tests.factories import UserFactory
from trefpunt.contests.fragments import CSRF_PLACEHOLDER
from trefpunt.microtasks.services import batch_pause, lease_answer

from .factories import claim, published_batch

pytestmark = pytest.mark.django_db


def test_visitor_batch_list_shows_a_new_and_a_paused_batch_at_once(
    django_capture_on_commit_callbacks,
):
    owner = UserFactory.create()
    with django_capture_on_commit_callbacks(execute=True):
        first = published_batch(owner=owner, items=2, title="Label the birds")
    visitor = Client()
    assert "Label the birds" in visitor.get("/en/microtasks/").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        published_batch(items=2, title="Read the meters")
    page = visitor.get("/en/microtasks/").content.decode()
    assert "Label the birds" in page and "Read the meters" in page
    with django_capture_on_commit_callbacks(execute=True):
        batch_pause(batch_id=first.pk, user=owner)
    page = visitor.get("/en/microtasks/").content.decode()
    assert "Label the birds" not in page and "Read the meters" in page


def test_visitor_batch_list_is_served_from_the_cache_without_queries(
    django_assert_num_queries,
):
    published_batch(items=2, title="Label the birds")
    visitor = Client()
    visitor.get("/en/microtasks/")
    with django_assert_num_queries(0):
        page = visitor.get("/en/microtasks/").content.decode()
    assert "Label the birds" in page and "Log in to start" in page
    # Kept per language: the Dutch list is Dutch.
    assert "Log in to start" not in Client().get("/nl/microtasks/").content.decode()


def test_logged_in_worker_never_gets_the_visitors_list():
    published_batch(items=2, title="Label the birds")
    Client().get("/en/microtasks/")  # the visitors' list, kept
    worker = Client()
    worker.force_login(UserFactory.create())
    page = worker.get("/en/microtasks/").content.decode()
    assert "Log in to start" not in page and "Start working" in page


def _token(page: str) -> str:
    return page.split('name="csrfmiddlewaretoken" value="', 1)[1].split('"', 1)[0]


def test_worker_batch_list_shows_a_paused_batch_and_items_all_seen_at_once(
    django_capture_on_commit_callbacks,
):
    owner = UserFactory.create()
    with django_capture_on_commit_callbacks(execute=True):
        first = published_batch(owner=owner, items=1, title="Label the birds")
        published_batch(items=2, title="Read the meters")
    worker = Client()
    person = UserFactory.create()
    worker.force_login(person)
    page = worker.get("/en/microtasks/").content.decode()
    assert "Label the birds" in page and "Read the meters" in page
    # The one item of the first batch is the worker's now: nothing left for them there once
    # it is answered, though the batch's row is kept in the cache.
    lease_answer(lease_id=claim(first, person).pk, worker=person, answer={"sentiment": "pos"})
    page = worker.get("/en/microtasks/").content.decode()
    assert "Label the birds" not in page and "Read the meters" in page
    with django_capture_on_commit_callbacks(execute=True):
        second = published_batch(items=2, title="Count the boats")
    assert "Count the boats" in worker.get("/en/microtasks/").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        batch_pause(batch_id=second.pk, user=second.owner)
    assert "Count the boats" not in worker.get("/en/microtasks/").content.decode()


def test_worker_batch_cards_carry_each_browsers_own_csrf_token_and_their_own_button():
    batch = published_batch(items=3, title="Label the birds")
    first, second = UserFactory.create(), UserFactory.create()
    browsers = []
    for person in (first, second):
        browser = Client(enforce_csrf_checks=True)
        browser.force_login(person)
        browsers.append(browser)
    lease_answer(lease_id=claim(batch, first).pk, worker=first, answer={"sentiment": "pos"})
    pages = [b.get("/en/microtasks/").content.decode() for b in browsers]
    assert "Continue" in pages[0] and "Start working" not in pages[0]
    assert "Start working" in pages[1] and "Continue" not in pages[1]
    # The second browser's card came from the cache like the first's: its form still
    # carries its own token, which the work page accepts.
    again = browsers[1].get("/en/microtasks/").content.decode()
    token = _token(again)
    assert CSRF_PLACEHOLDER not in again and token != _token(pages[0])
    response = browsers[1].post(
        f"/en/microtasks/batches/{batch.pk}/work/", {"csrfmiddlewaretoken": token}
    )
    assert response.status_code in {200, 302}
    # Kept per language: the Dutch list is Dutch.
    dutch = browsers[1].get("/nl/microtasks/").content.decode()
    assert "Start working" not in dutch and "Label the birds" in dutch
