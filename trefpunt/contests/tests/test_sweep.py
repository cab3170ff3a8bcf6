"""Time-driven transitions under a controllable clock, through the periodic sweep."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile

from trefpunt.accounts.models import User
from trefpunt.contests.models import Contest, Entry, Handover, Payment, RightsTransfer
from trefpunt.contests.services import (
    RIGHTS_AGREEMENT_VERSION,
    contest_award,
    contest_close_entries,
    contests_sweep,
    entry_finalist_set,
    handover_auto_confirm,
    handover_confirm,
    handover_deliver,
)
from trefpunt.contests.tasks import contests_sweep_task
from trefpunt.core.exceptions import Conflict, ErrorCode, NotFound
from trefpunt.core.scheduling import periodic_discover

from .factories import (
    assert_money_consistent,
    enter,
    escrow_of,
    handover_delivered_at,
    join_organisation,
    judging_end,
    make_organisation,
    make_user,
    pdf_bytes,
    published,
    wallet_balance,
)

pytestmark = pytest.mark.django_db


def test_contests_sweep_is_registered_as_a_periodic_task():
    assert contests_sweep_task.module_path in periodic_discover()


def test_contests_sweep_leaves_an_open_contest_alone_before_the_deadline():
    contest = published(make_user())
    enter(contest)
    with time_machine.travel(contest.entry_deadline - timedelta(seconds=1), tick=False):
        result = contests_sweep()
    contest.refresh_from_db()
    assert contest.status == Contest.Status.OPEN
    assert result.judging == []


def test_contests_sweep_moves_to_judging_at_the_deadline_and_sets_the_judging_end():
    contest = published(make_user(), judging_days=4)
    enter(contest)
    with time_machine.travel(contest.entry_deadline + timedelta(hours=3), tick=False):
        result = contests_sweep()
        again = contests_sweep()
    contest.refresh_from_db()
    assert result.judging == [contest.pk]
    assert again.judging == []
    assert contest.status == Contest.Status.JUDGING
    # counted from the deadline, not from when the sweep happened to run
    assert contest.judging_ends_at == contest.entry_deadline + timedelta(days=4)


def test_contests_sweep_task_runs_the_sweep():
    contest = published(make_user())
    enter(contest)
    with time_machine.travel(contest.entry_deadline + timedelta(minutes=1), tick=False):
        result = contests_sweep_task.enqueue()
    assert result.return_value["judging"] == [contest.pk]


def test_entry_submit_after_the_deadline_is_refused_even_before_the_sweep_ran():
    contest = published(make_user())
    with (
        time_machine.travel(contest.entry_deadline + timedelta(seconds=1), tick=False),
        pytest.raises(Conflict) as exc,
    ):
        enter(contest)
    assert exc.value.code == ErrorCode.ENTRIES_CLOSED
    assert not Entry.objects.exists()


def test_contests_sweep_applies_the_guarantee_when_judging_ends_with_finalists():
    client = make_user()
    contest = published(client, prizes=[9000], finalist_stipend=500, finalists_max=3)
    a, b, c = (enter(contest) for _ in range(3))
    entry_finalist_set(entry_id=a.pk, user=client, finalist=True)
    entry_finalist_set(entry_id=c.pk, user=client, finalist=True)
    with time_machine.travel(contest.entry_deadline + timedelta(minutes=1), tick=False):
        contests_sweep()
    contest.refresh_from_db()
    with time_machine.travel(judging_end(contest) - timedelta(minutes=1), tick=False):
        assert contests_sweep().guaranteed == []
    with time_machine.travel(judging_end(contest) + timedelta(minutes=1), tick=False):
        assert contests_sweep().guaranteed == [contest.pk]
        assert contests_sweep().guaranteed == []
    contest.refresh_from_db()
    assert contest.status == Contest.Status.COMPLETED
    assert wallet_balance(a.entrant) == 4500 - 225 + 500 - 25
    assert wallet_balance(c.entrant) == 4500 - 225 + 500 - 25
    assert wallet_balance(b.entrant) == 0
    # one unused stipend (500) comes back with its share of the fee
    assert wallet_balance(client) == 500 + 50
    assert escrow_of(contest) == 0
    assert_money_consistent()


def test_contests_sweep_applies_the_guarantee_without_finalists_and_rounds_to_the_earliest():
    client = make_user()
    contest = published(client, prizes=[1001, 500])
    entries = [enter(contest) for _ in range(3)]
    with time_machine.travel(contest.entry_deadline + timedelta(minutes=1), tick=False):
        contests_sweep()
    contest.refresh_from_db()
    with time_machine.travel(judging_end(contest), tick=False):
        contests_sweep()
    gross = {e.pk: sum(p.gross for p in Payment.objects.filter(entry=e)) for e in entries}
    # 1001 / 3 = 333 r 2 and 500 / 3 = 166 r 2: entries #1 and #2 get a cent more of each
    assert gross == {entries[0].pk: 334 + 167, entries[1].pk: 334 + 167, entries[2].pk: 333 + 166}
    assert escrow_of(contest) == 0
    assert_money_consistent()


def test_contests_sweep_refunds_a_contest_nobody_entered():
    client = make_user()
    contest = published(client)
    with time_machine.travel(contest.entry_deadline + timedelta(minutes=1), tick=False):
        contests_sweep()
    contest.refresh_from_db()
    assert contest.status == Contest.Status.CANCELLED
    assert wallet_balance(client) == 33000
    assert_money_consistent()


def test_contest_close_entries_early_needs_five_entries():
    client = make_user()
    contest = published(client)
    for _ in range(4):
        enter(contest)
    with pytest.raises(Conflict) as exc:
        contest_close_entries(contest_id=contest.pk, user=client)
    assert exc.value.code == ErrorCode.TOO_FEW_ENTRIES
    enter(contest)
    closed = contest_close_entries(contest_id=contest.pk, user=client)
    assert closed.status == Contest.Status.JUDGING
    with pytest.raises(Conflict):
        enter(contest)


def test_contest_close_entries_by_a_stranger_is_not_found():
    contest = published(make_user())
    with pytest.raises(NotFound):
        contest_close_entries(contest_id=contest.pk, user=make_user())


def _awarded() -> tuple[User, Contest, Entry]:
    client = make_user()
    contest = published(client)
    entry = enter(contest)
    with time_machine.travel(contest.entry_deadline + timedelta(minutes=1), tick=False):
        contests_sweep()
    contest_award(contest_id=contest.pk, user=client, awards={1: entry.pk})
    return client, contest, entry


def _pdf() -> SimpleUploadedFile:
    return SimpleUploadedFile("final.pdf", pdf_bytes(), content_type="application/pdf")


def test_handover_confirm_records_the_rights_transfer_and_completes_the_contest():
    client, contest, entry = _awarded()
    handover_deliver(entry_id=entry.pk, user=entry.entrant, files=[_pdf()], note="All sizes.")
    handover = handover_confirm(entry_id=entry.pk, user=client)
    assert handover.status == Handover.Status.CONFIRMED
    transfer = RightsTransfer.objects.get(handover=handover)
    assert transfer.creator == entry.entrant
    assert transfer.recipient_user == client
    assert transfer.agreement_version == RIGHTS_AGREEMENT_VERSION
    assert "transfers to the client" in transfer.agreement_text
    contest.refresh_from_db()
    assert contest.status == Contest.Status.COMPLETED


def test_handover_deliver_emails_every_admin_of_the_organisation_not_the_members(
    django_capture_on_commit_callbacks,
):
    owner = make_user()
    organisation = make_organisation(owner)
    admin = join_organisation(organisation, owner, "admin")
    member = join_organisation(organisation, owner, "member")
    contest = published(owner, organisation=organisation)
    entry = enter(contest)
    with time_machine.travel(contest.entry_deadline + timedelta(minutes=1), tick=False):
        contests_sweep()
    contest_award(contest_id=contest.pk, user=admin, awards={1: entry.pk})
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        handover_deliver(entry_id=entry.pk, user=entry.entrant, files=[_pdf()])
    ready = [m for m in mail.outbox if "are ready" in m.subject]
    assert sorted(m.to[0] for m in ready) == sorted([owner.email, admin.email])
    assert member.email not in [m.to[0] for m in mail.outbox]
    assert f"/contests/entries/{entry.pk}/handover/" in ready[0].body


def test_handover_deliver_after_confirmation_is_refused_and_stores_nothing():
    client, _contest, entry = _awarded()
    handover_deliver(entry_id=entry.pk, user=entry.entrant, files=[_pdf()])
    handover_confirm(entry_id=entry.pk, user=client)
    with pytest.raises(Conflict) as exc:
        handover_deliver(entry_id=entry.pk, user=entry.entrant, files=[_pdf()])
    assert exc.value.code == ErrorCode.WRONG_STATE
    assert Handover.objects.get(entry=entry).files.count() == 1


def test_handover_confirm_before_delivery_is_refused():
    client, _contest, entry = _awarded()
    with pytest.raises(Conflict) as exc:
        handover_confirm(entry_id=entry.pk, user=client)
    assert exc.value.code == ErrorCode.WRONG_STATE
    assert not RightsTransfer.objects.exists()


def test_handover_deliver_by_someone_else_is_not_found():
    client, _contest, entry = _awarded()
    with pytest.raises(NotFound):
        handover_deliver(entry_id=entry.pk, user=client, files=[_pdf()])


def test_contests_sweep_auto_confirms_a_handover_seven_days_after_delivery():
    _client, contest, entry = _awarded()
    handover_deliver(entry_id=entry.pk, user=entry.entrant, files=[_pdf()])
    handover = Handover.objects.get(entry=entry)
    with time_machine.travel(
        handover_delivered_at(entry) + timedelta(days=7) - timedelta(minutes=1)
    ):
        assert contests_sweep().confirmed == []
        with pytest.raises(Conflict):
            handover_auto_confirm(handover_id=handover.pk)
    with time_machine.travel(handover_delivered_at(entry) + timedelta(days=7, minutes=1)):
        assert contests_sweep().confirmed == [handover.pk]
        assert contests_sweep().confirmed == []
    handover.refresh_from_db()
    assert handover.status == Handover.Status.CONFIRMED
    assert handover.auto_confirmed is True
    assert RightsTransfer.objects.filter(handover=handover).count() == 1
    contest.refresh_from_db()
    assert contest.status == Contest.Status.COMPLETED


def test_contests_sweep_does_not_auto_confirm_what_was_never_delivered():
    _client, contest, entry = _awarded()
    contest.refresh_from_db()
    with time_machine.travel(contest.entry_deadline + timedelta(days=30)):
        assert contests_sweep().confirmed == []
    assert Handover.objects.get(entry=entry).status == Handover.Status.AWAITING_FILES
