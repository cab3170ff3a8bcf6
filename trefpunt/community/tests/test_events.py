"""Every event that concerns a person, end to end through the real services: it lands in
their notification centre with a link, and is emailed at once, in the daily summary, or not
at all, as they chose — money and security notices always at once.

Each scenario builds its own world, performs the event and returns who must be told."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from trefpunt.accounts.models import User
from trefpunt.community.models import Notification, NotificationSetting
from trefpunt.community.notifications import notification_kind, notifications_digest_send
from trefpunt.community.services import message_post, thread_open
from trefpunt.contests import services as contests
from trefpunt.contests.models import Contest, Entry
from trefpunt.contests.tests.factories import enter, make_user, pdf_bytes, published
from trefpunt.ideas import services as ideas
from trefpunt.ideas.tests.factories import open_call, post, stage
from trefpunt.microtasks import services as microtasks
from trefpunt.microtasks.models import Answer, Batch
from trefpunt.microtasks.tests.factories import claim, published_batch
from trefpunt.projects.tests import factories as projects_factories

pytestmark = pytest.mark.django_db


Act = Callable[[], object]


def _judging(contest: Contest) -> None:
    with time_machine.travel(contest.entry_deadline + timedelta(minutes=1), tick=False):
        contests.contest_close_entries(contest_id=contest.pk)


def _award(owner: User, contest: Contest, entry: Entry) -> Act:
    return lambda: contests.contest_award(contest_id=contest.pk, user=owner, awards={1: entry.pk})


def new_entry() -> tuple[User, Act]:
    owner = make_user()
    contest = published(owner)
    return owner, lambda: enter(contest)


def feedback() -> tuple[User, Act]:
    owner = make_user()
    entry = enter(published(owner))
    return entry.entrant, lambda: contests.entry_rate(
        entry_id=entry.pk, user=owner, rating=4, feedback="Warmer colours?"
    )


def finalist() -> tuple[User, Act]:
    owner = make_user()
    contest = published(owner)
    entry = enter(contest)
    _judging(contest)
    contests.entry_finalist_set(entry_id=entry.pk, user=owner, finalist=True)
    return entry.entrant, lambda: contests.contest_finalist_round_open(
        contest_id=contest.pk, user=owner, deadline=timezone.now() + timedelta(days=3)
    )


def declined() -> tuple[User, Act]:
    owner = make_user()
    entry = enter(published(owner))
    return entry.entrant, lambda: contests.entry_decline(
        entry_id=entry.pk, user=owner, reason="This does not fit the brief at all."
    )


def awarded() -> tuple[User, Act]:
    owner = make_user()
    contest = published(owner)
    entry = enter(contest)
    _judging(contest)
    return entry.entrant, _award(owner, contest, entry)


def handover() -> tuple[User, Act]:
    owner = make_user()
    contest = published(owner)
    entry = enter(contest)
    _judging(contest)
    _award(owner, contest, entry)()
    final = SimpleUploadedFile("final.pdf", pdf_bytes(), content_type="application/pdf")
    return owner, lambda: contests.handover_deliver(
        entry_id=entry.pk, user=entry.entrant, files=[final]
    )


def _answered(batch: Batch) -> Answer:
    worker = make_user()
    lease = claim(batch, worker)
    return microtasks.lease_answer(lease_id=lease.pk, worker=worker, answer={"sentiment": "pos"})


def answer_rejected() -> tuple[User, Act]:
    batch = published_batch(items=2)
    answer = _answered(batch)
    return answer.worker, lambda: microtasks.answer_reject(
        answer_id=answer.pk, user=batch.owner, reason="Not the sentiment."
    )


def appeal_decided() -> tuple[User, Act]:
    batch = published_batch(items=2)
    answer = _answered(batch)
    microtasks.answer_reject(answer_id=answer.pk, user=batch.owner, reason="Not the sentiment.")
    microtasks.answer_appeal(answer_id=answer.pk, worker=answer.worker, message="It is positive.")
    return answer.worker, lambda: microtasks.appeal_decide(
        answer_id=answer.pk, user=batch.owner, overturn=True
    )


def batch_finished() -> tuple[User, Act]:
    batch = published_batch(items=1, min_answers=1, max_answers=1)
    return batch.owner, lambda: _answered(batch)


def idea_stage() -> tuple[User, Act]:
    owner = make_user()
    call = open_call(owner)
    idea = post(call)
    return idea.author, lambda: ideas.idea_stage_move(
        idea_id=idea.pk, user=owner, stage_id=stage(call, "under_review").pk, reason="Promising"
    )


def idea_comment() -> tuple[User, Act]:
    idea = post(open_call(make_user()))
    commenter = make_user()
    return idea.author, lambda: ideas.comment_create(
        idea_id=idea.pk, user=commenter, body="Could this work for bottles?"
    )


def message() -> tuple[User, Act]:
    owner = make_user()
    entry = enter(published(owner))
    thread = thread_open(user=entry.entrant, subject="entry", subject_id=entry.pk)
    return owner, lambda: message_post(
        thread_id=thread.pk, user=entry.entrant, body="Is the red right?"
    )


def proposal() -> tuple[User, Act]:
    job = projects_factories.open_job()
    return job.created_by, lambda: projects_factories.propose(job)


def milestone_funded() -> tuple[User, Act]:
    contract = projects_factories.hired()
    return contract.freelancer, lambda: projects_factories.funded(contract)


def milestone_delivered() -> tuple[User, Act]:
    contract = projects_factories.hired()
    milestone = projects_factories.funded(contract)
    return contract.client, lambda: projects_factories.delivered(contract, milestone)


EVENTS: dict[str, Callable[[], tuple[User, Act]]] = {
    "contests.new_entry": new_entry,
    "contests.feedback": feedback,
    "contests.finalist": finalist,
    "contests.declined": declined,
    "contests.paid": awarded,
    "contests.files_delivered": handover,
    "microtasks.answers_rejected": answer_rejected,
    "microtasks.appeal_decided": appeal_decided,
    "microtasks.batch_finished": batch_finished,
    "ideas.stage": idea_stage,
    "ideas.comment": idea_comment,
    "projects.proposal": proposal,
    "projects.funded": milestone_funded,
    "projects.delivered": milestone_delivered,
    "community.message": message,
}


@pytest.mark.parametrize("delivery", ["immediate", "digest", "off"])
@pytest.mark.parametrize("kind", list(EVENTS))
def test_each_event_reaches_the_person_as_they_chose(
    kind: str, delivery: str, django_capture_on_commit_callbacks
) -> None:
    essential = notification_kind(kind).essential
    person, act = EVENTS[kind]()
    NotificationSetting.objects.update_or_create(
        user=person, kind=kind, defaults={"delivery": delivery}
    )
    Notification.objects.all().delete()
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        act()
    notices = list(Notification.objects.filter(user=person, kind=kind))
    at_once = [m for m in mail.outbox if m.to == [person.email]]
    summaries = notifications_digest_send(now=timezone.now() + timedelta(days=2))
    summary = [m for m in mail.outbox if m.to == [person.email]][len(at_once) :]

    assert len(notices) == 1, "one notice in the centre"
    link = notices[0].path
    assert link.startswith("/") and notices[0].title("en") and notices[0].title("nl")
    if essential or delivery == "immediate":
        assert len(at_once) == 1 and link in at_once[0].body
        assert summary == []
    elif delivery == "digest":
        assert at_once == [] and summaries == 1
        assert len(summary) == 1 and link in summary[0].body
    else:
        assert at_once == [] and summary == []
