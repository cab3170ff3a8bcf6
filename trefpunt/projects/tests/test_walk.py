"""What walking the projects mode as its users do turned up: typed-by-hand input that
answered 500, money figures that mixed gross and net, refusals that did not read, and the
client's triage order."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from trefpunt.projects.models import Milestone

from .factories import hired

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "query",
    ["posted=99999999999999", "posted=-99999999999999", "max_proposals=10000000000000000000000"],
)
def test_the_job_list_ignores_number_filters_out_of_range(client: Any, query: str) -> None:
    """A hand-typed ``posted`` beyond what a date can hold answered 500."""
    response = client.get(reverse("projects:list") + "?" + query)
    assert response.status_code == 200


def test_adding_a_milestone_with_a_date_that_does_not_parse_says_so(client: Any) -> None:
    """A due date that is not a date (typed into a browser without a date picker, or
    sent by a script) answered 500; now the client reads why and nothing is added."""
    contract = hired()
    client.force_login(contract.client)
    response = client.post(
        reverse("projects:milestone_add", args=[contract.pk]),
        {"title": "Extra", "amount": "50", "due_date": "31-01-2030"},
        follow=True,
    )
    assert response.status_code == 200
    assert "Enter a date like 2030-01-31." in response.content.decode()
    assert not Milestone.objects.filter(contract=contract, title="Extra").exists()
