"""Each moderation action: what the author, the public and staff see afterwards, and the
audit line it leaves."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from trefpunt.accounts.models import User
from trefpunt.accounts.services import api_token_create
from trefpunt.community.models import Message
from trefpunt.community.services import message_post, thread_open
from trefpunt.contests.models import Contest, Entry
from trefpunt.contests.tests.factories import (
    assert_money_consistent,
    enter,
    escrow_of,
    make_user,
    published,
    wallet_balance,
)
from trefpunt.core.exceptions import Conflict, ErrorCode, NotFound, ValidationFailed
from trefpunt.ideas import services as idea_services
from trefpunt.ideas.models import Comment, Idea
from trefpunt.ideas.tests.factories import open_call, post
from trefpunt.ledger.models import AccountKind, LedgerAccount
from trefpunt.microtasks.models import Batch
from trefpunt.microtasks.services.answers import lease_answer
from trefpunt.microtasks.tests.factories import claim, published_batch
from trefpunt.moderation import selectors, services
from trefpunt.moderation.models import AuditEntry, Decision, Reason, Report, Sanction
from trefpunt.moderation.selectors import QueueFilters

pytestmark = pytest.mark.django_db


def staff_user() -> User:
    return make_user(is_staff=True)


def browser(user: User | None = None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def last_audit() -> AuditEntry:
    entry = AuditEntry.objects.order_by("-id").first()
    assert entry is not None
    return entry


def report(kind: str, object_id: int, reason: str = Reason.SPAM, **kw: Any) -> Report:
    return services.report_create(
        user=kw.pop("user", None) or make_user(),
        kind=kind,
        object_id=object_id,
        reason=reason,
        details=kw.pop("details", ""),
    )


# --- reports and the queue --------------------------------------------------------------


def test_report_create_puts_the_thing_in_the_queue_once_per_person():
    contest = published(make_user())
    entry = enter(contest)
    reporter = make_user()

    first = report("contests.entry", entry.pk, user=reporter, details="Looks copied")

    assert (first.author_id, first.title) == (entry.entrant_id, f"#1 {entry.title}")
    with pytest.raises(Conflict) as exc:
        report("contests.entry", entry.pk, user=reporter)
    assert exc.value.code == ErrorCode.ALREADY_REPORTED
    report("contests.entry", entry.pk, reason=Reason.COPYRIGHT)
    [item] = selectors.report_queue(filters=QueueFilters())
    assert (item.kind, item.object_id, len(item.reports)) == ("contests.entry", entry.pk, 2)
    assert selectors.report_queue(filters=QueueFilters(reason=Reason.ABUSE)) == []
    assert len(selectors.report_queue(filters=QueueFilters(kind="contests.entry"))) == 1
    assert selectors.report_queue(filters=QueueFilters(kind="ideas.idea")) == []


def test_report_create_refuses_what_the_reporter_cannot_see_own_work_and_no_reason():
    client = make_user()
    private = published(client, is_private=True, nda_text="Keep it.")
    with pytest.raises(NotFound):
        report("contests.contest", private.pk)
    with pytest.raises(NotFound):
        report("contests.entry", 999999)
    with pytest.raises(Conflict) as exc:
        report("contests.contest", published(client).pk, user=client)
    assert exc.value.code == ErrorCode.OWN_CONTENT
    with pytest.raises(ValidationFailed):
        report("contests.contest", published(client).pk, reason=Reason.OTHER, details="")
    with pytest.raises(ValidationFailed):
        report("contests.contest", published(client).pk, reason=Reason.HELD)
    assert not Report.objects.exists()


def test_dismiss_closes_every_open_report_and_leaves_the_thing_as_it_was():
    contest = published(make_user())
    entry = enter(contest)
    report("contests.entry", entry.pk)
    report("contests.entry", entry.pk)
    staff = staff_user()

    closed = services.report_dismiss(
        staff=staff, kind="contests.entry", object_id=entry.pk, reason="Fine."
    )

    assert closed == 2
    assert selectors.report_queue(filters=QueueFilters()) == []
    resolved = selectors.report_queue(filters=QueueFilters(status="resolved"))
    assert [r.resolution for r in resolved[0].reports] == ["dismissed", "dismissed"]
    assert Entry.objects.get(pk=entry.pk).hidden_at is None
    line = last_audit()
    assert (line.actor, line.action, line.target_kind, line.target_id) == (
        staff,
        "dismiss",
        "contests.entry",
        entry.pk,
    )
    assert line.after["reports_closed"] == 2 and line.before == {"hidden": False}
    with pytest.raises(Conflict):
        services.report_dismiss(staff=staff, kind="contests.entry", object_id=entry.pk)
    with pytest.raises(NotFound):
        services.report_dismiss(staff=make_user(), kind="contests.entry", object_id=entry.pk)


# --- hide and appeal ----------------------------------------------------------------------


def test_hide_an_entry_tells_the_author_why_and_hides_it_from_the_public_only(
    django_capture_on_commit_callbacks: Any,
):
    client = make_user()
    contest = published(client)
    entry = enter(contest)
    report("contests.entry", entry.pk)
    staff = staff_user()

    with django_capture_on_commit_callbacks(execute=True):
        decision = services.content_hide(
            staff=staff, kind="contests.entry", object_id=entry.pk, reason="Offensive image."
        )

    # The public no longer sees it; its entrant, the client and staff still do.
    assert browser(make_user()).get(f"/en/contests/entries/{entry.pk}/").status_code == 404
    assert entry.title not in browser().get(f"/en/contests/{contest.pk}/").content.decode()
    for viewer in (entry.entrant, client, staff):
        assert browser(viewer).get(f"/en/contests/entries/{entry.pk}/").status_code == 200
    # The author is told why, with a link to appeal.
    told = [m for m in mail.outbox if entry.entrant.email in m.to]
    assert told and "Offensive image." in str(told[-1].body)
    assert f"/moderation/decisions/{decision.pk}/" in str(told[-1].body)
    line = last_audit()
    assert (line.action, line.reason, line.before, line.after["hidden"]) == (
        "hide",
        "Offensive image.",
        {"hidden": False},
        True,
    )
    assert Report.objects.get().resolution == "hidden"
    with pytest.raises(Conflict):
        services.content_hide(staff=staff, kind="contests.entry", object_id=entry.pk, reason="x")


def test_an_author_appeals_once_and_an_overturned_hide_shows_the_thing_again(
    django_capture_on_commit_callbacks: Any,
):
    call = open_call(make_user())
    idea = post(call)
    staff = staff_user()
    decision = services.content_hide(
        staff=staff, kind="ideas.idea", object_id=idea.pk, reason="Advertising."
    )
    assert Idea.objects.get(pk=idea.pk).status == Idea.Status.HIDDEN
    with pytest.raises(NotFound):
        services.decision_appeal(user=make_user(), decision_id=decision.pk, text="Mine!")

    services.decision_appeal(user=idea.author, decision_id=decision.pk, text="It is a real idea.")
    with pytest.raises(Conflict) as exc:
        services.decision_appeal(user=idea.author, decision_id=decision.pk, text="Again")
    assert exc.value.code == ErrorCode.ALREADY_APPEALED
    assert list(selectors.appeals_pending()) == [decision]
    with django_capture_on_commit_callbacks(execute=True):
        services.appeal_decide(
            staff=staff, decision_id=decision.pk, overturn=True, reason="A fair point."
        )

    assert Idea.objects.get(pk=idea.pk).status == Idea.Status.ACTIVE
    assert Decision.objects.get(pk=decision.pk).appeal == Decision.Appeal.OVERTURNED
    assert [m for m in mail.outbox if idea.author.email in m.to]
    line = last_audit()
    assert (line.action, line.after) == (
        "appeal_overturn",
        {"active": False, "appeal": Decision.Appeal.OVERTURNED},
    )
    with pytest.raises(Conflict) as exc:
        services.appeal_decide(staff=staff, decision_id=decision.pk, overturn=False, reason="x")
    assert exc.value.code == ErrorCode.NO_APPEAL


def test_an_upheld_appeal_keeps_a_comment_hidden():
    idea = post(open_call(make_user()))
    comment = idea_services.comment_create(idea_id=idea.pk, user=make_user(), body="Buy pills")
    idea_services.report_create(
        idea_id=idea.pk, user=make_user(), reason="Spam", comment_id=comment.pk
    )
    staff = staff_user()
    [item] = selectors.report_queue(filters=QueueFilters(kind="ideas.comment"))
    decision = services.content_hide(
        staff=staff, kind="ideas.comment", object_id=comment.pk, reason="Spam."
    )
    services.decision_appeal(user=comment.author, decision_id=decision.pk, text="Not spam")

    services.appeal_decide(staff=staff, decision_id=decision.pk, overturn=False, reason="It is.")

    assert Comment.objects.get(pk=comment.pk).hidden_at is not None
    assert last_audit().action == "appeal_uphold"
    assert item.reports[0].details == "Spam"


def test_a_hidden_profile_is_gone_for_everyone_until_overturned():
    member = make_user()
    staff = staff_user()
    url = member.profile.get_absolute_url()
    assert browser().get(url).status_code == 200
    decision = services.content_hide(
        staff=staff, kind="accounts.profile", object_id=member.profile.pk, reason="Scam links."
    )
    assert browser().get(url).status_code == 404
    services.decision_appeal(user=member, decision_id=decision.pk, text="Removed them.")
    services.appeal_decide(staff=staff, decision_id=decision.pk, overturn=True, reason="Ok.")
    assert browser().get(url).status_code == 200


# --- held messages join the queue ---------------------------------------------------------


def test_a_held_message_is_in_the_queue_and_dismissing_releases_it(
    settings: Any, django_capture_on_commit_callbacks: Any
):
    owner = make_user()
    contest = published(owner)
    newcomer = make_user()
    thread = thread_open(user=newcomer, subject="contest_qa", subject_id=contest.pk)
    settings.NEW_ACCOUNT_DAYS = 3
    message = message_post(
        thread_id=thread.pk,
        user=newcomer,
        body="Cheap https://a.example https://b.example",
    )
    assert message.status == Message.Status.HELD
    [item] = selectors.report_queue(filters=QueueFilters(reason=Reason.HELD))
    assert (item.kind, item.object_id, item.reports[0].reporter) == (
        "community.message",
        message.pk,
        None,
    )

    with django_capture_on_commit_callbacks(execute=True):
        services.report_dismiss(staff=staff_user(), kind="community.message", object_id=message.pk)

    assert Message.objects.get(pk=message.pk).status == Message.Status.VISIBLE
    assert last_audit().before == {"hidden": True} and last_audit().after["hidden"] is False


def test_a_reported_message_is_hidden_from_the_thread():
    owner, asker = make_user(), make_user()
    contest = published(owner)
    thread = thread_open(user=asker, subject="contest_qa", subject_id=contest.pk)
    message = message_post(thread_id=thread.pk, user=asker, body="You are all idiots")
    report("community.message", message.pk, reason=Reason.ABUSE, user=owner)

    services.content_hide(
        staff=staff_user(), kind="community.message", object_id=message.pk, reason="Insults."
    )

    page = browser(owner).get(f"/en/messages/{thread.pk}/").content.decode()
    assert "You are all idiots" not in page
    assert Message.objects.get(pk=message.pk).status == Message.Status.HIDDEN


# --- people ---------------------------------------------------------------------------


def test_warn_tells_the_person_and_is_audited(django_capture_on_commit_callbacks: Any):
    person, staff = make_user(), staff_user()
    with django_capture_on_commit_callbacks(execute=True):
        services.user_warn(staff=staff, user_id=person.pk, reason="Be kind in comments.")
    assert Sanction.objects.get(user=person).kind == Sanction.Kind.WARNING
    assert any("Be kind in comments." in str(m.body) for m in mail.outbox if person.email in m.to)
    line = last_audit()
    assert (line.action, line.target_kind, line.target_id, line.after["warnings"]) == (
        "warn",
        "accounts.user",
        person.pk,
        1,
    )
    # The person can still log in.
    assert browser(person).get("/en/settings/profile/").status_code == 200


def test_suspend_refuses_session_and_token_at_once_and_hides_public_work(
    django_capture_on_commit_callbacks: Any,
):
    person, staff = make_user(), staff_user()
    person.set_password("a-long-pass-phrase")
    person.save()
    contest = published(make_user())
    entry = enter(contest, person)
    idea = post(open_call(make_user()), person)
    _token, raw = api_token_create(user=person, name="script")
    session = browser(person)
    assert session.get("/en/settings/profile/").status_code == 200
    headers = {"Authorization": f"Bearer {raw}"}
    assert Client().get("/api/v1/me", headers=headers).status_code == 200

    with django_capture_on_commit_callbacks(execute=True):
        sanction = services.user_suspend(
            staff=staff, user_id=person.pk, reason="Spamming entries.", days=7
        )

    # The session and the token are refused on the very next request.
    assert session.get("/en/settings/profile/").status_code == 302
    assert Client().get("/api/v1/me", headers=headers).status_code == 401
    # Logging in is refused.
    login = Client().post(
        "/en/accounts/login/", {"login": person.email, "password": "a-long-pass-phrase"}
    )
    assert login.status_code == 302 and "inactive" in login["Location"]
    # Public work is hidden; the profile is gone.
    assert Entry.objects.get(pk=entry.pk).hidden_at is not None
    assert Idea.objects.get(pk=idea.pk).status == Idea.Status.HIDDEN
    assert browser().get(person.profile.get_absolute_url()).status_code == 404
    assert sorted(k for k, _id in sanction.hidden) == ["contests.entry", "ideas.idea"]
    # Told by email, why and until when.
    assert any("Spamming entries." in str(m.body) for m in mail.outbox if person.email in m.to)
    line = last_audit()
    assert (line.action, line.before, line.after["is_active"], line.after["hidden"]) == (
        "suspend",
        {"is_active": True},
        False,
        2,
    )
    with pytest.raises(Conflict):
        services.user_suspend(staff=staff, user_id=person.pk, reason="again")

    services.user_reinstate(staff=staff, user_id=person.pk, reason="Served.")

    assert User.objects.get(pk=person.pk).is_active
    assert Entry.objects.get(pk=entry.pk).hidden_at is None
    assert Idea.objects.get(pk=idea.pk).status == Idea.Status.ACTIVE
    assert last_audit().action == "reinstate"


def test_a_suspension_ends_by_itself_but_keeps_what_staff_hid_on_its_own(time_machine: Any):
    person, staff = make_user(), staff_user()
    contest = published(make_user())
    kept, hidden = enter(contest, person), enter(contest, person)
    services.content_hide(staff=staff, kind="contests.entry", object_id=hidden.pk, reason="x")
    services.user_suspend(staff=staff, user_id=person.pk, reason="Cooling off.", days=2)
    assert services.suspensions_expire() == 0

    time_machine.move_to(timezone.now() + timedelta(days=3))
    assert services.suspensions_expire() == 1

    assert User.objects.get(pk=person.pk).is_active
    assert Entry.objects.get(pk=kept.pk).hidden_at is None
    assert Entry.objects.get(pk=hidden.pk).hidden_at is not None
    line = last_audit()
    assert (line.action, line.actor) == ("reinstate", None)


def test_ban_locks_for_good_and_staff_are_not_moderated_here():
    person, staff = make_user(), staff_user()
    services.user_suspend(staff=staff, user_id=person.pk, reason="First.", days=3)

    ban = services.user_suspend(staff=staff, user_id=person.pk, reason="Fraud.", ban=True)

    assert (ban.kind, ban.ends_at) == (Sanction.Kind.BAN, None)
    assert not User.objects.get(pk=person.pk).is_active
    assert Sanction.objects.filter(user=person, lifted_at__isnull=True).get() == ban
    assert last_audit().action == "ban"
    with pytest.raises(Conflict) as exc:
        services.user_suspend(staff=staff, user_id=staff_user().pk, reason="x")
    assert exc.value.code == ErrorCode.NOT_MODERATABLE
    with pytest.raises(NotFound):
        services.user_warn(staff=make_user(), user_id=person.pk, reason="x")


# --- take-down --------------------------------------------------------------------------


def test_take_down_of_a_funded_contest_refunds_through_the_ledger_and_tells_entrants(
    django_capture_on_commit_callbacks: Any,
):
    client = make_user()
    contest = published(client)
    entrants = [enter(contest).entrant, enter(contest).entrant]
    held = escrow_of(contest)
    before = wallet_balance(client)
    assert held > 0
    report("contests.contest", contest.pk, reason=Reason.SCAM)
    staff = staff_user()

    with django_capture_on_commit_callbacks(execute=True):
        decision = services.content_take_down(
            staff=staff, kind="contests.contest", object_id=contest.pk, reason="A scam brief."
        )

    taken = Contest.objects.get(pk=contest.pk)
    assert (taken.status, taken.cancel_reason) == (Contest.Status.CANCELLED, "taken_down")
    assert escrow_of(contest) == 0 and wallet_balance(client) == before + held
    assert_money_consistent()
    out = io.StringIO()
    call_command("ledger_check", stdout=out)
    # Entrants are told; the client is told why; the public no longer sees it.
    for entrant in entrants:
        assert any("taken down" in str(m.subject) for m in mail.outbox if entrant.email in m.to)
    assert any("A scam brief." in str(m.body) for m in mail.outbox if client.email in m.to)
    assert browser().get(f"/en/contests/{contest.pk}/").status_code == 404
    assert browser(client).get(f"/en/contests/{contest.pk}/").status_code == 200
    line = last_audit()
    assert (line.action, line.before, line.after["status"], line.after["refunded"]) == (
        "take_down",
        {"status": "open"},
        "cancelled",
        held,
    )
    assert line.after["told"] == 2 and decision.action == Decision.Action.TAKE_DOWN
    with pytest.raises(Conflict):
        services.content_take_down(
            staff=staff, kind="contests.contest", object_id=contest.pk, reason="again"
        )
    assert LedgerAccount.objects.filter(kind=AccountKind.ESCROW).count() >= 1


def test_take_down_of_a_batch_refunds_the_unused_escrow_and_tells_workers(
    django_capture_on_commit_callbacks: Any,
):
    batch = published_batch(items=3)
    worker = make_user()
    lease = claim(batch, worker)
    lease_answer(lease_id=lease.pk, worker=worker, answer={"sentiment": "pos"})
    owner_wallet = LedgerAccount.objects.get(kind=AccountKind.WALLET, user=batch.owner)
    before = owner_wallet.balance
    staff = staff_user()

    with django_capture_on_commit_callbacks(execute=True):
        services.content_take_down(
            staff=staff, kind="microtasks.batch", object_id=batch.pk, reason="Collects IDs."
        )

    assert Batch.objects.get(pk=batch.pk).status == Batch.Status.CLOSED
    refunded = LedgerAccount.objects.get(pk=owner_wallet.pk).balance - before
    line = last_audit()
    assert line.action == "take_down" and line.after["refunded"] == refunded > 0
    assert any("taken down" in str(m.subject) for m in mail.outbox if worker.email in m.to)
    call_command("ledger_check", stdout=io.StringIO())


def test_only_funded_work_is_taken_down_and_funded_work_is_not_merely_hidden():
    entry = enter(published(make_user()))
    staff = staff_user()
    with pytest.raises(Conflict):
        services.content_take_down(
            staff=staff, kind="contests.entry", object_id=entry.pk, reason="x"
        )
    with pytest.raises(Conflict):
        services.content_hide(
            staff=staff, kind="contests.contest", object_id=entry.contest_id, reason="x"
        )


# --- the audit log --------------------------------------------------------------------------


def test_the_audit_log_is_append_only_and_searchable():
    person, staff = make_user(), staff_user()
    services.user_warn(staff=staff, user_id=person.pk, reason="Mind the tone.")
    services.user_warn(staff=staff, user_id=make_user().pk, reason="Other thing.")
    line = last_audit()
    with pytest.raises(TypeError):
        line.save()
    with pytest.raises(TypeError):
        line.delete()
    with pytest.raises(TypeError):
        AuditEntry.objects.update(reason="changed")
    with pytest.raises(TypeError):
        AuditEntry.objects.all().delete()

    found = selectors.audit_search(filters=selectors.AuditFilters(q="tone"))
    assert [e.target_id for e in found] == [person.pk]
    assert selectors.audit_search(filters=selectors.AuditFilters(q=str(person.pk))).count() >= 1
    assert selectors.audit_search(filters=selectors.AuditFilters(action="warn")).count() == 2
    assert json.loads(json.dumps(line.after))  # before/after are plain JSON
