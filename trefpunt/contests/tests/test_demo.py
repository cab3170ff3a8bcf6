"""``trefpunt demo`` for contests: every state, idempotent, money consistent."""

from __future__ import annotations

import io

import pytest

from trefpunt.contests import demo
from trefpunt.contests.models import Contest, Entry, EntryFlag, Payment, RightsTransfer

from .factories import assert_money_consistent

pytestmark = pytest.mark.django_db


def test_demo_load_makes_contests_in_every_state_once():
    out = io.StringIO()
    demo.load(out)
    statuses = set(Contest.objects.values_list("status", flat=True))
    assert statuses == {s.value for s in Contest.Status}
    assert Entry.objects.filter(status=Entry.Status.WINNER).exists()
    assert Entry.objects.filter(status=Entry.Status.FINALIST).exists()
    assert Entry.objects.filter(rating__isnull=False).exists()
    # a rule-break decline waiting for staff, so the staff page has something to review
    assert Entry.objects.filter(decline_review=Entry.DeclineReview.PENDING).exists()
    assert Payment.objects.exists()
    assert RightsTransfer.objects.count() == 1
    flags = list(EntryFlag.objects.values_list("entry__title", "other_entry__title"))
    assert flags == [("Round wheat", "Wheat circle")]
    assert "8 new demo contests" in out.getvalue()
    counts = (Contest.objects.count(), Entry.objects.count(), Payment.objects.count())
    again = io.StringIO()
    demo.load(again)
    assert "0 new demo contests" in again.getvalue()
    assert (Contest.objects.count(), Entry.objects.count(), Payment.objects.count()) == counts
    assert_money_consistent()
