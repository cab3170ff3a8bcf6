"""Project pages: each page for each side, 404 for others by guessed ids, the confirm steps
state the amounts, reviews hidden until revealed, constant query counts on list pages."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from trefpunt.core.money import format_cents
from trefpunt.projects import services
from trefpunt.projects.models import Contract, Job, Milestone, Proposal

from .factories import delivered, first, hired, make_user, open_job, propose, skill

pytestmark = pytest.mark.django_db


def _get(client: Any, user: Any, url: str) -> Any:
    client.force_login(user)
    return client.get(url)


def test_the_job_pages_for_the_client_a_freelancer_and_a_stranger(client: Any) -> None:
    job = open_job()
    proposal = propose(job)
    assert client.get(reverse("projects:list")).status_code == 200
    assert job.title in client.get(reverse("projects:list")).content.decode()
    page = _get(client, job.created_by, job.get_absolute_url()).content.decode()
    assert "Compare proposals" in page and "Suggested freelancers" in page
    compare = _get(client, job.created_by, reverse("projects:compare", args=[job.pk]))
    assert compare.status_code == 200 and proposal.cover_letter in compare.content.decode()
    mine = _get(client, proposal.freelancer, proposal.get_absolute_url())
    assert mine.status_code == 200
    assert _get(client, make_user(), job.get_absolute_url()).status_code == 200
    form = _get(client, make_user(), reverse("projects:propose", args=[job.pk]))
    assert form.status_code == 200
    # Staff see the proposals on the job page, but not a link to the client's triage page,
    # which answers them 404.
    staff = make_user(is_staff=True)
    seen = _get(client, staff, job.get_absolute_url()).content.decode()
    assert proposal.freelancer.profile.display_name in seen
    assert reverse("projects:compare", args=[job.pk]) not in seen


def test_others_proposals_and_contracts_are_404_by_guessed_ids(client: Any) -> None:
    job = open_job()
    proposal = propose(job)
    contract = hired()
    rival, other_client = make_user(), open_job().created_by
    for who in (rival, other_client):
        assert _get(client, who, proposal.get_absolute_url()).status_code == 404
        assert _get(client, who, reverse("projects:compare", args=[job.pk])).status_code == 404
        assert _get(client, who, contract.get_absolute_url()).status_code == 404
        url = reverse("projects:milestone", args=[first(contract).pk, "approve"])
        assert _get(client, who, url).status_code == 404
        accept = client.post(reverse("projects:proposal_action", args=[proposal.pk, "accept"]))
        assert accept.status_code == 404
    assert Proposal.objects.get(pk=proposal.pk).status == Proposal.Status.SUBMITTED


def test_propose_through_the_form_with_a_plan(client: Any) -> None:
    job = open_job()
    freelancer = make_user()
    client.force_login(freelancer)
    response = client.post(
        reverse("projects:propose", args=[job.pk]),
        {
            "price": "500,00",
            "duration_days": "10",
            "cover_letter": "Hello",
            "milestone_plan": "Sketches | 200 | 5\nFinal | 300 | 10",
        },
    )
    proposal = Proposal.objects.get(job=job, freelancer=freelancer)
    assert response.status_code == 302
    assert proposal.price == 50_000
    assert [m["amount"] for m in proposal.milestone_plan] == [20_000, 30_000]
    bad = client.post(
        reverse("projects:propose", args=[open_job().pk]),
        {"price": "500", "duration_days": "10", "cover_letter": "x", "milestone_plan": "A | 1"},
    )
    assert bad.status_code == 422
    html = bad.content.decode()
    assert "Nothing was saved. Correct the fields marked below." in html
    total, price = format_cents(100), format_cents(50_000)
    assert f"The milestones add up to {total} and the price is {price}" in html
    # An empty form names every missing field at once, not the price alone.
    empty = client.post(reverse("projects:propose", args=[open_job().pk]), {"price": ""})
    errors = re.findall(r'<small class="error" role="alert">(.*?)</small>', empty.content.decode())
    assert len(errors) == 3, errors  # price, days, cover letter


def test_job_form_creates_a_draft_and_publishes(client: Any) -> None:
    skill("Copywriting")
    owner = make_user()
    client.force_login(owner)
    response = client.post(
        reverse("projects:create"),
        {
            "title": "Website texts",
            "description": "Five pages.",
            "budget_min": "400",
            "budget_max": "",
            "duration": "weeks",
            "visibility": "public",
            "proposal_cap": "10",
            "skills": ["copywriting"],
        },
    )
    job = Job.objects.get(title="Website texts")
    assert response.status_code == 302 and job.budget_max == 40_000
    client.post(reverse("projects:publish", args=[job.pk]))
    assert Job.objects.get(pk=job.pk).status == Job.Status.OPEN


def test_an_empty_job_form_names_every_missing_field_at_once(client: Any) -> None:
    """A budget that does not parse used to be the only error shown: the title and the
    description were reported only after it was fixed."""
    client.force_login(make_user())
    response = client.post(reverse("projects:create"), {"budget_min": "", "budget_max": "x"})
    html = response.content.decode()
    assert response.status_code == 422 and not Job.objects.exists()
    assert "Nothing was saved. Correct the fields marked below." in html
    errors = re.findall(r'<small class="error" role="alert">(.*?)</small>', html)
    assert len(errors) == 4, errors  # title, description, both amounts
    assert sum("amount" in e for e in errors) == 2, errors
    # Every field has a label, the skills list too (it had only a fieldset legend).
    assert re.search(r'<label>Skills\s*<select name="skills"', html)


def test_the_confirm_steps_state_the_amounts(client: Any) -> None:
    contract = hired()
    milestone = first(contract)
    fund = _get(client, contract.client, reverse("projects:milestone", args=[milestone.pk, "fund"]))
    text = fund.content.decode()
    assert "€\u00a0200.00" in text and "€\u00a010.00" in text and "€\u00a0210.00" in text
    assert "Deposit €\u00a0210.00" in text
    delivered(contract)
    approve = _get(
        client, contract.client, reverse("projects:milestone", args=[milestone.pk, "approve"])
    ).content.decode()
    assert "€\u00a0200.00" in approve and "€\u00a020.00" in approve and "€\u00a0180.00" in approve
    response = client.post(reverse("projects:milestone", args=[milestone.pk, "approve"]))
    assert response.status_code == 302
    assert Milestone.objects.get(pk=milestone.pk).status == Milestone.Status.RELEASED


def test_the_fund_page_starts_a_deposit_of_the_shortfall(client: Any) -> None:
    contract = hired()
    client.force_login(contract.client)
    response = client.post(
        reverse("projects:milestone", args=[first(contract).pk, "fund"]), {"deposit": "1"}
    )
    assert response.status_code == 302 and "/pay/" in response["Location"]


def test_reviews_on_the_page_hidden_until_both_are_in(client: Any) -> None:
    contract = hired()
    services.contract_end(contract_id=contract.pk, user=contract.client)
    services.review_create(
        contract_id=contract.pk, user=contract.client, rating=5, text="Lovely bread logo"
    )
    url = contract.get_absolute_url()
    assert "Lovely bread logo" in _get(client, contract.client, url).content.decode()
    assert "Lovely bread logo" not in _get(client, contract.freelancer, url).content.decode()
    staff = make_user(is_staff=True)
    assert "Lovely bread logo" not in _get(client, staff, url).content.decode()
    client.force_login(contract.freelancer)
    client.post(
        reverse("projects:review", args=[contract.pk]), {"rating": "4", "text": "Paid on time"}
    )
    for who in (contract.client, contract.freelancer, staff):
        page = _get(client, who, url).content.decode()
        assert "Lovely bread logo" in page and "Paid on time" in page


def _count(client: Any, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured.captured_queries)


def test_list_pages_run_a_constant_number_of_queries(client: Any) -> None:
    owner, freelancer = make_user(), make_user()
    jobs = [open_job(owner) for _ in range(2)]
    for job in jobs:
        propose(job, freelancer)
    hired(owner, freelancer)
    urls = [
        reverse("projects:list"),
        reverse("projects:compare", args=[jobs[0].pk]),
        reverse("projects:client_dashboard"),
        reverse("projects:freelancer_dashboard"),
    ]
    viewers = [None, owner, owner, freelancer]

    def counts() -> list[int]:
        result = []
        for url, who in zip(urls, viewers, strict=True):
            if who is None:
                client.logout()
            else:
                client.force_login(who)
            client.get(url)  # warm the session
            result.append(_count(client, url))
        return result

    small = counts()
    for _ in range(4):
        job = open_job(owner)
        propose(job, freelancer)
        propose(jobs[0])
        contract = hired(owner, freelancer)
        delivered(contract)
    large = counts()
    assert small == large
    assert Contract.objects.filter(freelancer=freelancer).count() == 5
