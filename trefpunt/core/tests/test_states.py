"""The state-move helper every mode uses: conditional, recorded, refused with a code."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.utils import timezone

from trefpunt.contests.models import Contest
from trefpunt.contests.tests.factories import draft, make_user
from trefpunt.core.exceptions import Conflict, ErrorCode
from trefpunt.core.models import Event
from trefpunt.core.states import StateMachine
from trefpunt.core.testing import run_concurrently

S = Contest.Status
MACHINE = StateMachine(
    Contest,
    subject="contest",
    moves={S.OPEN: {S.DRAFT}, S.CANCELLED: {S.DRAFT, S.OPEN}},
)


@pytest.mark.django_db
def test_move_updates_the_row_sets_the_fields_and_records_the_event() -> None:
    client = make_user()
    contest = draft(client)
    now = timezone.now()

    with transaction.atomic():
        MACHINE.move(contest, S.OPEN, actor=client, event="published", published_at=now)

    contest.refresh_from_db()
    assert contest.status == S.OPEN
    assert contest.published_at == now
    event = Event.objects.get(subject="contest", subject_id=contest.pk, kind="published")
    assert (event.kind, event.actor) == ("published", client)


@pytest.mark.django_db
def test_move_from_a_state_that_is_not_allowed_is_refused_with_wrong_state() -> None:
    contest = draft(make_user())
    Contest.objects.filter(pk=contest.pk).update(status=S.CANCELLED)

    with pytest.raises(Conflict) as exc:
        MACHINE.move(contest, S.OPEN, action="publish")

    assert exc.value.code == ErrorCode.WRONG_STATE
    assert "cancelled" in exc.value.message
    assert contest.status == S.CANCELLED  # the object now shows what the row holds
    assert not Event.objects.filter(kind="published").exists()


@pytest.mark.django_db
def test_can_and_an_undeclared_move() -> None:
    contest = draft(make_user())

    assert MACHINE.can(contest, S.OPEN)
    assert MACHINE.can(contest, S.CANCELLED)
    with pytest.raises(ValueError, match="no move"):
        MACHINE.can(contest, S.JUDGING)


@pytest.mark.django_db
def test_replayed_finds_a_keyed_event() -> None:
    contest = draft(make_user())
    with transaction.atomic():
        MACHINE.move(contest, S.OPEN, event="published", idempotency_key="k1")

    assert MACHINE.replayed(contest.pk, "published", "k1")
    assert not MACHINE.replayed(contest.pk, "published", "k2")
    assert not MACHINE.replayed(contest.pk, "published", "")


@pytest.mark.race
@pytest.mark.django_db(transaction=True)
def test_of_two_concurrent_moves_exactly_one_wins() -> None:
    contest = draft(make_user())

    def move(_i: int) -> object:
        with transaction.atomic(durable=True):
            MACHINE.move(contest, S.OPEN, event="published")
        return "moved"

    results = run_concurrently(move, workers=4)

    assert results.count("moved") == 1, results
    assert all(isinstance(r, Conflict) for r in results if r != "moved")
    assert Event.objects.filter(subject="contest", kind="published").count() == 1
