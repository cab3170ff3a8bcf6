"""State moves of batches, leases and answers (``microtasks.states``): one conditional move
each, the batch's recorded as events, refusals typed by code."""

import pytest

from trefpunt.accounts.tests.factories import UserFactory
from trefpunt.core.exceptions import Conflict, ErrorCode
from trefpunt.core.models import Event
from trefpunt.microtasks.models import Batch, Lease
from trefpunt.microtasks.services import (
    answer_approve,
    answer_reject,
    batch_close,
    batch_deposit_shortfall,
    batch_pause,
    batch_publish,
    batch_resume,
    items_upload,
    lease_answer,
    lease_skip,
)
from trefpunt.microtasks.states import BATCH_PUBLISH, BATCH_RUN
from trefpunt.microtasks.tests.factories import BatchFactory, claim, published_batch

pytestmark = pytest.mark.django_db
POS = {"sentiment": "pos"}


def events(batch: Batch) -> list[tuple[str, int | None]]:
    return list(
        Event.objects.filter(subject="batch", subject_id=batch.pk)
        .order_by("pk")
        .values_list("kind", "actor_id")
    )


def test_batch_moves_are_recorded_as_events_with_their_actor():
    owner = UserFactory.create()
    batch = published_batch(owner=owner, items=2)
    batch_pause(batch_id=batch.pk, user=owner)
    batch_pause(batch_id=batch.pk, user=owner)  # pausing twice changes nothing
    batch_resume(batch_id=batch.pk, user=owner)
    batch_close(batch_id=batch.pk, user=owner)
    assert events(batch) == [
        ("published", owner.pk),
        ("paused", owner.pk),
        ("resumed", owner.pk),
        ("closed", owner.pk),
    ]


def test_batch_pause_of_a_closed_batch_is_refused_with_wrong_state():
    owner = UserFactory.create()
    batch = published_batch(owner=owner, items=2)
    batch_close(batch_id=batch.pk, user=owner)
    for move in (batch_pause, batch_resume):
        with pytest.raises(Conflict) as exc:
            move(batch_id=batch.pk, user=owner)
        assert exc.value.code == ErrorCode.WRONG_STATE
    assert Batch.objects.get(pk=batch.pk).status == Batch.Status.CLOSED


def test_batch_resume_of_a_draft_is_refused_with_wrong_state():
    owner = UserFactory.create()
    batch = BatchFactory.create(user=owner, items=1)
    with pytest.raises(Conflict) as exc:
        batch_resume(batch_id=batch.pk, user=owner)
    assert exc.value.code == ErrorCode.WRONG_STATE


def test_batch_deposit_shortfall_of_a_published_batch_is_refused_with_wrong_state():
    owner = UserFactory.create()
    batch = published_batch(owner=owner, items=2)
    with pytest.raises(Conflict) as exc:
        batch_deposit_shortfall(batch_id=batch.pk, user=owner, return_path="/")
    assert exc.value.code == ErrorCode.WRONG_STATE


def test_batch_publish_of_a_closed_draft_is_refused_with_batch_closed():
    owner = UserFactory.create()
    batch = BatchFactory.create(user=owner, items=1)
    batch_close(batch_id=batch.pk, user=owner)
    with pytest.raises(Conflict) as exc:
        batch_publish(batch_id=batch.pk, user=owner)
    assert exc.value.code == ErrorCode.BATCH_CLOSED
    with pytest.raises(Conflict) as exc:
        items_upload(batch_id=batch.pk, user=owner, content=b"text\na\n", filename="a.csv")
    assert exc.value.code == ErrorCode.NOT_DRAFT


def test_batch_machines_declare_publish_apart_from_resume():
    draft, paused = Batch(status=Batch.Status.DRAFT), Batch(status=Batch.Status.PAUSED)
    assert BATCH_PUBLISH.can(draft, Batch.Status.OPEN)
    assert not BATCH_PUBLISH.can(paused, Batch.Status.OPEN)
    assert BATCH_RUN.can(paused, Batch.Status.OPEN)
    assert not BATCH_RUN.can(draft, Batch.Status.OPEN)


def test_lease_skip_twice_changes_nothing_and_an_answered_lease_is_refused():
    batch = published_batch(items=3)
    worker = UserFactory.create()
    lease = claim(batch, worker)
    assert lease_skip(lease_id=lease.pk, worker=worker).status == Lease.Status.SKIPPED
    assert lease_skip(lease_id=lease.pk, worker=worker).status == Lease.Status.SKIPPED
    answered = claim(batch, worker)
    lease_answer(lease_id=answered.pk, worker=worker, answer=POS)
    with pytest.raises(Conflict) as exc:
        lease_skip(lease_id=answered.pk, worker=worker)
    assert exc.value.code == ErrorCode.LEASE_INACTIVE


def test_answer_review_moves_only_from_pending():
    owner = UserFactory.create()
    batch = published_batch(owner=owner, items=2)
    worker = UserFactory.create()
    answer = lease_answer(lease_id=claim(batch, worker).pk, worker=worker, answer=POS)
    answer_reject(answer_id=answer.pk, user=owner, reason="Not what the review says")
    with pytest.raises(Conflict) as exc:
        answer_approve(answer_id=answer.pk, user=owner)
    assert exc.value.code == ErrorCode.ALREADY_REVIEWED
