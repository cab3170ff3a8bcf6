"""Publishing (draft → open, the prizes into escrow), cancelling with a refund, and closing
entries (open → judging, or cancelled when nobody entered).

Lock order: the contest's escrow (``ledger.funded.work_escrow_lock``), then the contest
row, then the wallets the ledger touches.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from trefpunt.core.exceptions import NotFound, ValidationFailed
from trefpunt.ledger.funded import (
    work_deposit_shortfall,
    work_escrow_lock,
    work_fund,
    work_refund,
)

from ..models import Contest, ContestInvitation, Entry
from ..notifications import notify_invited, notify_invited_addresses
from ..rules import (
    CONTEST_STATES,
    cancel_refusal,
    close_due_refusal,
    close_early_refusal,
    publish_refusal,
    raise_refusal,
)
from ..selectors import contest_amounts, contest_funding, contest_get_for_manager
from .brief import deadline_clean
from .common import contest_get_unscoped, now

if TYPE_CHECKING:
    from trefpunt.accounts.models import User
    from trefpunt.ledger.models import Deposit, LedgerAccount

S = Contest.Status


def _publish_check(contest: Contest) -> None:
    errors: dict[str, str] = {}
    deadline_clean(errors, contest.entry_deadline)
    if not contest.prizes.exists():
        errors["prizes"] = _("Offer at least one prize.")
    if errors:
        raise ValidationFailed(fields=errors)


def contest_publish(*, contest_id: int, user: User, idempotency_key: str = "") -> Contest:
    """Draft → open: move prize pool + stipend budget + client fee from the paying wallet into
    the contest's escrow (one journal entry ``contest:{id}:fund``). Refuses with
    ``InsufficientFunds`` (naming the shortfall) when the wallet holds too little; then
    nothing moves and the contest stays a draft.

    Locks the escrow, then the contest row; the fund entry's key and the conditional
    draft → open move make a repeat harmless. A repeat with the same ``idempotency_key``
    returns the contest."""
    contest = contest_get_for_manager(contest_id=contest_id, user=user)
    if CONTEST_STATES.replayed(contest.pk, "published", idempotency_key):
        return contest
    raise_refusal(publish_refusal(contest))
    _publish_check(contest)
    work = contest.funded_work
    with transaction.atomic(durable=True):
        escrow = work_escrow_lock(work)
        locked = Contest.objects.select_for_update().get(pk=contest.pk)
        raise_refusal(publish_refusal(locked))
        pool, stipends, fee = contest_amounts(locked)
        total = pool + stipends + fee
        work_fund(
            work=work,
            escrow=escrow,
            amount=total,
            idempotency_key=f"contest:{locked.pk}:fund",
            description=f"Prizes, stipends and fee of contest {locked.pk}",
            created_by=user,
        )
        CONTEST_STATES.move(
            locked,
            S.OPEN,
            action=_("publish"),
            actor=user,
            event="published",
            idempotency_key=idempotency_key,
            data={"funded": total, "fee": fee},
            published_at=now(),
            client_fee_bps=settings.FEES_BPS["contest"]["client"],
            crowd_fee_bps=settings.FEES_BPS["contest"]["crowd"],
            client_fee=fee,
            funded_amount=total,
        )
        invited = list(
            ContestInvitation.objects.filter(contest=locked).values_list("user_id", "email")
        )
        notify_invited(locked, [user_id for user_id, _email in invited if user_id])
        notify_invited_addresses(locked, [email for user_id, email in invited if not user_id])
    return contest_get_for_manager(contest_id=contest.pk, user=user)


def contest_deposit_shortfall(*, contest_id: int, user: User, return_path: str) -> Deposit:
    """Start a deposit of exactly what publishing lacks (at least the provider's minimum)
    into the paying wallet; the user comes back to ``return_path`` and publishes."""
    contest = contest_get_for_manager(contest_id=contest_id, user=user)
    if not CONTEST_STATES.can(contest, S.OPEN):
        raise CONTEST_STATES.wrong_state(contest, _("fund the contest"))
    return work_deposit_shortfall(
        work=contest.funded_work,
        user=user,
        total=contest_funding(contest=contest).total,
        return_path=return_path,
    )


def _entries_counted(contest: Contest) -> int:
    return contest.entries.exclude(status=Entry.Status.WITHDRAWN).count()


def cancel_locked(
    contest: Contest,
    escrow: LedgerAccount | None,
    *,
    reason: str,
    description: str,
    actor: User | None = None,
    idempotency_key: str = "",
) -> int:
    """Cancel the locked ``contest`` and refund what its locked ``escrow`` holds (a draft
    has none) to the wallet that paid in. ``reason``: ``client``, or why nobody can win
    (``no_entries``, ``no_eligible_entries``). Returns the amount refunded."""
    refunded = 0
    if escrow is not None:
        refunded = work_refund(
            work=contest.funded_work,
            escrow=escrow,
            idempotency_key=f"contest:{contest.pk}:refund",
            description=description,
            created_by=actor,
        )
    data: dict[str, Any] = {"refunded": refunded}
    if reason != "client":
        data["reason"] = reason
    CONTEST_STATES.move(
        contest,
        S.CANCELLED,
        action=_("cancel"),
        actor=actor,
        event="cancelled",
        idempotency_key=idempotency_key,
        data=data,
        cancelled_at=now(),
        cancel_reason=reason,
    )
    return refunded


def contest_cancel(*, contest_id: int, user: User, idempotency_key: str = "") -> Contest:
    """Cancel a draft, or an open contest that has no entries (withdrawn ones aside), and
    refund the whole escrow. Locks escrow → contest; entries are counted under the contest
    lock, which ``entry_submit`` also takes, so no entry can slip in."""
    contest = contest_get_for_manager(contest_id=contest_id, user=user)
    if CONTEST_STATES.replayed(contest.pk, "cancelled", idempotency_key):
        return contest
    raise_refusal(cancel_refusal(contest, entries=0))
    work = contest.funded_work
    with transaction.atomic(durable=True):
        # A draft has no escrow yet; an open contest's escrow is locked first.
        escrow = work_escrow_lock(work) if contest.status == S.OPEN else None
        locked = Contest.objects.select_for_update().get(pk=contest.pk)
        if locked.status != contest.status:
            # Published (or cancelled) meanwhile: the escrow would be locked out of order.
            raise CONTEST_STATES.wrong_state(locked, _("cancel"))
        raise_refusal(cancel_refusal(locked, entries=_entries_counted(locked)))
        cancel_locked(
            locked,
            escrow,
            reason="client",
            description=f"Contest {locked.pk} cancelled",
            actor=user,
            idempotency_key=idempotency_key,
        )
    return contest_get_for_manager(contest_id=contest.pk, user=user)


TAKEN_DOWN = "taken_down"


def contest_take_down(*, contest_id: int, staff: User) -> tuple[Contest, int, list[int]]:
    """Staff end a contest that breaks the rules (``moderation``): from draft, open or
    judging it is cancelled whatever its entries, and everything its escrow still holds
    goes back to the wallet that paid in. Locks escrow → contest, like ``contest_cancel``.
    Returns the contest, the refund and the entrants to tell. Only staff; a decided
    contest (prizes paid) can no longer be cancelled."""
    if not staff.is_staff:
        raise NotFound(_("Contest not found."))
    contest = contest_get_unscoped(contest_id)
    if not CONTEST_STATES.can(contest, S.CANCELLED):
        raise CONTEST_STATES.wrong_state(contest, _("take down"))
    with transaction.atomic(durable=True):
        escrow = work_escrow_lock(contest.funded_work) if contest.status != S.DRAFT else None
        locked = Contest.objects.select_for_update().get(pk=contest.pk)
        if locked.status != contest.status:
            raise CONTEST_STATES.wrong_state(locked, _("take down"))
        refunded = cancel_locked(
            locked,
            escrow,
            reason=TAKEN_DOWN,
            description=f"Contest {locked.pk} taken down by staff",
            actor=staff,
        )
        entrants = sorted(
            set(
                Entry.objects.filter(contest=locked)
                .exclude(status=Entry.Status.WITHDRAWN)
                .values_list("entrant_id", flat=True)
            )
        )
    return Contest.objects.get(pk=contest.pk), refunded, entrants


def contest_close_entries(*, contest_id: int, user: User | None = None) -> Contest:
    """Open → judging. With ``user``: the client closes early, allowed once
    ``EARLY_CLOSE_MIN_ENTRIES`` entries are in. Without: the deadline sweep, allowed once
    the deadline has passed; a contest that got no entries at all is cancelled and
    refunded instead. Locks escrow → contest; entries are counted under the contest lock."""
    if user is not None:
        contest = contest_get_for_manager(contest_id=contest_id, user=user)
    else:
        contest = contest_get_unscoped(contest_id)
        raise_refusal(close_due_refusal(contest, now()))
    if not CONTEST_STATES.can(contest, S.JUDGING):
        raise CONTEST_STATES.wrong_state(contest, _("close entries"))
    work = contest.funded_work
    with transaction.atomic(durable=True):
        escrow = work_escrow_lock(work)
        locked = Contest.objects.select_for_update().get(pk=contest.pk)
        count = _entries_counted(locked)
        moment = now()
        if user is not None:
            raise_refusal(close_early_refusal(locked, entries=count))
        else:
            raise_refusal(close_due_refusal(locked, moment))
        if count == 0:
            cancel_locked(
                locked, escrow, reason="no_entries", description=f"Contest {locked.pk}: no entries"
            )
        else:
            start = moment if user is not None else locked.entry_deadline
            CONTEST_STATES.move(
                locked,
                S.JUDGING,
                action=_("close entries"),
                actor=user,
                event="judging",
                data={"early": user is not None, "entries": count},
                judging_started_at=moment,
                judging_ends_at=start + timedelta(days=locked.judging_days),
                entry_deadline=min(locked.entry_deadline, moment),
            )
    return Contest.objects.get(pk=contest.pk)
