"""The microtask pages: flows without JavaScript, htmx fragments, permissions, query counts."""

import csv
import io
import re

import pytest
from django.core.cache import cache
from django.template.loader import render_to_string
from django.test import Client
from django.urls import reverse

from trefpunt.accounts.tests.factories import UserFactory
from trefpunt.ledger.models import Deposit
from trefpunt.microtasks.models import Answer, Batch, Item, Lease
from trefpunt.microtasks.services import answer_reject, lease_answer
from trefpunt.microtasks.tests.factories import BatchFactory, claim, items_csv, published_batch

pytestmark = pytest.mark.django_db
POS = {"sentiment": "pos"}


def logged_in(user):
    client = Client()
    client.force_login(user)
    return client


def url(name, *args):
    return reverse(f"microtasks:{name}", args=args)


def answer_some(batch, n):
    for _ in range(n):
        worker = UserFactory.create()
        lease_answer(lease_id=claim(batch, worker).pk, worker=worker, answer=POS)


def test_batch_create_view_puts_service_errors_next_to_fields(user):
    client = logged_in(user)
    page = client.get(url("batch_create"))
    assert page.status_code == 200
    data = {
        "title": "Sentiment",
        "instructions": "",
        "display": page.context["form"].initial["display"],
        "form": page.context["form"].initial["form"],
        "reward": "0",
        "estimated_seconds": 20,
        "min_answers": 2,
        "max_answers": 2,
        "lease_minutes": 10,
        "strategy": "depth",
        "aggregation_method": "ds",
    }
    response = client.post(url("batch_create"), data)
    assert response.status_code == 422
    assert response.context["form"].errors["reward"]
    assert not Batch.objects.exists()
    # The long form opens with a summary linking to the field to correct.
    html = response.content.decode()
    assert "Correct the field marked below:" in html
    assert '<li><a href="#id_reward">Reward per answer (€)</a></li>' in html
    response = client.post(url("batch_create"), {**data, "reward": "0,12", "form": "[{"})
    assert "Not valid JSON" in response.context["form"].errors["form"][0]
    response = client.post(url("batch_create"), {**data, "reward": "0,12"})
    batch = Batch.objects.get()
    assert response.url == url("manage", batch.pk)
    assert (batch.reward, batch.lease_seconds, batch.min_answers) == (12, 600, 2)


def test_items_upload_view_lists_bad_lines_and_imports_nothing(user):
    batch = BatchFactory.create(user=user)
    client = logged_in(user)
    bad = io.BytesIO(b'text\nok\n\nstill ok\n"unclosed\n')
    bad.name = "items.csv"
    response = client.post(url("items_upload", batch.pk), {"file": bad})
    assert response.status_code == 422
    page = response.content.decode()
    assert "nothing was imported" in page
    assert "line 5: unexpected end of data" in page
    assert not Item.objects.exists()
    good = io.BytesIO(items_csv(3))
    good.name = "items.csv"
    response = client.post(url("items_upload", batch.pk), {"file": good})
    assert response.status_code == 302
    assert Item.objects.filter(batch=batch).count() == 3
    page = client.get(url("manage", batch.pk))
    assert "Review number 1, quite good" in page.content.decode()


def test_publish_view_deposits_exactly_the_shortfall(user, settings):
    settings.MIN_DEPOSIT_CENTS = 100
    batch = BatchFactory.create(user=user, items=10)  # 10 × 3 × 12 = 360
    client = logged_in(user)
    page = client.get(url("publish", batch.pk))
    assert page.context["funding"].shortfall == 360
    response = client.post(url("publish", batch.pk), {"action": "deposit"})
    deposit = Deposit.objects.get()
    assert deposit.amount == 360
    assert deposit.return_path == url("publish", batch.pk)
    assert response.url == deposit.checkout_url
    response = client.post(url("publish", batch.pk), {"action": "publish"})
    assert response.url == url("publish", batch.pk)
    batch.refresh_from_db()
    assert batch.status == Batch.Status.DRAFT


def test_work_flow_without_javascript(user):
    batch = published_batch(items=2, min_answers=1, max_answers=1)
    client = logged_in(user)
    assert "Get an item" in client.get(url("work", batch.pk)).content.decode()
    assert not Lease.objects.exists()  # a GET never takes a lease
    response = client.post(url("work", batch.pk))
    assert response.url == url("work", batch.pk)
    lease = Lease.objects.get(worker=user)
    page = client.get(url("work", batch.pk)).content.decode()
    assert 'data-item="1"' in page
    response = client.post(url("lease_answer", lease.pk), {"sentiment": "angry"})
    assert response.status_code == 422
    assert "is not one of the choices" in response.content.decode()
    assert not Answer.objects.exists()
    response = client.post(url("lease_answer", lease.pk), {"sentiment": "neg"})
    assert response.url == url("work", batch.pk)
    assert Answer.objects.get().data == {"sentiment": "neg"}
    assert 'data-item="2"' in client.get(url("work", batch.pk)).content.decode()


def test_work_flow_with_htmx_swaps_in_the_next_item(user):
    batch = published_batch(items=2, min_answers=1, max_answers=1)
    client = logged_in(user)
    panel = client.post(url("work", batch.pk), HTTP_HX_REQUEST="true").content.decode()
    assert panel.lstrip().startswith('<article class="card mt-panel" id="mt-panel">')
    assert "<html" not in panel
    first = Lease.objects.get(worker=user)
    panel = client.post(
        url("lease_answer", first.pk), {"sentiment": "pos"}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "Answer saved." in panel
    assert 'data-item="2"' in panel
    second = Lease.objects.get(worker=user, status=Lease.Status.ACTIVE)
    panel = client.post(url("lease_skip", second.pk), HTTP_HX_REQUEST="true").content.decode()
    assert "All done here" in panel


def test_work_view_refuses_another_workers_lease(user):
    batch = published_batch(items=2)
    other = UserFactory.create()
    lease = claim(batch, other)
    client = logged_in(user)
    assert client.post(url("lease_answer", lease.pk), {"sentiment": "pos"}).status_code == 404
    assert client.post(url("lease_skip", lease.pk)).status_code == 404


def test_client_pages_of_another_clients_batch_are_not_found(user):
    batch = published_batch(items=2)
    client = logged_in(user)
    for name in ("manage", "review", "items", "workers", "publish", "batch_edit"):
        assert client.get(url(name, batch.pk)).status_code == 404, name
    assert client.get(url("export", batch.pk, "csv")).status_code == 404
    for name in ("pause", "close", "reward", "review_bulk", "items_upload"):
        assert client.post(url(name, batch.pk)).status_code == 404, name
    answer_some(batch, 1)
    answer = Answer.objects.get()
    assert client.post(url("answer_review", answer.pk), {"decision": "approve"}).status_code == 404
    assert client.post(url("answer_appeal", answer.pk), {"message": "hi there"}).status_code == 404


def test_review_row_with_htmx_approves_and_rejects(user):
    batch = published_batch(owner=user, items=3, min_answers=1, max_answers=1)
    answer_some(batch, 2)
    first, second = Answer.objects.order_by("pk")
    client = logged_in(user)
    row = client.post(
        url("answer_review", first.pk), {"decision": "approve"}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert row.lstrip().startswith(f'<tr id="answer-{first.pk}">')
    assert "Approved" in row
    row = client.post(
        url("answer_review", second.pk),
        {"decision": "reject", "reason": ""},
        HTTP_HX_REQUEST="true",
    ).content.decode()
    assert "Say why the answer is rejected." in row
    second.refresh_from_db()
    assert second.status == Answer.Status.PENDING
    client.post(url("answer_review", second.pk), {"decision": "reject", "reason": "Off topic"})
    second.refresh_from_db()
    assert (second.status, second.reject_reason) == (Answer.Status.REJECTED, "Off topic")


def test_appeal_and_overturn_through_the_pages(user):
    batch = published_batch(owner=user, items=1, min_answers=1, max_answers=1)
    worker = UserFactory.create()
    answer = lease_answer(lease_id=claim(batch, worker).pk, worker=worker, answer=POS)
    answer_reject(answer_id=answer.pk, user=user, reason="Wrong")
    worker_client = logged_in(worker)
    assert "Appeal" in worker_client.get(url("answer_history")).content.decode()
    worker_client.post(url("answer_appeal", answer.pk), {"message": "It is positive"})
    answer.refresh_from_db()
    assert answer.status == Answer.Status.APPEALED
    page = logged_in(user).get(url("review", batch.pk)).content.decode()
    assert "It is positive" in page
    logged_in(user).post(url("appeal_decide", answer.pk), {"decision": "overturn"})
    answer.refresh_from_db()
    assert (answer.status, answer.paid_reward) == (Answer.Status.OVERTURNED, 10)


def test_batch_page_and_list_count_an_appeal_as_waiting_for_review(user):
    """An appeal waits for the client like a pending answer: the batch page's number (and
    its link to the review page) and the batch list agree, also when only an appeal is
    left, and the close button's text counts it among the answers the escrow keeps; the
    workers page names it beside the appellant's other answers (under its legend)."""
    batch = published_batch(owner=user, items=2, min_answers=1, max_answers=1)
    first, second = UserFactory.create(), UserFactory.create()
    appealed = lease_answer(lease_id=claim(batch, first).pk, worker=first, answer=POS)
    answer_reject(answer_id=appealed.pk, user=user, reason="Wrong")
    logged_in(first).post(url("answer_appeal", appealed.pk), {"message": "It is positive"})
    client = logged_in(user)
    review = url("review", batch.pk)

    def shown() -> tuple[str, str]:
        page = client.get(url("manage", batch.pk)).content.decode()
        card = re.search(r'To review</span><span class="value">(.*?)</span>', page)
        listed = re.search(
            rf'<a href="{review}">(\d+)</a>', client.get(url("manage_list")).content.decode()
        )
        assert card is not None
        return card.group(1), listed.group(1) if listed else "0"

    assert shown() == (f'<a href="{review}">1</a>', "1")  # only the appeal
    # The workers page accounts for every answer of the appellant.
    workers = client.get(url("workers", batch.pk)).content.decode()
    assert "0 approved · 0 rejected · 0 pending · 1 appeal<" in workers
    # The columns' legend is shown beside the table it explains.
    assert "Test questions: share right" in workers
    lease_answer(lease_id=claim(batch, second).pk, worker=second, answer=POS)
    assert shown() == (f'<a href="{review}">2</a>', "2")
    page = client.get(url("manage", batch.pk)).content.decode()
    assert "for the 2 answers waiting for review" in page


def test_export_view_has_one_row_per_answer(user):
    batch = published_batch(owner=user, items=2, min_answers=2, max_answers=2)
    answer_some(batch, 3)
    response = logged_in(user).get(url("export", batch.pk, "csv"))
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert len(rows) == 3
    assert {r["answer.sentiment"] for r in rows} == {"pos"}
    assert all(r["worker"].startswith("w-") for r in rows)


@pytest.mark.parametrize(
    ("name", "queries"),
    [("review", 10), ("items", 8), ("workers", 7), ("manage", 13), ("results", 12)],
)
def test_client_pages_query_count_does_not_grow(user, name, queries, django_assert_max_num_queries):
    batch = published_batch(owner=user, items=12, min_answers=1, max_answers=1)
    client = logged_in(user)
    answer_some(batch, 2)
    with django_assert_max_num_queries(queries):
        assert client.get(url(name, batch.pk)).status_code == 200
    answer_some(batch, 8)
    with django_assert_max_num_queries(queries):
        assert client.get(url(name, batch.pk)).status_code == 200


def test_worker_pages_query_count_does_not_grow(user, django_assert_max_num_queries):
    client = logged_in(user)
    batch = published_batch(items=12, min_answers=1, max_answers=1)
    lease_answer(lease_id=claim(batch, user).pk, worker=user, answer=POS)
    # The worker's record includes the qualification tests they passed: one query each.
    with django_assert_max_num_queries(8):
        client.get(url("batch_list"))
    with django_assert_max_num_queries(11):
        client.get(url("answer_history"))
    for _ in range(4):
        published_batch(items=2)
    for _ in range(5):
        lease_answer(lease_id=claim(batch, user).pk, worker=user, answer=POS)
    with django_assert_max_num_queries(8):
        assert "Sentiment of reviews" in client.get(url("batch_list")).content.decode()
    with django_assert_max_num_queries(11):
        client.get(url("answer_history"))


@pytest.mark.parametrize(
    ("cap", "before", "after"),
    [
        (None, "4 items left", "3 items left"),
        (10, "4 items left", "3 items left"),  # 9 left under the cap: the items limit
        (4, "4 items left", "3 items left"),
        (3, "4 items left 3 answers left for you", "3 items left 2 answers left for you"),
        (2, "4 items left 2 answers left for you", "3 items left 1 answer left for you"),
    ],
)
def test_batch_card_names_the_cap_per_worker_only_where_it_limits(user, cap, before, after):
    """One answer per item: 'N answers left for you' shows only while the batch's cap per
    worker leaves fewer answers than there are items left."""
    batch = published_batch(items=4, min_answers=1, max_answers=1, max_answers_per_worker=cap)
    client = logged_in(user)

    def card() -> str:
        page = client.get(url("batch_list")).content.decode()
        return " ".join(re.findall(r"<li>([^<]* left[^<]*)</li>", page))

    assert card() == before
    lease_answer(lease_id=claim(batch, user).pk, worker=user, answer=POS)
    cache.clear()  # the items left may lag the listing cache's seconds, by design
    assert card() == after


def test_manage_list_query_count_does_not_grow(user, django_assert_max_num_queries):
    client = logged_in(user)
    published_batch(owner=user, items=2)
    with django_assert_max_num_queries(6):
        client.get(url("manage_list"))
    for _ in range(4):
        published_batch(owner=user, items=2)
    with django_assert_max_num_queries(6):
        assert client.get(url("manage_list")).content.decode().count("Sentiment of reviews") == 5


def test_review_view_filters_one_workers_answers(user):
    batch = published_batch(owner=user, items=4, min_answers=2, max_answers=2)
    first, second = UserFactory.create(), UserFactory.create()
    for worker in (first, first, second):
        lease_answer(lease_id=claim(batch, worker).pk, worker=worker, answer=POS)
    from trefpunt.microtasks.selectors import worker_pseudonym

    pseudonym = worker_pseudonym(batch_id=batch.pk, user_id=first.pk)
    page = logged_in(user).get(url("review", batch.pk), {"worker": pseudonym})
    assert [row["worker"] for row in page.context["rows"]] == [pseudonym, pseudonym]


def test_an_answer_shows_each_label_with_one_colon_and_escaped():
    """'Same product?: Same product' read badly: a label that ends in a question mark (or
    a colon) gets no colon of its own. Labels are the client's text: escaped."""
    html = render_to_string(
        "microtasks/_answer.html",
        {"display": [("Same product?", "Same product"), ("Shop", "HEMA"), ("<b>Total</b>", "")]},
    )
    labels = re.findall(r'<span class="muted">(.*?)</span> <strong>(.*?)</strong>', html)
    assert labels == [
        ("Same product?", "Same product"),
        ("Shop:", "HEMA"),
        ("&lt;b&gt;Total&lt;/b&gt;:", "—"),
    ]
