"""Reads for the shell pages (the home page), across apps through their selectors."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.cache import cache
from django.db.models import Count

from trefpunt.accounts.models import Profile
from trefpunt.contests.models import Contest
from trefpunt.contests.selectors import ContestFilters, contest_list_public, contest_live_figures
from trefpunt.microtasks.models import Batch, Item

HOME_CONTESTS = 6
HOME_FIGURES_KEY = "core:home-figures:1"
HOME_FIGURES_SECONDS = 60


@dataclass(frozen=True)
class HomeFigures:
    open_contests: int
    prizes_in_escrow: int
    open_batches: int
    items_waiting: int
    members: int


def home_figures() -> HomeFigures:
    """What the platform holds right now, for the home page: counted at most once a minute
    (``HOME_FIGURES_SECONDS``), so the busiest page reads the cache, not every live contest."""
    figures = cache.get(HOME_FIGURES_KEY)
    if not isinstance(figures, HomeFigures):
        figures = _home_figures_count()
        cache.set(HOME_FIGURES_KEY, figures, HOME_FIGURES_SECONDS)
    return figures


def _home_figures_count() -> HomeFigures:
    open_contests, prizes = contest_live_figures()
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
