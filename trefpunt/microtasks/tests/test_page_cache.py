"""The visitors' batch list is kept like the public contest list (``contests.fragments``):
the same for every visitor, and a batch published or paused shows at once."""

from __future__ import annotations

import pytest
from django.test import Client

from trefpunt.accounts.tests.factories import UserFactory
from trefpunt.microtasks.services import batch_pause

from .factories import published_batch

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
