"""``trefpunt demo`` for microtasks: batches in every state, idempotent, escrow consistent."""

import io

import pytest

from trefpunt.accounts import demo as accounts_demo
from trefpunt.microtasks import demo
from trefpunt.microtasks.models import Answer, Batch

from .money import assert_escrow_adds_up

pytestmark = pytest.mark.django_db


def test_demo_load_makes_batches_in_every_state_once():
    accounts_demo.load(io.StringIO())
    out = io.StringIO()
    demo.load(out)
    assert "4 new demo batches" in out.getvalue()
    statuses = dict(Batch.objects.values_list("title", "status"))
    assert statuses == {
        "Same product? Match shop listings": "open",
        "Sentiment of customer reviews": "paused",
        "Transcribe shop receipts": "closed",
        "Route support tickets to the right team": "draft",
    }
    assert Batch.objects.get(status="paused").pause_reason == Batch.PauseReason.FAIR_PAY
    assert Answer.objects.filter(status=Answer.Status.APPEALED).count() == 1
    assert Answer.objects.filter(status=Answer.Status.OVERTURNED).count() == 1
    assert Answer.objects.filter(status=Answer.Status.APPROVED).exists()
    assert Answer.objects.filter(status=Answer.Status.PENDING).exists()
    counts = (Batch.objects.count(), Answer.objects.count())
    again = io.StringIO()
    demo.load(again)
    assert "0 new demo batches" in again.getvalue()
    assert (Batch.objects.count(), Answer.objects.count()) == counts
    for batch in Batch.objects.exclude(status=Batch.Status.DRAFT):
        assert_escrow_adds_up(batch)
    closed = Batch.objects.get(status="closed")
    money = assert_escrow_adds_up(closed)
    assert money.funded == money.rewards_paid + money.fees_paid + money.refunded
