"""A contract's money: milestones funded into their own escrow (the client's wallet pays,
with a deposit of the shortfall when needed), delivered by the freelancer, approved (the
escrow pays the freelancer minus the crowd fee) or sent back for changes with a reason;
auto-approved after ``AUTO_APPROVE_DAYS`` of client silence, with reminders before. Either
side may end the contract; money still in escrow goes back when both sides ask for the end,
or to a dispute (``disputes.py``).

Lock order (the platform's): a milestone's escrow, then the contract's rows (contract, then
milestone), then wallets. The state move "from submitted to released if still submitted"
and the journal entry's idempotency key each make sure a milestone pays once."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Max
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from trefpunt.core.exceptions import Conflict, ErrorCode, PermissionDenied, ValidationFailed
from trefpunt.core.files import Derived, file_prepare
from trefpunt.core.money import split_bps
from trefpunt.ledger.funded import (
    work_deposit_shortfall,
    work_escrow_lock,
    work_escrow_lookup,
    work_fund,
    work_pay,
    work_refund,
)
from trefpunt.ledger.services import accounts_lock

from ..models import Contract, Delivery, DeliveryFile, Job, Milestone
from ..rules import AUTO_APPROVE_DAYS, MAX_MILESTONES, REMINDER_DAYS
from ..selectors import ContractAccess, contract_get_for_user
from ..states import CONTRACT_STATES, JOB_STATES, MILESTONE_STATES
from ..webhooks import milestone_delivered_emit
from .common import (
    client_people,
    milestone_work,
    money_clean,
    raise_if,
    tell,
    text_clean,
)

if TYPE_CHECKING:
    from trefpunt.accounts.models import User
    from trefpunt.ledger.models import Deposit

M = Milestone.Status
IN_ESCROW = [M.FUNDED, M.SUBMITTED, M.CHANGES]
MAX_DELIVERY_FILES = 5


def _client(contract_id: int, user: User, action: str) -> ContractAccess:
    access = contract_get_for_user(contract_id=contract_id, user=user)
    if not access.is_client:
        raise PermissionDenied(
            _("Only the client can %(action)s.") % {"action": action},
            code=ErrorCode.NOT_A_MANAGER,
        )
    return access


def _freelancer(contract_id: int, user: User, action: str) -> ContractAccess:
    access = contract_get_for_user(contract_id=contract_id, user=user)
    if not access.is_freelancer:
        raise PermissionDenied(
            _("Only the freelancer can %(action)s.") % {"action": action},
            code=ErrorCode.FORBIDDEN,
        )
    return access


def _milestone(milestone_id: int, user: User | None) -> tuple[Milestone, ContractAccess | None]:
    """The milestone and its contract's access; not-found for people outside the contract."""
    from ..selectors import contract_access

    milestone = Milestone.objects.select_related("contract__job").filter(pk=milestone_id).first()
    if milestone is None:
        from trefpunt.core.exceptions import NotFound

        raise NotFound(_("Milestone not found."))
    if user is None:
        return milestone, None
    access = contract_access(milestone.contract, user)
    if not access.can_view:
        from trefpunt.core.exceptions import NotFound

        raise NotFound(_("Milestone not found."))
    return milestone, access


def _active(contract: Contract, action: str) -> None:
    if contract.status != Contract.Status.ACTIVE:
        raise CONTRACT_STATES.wrong_state(contract, action)


# --- milestones ------------------------------------------------------------------------------


def milestone_add(
    *, contract_id: int, user: User, title: str, amount: Any, due_date: date | None = None
) -> Milestone:
    """The client adds a milestone (funded when it starts)."""
    access = _client(contract_id, user, _("add milestones"))
    _active(access.contract, _("add milestones"))
    errors: dict[str, str] = {}
    title = text_clean(errors, Milestone, "title", title)
    cents = money_clean(errors, "amount", amount, 100, currency=access.contract.currency)
    if due_date is not None and due_date < timezone.localdate():
        errors["due_date"] = _("Choose a date in the future.")
    raise_if(errors)
    with transaction.atomic(durable=True):
        contract = Contract.objects.select_for_update().get(pk=contract_id)
        _active(contract, _("add milestones"))
        last = Milestone.objects.filter(contract=contract).aggregate(n=Max("position"))["n"]
        if Milestone.objects.filter(contract=contract).count() >= MAX_MILESTONES:
            raise ValidationFailed(
                fields={"title": _("At most %(n)d milestones.") % {"n": MAX_MILESTONES}}
            )
        milestone = Milestone.objects.create(
            contract=contract,
            position=(last if last is not None else -1) + 1,
            title=title,
            amount=cents,
            due_date=due_date,
        )
    tell(
        [contract.freelancer_id],
        "projects.milestone_added",
        path=contract.get_absolute_url(),
        milestone_id=milestone.pk,
    )
    return milestone


def milestone_funding_total(milestone: Milestone) -> tuple[int, int]:
    """(amount, client fee) that funding moves into the milestone's escrow."""
    return milestone.amount, split_bps(milestone.amount, milestone.contract.client_fee_bps)


def milestone_fund(*, milestone_id: int, user: User, idempotency_key: str = "") -> Milestone:
    """Move the milestone's amount and the client fee from the payer's wallet into its
    escrow; too little refuses with ``insufficient_funds`` naming the shortfall and nothing
    moves. Work starts on a funded milestone only.

    Locks: the milestone's escrow, then the milestone row."""
    milestone, access = _milestone(milestone_id, user)
    assert access is not None
    if not access.is_client:
        raise PermissionDenied(
            _("Only the client can fund a milestone."), code=ErrorCode.NOT_A_MANAGER
        )
    if idempotency_key and MILESTONE_STATES.replayed(milestone.pk, "funded", idempotency_key):
        return milestone
    _active(milestone.contract, _("fund a milestone"))
    MILESTONE_STATES.check(milestone, M.FUNDED, _("fund the milestone"))
    amount, fee = milestone_funding_total(milestone)
    work = milestone_work(milestone)
    with transaction.atomic(durable=True):
        escrow = work_escrow_lock(work)
        milestone = (
            Milestone.objects.select_for_update().select_related("contract").get(pk=milestone.pk)
        )
        _active(milestone.contract, _("fund a milestone"))
        MILESTONE_STATES.move(
            milestone,
            M.FUNDED,
            action=_("fund the milestone"),
            actor=user,
            event="funded",
            idempotency_key=idempotency_key,
            data={"amount": amount, "client_fee": fee},
            client_fee=fee,
            funded_at=timezone.now(),
        )
        work_fund(
            work=work,
            escrow=escrow,
            amount=amount + fee,
            idempotency_key=f"milestone:{milestone.pk}:fund",
            description=f"Milestone {milestone.pk} of contract {milestone.contract_id}",
            created_by=user,
        )
        tell(
            [milestone.contract.freelancer_id],
            "projects.funded",
            path=milestone.contract.get_absolute_url(),
            milestone_id=milestone.pk,
        )
    return milestone


def milestone_deposit_shortfall(*, milestone_id: int, user: User, return_path: str) -> Deposit:
    milestone, access = _milestone(milestone_id, user)
    if access is None or not access.is_client:
        raise PermissionDenied(
            _("Only the client can fund a milestone."), code=ErrorCode.NOT_A_MANAGER
        )
    amount, fee = milestone_funding_total(milestone)
    return work_deposit_shortfall(
        work=milestone_work(milestone), user=user, total=amount + fee, return_path=return_path
    )


# --- delivery, changes, approval ----------------------------------------------------------


def _files_prepare(files: Sequence[Any]) -> list[Derived]:
    if len(files) > MAX_DELIVERY_FILES:
        raise ValidationFailed(
            fields={"files": _("At most %(n)d files.") % {"n": MAX_DELIVERY_FILES}}
        )
    return [file_prepare(f, field="files", derive=False) for f in files]


def milestone_deliver(
    *, milestone_id: int, user: User, message: str, files: Sequence[Any] = ()
) -> Delivery:
    """The freelancer delivers on a funded milestone (or again after changes were asked).
    Refused on a milestone not funded yet (``not_funded``): nobody works without escrow."""
    milestone, access = _milestone(milestone_id, user)
    assert access is not None
    if not access.is_freelancer:
        raise PermissionDenied(_("Only the freelancer can deliver."), code=ErrorCode.FORBIDDEN)
    _active(milestone.contract, _("deliver"))
    if milestone.status == M.PENDING:
        raise Conflict(
            _("This milestone is not funded yet: the client funds it before work starts."),
            code=ErrorCode.NOT_FUNDED,
        )
    MILESTONE_STATES.check(milestone, M.SUBMITTED, _("deliver"))
    errors: dict[str, str] = {}
    message = text_clean(errors, Delivery, "message", message)
    raise_if(errors)
    prepared = _files_prepare(files)
    now = timezone.now()
    with transaction.atomic(durable=True):
        MILESTONE_STATES.move(
            milestone,
            M.SUBMITTED,
            action=_("deliver"),
            actor=user,
            event="delivered",
            submitted_at=now,
            first_submitted_at=Coalesce("first_submitted_at", now),
            reminders_sent=0,
        )
        delivery = Delivery.objects.create(milestone=milestone, message=message)
        for derived in prepared:
            row = DeliveryFile(
                delivery=delivery,
                content_type=derived.content_type,
                original_name=derived.original_name,
                size=derived.size,
            )
            row.file.save(derived.name(), ContentFile(derived.content), save=False)
            row.save()
        tell(
            client_people(milestone.contract),
            "projects.delivered",
            path=milestone.contract.get_absolute_url(),
            milestone_id=milestone.pk,
        )
        milestone_delivered_emit(milestone, Delivery.objects.filter(milestone=milestone).count())
    return delivery


def milestone_request_changes(*, milestone_id: int, user: User, reason: str) -> Milestone:
    """Back to the freelancer with a reason (counted); the escrow keeps the money."""
    milestone, access = _milestone(milestone_id, user)
    assert access is not None
    if not access.is_client:
        raise PermissionDenied(
            _("Only the client can ask for changes."), code=ErrorCode.NOT_A_MANAGER
        )
    _active(milestone.contract, _("ask for changes"))
    errors: dict[str, str] = {}
    reason = text_clean(errors, Delivery, "answer_reason", reason)
    if errors:
        raise ValidationFailed(fields={"reason": errors["answer_reason"]})
    from django.db.models import F

    with transaction.atomic(durable=True):
        MILESTONE_STATES.move(
            milestone,
            M.CHANGES,
            action=_("ask for changes"),
            actor=user,
            event="changes_requested",
            data={"reason": reason},
            changes_count=F("changes_count") + 1,
        )
        Delivery.objects.filter(milestone=milestone, answer=Delivery.Answer.WAITING).update(
            answer=Delivery.Answer.CHANGES, answer_reason=reason, answered_at=timezone.now()
        )
        tell(
            [milestone.contract.freelancer_id],
            "projects.changes",
            path=milestone.contract.get_absolute_url(),
            milestone_id=milestone.pk,
        )
    milestone.refresh_from_db(fields=["changes_count"])
    return milestone


def _release_unlocked(milestone: Milestone, contract: Contract, escrow: Any, actor: Any) -> int:
    """Pay the (locked, just released) milestone's amount to the freelancer; return the net."""
    crowd_fee = split_bps(milestone.amount, contract.crowd_fee_bps)
    work_pay(
        work=milestone_work(milestone, contract),
        escrow=escrow,
        payee_id=contract.freelancer_id,
        amount=milestone.amount,
        crowd_fee=crowd_fee,
        client_fee=milestone.client_fee,
        idempotency_key=f"milestone:{milestone.pk}:release",
        description=f"Milestone {milestone.pk} of contract {contract.pk}",
        created_by=actor,
    )
    return milestone.amount - crowd_fee


def milestone_approve(
    *, milestone_id: int, user: User | None, idempotency_key: str = "", auto: bool = False
) -> Milestone:
    """Approve the delivery: the escrow pays the freelancer the amount minus the crowd fee,
    once (the move "submitted → released if still submitted" decides who wins between the
    client and the auto-approval; the entry's key backs it). ``user`` None with ``auto``:
    the sweep approving after the client's silence.

    Locks: the milestone's escrow, then the milestone row, then wallets."""
    milestone, access = _milestone(milestone_id, user)
    if not auto and (access is None or not access.is_client):
        raise PermissionDenied(
            _("Only the client can approve a delivery."), code=ErrorCode.NOT_A_MANAGER
        )
    if idempotency_key and MILESTONE_STATES.replayed(milestone.pk, "released", idempotency_key):
        return milestone
    _active(milestone.contract, _("approve"))
    MILESTONE_STATES.check(milestone, M.RELEASED, _("approve"))
    work = milestone_work(milestone)
    now = timezone.now()
    with transaction.atomic(durable=True):
        escrow = work_escrow_lock(work)
        milestone = Milestone.objects.select_for_update().get(pk=milestone.pk)
        contract = Contract.objects.get(pk=milestone.contract_id)
        _active(contract, _("approve"))
        if auto and (
            milestone.submitted_at is None
            or milestone.submitted_at > now - timedelta(days=AUTO_APPROVE_DAYS)
        ):
            raise Conflict(_("Not due for auto-approval yet."), code=ErrorCode.NOT_DUE)
        net = milestone.amount - split_bps(milestone.amount, contract.crowd_fee_bps)
        MILESTONE_STATES.move(
            milestone,
            M.RELEASED,
            action=_("approve"),
            actor=user,
            event="released",
            idempotency_key=idempotency_key,
            data={"auto": auto},
            released_at=now,
            auto_approved=auto,
            paid_net=net,
        )
        _release_unlocked(milestone, contract, escrow, user)
        Delivery.objects.filter(milestone=milestone, answer=Delivery.Answer.WAITING).update(
            answer=Delivery.Answer.APPROVED, answered_at=now
        )
        tell(
            [contract.freelancer_id, *(client_people(contract) if auto else [])],
            "projects.approved",
            path=contract.get_absolute_url(),
            milestone_id=milestone.pk,
            auto=auto,
        )
        _complete_if_done(contract, user)
    return milestone


def _complete_if_done(contract: Contract, user: Any) -> None:
    """The last milestone paid and none waiting to be funded: the contract ends (reviews
    open)."""
    open_ = Milestone.objects.filter(contract=contract).exclude(
        status__in=[M.RELEASED, M.REFUNDED, M.RESOLVED, M.CANCELLED]
    )
    if not open_.exists():
        _finish_unlocked(contract, user)


def _finish_unlocked(contract: Contract, user: Any) -> None:
    """Contract → ended; milestones never funded are cancelled; the job closes."""
    now = timezone.now()
    CONTRACT_STATES.move(
        contract,
        Contract.Status.ENDED,
        action=_("end the contract"),
        actor=user,
        event="ended",
        ended_at=now,
    )
    Milestone.objects.filter(contract=contract, status=M.PENDING).update(status=M.CANCELLED)
    job = Job.objects.get(pk=contract.job_id)
    if job.status == Job.Status.HIRED:
        JOB_STATES.move(job, Job.Status.CLOSED, actor=user, event="closed", closed_at=now)
    tell(
        [contract.freelancer_id, *client_people(contract)],
        "projects.ended",
        path=contract.get_absolute_url(),
        contract_id=contract.pk,
    )


# --- the clock -------------------------------------------------------------------------------


def milestones_sweep() -> dict[str, list[int]]:
    """Remind the client of deliveries left unanswered (at 7 and 12 days, once each), and
    approve those left ``AUTO_APPROVE_DAYS`` (harmless twice, harmless racing the client)."""
    now = timezone.now()
    reminded: list[int] = []
    for n, days in enumerate(REMINDER_DAYS, start=1):
        due = Milestone.objects.filter(
            status=M.SUBMITTED,
            submitted_at__lte=now - timedelta(days=days),
            submitted_at__gt=now - timedelta(days=AUTO_APPROVE_DAYS),
            reminders_sent__lt=n,
            contract__status=Contract.Status.ACTIVE,
        ).select_related("contract")
        for milestone in due:
            with transaction.atomic(durable=True):
                claimed = Milestone.objects.filter(
                    pk=milestone.pk, status=M.SUBMITTED, reminders_sent__lt=n
                ).update(reminders_sent=n)
                if claimed:
                    reminded.append(milestone.pk)
                    tell(
                        client_people(milestone.contract),
                        "projects.reminder",
                        path=milestone.contract.get_absolute_url(),
                        milestone_id=milestone.pk,
                        days_left=AUTO_APPROVE_DAYS - days,
                    )
    approved: list[int] = []
    due_ids = Milestone.objects.filter(
        status=M.SUBMITTED,
        submitted_at__lte=now - timedelta(days=AUTO_APPROVE_DAYS),
        contract__status=Contract.Status.ACTIVE,
    ).values_list("pk", flat=True)
    for pk in list(due_ids):
        try:
            milestone_approve(milestone_id=pk, user=None, auto=True)
        except Conflict:
            continue  # the client answered first
        approved.append(pk)
    return {"reminded": reminded, "approved": approved}


# --- ending ----------------------------------------------------------------------------------


def contract_end(*, contract_id: int, user: User) -> Contract:
    """Either side ends the contract. With nothing in escrow it ends at once. With funded
    milestones not yet delivered, the money goes back to the client when both sides asked
    for the end (the second "end" agrees to the first); a delivery waiting for an answer is
    answered first, or the two go to a dispute.

    Locks: the escrows of the milestones in escrow (ledger order), then the contract row,
    then the milestones."""
    access = contract_get_for_user(contract_id=contract_id, user=user)
    if not access.is_party:
        raise PermissionDenied(
            _("Only the two sides can end a contract."), code=ErrorCode.FORBIDDEN
        )
    contract = access.contract
    _active(contract, _("end the contract"))
    held = list(Milestone.objects.filter(contract=contract, status__in=IN_ESCROW))
    if any(m.status == M.SUBMITTED for m in held):
        raise Conflict(
            _("A delivery waits for an answer: approve it, ask for changes, or open a dispute."),
            code=ErrorCode.WRONG_STATE,
        )
    escrows = [e for e in (work_escrow_lookup(milestone_work(m, contract)) for m in held) if e]
    with transaction.atomic(durable=True):
        locked = accounts_lock(escrows)
        contract = Contract.objects.select_for_update().get(pk=contract.pk)
        _active(contract, _("end the contract"))
        held = list(
            Milestone.objects.select_for_update().filter(contract=contract, status__in=IN_ESCROW)
        )
        if not held:
            _finish_unlocked(contract, user)
            return contract
        requester = contract.end_requested_by_id
        by_freelancer = user.pk == contract.freelancer_id
        other_side_asked = requester is not None and (
            (requester == contract.freelancer_id) != by_freelancer
        )
        if not other_side_asked:
            Contract.objects.filter(pk=contract.pk).update(end_requested_by=user)
            contract.end_requested_by = user
            tell(
                [contract.freelancer_id] if not by_freelancer else client_people(contract),
                "projects.end_requested",
                path=contract.get_absolute_url(),
                contract_id=contract.pk,
            )
            return contract
        for milestone in held:
            if milestone.status == M.SUBMITTED:
                raise Conflict(
                    _("A delivery came in: answer it first."), code=ErrorCode.WRONG_STATE
                )
            escrow = locked.get(
                next(e.pk for e in escrows if e.reference == f"milestone:{milestone.pk}")
            )
            refunded = work_refund(
                work=milestone_work(milestone, contract),
                escrow=escrow,  # type: ignore[arg-type]
                idempotency_key=f"milestone:{milestone.pk}:refund",
                description=f"Milestone {milestone.pk} refunded: contract ended",
                created_by=user,
            )
            MILESTONE_STATES.move(
                milestone,
                M.REFUNDED,
                action=_("end the contract"),
                actor=user,
                event="refunded",
                refunded=refunded,
            )
        _finish_unlocked(contract, user)
    return contract
