"""Conversations on contests: an entry's thread is the entrant's and the client's alone; a
contest's questions are readable by whoever may see the contest."""

from __future__ import annotations

import pytest

from trefpunt.accounts.services import api_token_create
from trefpunt.community.services import message_post, thread_open
from trefpunt.contests.services import contest_invite, entry_rate
from trefpunt.contests.tests.factories import enter, make_user, published
from trefpunt.core.exceptions import NotFound

pytestmark = pytest.mark.django_db


def test_an_entrant_answers_the_clients_feedback_in_the_entrys_thread(client) -> None:
    owner, entrant = make_user(), make_user()
    contest = published(owner)
    entry = enter(contest, entrant)
    entry_rate(entry_id=entry.pk, user=owner, rating=4, feedback="Try a warmer red.")

    client.force_login(entrant)
    page = client.get(entry.get_absolute_url())
    started = client.post("/en/messages/start/", {"subject": "entry", "subject_id": entry.pk})
    thread_url = started["Location"]
    client.post(thread_url, {"body": "Like this? I used brick red."})
    client.force_login(owner)
    reply = client.get(thread_url)

    assert b"Message the client" in page.content
    assert reply.status_code == 200
    assert b"brick red" in reply.content


@pytest.mark.parametrize("visibility", ["blind", "open"])
def test_an_entrys_thread_is_not_found_for_anyone_else(client, visibility: str) -> None:
    owner, entrant, rival = make_user(), make_user(), make_user()
    contest = published(owner, visibility=visibility)
    entry = enter(contest, entrant)
    thread = thread_open(user=entrant, subject="entry", subject_id=entry.pk)
    message_post(thread_id=thread.pk, user=entrant, body="A question about my entry")
    _token, raw = api_token_create(user=rival, name="t")
    client.force_login(rival)

    assert client.get(f"/en/messages/{thread.pk}/").status_code == 404
    api = client.get(f"/api/v1/threads/{thread.pk}/messages", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert api.status_code == 404
    with pytest.raises(NotFound):
        thread_open(user=rival, subject="entry", subject_id=entry.pk)
    with pytest.raises(NotFound):
        message_post(thread_id=thread.pk, user=rival, body="let me in")


def test_a_private_contests_questions_are_only_for_the_invited(client) -> None:
    owner, invited, outsider = make_user(), make_user(), make_user()
    contest = published(owner, is_private=True)
    contest_invite(contest_id=contest.pk, user=owner, who=invited.email)
    thread = thread_open(user=invited, subject="contest_qa", subject_id=contest.pk)
    message_post(thread_id=thread.pk, user=invited, body="May we use photography?")

    client.force_login(outsider)
    assert client.get(f"/en/messages/{thread.pk}/").status_code == 404
    client.logout()
    assert client.get(f"/en/messages/{thread.pk}/").status_code == 404
    with pytest.raises(NotFound):
        thread_open(user=outsider, subject="contest_qa", subject_id=contest.pk)
    client.force_login(owner)
    assert b"photography" in client.get(f"/en/messages/{thread.pk}/").content


def test_a_public_contests_questions_can_be_read_without_an_account(client) -> None:
    owner, asker = make_user(), make_user()
    contest = published(owner)
    thread = thread_open(user=asker, subject="contest_qa", subject_id=contest.pk)
    message_post(thread_id=thread.pk, user=asker, body="Is a wordmark enough?")
    message_post(thread_id=thread.pk, user=owner, body="Yes, a wordmark is fine.")

    page = client.get(f"/en/messages/{thread.pk}/")

    assert page.status_code == 200
    assert b"wordmark is fine" in page.content
