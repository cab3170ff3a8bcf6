"""What projects put on a person's start page (``discovery.start``): delivered milestones to
approve (as the client), milestones due soon (as the freelancer), and the skills of the jobs
they proposed on, for recommendations."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from trefpunt.discovery.start import (
    DEADLINE_SOON,
    NEEDS_APPROVAL,
    StartItem,
    StartPart,
    soon,
)
from trefpunt.discovery.start import register_part as register

from .models import Job, Milestone


def _due(day: Any) -> datetime | None:
    if day is None:
        return None
    return timezone.make_aware(datetime.combine(day, time(23, 59)))


def milestone_needs(user: Any) -> list[StartItem]:
    """Two queries: milestones delivered to the person, and the person's milestones due soon."""
    items: list[StartItem] = []
    delivered = (
        Milestone.objects.filter(contract__client=user, status=Milestone.Status.SUBMITTED)
        .select_related("contract__job")
        .order_by("due_date", "pk")[:20]
    )
    for m in delivered:
        text = _("Approve “%(milestone)s” of “%(job)s”") % {
            "milestone": m.title,
            "job": m.contract.job.title,
        }
        url = reverse("projects:contract", kwargs={"pk": m.contract_id})
        items.append(StartItem(NEEDS_APPROVAL, text, url, when=_due(m.due_date)))
    due = (
        Milestone.objects.filter(
            contract__freelancer=user,
            status__in=[Milestone.Status.FUNDED, Milestone.Status.CHANGES],
            due_date__lte=soon().date(),
        )
        .select_related("contract__job")
        .order_by("due_date", "pk")[:20]
    )
    for m in due:
        text = _("Deliver “%(milestone)s” of “%(job)s”") % {
            "milestone": m.title,
            "job": m.contract.job.title,
        }
        url = reverse("projects:contract", kwargs={"pk": m.contract_id})
        items.append(StartItem(DEADLINE_SOON, text, url, when=_due(m.due_date)))
    return items


def job_interests(user: Any) -> list[str]:
    """The skills of the jobs the person proposed on."""
    return list(
        Job.objects.filter(proposals__freelancer=user)
        .values_list("skills__slug", flat=True)
        .distinct()[:20]
    )


def register_start() -> None:
    register(StartPart(name="projects", needs=milestone_needs, interests=job_interests, order=40))
