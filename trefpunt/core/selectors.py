"""Reads for the shell pages (the home page), across apps through their selectors."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count

from trefpunt.accounts.models import Profile
from trefpunt.contests.models import Contest
from trefpunt.contests.selectors import ContestFilters, contest_list_public
from trefpunt.microtasks.models import Batch, Item

HOME_CONTESTS = 6


@dataclass(frozen=True)
class HomeFigures:
    open_contests: int
    prizes_in_escrow: int
    open_batches: int
    items_waiting: int
    members: int


def home_figures() -> HomeFigures:
    """What the platform holds right now, for the home page (four queries)."""
    live = contest_list_public().filter(status__in=[Contest.Status.OPEN, Contest.Status.JUDGING])
    # prize_total is an annotation of contest_list_public (the type checker cannot see it).
    columns = ("status", "prize_total")
    figures = list(live.values_list(*columns))
    open_contests = sum(1 for status, _total in figures if status == Contest.Status.OPEN)
    prizes = sum(total or 0 for _status, total in figures)
    batches = Batch.objects.filter(status=Batch.Status.OPEN).aggregate(n=Count("pk"))
    items = Item.objects.filter(
        batch__status=Batch.Status.OPEN, status=Item.Status.OPEN, is_gold=False
    ).aggregate(n=Count("pk"))
    return HomeFigures(
        open_contests=open_contests,
        prizes_in_escrow=prizes,
        open_batches=batches["n"] or 0,
        items_waiting=items["n"] or 0,
        members=Profile.objects.filter(user__is_active=True).count(),
    )


def home_contests() -> list[Contest]:
    """The open public contests that end soonest."""
    return list(
        contest_list_public(filters=ContestFilters(status=Contest.Status.OPEN))[:HOME_CONTESTS]
    )
