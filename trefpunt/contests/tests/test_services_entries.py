"""Drafts and entries: validation, permissions and every refusal."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from trefpunt.accounts.models import PortfolioItem
from trefpunt.contests.models import Contest, Entry, EntryFlag, EntryVersion
from trefpunt.contests.services import (
    contest_award,
    contest_close_entries,
    contest_create_draft,
    contest_finalist_round_open,
    contest_invite,
    contest_publish,
    contest_update_draft,
    entry_decline,
    entry_decline_review,
    entry_finalist_set,
    entry_portfolio_add,
    entry_rate,
    entry_report,
    entry_revise,
    entry_withdraw,
    flag_dismiss,
)
from trefpunt.core.exceptions import (
    Conflict,
    ErrorCode,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from trefpunt.ledger.tests.factories import funded_wallet

from .factories import deadline, draft, enter, make_organisation, make_user, png_upload, published

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("amount", [0, -5])
def test_contest_create_draft_refuses_a_prize_of_zero_or_less(amount):
    client = make_user()
    with pytest.raises(ValidationFailed) as exc:
        draft(client, prizes=[amount])
    assert "Prize 1 must be between" in exc.value.fields["prize_1"][0]
    assert not Contest.objects.exists()


def test_contest_create_draft_refuses_a_deadline_in_the_past():
    with pytest.raises(ValidationFailed) as exc:
        draft(make_user(), entry_deadline=timezone.now() - timedelta(days=1))
    assert "in the past" in exc.value.fields["entry_deadline"][0]
    assert not Contest.objects.exists()


def test_contest_create_draft_names_every_bad_field_at_once():
    with pytest.raises(ValidationFailed) as exc:
        contest_create_draft(
            user=make_user(),
            title="",
            summary="x" * 300,
            category="painting",
            prizes=[100, 500],
            entry_deadline=deadline(200),
            judging_days=0,
            max_entries_per_entrant=50,
            visibility="secret",
        )
    assert set(exc.value.fields) == {
        "title",
        "summary",
        "category",
        "prize_2",
        "entry_deadline",
        "judging_days",
        "max_entries_per_entrant",
        "visibility",
    }


def test_contest_create_draft_for_an_organisation_needs_an_admin():
    owner = make_user()
    organisation = make_organisation(owner)
    with pytest.raises(ValidationFailed) as exc:
        draft(make_user(), organisation=organisation)
    assert "organisation" in exc.value.fields
    contest = draft(owner, organisation=organisation)
    assert contest.organisation == organisation


def test_contest_update_draft_changes_only_the_given_fields():
    client = make_user()
    contest = draft(client, prizes=[20000, 5000])
    updated = contest_update_draft(contest_id=contest.pk, user=client, title="New title")
    assert updated.title == "New title"
    assert [p.amount for p in updated.prizes.all()] == [20000, 5000]
    with pytest.raises(ValidationFailed):
        contest_update_draft(contest_id=contest.pk, user=client, prizes=[-5])
    assert [p.amount for p in contest.prizes.all()] == [20000, 5000]


def test_contest_update_draft_after_publishing_is_refused():
    client = make_user()
    contest = published(client)
    with pytest.raises(Conflict) as exc:
        contest_update_draft(contest_id=contest.pk, user=client, title="Sneaky")
    assert exc.value.code == ErrorCode.WRONG_STATE


def test_contest_update_draft_by_someone_else_is_not_found():
    contest = draft(make_user())
    with pytest.raises(NotFound):
        contest_update_draft(contest_id=contest.pk, user=make_user(), title="Mine now")


def test_entry_submit_needs_title_files_and_the_originality_declaration():
    contest = published(make_user())
    from trefpunt.contests.services import entry_submit

    with pytest.raises(ValidationFailed) as exc:
        entry_submit(
            contest_id=contest.pk,
            user=make_user(),
            title="",
            files=[],
            originality_declared=False,
        )
    assert set(exc.value.fields) == {"title", "files", "originality_declared"}
    assert not Entry.objects.exists()


def test_entry_submit_refuses_more_than_the_entries_allowed_per_entrant():
    contest = published(make_user(), max_entries_per_entrant=2)
    entrant = make_user()
    enter(contest, entrant, seed=1)
    enter(contest, entrant, seed=2)
    with pytest.raises(Conflict) as exc:
        enter(contest, entrant, seed=3)
    assert exc.value.code == ErrorCode.ENTRY_LIMIT
    assert Entry.objects.filter(entrant=entrant).count() == 2


def test_entry_submit_to_ones_own_contest_is_refused():
    client = make_user()
    contest = published(client)
    with pytest.raises(Conflict):
        enter(contest, client)


def test_entry_submit_to_a_draft_is_not_found():
    contest = draft(make_user())
    with pytest.raises(NotFound):
        enter(contest)


def test_entry_numbers_follow_the_order_of_submission():
    contest = published(make_user())
    numbers = [enter(contest).number for _ in range(3)]
    assert numbers == [1, 2, 3]


def test_private_contest_is_not_found_for_the_uninvited_and_needs_the_nda():
    client = make_user()
    invited = make_user()
    contest = draft(client, is_private=True, nda_text="Do not share the brief.")
    contest_invite(contest_id=contest.pk, user=client, who=invited.profile.handle)
    funded_wallet(client, 33000)
    contest_publish(contest_id=contest.pk, user=client)
    with pytest.raises(NotFound):
        enter(contest, make_user())
    with pytest.raises(ValidationFailed) as exc:
        enter(contest, invited)
    assert "nda_accepted" in exc.value.fields
    entry = enter(contest, invited, nda_accepted=True)
    assert entry.pk
    assert contest.invitations.get(user=invited).nda_accepted_at is not None


def test_contest_invite_refuses_public_contests_and_unknown_people():
    client = make_user()
    public = draft(client)
    with pytest.raises(Conflict):
        contest_invite(contest_id=public.pk, user=client, who=make_user().email)
    private = draft(client, is_private=True)
    with pytest.raises(ValidationFailed):
        contest_invite(contest_id=private.pk, user=client, who="nobody-here")


def test_entry_withdraw_before_the_deadline_and_not_after():
    contest = published(make_user())
    early = enter(contest)
    late = enter(contest)
    assert entry_withdraw(entry_id=early.pk, user=early.entrant).status == Entry.Status.WITHDRAWN
    with pytest.raises(Conflict):
        entry_withdraw(entry_id=early.pk, user=early.entrant)
    with (
        time_machine.travel(contest.entry_deadline + timedelta(seconds=1), tick=False),
        pytest.raises(Conflict) as exc,
    ):
        entry_withdraw(entry_id=late.pk, user=late.entrant)
    assert exc.value.code == ErrorCode.ENTRIES_CLOSED


def test_entry_withdraw_by_someone_else_is_not_found():
    contest = published(make_user())
    entry = enter(contest)
    with pytest.raises(NotFound):
        entry_withdraw(entry_id=entry.pk, user=make_user())


def test_entry_revise_keeps_every_version():
    contest = published(make_user())
    entry = enter(contest, seed=10)
    version = entry_revise(
        entry_id=entry.pk, user=entry.entrant, files=[png_upload(11)], note="Bolder type"
    )
    entry.refresh_from_db()
    assert version.number == 2
    assert entry.current_version == version
    assert EntryVersion.objects.filter(entry=entry).count() == 2


def test_entry_revise_after_the_deadline_only_for_finalists_in_the_finalist_round():
    client = make_user()
    contest = published(client)
    finalist = enter(contest)
    other = enter(contest)
    entry_finalist_set(entry_id=finalist.pk, user=client, finalist=True)
    with time_machine.travel(contest.entry_deadline + timedelta(minutes=1), tick=False):
        contest = contest_close_entries(contest_id=contest.pk)
        with pytest.raises(Conflict):
            entry_revise(entry_id=finalist.pk, user=finalist.entrant, files=[png_upload(3)])
        contest_finalist_round_open(
            contest_id=contest.pk, user=client, deadline=timezone.now() + timedelta(days=2)
        )
        entry_revise(entry_id=finalist.pk, user=finalist.entrant, files=[png_upload(3)])
        with pytest.raises(Conflict):
            entry_revise(entry_id=other.pk, user=other.entrant, files=[png_upload(4)])
    with (
        time_machine.travel(contest.entry_deadline + timedelta(days=3), tick=False),
        pytest.raises(Conflict),
    ):
        entry_revise(entry_id=finalist.pk, user=finalist.entrant, files=[png_upload(5)])
    assert finalist.versions.count() == 2


def test_entry_rate_stores_rating_note_and_feedback_and_tells_the_entrant(
    django_capture_on_commit_callbacks,
):
    client = make_user()
    contest = published(client)
    entry = enter(contest)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        rated = entry_rate(
            entry_id=entry.pk, user=client, rating=4, note="maybe", feedback="Love the mark."
        )
    assert mail.outbox[-1].to == [entry.entrant.email]
    assert "Love the mark." in mail.outbox[-1].body
    assert "maybe" not in mail.outbox[-1].body
    assert (rated.rating, rated.private_note, rated.feedback) == (4, "maybe", "Love the mark.")
    again = entry_rate(entry_id=entry.pk, user=client, rating=5)
    assert again.feedback == "Love the mark."
    assert again.rating == 5


@pytest.mark.parametrize("rating", [0, 7, -1, True])
def test_entry_rate_refuses_a_rating_outside_one_to_five(rating):
    client = make_user()
    contest = published(client)
    entry = enter(contest)
    with pytest.raises(ValidationFailed) as exc:
        entry_rate(entry_id=entry.pk, user=client, rating=rating)
    assert "1 to 5" in exc.value.fields["rating"][0]
    entry.refresh_from_db()
    assert entry.rating is None


def test_entry_rate_by_the_entrant_or_a_stranger_is_not_found():
    contest = published(make_user())
    entry = enter(contest)
    for someone in (entry.entrant, make_user()):
        with pytest.raises(NotFound):
            entry_rate(entry_id=entry.pk, user=someone, rating=5)


def test_entry_rate_of_a_withdrawn_entry_is_refused():
    client = make_user()
    contest = published(client)
    entry = enter(contest)
    entry_withdraw(entry_id=entry.pk, user=entry.entrant)
    with pytest.raises(Conflict):
        entry_rate(entry_id=entry.pk, user=client, rating=3)


def test_entry_decline_needs_a_reason_and_tells_the_entrant(django_capture_on_commit_callbacks):
    client = make_user()
    contest = published(client)
    entry = enter(contest)
    with pytest.raises(ValidationFailed) as exc:
        entry_decline(entry_id=entry.pk, user=client, reason="no")
    assert "at least 10 characters" in exc.value.fields["reason"][0]
    with django_capture_on_commit_callbacks(execute=True):
        declined = entry_decline(entry_id=entry.pk, user=client, reason="Uses a trademarked font.")
    assert declined.status == Entry.Status.DECLINED
    assert mail.outbox[-1].to == [entry.entrant.email]
    assert "Uses a trademarked font." in mail.outbox[-1].body
    with pytest.raises(Conflict):
        entry_decline(entry_id=entry.pk, user=client, reason="Declining it once more.")


def test_entry_decline_for_a_rule_break_waits_for_staff_and_for_taste_does_not(
    django_capture_on_commit_callbacks,
):
    client = make_user()
    contest = published(client)
    taste = enter(contest)
    rule = enter(contest)
    with django_capture_on_commit_callbacks(execute=True):
        declined = entry_decline(entry_id=taste.pk, user=client, reason="Too playful for us.")
    assert (declined.decline_code, declined.decline_review) == ("fit", "")
    assert declined.shares_in_guarantee is True
    assert "keeps its share" in mail.outbox[-1].body
    with django_capture_on_commit_callbacks(execute=True):
        flagged = entry_decline(
            entry_id=rule.pk, user=client, reason="Uses the Nike swoosh.", reason_code="rules"
        )
    assert (flagged.decline_code, flagged.decline_review) == ("rules", "pending")
    assert flagged.shares_in_guarantee is True
    assert "our staff will check" in mail.outbox[-1].body


def test_entry_decline_refuses_an_unknown_reason_code_and_changes_nothing():
    client = make_user()
    contest = published(client)
    entry = enter(contest)
    with pytest.raises(ValidationFailed) as exc:
        entry_decline(
            entry_id=entry.pk, user=client, reason="A perfectly fine reason.", reason_code="ugly"
        )
    assert "Choose why you decline" in exc.value.fields["reason_code"][0]
    entry.refresh_from_db()
    assert entry.status == Entry.Status.SUBMITTED
    assert entry.decline_reason == ""


def test_entry_decline_review_by_staff_only_once_and_only_before_the_money_moved(
    django_capture_on_commit_callbacks,
):
    client = make_user()
    staff = make_user(is_staff=True)
    contest = published(client)
    winner = enter(contest)
    taste = enter(contest)
    rule = enter(contest)
    entry_decline(entry_id=taste.pk, user=client, reason="Too playful for us.")
    entry_decline(
        entry_id=rule.pk, user=client, reason="Traced from a stock icon.", reason_code="copied"
    )
    with pytest.raises(NotFound):
        entry_decline_review(entry_id=rule.pk, staff=client, uphold=True)
    with pytest.raises(Conflict) as exc:
        entry_decline_review(entry_id=taste.pk, staff=staff, uphold=True)
    assert exc.value.code == ErrorCode.WRONG_STATE
    with django_capture_on_commit_callbacks(execute=True):
        reviewed = entry_decline_review(entry_id=rule.pk, staff=staff, uphold=True)
    assert reviewed.decline_review == "upheld"
    assert reviewed.decline_reviewed_by == staff
    assert reviewed.shares_in_guarantee is False
    assert mail.outbox[-1].to == [rule.entrant.email]
    assert "no longer shares" in mail.outbox[-1].body
    with pytest.raises(Conflict):
        entry_decline_review(entry_id=rule.pk, staff=staff, uphold=False)
    late = enter(contest)
    entry_decline(
        entry_id=late.pk, user=client, reason="Breaks rule 3 of the brief.", reason_code="rules"
    )
    with time_machine.travel(contest.entry_deadline + timedelta(minutes=1), tick=False):
        contest_close_entries(contest_id=contest.pk)
    contest_award(contest_id=contest.pk, user=client, awards={1: winner.pk})
    with pytest.raises(Conflict) as exc:
        entry_decline_review(entry_id=late.pk, staff=staff, uphold=False)
    assert exc.value.code == ErrorCode.WRONG_STATE
    late.refresh_from_db()
    assert late.decline_review == "pending"


def test_entry_finalist_set_respects_the_number_of_finalists():
    client = make_user()
    contest = published(client, finalists_max=1)
    a = enter(contest)
    b = enter(contest)
    entry_finalist_set(entry_id=a.pk, user=client, finalist=True)
    with pytest.raises(Conflict) as exc:
        entry_finalist_set(entry_id=b.pk, user=client, finalist=True)
    assert exc.value.code == ErrorCode.FINALISTS_FULL
    entry_finalist_set(entry_id=a.pk, user=client, finalist=False)
    assert entry_finalist_set(entry_id=b.pk, user=client, finalist=True).status == "finalist"


def test_entry_finalist_set_after_the_award_is_refused():
    client = make_user()
    contest = published(client)
    entry = enter(contest)
    with time_machine.travel(contest.entry_deadline + timedelta(minutes=1), tick=False):
        contest_close_entries(contest_id=contest.pk)
    contest_award(contest_id=contest.pk, user=client, awards={1: entry.pk})
    with pytest.raises(Conflict):
        entry_finalist_set(entry_id=entry.pk, user=client, finalist=True)


def test_entry_report_once_per_person_and_never_ones_own():
    contest = published(make_user())
    entry = enter(contest)
    reporter = make_user()
    flag = entry_report(entry_id=entry.pk, user=reporter, reason="Same as dribbble.com/shot/1")
    assert flag.kind == EntryFlag.Kind.REPORT
    entry.refresh_from_db()
    assert entry.is_flagged
    with pytest.raises(Conflict):
        entry_report(entry_id=entry.pk, user=reporter, reason="Reported it before already.")
    with pytest.raises(PermissionDenied) as own:
        entry_report(entry_id=entry.pk, user=entry.entrant, reason="I copied it myself, oops.")
    assert own.value.code == ErrorCode.OWN_ENTRY
    with pytest.raises(PermissionDenied) as client:
        entry_report(entry_id=entry.pk, user=contest.created_by, reason="Saw it on a stock site.")
    assert client.value.code == ErrorCode.OWN_CONTEST


def test_entry_report_in_a_blind_contest_by_another_entrant_is_not_found():
    contest = published(make_user(), visibility="blind")
    entry = enter(contest)
    other = enter(contest)
    with pytest.raises(NotFound):
        entry_report(entry_id=entry.pk, user=other.entrant, reason="I guessed its id number.")


def test_entry_portfolio_add_for_a_non_winning_entry_after_the_contest():
    client = make_user()
    contest = published(client)
    winner = enter(contest)
    other = enter(contest)
    with pytest.raises(Conflict):
        entry_portfolio_add(entry_id=other.pk, user=other.entrant)
    with time_machine.travel(contest.entry_deadline + timedelta(minutes=1), tick=False):
        contest_close_entries(contest_id=contest.pk)
    contest_award(contest_id=contest.pk, user=client, awards={1: winner.pk})
    item = entry_portfolio_add(entry_id=other.pk, user=other.entrant)
    again = entry_portfolio_add(entry_id=other.pk, user=other.entrant)
    assert item is not None and again is not None and item.pk == again.pk
    assert item.source == PortfolioItem.Source.CONTEST_ENTRY
    with pytest.raises(NotFound):
        entry_portfolio_add(entry_id=other.pk, user=client)


def test_flag_dismiss_by_staff_unflags_the_entry_and_others_cannot():
    contest = published(make_user())
    entry = enter(contest)
    flag = entry_report(entry_id=entry.pk, user=make_user(), reason="Looks like a stock logo.")
    with pytest.raises(NotFound):
        flag_dismiss(flag_id=flag.pk, staff=contest.created_by)
    flag_dismiss(flag_id=flag.pk, staff=make_user(is_staff=True))
    entry.refresh_from_db()
    assert entry.is_flagged is False
    with pytest.raises(Conflict):
        flag_dismiss(flag_id=flag.pk, staff=make_user(is_staff=True))


def test_contest_finalist_round_open_refusals_and_success():
    client = make_user()
    contest = published(client)
    entry = enter(contest)
    soon = timezone.now() + timedelta(days=1)
    with pytest.raises(Conflict) as exc:
        contest_finalist_round_open(contest_id=contest.pk, user=client, deadline=soon)
    assert exc.value.code == ErrorCode.WRONG_STATE
    with time_machine.travel(contest.entry_deadline + timedelta(minutes=1), tick=False):
        contest = contest_close_entries(contest_id=contest.pk)
        later = timezone.now() + timedelta(days=2)
        with pytest.raises(Conflict) as exc:
            contest_finalist_round_open(contest_id=contest.pk, user=client, deadline=later)
        assert exc.value.code == ErrorCode.NO_FINALISTS
        entry_finalist_set(entry_id=entry.pk, user=client, finalist=True)
        too_late = timezone.now() + timedelta(days=30)
        with pytest.raises(ValidationFailed) as invalid:
            contest_finalist_round_open(contest_id=contest.pk, user=client, deadline=too_late)
        assert "before judging ends" in invalid.value.fields["deadline"][0]
        with pytest.raises(NotFound):
            contest_finalist_round_open(contest_id=contest.pk, user=entry.entrant, deadline=later)
        opened = contest_finalist_round_open(contest_id=contest.pk, user=client, deadline=later)
    assert opened.finalist_deadline == later


def test_contest_attachment_add_checks_the_file_and_serves_it_to_viewers_only():
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test import Client

    from trefpunt.contests.services import contest_attachment_add, contest_attachment_remove

    from .factories import pdf_bytes

    client = make_user()
    contest = draft(client, is_private=True)
    with pytest.raises(ValidationFailed):
        contest_attachment_add(
            contest_id=contest.pk,
            user=client,
            upload=SimpleUploadedFile("brief.pdf", b"MZ\x90\x00 not a pdf"),
        )
    with pytest.raises(NotFound):
        contest_attachment_add(
            contest_id=contest.pk,
            user=make_user(),
            upload=SimpleUploadedFile("brief.pdf", pdf_bytes()),
        )
    attachment = contest_attachment_add(
        contest_id=contest.pk, user=client, upload=SimpleUploadedFile("brief.pdf", pdf_bytes())
    )
    url = f"/en/contests/{contest.pk}/attachments/{attachment.pk}/"
    owner = Client()
    owner.force_login(client)
    response = owner.get(url)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="brief.pdf"')
    stranger = Client()
    stranger.force_login(make_user())
    assert stranger.get(url).status_code == 404
    contest_attachment_remove(contest_id=contest.pk, user=client, attachment_id=attachment.pk)
    assert owner.get(url).status_code == 404


def test_contest_invite_after_judging_started_is_refused():
    client = make_user()
    invited = make_user()
    contest = draft(client, is_private=True)
    contest_invite(contest_id=contest.pk, user=client, who=invited.email)
    funded_wallet(client, 33000)
    contest_publish(contest_id=contest.pk, user=client)
    enter(contest, invited)
    with time_machine.travel(contest.entry_deadline + timedelta(minutes=1), tick=False):
        contest_close_entries(contest_id=contest.pk)
    with pytest.raises(Conflict):
        contest_invite(contest_id=contest.pk, user=client, who=make_user().email)
