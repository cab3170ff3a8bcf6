"""What microtasks put on a person's start page (``discovery.start``): answers waiting for
review (and appeals) in the batches they run."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q
from django.urls import reverse
from django.utils.translation import ngettext

from trefpunt.discovery.start import NEEDS_REVIEW, StartItem, StartPart
from trefpunt.discovery.start import register_part as register

from .models import Answer
from .selectors import batches_managed_by


def batch_needs(user: Any) -> list[StartItem]:
    """One query: the person's batches with answers waiting for them."""
    waiting = Count(
        "answers", filter=Q(answers__status__in=[Answer.Status.PENDING, Answer.Status.APPEALED])
    )
    batches = (
        batches_managed_by(user=user)
        .annotate(waiting=waiting)
        .filter(waiting__gt=0)
        .order_by("-waiting", "pk")[:20]
    )
    return [
        StartItem(
            NEEDS_REVIEW,
            ngettext(
                "%(n)s answer to review in “%(title)s”",
                "%(n)s answers to review in “%(title)s”",
                batch.waiting,
            )
            % {"n": batch.waiting, "title": batch.title},
            reverse("microtasks:review", kwargs={"pk": batch.pk}),
            count=batch.waiting,
        )
        for batch in batches
    ]


def register_start() -> None:
    register(StartPart(name="microtasks", needs=batch_needs, order=30))
