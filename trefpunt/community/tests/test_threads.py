"""Conversations tied to the work: only the people of the work see them; messages, edits,
read state, held messages, rate limits, files."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any, cast

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from trefpunt.accounts.models import User
from trefpunt.accounts.services import api_token_create
from trefpunt.accounts.tests.factories import UserFactory, image_bytes
from trefpunt.community.models import Message, MessageAttachment, Notification, Thread
from trefpunt.community.services import (
    held_message_decide,
    message_edit,
    message_post,
    thread_open,
)
from trefpunt.community.threads import ThreadKind, ThreadTarget, thread_kinds_register
from trefpunt.core.exceptions import Conflict, ErrorCode, NotFound
from trefpunt.core.testing import run_concurrently

pytestmark = pytest.mark.django_db

# A stand-in piece of work for these tests: id → (participants, public).
WORK: dict[int, tuple[frozenset[int], bool]] = {}


def _resolve(keys: Sequence[tuple[int, str]]) -> dict[tuple[int, str], ThreadTarget]:
    return {
        (pk, key): ThreadTarget(
            title=f"Work {pk}",
            url=f"/en/work/{pk}/",
            participants=WORK[pk][0],
            public=WORK[pk][1],
            readers=lambda user: True,
        )
        for pk, key in keys
        if pk in WORK
    }


thread_kinds_register(ThreadKind("testwork", "Test work", _resolve))


def person(**fields: Any) -> User:
    return cast(User, UserFactory(**fields))


def work(*people: User, public: bool = False) -> int:
    pk = len(WORK) + 1000
    WORK[pk] = (frozenset(p.pk for p in people), public)
    return pk


def conversation(*people: User, public: bool = False) -> Thread:
    return thread_open(user=people[0], subject="testwork", subject_id=work(*people, public=public))


def test_participants_talk_and_the_other_side_is_notified(
    client, django_capture_on_commit_callbacks
) -> None:
    client_user, worker = person(), person()
    thread = conversation(client_user, worker)

    with django_capture_on_commit_callbacks(execute=True):
        message_post(thread_id=thread.pk, user=worker, body="What does *neutral* mean?")
    client.force_login(client_user)
    page = client.get(f"/en/messages/{thread.pk}/")

    assert page.status_code == 200
    assert b"<em>neutral</em>" in page.content
    notice = Notification.objects.get(user=client_user)
    assert notice.kind == "community.message"
    assert notice.path == f"/messages/{thread.pk}/#m1"
    assert not Notification.objects.filter(user=worker).exists()


def test_a_conversation_is_not_found_for_anyone_outside_it(client) -> None:
    a, b, stranger = person(), person(), person()
    thread = conversation(a, b)
    message = message_post(
        thread_id=thread.pk,
        user=a,
        body="plan attached",
        files=[SimpleUploadedFile("plan.png", image_bytes(), content_type="image/png")],
    )
    attachment = MessageAttachment.objects.get(message=message)
    client.force_login(stranger)
    _token, raw = api_token_create(user=stranger, name="t")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}

    assert client.get(f"/en/messages/{thread.pk}/").status_code == 404
    assert client.get(f"/en/messages/files/{attachment.pk}/").status_code == 404
    assert client.get(f"/en/messages/{thread.pk}/since/0/").status_code == 404
    assert client.get(f"/api/v1/threads/{thread.pk}", **auth).status_code == 404
    assert client.get(f"/api/v1/threads/{thread.pk}/messages", **auth).status_code == 404
    with pytest.raises(NotFound):
        message_post(thread_id=thread.pk, user=stranger, body="hi")
    with pytest.raises(NotFound):
        thread_open(user=stranger, subject="testwork", subject_id=thread.subject_id)
    with pytest.raises(NotFound):  # no kind of work for direct messages
        thread_open(user=a, subject="direct", subject_id=b.pk)


def test_starting_a_conversation_on_an_id_past_bigint_is_not_found(client) -> None:
    """Each mode looks the id up in its table: 2**64 overflowed there (500 on SQLite)."""
    client.force_login(person())
    for subject in ["entry", "contest_qa", "idea", "batch", "proposal", "contract"]:
        for subject_id in [2**64, 2**63, -1, 0]:
            answer = client.post(
                "/en/messages/start/", {"subject": subject, "subject_id": str(subject_id)}
            )
            assert answer.status_code == 404, (subject, subject_id)


def test_a_public_thread_can_be_read_by_anyone_and_joined_by_posting(client) -> None:
    owner, asker = person(), person()
    thread = conversation(owner, public=True)
    message_post(thread_id=thread.pk, user=owner, body="Ask your questions here.")

    assert client.get(f"/en/messages/{thread.pk}/").status_code == 200  # logged out
    message_post(thread_id=thread.pk, user=asker, body="Can I use my own photos?")

    assert Message.objects.filter(thread=thread).count() == 2


def test_unread_counts_and_the_inbox_run_a_constant_number_of_queries(client) -> None:
    me, other = person(), person()
    client.force_login(me)
    first = conversation(other, me)
    message_post(thread_id=first.pk, user=other, body="hello")
    with CaptureQueriesContext(connection) as few:
        client.get("/en/messages/")
    for _n in range(8):
        thread = conversation(other, me)
        message_post(thread_id=thread.pk, user=other, body="one")
        message_post(thread_id=thread.pk, user=other, body="two")
    with CaptureQueriesContext(connection) as many:
        inbox = client.get("/en/messages/")

    assert len(many) == len(few)
    assert inbox.content.decode().count("2 new") == 8
    client.get(f"/en/messages/{first.pk}/")
    _token, raw = api_token_create(user=me, name="t")
    rows = client.get("/api/v1/threads", HTTP_AUTHORIZATION=f"Bearer {raw}").json()
    assert {r["id"]: r["unread"] for r in rows}[first.pk] == 0
    assert sum(r["unread"] for r in rows) == 16


def test_messages_are_editable_by_their_author_for_ten_minutes() -> None:
    a, b = person(), person()
    thread = conversation(a, b)
    message = message_post(thread_id=thread.pk, user=a, body="first try")

    assert message_edit(message_id=message.pk, user=a, body="second try").edited_at
    with pytest.raises(NotFound):
        message_edit(message_id=message.pk, user=b, body="not mine")
    with (
        time_machine.travel(timezone.now() + timedelta(minutes=11)),
        pytest.raises(Conflict) as exc,
    ):
        message_edit(message_id=message.pk, user=a, body="too late")
    assert exc.value.code == ErrorCode.EDIT_WINDOW_CLOSED
    assert Message.objects.get(pk=message.pk).body == "second try"


def test_a_link_heavy_first_message_of_a_new_account_waits_for_staff(
    staff_user, django_capture_on_commit_callbacks
) -> None:
    a, newcomer = person(), person()
    thread = conversation(a, newcomer)

    with django_capture_on_commit_callbacks(execute=True):
        held = message_post(
            thread_id=thread.pk, user=newcomer, body="cheap http://a.example http://b.example"
        )

    assert held.status == Message.Status.HELD
    assert not Notification.objects.filter(user=a).exists()
    with django_capture_on_commit_callbacks(execute=True):
        held_message_decide(message_id=held.pk, staff=staff_user, release=True)
    assert Message.objects.get(pk=held.pk).status == Message.Status.VISIBLE
    assert Notification.objects.filter(user=a, kind="community.message").exists()


@override_settings(MESSAGE_RATE_LIMIT=3)
def test_sending_too_fast_is_refused_with_429(client) -> None:
    a, b = person(), person()
    thread = conversation(a, b)
    _token, raw = api_token_create(user=a, name="t")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}

    answers = [
        client.post(
            f"/api/v1/threads/{thread.pk}/messages",
            {"body": f"message {n}"},
            content_type="application/json",
            **auth,
        ).status_code
        for n in range(4)
    ]

    assert answers == [200, 200, 200, 429]
    assert Message.objects.filter(thread=thread).count() == 3


def test_a_file_that_is_not_what_it_claims_is_refused_and_nothing_is_saved() -> None:
    a, b = person(), person()
    thread = conversation(a, b)

    with pytest.raises(Exception) as exc:
        message_post(
            thread_id=thread.pk,
            user=a,
            body="see attached",
            files=[SimpleUploadedFile("x.png", b"MZ\x90\x00 not an image")],
        )

    assert getattr(exc.value, "code", None) == ErrorCode.INVALID
    assert not Message.objects.exists()
    assert Thread.objects.get(pk=thread.pk).message_count == 0


def test_the_poll_returns_only_newer_messages_and_marks_them_read(client) -> None:
    a, b = person(), person()
    thread = conversation(a, b)
    message_post(thread_id=thread.pk, user=b, body="old news")
    message_post(thread_id=thread.pk, user=b, body="fresh news")
    client.force_login(a)

    fragment = client.get(f"/en/messages/{thread.pk}/since/1/").content.decode()

    assert "fresh news" in fragment
    assert "old news" not in fragment
    assert "/since/2/" in fragment
    assert thread.members.get(user=a).read_count == 2


@pytest.mark.race
@pytest.mark.django_db(transaction=True)
def test_concurrent_posts_get_distinct_gapless_numbers() -> None:
    a, b = person(), person()
    thread = conversation(a, b)

    results = run_concurrently(
        lambda i: message_post(thread_id=thread.pk, user=(a, b)[i % 2], body=f"m{i}"), workers=4
    )

    assert all(isinstance(r, Message) for r in results), results
    assert sorted(Message.objects.filter(thread=thread).values_list("number", flat=True)) == [
        1,
        2,
        3,
        4,
    ]
    assert Thread.objects.get(pk=thread.pk).message_count == 4


def test_a_long_thread_opens_on_its_latest_messages_with_earlier_ones_a_page_back(
    client,
) -> None:
    me, you = person(), person()
    thread = conversation(me, you)
    Message.objects.bulk_create(
        Message(thread=thread, number=n, author=you, body=f"Note number {n}.") for n in range(1, 61)
    )
    Thread.objects.filter(pk=thread.pk).update(message_count=60, last_message_at=timezone.now())
    client.force_login(me)

    latest = client.get(f"/en/messages/{thread.pk}/").content.decode()
    earlier = client.get(f"/en/messages/{thread.pk}/?before=11").content.decode()
    api = client.get(f"/api/v1/threads/{thread.pk}/messages?after=0")

    assert "Note number 60." in latest and "Note number 11." in latest
    assert "Note number 10." not in latest and "?before=11" in latest
    assert "Note number 10." in earlier and "Note number 11." not in earlier
    assert 'id="poller"' not in earlier
    assert [m["number"] for m in api.json()][:2] == [1, 2]
