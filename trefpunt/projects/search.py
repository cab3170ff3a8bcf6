"""How job posts index (``discovery.registry``): public jobs open for proposals, with their
budget and skills. Drafts, invite-only jobs and jobs that hired or closed are not indexed."""

from __future__ import annotations

from django.db.models import QuerySet
from django.urls import reverse
from django.utils.translation import gettext_lazy

from trefpunt.core.markdown import markdown_text
from trefpunt.discovery.registry import Document, SearchKind, register, same
from trefpunt.discovery.text import guess_language

from .models import Job


def jobs_public() -> QuerySet[Job]:
    """The rule: public jobs that take proposals, not hidden by staff, not posted by an
    account that is suspended or banned now."""
    from trefpunt.moderation.selectors import hidden_ids, locked_user_ids

    return (
        Job.objects.filter(status=Job.Status.OPEN, visibility=Job.Visibility.PUBLIC)
        .exclude(pk__in=hidden_ids("projects.job"))
        .exclude(created_by__in=locked_user_ids())
        .select_related("organisation", "created_by__profile")
        .prefetch_related("skills")
    )


def job_document(job: Job) -> Document:
    if job.organisation_id:
        by = {"name": job.organisation.name, "org": job.organisation.slug}  # type: ignore[union-attr]
    else:
        profile = getattr(job.created_by, "profile", None)
        by = {"name": profile.display_name, "handle": profile.handle} if profile else {"name": ""}
    skills = [s.name for s in job.skills.all()]
    language = guess_language(f"{job.title} {job.description}")
    return Document(
        title=job.title,
        body=markdown_text(job.description),
        names=by["name"],
        tags=skills,
        status=job.status,
        languages=[language] if language else [],
        amount=job.budget_max,
        currency=job.currency,
        url_key=str(job.pk),
        detail={"by": by, "budget_min": job.budget_min, "budget_max": job.budget_max},
        score=job.budget_max,
        published_at=job.published_at,
        updated_at=job.published_at or job.created_at,
    )


def register_search() -> None:
    from trefpunt.accounts.models import Organisation

    register(
        SearchKind(
            name="job",
            label=gettext_lazy("Projects"),
            model=Job,
            public=jobs_public,
            document=job_document,
            url=lambda key: reverse("projects:job", kwargs={"pk": int(key)}),
            events={"job": same},
            follows={
                Organisation: lambda org: Job.objects.filter(organisation=org).values_list(
                    "pk", flat=True
                ),
            },
            status_labels=lambda: {str(k): str(v) for k, v in Job.Status.choices},
            order=50,
        )
    )
