"""Capabilities computed once (``selectors.BatchAccess``, ``AnswerAccess``): what a viewer
may do, with the rules the services enforce, so that what a page or the API offers is
exactly what the service then accepts."""

from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from trefpunt.accounts.models import Membership, Role
from trefpunt.accounts.tests.factories import OrganisationFactory, UserFactory
from trefpunt.core.exceptions import ApplicationError, ErrorCode
from trefpunt.microtasks.models import Batch, Lease
from trefpunt.microtasks.selectors import (
    answer_access,
    batch_access,
    batches_available,
    worker_pseudonym,
)
from trefpunt.microtasks.services import (
    answer_appeal,
    answer_reject,
    batch_close,
    batch_pause,
    batch_resume,
    batch_worker_exclude,
    lease_answer,
    lease_claim,
)
from trefpunt.microtasks.tests.factories import (
    BatchFactory,
    claim,
    organisation_batch,
    published_batch,
)

pytestmark = pytest.mark.django_db
POS = {"sentiment": "pos"}


def can(access) -> set[str]:
    return {name for name, allowed in access.capabilities().items() if allowed}


def refusal_code(call) -> str | None:
    try:
        call()
    except ApplicationError as exc:
        return exc.code
    return None


def test_batch_access_of_the_client_follows_the_batch_through_its_life():
    owner = UserFactory.create()
    draft = BatchFactory.create(user=owner, items=2)
    assert can(batch_access(draft, owner)) == {"manage", "edit", "publish", "close", "raise_reward"}
    batch = published_batch(owner=owner, items=2)
    assert can(batch_access(batch, owner)) == {"manage", "pause", "close", "raise_reward", "review"}
    batch = batch_pause(batch_id=batch.pk, user=owner)
    assert can(batch_access(batch, owner)) == {
        "manage",
        "resume",
        "close",
        "raise_reward",
        "review",
    }
    batch = batch_close(batch_id=batch.pk, user=owner)
    assert can(batch_access(batch, owner)) == {"manage", "review"}


def test_batch_access_says_what_the_pause_and_resume_services_then_do():
    owner = UserFactory.create()
    batch = published_batch(owner=owner, items=2)
    batch_close(batch_id=batch.pk, user=owner)
    batch.refresh_from_db()
    access = batch_access(batch, owner)
    assert not access.can_pause and not access.can_resume
    assert refusal_code(lambda: batch_pause(batch_id=batch.pk, user=owner)) == "wrong_state"
    assert refusal_code(lambda: batch_resume(batch_id=batch.pk, user=owner)) == "wrong_state"


def test_batch_access_offers_no_resume_while_a_fair_pay_pause_needs_a_higher_reward(settings):
    settings.MICROTASK_MIN_HOURLY_CENTS = 1400
    owner = UserFactory.create()
    batch = published_batch(owner=owner, items=25, min_answers=1, max_answers=1, reward=10)
    with time_machine.travel(timezone.now(), tick=False) as clock:
        for _ in range(20):
            worker = UserFactory.create()
            lease = claim(batch, worker)
            clock.shift(timedelta(seconds=60))  # 10 cents a minute: € 6.00 an hour
            lease_answer(lease_id=lease.pk, worker=worker, answer=POS)
    batch.refresh_from_db()
    assert batch.pause_reason == Batch.PauseReason.FAIR_PAY
    access = batch_access(batch, owner)
    assert not access.can_resume and access.can_raise_reward
    assert access.fair_pay is not None and access.fair_pay.needed == 24
    assert refusal_code(lambda: batch_resume(batch_id=batch.pk, user=owner)) == "fair_pay"


@pytest.mark.parametrize(
    ("situation", "code"),
    [
        ("fresh", None),
        ("owner", "own_batch"),
        ("organisation_admin", "own_batch"),
        ("paused", "batch_not_open"),
        ("excluded", "not_qualified"),
        ("cap", "cap_reached"),
    ],
)
def test_batch_access_work_refusal_is_the_one_lease_claim_raises(situation, code):
    owner = UserFactory.create()
    organisation = OrganisationFactory.create(user=owner)
    batch = organisation_batch(owner, organisation, max_answers_per_worker=1)
    worker = UserFactory.create()
    if situation == "owner":
        worker = owner
    elif situation == "organisation_admin":
        Membership.objects.create(organisation=organisation, user=worker, role=Role.ADMIN)
    elif situation == "paused":
        batch = batch_pause(batch_id=batch.pk, user=owner)
    elif situation in ("excluded", "cap"):
        lease_answer(lease_id=claim(batch, worker).pk, worker=worker, answer=POS)
        if situation == "excluded":
            batch_worker_exclude(
                batch_id=batch.pk,
                user=owner,
                pseudonym=worker_pseudonym(batch_id=batch.pk, user_id=worker.pk),
            )
    access = batch_access(batch, worker)
    assert (access.work_refusal.code if access.work_refusal else None) == code
    assert access.can_work == (code is None)
    assert refusal_code(lambda: lease_claim(batch_id=batch.pk, worker=worker)) == code


def test_batch_access_of_a_visitor_offers_nothing():
    batch = published_batch(items=2)
    access = batch_access(batch, AnonymousUser())
    assert can(access) == set()
    assert access.user is None


def test_batches_available_leaves_out_the_batches_the_worker_manages():
    owner, admin = UserFactory.create(), UserFactory.create()
    organisation = OrganisationFactory.create(user=owner)
    Membership.objects.create(organisation=organisation, user=admin, role=Role.ADMIN)
    organisation_batch(owner, organisation)
    other = published_batch(items=2)
    rows = batches_available(user=admin)
    assert [row.batch.pk for row in rows] == [other.pk]
    assert rows[0].qualifies and rows[0].access.can_work


def test_answer_access_offers_an_appeal_only_within_the_window():
    owner = UserFactory.create()
    batch = published_batch(owner=owner, items=2)
    worker = UserFactory.create()
    answer = lease_answer(lease_id=claim(batch, worker).pk, worker=worker, answer=POS)
    assert answer_access(answer, manages=True).can_review
    assert not answer_access(answer, worker=True).can_appeal
    answer = answer_reject(answer_id=answer.pk, user=owner, reason="Not what it says")
    assert not answer_access(answer, manages=True).can_review
    assert answer_access(answer, worker=True).can_appeal
    later = timezone.now() + timedelta(days=8)
    late = answer_access(answer, worker=True, now=later)
    assert not late.can_appeal and late.appeal_until is None
    assert late.appeal_refusal is not None and late.appeal_refusal.code == ErrorCode.APPEAL_CLOSED
    with time_machine.travel(later):
        assert (
            refusal_code(
                lambda: answer_appeal(answer_id=answer.pk, worker=worker, message="Please look")
            )
            == "appeal_closed"
        )


def test_history_page_links_an_appeal_only_while_it_can_be_made():
    owner = UserFactory.create()
    batch = published_batch(owner=owner, items=2)
    worker = UserFactory.create()
    answer = lease_answer(lease_id=claim(batch, worker).pk, worker=worker, answer=POS)
    answer_reject(answer_id=answer.pk, user=owner, reason="Not what it says")
    client = Client()
    client.force_login(worker)
    link = reverse("microtasks:answer_appeal", args=[answer.pk])
    assert link in client.get(reverse("microtasks:answer_history")).content.decode()
    with time_machine.travel(timezone.now() + timedelta(days=8)):
        assert link not in client.get(reverse("microtasks:answer_history")).content.decode()


def test_batch_api_shows_the_callers_capabilities(user):
    batch = published_batch(owner=user, items=2)
    worker = UserFactory.create()
    for person, expected in (
        (user, {"manage", "pause", "close", "raise_reward", "review"}),
        (worker, {"work"}),
    ):
        client = Client()
        client.force_login(person)
        body = client.get(f"/api/v1/batches/{batch.pk}").json()
        assert {name for name, allowed in body["can"].items() if allowed} == expected


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the written-out statement")
def test_worker_batches_statement_lists_what_the_querysets_list():
    """The batch list's one prepared statement (PostgreSQL) against the querysets it
    stands for, on every reason a batch is left out or kept."""
    from trefpunt.microtasks.models import BatchWorker
    from trefpunt.microtasks.selectors.workers import _worker_batches, _worker_batches_sql

    worker, owner = UserFactory.create(), UserFactory.create()
    member_owner = UserFactory.create()
    admin_of = OrganisationFactory.create(user=owner)
    member_of = OrganisationFactory.create(user=member_owner)
    Membership.objects.create(organisation=admin_of, user=worker, role=Role.ADMIN)
    Membership.objects.create(organisation=member_of, user=worker, role=Role.MEMBER)
    organisation_batch(owner, admin_of)  # managed through the organisation: left out
    kept_member = organisation_batch(member_owner, member_of)
    published_batch(owner=worker, items=2)  # their own: left out
    answered = published_batch(items=3)
    lease_answer(lease_id=claim(answered, worker).pk, worker=worker, answer=POS)
    excluded = published_batch(items=2)
    BatchWorker.objects.create(batch=excluded, worker=worker, excluded=True)
    BatchWorker.objects.update_or_create(
        batch=answered, worker=worker, defaults={"excluded": False}
    )
    seen = published_batch(items=1)  # its one item leased by them before: left out
    Lease.objects.filter(pk=claim(seen, worker).pk).update(status=Lease.Status.EXPIRED)
    holding = published_batch(items=1)  # their live lease on its last item: kept
    claim(holding, worker)
    closed = published_batch(items=2)
    batch_close(batch_id=closed.pk, user=closed.owner)

    expected = _worker_batches(user=worker, limit=100)
    assert _worker_batches_sql(user=worker, limit=100) == expected
    assert [pk for pk, _n, _x in expected] == [holding.pk, excluded.pk, answered.pk, kept_member.pk]
    assert dict((pk, (n, x)) for pk, n, x in expected)[answered.pk] == (1, False)
    assert dict((pk, (n, x)) for pk, n, x in expected)[excluded.pk] == (0, True)
    assert _worker_batches_sql(user=worker, limit=2) == expected[:2]


def test_batch_for_work_reads_the_batch_row_and_finds_no_draft():
    """The work pages' batch read (a written-out statement on PostgreSQL): the same row as
    the ORM reads, a draft or a missing batch not found."""
    from trefpunt.core.db import model_fields
    from trefpunt.core.exceptions import NotFound
    from trefpunt.microtasks.selectors import batch_for_work

    batch = published_batch(items=2, page_size=3)
    read = batch_for_work(batch_id=batch.pk)
    fresh = Batch.objects.get(pk=batch.pk)
    for field in model_fields(Batch):
        assert getattr(read, field.attname) == getattr(fresh, field.attname), field.name
    draft = BatchFactory.create(user=batch.owner, items=1)
    for missing in (draft.pk, batch.pk + draft.pk + 1000):
        with pytest.raises(NotFound):
            batch_for_work(batch_id=missing)


def test_lease_live_for_worker_is_the_lease_the_orm_loads_with_its_item(
    django_assert_num_queries,
):
    """The work page's read of the worker's live lease (written out on PostgreSQL) gives
    the lease and item the ORM's query gives, the item without a further query; another
    worker's, another batch's and an expired lease are not it."""
    from trefpunt.microtasks.selectors import answers_count_for_worker, lease_live_for_worker

    batch, other_batch = published_batch(items=3), published_batch(items=2)
    worker, other = UserFactory.create(), UserFactory.create()
    lease = claim(batch, worker)
    claim(batch, other)
    claim(other_batch, worker)

    def fields(instance):
        return {f.attname: getattr(instance, f.attname) for f in type(instance)._meta.fields}

    with django_assert_num_queries(1):
        found = lease_live_for_worker(batch=batch, user=worker)
        assert found is not None
        item = found.item
    loaded = Lease.objects.select_related("item").get(pk=lease.pk)
    assert fields(found) == fields(loaded)
    assert fields(item) == fields(loaded.item)
    assert answers_count_for_worker(batch=batch, worker_id=worker.pk) == 0
    later = lease.expires_at + timedelta(seconds=1)
    assert lease_live_for_worker(batch=batch, user=worker, now=later) is None
