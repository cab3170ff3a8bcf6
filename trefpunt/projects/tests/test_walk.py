"""What walking the projects mode as its users do turned up: typed-by-hand input that
answered 500, money figures that mixed gross and net, refusals that did not read, and the
client's triage order."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse
from django.utils import translation

from trefpunt.core.exceptions import ErrorCode, ValidationFailed
from trefpunt.core.money import format_cents
from trefpunt.projects import selectors, services
from trefpunt.projects.models import Dispute, Milestone

from .factories import (
    assert_money_consistent,
    balance,
    delivered,
    draft_job,
    funded,
    hired,
    milestones,
    open_job,
    propose,
)

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


def test_a_split_above_what_is_in_dispute_names_the_bounds_as_money(client: Any) -> None:
    """The freelancer typed 999 (euros) for a € 200.00 dispute and read "Between 0 and
    20000": the bounds in cents, as if the limit were twenty thousand euros."""
    contract = hired()
    delivered(contract)
    services.dispute_open(contract_id=contract.pk, user=contract.freelancer, reason="Silence.")
    client.force_login(contract.freelancer)
    response = client.post(
        reverse("projects:dispute", args=[contract.pk, "propose"]), {"amount": "999"}, follow=True
    )
    page = response.content.decode()
    assert f"Between {format_cents(0)} and {format_cents(20_000)}." in page
    assert Dispute.objects.get(contract=contract).offer_freelancer is None
    with pytest.raises(ValidationFailed) as too_much:
        services.dispute_offer(
            contract_id=contract.pk, user=contract.freelancer, freelancer_amount=20_001
        )
    assert too_much.value.code == ErrorCode.INVALID
    assert format_cents(20_000) in too_much.value.fields["freelancer_amount"][0]


def test_a_milestone_amount_below_the_minimum_names_it_as_money(client: Any) -> None:
    contract = hired()
    client.force_login(contract.client)
    response = client.post(
        reverse("projects:milestone_add", args=[contract.pk]),
        {"title": "Extra", "amount": "0,50"},
        follow=True,
    )
    assert f"Between {format_cents(100)} and " in response.content.decode()


def test_released_to_the_freelancer_counts_a_dispute_share_before_the_fee(client: Any) -> None:
    """After a split, "released to the freelancer" added the approved milestone's amount
    (before the crowd fee) to the disputed one's net (after it): a figure that was neither
    what left escrow for the freelancer nor what reached their wallet."""
    contract = hired()
    sketches, final = milestones(contract)
    delivered(contract, funded(contract, sketches))
    services.milestone_approve(milestone_id=sketches.pk, user=contract.client)
    funded(contract, final)
    services.dispute_open(contract_id=contract.pk, user=contract.client, reason="Late.")
    services.dispute_offer(contract_id=contract.pk, user=contract.client, freelancer_amount=12_000)
    services.dispute_accept(
        contract_id=contract.pk, user=contract.freelancer, freelancer_amount=12_000
    )
    client.force_login(contract.freelancer)
    body = client.get(f"/api/v1/contracts/{contract.pk}").json()
    assert body["money"]["paid"] == 20_000 + 12_000
    assert body["money"]["paid_net"] == balance(contract.freelancer)
    page = client.get(contract.get_absolute_url()).content.decode()
    assert f'<div class="figure amount" id="paid">{format_cents(32_000)}</div>' in page
    assert_money_consistent()


def test_the_shortlist_comes_first_when_the_client_compares(client: Any) -> None:
    """The compare page is documented "shortlisted first" but sorted by the status text,
    descending: every proposal still waiting came above the ones the client shortlisted."""
    job = open_job()
    cheap = propose(job, cover_letter="Cheap and quick.", price=40_000, milestone_plan=[])
    picked = propose(job, cover_letter="The one we like.", price=60_000, milestone_plan=[])
    services.proposal_shortlist(proposal_id=picked.pk, user=job.created_by)
    assert [p.pk for p in selectors.proposal_list_for_job(job=job)] == [picked.pk, cheap.pk]
    client.force_login(job.created_by)
    page = client.get(reverse("projects:compare", args=[job.pk])).content.decode()
    assert page.index("The one we like.") < page.index("Cheap and quick.")


def test_the_contract_history_reads_as_sentences_in_the_page_language(client: Any) -> None:
    """The history listed the events' codes ("milestone · changes_requested"), English on
    the Dutch page, without saying which milestone."""
    contract = hired()
    milestone = delivered(contract)
    services.milestone_request_changes(
        milestone_id=milestone.pk, user=contract.client, reason="More colour."
    )
    client.force_login(contract.client)
    english = client.get(contract.get_absolute_url()).content.decode()
    assert "Changes requested on “Sketches”" in english
    assert "“Sketches” funded: the money is in escrow" in english
    with translation.override("nl"):
        url = contract.get_absolute_url()
    dutch = client.get(url).content.decode()
    assert "Wijzigingen gevraagd voor “Sketches”" in dutch
    for page in (english, dutch):
        assert "changes_requested" not in page and "milestone · " not in page


def test_a_refusal_names_the_state_in_a_sentence_that_reads(client: Any) -> None:
    """Withdrawing after someone else was hired said "the proposal is someone else was
    hired" ("het voorstel is iemand anders is ingehuurd"); a settled dispute was
    "geschikt" (suitable) in Dutch."""
    job = open_job()
    mine = propose(job)
    services.proposal_accept(proposal_id=propose(job).pk, user=job.created_by)
    client.force_login(mine.freelancer)
    url = reverse("projects:proposal_action", args=[mine.pk, "withdraw"])
    english = client.post(url, follow=True).content.decode()
    refusal = "You cannot withdraw the proposal now: the proposal&#x27;s status is"
    assert f"{refusal} “someone else was hired”." in english
    with translation.override("nl"):
        url = reverse("projects:proposal_action", args=[mine.pk, "withdraw"])
        settled = str(Dispute.Status.RESOLVED.label)
    dutch = client.post(url, follow=True).content.decode()
    assert "de status van het voorstel is ‘iemand anders is ingehuurd’" in dutch
    assert settled == "Beslecht"


def test_the_freelancer_dashboard_counts_paid_and_total_as_the_contract_page(
    client: Any,
) -> None:
    """The dashboard's "paid / total" left out the share of a settled dispute and counted
    the milestones cancelled at the end: € 200.00 / € 550.00 where the contract page said
    € 320.00 released of € 500.00."""
    contract = hired()
    sketches, final = milestones(contract)
    services.milestone_add(
        contract_id=contract.pk, user=contract.client, title="Extra", amount=5_000
    )
    delivered(contract, funded(contract, sketches))
    services.milestone_approve(milestone_id=sketches.pk, user=contract.client)
    funded(contract, final)
    services.dispute_open(contract_id=contract.pk, user=contract.freelancer, reason="Silence.")
    services.dispute_offer(contract_id=contract.pk, user=contract.client, freelancer_amount=12_000)
    services.dispute_accept(
        contract_id=contract.pk, user=contract.freelancer, freelancer_amount=12_000
    )
    client.force_login(contract.freelancer)
    dashboard = client.get(reverse("projects:freelancer_dashboard")).content.decode()
    assert f"{format_cents(32_000)} / {format_cents(50_000)}" in dashboard
    page = client.get(contract.get_absolute_url()).content.decode()
    assert f'id="paid">{format_cents(32_000)}<' in page
    assert f"{format_cents(50_000)}</div><small" in page


def test_a_proposal_on_a_job_closed_without_a_hire_does_not_say_someone_was_hired(
    client: Any,
) -> None:
    """Closing a job marks its open proposals "not selected", whose label is "Someone else
    was hired": the freelancers read that somebody got the job when nobody did."""
    job = open_job()
    proposal = propose(job)
    services.job_close(job_id=job.pk, user=job.created_by)
    client.force_login(proposal.freelancer)
    page = client.get(proposal.get_absolute_url()).content.decode()
    dashboard = client.get(reverse("projects:freelancer_dashboard")).content.decode()
    for html in (page, dashboard):
        assert "The job closed without a hire" in html
        assert "Someone else was hired" not in html
    hired_elsewhere = open_job()
    passed_over = propose(hired_elsewhere)
    services.proposal_accept(
        proposal_id=propose(hired_elsewhere).pk, user=hired_elsewhere.created_by
    )
    client.force_login(passed_over.freelancer)
    assert "Someone else was hired" in client.get(passed_over.get_absolute_url()).content.decode()


def test_the_dispute_form_shows_only_when_money_is_in_escrow(client: Any) -> None:
    """With nothing funded, "Open a dispute" took a written reason and then refused it
    (``nothing_in_escrow``)."""
    contract = hired()
    client.force_login(contract.freelancer)
    form = reverse("projects:dispute", args=[contract.pk, "open"])
    assert form not in client.get(contract.get_absolute_url()).content.decode()
    funded(contract)
    assert form in client.get(contract.get_absolute_url()).content.decode()


def test_the_edit_form_of_a_published_job_sends_the_client_back_to_the_job(client: Any) -> None:
    """After publishing, the draft's edit address (a bookmark, the back button) still showed
    the form filled in; the client changed it, saved, and only then read that an open job
    cannot be edited."""
    job = open_job()
    client.force_login(job.created_by)
    response = client.get(reverse("projects:edit", args=[job.pk]), follow=True)
    assert response.redirect_chain == [(job.get_absolute_url(), 302)]
    assert "You cannot edit the job now" in response.content.decode()
    draft = draft_job(job.created_by)
    assert client.get(reverse("projects:edit", args=[draft.pk])).status_code == 200
