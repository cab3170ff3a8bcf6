"""Contracts and their money: funding into escrow, delivery, changes, approval, the clock
(reminders, auto-approval), ending, disputes and reviews — every move and refusal."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from trefpunt.community.models import Notification
from trefpunt.core.exceptions import (
    Conflict,
    ErrorCode,
    InsufficientFunds,
    NotFound,
    PermissionDenied,
)
from trefpunt.core.money import split_bps
from trefpunt.projects import selectors, services
from trefpunt.projects.models import Contract, Delivery, Dispute, Job, Milestone

from .factories import (
    assert_money_consistent,
    balance,
    delivered,
    escrow_of,
    first,
    funded,
    hired,
    make_user,
    milestones,
)

pytestmark = pytest.mark.django_db
M = Milestone.Status
CROWD = 1000  # bps, the project default
CLIENT = 500


def net(amount: int) -> int:
    return amount - split_bps(amount, CROWD)


def test_fund_moves_amount_and_fee_into_the_milestone_escrow() -> None:
    contract = hired()
    milestone = funded(contract)
    assert milestone.status == M.FUNDED
    assert milestone.client_fee == split_bps(20_000, CLIENT)
    assert escrow_of(milestone) == 20_000 + milestone.client_fee
    assert_money_consistent()


def test_fund_without_money_refuses_and_moves_nothing() -> None:
    contract = hired()
    with pytest.raises(InsufficientFunds) as err:
        services.milestone_fund(milestone_id=first(contract).pk, user=contract.client)
    assert err.value.code == ErrorCode.INSUFFICIENT_FUNDS
    assert first(contract).status == M.PENDING
    assert escrow_of(first(contract)) == 0


def test_fund_twice_is_refused_and_funds_once() -> None:
    contract = hired()
    milestone = funded(contract)
    with pytest.raises(Conflict) as err:
        services.milestone_fund(milestone_id=milestone.pk, user=contract.client)
    assert err.value.code == ErrorCode.WRONG_STATE
    assert escrow_of(milestone) == 20_000 + milestone.client_fee


def test_fund_with_the_same_idempotency_key_returns_the_first_result() -> None:
    contract = hired()
    milestone = first(contract)
    amount, fee = services.milestone_funding_total(milestone)
    from trefpunt.ledger.tests.factories import fund_wallet

    from .factories import payer_wallet

    fund_wallet(payer_wallet(contract), contract.client, amount + fee)
    for _ in range(2):
        services.milestone_fund(
            milestone_id=milestone.pk, user=contract.client, idempotency_key="k1"
        )
    assert escrow_of(milestone) == amount + fee
    assert_money_consistent()


def test_only_the_client_funds_and_strangers_get_not_found() -> None:
    contract = hired()
    with pytest.raises(PermissionDenied) as err:
        services.milestone_fund(milestone_id=first(contract).pk, user=contract.freelancer)
    assert err.value.code == ErrorCode.NOT_A_MANAGER
    with pytest.raises(NotFound):
        services.milestone_fund(milestone_id=first(contract).pk, user=make_user())


def test_delivering_on_an_unfunded_milestone_is_refused() -> None:
    contract = hired()
    with pytest.raises(Conflict) as err:
        services.milestone_deliver(
            milestone_id=first(contract).pk, user=contract.freelancer, message="Done"
        )
    assert err.value.code == ErrorCode.NOT_FUNDED


def test_only_the_freelancer_delivers() -> None:
    contract = hired()
    milestone = funded(contract)
    with pytest.raises(PermissionDenied) as err:
        services.milestone_deliver(milestone_id=milestone.pk, user=contract.client, message="x")
    assert err.value.code == ErrorCode.FORBIDDEN


def test_deliver_with_a_file_checked_by_content() -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from trefpunt.core.exceptions import ValidationFailed

    contract = hired()
    milestone = funded(contract)
    fake = SimpleUploadedFile("logo.png", b"not an image at all", content_type="image/png")
    with pytest.raises(ValidationFailed) as err:
        services.milestone_deliver(
            milestone_id=milestone.pk, user=contract.freelancer, message="x", files=[fake]
        )
    assert "files" in err.value.fields
    pdf = SimpleUploadedFile("logo.pdf", b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n%%EOF\n")
    delivery = services.milestone_deliver(
        milestone_id=milestone.pk, user=contract.freelancer, message="PDF", files=[pdf]
    )
    assert [f.original_name for f in delivery.files.all()] == ["logo.pdf"]


def test_request_changes_then_deliver_again_then_approve_pays_the_freelancer() -> None:
    contract = hired()
    milestone = delivered(contract)
    services.milestone_request_changes(
        milestone_id=milestone.pk, user=contract.client, reason="Bigger loaf, please."
    )
    milestone.refresh_from_db()
    assert (milestone.status, milestone.changes_count) == (M.CHANGES, 1)
    assert Delivery.objects.get(milestone=milestone).answer == Delivery.Answer.CHANGES
    delivered(contract, milestone)
    services.milestone_approve(milestone_id=milestone.pk, user=contract.client)
    milestone.refresh_from_db()
    assert milestone.status == M.RELEASED and not milestone.auto_approved
    assert milestone.paid_net == net(20_000)
    assert balance(contract.freelancer) == net(20_000)
    assert escrow_of(milestone) == 0
    assert_money_consistent()


def test_approving_someone_elses_milestone_is_refused() -> None:
    contract = hired()
    milestone = delivered(contract)
    with pytest.raises(NotFound):
        services.milestone_approve(milestone_id=milestone.pk, user=make_user())
    with pytest.raises(PermissionDenied) as err:
        services.milestone_approve(milestone_id=milestone.pk, user=contract.freelancer)
    assert err.value.code == ErrorCode.NOT_A_MANAGER
    other = hired()
    with pytest.raises(NotFound):
        services.milestone_approve(milestone_id=milestone.pk, user=other.client)


def test_approve_before_delivery_and_twice_are_refused() -> None:
    contract = hired()
    milestone = funded(contract)
    with pytest.raises(Conflict) as err:
        services.milestone_approve(milestone_id=milestone.pk, user=contract.client)
    assert err.value.code == ErrorCode.WRONG_STATE
    delivered(contract, milestone)
    services.milestone_approve(milestone_id=milestone.pk, user=contract.client)
    with pytest.raises(Conflict):
        services.milestone_approve(milestone_id=milestone.pk, user=contract.client)
    assert balance(contract.freelancer) == net(20_000)


def test_approving_every_milestone_ends_the_contract_and_closes_the_job() -> None:
    contract = hired()
    for milestone in milestones(contract):
        delivered(contract, funded(contract, milestone))
        services.milestone_approve(milestone_id=milestone.pk, user=contract.client)
    contract.refresh_from_db()
    assert contract.status == Contract.Status.ENDED and contract.ended_at is not None
    assert Job.objects.get(pk=contract.job_id).status == Job.Status.CLOSED
    assert balance(contract.freelancer) == net(20_000) + net(30_000)
    assert_money_consistent()


def test_milestone_add_by_the_client_only() -> None:
    contract = hired()
    added = services.milestone_add(
        contract_id=contract.pk, user=contract.client, title="Business cards", amount=10_000
    )
    assert added.position == 2 and added.status == M.PENDING
    with pytest.raises(PermissionDenied):
        services.milestone_add(
            contract_id=contract.pk, user=contract.freelancer, title="Bonus", amount=10_000
        )


# --- the clock -------------------------------------------------------------------------------


def test_reminders_at_7_and_12_days_then_auto_approve_at_14(
    django_capture_on_commit_callbacks: Any,
) -> None:
    contract = hired()
    milestone = delivered(contract)
    start = timezone.now()

    def reminders() -> int:
        return Notification.objects.filter(user=contract.client, kind="projects.reminder").count()

    with time_machine.travel(start + timedelta(days=6, hours=23), tick=False):
        assert services.milestones_sweep() == {"reminded": [], "approved": []}
    with (
        time_machine.travel(start + timedelta(days=7, minutes=1), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert services.milestones_sweep()["reminded"] == [milestone.pk]
        assert services.milestones_sweep()["reminded"] == []
    with (
        time_machine.travel(start + timedelta(days=12, minutes=1), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert services.milestones_sweep()["reminded"] == [milestone.pk]
    assert reminders() == 2
    with time_machine.travel(start + timedelta(days=13, hours=23), tick=False):
        assert services.milestones_sweep()["approved"] == []
    with time_machine.travel(start + timedelta(days=14, minutes=1), tick=False):
        assert services.milestones_sweep()["approved"] == [milestone.pk]
        assert services.milestones_sweep()["approved"] == []
    milestone.refresh_from_db()
    assert milestone.status == M.RELEASED and milestone.auto_approved
    assert balance(contract.freelancer) == net(20_000)
    assert_money_consistent()


def test_auto_approve_is_refused_before_it_is_due() -> None:
    contract = hired()
    milestone = delivered(contract)
    with pytest.raises(Conflict) as err:
        services.milestone_approve(milestone_id=milestone.pk, user=None, auto=True)
    assert err.value.code == ErrorCode.NOT_DUE


def test_changes_requested_stop_the_auto_approval_clock() -> None:
    contract = hired()
    milestone = delivered(contract)
    services.milestone_request_changes(milestone_id=milestone.pk, user=contract.client, reason="x")
    with time_machine.travel(timezone.now() + timedelta(days=30), tick=False):
        assert services.milestones_sweep() == {"reminded": [], "approved": []}


# --- ending ----------------------------------------------------------------------------------


def test_end_without_money_in_escrow_ends_at_once() -> None:
    contract = hired()
    services.contract_end(contract_id=contract.pk, user=contract.client)
    contract.refresh_from_db()
    assert contract.status == Contract.Status.ENDED
    assert {m.status for m in milestones(contract)} == {M.CANCELLED}


def test_end_with_funded_work_refunds_when_both_sides_ask() -> None:
    contract = hired()
    milestone = funded(contract)
    paid_in = 20_000 + milestone.client_fee
    services.contract_end(contract_id=contract.pk, user=contract.client)
    contract.refresh_from_db()
    assert contract.status == Contract.Status.ACTIVE
    assert contract.end_requested_by == contract.client
    services.contract_end(contract_id=contract.pk, user=contract.client)  # same side: no agreement
    contract.refresh_from_db()
    assert contract.status == Contract.Status.ACTIVE
    services.contract_end(contract_id=contract.pk, user=contract.freelancer)
    contract.refresh_from_db()
    milestone.refresh_from_db()
    assert contract.status == Contract.Status.ENDED
    assert (milestone.status, milestone.refunded) == (M.REFUNDED, paid_in)
    assert balance(contract.client) == paid_in
    assert_money_consistent()


def test_end_with_a_delivery_waiting_is_refused() -> None:
    contract = hired()
    delivered(contract)
    with pytest.raises(Conflict) as err:
        services.contract_end(contract_id=contract.pk, user=contract.freelancer)
    assert err.value.code == ErrorCode.WRONG_STATE


# --- disputes --------------------------------------------------------------------------------


def test_dispute_agreed_split_moves_the_money_once() -> None:
    contract = hired()
    milestone = delivered(contract)
    fee = milestone.client_fee
    dispute = services.dispute_open(
        contract_id=contract.pk, user=contract.client, reason="Not what we asked."
    )
    assert dispute.amount == 20_000
    milestone.refresh_from_db()
    assert milestone.status == M.DISPUTED
    with pytest.raises(Conflict):
        services.milestone_approve(milestone_id=milestone.pk, user=contract.client)
    with pytest.raises(Conflict) as no_offer:
        services.dispute_accept(contract_id=contract.pk, user=contract.client, freelancer_amount=0)
    assert no_offer.value.code == ErrorCode.NO_OFFER
    services.dispute_offer(
        contract_id=contract.pk, user=contract.freelancer, freelancer_amount=12_000
    )
    with pytest.raises(Conflict) as own:
        services.dispute_accept(
            contract_id=contract.pk, user=contract.freelancer, freelancer_amount=12_000
        )
    assert own.value.code == ErrorCode.OWN_OFFER
    with pytest.raises(Conflict) as changed:
        services.dispute_accept(contract_id=contract.pk, user=contract.client, freelancer_amount=1)
    assert changed.value.code == ErrorCode.NO_OFFER
    services.dispute_accept(contract_id=contract.pk, user=contract.client, freelancer_amount=12_000)
    dispute.refresh_from_db()
    milestone.refresh_from_db()
    contract.refresh_from_db()
    assert dispute.status == Dispute.Status.RESOLVED and dispute.freelancer_share == 12_000
    assert milestone.status == M.RESOLVED
    assert balance(contract.freelancer) == net(12_000)
    client_fee_used = fee * 12_000 // 20_000
    assert balance(contract.client) == 8_000 + fee - client_fee_used
    assert contract.status == Contract.Status.ENDED
    assert escrow_of(milestone) == 0
    with pytest.raises(Conflict):
        services.dispute_accept(
            contract_id=contract.pk, user=contract.client, freelancer_amount=12_000
        )
    assert_money_consistent()


def test_dispute_goes_to_staff_after_7_days_and_staff_decide_with_a_reason() -> None:
    contract = hired()
    milestone = delivered(contract)
    services.dispute_open(contract_id=contract.pk, user=contract.freelancer, reason="No answer.")
    staff = make_user(is_staff=True)
    with pytest.raises(Conflict):
        services.dispute_decide(
            contract_id=contract.pk, user=staff, freelancer_amount=20_000, reason="Delivered."
        )
    assert services.disputes_sweep() == []
    with time_machine.travel(timezone.now() + timedelta(days=7, minutes=1), tick=False):
        with pytest.raises(Conflict):
            services.dispute_offer(
                contract_id=contract.pk, user=contract.client, freelancer_amount=0
            )
        assert len(services.disputes_sweep()) == 1
    with pytest.raises(NotFound):
        services.dispute_decide(
            contract_id=contract.pk, user=contract.client, freelancer_amount=0, reason="Mine."
        )
    services.dispute_decide(
        contract_id=contract.pk, user=staff, freelancer_amount=20_000, reason="The work is done."
    )
    dispute = Dispute.objects.get(contract=contract)
    assert dispute.decision_reason == "The work is done." and dispute.decided_by == staff
    assert balance(contract.freelancer) == net(20_000)
    milestone.refresh_from_db()
    assert milestone.paid_net == net(20_000)
    assert_money_consistent()


def test_a_dispute_needs_money_in_escrow_and_a_party() -> None:
    contract = hired()
    with pytest.raises(Conflict) as err:
        services.dispute_open(contract_id=contract.pk, user=contract.client, reason="x")
    assert err.value.code == ErrorCode.NOTHING_IN_ESCROW
    with pytest.raises(NotFound):
        services.dispute_open(contract_id=contract.pk, user=make_user(), reason="x")


# --- reviews ---------------------------------------------------------------------------------


def ended() -> Contract:
    contract = hired()
    services.contract_end(contract_id=contract.pk, user=contract.client)
    contract.refresh_from_db()
    return contract


def test_reviews_hidden_until_both_are_in() -> None:
    contract = ended()
    stranger = make_user()
    services.review_create(contract_id=contract.pk, user=contract.client, rating=5, text="Great.")
    assert len(selectors.contract_reviews_for(contract=contract, user=contract.client)) == 1
    assert selectors.contract_reviews_for(contract=contract, user=contract.freelancer) == []
    assert selectors.contract_reviews_for(contract=contract, user=stranger) == []
    assert list(selectors.reviews_of_user(user_id=contract.freelancer_id)) == []
    services.review_create(contract_id=contract.pk, user=contract.freelancer, rating=4, text="Ok.")
    for who in (contract.client, contract.freelancer, stranger):
        assert len(selectors.contract_reviews_for(contract=contract, user=who)) == 2
    assert [r.rating for r in selectors.reviews_of_user(user_id=contract.freelancer_id)] == [5]


def test_reviews_revealed_after_14_days_and_late_reviews_refused() -> None:
    contract = ended()
    services.review_create(contract_id=contract.pk, user=contract.client, rating=2, text="Slow.")
    later = timezone.now() + timedelta(days=14, minutes=1)
    with time_machine.travel(later, tick=False):
        assert len(selectors.contract_reviews_for(contract=contract, user=make_user())) == 1
        with pytest.raises(Conflict) as err:
            services.review_create(
                contract_id=contract.pk, user=contract.freelancer, rating=1, text="Revenge."
            )
        assert err.value.code == ErrorCode.EDIT_WINDOW_CLOSED


def test_reviewing_twice_or_before_the_end_is_refused() -> None:
    contract = hired()
    with pytest.raises(Conflict) as early:
        services.review_create(contract_id=contract.pk, user=contract.client, rating=5, text="x")
    assert early.value.code == ErrorCode.WRONG_STATE
    services.contract_end(contract_id=contract.pk, user=contract.client)
    services.review_create(contract_id=contract.pk, user=contract.client, rating=5, text="x")
    with pytest.raises(Conflict) as twice:
        services.review_create(contract_id=contract.pk, user=contract.client, rating=4, text="y")
    assert twice.value.code == ErrorCode.ALREADY_REVIEWED
    with pytest.raises(NotFound):
        services.review_create(contract_id=contract.pk, user=make_user(), rating=4, text="y")


def test_track_record_counts_revealed_reviews_and_completed_contracts() -> None:
    from trefpunt.projects.selectors.matches import track_record

    contract = ended()
    services.review_create(contract_id=contract.pk, user=contract.client, rating=4, text="Fine.")
    services.review_create(contract_id=contract.pk, user=contract.freelancer, rating=5, text="Ok")
    record = track_record(contract.freelancer_id)
    assert (record.completed, record.rating, record.reviews) == (1, 4.0, 1)


def test_proposals_and_deliveries_reach_the_clients_webhook_endpoint(
    django_capture_on_commit_callbacks,
) -> None:
    import json

    from trefpunt.webhooks.services import endpoint_create
    from trefpunt.webhooks.tests.receiver import receiver

    from .factories import delivered, hired, open_job, propose

    job = open_job()
    events = ["project.proposal_received", "project.milestone_delivered"]
    with receiver([]) as hook:
        endpoint_create(user=job.created_by, url=hook.url, events=events)
        with django_capture_on_commit_callbacks(execute=True):
            proposal = propose(job)
        contract = hired(client=job.created_by)
        with django_capture_on_commit_callbacks(execute=True):
            milestone = delivered(contract)
    first, second = (json.loads(r.body) for r in hook.requests)

    assert first["type"] == "project.proposal_received"
    assert first["data"]["proposal"]["id"] == proposal.pk
    assert second["type"] == "project.milestone_delivered"
    assert second["data"]["milestone"]["id"] == milestone.pk
