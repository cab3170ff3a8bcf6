"""Disputes, cheap for small amounts. Step 1: the two sides propose and accept a split of
what the disputed milestones hold, within ``DISPUTE_AGREE_DAYS`` and without staff. Step 2
(after the deadline, or when either side asks): staff decide a split with a written reason
both sides read. No fee for either step. The money stays in escrow until a split is agreed
or decided, then moves once: the move "to resolved if still open" decides, and each
payment's key backs it.

Lock order: the disputed milestones' escrows (ledger order), then the dispute, the contract
and the milestones, then wallets."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from trefpunt.core.exceptions import Conflict, ErrorCode, NotFound, PermissionDenied
from trefpunt.core.money import split_bps
from trefpunt.ledger.funded import (
    fee_shares,
    work_escrow,
    work_escrow_lookup,
    work_pay,
    work_payees_lock,
    work_refund,
)
from trefpunt.ledger.services import accounts_lock

from ..models import Contract, Dispute, Milestone
from ..rules import DISPUTE_AGREE_DAYS
from ..selectors import contract_get_for_user
from ..states import CONTRACT_STATES, DISPUTE_STATES, MILESTONE_STATES
from .common import client_people, milestone_work, money_clean, raise_if, tell, text_clean
from .contracts import IN_ESCROW, _finish_unlocked

if TYPE_CHECKING:
    from trefpunt.accounts.models import User

D = Dispute.Status
M = Milestone.Status


def _party(contract_id: int, user: User) -> Contract:
    access = contract_get_for_user(contract_id=contract_id, user=user)
    if not access.is_party:
        raise PermissionDenied(
            _("Only the two sides of the contract take part in its dispute."),
            code=ErrorCode.FORBIDDEN,
        )
    return access.contract


def _everyone(contract: Contract) -> list[int]:
    return [contract.freelancer_id, *client_people(contract)]


def dispute_open(*, contract_id: int, user: User, reason: str) -> Dispute:
    """Either side opens a dispute over the milestones in escrow (funded, delivered or sent
    back for changes); they stop moving until it is settled."""
    contract = _party(contract_id, user)
    CONTRACT_STATES.check(contract, Contract.Status.DISPUTED, _("open a dispute"))
    errors: dict[str, str] = {}
    reason = text_clean(errors, Dispute, "reason", reason)
    raise_if(errors)
    held = list(Milestone.objects.filter(contract=contract, status__in=IN_ESCROW))
    escrows = [e for e in (work_escrow_lookup(milestone_work(m, contract)) for m in held) if e]
    with transaction.atomic(durable=True):
        accounts_lock(escrows)
        contract = Contract.objects.select_for_update().get(pk=contract.pk)
        CONTRACT_STATES.check(contract, Contract.Status.DISPUTED, _("open a dispute"))
        held = list(
            Milestone.objects.select_for_update().filter(contract=contract, status__in=IN_ESCROW)
        )
        if not held:
            raise Conflict(
                _("No money of this contract is in escrow: there is nothing to dispute."),
                code=ErrorCode.NOTHING_IN_ESCROW,
            )
        for milestone in held:
            MILESTONE_STATES.move(milestone, M.DISPUTED, action=_("open a dispute"), actor=user)
        CONTRACT_STATES.move(
            contract,
            Contract.Status.DISPUTED,
            action=_("open a dispute"),
            actor=user,
            event="dispute_opened",
        )
        dispute = Dispute.objects.create(
            contract=contract,
            opened_by=user,
            reason=reason,
            amount=sum(m.amount for m in held),
            step_deadline=timezone.now() + timedelta(days=DISPUTE_AGREE_DAYS),
        )
        tell(
            _everyone(contract),
            "projects.dispute",
            path=contract.get_absolute_url(),
            skip=user.pk,
            contract_id=contract.pk,
        )
    return dispute


def _dispute(contract: Contract) -> Dispute:
    dispute = Dispute.objects.filter(contract=contract).first()
    if dispute is None:
        raise NotFound(_("This contract has no dispute."))
    return dispute


def _share_clean(errors: dict[str, str], contract: Contract, dispute: Dispute, amount: Any) -> int:
    """The freelancer's share of the disputed money: from nothing to all of it."""
    return money_clean(
        errors, "freelancer_amount", amount, 0, dispute.amount, currency=contract.currency
    )


def dispute_offer(*, contract_id: int, user: User, freelancer_amount: Any) -> Dispute:
    """Step 1: propose what the freelancer gets of the disputed money (the rest goes back to
    the client). The other side accepts it, or proposes another split."""
    contract = _party(contract_id, user)
    dispute = _dispute(contract)
    errors: dict[str, str] = {}
    share = _share_clean(errors, contract, dispute, freelancer_amount)
    raise_if(errors)
    if dispute.status != D.NEGOTIATING or timezone.now() >= dispute.step_deadline:
        raise DISPUTE_STATES.wrong_state(dispute, _("propose a split"))
    with transaction.atomic(durable=True):
        updated = Dispute.objects.filter(pk=dispute.pk, status=D.NEGOTIATING).update(
            offer_freelancer=share, offer_by=user
        )
        if not updated:
            raise DISPUTE_STATES.wrong_state(dispute, _("propose a split"))
        dispute.offer_freelancer, dispute.offer_by = share, user
        tell(
            _everyone(contract),
            "projects.dispute_offer",
            path=contract.get_absolute_url(),
            skip=user.pk,
            contract_id=contract.pk,
        )
    return dispute


def dispute_accept(*, contract_id: int, user: User, freelancer_amount: Any) -> Dispute:
    """Step 1: accept the other side's proposal; ``freelancer_amount`` is the split the
    accepting side saw (a changed proposal is not accepted by mistake). Settles at once."""
    contract = _party(contract_id, user)
    dispute = _dispute(contract)
    if dispute.status != D.NEGOTIATING or timezone.now() >= dispute.step_deadline:
        raise DISPUTE_STATES.wrong_state(dispute, _("accept the split"))
    if dispute.offer_freelancer is None or dispute.offer_by_id is None:
        raise Conflict(_("Nobody has proposed a split yet."), code=ErrorCode.NO_OFFER)
    by_freelancer = user.pk == contract.freelancer_id
    if (dispute.offer_by_id == contract.freelancer_id) == by_freelancer:
        raise Conflict(
            _("The other side accepts your proposal; you cannot accept it yourself."),
            code=ErrorCode.OWN_OFFER,
        )
    if str(freelancer_amount) != str(dispute.offer_freelancer):
        raise Conflict(
            _("The proposal changed; read it again before accepting."), code=ErrorCode.NO_OFFER
        )
    return _settle(
        dispute, share=dispute.offer_freelancer, actor=user, sources={D.NEGOTIATING}, reason=""
    )


def dispute_escalate(*, contract_id: int, user: User | None = None) -> bool:
    """To step 2 (staff): by either side at any time, or by the sweep after the deadline."""
    if user is not None:
        dispute = _dispute(_party(contract_id, user))
    else:
        dispute = Dispute.objects.filter(contract_id=contract_id).first()  # type: ignore[assignment]
        if dispute is None or dispute.step_deadline > timezone.now():
            return False
    with transaction.atomic(durable=True):
        moved = Dispute.objects.filter(pk=dispute.pk, status=D.NEGOTIATING).update(status=D.STAFF)
        if not moved and user is not None:
            raise DISPUTE_STATES.wrong_state(dispute, _("ask staff to decide"))
        if moved:
            from trefpunt.core.states import event_record

            event_record(subject="dispute", subject_id=dispute.pk, kind="to_staff", actor=user)
    return bool(moved)


def disputes_sweep() -> list[int]:
    due = Dispute.objects.filter(status=D.NEGOTIATING, step_deadline__lte=timezone.now())
    return [
        pk
        for pk, contract_id in due.values_list("pk", "contract_id")
        if dispute_escalate(contract_id=contract_id)
    ]


def dispute_decide(*, contract_id: int, user: User, freelancer_amount: Any, reason: str) -> Dispute:
    """Step 2: staff decide the split, with a written reason both sides read."""
    if not user.is_staff:
        raise NotFound(_("Contract not found."))
    contract = contract_get_for_user(contract_id=contract_id, user=user).contract
    dispute = _dispute(contract)
    errors: dict[str, str] = {}
    share = _share_clean(errors, contract, dispute, freelancer_amount)
    reason = text_clean(errors, Dispute, "decision_reason", reason)
    if "decision_reason" in errors:
        errors["reason"] = errors.pop("decision_reason")
    raise_if(errors)
    if dispute.status != D.STAFF:
        raise DISPUTE_STATES.wrong_state(dispute, _("decide the dispute"))
    return _settle(dispute, share=share, actor=user, sources={D.STAFF}, reason=reason)


def _settle(
    dispute: Dispute, *, share: int, actor: User, sources: set[str], reason: str
) -> Dispute:
    """Pay ``share`` to the freelancer and the rest back to the client, milestone by
    milestone in order (each milestone's client fee shared out in proportion), once."""
    contract = dispute.contract
    milestones = list(Milestone.objects.filter(contract=contract, status=M.DISPUTED))
    works = {m.pk: milestone_work(m, contract) for m in milestones}
    with transaction.atomic(durable=True):
        fresh = accounts_lock(work_escrow(works[m.pk]) for m in milestones)
        escrows = {m.pk: fresh[work_escrow(works[m.pk]).pk] for m in milestones}
        locked = Dispute.objects.select_for_update().get(pk=dispute.pk)
        if locked.status not in sources:
            raise DISPUTE_STATES.wrong_state(locked, _("settle the dispute"))
        if locked.offer_freelancer != share and sources == {D.NEGOTIATING}:
            raise Conflict(
                _("The proposal changed; read it again before accepting."),
                code=ErrorCode.NO_OFFER,
            )
        contract = Contract.objects.select_for_update().get(pk=contract.pk)
        DISPUTE_STATES.move(
            locked,
            D.RESOLVED,
            action=_("settle the dispute"),
            actor=actor,
            event="resolved",
            data={"freelancer": share},
            freelancer_share=share,
            decision_reason=reason,
            decided_by=actor if reason else None,
            resolved_at=timezone.now(),
        )
        left = share
        for milestone in Milestone.objects.select_for_update().filter(
            contract=contract, status=M.DISPUTED
        ):
            pay = min(left, milestone.amount)
            left -= pay
            escrow = escrows[milestone.pk]
            work = works[milestone.pk]
            work_payees_lock(work=work, escrow=escrow, payee_ids=[contract.freelancer_id])
            net = 0
            if pay:
                crowd_fee = split_bps(pay, contract.crowd_fee_bps)
                work_pay(
                    work=work,
                    escrow=escrow,
                    payee_id=contract.freelancer_id,
                    amount=pay,
                    crowd_fee=crowd_fee,
                    client_fee=fee_shares(
                        fee=milestone.client_fee, base=milestone.amount, amounts=[pay]
                    )[0],
                    idempotency_key=f"milestone:{milestone.pk}:dispute:{locked.pk}:pay",
                    description=f"Dispute split on milestone {milestone.pk}",
                    created_by=actor,
                )
                net = pay - crowd_fee
            refunded = work_refund(
                work=work,
                escrow=escrow,
                idempotency_key=f"milestone:{milestone.pk}:dispute:{locked.pk}:refund",
                description=f"Dispute split on milestone {milestone.pk}",
                created_by=actor,
            )
            MILESTONE_STATES.move(
                milestone,
                M.RESOLVED,
                action=_("settle the dispute"),
                actor=actor,
                paid_net=net,
                refunded=refunded,
            )
        _finish_unlocked(contract, actor)
        tell(
            _everyone(contract),
            "projects.dispute_resolved",
            path=contract.get_absolute_url(),
            contract_id=contract.pk,
        )
    return locked
