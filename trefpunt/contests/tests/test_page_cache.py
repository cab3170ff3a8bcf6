"""Pieces of pages kept in the cache (``contests.fragments``): a change shows at once, each
browser gets its own CSRF token, nobody sees another person's rows, and the language counts."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from trefpunt.accounts.models import User
from trefpunt.contests.fragments import CSRF_PLACEHOLDER
from trefpunt.contests.services import entry_rate

from .factories import enter, make_user, published

pytestmark = pytest.mark.django_db


def browser(user: User | None = None, *, csrf_checks: bool = False) -> Client:
    session = Client(enforce_csrf_checks=csrf_checks)
    if user is not None:
        session.force_login(user)
    return session


def test_judging_card_shows_a_new_rating_and_note_at_once():
    client = make_user()
    contest = published(client)
    entry = enter(contest)
    judge = reverse("contests:judge", kwargs={"pk": contest.pk})
    session = browser(client)
    first = session.get(judge).content.decode()
    assert 'value="4" class="star on"' not in first
    entry_rate(entry_id=entry.pk, user=client, rating=4, note="Strong idea")
    second = session.get(judge).content.decode()
    assert 'value="4" class="star on" aria-pressed="true"' in second
    assert "Strong idea" in second


def test_judging_cards_carry_each_browsers_own_csrf_token():
    client = make_user()
    contest = published(client)
    entry = enter(contest)
    judge = reverse("contests:judge", kwargs={"pk": contest.pk})
    laptop, phone = browser(client, csrf_checks=True), browser(client, csrf_checks=True)
    laptop.get(judge)  # renders and stores the card
    page = phone.get(judge).content.decode()  # the card from the cache
    assert CSRF_PLACEHOLDER not in page
    card = page[page.index(f'id="entry-{entry.pk}"') :]
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', card)
    assert token is not None
    rate = reverse("contests:entry_rate", kwargs={"pk": entry.pk})
    answer = phone.post(rate, {"csrfmiddlewaretoken": token.group(1), "rating": "5"})
    assert answer.status_code == 302
    entry.refresh_from_db()
    assert entry.rating == 5


def test_contest_list_and_home_show_a_new_contest_at_once(django_capture_on_commit_callbacks):
    client = make_user()
    published(client, title="Logo for a bakery")
    visitor = browser()
    assert "Logo for a bakery" in visitor.get("/en/contests/").content.decode()
    assert "Logo for a bakery" in visitor.get("/en/").content.decode()
    # The search index's generation moves once the publishing commits, as it does live.
    with django_capture_on_commit_callbacks(execute=True):
        published(client, title="Name for a garage")
    assert "Name for a garage" in visitor.get("/en/contests/").content.decode()
    assert "Name for a garage" in visitor.get("/en/").content.decode()


def test_contest_list_is_kept_per_language_and_login_state():
    published(make_user(), title="Logo for a bakery")
    visitor, member = browser(), browser(make_user())
    assert "Contests found" in visitor.get("/en/contests/?q=nothing+like+it").content.decode()
    dutch = visitor.get("/nl/contests/?q=nothing+like+it").content.decode()
    assert "Gevonden wedstrijden" in dutch and "Contests found" not in dutch
    # The empty list offers a logged-in member to start a contest, a visitor not.
    start = "/en/contests/new/"
    assert f'<a href="{start}">' not in visitor.get("/en/contests/?q=none").content.decode()
    assert f'<a href="{start}">' in member.get("/en/contests/?q=none").content.decode()


def test_dashboards_show_only_ones_own_rows_and_new_entries_at_once():
    alice, bob, member = make_user(), make_user(), make_user()
    mine = published(alice, title="Logo for Alice")
    published(bob, title="Name for Bob")
    dashboard = reverse("contests:client_dashboard")
    as_alice, as_bob = browser(alice), browser(bob)
    assert "Logo for Alice" in as_alice.get(dashboard).content.decode()
    bobs = as_bob.get(dashboard).content.decode()
    assert "Name for Bob" in bobs and "Logo for Alice" not in bobs
    entry = enter(mine, member)
    assert "Rate 1 new entry" in as_alice.get(dashboard).content.decode()
    entries = reverse("contests:entrant_dashboard")
    as_member = browser(member)
    assert "★★★★" not in as_member.get(entries).content.decode()
    entry_rate(entry_id=entry.pk, user=alice, rating=4, feedback="Nice colours")
    page = as_member.get(entries).content.decode()
    assert "★★★★☆" in page and "Nice colours" in page
