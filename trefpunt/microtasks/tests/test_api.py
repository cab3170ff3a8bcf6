"""The microtasks API: a worker's program works through a batch with next → answer alone;
clients create, upload, publish, review and export; errors have the one error shape."""

import csv
import io
import json
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from trefpunt.accounts.services import api_token_create
from trefpunt.accounts.tests.factories import UserFactory
from trefpunt.ledger.models import EntryKind, JournalEntry
from trefpunt.ledger.services import wallet_for_user
from trefpunt.ledger.tests.factories import fund_wallet
from trefpunt.microtasks.models import Answer, Batch, Item
from trefpunt.microtasks.tests.factories import (
    SENTIMENT_FORM,
    TEXT_DISPLAY,
    claim,
    items_csv,
    published_batch,
)
from trefpunt.microtasks.tests.money import assert_escrow_adds_up

pytestmark = pytest.mark.django_db
# Token check, which batches, their rows (kept in the cache after the first request), the
# worker's answers and exclusions; the worker's record only for a batch with requirements
# (none here); the same for 1 or 100 rows.
LIST_QUERIES = 6
ANSWERS_QUERIES = 5


def api(user):
    _token, raw = api_token_create(user=user, name="script")
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")


def batch_payload(**changes):
    payload = {
        "title": "Product matching",
        "instructions": "Are these the **same** product?",
        "form": SENTIMENT_FORM,
        "display": TEXT_DISPLAY,
        "reward": 10,
        "estimated_seconds": 20,
        "min_answers": 2,
        "max_answers": 2,
    }
    payload.update(changes)
    return payload


def test_batch_create_api_reward_of_zero_names_the_field(user):
    response = api(user).post(
        "/api/v1/batches", batch_payload(reward=0), content_type="application/json"
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert list(error["fields"]) == ["reward"]
    assert not Batch.objects.exists()


def test_client_program_creates_uploads_publishes_and_exports(user):
    client = api(user)
    fund_wallet(wallet_for_user(user=user), user, 1000)
    response = client.post("/api/v1/batches", batch_payload(), content_type="application/json")
    assert response.status_code == 201, response.content
    batch_id = response.json()["id"]
    broken = io.BytesIO(b"text\nfine\n\xff\n")
    broken.name = "items.csv"
    response = client.post(f"/api/v1/batches/{batch_id}/items", {"file": broken})
    assert response.status_code == 422
    assert response.json()["error"]["fields"]["file"][0].startswith("line 3:")
    assert not Item.objects.exists()
    upload = io.BytesIO(items_csv(4))
    upload.name = "items.csv"
    response = client.post(f"/api/v1/batches/{batch_id}/items", {"file": upload})
    assert (response.status_code, response.json()) == (201, {"added": 4, "items": 4})
    key = {"HTTP_IDEMPOTENCY_KEY": "publish-1"}
    first = client.post(f"/api/v1/batches/{batch_id}/publish", **key)
    again = client.post(f"/api/v1/batches/{batch_id}/publish", **key)
    assert first.status_code == again.status_code == 200
    assert again["Idempotent-Replayed"] == "true"
    assert first.json()["status"] == "open"
    assert JournalEntry.objects.filter(kind=EntryKind.ESCROW_FUND).count() == 1
    progress = client.get(f"/api/v1/batches/{batch_id}/progress").json()
    assert progress["money"]["funded"] == 4 * 2 * 12
    assert progress["items"] == 4
    export = client.get(f"/api/v1/batches/{batch_id}/export?format=csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(export.streaming_content).decode())))
    assert [r["item.text"] for r in rows][:1] == ["Review number 1, quite good"]
    assert {r["aggregated_answer"] for r in rows} == {""}


def test_worker_program_works_through_a_batch_with_next_and_answer():
    owner = UserFactory.create()
    batch = published_batch(owner=owner, items=5, min_answers=1, max_answers=1)
    worker = UserFactory.create()
    client = api(worker)
    answered = 0
    while True:
        response = client.post(f"/api/v1/batches/{batch.pk}/next")
        if response.status_code == 204:
            break
        assert response.status_code == 200, response.content
        lease = response.json()
        assert "Review number" in lease["item"]["html"]
        assert lease["form"][0]["name"] == "sentiment"
        response = client.post(
            f"/api/v1/leases/{lease['id']}/answer",
            {"answer": {"sentiment": "pos"}, "seconds": 5},
            content_type="application/json",
        )
        assert response.status_code == 201, response.content
        answered += 1
        assert answered <= 5
    assert answered == 5
    assert Answer.objects.filter(worker=worker).count() == 5
    history = client.get("/api/v1/answers").json()
    assert history["count"] == 5
    assert {a["status"] for a in history["items"]} == {"pending"}


def test_lease_answer_api_refuses_unfit_foreign_and_expired_leases():
    batch = published_batch(items=2, min_answers=1, max_answers=1)
    worker, other = UserFactory.create(), UserFactory.create()
    with time_machine.travel(timezone.now(), tick=False) as clock:
        lease = claim(batch, worker)
        url = f"/api/v1/leases/{lease.pk}/answer"
        bad = api(worker).post(
            url, {"answer": {"sentiment": "angry"}}, content_type="application/json"
        )
        assert bad.status_code == 422
        assert "sentiment" in bad.json()["error"]["fields"]
        foreign = api(other).post(
            url, {"answer": {"sentiment": "pos"}}, content_type="application/json"
        )
        assert foreign.status_code == 404
        clock.shift(timedelta(minutes=11))
        late = api(worker).post(
            url, {"answer": {"sentiment": "pos"}}, content_type="application/json"
        )
    assert late.status_code == 409
    assert late.json()["error"]["code"] == "lease_expired"
    assert not Answer.objects.exists()


def test_a_lease_number_beyond_any_id_is_not_found():
    """The answer's statements take the lease ids as ``bigint``: a larger number in the
    address is no lease, not a server error; in a page's body the schema names it."""
    batch = published_batch(items=1, min_answers=1, max_answers=1)
    worker = UserFactory.create()
    claim(batch, worker)
    huge = 2**64
    single = api(worker).post(
        f"/api/v1/leases/{huge}/answer",
        {"answer": {"sentiment": "pos"}},
        content_type="application/json",
    )
    page = api(worker).post(
        "/api/v1/leases/answers",
        {"answers": [{"lease": huge, "answer": {"sentiment": "pos"}}]},
        content_type="application/json",
    )
    assert single.status_code == 404
    assert page.status_code == 422
    assert "answers.0.lease" in page.json()["error"]["fields"]
    assert not Answer.objects.exists()


def test_text_in_a_number_field_is_refused_naming_the_field():
    owner = UserFactory.create()
    batch = published_batch(
        owner=owner,
        items=1,
        form=[{"name": "total", "label": "Total", "type": "number", "min": 0}],
    )
    worker = UserFactory.create()
    lease = claim(batch, worker)
    response = api(worker).post(
        f"/api/v1/leases/{lease.pk}/answer",
        {"answer": {"total": "twelve euro"}},
        content_type="application/json",
    )
    assert response.status_code == 422
    assert response.json()["error"]["fields"] == {"total": ["Enter a number, not “twelve euro”."]}


def test_review_api_approve_twice_pays_once_and_appeal_flow():
    owner = UserFactory.create()
    batch = published_batch(owner=owner, items=2, min_answers=1, max_answers=1)
    worker = UserFactory.create()
    answers = []
    for _ in range(2):
        lease = claim(batch, worker)
        response = api(worker).post(
            f"/api/v1/leases/{lease.pk}/answer",
            {"answer": {"sentiment": "pos"}},
            content_type="application/json",
        )
        answers.append(response.json()["id"])
    client = api(owner)
    for _ in range(2):
        assert client.post(f"/api/v1/answers/{answers[0]}/approve").json()["paid_reward"] == 10
    assert wallet_for_user(user=worker).balance == 10
    rejected = client.post(
        f"/api/v1/answers/{answers[1]}/reject", {"reason": ""}, content_type="application/json"
    )
    assert rejected.status_code == 422
    rejected = client.post(
        f"/api/v1/answers/{answers[1]}/reject",
        {"reason": "Not what the review says"},
        content_type="application/json",
    )
    assert rejected.json()["status"] == "rejected"
    appeal = api(worker).post(
        f"/api/v1/answers/{answers[1]}/appeal",
        {"message": "Read the last sentence"},
        content_type="application/json",
    )
    assert appeal.json()["status"] == "appealed"
    for _ in range(2):
        overturned = client.post(
            f"/api/v1/answers/{answers[1]}/overturn", {}, content_type="application/json"
        )
        assert overturned.json()["status"] == "overturned"
    assert wallet_for_user(user=worker).balance == 20
    assert_escrow_adds_up(batch)


def test_batch_api_other_clients_batch_is_not_found(user):
    batch = published_batch(items=1)
    client = api(user)
    for method, url in [
        ("get", f"/api/v1/batches/{batch.pk}/progress"),
        ("get", f"/api/v1/batches/{batch.pk}/export"),
        ("get", f"/api/v1/batches/{batch.pk}/answers"),
        ("post", f"/api/v1/batches/{batch.pk}/publish"),
        ("post", f"/api/v1/batches/{batch.pk}/close"),
        ("post", f"/api/v1/batches/{batch.pk}/pause"),
    ]:
        response = getattr(client, method)(url)
        assert response.status_code == 404, url
        assert response.json()["error"]["code"] == "not_found"


def test_next_api_on_paused_batch_and_for_the_owner():
    owner = UserFactory.create()
    batch = published_batch(owner=owner, items=1)
    assert api(owner).post(f"/api/v1/batches/{batch.pk}/next").status_code == 403
    api(owner).post(f"/api/v1/batches/{batch.pk}/pause")
    response = api(UserFactory.create()).post(f"/api/v1/batches/{batch.pk}/next")
    assert (response.status_code, response.json()["error"]["code"]) == (409, "batch_not_open")


def test_bulk_review_api_rejects_one_workers_answers():
    owner = UserFactory.create()
    batch = published_batch(owner=owner, items=3, min_answers=2, max_answers=2)
    spammer = UserFactory.create()
    for _ in range(3):
        lease = claim(batch, spammer)
        api(spammer).post(
            f"/api/v1/leases/{lease.pk}/answer",
            {"answer": {"sentiment": "neg"}},
            content_type="application/json",
        )
    client = api(owner)
    page = client.get(f"/api/v1/batches/{batch.pk}/answers").json()
    pseudonym = page["items"][0]["worker"]
    response = client.post(
        f"/api/v1/batches/{batch.pk}/review",
        {"decision": "reject", "reason": "Always negative", "worker": pseudonym},
        content_type="application/json",
    )
    assert response.json() == {"changed": 3}
    assert set(Answer.objects.values_list("status", flat=True)) == {"rejected"}


def test_export_jsonl_has_one_line_per_item_with_pseudonymised_answers():
    owner = UserFactory.create()
    batch = published_batch(owner=owner, items=2, min_answers=1, max_answers=1)
    worker = UserFactory.create()
    lease = claim(batch, worker)
    api(worker).post(
        f"/api/v1/leases/{lease.pk}/answer",
        {"answer": {"sentiment": "pos"}},
        content_type="application/json",
    )
    response = api(owner).get(f"/api/v1/batches/{batch.pk}/export?format=jsonl")
    lines = [json.loads(x) for x in b"".join(response.streaming_content).decode().splitlines()]
    assert len(lines) == 2
    answer = lines[0]["answers"][0]
    assert answer["answer"] == {"sentiment": "pos"}
    assert answer["worker"].startswith("w-")
    assert str(worker.pk) not in answer["worker"]
    assert worker.email not in json.dumps(lines)
    # The answered item is combined as the answer arrives; the other has nothing yet.
    assert (lines[0]["aggregated_answer"], lines[0]["confidence"]) == ({"sentiment": "pos"}, 1.0)
    assert (lines[1]["aggregated_answer"], lines[1]["confidence"]) == (None, None)


def test_batch_list_api_query_count_does_not_grow(django_assert_max_num_queries):
    worker = UserFactory.create()
    client = api(worker)
    published_batch(items=2)
    with django_assert_max_num_queries(LIST_QUERIES):
        assert len(client.get("/api/v1/batches").json()) == 1
    for _ in range(4):
        published_batch(items=2)
    with django_assert_max_num_queries(LIST_QUERIES):
        assert len(client.get("/api/v1/batches").json()) == 5


def test_batch_answers_api_query_count_does_not_grow(django_assert_max_num_queries):
    owner = UserFactory.create()
    batch = published_batch(owner=owner, items=12, min_answers=1, max_answers=1)
    client = api(owner)

    def answer_one():
        worker = UserFactory.create()
        lease = claim(batch, worker)
        api(worker).post(
            f"/api/v1/leases/{lease.pk}/answer",
            {"answer": {"sentiment": "pos"}},
            content_type="application/json",
        )

    answer_one()
    with django_assert_max_num_queries(ANSWERS_QUERIES):
        assert client.get(f"/api/v1/batches/{batch.pk}/answers").json()["count"] == 1
    for _ in range(8):
        answer_one()
    with django_assert_max_num_queries(ANSWERS_QUERIES):
        assert client.get(f"/api/v1/batches/{batch.pk}/answers").json()["count"] == 9


def test_batch_list_api_for_a_client_lists_own_batches_with_drafts(user):
    published_batch(owner=user, items=1)
    client = api(user)
    client.post("/api/v1/batches", batch_payload(title="A draft"), content_type="application/json")
    published_batch(items=1)  # someone else's
    rows = client.get("/api/v1/batches?role=client").json()
    assert sorted(r["status"] for r in rows) == ["draft", "open"]
    assert all(r["manages"] for r in rows)
    assert client.get("/api/v1/batches").json() == [
        row for row in client.get("/api/v1/batches").json() if not row["batch"]["manages"]
    ]
