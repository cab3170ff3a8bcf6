"""What contests tell people goes through the notifications module: queued after commit,
in the recipient's language, with absolute links to the configured site, and recorded in
their notification centre."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.core import mail

from trefpunt.community.models import Notification
from trefpunt.community.notifications import notification_kinds, notification_render
from trefpunt.contests import notifications
from trefpunt.contests.services import contest_award, contest_close_entries, entry_decline

from .factories import enter, make_user, published

pytestmark = pytest.mark.django_db

SAMPLE = {
    "title": "Logo for a bakery",
    "contest": "Logo for a bakery",
    "deadline": "2030-05-01T12:00:00+00:00",
    "amount": 28500,
    "currency": "EUR",
    "feedback": "Love the mark.",
    "reason": "Uses a trademarked font.",
    "review": False,
    "upheld": True,
    "days": 7,
    "number": 12,
    "entry": "Warm red wordmark",
}


def test_every_contest_kind_renders_a_subject_and_a_body_in_each_language():
    kinds = [k for k in notification_kinds() if k.key.startswith("contests.")]
    assert {k.key for k in kinds} == {
        notifications.INVITED,
        notifications.FINALIST,
        notifications.PAID,
        notifications.FEEDBACK,
        notifications.DECLINED,
        notifications.DECLINE_REVIEWED,
        notifications.FILES_DELIVERED,
        notifications.NEW_ENTRY,
    }
    for kind in kinds:
        english = notification_render(kind=kind.key, context=SAMPLE, language="en")
        dutch = notification_render(kind=kind.key, context=SAMPLE, language="nl")
        for subject, body in (english, dutch):
            assert subject and body.strip(), kind.key
            assert "{{" not in subject + body and "{%" not in subject + body, kind.key
        assert english[0] != dutch[0], f"the subject of {kind.key} is not translated"


def test_the_winner_is_told_in_their_language_with_a_link_to_the_site(
    django_capture_on_commit_callbacks,
):
    client = make_user()
    contest = published(client, prizes=[30000])
    winner = make_user(language="nl")
    entry = enter(contest, winner)
    with time_machine.travel(contest.entry_deadline + timedelta(minutes=1), tick=False):
        contest_close_entries(contest_id=contest.pk)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        contest_award(contest_id=contest.pk, user=client, awards={1: entry.pk})
    message = next(m for m in mail.outbox if m.to == [winner.email])
    assert "verdiend" in message.subject  # Dutch: "Je hebt … verdiend"
    assert f"{settings.SITE_URL}/contests/entries/{entry.pk}/" in message.body
    assert "example.com" not in message.body
    notice = Notification.objects.get(user=winner, kind=notifications.PAID)
    assert notice.path == f"/contests/entries/{entry.pk}/"


def test_a_decline_is_queued_only_when_the_transaction_commits(
    django_capture_on_commit_callbacks,
):
    client = make_user()
    contest = published(client)
    entry = enter(contest)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        entry_decline(entry_id=entry.pk, user=client, reason="Uses a trademarked font.")
    assert mail.outbox == []
    for callback in callbacks:
        callback()
    assert [m.to for m in mail.outbox] == [[entry.entrant.email]]
    assert "Uses a trademarked font." in mail.outbox[0].body
