"""Invitations by match: freelancers ranked for a job by skills, portfolio and track record
(contest wins, completed projects, ratings), each with the reasons they matched — the client
sees them, and so does the invited freelancer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Avg, Count, Q

from trefpunt.accounts.models import PortfolioItem, Profile, User

from ..models import Contract, Job, JobInvitation, Proposal, Review
from .access import managed_organisation_ids
from .lists import revealed_reviews_q


@dataclass(frozen=True)
class TrackRecord:
    completed: int = 0
    rating: float | None = None
    reviews: int = 0
    on_time: float | None = None  # share of milestones first delivered by the due date
    repeat_clients: int = 0
    wins: int = 0
    portfolio: int = 0


def track_records(user_ids: list[int]) -> dict[int, TrackRecord]:
    """Track records of many people in a fixed number of queries."""
    from ..models import Milestone

    ids = sorted(set(user_ids))
    completed: dict[int, int] = dict(
        Contract.objects.filter(freelancer_id__in=ids, status=Contract.Status.ENDED)
        .values("freelancer_id")
        .annotate(n=Count("pk"))
        .values_list("freelancer_id", "n")
    )
    ratings = {
        row["subject_id"]: (row["avg"], row["n"])
        for row in Review.objects.filter(revealed_reviews_q(), subject_id__in=ids)
        .values("subject_id")
        .annotate(avg=Avg("rating"), n=Count("pk"))
    }
    delivered = {
        row["contract__freelancer_id"]: (row["on_time"], row["n"])
        for row in Milestone.objects.filter(
            contract__freelancer_id__in=ids,
            first_submitted_at__isnull=False,
            due_date__isnull=False,
        )
        .values("contract__freelancer_id")
        .annotate(
            n=Count("pk"),
            on_time=Count("pk", filter=Q(first_submitted_at__date__lte=models_due())),
        )
    }
    clients: dict[int, dict[int, int]] = {}
    for freelancer_id, client_id in Contract.objects.filter(freelancer_id__in=ids).values_list(
        "freelancer_id", "client_id"
    ):
        clients.setdefault(freelancer_id, {}).setdefault(client_id, 0)
        clients[freelancer_id][client_id] += 1
    portfolio = {
        row["owner_id"]: (row["n"], row["wins"])
        for row in PortfolioItem.objects.filter(owner_id__in=ids)
        .values("owner_id")
        .annotate(n=Count("pk"), wins=Count("pk", filter=Q(source="contest_win")))
    }
    records = {}
    for pk in ids:
        avg, n_reviews = ratings.get(pk, (None, 0))
        on_time, n_delivered = delivered.get(pk, (0, 0))
        n_portfolio, wins = portfolio.get(pk, (0, 0))
        records[pk] = TrackRecord(
            completed=completed.get(pk, 0),
            rating=round(float(avg), 1) if avg is not None else None,
            reviews=n_reviews,
            on_time=round(on_time / n_delivered, 2) if n_delivered else None,
            repeat_clients=sum(1 for n in clients.get(pk, {}).values() if n > 1),
            wins=wins,
            portfolio=n_portfolio,
        )
    return records


def models_due() -> Any:
    from django.db.models import F

    return F("due_date")


def track_record(user_id: int) -> TrackRecord:
    return track_records([user_id])[user_id]


@dataclass(frozen=True)
class Match:
    user: User
    score: float
    reasons: dict[str, Any]
    invited: bool


def _reasons(skills: list[str], record: TrackRecord) -> dict[str, Any]:
    return {
        "skills": skills,
        "completed": record.completed,
        "rating": record.rating,
        "wins": record.wins,
        "portfolio": record.portfolio,
    }


def _score(skills: int, record: TrackRecord) -> float:
    return (
        3.0 * skills
        + 1.5 * record.completed
        + (record.rating or 0) / 2
        + 1.0 * record.wins
        + 0.3 * min(record.portfolio, 10)
    )


def freelancer_matches(*, job: Job, limit: int = 12) -> list[Match]:
    """Freelancers who share at least one of the job's skills, best first; people who act
    for the client, and those who already proposed, are left out."""
    skill_ids = [s.pk for s in job.skills.all()]
    if not skill_ids:
        return []
    excluded = set(Proposal.objects.filter(job=job).values_list("freelancer_id", flat=True)) | {
        job.created_by_id
    }
    if job.organisation_id:
        from trefpunt.accounts.models import Membership

        excluded |= set(
            Membership.objects.filter(organisation_id=job.organisation_id).values_list(
                "user_id", flat=True
            )
        )
    profiles = list(
        Profile.objects.filter(skills__in=skill_ids, user__is_active=True)
        .exclude(user_id__in=excluded)
        .annotate(shared=Count("skills", filter=Q(skills__in=skill_ids)))
        .select_related("user")
        .prefetch_related("skills")
        .order_by("-shared", "pk")[:200]
    )
    records = track_records([p.user_id for p in profiles])
    invited = set(JobInvitation.objects.filter(job=job).values_list("user_id", flat=True))
    wanted = set(skill_ids)
    matches = []
    for profile in profiles:
        shared = [s.name for s in profile.skills.all() if s.pk in wanted]
        record = records[profile.user_id]
        profile.user.profile = profile
        matches.append(
            Match(
                profile.user,
                _score(len(shared), record),
                _reasons(shared, record),
                profile.user_id in invited,
            )
        )
    matches.sort(key=lambda m: (-m.score, m.user.pk))
    return matches[:limit]


def match_reasons(*, job: Job, user_id: int) -> dict[str, Any]:
    """Why ``user_id`` fits ``job`` (kept on the invitation)."""
    wanted = {s.pk for s in job.skills.all()}
    profile = Profile.objects.filter(user_id=user_id).prefetch_related("skills").first()
    shared = [s.name for s in profile.skills.all() if s.pk in wanted] if profile else []
    return _reasons(shared, track_record(user_id))


__all__ = ["managed_organisation_ids"]
