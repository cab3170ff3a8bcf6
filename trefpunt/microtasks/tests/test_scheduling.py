"""Leases: which item a worker gets next, expiry, skipping, and who may answer."""

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.db.models import Count
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from trefpunt.accounts.services import profile_update
from trefpunt.accounts.tests.factories import UserFactory
from trefpunt.core.exceptions import Conflict, NotFound, PermissionDenied, ValidationFailed
from trefpunt.microtasks.models import Answer, Batch, Item, Lease
from trefpunt.microtasks.selectors import batch_answers_received, worker_pseudonym
from trefpunt.microtasks.services import (
    answer_reject,
    batch_pause,
    batch_worker_exclude,
    lease_answer,
    lease_answer_page,
    lease_claim,
    lease_claim_page,
    lease_skip,
    leases_expire,
)
from trefpunt.microtasks.services.aggregation import REFIT_FIRST
from trefpunt.microtasks.tests.crowd import crowd_batch
from trefpunt.microtasks.tests.factories import (
    BatchFactory,
    claim,
    fits_enqueued,
    published_batch,
)

pytestmark = pytest.mark.django_db
POS = {"sentiment": "pos"}


def positions(*leases):
    return [lease.item.position for lease in leases]


def test_lease_claim_depth_first_finishes_items_first():
    batch = published_batch(items=3, min_answers=2, max_answers=2)
    a, b, c = UserFactory.create(), UserFactory.create(), UserFactory.create()
    first = claim(batch, a)
    lease_answer(lease_id=first.pk, worker=a, answer=POS)
    # Item 1 has one answer: it comes before the untouched items 2 and 3.
    assert positions(claim(batch, b), claim(batch, c)) == [1, 2]


def test_lease_claim_breadth_first_spreads_answers():
    batch = published_batch(items=3, min_answers=2, max_answers=2, strategy="breadth")
    a, b = UserFactory.create(), UserFactory.create()
    lease_answer(lease_id=claim(batch, a).pk, worker=a, answer=POS)
    assert positions(claim(batch, b)) == [2]


def test_lease_claim_random_hands_out_every_item_once_per_worker():
    batch = published_batch(items=6, min_answers=1, max_answers=1, strategy="random")
    worker = UserFactory.create()
    seen = []
    while (lease := lease_claim(batch_id=batch.pk, worker=worker)) is not None:
        seen.append(lease.item.position)
        lease_answer(lease_id=lease.pk, worker=worker, answer=POS)
    assert sorted(seen) == [1, 2, 3, 4, 5, 6]


def test_lease_claim_returns_the_live_lease_again():
    batch = published_batch(items=3)
    worker = UserFactory.create()
    assert claim(batch, worker).pk == claim(batch, worker).pk
    assert Lease.objects.count() == 1


def test_lease_claim_never_offers_an_answered_or_skipped_item_again():
    batch = published_batch(items=2, min_answers=3, max_answers=3)
    worker = UserFactory.create()
    lease_answer(lease_id=claim(batch, worker).pk, worker=worker, answer=POS)
    second = claim(batch, worker)
    assert positions(second) == [2]
    lease_skip(lease_id=second.pk, worker=worker)
    assert lease_claim(batch_id=batch.pk, worker=worker) is None


def test_lease_claim_stops_at_the_target_counting_live_leases():
    batch = published_batch(items=1, min_answers=2, max_answers=2)
    a, b, c = UserFactory.create(), UserFactory.create(), UserFactory.create()
    claim(batch, a)
    claim(batch, b)
    assert lease_claim(batch_id=batch.pk, worker=c) is None


def test_lease_claim_hands_an_expired_leases_item_out_again():
    batch = published_batch(items=1, min_answers=1, max_answers=1)
    a, b = UserFactory.create(), UserFactory.create()
    with time_machine.travel(timezone.now(), tick=False) as clock:
        first = claim(batch, a)
        assert lease_claim(batch_id=batch.pk, worker=b) is None
        clock.shift(timedelta(seconds=batch.lease_seconds))
        second = claim(batch, b)
        assert second.item_id == first.item_id
        with pytest.raises(Conflict) as exc:
            lease_answer(lease_id=first.pk, worker=a, answer=POS)
        assert exc.value.code == "lease_expired"
        lease_answer(lease_id=second.pk, worker=b, answer=POS)
    item = Item.objects.get()
    assert (item.answers_count, item.status) == (1, Item.Status.COMPLETE)


def test_lease_answer_refuses_a_foreign_lease():
    batch = published_batch(items=2)
    owner_of_lease, other = UserFactory.create(), UserFactory.create()
    lease = claim(batch, owner_of_lease)
    with pytest.raises(NotFound):
        lease_answer(lease_id=lease.pk, worker=other, answer=POS)
    with pytest.raises(NotFound):
        lease_skip(lease_id=lease.pk, worker=other)
    assert not Answer.objects.exists()


def test_lease_answer_refuses_a_second_answer_on_the_same_lease():
    batch = published_batch(items=2)
    worker = UserFactory.create()
    lease = claim(batch, worker)
    lease_answer(lease_id=lease.pk, worker=worker, answer=POS)
    with pytest.raises(Conflict) as exc:
        lease_answer(lease_id=lease.pk, worker=worker, answer=POS)
    assert exc.value.code == "lease_used"
    assert Answer.objects.count() == 1


def test_lease_answer_that_does_not_fit_the_form_saves_nothing():
    batch = published_batch(items=1)
    worker = UserFactory.create()
    lease = claim(batch, worker)
    with pytest.raises(ValidationFailed) as exc:
        lease_answer(lease_id=lease.pk, worker=worker, answer={"sentiment": "angry"})
    assert "“angry” is not one of the choices" in exc.value.fields["sentiment"][0]
    lease.refresh_from_db()
    assert lease.status == Lease.Status.ACTIVE
    assert not Answer.objects.exists()
    assert Item.objects.get().answers_count == 0


def test_lease_answer_records_working_time_bounded_by_the_lease():
    batch = published_batch(items=2, min_answers=1, max_answers=1)
    worker = UserFactory.create()
    with time_machine.travel(timezone.now(), tick=False) as clock:
        lease = claim(batch, worker)
        clock.shift(timedelta(seconds=42))
        measured = lease_answer(lease_id=lease.pk, worker=worker, answer=POS)
        lease = claim(batch, worker)
        clock.shift(timedelta(seconds=30))
        reported = lease_answer(lease_id=lease.pk, worker=worker, answer=POS, seconds=9999)
    assert (measured.working_seconds, reported.working_seconds) == (42, 30)


def test_lease_claim_refuses_paused_closed_and_draft_batches():
    owner = UserFactory.create()
    batch = published_batch(owner=owner, items=2)
    batch_pause(batch_id=batch.pk, user=owner)
    with pytest.raises(Conflict) as exc:
        lease_claim(batch_id=batch.pk, worker=UserFactory.create())
    assert exc.value.code == "batch_not_open"
    draft = BatchFactory.create(items=1)
    with pytest.raises(NotFound):
        lease_claim(batch_id=draft.pk, worker=UserFactory.create())


def test_lease_claim_refuses_the_batch_owner():
    owner = UserFactory.create()
    batch = published_batch(owner=owner, items=2)
    with pytest.raises(PermissionDenied) as exc:
        lease_claim(batch_id=batch.pk, worker=owner)
    assert exc.value.code == "own_batch"


def test_lease_claim_enforces_the_per_worker_cap():
    batch = published_batch(items=3, min_answers=1, max_answers=1, max_answers_per_worker=2)
    worker = UserFactory.create()
    for _ in range(2):
        lease_answer(lease_id=claim(batch, worker).pk, worker=worker, answer=POS)
    with pytest.raises(Conflict) as exc:
        lease_claim(batch_id=batch.pk, worker=worker)
    assert exc.value.code == "cap_reached"


def test_lease_claim_checks_languages_from_the_profile():
    batch = published_batch(items=1, languages="nl")
    worker = UserFactory.create()
    with pytest.raises(PermissionDenied) as exc:
        lease_claim(batch_id=batch.pk, worker=worker)
    assert exc.value.code == "not_qualified"
    profile = worker.profile
    profile_update(
        profile=profile,
        handle=profile.handle,
        display_name=profile.display_name,
        languages="nl, en",
    )
    assert claim(batch, worker)


def test_lease_claim_checks_the_approval_rate_counting_standing_rejections():
    owner = UserFactory.create()
    earlier = published_batch(owner=owner, items=2, min_answers=1, max_answers=1)
    worker = UserFactory.create()
    for _ in range(2):
        answer = lease_answer(lease_id=claim(earlier, worker).pk, worker=worker, answer=POS)
        answer_reject(answer_id=answer.pk, user=owner, reason="Random clicking")
    strict = published_batch(items=1, min_approval_rate=0.8)
    with pytest.raises(PermissionDenied) as exc:
        lease_claim(batch_id=strict.pk, worker=worker)
    assert exc.value.code == "not_qualified"


def test_lease_claim_refuses_an_excluded_worker():
    owner = UserFactory.create()
    batch = published_batch(owner=owner, items=3, min_answers=1, max_answers=1)
    worker = UserFactory.create()
    lease_answer(lease_id=claim(batch, worker).pk, worker=worker, answer=POS)
    batch_worker_exclude(
        batch_id=batch.pk,
        user=owner,
        pseudonym=worker_pseudonym(batch_id=batch.pk, user_id=worker.pk),
    )
    with pytest.raises(PermissionDenied) as exc:
        lease_claim(batch_id=batch.pk, worker=worker)
    assert exc.value.code == "not_qualified"


def test_lease_skip_returns_the_item_to_the_pool():
    batch = published_batch(items=1, min_answers=1, max_answers=1)
    a, b = UserFactory.create(), UserFactory.create()
    lease_skip(lease_id=claim(batch, a).pk, worker=a)
    assert claim(batch, b).item.position == 1


def test_leases_expire_only_marks_leases_whose_time_ran_out():
    batch = published_batch(items=2, min_answers=1, max_answers=1)
    a, b = UserFactory.create(), UserFactory.create()
    with time_machine.travel(timezone.now(), tick=False) as clock:
        claim(batch, a)
        clock.shift(timedelta(minutes=6))
        claim(batch, b)
        clock.shift(timedelta(minutes=5))
        assert leases_expire() == 1
        assert leases_expire() == 0
    assert dict(Lease.objects.values_list("worker_id", "status")) == {
        a.pk: Lease.Status.EXPIRED,
        b.pk: Lease.Status.ACTIVE,
    }


def test_many_workers_in_turn_fill_every_item_exactly_to_its_target():
    batch = published_batch(items=10, min_answers=3, max_answers=3)
    workers = [UserFactory.create() for _ in range(7)]
    progress = True
    while progress:
        progress = False
        for worker in workers:
            lease = lease_claim(batch_id=batch.pk, worker=worker)
            if lease is not None:
                lease_answer(lease_id=lease.pk, worker=worker, answer=POS)
                progress = True
    counts = Answer.objects.values("item").annotate(n=Count("pk")).values_list("n", flat=True)
    assert sorted(counts) == [3] * 10
    assert set(Item.objects.values_list("status", flat=True)) == {Item.Status.COMPLETE}
    assert Batch.objects.get().status == Batch.Status.OPEN


def test_lease_answer_never_reads_the_batchs_answers():
    # "Is a fit due?" and the fair-pay window read the batch's answer counter, returned by
    # the statement that raises it; counting the batch's answers made every answer cost
    # O(answers since the last fit), up to a tenth of a large batch.
    batch = published_batch(items=4, min_answers=2, max_answers=2)
    workers = [UserFactory.create() for _ in range(3)]
    for worker in workers[:2]:
        lease_answer(lease_id=claim(batch, worker).pk, worker=worker, answer=POS)
    with CaptureQueriesContext(connection) as captured:
        lease_answer(lease_id=claim(batch, workers[2]).pk, worker=workers[2], answer=POS)
    batch_wide = [
        q["sql"]
        for q in captured.captured_queries
        if 'FROM "microtasks_answer" WHERE ("microtasks_answer"."batch_id"' in q["sql"]
        or 'FROM "microtasks_answer" WHERE "microtasks_answer"."batch_id"' in q["sql"]
    ]
    assert batch_wide == []
    assert batch_answers_received(batch_id=batch.pk) == 3


def test_lease_answer_enqueues_the_fit_from_the_counter(django_capture_on_commit_callbacks):
    # The counter says when: REFIT_FIRST answers after the (empty) last fit, the fit runs
    # (the immediate task backend) and records how many answers it saw.
    batch = published_batch(items=30, min_answers=1, max_answers=1, gold_rate=0)
    worker = UserFactory.create()
    for _ in range(REFIT_FIRST - 1):
        lease_answer(lease_id=claim(batch, worker).pk, worker=worker, answer=POS)
    batch.refresh_from_db()
    assert (batch_answers_received(batch_id=batch.pk), batch.fit_received) == (19, 0)
    assert batch.fitted_at is None
    with django_capture_on_commit_callbacks(execute=True) as enqueued:
        lease_answer(lease_id=claim(batch, worker).pk, worker=worker, answer=POS)
    assert fits_enqueued(enqueued) == 1
    batch.refresh_from_db()
    assert (batch_answers_received(batch_id=batch.pk), batch.fit_received) == (20, 20)
    assert batch.fitted_at is not None


@pytest.mark.django_db(transaction=True)
def test_claim_and_answer_take_a_fixed_number_of_statements(
    django_assert_num_queries, django_assert_max_num_queries
):
    # The hot path of every worker: a claim and an answer cost the same however far the
    # batch is (counted with the transaction's BEGIN and COMMIT). Raise these only knowingly.
    batch = published_batch(items=20, min_answers=3, max_answers=3, gold_rate=0)
    for worker in [UserFactory.create() for _ in range(4)] * 2:
        # PostgreSQL: the batch with the worker's facts, then the claim function (one
        # statement, its own transaction); elsewhere BEGIN, pick, insert, COMMIT.
        claim_statements = 2 if connection.vendor == "postgresql" else 5
        with django_assert_num_queries(claim_statements):
            lease = lease_claim(batch_id=batch.pk, worker=worker)
        assert lease is not None
        with django_assert_max_num_queries(2):  # the item the worker holds, again
            assert lease_claim(batch_id=batch.pk, worker=worker) == lease
        # BEGIN, the lease with its batch and its item (locked), lease used + answer stored +
        # the item's answers read (one statement on PostgreSQL, three elsewhere), the item
        # saved and the answer counted on the worker's tally row (one statement on
        # PostgreSQL, which also says, for an answer that completes its item, whether an
        # item is still open and who listens to webhooks; three elsewhere, and two more
        # when the item completes), COMMIT; after the commit, for an answer that completed
        # its item while others were open in its view, whether any is still open (another
        # transaction may have completed the last of them meanwhile).
        with CaptureQueriesContext(connection) as answered:
            lease_answer(lease_id=lease.pk, worker=worker, answer=POS)
        completed = Item.objects.get(pk=lease.item_id).status == Item.Status.COMPLETE
        open_left = Item.objects.filter(batch=batch, status=Item.Status.OPEN).exists()
        recheck = 1 if completed and open_left else 0
        if connection.vendor == "postgresql":
            assert len(answered) == 5 + recheck
        else:
            assert len(answered) == 9 + (2 if completed else 0) + recheck


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the claim function is PostgreSQL's")
def test_the_claim_functions_always_use_their_generic_plans():
    # Under the default plan cache mode the pick and the guarded insert were planned anew on
    # every claim (migration 0015; bench/README.md has the figures).
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT proname, proconfig FROM pg_proc"
            " WHERE proname IN ('microtasks_claim', 'microtasks_claim_pick') ORDER BY proname"
        )
        found = cursor.fetchall()
    assert found == [
        (name, ["plan_cache_mode=force_generic_plan"])
        for name in ("microtasks_claim", "microtasks_claim_pick")
    ]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's prepared statements")
@pytest.mark.django_db(transaction=True)
def test_the_cycles_prepared_statements_keep_their_plans():
    # A prepared statement is planned anew on every run while a custom plan looks cheaper
    # than the generic one: so it did for an array parameter (estimated at ten elements)
    # and for a check the parameters switched off (``CASE WHEN``). After its first five
    # runs every statement of the claim and the answer keeps one plan.
    batch = published_batch(items=40, min_answers=3, max_answers=3, gold_rate=0)
    workers = [UserFactory.create() for _ in range(3)]
    for _ in range(8):
        for worker in workers:
            lease_answer(lease_id=claim(batch, worker).pk, worker=worker, answer=POS)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements"
            " WHERE generic_plans + custom_plans > 5"
        )
        statements = cursor.fetchall()
    assert len(statements) >= 4, statements  # claim, lease, answer, settle
    assert [(sql, custom) for sql, generic, custom in statements if custom > 5] == []


# --- task pages -------------------------------------------------------------------------


def test_lease_claim_page_claims_five_different_items_and_returns_them_again():
    batch = published_batch(items=8, min_answers=2, max_answers=2)
    worker = UserFactory.create()
    page = lease_claim_page(batch_id=batch.pk, worker=worker, size=5)
    assert len({lease.item_id for lease in page}) == 5
    assert [lease.slot for lease in page] == [0, 1, 2, 3, 4]
    assert Lease.objects.filter(worker=worker, status=Lease.Status.ACTIVE).count() == 5
    again = lease_claim_page(batch_id=batch.pk, worker=worker, size=5)
    assert [lease.pk for lease in again] == [lease.pk for lease in page]
    # A worker holding live leases gets those, not more, until the page is answered.
    assert lease_claim(batch_id=batch.pk, worker=worker) == page[0]


def test_lease_claim_page_of_one_is_lease_claim():
    batch = published_batch(items=3, min_answers=2, max_answers=2)
    a, b = UserFactory.create(), UserFactory.create()
    single = claim(batch, a)
    [paged] = lease_claim_page(batch_id=batch.pk, worker=b, size=1)
    assert (paged.item_id, paged.slot, single.slot) == (single.item_id, 0, 0)
    assert lease_claim_page(batch_id=batch.pk, worker=a, size=1) == [single]


def test_lease_claim_page_stops_where_the_batch_and_the_cap_run_out():
    batch = published_batch(items=3, min_answers=1, max_answers=1)
    worker = UserFactory.create()
    assert len(lease_claim_page(batch_id=batch.pk, worker=worker, size=10)) == 3
    assert lease_claim_page(batch_id=batch.pk, worker=UserFactory.create(), size=10) == []
    capped = published_batch(items=10, max_answers_per_worker=4)
    assert len(lease_claim_page(batch_id=capped.pk, worker=worker, size=10)) == 4
    with pytest.raises(ValidationFailed):
        lease_claim_page(batch_id=batch.pk, worker=worker, size=51)


def test_lease_claim_page_mixes_in_test_questions_at_the_rate():
    crowd = crowd_batch(items=6, gold=2, gold_rate=1.0, min_answers=1, max_answers=1)
    page = lease_claim_page(batch_id=crowd.batch.pk, worker=UserFactory.create(), size=4)
    # Rate 1: the tests first, then the other items (a kind that runs out falls back).
    assert [lease.item.is_gold for lease in page] == [True, True, False, False]
    other = crowd_batch(items=6, gold=2, gold_rate=0.0, min_answers=1, max_answers=1)
    page = lease_claim_page(batch_id=other.batch.pk, worker=UserFactory.create(), size=4)
    assert [lease.item.is_gold for lease in page] == [False] * 4


def test_lease_answer_page_stores_every_answer_and_splits_the_time():
    batch = published_batch(items=4, min_answers=1, max_answers=1)
    worker = UserFactory.create()
    with time_machine.travel(timezone.now(), tick=False) as clock:
        page = lease_claim_page(batch_id=batch.pk, worker=worker, size=3)
        clock.shift(timedelta(seconds=60))
        stored = lease_answer_page(
            worker=worker, answers=[(lease.pk, POS) for lease in page], seconds=30
        )
    assert [a.lease_id for a in stored] == sorted(lease.pk for lease in page)
    assert [a.working_seconds for a in Answer.objects.order_by("pk")] == [10, 10, 10]
    assert set(Lease.objects.values_list("status", flat=True)) == {Lease.Status.SUBMITTED}
    assert set(Item.objects.filter(answers_count=1).values_list("status", flat=True)) == {
        Item.Status.COMPLETE
    }
    assert batch_answers_received(batch_id=batch.pk) == 3
    # The page answered, the next claim hands out a new page.
    assert len(lease_claim_page(batch_id=batch.pk, worker=worker, size=3)) == 1


def test_lease_answer_page_with_one_bad_answer_saves_nothing():
    batch = published_batch(items=3)
    worker = UserFactory.create()
    page = lease_claim_page(batch_id=batch.pk, worker=worker, size=3)
    answers = [(page[0].pk, POS), (page[1].pk, {"sentiment": "angry"}), (page[2].pk, POS)]
    with pytest.raises(ValidationFailed) as exc:
        lease_answer_page(worker=worker, answers=answers)
    assert list(exc.value.fields) == [f"{page[1].pk}.sentiment"]
    assert not Answer.objects.exists()
    assert set(Lease.objects.values_list("status", flat=True)) == {Lease.Status.ACTIVE}
    assert set(Item.objects.values_list("answers_count", flat=True)) == {0}
    assert batch_answers_received(batch_id=batch.pk) == 0


def test_lease_answer_page_with_one_lease_gone_saves_nothing():
    batch = published_batch(items=3)
    worker = UserFactory.create()
    page = lease_claim_page(batch_id=batch.pk, worker=worker, size=3)
    lease_answer(lease_id=page[2].pk, worker=worker, answer=POS)
    with pytest.raises(Conflict) as exc:
        lease_answer_page(worker=worker, answers=[(lease.pk, POS) for lease in page])
    assert exc.value.code == "lease_used"
    assert list(exc.value.fields) == [str(page[2].pk)]
    assert Answer.objects.count() == 1
    assert Lease.objects.filter(status=Lease.Status.ACTIVE).count() == 2


def test_lease_answer_page_refuses_another_workers_lease():
    batch = published_batch(items=4)
    owner_of_page, other = UserFactory.create(), UserFactory.create()
    page = lease_claim_page(batch_id=batch.pk, worker=owner_of_page, size=2)
    mine = claim(batch, other)
    with pytest.raises(NotFound):
        lease_answer_page(worker=other, answers=[(mine.pk, POS), (page[0].pk, POS)])
    with pytest.raises(ValidationFailed):
        lease_answer_page(worker=other, answers=[(mine.pk, POS), (mine.pk, POS)])
    assert not Answer.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_claim_and_answer_page_take_a_fixed_number_of_statements(django_assert_num_queries):
    # A page of k costs the batch read, then on PostgreSQL the claim function (the
    # skip-locked pick of k items and the guarded insert of k leases; one statement),
    # elsewhere the claim's transaction per item; its answers one transaction: BEGIN, the
    # leases with their batch and items (locked), the answers stored, the items saved, the
    # count, COMMIT.
    batch = published_batch(items=20, min_answers=3, max_answers=3, gold_rate=0)
    worker = UserFactory.create()
    with django_assert_num_queries(2 if connection.vendor == "postgresql" else 1 + 4 * 5):
        page = lease_claim_page(batch_id=batch.pk, worker=worker, size=5)
    with django_assert_num_queries(2):  # the batch, the live page again
        assert lease_claim_page(batch_id=batch.pk, worker=worker, size=5) == page
    # PostgreSQL: the page's answers stored by one statement, its items saved and the
    # answers counted by one more; elsewhere three statements per answer and one per item
    # saved, and two to count.
    stored, count = (1, 1) if connection.vendor == "postgresql" else (4 * 5, 2)
    with django_assert_num_queries(2 + stored + count + 1):
        lease_answer_page(worker=worker, answers=[(lease.pk, POS) for lease in page])
