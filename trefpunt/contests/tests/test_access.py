"""What a viewer may do (``ContestAccess``, ``EntryAccess``) is what the services allow: where
a capability is off the service refuses with the rule's code, where it is on it succeeds."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from trefpunt.accounts.models import User
from trefpunt.contests.access import ContestAccess, EntryAccess
from trefpunt.contests.selectors import (
    contest_access_for_manager,
    contest_get_for_user,
    entry_get_for_user,
    handover_get_for_user,
)
from trefpunt.contests.services import (
    contest_award,
    contest_cancel,
    contest_close_entries,
    contest_finalist_round_open,
    entry_finalist_set,
    entry_report,
    entry_revise,
    entry_withdraw,
    handover_deliver,
)
from trefpunt.core.exceptions import Conflict, ErrorCode, PermissionDenied

from .factories import draft, enter, make_user, pdf_bytes, png_upload, published

pytestmark = pytest.mark.django_db


def _client_can(access: ContestAccess) -> dict[str, bool]:
    return {
        "edit": access.can_edit,
        "publish": access.can_publish,
        "cancel": access.can_cancel,
        "close_early": access.can_close_early,
        "judge": access.can_judge,
        "finalist_round": access.can_start_finalist_round,
        "award": access.can_award,
        "enter": access.can_enter,
    }


def _manager(contest_id: int, user: User) -> ContestAccess:
    return contest_access_for_manager(contest_id=contest_id, user=user)


def test_contest_access_of_the_client_follows_the_contest_through_its_states():
    client = make_user()
    contest = draft(client)
    assert _client_can(_manager(contest.pk, client)) == {
        "edit": True,
        "publish": True,
        "cancel": True,
        "close_early": False,
        "judge": False,
        "finalist_round": False,
        "award": False,
        "enter": False,
    }
    contest = published(client, title="Open one")
    assert _client_can(_manager(contest.pk, client)) == {
        "edit": False,
        "publish": False,
        "cancel": True,
        "close_early": False,
        "judge": True,
        "finalist_round": False,
        "award": False,
        "enter": False,
    }
    entry = enter(contest)
    with time_machine.travel(contest.entry_deadline + timedelta(minutes=1), tick=False):
        contest_close_entries(contest_id=contest.pk)
    assert _client_can(_manager(contest.pk, client)) == {
        "edit": False,
        "publish": False,
        "cancel": False,
        "close_early": False,
        "judge": True,
        "finalist_round": True,
        "award": True,
        "enter": False,
    }
    contest_award(contest_id=contest.pk, user=client, awards={1: entry.pk})
    assert not any(_client_can(_manager(contest.pk, client)).values())


def test_can_cancel_is_what_contest_cancel_allows():
    client = make_user()
    contest = published(client)
    entry = enter(contest)
    assert not _manager(contest.pk, client).can_cancel
    with pytest.raises(Conflict) as refused:
        contest_cancel(contest_id=contest.pk, user=client)
    assert refused.value.code == ErrorCode.HAS_ENTRIES
    entry_withdraw(entry_id=entry.pk, user=entry.entrant)
    assert _manager(contest.pk, client).can_cancel
    contest_cancel(contest_id=contest.pk, user=client)


def test_can_close_early_is_what_contest_close_entries_allows():
    client = make_user()
    contest = published(client)
    for _ in range(4):
        enter(contest)
    assert not _manager(contest.pk, client).can_close_early
    with pytest.raises(Conflict) as refused:
        contest_close_entries(contest_id=contest.pk, user=client)
    assert refused.value.code == ErrorCode.TOO_FEW_ENTRIES
    enter(contest)
    assert _manager(contest.pk, client).can_close_early
    contest_close_entries(contest_id=contest.pk, user=client)


def test_can_start_a_finalist_round_once():
    client = make_user()
    contest = published(client)
    entry = enter(contest)
    entry_finalist_set(entry_id=entry.pk, user=client, finalist=True)
    with time_machine.travel(contest.entry_deadline + timedelta(minutes=1), tick=False):
        contest_close_entries(contest_id=contest.pk)
        assert _manager(contest.pk, client).can_start_finalist_round
        deadline = timezone.now() + timedelta(days=2)
        contest_finalist_round_open(contest_id=contest.pk, user=client, deadline=deadline)
        assert not _manager(contest.pk, client).can_start_finalist_round
        with pytest.raises(Conflict) as again:
            contest_finalist_round_open(contest_id=contest.pk, user=client, deadline=deadline)
    assert again.value.code == ErrorCode.ALREADY_DONE


def test_can_enter_and_the_entries_left_follow_the_limit_per_entrant():
    contest = published(make_user(), max_entries_per_entrant=2)
    entrant = make_user()
    access = contest_get_for_user(contest_id=contest.pk, user=entrant)
    assert (access.can_enter, access.can_submit, access.entries_left) == (True, True, 2)
    enter(contest, entrant, seed=1)
    enter(contest, entrant, seed=2)
    access = contest_get_for_user(contest_id=contest.pk, user=entrant)
    assert (access.can_enter, access.can_submit, access.entries_left) == (True, False, 0)
    with pytest.raises(Conflict) as refused:
        enter(contest, entrant, seed=3)
    assert refused.value.code == ErrorCode.ENTRY_LIMIT
    client = contest_get_for_user(contest_id=contest.pk, user=contest.created_by)
    assert not client.can_enter


def _entry_can(access: EntryAccess) -> dict[str, bool]:
    return {
        "withdraw": access.can_withdraw,
        "revise": access.can_revise,
        "report": access.can_report,
        "judge": access.can_judge,
        "see_original": access.can_see_original,
        "portfolio": access.can_add_to_portfolio,
    }


def test_entry_access_of_the_entrant_the_client_and_a_stranger():
    contest = published(make_user())
    entry = enter(contest)
    assert _entry_can(entry_get_for_user(entry_id=entry.pk, user=entry.entrant)) == {
        "withdraw": True,
        "revise": True,
        "report": False,
        "judge": False,
        "see_original": True,
        "portfolio": False,
    }
    assert _entry_can(entry_get_for_user(entry_id=entry.pk, user=contest.created_by)) == {
        "withdraw": False,
        "revise": False,
        "report": False,
        "judge": True,
        "see_original": True,
        "portfolio": False,
    }
    stranger = make_user()
    assert _entry_can(entry_get_for_user(entry_id=entry.pk, user=stranger)) == {
        "withdraw": False,
        "revise": False,
        "report": True,
        "judge": False,
        "see_original": False,
        "portfolio": False,
    }
    with pytest.raises(PermissionDenied) as refused:
        entry_report(entry_id=entry.pk, user=contest.created_by, reason="Looks like a stock logo.")
    assert refused.value.code == ErrorCode.OWN_CONTEST
    entry_report(entry_id=entry.pk, user=stranger, reason="Looks like a stock logo.")


def test_entry_access_after_the_deadline_is_what_withdraw_and_revise_allow():
    contest = published(make_user())
    entry = enter(contest)
    with time_machine.travel(contest.entry_deadline + timedelta(minutes=1), tick=False):
        access = entry_get_for_user(entry_id=entry.pk, user=entry.entrant)
        assert not access.can_withdraw and not access.can_revise
        with pytest.raises(Conflict) as withdraw:
            entry_withdraw(entry_id=entry.pk, user=entry.entrant)
        with pytest.raises(Conflict) as revise:
            entry_revise(entry_id=entry.pk, user=entry.entrant, files=[png_upload(5)])
    assert withdraw.value.code == revise.value.code == ErrorCode.ENTRIES_CLOSED


def test_a_finalist_may_revise_during_the_finalist_round_and_the_others_not():
    client = make_user()
    contest = published(client)
    finalist = enter(contest)
    other = enter(contest)
    entry_finalist_set(entry_id=finalist.pk, user=client, finalist=True)
    with time_machine.travel(contest.entry_deadline + timedelta(minutes=1), tick=False):
        contest_close_entries(contest_id=contest.pk)
        deadline = timezone.now() + timedelta(days=1)
        contest_finalist_round_open(contest_id=contest.pk, user=client, deadline=deadline)
        assert entry_get_for_user(entry_id=finalist.pk, user=finalist.entrant).can_revise
        assert not entry_get_for_user(entry_id=other.pk, user=other.entrant).can_revise
        entry_revise(entry_id=finalist.pk, user=finalist.entrant, files=[png_upload(8)])
        card = entry_get_for_user(entry_id=finalist.pk, user=client)
        assert card.can_unmark_finalist and not card.can_make_finalist


def test_the_winner_may_deliver_until_the_client_confirms_and_add_to_the_portfolio():
    client = make_user()
    contest = published(client)
    winner = enter(contest)
    with time_machine.travel(contest.entry_deadline + timedelta(minutes=1), tick=False):
        contest_close_entries(contest_id=contest.pk)
    contest_award(contest_id=contest.pk, user=client, awards={1: winner.pk})
    mine = handover_get_for_user(entry_id=winner.pk, user=winner.entrant)
    assert mine.can_deliver and not mine.can_confirm
    assert entry_get_for_user(entry_id=winner.pk, user=winner.entrant).can_add_to_portfolio
    assert not handover_get_for_user(entry_id=winner.pk, user=client).can_confirm
    handover_deliver(entry_id=winner.pk, user=winner.entrant, files=[_pdf()])
    theirs = handover_get_for_user(entry_id=winner.pk, user=client)
    assert theirs.can_confirm and not theirs.can_deliver


def _pdf() -> SimpleUploadedFile:
    return SimpleUploadedFile("final.pdf", pdf_bytes(), content_type="application/pdf")


def test_the_api_answers_what_the_viewer_may_do():
    client = make_user()
    contest = published(client)
    entry = enter(contest)

    def get(user: User, path: str) -> Any:
        session = Client()
        session.force_login(user)
        response = session.get(f"/api/v1{path}")
        assert response.status_code == 200, response.content
        return json.loads(response.content)

    assert get(client, f"/contests/{contest.pk}")["can"] == {
        "edit": False,
        "publish": False,
        "cancel": False,
        "close_entries": False,
        "invite": False,
        "judge": True,
        "award": False,
        "enter": False,
        "accept_nda": False,
    }
    assert get(make_user(), f"/contests/{contest.pk}")["can"]["enter"] is True
    entrant_view = get(entry.entrant, f"/entries/{entry.pk}")["can"]
    assert entrant_view["withdraw"] and entrant_view["revise"] and not entrant_view["report"]
    listed = get(client, f"/contests/{contest.pk}/entries")["items"][0]["can"]
    assert listed["decline"] and listed["make_finalist"] and not listed["withdraw"]


def test_client_actions_of_a_viewer_who_does_not_manage_ask_no_rule(monkeypatch):
    """A list of 20 contests asks each visitor's client actions: the rules (each builds a
    translated refusal) are asked of managers only."""
    from trefpunt.contests import rules
    from trefpunt.contests.selectors import contest_get_for_user

    contest = published(make_user(), title="Open one")

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a rule asked for someone who does not manage the contest")

    for name in ("brief_edit_refusal", "publish_refusal", "judging_refusal", "award_refusal"):
        monkeypatch.setattr(rules, name, refuse)
    access = contest_get_for_user(contest_id=contest.pk, user=make_user())
    assert not (access.can_edit or access.can_publish or access.can_judge or access.can_award)


def test_a_contest_rebuilt_from_its_access_fields_gives_the_same_capabilities():
    """The API list asks ``ContestAccess`` of a public contest rebuilt from a few kept fields
    (``contest_for_access``) for viewers who do not manage it: every capability and every
    state must come out as from the contest itself."""
    from trefpunt.contests.access import access_build, contest_access_fields, contest_for_access
    from trefpunt.contests.models import Contest

    client, member, staff = make_user(), make_user(), make_user(is_staff=True)
    open_one = published(client, max_entries_per_entrant=2)
    enter(open_one, member)
    closing = published(client)
    Contest.objects.filter(pk=closing.pk).update(status=Contest.Status.JUDGING)
    names = [n for n in dir(ContestAccess) if n.startswith(("can_", "nda_", "entries_left"))]
    for contest in (open_one, closing):
        contest = type(contest).objects.get(pk=contest.pk)
        light = contest_for_access(contest_access_fields(contest))
        for viewer in (None, member, staff):
            mine = 1 if viewer is member and contest is not closing else 0
            full = access_build(
                contest, viewer, can_manage=False, is_invited=False, my_entries=mine
            )
            kept = access_build(light, viewer, can_manage=False, is_invited=False, my_entries=mine)
            assert {n: getattr(kept, n) for n in names} == {n: getattr(full, n) for n in names}


def _instance_fields(instance):
    return {f.attname: getattr(instance, f.attname) for f in type(instance)._meta.concrete_fields}


def test_a_contest_read_for_its_pages_is_the_one_the_orm_loads(django_assert_num_queries):
    """``_contest_read`` (written out on PostgreSQL) gives the instances ``_contest_base``
    makes: the contest, its organisation (or none), its poster with the profile (or a known
    missing one) and its prizes with their winners, without further queries."""
    from trefpunt.accounts.models import Profile
    from trefpunt.contests.selectors import _contest_base, _contest_read

    from .factories import make_organisation

    client = make_user()
    mine = published(client)
    for_organisation = published(client, organisation=make_organisation(client))
    lone = make_user()
    Profile.objects.filter(user=lone).delete()
    no_profile = draft(client)
    type(no_profile).objects.filter(pk=no_profile.pk).update(created_by=lone)
    awarded = published(client, prizes=[30000, 10000])
    first, second = enter(awarded), enter(awarded)
    with time_machine.travel(awarded.entry_deadline + timedelta(minutes=1), tick=False):
        contest_close_entries(contest_id=awarded.pk)
    contest_award(contest_id=awarded.pk, user=client, awards={1: second.pk, 2: first.pk})
    for contest in (mine, for_organisation, no_profile, awarded):
        loaded = _contest_base().get(pk=contest.pk)
        with django_assert_num_queries(2):
            read = _contest_read(contest.pk, prizes=True)
        assert read is not None
        with django_assert_num_queries(0):
            assert _instance_fields(read) == _instance_fields(loaded)
            if loaded.organisation is None:
                assert read.organisation is None
            else:
                assert _instance_fields(read.organisation) == _instance_fields(loaded.organisation)
            assert _instance_fields(read.created_by) == _instance_fields(loaded.created_by)
            if hasattr(loaded.created_by, "profile"):
                assert _instance_fields(read.created_by.profile) == _instance_fields(
                    loaded.created_by.profile
                )
                assert read.created_by.profile.user is read.created_by
            else:
                assert not hasattr(read.created_by, "profile")
            assert [
                (_instance_fields(p), p.contest is read, p.winner and _instance_fields(p.winner))
                for p in read.prizes.all()
            ] == [
                (_instance_fields(p), True, p.winner and _instance_fields(p.winner))
                for p in loaded.prizes.all()
            ]
            assert all(p.winner.prize_won is p for p in read.prizes.all() if p.winner)
        with django_assert_num_queries(1):
            assert _contest_read(contest.pk, prizes=False) is not None
    assert _contest_read(no_profile.pk + 1000, prizes=False) is None
