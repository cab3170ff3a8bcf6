"""What of projects can be reported (``moderation.registry``): job posts, proposals and
reviews. All three are hidden by staff and kept hidden by moderation's ``Decision`` rows
(``moderation.selectors.hidden_ids``), which the project selectors read:

- a hidden job post is gone for everyone but its poster and staff (pages, API, search);
- a hidden proposal is gone for the client, still there for its freelancer;
- a hidden review leaves the contract page, the profile and the track record, except for
  its author.

A job post holds no money (escrow is per milestone, after hiring), so it is hidden, not
taken down. A suspended poster's open jobs leave the search index while the sanction runs
(``search.jobs_public``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.urls import reverse
from django.utils.translation import gettext_lazy

from trefpunt.core.exceptions import NotFound
from trefpunt.moderation.registry import reportable_register

from .models import Job, Proposal, Review

if TYPE_CHECKING:
    from trefpunt.accounts.models import User


def _job_visible(job: Job, user: User) -> bool:
    from .selectors import job_get_for_user

    try:
        job_get_for_user(job_id=job.pk, user=user)
    except NotFound:
        return False
    return True


def _proposal_visible(proposal: Proposal, user: User) -> bool:
    from .selectors import proposal_get_for_user

    try:
        proposal_get_for_user(proposal_id=proposal.pk, user=user)
    except NotFound:
        return False
    return True


def _review_visible(review: Review, user: User) -> bool:
    """Revealed reviews are public (profiles); before that only their author reads them."""
    from .selectors.lists import revealed_reviews_q

    if review.author_id == user.pk:
        return True
    return Review.objects.filter(revealed_reviews_q(), pk=review.pk).exists()


def register() -> None:
    reportable_register(
        "projects.job",
        model=Job,
        label=gettext_lazy("job post"),
        author_field="created_by",
        visible_to=_job_visible,
        title=lambda job: job.title,
        public_of_author=lambda user_id: Job.objects.filter(
            created_by_id=user_id, status=Job.Status.OPEN
        ).values_list("pk", flat=True),
    )
    reportable_register(
        "projects.proposal",
        model=Proposal,
        label=gettext_lazy("proposal"),
        author_field="freelancer",
        visible_to=_proposal_visible,
        title=lambda proposal: f"{proposal.job.title}: {proposal.cover_letter[:60]}",
    )
    reportable_register(
        "projects.review",
        model=Review,
        label=gettext_lazy("review"),
        author_field="author",
        visible_to=_review_visible,
        title=lambda review: f"{review.rating}/5 {review.text[:70]}",
        url=lambda review: reverse("projects:contract", kwargs={"pk": review.contract_id}),
    )
