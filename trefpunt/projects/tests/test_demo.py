"""``trefpunt demo`` for projects: every state, idempotent, money consistent."""

from __future__ import annotations

import io

import pytest

from trefpunt.accounts import demo as accounts_demo
from trefpunt.projects import demo
from trefpunt.projects.models import Contract, Dispute, Job, Milestone, Review

from .factories import assert_money_consistent

pytestmark = pytest.mark.django_db


def test_demo_load_makes_projects_in_every_state_once() -> None:
    accounts_demo.load(io.StringIO())
    out = io.StringIO()
    demo.load(out)
    assert set(Job.objects.values_list("status", flat=True)) == {s.value for s in Job.Status}
    statuses = set(Milestone.objects.values_list("status", flat=True))
    assert {"funded", "submitted", "released", "resolved"} <= statuses
    assert Dispute.objects.filter(status=Dispute.Status.RESOLVED).exists()
    assert Review.objects.count() == 2
    assert Contract.objects.count() == 2
    assert "6 new demo jobs" in out.getvalue()
    again = io.StringIO()
    demo.load(again)
    assert "0 new demo jobs" in again.getvalue()
    assert Job.objects.count() == 6
    assert_money_consistent()
