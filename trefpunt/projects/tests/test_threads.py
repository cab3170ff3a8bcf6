"""Conversations on projects: a proposal's thread and a contract's thread belong to the
freelancer and the client alone; files of jobs and deliveries follow the same rules."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from trefpunt.community.services import message_post, thread_open
from trefpunt.core.exceptions import NotFound
from trefpunt.projects import services
from trefpunt.projects.models import Job

from .factories import draft_job, funded, hired, make_user, open_job, propose

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n%%EOF\n"


def test_a_proposals_thread_is_the_freelancers_and_the_clients_alone(client: Any) -> None:
    job = open_job()
    proposal = propose(job)
    client.force_login(proposal.freelancer)
    assert b"Message the client" in client.get(proposal.get_absolute_url()).content
    started = client.post("/en/messages/start/", {"subject": "proposal", "subject_id": proposal.pk})
    thread_url = started["Location"]
    client.post(thread_url, {"body": "Can I send sketches first?"})
    client.force_login(job.created_by)
    assert b"sketches first" in client.get(thread_url).content
    rival = make_user()
    propose(job, rival)
    client.force_login(rival)
    assert client.get(thread_url).status_code == 404
    with pytest.raises(NotFound):
        thread_open(user=rival, subject="proposal", subject_id=proposal.pk)


def test_a_contracts_thread_is_the_two_sides_alone() -> None:
    contract = hired()
    thread = thread_open(user=contract.client, subject="contract", subject_id=contract.pk)
    message_post(thread_id=thread.pk, user=contract.freelancer, body="Started today.")
    with pytest.raises(NotFound):
        thread_open(user=make_user(), subject="contract", subject_id=contract.pk)


def test_files_are_for_the_people_who_may_see_them(client: Any) -> None:
    owner = make_user()
    job = draft_job(owner, attachments=[SimpleUploadedFile("brief.pdf", PDF)])
    attachment = job.attachments.get()
    url = f"/en/projects/attachments/{attachment.pk}/"
    client.force_login(make_user())
    assert client.get(url).status_code == 404  # a draft
    services.job_publish(job_id=job.pk, user=owner)
    assert Job.objects.get(pk=job.pk).status == Job.Status.OPEN
    assert client.get(url).status_code == 200
    contract = hired()
    milestone = funded(contract)
    delivery = services.milestone_deliver(
        milestone_id=milestone.pk,
        user=contract.freelancer,
        message="Files",
        files=[SimpleUploadedFile("logo.pdf", PDF)],
    )
    file_url = f"/en/projects/files/{delivery.files.get().pk}/"
    assert client.get(file_url).status_code == 404
    client.force_login(contract.client)
    assert client.get(file_url).status_code == 200
