"""Real concurrent transactions on PostgreSQL (skipped on SQLite): many workers claiming
and answering at once never over-assign an item or answer it twice."""

from collections import Counter

import pytest
from django.db import connection
from django.db.models import Count

from trefpunt.accounts.tests.factories import UserFactory
from trefpunt.core.testing import run_concurrently
from trefpunt.microtasks.models import Answer, Item, Lease
from trefpunt.microtasks.services import (
    answer_approve,
    batch_close,
    lease_answer,
    lease_answer_page,
    lease_claim,
    lease_claim_page,
)
from trefpunt.microtasks.tests.factories import claim, published_batch, trust_workers
from trefpunt.microtasks.tests.money import assert_escrow_adds_up, escrow_of

pytestmark = [pytest.mark.race, pytest.mark.django_db(transaction=True)]
POS = {"sentiment": "pos"}


def test_lease_claim_fifty_workers_fill_every_item_to_exactly_three():
    batch = published_batch(items=200, min_answers=3, max_answers=3)
    workers = [UserFactory.create() for _ in range(50)]

    def work(i: int) -> int:
        worker = workers[i]
        done = 0
        while (lease := lease_claim(batch_id=batch.pk, worker=worker)) is not None:
            lease_answer(lease_id=lease.pk, worker=worker, answer=POS)
            done += 1
        return done

    results = run_concurrently(work, workers=50, timeout=300)
    errors = [str(r) for r in results if isinstance(r, Exception)]
    assert errors == []
    assert sum(results) == 600
    per_item = Counter(Answer.objects.values_list("item_id", flat=True))
    assert len(per_item) == 200
    assert set(per_item.values()) == {3}
    assert not Answer.objects.values("worker", "item").annotate(n=Count("pk")).filter(n__gt=1)
    assert set(Item.objects.values_list("answers_count", "status")) == {(3, Item.Status.COMPLETE)}
    assert not Lease.objects.filter(status=Lease.Status.ACTIVE).exists()


def test_lease_claim_fifty_workers_at_once_never_exceed_the_target():
    batch = published_batch(items=10, min_answers=3, max_answers=3)
    workers = [UserFactory.create() for _ in range(50)]
    results = run_concurrently(
        lambda i: lease_claim(batch_id=batch.pk, worker=workers[i]), workers=50
    )
    assert [str(r) for r in results if isinstance(r, Exception)] == []
    leases = [r for r in results if r is not None]
    assert len(leases) == 30
    per_item = Counter(lease.item_id for lease in leases)
    assert set(per_item.values()) == {3}
    assert len({lease.worker_id for lease in leases}) == 30


def test_lease_claim_one_worker_double_clicking_gets_one_lease():
    batch = published_batch(items=10)
    worker = UserFactory.create()
    results = run_concurrently(lambda i: lease_claim(batch_id=batch.pk, worker=worker), workers=10)
    assert [str(r) for r in results if isinstance(r, Exception)] == []
    assert {r.pk for r in results} == {Lease.objects.get().pk}


def test_lease_claim_page_fifty_workers_fill_every_item_to_exactly_three():
    batch = published_batch(items=200, min_answers=3, max_answers=3)
    workers = [UserFactory.create() for _ in range(50)]

    def work(i: int) -> int:
        worker = workers[i]
        done = 0
        while page := lease_claim_page(batch_id=batch.pk, worker=worker, size=5):
            done += len(
                lease_answer_page(worker=worker, answers=[(lease.pk, POS) for lease in page])
            )
        return done

    results = run_concurrently(work, workers=50, timeout=300)
    assert [str(r) for r in results if isinstance(r, Exception)] == []
    assert sum(results) == 600
    per_item = Counter(Answer.objects.values_list("item_id", flat=True))
    assert len(per_item) == 200
    assert set(per_item.values()) == {3}
    assert not Answer.objects.values("worker", "item").annotate(n=Count("pk")).filter(n__gt=1)
    # Complete, or held for review when a fit running meanwhile took these all-alike
    # answerers for spammers: either way no item is left open or over its target.
    assert set(Item.objects.values_list("answers_count", flat=True)) == {3}
    assert not Item.objects.filter(status=Item.Status.OPEN).exists()
    assert not Lease.objects.filter(status=Lease.Status.ACTIVE).exists()


def test_lease_claim_page_fifty_workers_at_once_never_exceed_the_target():
    batch = published_batch(items=10, min_answers=3, max_answers=3)
    workers = [UserFactory.create() for _ in range(50)]
    results = run_concurrently(
        lambda i: lease_claim_page(batch_id=batch.pk, worker=workers[i], size=4), workers=50
    )
    assert [str(r) for r in results if isinstance(r, Exception)] == []
    leases = [lease for page in results for lease in page]
    assert len(leases) == 30
    assert set(Counter(lease.item_id for lease in leases).values()) == {3}
    assert len({(lease.worker_id, lease.item_id) for lease in leases}) == 30


def test_lease_claim_page_one_worker_double_clicking_gets_one_page():
    batch = published_batch(items=20)
    worker = UserFactory.create()
    results = run_concurrently(
        lambda i: lease_claim_page(batch_id=batch.pk, worker=worker, size=5), workers=10
    )
    assert [str(r) for r in results if isinstance(r, Exception)] == []
    active = Lease.objects.filter(status=Lease.Status.ACTIVE)
    assert sorted(active.values_list("slot", flat=True)) == [0, 1, 2, 3, 4]
    assert all(
        {lease.pk for lease in page} <= set(active.values_list("pk", flat=True)) for page in results
    )


def test_answer_approve_concurrently_pays_once():
    owner = UserFactory.create()
    batch = published_batch(owner=owner, items=1)
    worker = UserFactory.create()
    lease = lease_claim(batch_id=batch.pk, worker=worker)
    assert lease is not None
    answer = lease_answer(lease_id=lease.pk, worker=worker, answer=POS)
    results = run_concurrently(lambda i: answer_approve(answer_id=answer.pk, user=owner), workers=8)
    assert [str(r) for r in results if isinstance(r, Exception)] == []
    assert_escrow_adds_up(batch)
    assert escrow_of(batch).balance == 3 * 12 - 12


def test_batch_close_while_workers_answer_keeps_the_escrow_whole():
    owner = UserFactory.create()
    batch = published_batch(owner=owner, items=60, min_answers=2, max_answers=3)
    workers = [UserFactory.create() for _ in range(15)]

    def act(i: int) -> int:
        if i == 15:
            batch_close(batch_id=batch.pk, user=owner)
            return 0
        done = 0
        try:
            while (lease := lease_claim(batch_id=batch.pk, worker=workers[i])) is not None:
                lease_answer(lease_id=lease.pk, worker=workers[i], answer=POS)
                done += 1
        except Exception as exc:  # the batch closed under the worker: that is expected
            if getattr(exc, "code", "") not in ("batch_not_open",):
                raise
        return done

    results = run_concurrently(act, workers=16, timeout=300)
    assert [str(r) for r in results if isinstance(r, Exception)] == []
    connection.close()
    # Every answer given can still be paid from what the escrow kept.
    for answer in Answer.objects.order_by("pk"):
        answer_approve(answer_id=answer.pk, user=owner)
    money = assert_escrow_adds_up(batch)
    assert money.rewards_paid == 10 * Answer.objects.count()


def _pay_entries(answer: Answer) -> int:
    from trefpunt.ledger.models import EntryKind, JournalEntry

    return JournalEntry.objects.filter(
        kind=EntryKind.ESCROW_RELEASE, idempotency_key__startswith=f"answer:{answer.pk}:"
    ).count()


def test_appeal_overturned_by_client_and_staff_at_once_pays_exactly_once():
    from trefpunt.microtasks.services import answer_appeal, answer_reject, appeal_decide

    owner = UserFactory.create()
    staff = UserFactory.create(is_staff=True)
    batch = published_batch(owner=owner, items=1)
    worker = UserFactory.create()
    lease = lease_claim(batch_id=batch.pk, worker=worker)
    assert lease is not None
    answer = lease_answer(lease_id=lease.pk, worker=worker, answer=POS)
    answer_reject(answer_id=answer.pk, user=owner, reason="Wrong sentiment")
    answer_appeal(answer_id=answer.pk, worker=worker, message="It is positive, read again")
    deciders = [owner, staff, owner, staff]

    results = run_concurrently(
        lambda i: appeal_decide(answer_id=answer.pk, user=deciders[i], overturn=True), workers=4
    )

    assert [str(r) for r in results if isinstance(r, Exception)] == []
    answer.refresh_from_db()
    assert answer.status == Answer.Status.OVERTURNED
    assert _pay_entries(answer) == 1
    assert_escrow_adds_up(batch)


def test_batch_reward_raise_twice_at_once_tops_up_once():
    from trefpunt.microtasks.services import answer_approve, batch_reward_raise

    owner = UserFactory.create()
    batch = published_batch(owner=owner, items=2, extra_funds=10_000)
    worker = UserFactory.create()
    lease = lease_claim(batch_id=batch.pk, worker=worker)
    assert lease is not None
    answer = lease_answer(lease_id=lease.pk, worker=worker, answer=POS)
    answer_approve(answer_id=answer.pk, user=owner)
    new_reward = batch.reward + 5

    results = run_concurrently(
        lambda i: batch_reward_raise(batch_id=batch.pk, user=owner, reward=new_reward), workers=4
    )

    assert [str(r) for r in results if isinstance(r, Exception)] == []
    answer.refresh_from_db()
    assert answer.paid_reward == new_reward
    assert _pay_entries(answer) == 2  # the reward, then the top-up, once
    assert_escrow_adds_up(batch)


def test_batch_publish_twice_at_once_funds_once():
    from trefpunt.ledger.services import wallet_for_user
    from trefpunt.ledger.tests.factories import fund_wallet
    from trefpunt.microtasks.selectors import batch_funding
    from trefpunt.microtasks.services import batch_publish
    from trefpunt.microtasks.tests.factories import BatchFactory

    owner = UserFactory.create()
    batch = BatchFactory.create(user=owner, items=3)
    cost = batch_funding(batch=batch).total
    deposit = max(500, 3 * cost)
    wallet = fund_wallet(wallet_for_user(user=owner), owner, deposit)

    results = run_concurrently(lambda i: batch_publish(batch_id=batch.pk, user=owner), workers=4)

    assert [type(r).__name__ for r in results if isinstance(r, Exception)] in ([], ["Conflict"] * 3)
    wallet.refresh_from_db()
    assert wallet.balance == deposit - cost
    assert escrow_of(batch).balance == cost
    assert_escrow_adds_up(batch)


def _someone_waits_for_a_lock(timeout: float = 10) -> bool:
    """Whether another connection is blocked on a row lock (polled, up to ``timeout``)."""
    import time

    from django.db import connections

    deadline = time.monotonic() + timeout
    with connections["default"].cursor() as cursor:
        while time.monotonic() < deadline:
            # Activity is read once per transaction unless the snapshot is cleared.
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                return True
            time.sleep(0.01)
    return False


def test_answers_review_bulk_paying_the_same_workers_in_two_batches_never_deadlocks(
    monkeypatch,
):
    # Batch A pays worker x then y, batch B pays y then x. Paying each answer locks the
    # worker's wallet; without locking every payee's wallet up front, A would hold x and
    # wait for y while B holds y and waits for x (PostgreSQL kills one: a 500).
    import threading

    from trefpunt.ledger.models import AccountKind
    from trefpunt.ledger.services import system_account
    from trefpunt.microtasks.services import answers_review_bulk, review

    system_account(kind=AccountKind.PLATFORM_REVENUE, label="platform revenue")
    first, second = UserFactory.create(), UserFactory.create()
    batches = [published_batch(owner=first, items=2), published_batch(owner=second, items=2)]
    x, y = UserFactory.create(), UserFactory.create()
    for batch, workers in ((batches[0], (x, y)), (batches[1], (y, x))):
        for worker in workers:
            lease = lease_claim(batch_id=batch.pk, worker=worker)
            assert lease is not None
            lease_answer(lease_id=lease.pk, worker=worker, answer=POS)
    paid_first = threading.Event()
    approve = review.answer_approve_unlocked

    def approve_in_turn(*, answer, batch, **kwargs):
        approve(answer=answer, batch=batch, **kwargs)
        if batch.pk == batches[0].pk and not paid_first.is_set():
            paid_first.set()  # A holds x's wallet: let B start, and go on once B waits
            assert _someone_waits_for_a_lock()

    monkeypatch.setattr(review, "answer_approve_unlocked", approve_in_turn)

    def bulk(i: int) -> int:
        if i == 1:
            assert paid_first.wait(timeout=30)
        owner = (first, second)[i]
        return answers_review_bulk(batch_id=batches[i].pk, user=owner, decision="approve")

    results = run_concurrently(bulk, workers=2)

    assert results == [2, 2]
    for batch in batches:
        assert_escrow_adds_up(batch)


def test_batch_finish_and_close_at_once_refund_the_unused_escrow_once():
    from datetime import timedelta

    from django.utils import timezone

    from trefpunt.ledger.models import EntryKind, JournalEntry
    from trefpunt.microtasks.models import Batch
    from trefpunt.microtasks.selectors import answer_cost
    from trefpunt.microtasks.services import batch_finish_if_done, batches_finish_sweep

    # Every item stops early at three agreeing answers of its five (a calibrated batch's
    # estimates, ``trust_workers``): two answers per item are never needed.
    batch = trust_workers(published_batch(items=4, min_answers=3, max_answers=5))
    for _ in range(3):
        worker = UserFactory.create()
        while (lease := lease_claim(batch_id=batch.pk, worker=worker)) is not None:
            lease_answer(lease_id=lease.pk, worker=worker, answer=POS)
    assert not Item.objects.filter(batch=batch, status=Item.Status.OPEN).exists()
    later = timezone.now() + timedelta(days=2)

    def finish(i: int) -> object:
        if i % 3 == 0:
            return batch_close(batch_id=batch.pk, user=batch.owner)
        if i % 3 == 1:
            return batches_finish_sweep(now=later)
        return batch_finish_if_done(batch_id=batch.pk)

    results = run_concurrently(finish, workers=9)
    assert [str(r) for r in results if isinstance(r, Exception)] == []
    batch.refresh_from_db()
    assert batch.status == Batch.Status.CLOSED
    refunds = JournalEntry.objects.filter(
        reference=batch.escrow_reference, kind=EntryKind.ESCROW_REFUND
    )
    cost = answer_cost(reward=batch.reward, client_fee_bps=batch.client_fee_bps)
    assert refunds.count() == 1
    money = assert_escrow_adds_up(batch)
    assert money.refunded == 4 * 2 * cost
    assert escrow_of(batch).balance == 4 * 3 * cost


def test_the_last_two_items_completing_at_once_tell_the_owner_the_batch_finished(monkeypatch):
    # Each answer's transaction sees the other's item still open (its write is not
    # committed yet); the check after the commit is what tells the owner.
    import threading

    from trefpunt.community.models import Notification
    from trefpunt.microtasks.notifications import BATCH_FINISHED
    from trefpunt.microtasks.services import answers

    batch = published_batch(items=2, min_answers=1, max_answers=1)
    workers = [UserFactory.create() for _ in range(2)]
    leases = [claim(batch, worker) for worker in workers]
    assert len({lease.item_id for lease in leases}) == 2
    both_checked = threading.Barrier(2, timeout=30)
    check = answers.batch_finished_check

    def check_then_wait(batch, *, open_left=None):
        check(batch, open_left=open_left)
        both_checked.wait()  # neither commits before both looked

    monkeypatch.setattr(answers, "batch_finished_check", check_then_wait)

    def answer(i: int) -> int:
        return lease_answer(lease_id=leases[i].pk, worker=workers[i], answer=POS).pk

    run_concurrently(answer, workers=2)

    assert not Item.objects.filter(batch=batch, status=Item.Status.OPEN).exists()
    assert Notification.objects.filter(user=batch.owner, kind=BATCH_FINISHED).count() == 1
