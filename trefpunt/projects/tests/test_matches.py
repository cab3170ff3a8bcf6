"""Invitations by match: freelancers ranked by skills and track record, invited with the
reasons they see."""

from __future__ import annotations

import pytest

from trefpunt.accounts.models import User
from trefpunt.core.exceptions import Conflict, ErrorCode, PermissionDenied, ValidationFailed
from trefpunt.projects import selectors, services
from trefpunt.projects.models import Job
from trefpunt.projects.selectors.matches import freelancer_matches

from .factories import hired, make_user, open_job, skill

pytestmark = pytest.mark.django_db


def with_skills(*names: str) -> User:
    user = make_user()
    user.profile.skills.set([skill(n) for n in names])
    return user


def test_matches_rank_by_shared_skills_then_track_record() -> None:
    skill("Illustration")
    both = with_skills("Logo design", "Illustration")
    one = with_skills("Logo design")
    seasoned = with_skills("Logo design")
    with_skills("Copywriting")  # shares nothing: not suggested
    contract = hired(freelancer=seasoned)
    services.contract_end(contract_id=contract.pk, user=contract.client)
    job = open_job(skills=["logo-design", "illustration"])
    ranked = [m.user for m in freelancer_matches(job=job)]
    assert ranked[:3] == [both, seasoned, one]
    assert job.created_by not in ranked


def test_invite_keeps_the_reasons_and_the_invited_can_see_an_invite_only_job() -> None:
    freelancer = with_skills("Logo design")
    job = open_job(visibility=Job.Visibility.INVITED)
    services.job_invite(job_id=job.pk, user=job.created_by, invitee_id=freelancer.pk)
    access = selectors.job_get_for_user(job_id=job.pk, user=freelancer)
    assert access.invitation is not None
    assert access.invitation.reasons["skills"] == ["Logo design"]
    assert [m.invited for m in freelancer_matches(job=job)] == [True]
    with pytest.raises(ValidationFailed):
        services.job_invite(job_id=job.pk, user=job.created_by, invitee_id=freelancer.pk)
    with pytest.raises(PermissionDenied) as err:
        services.job_invite(job_id=job.pk, user=job.created_by, invitee_id=job.created_by_id)
    assert err.value.code == ErrorCode.OWN_JOB


def test_invitations_only_on_open_jobs() -> None:
    job = open_job()
    services.job_close(job_id=job.pk, user=job.created_by)
    with pytest.raises(Conflict):
        services.job_invite(job_id=job.pk, user=job.created_by, invitee_id=make_user().pk)
