"""Staff reads: suspicious voting and reports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncHour

from ..models import Idea, Report, Vote

BURST_MIN_VOTES = 5


@dataclass(frozen=True)
class VoteBurst:
    idea: Idea
    hour: datetime
    new_votes: int
    all_votes: int


def vote_bursts(*, days: int = 30, min_votes: int = BURST_MIN_VOTES) -> list[VoteBurst]:
    """Hours in which an idea got at least ``min_votes`` votes from accounts created after
    its call opened: the pattern of a loud minority signing up to push one idea."""
    since = datetime.now().astimezone() - timedelta(days=days)
    rows = list(
        Vote.objects.filter(created_at__gte=since)
        .annotate(hour=TruncHour("created_at"))
        .values("idea_id", "hour")
        .annotate(new=Count("pk", filter=Q(new_account=True)), total=Count("pk"))
        .filter(new__gte=min_votes)
        .order_by("-new", "-hour")[:100]
    )
    ideas = Idea.objects.select_related("call").in_bulk([r["idea_id"] for r in rows])
    return [
        VoteBurst(ideas[r["idea_id"]], r["hour"], r["new"], r["total"])
        for r in rows
        if r["idea_id"] in ideas
    ]


def reports_open() -> QuerySet[Report]:
    return (
        Report.objects.filter(resolved_at__isnull=True)
        .select_related("idea__call", "comment__author__profile", "reporter__profile")
        .order_by("-created_at", "-id")
    )
