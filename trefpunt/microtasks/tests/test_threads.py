"""Conversations on a batch: a worker asks the people who run it; nobody else reads it, and
the client cannot open a thread with a worker who did not ask."""

from __future__ import annotations

import pytest

from trefpunt.accounts.models import Membership, Role
from trefpunt.accounts.services import api_token_create
from trefpunt.accounts.tests.factories import OrganisationFactory, UserFactory
from trefpunt.community.models import Notification
from trefpunt.community.services import message_post, thread_open
from trefpunt.core.exceptions import NotFound
from trefpunt.microtasks.models import Batch
from trefpunt.microtasks.tests.factories import BatchFactory, organisation_batch, published_batch

pytestmark = pytest.mark.django_db


def test_a_worker_asks_the_client_and_the_client_answers(
    client, django_capture_on_commit_callbacks
) -> None:
    batch = published_batch(items=3)
    worker = UserFactory.create()
    client.force_login(worker)

    page = client.get(batch.get_absolute_url())
    started = client.post(
        "/en/messages/start/", {"subject": "batch", "subject_id": batch.pk, "key": worker.pk}
    )
    with django_capture_on_commit_callbacks(execute=True):
        client.post(started["Location"], {"body": "Is sarcasm negative?"})
    client.force_login(batch.owner)
    asked = Notification.objects.filter(user=batch.owner).count()
    seen = client.get(started["Location"])
    client.post(started["Location"], {"body": "Yes, count sarcasm as negative."})
    client.force_login(worker)

    assert b"Ask the client a question" in page.content
    assert asked == 1
    assert b"sarcasm" in seen.content
    assert b"count sarcasm as negative" in client.get(started["Location"]).content


def test_an_organisations_admins_answer_for_its_batch() -> None:
    owner, admin, member = UserFactory.create(), UserFactory.create(), UserFactory.create()
    org = OrganisationFactory.create(user=owner)
    for person, role in ((admin, Role.ADMIN), (member, Role.MEMBER)):
        Membership.objects.create(organisation=org, user=person, role=role)
    batch = organisation_batch(owner, org)
    worker = UserFactory.create()
    thread = thread_open(user=worker, subject="batch", subject_id=batch.pk, key=str(worker.pk))

    message_post(thread_id=thread.pk, user=admin, body="We will check it.")
    with pytest.raises(NotFound):
        message_post(thread_id=thread.pk, user=member, body="I am only a member")


def test_a_batch_thread_is_not_found_for_anyone_else(client) -> None:
    batch = published_batch(items=3)
    worker, other = UserFactory.create(), UserFactory.create()
    thread = thread_open(user=worker, subject="batch", subject_id=batch.pk, key=str(worker.pk))
    message_post(thread_id=thread.pk, user=worker, body="Why was my answer rejected?")
    _token, raw = api_token_create(user=other, name="t")
    client.force_login(other)

    assert client.get(f"/en/messages/{thread.pk}/").status_code == 404
    api = client.get(f"/api/v1/threads/{thread.pk}/messages", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert api.status_code == 404
    with pytest.raises(NotFound):  # another person's key
        thread_open(user=other, subject="batch", subject_id=batch.pk, key=str(worker.pk))
    with pytest.raises(NotFound):
        message_post(thread_id=thread.pk, user=other, body="let me in")


def test_the_client_cannot_reach_a_worker_who_did_not_ask() -> None:
    batch = published_batch(items=3)
    worker = UserFactory.create()

    with pytest.raises(NotFound):
        thread_open(user=batch.owner, subject="batch", subject_id=batch.pk, key=str(worker.pk))


@pytest.mark.parametrize("key", ["", "0", "007", "abc", "999999"])
def test_a_thread_on_a_draft_batch_or_a_bad_key_does_not_exist(key: str) -> None:
    draft = BatchFactory.create(items=2)
    worker = UserFactory.create()
    assert draft.status == Batch.Status.DRAFT

    with pytest.raises(NotFound):
        thread_open(user=worker, subject="batch", subject_id=draft.pk, key=str(worker.pk))
    published = published_batch(items=2)
    with pytest.raises(NotFound):
        thread_open(user=worker, subject="batch", subject_id=published.pk, key=key)
