"""What walking the projects mode as its users do turned up: typed-by-hand input that
answered 500, money figures that mixed gross and net, refusals that did not read, and the
client's triage order."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "query",
    ["posted=99999999999999", "posted=-99999999999999", "max_proposals=10000000000000000000000"],
)
def test_the_job_list_ignores_number_filters_out_of_range(client: Any, query: str) -> None:
    """A hand-typed ``posted`` beyond what a date can hold answered 500."""
    response = client.get(reverse("projects:list") + "?" + query)
    assert response.status_code == 200
