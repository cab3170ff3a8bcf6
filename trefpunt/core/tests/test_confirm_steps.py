"""Confirm steps of irreversible money actions (issue 17, safe clicks): the page states the
amounts before anything is paid, and works without JavaScript (a ``<details>`` and a POST)."""

import pytest
from django.test import Client
from django.urls import reverse

from trefpunt.accounts.tests.factories import UserFactory
from trefpunt.core.money import format_cents
from trefpunt.microtasks.models import Answer
from trefpunt.microtasks.services import lease_answer
from trefpunt.microtasks.tests.factories import claim, published_batch

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _pending_answers(batch, n: int) -> None:
    for _ in range(n):
        worker = UserFactory.create()
        lease_answer(lease_id=claim(batch, worker).pk, worker=worker, answer={"sentiment": "pos"})


def test_bulk_approve_states_the_total_and_pays_only_when_confirmed(user):
    batch = published_batch(owner=user, items=3, min_answers=1, max_answers=1, reward=12)
    _pending_answers(batch, 3)
    client = _client(user)
    page = client.get(reverse("microtasks:review", args=[batch.pk]), HTTP_ACCEPT_LANGUAGE="en")
    html = page.content.decode()
    total = format_cents(36, "EUR")
    assert f"Yes, approve and pay {total}" in html
    assert format_cents(12, "EUR") in html
    assert '<details class="contest-confirm mt-bulk-confirm">' in html
    assert not Answer.objects.filter(status=Answer.Status.APPROVED).exists()
    client.post(reverse("microtasks:review_bulk", args=[batch.pk]), {"decision": "approve"})
    assert Answer.objects.filter(status=Answer.Status.APPROVED).count() == 3


def test_closing_a_batch_states_what_is_in_escrow(user):
    batch = published_batch(owner=user, items=2, min_answers=1, max_answers=1, reward=12)
    _pending_answers(batch, 1)
    html = _client(user).get(reverse("microtasks:manage", args=[batch.pk])).content.decode()
    assert "In escrow now:" in html
    assert "for the 1 answer waiting for review" in html
