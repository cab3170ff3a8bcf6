"""Task pages (``Batch.page_size`` > 1): the client's setting on the batch form, the task
builder and the API; the worker's work page with a page of items and one submit; the API's
page claim and page answer. All or nothing: one bad answer stores none of the page."""

import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from trefpunt.accounts.tests.factories import UserFactory
from trefpunt.core.exceptions import NotFound
from trefpunt.microtasks import limits
from trefpunt.microtasks.forms import PAGE_SIZE_ERROR
from trefpunt.microtasks.models import Answer, Batch, Lease
from trefpunt.microtasks.services import lease_claim_page
from trefpunt.microtasks.services.builder import batch_page_size_set
from trefpunt.microtasks.tests.crowd import crowd_batch
from trefpunt.microtasks.tests.factories import BatchFactory, published_batch
from trefpunt.microtasks.tests.test_api import api, batch_payload

pytestmark = pytest.mark.django_db
POS = {"sentiment": "pos"}


def logged_in(user):
    client = Client()
    client.force_login(user)
    return client


def url(name, *args):
    return reverse(f"microtasks:{name}", args=args)


def paged_batch(items=7, page_size=5, **kwargs):
    kwargs.setdefault("min_answers", 1)
    kwargs.setdefault("max_answers", 1)
    return published_batch(items=items, page_size=page_size, **kwargs)


def page_post(leases, answers):
    """The page form as a browser sends it: the lease ids and each item's prefixed fields."""
    data = {"lease": [lease.pk for lease in leases]}
    for lease, answer in zip(leases, answers, strict=True):
        if answer is not None:
            data[f"l{lease.pk}-sentiment"] = answer
    return data


def chosen(html, lease, value):
    return re.search(rf'name="l{lease.pk}-sentiment" value="{value}"[^>]* checked', html)


def live_leases(worker):
    return list(Lease.objects.filter(worker=worker, status=Lease.Status.ACTIVE).order_by("pk"))


# --- the client's setting ------------------------------------------------------------------


def form_data(client, **changes):
    initial = client.get(url("batch_create")).context["form"].initial
    data = {
        "title": "Sentiment",
        "display": initial["display"],
        "form": initial["form"],
        "reward": "0,12",
        "estimated_seconds": 20,
        "min_answers": 2,
        "max_answers": 2,
        "lease_minutes": 10,
        "strategy": "depth",
        "aggregation_method": "ds",
    }
    data.update(changes)
    return data


@pytest.mark.parametrize("bad", ["0", "51", "-3", "two"])
def test_batch_form_refuses_a_page_size_outside_1_to_50(user, bad):
    client = logged_in(user)
    response = client.post(url("batch_create"), form_data(client, page_size=bad))
    assert response.status_code == 422
    assert response.context["form"].errors["page_size"] == [str(PAGE_SIZE_ERROR)]
    assert not Batch.objects.exists()


def test_page_size_error_is_translated():
    english = str(PAGE_SIZE_ERROR)
    with translation.override("nl"):
        dutch = str(PAGE_SIZE_ERROR)
    assert "50" in english and "50" in dutch
    assert dutch != english


def test_batch_form_sets_and_shows_the_page_size(user):
    client = logged_in(user)
    page = client.get(url("batch_create")).content.decode()
    assert "Items per page" in page
    assert 'name="page_size"' in page and 'max="50"' in page
    response = client.post(url("batch_create"), form_data(client, page_size="5"))
    batch = Batch.objects.get()
    assert response.url == url("manage", batch.pk)
    assert batch.page_size == 5
    edit = client.get(url("batch_edit", batch.pk))
    assert edit.context["form"].initial["page_size"] == 5
    client.post(url("batch_edit", batch.pk), form_data(client, page_size=""))
    batch.refresh_from_db()
    assert batch.page_size == limits.DEFAULT_PAGE_SIZE


def test_builder_sets_the_page_size_of_a_draft_only(user):
    batch = BatchFactory.create(user=user, items=3)
    client = logged_in(user)
    assert 'name="page_size"' in client.get(url("builder", batch.pk)).content.decode()
    client.post(url("builder", batch.pk), {"action": "page_size", "page_size": "10"})
    batch.refresh_from_db()
    assert batch.page_size == 10
    response = client.post(
        url("builder", batch.pk), {"action": "page_size", "page_size": "51"}, follow=True
    )
    assert "from 1 to 50" in response.content.decode()
    batch.refresh_from_db()
    assert batch.page_size == 10
    other = UserFactory.create()
    with pytest.raises(NotFound):
        batch_page_size_set(batch_id=batch.pk, user=other, page_size=3)


def test_batch_api_takes_and_shows_the_page_size(user):
    client = api(user)
    response = client.post(
        "/api/v1/batches", batch_payload(page_size=51), content_type="application/json"
    )
    assert response.status_code == 422
    assert list(response.json()["error"]["fields"]) == ["page_size"]
    response = client.post(
        "/api/v1/batches", batch_payload(page_size=5), content_type="application/json"
    )
    assert response.status_code == 201
    assert response.json()["page_size"] == 5
    assert Batch.objects.get().page_size == 5


# --- the work page -------------------------------------------------------------------------


def test_work_page_shows_a_page_of_items_and_stores_it_with_one_submit(user):
    batch = paged_batch(items=7)
    client = logged_in(user)
    assert "Get a page of items" in client.get(url("work", batch.pk)).content.decode()
    assert not Lease.objects.exists()  # a GET never takes a lease
    response = client.post(url("work", batch.pk))
    assert response.url == url("work", batch.pk)
    leases = live_leases(user)
    assert len(leases) == 5
    page = client.get(url("work", batch.pk)).content.decode()
    assert page.count("data-mt-page-item") == 5
    for lease in leases:
        assert f'name="l{lease.pk}-sentiment"' in page
    response = client.post(url("page_answer", batch.pk), page_post(leases, ["pos"] * 5))
    assert response.url == url("work", batch.pk)
    assert Answer.objects.filter(worker=user).count() == 5
    # The next page: the two items left.
    page = client.get(url("work", batch.pk)).content.decode()
    assert "5 answers saved." in page
    assert page.count("data-mt-page-item") == 2


def test_work_page_with_one_answer_missing_stores_nothing_and_marks_the_item(user):
    batch = paged_batch(items=7)
    client = logged_in(user)
    client.post(url("work", batch.pk))
    leases = live_leases(user)
    answers = ["pos", "neg", None, "neu", "pos"]
    response = client.post(url("page_answer", batch.pk), page_post(leases, answers))
    assert response.status_code == 422
    assert not Answer.objects.exists()
    html = response.content.decode()
    assert html.count("has-error") == 1
    assert f'id="mt-item-{leases[2].pk}"' in html
    marked = html.index("has-error")
    assert html.index(f'id="mt-item-{leases[1].pk}"') < marked
    assert marked < html.index(f'id="mt-item-{leases[3].pk}"')
    # What the worker chose stays chosen.
    assert chosen(html, leases[1], "neg")
    answers[2] = "pos"
    response = client.post(url("page_answer", batch.pk), page_post(leases, answers))
    assert response.url == url("work", batch.pk)
    assert Answer.objects.filter(worker=user).count() == 5


def test_work_page_with_htmx_swaps_in_the_next_page(user):
    batch = paged_batch(items=7)
    client = logged_in(user)
    panel = client.post(url("work", batch.pk), HTTP_HX_REQUEST="true").content.decode()
    assert panel.lstrip().startswith('<article class="card mt-panel mt-panel-page"')
    assert "<html" not in panel
    leases = live_leases(user)
    panel = client.post(
        url("page_answer", batch.pk), page_post(leases, ["pos"] * 5), HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "5 answers saved." in panel
    assert panel.count("data-mt-page-item") == 2


def test_skipping_an_item_of_a_page_keeps_the_answers_typed_into_the_others(user):
    batch = paged_batch(items=7)
    client = logged_in(user)
    client.post(url("work", batch.pk))
    leases = live_leases(user)
    data = page_post(leases, ["neg", None, None, None, None])
    panel = client.post(url("lease_skip", leases[3].pk), data, HTTP_HX_REQUEST="true")
    html = panel.content.decode()
    assert "Skipped." in html
    assert f'id="mt-item-{leases[3].pk}"' not in html
    assert chosen(html, leases[0], "neg")
    assert Lease.objects.get(pk=leases[3].pk).status == Lease.Status.SKIPPED


def test_work_page_tells_the_expected_answer_of_each_test_question_on_the_page(user):
    crowd = crowd_batch(
        items=6,
        gold=3,
        gold_rate=1.0,
        page_size=3,
        min_answers=1,
        max_answers=1,
        gold_feedback=True,
    )
    batch = crowd.batch
    client = logged_in(user)
    client.post(url("work", batch.pk))
    leases = live_leases(user)
    assert [lease.item.is_gold for lease in leases] == [True, True, True]
    labels = [crowd.truth[lease.item.position] for lease in leases]
    labels[0] = next(x for x in ("pos", "neg", "neu") if x != labels[0])
    panel = client.post(
        url("page_answer", batch.pk), page_post(leases, labels), HTTP_HX_REQUEST="true"
    ).content.decode()
    assert panel.count("data-mt-feedback") == 3
    assert panel.count("Right — that was a test question.") == 2
    assert f"Item {leases[0].item.position}:" in panel


def test_work_page_refuses_another_workers_lease(user):
    batch = paged_batch(items=7)
    other = UserFactory.create()
    theirs = lease_claim_page(batch_id=batch.pk, worker=other, size=5)
    client = logged_in(user)
    client.post(url("work", batch.pk))
    mine = live_leases(user)
    response = client.post(
        url("page_answer", batch.pk), page_post([*mine[:1], theirs[0]], ["pos", "pos"])
    )
    assert response.status_code == 404
    assert client.post(url("page_answer", batch.pk), {"lease": ["x"]}).status_code == 404
    assert not Answer.objects.exists()


def test_work_page_of_one_item_per_page_is_the_single_item_page(user):
    batch = paged_batch(items=3, page_size=1)
    client = logged_in(user)
    page = client.get(url("work", batch.pk)).content.decode()
    assert "Get an item" in page and "data-mt-page" not in page


def test_work_page_query_count_does_not_grow_with_the_page(user, django_assert_max_num_queries):
    small = paged_batch(items=2, page_size=2)
    large = paged_batch(items=20, page_size=20)
    client = logged_in(user)
    client.post(url("work", small.pk))
    client.post(url("work", large.pk))
    with django_assert_max_num_queries(8) as small_queries:
        client.get(url("work", small.pk))
    with django_assert_max_num_queries(len(small_queries)):
        assert client.get(url("work", large.pk)).content.decode().count("data-mt-page-item") == 20


# --- the API -------------------------------------------------------------------------------


def test_api_page_claims_the_batch_page_size_and_answers_it_all_or_nothing(user):
    batch = paged_batch(items=7)
    client = api(user)
    response = client.post(f"/api/v1/batches/{batch.pk}/page")
    assert response.status_code == 200
    body = response.json()
    assert body["page_size"] == 5
    leases = [row["id"] for row in body["leases"]]
    assert len(leases) == 5
    assert all(row["item"]["html"] for row in body["leases"])
    # Asking again gives the page the worker holds.
    again = client.post(f"/api/v1/batches/{batch.pk}/page").json()
    assert [row["id"] for row in again["leases"]] == leases
    payload = {"answers": [{"lease": pk, "answer": POS} for pk in leases]}
    payload["answers"][4]["answer"] = {}
    response = client.post("/api/v1/leases/answers", payload, content_type="application/json")
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid"
    assert not Answer.objects.exists()
    payload["answers"][4]["answer"] = POS
    response = client.post("/api/v1/leases/answers", payload, content_type="application/json")
    assert response.status_code == 201, response.content
    answers = response.json()["answers"]
    assert [row["lease_id"] for row in answers] == leases
    assert Answer.objects.filter(worker=user).count() == 5
    rest = client.post(f"/api/v1/batches/{batch.pk}/page").json()["leases"]
    assert len(rest) == 2
    payload = {"answers": [{"lease": row["id"], "answer": POS} for row in rest]}
    assert client.post("/api/v1/leases/answers", payload, content_type="application/json")
    done = client.post(f"/api/v1/batches/{batch.pk}/page")
    assert (done.status_code, done.json()["leases"]) == (200, [])


def test_api_page_answer_with_another_workers_lease_is_not_found(user):
    batch = paged_batch(items=7)
    other = UserFactory.create()
    theirs = lease_claim_page(batch_id=batch.pk, worker=other, size=5)
    client = api(user)
    mine = client.post(f"/api/v1/batches/{batch.pk}/page").json()["leases"]
    payload = {
        "answers": [
            {"lease": mine[0]["id"], "answer": POS},
            {"lease": theirs[0].pk, "answer": POS},
        ]
    }
    response = client.post("/api/v1/leases/answers", payload, content_type="application/json")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert not Answer.objects.exists()


def test_api_page_of_an_unknown_batch_is_not_found(user):
    assert api(user).post("/api/v1/batches/999999/page").status_code == 404


def test_api_page_answers_body_is_bounded(user):
    payload = {"answers": [{"lease": n, "answer": POS} for n in range(1, limits.PAGE_SIZE_MAX + 2)]}
    response = api(user).post("/api/v1/leases/answers", payload, content_type="application/json")
    assert response.status_code == 422
    response = api(user).post(
        "/api/v1/leases/answers", {"answers": []}, content_type="application/json"
    )
    assert response.status_code == 422
