"""Comments with replies, the edit window, reports and follows."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core import mail

from trefpunt.core.exceptions import Conflict, ErrorCode
from trefpunt.ideas import services
from trefpunt.ideas.models import Comment

from .factories import make_user, open_call, post

pytestmark = pytest.mark.django_db


def test_comment_and_reply_tell_the_author_and_followers(
    django_capture_on_commit_callbacks,
) -> None:
    call = open_call(make_user())
    author, talker, replier = make_user(), make_user(), make_user()
    idea = post(call, author)
    with django_capture_on_commit_callbacks(execute=True):
        first = services.comment_create(idea_id=idea.pk, user=talker, body="Love it")
        reply = services.comment_create(
            idea_id=idea.pk, user=replier, body="Me too", parent_id=first.pk
        )
        nested = services.comment_create(
            idea_id=idea.pk, user=author, body="Thanks", parent_id=reply.pk
        )

    assert reply.parent == first and nested.parent == first  # one level of replies
    idea.refresh_from_db()
    assert idea.comment_count == 3
    told = [m.to[0] for m in mail.outbox]
    assert author.email in told and talker.email in told


def test_comment_edit_window() -> None:
    call = open_call(make_user())
    talker = make_user()
    comment = services.comment_create(idea_id=post(call).pk, user=talker, body="Typo")
    services.comment_edit(comment_id=comment.pk, user=talker, body="Fixed")
    assert Comment.objects.get(pk=comment.pk).edited_at is not None

    with (
        time_machine.travel(comment.created_at + timedelta(minutes=16)),
        pytest.raises(Conflict) as exc,
    ):
        services.comment_edit(comment_id=comment.pk, user=talker, body="Late")
    assert exc.value.code == ErrorCode.EDIT_WINDOW_PASSED


def test_report_once_per_person_and_staff_take_down() -> None:
    call = open_call(make_user())
    idea = post(call)
    comment = services.comment_create(idea_id=idea.pk, user=make_user(), body="Spam spam")
    reporter = make_user()
    services.report_create(idea_id=idea.pk, user=reporter, reason="Spam", comment_id=comment.pk)
    with pytest.raises(Conflict) as exc:
        services.report_create(idea_id=idea.pk, user=reporter, reason="x", comment_id=comment.pk)
    assert exc.value.code == ErrorCode.ALREADY_REPORTED

    services.comment_hide(comment_id=comment.pk, staff=make_user(is_staff=True))
    assert Comment.objects.get(pk=comment.pk).hidden_at is not None


def test_follow_and_unfollow_a_call() -> None:
    call = open_call(make_user())
    user = make_user()
    services.follow_set(user=user, call_id=call.pk, follow=True)
    services.follow_set(user=user, call_id=call.pk, follow=True)
    assert services.is_following(user=user, call_id=call.pk)
    services.follow_set(user=user, call_id=call.pk, follow=False)
    assert not services.is_following(user=user, call_id=call.pk)


def test_an_idea_thread_is_between_the_client_and_the_credited_authors() -> None:
    from trefpunt.community.threads import thread_targets

    client = make_user()
    call = open_call(client)
    author = make_user()
    idea = post(call, author)

    target = thread_targets([("idea", idea.pk, "")])[("idea", idea.pk, "")]

    assert target.participants == frozenset({client.pk, author.pk})
    assert not target.public
