"""``trefpunt demo`` for idea calls: every state, idempotent, money consistent."""

from __future__ import annotations

import io

import pytest

from trefpunt.ideas import demo
from trefpunt.ideas.models import Comment, Idea, IdeaCall, RewardPayment, StageChange, Vote

from .factories import assert_money_consistent

pytestmark = pytest.mark.django_db


def test_demo_load_makes_idea_calls_in_every_state_once() -> None:
    out = io.StringIO()
    demo.load(out)
    assert set(IdeaCall.objects.values_list("status", flat=True)) == {
        s.value for s in IdeaCall.Status
    }
    assert Idea.objects.filter(status=Idea.Status.MERGED).exists()
    assert Idea.objects.filter(improves__isnull=False).exists()
    assert Comment.objects.filter(parent__isnull=False).exists()
    assert Vote.objects.filter(points__gt=1).exists()
    assert StageChange.objects.count() >= 5
    assert RewardPayment.objects.exists()
    assert "5 new demo idea calls" in out.getvalue()
    counts = (IdeaCall.objects.count(), Idea.objects.count(), Vote.objects.count())
    again = io.StringIO()
    demo.load(again)
    assert "0 new demo idea calls" in again.getvalue()
    assert (IdeaCall.objects.count(), Idea.objects.count(), Vote.objects.count()) == counts
    assert_money_consistent()
