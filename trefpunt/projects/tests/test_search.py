"""Job posts in the one search: public jobs open for proposals are found, with their skills;
drafts, invite-only jobs and filled jobs are not — by title and by id."""

from __future__ import annotations

import pytest

from trefpunt.discovery.models import SearchDocument
from trefpunt.discovery.selectors import SearchQuery, search
from trefpunt.projects import services
from trefpunt.projects.models import Job

from .factories import draft_job, hired, make_user, open_job

pytestmark = pytest.mark.django_db


def titles(q: str, **filters: str) -> list[str]:
    return [h.plain_title for h in search(SearchQuery(q=q, **filters)).hits]  # type: ignore[arg-type]


def test_a_public_open_job_is_found_and_private_twins_are_not(client) -> None:
    public = open_job(title="Croissant packaging redesign")
    invited = open_job(title="Croissant packaging secret", visibility=Job.Visibility.INVITED)
    draft = draft_job(make_user(), title="Croissant packaging draft")
    filled = hired(title="Croissant packaging filled").job

    found = titles("croissant")
    page = client.get("/en/search/?q=croissant").content.decode()
    indexed = set(SearchDocument.objects.filter(kind="job").values_list("object_id", flat=True))

    assert found == [public.title]
    assert titles("croissant", kind="job") == [public.title]
    assert "packaging redesign" in page  # "Croissant" comes highlighted
    assert all(j.title.split(" ", 1)[1] not in page for j in (invited, draft, filled))
    assert indexed == {public.pk}


def test_a_job_leaves_the_index_when_it_closes() -> None:
    job = open_job(title="Sourdough label illustration")
    assert titles("sourdough") == [job.title]

    services.job_close(job_id=job.pk, user=job.created_by)

    assert titles("sourdough") == []
