"""Job posts and proposals: every move and every refusal, by error code."""

from __future__ import annotations

import pytest

from trefpunt.community.notifications import notification_render
from trefpunt.core.exceptions import (
    Conflict,
    ErrorCode,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from trefpunt.core.models import Event
from trefpunt.core.money import format_cents
from trefpunt.projects import selectors, services
from trefpunt.projects.models import Contract, Job, Milestone, Proposal
from trefpunt.projects.rules import AUTO_APPROVE_DAYS, DISPUTE_AGREE_DAYS

from .factories import (
    PLAN,
    PRICE,
    draft_job,
    first,
    hired,
    make_organisation,
    make_user,
    open_job,
    propose,
)

pytestmark = pytest.mark.django_db


def test_job_draft_publish_close_moves_and_records_events() -> None:
    client = make_user()
    job = draft_job(client)
    assert job.status == Job.Status.DRAFT
    assert [s.slug for s in job.skills.all()] == ["logo-design"]
    services.job_publish(job_id=job.pk, user=client)
    job.refresh_from_db()
    assert job.status == Job.Status.OPEN and job.published_at is not None
    services.job_close(job_id=job.pk, user=client)
    job.refresh_from_db()
    assert job.status == Job.Status.CLOSED
    assert list(
        Event.objects.filter(subject="job", subject_id=job.pk).values_list("kind", flat=True)
    ) == ["created", "published", "closed"]


def test_job_publish_twice_is_refused_with_wrong_state() -> None:
    job = open_job()
    with pytest.raises(Conflict) as err:
        services.job_publish(job_id=job.pk, user=job.created_by)
    assert err.value.code == ErrorCode.WRONG_STATE


def test_job_of_another_client_is_not_found_for_publish() -> None:
    job = draft_job(make_user())
    with pytest.raises(NotFound):
        services.job_publish(job_id=job.pk, user=make_user())


def test_job_draft_refuses_bad_budget_and_unknown_skill() -> None:
    with pytest.raises(ValidationFailed) as err:
        draft_job(make_user(), budget_min=50_000, budget_max=10_000, skills=["no-such-skill"])
    assert set(err.value.fields) == {"budget_max", "skills"}


def test_job_draft_can_be_edited_until_published() -> None:
    client = make_user()
    job = draft_job(client)
    services.job_update_draft(
        job_id=job.pk,
        user=client,
        title="A new logo",
        description="Bread.",
        budget_min=30_000,
        budget_max=30_000,
        skills=[],
    )
    job.refresh_from_db()
    assert job.title == "A new logo" and job.is_fixed
    services.job_publish(job_id=job.pk, user=client)
    with pytest.raises(Conflict) as err:
        services.job_update_draft(
            job_id=job.pk, user=client, title="x", description="y", budget_min=100, budget_max=100
        )
    assert err.value.code == ErrorCode.WRONG_STATE


def test_draft_and_invite_only_jobs_are_hidden_from_others() -> None:
    client, stranger, invited = make_user(), make_user(), make_user()
    draft = draft_job(client)
    closed_job = open_job(client, visibility=Job.Visibility.INVITED)
    services.job_invite(job_id=closed_job.pk, user=client, invitee_id=invited.pk)
    for job in (draft, closed_job):
        with pytest.raises(NotFound):
            selectors.job_get_for_user(job_id=job.pk, user=stranger)
        with pytest.raises(NotFound):
            selectors.job_get_for_user(job_id=job.pk, user=None)
    assert selectors.job_get_for_user(job_id=closed_job.pk, user=invited).can_propose
    assert list(selectors.job_list_for_user(user=stranger)) == []
    assert list(selectors.job_list_for_user(user=invited)) == [closed_job]


def test_organisation_admins_manage_the_organisation_job() -> None:
    owner = make_user()
    organisation = make_organisation(owner)
    job = draft_job(owner, organisation=organisation.slug)
    assert selectors.job_get_for_user(job_id=job.pk, user=owner).can_manage
    with pytest.raises(ValidationFailed) as err:
        draft_job(make_user(), organisation=organisation.slug)
    assert "organisation" in err.value.fields


# --- proposals -------------------------------------------------------------------------------


def test_proposal_create_counts_and_keeps_the_plan() -> None:
    job = open_job()
    proposal = propose(job)
    job.refresh_from_db()
    assert proposal.status == Proposal.Status.SUBMITTED
    assert proposal.milestone_plan == PLAN
    assert job.proposal_count == 1


def test_a_second_proposal_by_the_same_person_is_refused() -> None:
    job, freelancer = open_job(), make_user()
    propose(job, freelancer)
    with pytest.raises(Conflict) as err:
        propose(job, freelancer)
    assert err.value.code == ErrorCode.ALREADY_PROPOSED


def test_a_proposal_past_the_cap_is_refused() -> None:
    job = open_job(proposal_cap=2)
    propose(job)
    propose(job)
    with pytest.raises(Conflict) as err:
        propose(job)
    assert err.value.code == ErrorCode.CAP_REACHED
    assert not selectors.job_get_for_user(job_id=job.pk, user=make_user()).can_propose


def test_a_withdrawn_proposal_frees_its_place_under_the_cap() -> None:
    job = open_job(proposal_cap=1)
    proposal = propose(job)
    services.proposal_withdraw(proposal_id=proposal.pk, user=proposal.freelancer)
    propose(job)
    job.refresh_from_db()
    assert job.proposal_count == 1


def test_proposing_on_your_own_job_is_refused() -> None:
    job = open_job()
    with pytest.raises(PermissionDenied) as err:
        propose(job, job.created_by)
    assert err.value.code == ErrorCode.OWN_JOB


def test_proposing_on_a_draft_or_closed_job() -> None:
    with pytest.raises(NotFound):
        propose(draft_job(make_user()))
    job = open_job()
    services.job_close(job_id=job.pk, user=job.created_by)
    with pytest.raises(Conflict) as err:
        propose(job)
    assert err.value.code == ErrorCode.WRONG_STATE


def test_the_milestone_plan_must_add_up_to_the_price() -> None:
    with pytest.raises(ValidationFailed) as err:
        propose(open_job(), milestone_plan=[{"title": "All", "amount": 100, "days": 3}])
    # The message names both sums, so the freelancer sees what to change.
    assert err.value.fields["milestone_plan"] == [
        f"The milestones add up to {format_cents(100)} and the price is {format_cents(PRICE)}:"
        " make them equal."
    ]


def test_proposal_edit_until_the_client_acts_then_refused() -> None:
    job = open_job()
    proposal = propose(job)
    services.proposal_edit(
        proposal_id=proposal.pk,
        user=proposal.freelancer,
        price=45_000,
        duration_days=10,
        cover_letter="Cheaper.",
        milestone_plan=[],
    )
    proposal.refresh_from_db()
    assert proposal.price == 45_000
    services.proposal_shortlist(proposal_id=proposal.pk, user=job.created_by)
    with pytest.raises(Conflict) as err:
        services.proposal_edit(
            proposal_id=proposal.pk,
            user=proposal.freelancer,
            price=1000,
            duration_days=1,
            cover_letter="x",
        )
    assert err.value.code == ErrorCode.WRONG_STATE


def test_another_freelancer_cannot_see_or_touch_a_proposal() -> None:
    job = open_job()
    proposal = propose(job)
    other = make_user()
    propose(job, other)
    with pytest.raises(NotFound):
        selectors.proposal_get_for_user(proposal_id=proposal.pk, user=other)
    with pytest.raises(NotFound):
        services.proposal_withdraw(proposal_id=proposal.pk, user=other)
    with pytest.raises(NotFound):
        services.proposal_accept(proposal_id=proposal.pk, user=other)


def test_the_freelancer_cannot_shortlist_or_accept_their_own_proposal() -> None:
    proposal = propose(open_job())
    with pytest.raises(PermissionDenied) as err:
        services.proposal_accept(proposal_id=proposal.pk, user=proposal.freelancer)
    assert err.value.code == ErrorCode.NOT_A_MANAGER


def test_decline_needs_a_reason_the_freelancer_reads() -> None:
    job = open_job()
    proposal = propose(job)
    with pytest.raises(ValidationFailed) as err:
        services.proposal_decline(proposal_id=proposal.pk, user=job.created_by, reason=" ")
    assert "reason" in err.value.fields
    services.proposal_decline(proposal_id=proposal.pk, user=job.created_by, reason="Too dear.")
    proposal.refresh_from_db()
    assert (proposal.status, proposal.decline_reason) == (Proposal.Status.DECLINED, "Too dear.")
    with pytest.raises(Conflict) as err2:
        services.proposal_withdraw(proposal_id=proposal.pk, user=proposal.freelancer)
    assert err2.value.code == ErrorCode.WRONG_STATE


def test_accept_hires_makes_the_contract_and_tells_the_others() -> None:
    job = open_job()
    chosen, other = propose(job), propose(job)
    contract = services.proposal_accept(proposal_id=chosen.pk, user=job.created_by)
    job.refresh_from_db()
    other.refresh_from_db()
    chosen.refresh_from_db()
    assert job.status == Job.Status.HIRED
    assert chosen.status == Proposal.Status.ACCEPTED
    assert other.status == Proposal.Status.NOT_SELECTED
    assert contract.freelancer == chosen.freelancer and contract.status == Contract.Status.ACTIVE
    assert [(m.title, m.amount, m.status) for m in contract.milestones.all()] == [
        ("Sketches", 20_000, Milestone.Status.PENDING),
        ("Final", 30_000, Milestone.Status.PENDING),
    ]
    with pytest.raises(Conflict) as err:
        services.proposal_accept(proposal_id=other.pk, user=job.created_by)
    assert err.value.code == ErrorCode.WRONG_STATE


def test_accept_without_a_plan_makes_one_milestone_for_the_price() -> None:
    job = open_job()
    proposal = propose(job, milestone_plan=[])
    contract = services.proposal_accept(proposal_id=proposal.pk, user=job.created_by)
    assert [m.amount for m in contract.milestones.all()] == [PRICE]


def test_a_hired_job_cannot_be_closed_by_hand() -> None:
    job = open_job()
    services.proposal_accept(proposal_id=propose(job).pk, user=job.created_by)
    with pytest.raises(Conflict) as err:
        services.job_close(job_id=job.pk, user=job.created_by)
    assert err.value.code == ErrorCode.WRONG_STATE


def test_the_job_list_shows_open_jobs_first_and_filters() -> None:
    client = make_user()
    closed = open_job(client)
    services.job_close(job_id=closed.pk, user=client)
    cheap = open_job(client, budget_min=10_000, budget_max=10_000)
    dear = open_job(client)
    propose(dear)
    everyone = list(selectors.job_list_for_user(user=None))
    assert everyone[-1] == closed and set(everyone[:2]) == {cheap, dear}
    filters = selectors.JobFilters
    assert list(selectors.job_list_for_user(user=None, filters=filters(budget_min=30_000))) == [
        dear,
        closed,
    ]
    assert cheap in selectors.job_list_for_user(user=None, filters=filters(max_proposals=0))
    assert dear not in selectors.job_list_for_user(user=None, filters=filters(max_proposals=0))
    assert list(
        selectors.job_list_for_user(user=None, filters=filters(skill="logo-design", status="open"))
    ) == [dear, cheap]


def test_the_new_proposal_email_says_who_offers_what() -> None:
    """The client's email names the freelancer, the price and the days, not only 'open
    the page to see the details'."""
    proposal = propose(open_job(), duration_days=10)
    name = proposal.freelancer.profile.display_name
    context = {"proposal_id": proposal.pk}
    body = notification_render(kind="projects.proposal", context=context, language="en")[1]
    assert f"{name} offers to do it for {format_cents(PRICE)} in 10 days." in body
    dutch = notification_render(kind="projects.proposal", context=context, language="nl")[1]
    assert f"{name} biedt aan het te doen voor" in dutch


def test_the_delivery_email_tells_the_client_the_approval_deadline() -> None:
    """The client learns in the email that silence approves and pays the delivery."""
    context = {"milestone_id": first(hired()).pk}
    body = notification_render(kind="projects.delivered", context=context, language="en")[1]
    assert f"approved and paid automatically after {AUTO_APPROVE_DAYS} days." in body
    dutch = notification_render(kind="projects.delivered", context=context, language="nl")[1]
    assert f"na {AUTO_APPROVE_DAYS} dagen automatisch goedgekeurd en betaald." in dutch


def test_the_hired_and_dispute_emails_say_what_happens_to_the_money() -> None:
    """Hired: start once a milestone is funded (held in escrow). Dispute: the money stays
    in escrow, the two sides have DISPUTE_AGREE_DAYS to agree a split, then staff decide."""
    context = {"contract_id": hired().pk}
    body = notification_render(kind="projects.hired", context=context, language="en")[1]
    assert "Start on a milestone once the client has funded it" in body
    subject, body = notification_render(kind="projects.dispute", context=context, language="en")
    assert subject.startswith("A dispute was opened on")
    assert f"accept a split within {DISPUTE_AGREE_DAYS} days; after that" in body
    dutch = notification_render(kind="projects.dispute", context=context, language="nl")[1]
    assert f"binnen {DISPUTE_AGREE_DAYS} dagen" in dutch


@pytest.mark.parametrize(
    ("what", "says"),
    [
        ("end_requested", "that money goes back to the client"),
        ("dispute_offer", "Accept the split on the contract page"),
        ("dispute_resolved", "your wallet shows your share"),
    ],
)
def test_the_ending_and_dispute_emails_say_what_to_do(what: str, says: str) -> None:
    context = {"contract_id": hired().pk}
    assert says in notification_render(kind=f"projects.{what}", context=context, language="en")[1]
