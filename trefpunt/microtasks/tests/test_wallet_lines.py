"""A worker's wallet says in their language which batch paid them."""

import pytest

from trefpunt.accounts.tests.factories import UserFactory
from trefpunt.microtasks.services import answer_approve, lease_answer
from trefpunt.microtasks.tests.factories import claim, published_batch


@pytest.mark.django_db
def test_wallet_history_links_the_batch_that_paid_in_the_readers_language(client):
    owner = UserFactory.create()
    batch = published_batch(owner=owner, items=1, title="Sentiment van recensies")
    worker = UserFactory.create()
    answer = lease_answer(
        lease_id=claim(batch, worker).pk, worker=worker, answer={"sentiment": "pos"}
    )
    answer_approve(answer_id=answer.pk, user=owner)
    client.force_login(worker)

    english = client.get("/en/wallet/").content.decode()
    dutch = client.get("/nl/wallet/").content.decode()

    assert (
        f'href="/en/microtasks/batches/{batch.pk}/">Microtasks: Sentiment van recensies</a>'
        in english
    )
    assert (
        f'href="/nl/microtasks/batches/{batch.pk}/">Microtaken: Sentiment van recensies</a>'
        in dutch
    )
