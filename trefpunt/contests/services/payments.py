"""Paying out: the client's award and the guarantee, both through ``ledger.funded``.

Each payment is one journal entry from the contest's escrow (``work_pay``): the gross
amount minus the crowd fee to the crowd member's wallet, the crowd fee and a share of the
client fee to platform revenue. The client fee is shared out over the payments by
cumulative flooring (``fee_shares``) with base = prize pool + stipend budget; what the
payments leave of the budget and of the fee goes back to the payer in one refund
(``contest:{id}:refund``), so the escrow always ends at exactly zero.

Lock order: escrow → contest → entries (ascending id) → every wallet the payments and the
refund touch (``work_payees_lock``, in the ledger's global order). The conditional
judging → awarded / completed move and the per-payment journal keys make a second award,
or the guarantee sweep racing the client's award, pay nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils.translation import gettext as _

from trefpunt.core.exceptions import ValidationFailed
from trefpunt.core.money import split_bps
from trefpunt.ledger.funded import (
    escrow_balance,
    fee_shares,
    work_escrow_lock,
    work_pay,
    work_payees_lock,
    work_refund,
)

from ..models import Contest, Entry, Handover, Payment, Prize
from ..notifications import notify_paid
from ..rules import (
    ACTIVE_ENTRY,
    CONTEST_STATES,
    ENTRY_STATES,
    award_refusal,
    guarantee_refusal,
    raise_refusal,
)
from ..selectors import contest_get_for_manager
from ..webhooks import contest_awarded_emit
from .common import contest_get_unscoped, now
from .publish import cancel_locked

if TYPE_CHECKING:
    from trefpunt.accounts.models import User
    from trefpunt.ledger.models import LedgerAccount

S = Contest.Status
E = Entry.Status


@dataclass(frozen=True)
class PlannedPayment:
    kind: str
    entry: Entry
    gross: int
    key: str
    prize: Prize | None = None


def split_equally(amount: int, entries: Sequence[Entry]) -> list[tuple[Entry, int]]:
    """``amount`` in equal shares; the cents that do not divide go one each to the earliest
    entries (lowest number)."""
    ordered = sorted(entries, key=lambda e: e.number)
    share, rest = divmod(amount, len(ordered))
    return [(entry, share + (1 if i < rest else 0)) for i, entry in enumerate(ordered)]


def _plan_prizes(
    contest: Contest,
    prizes: Sequence[Prize],
    winners: Mapping[int, Entry],
    split_among: Sequence[Entry],
) -> list[PlannedPayment]:
    plan: list[PlannedPayment] = []
    for prize in prizes:
        winner = winners.get(prize.position)
        if winner is not None:
            key = f"contest:{contest.pk}:prize:{prize.position}"
            plan.append(PlannedPayment(Payment.Kind.PRIZE, winner, prize.amount, key, prize))
            continue
        for entry, share in split_equally(prize.amount, split_among):
            if share:
                key = f"contest:{contest.pk}:prize:{prize.position}:share:{entry.pk}"
                plan.append(PlannedPayment(Payment.Kind.SHARE, entry, share, key, prize))
    return plan


def _plan_stipends(contest: Contest, finalists: Sequence[Entry]) -> list[PlannedPayment]:
    if not contest.finalist_stipend:
        return []
    return [
        PlannedPayment(
            Payment.Kind.STIPEND,
            entry,
            contest.finalist_stipend,
            f"contest:{contest.pk}:stipend:{entry.pk}",
        )
        for entry in sorted(finalists, key=lambda e: e.number)
    ]


def _payments_execute(
    contest: Contest, escrow: LedgerAccount, plan: Sequence[PlannedPayment], actor: User | None
) -> tuple[list[Payment], int]:
    """Pay every planned payment (one journal entry each), then refund the rest. Runs in
    the caller's transaction with the escrow and the contest locked.

    Returns the payments and the refunded amount. Checks that the escrow ends at zero."""
    work = contest.funded_work
    base = contest.funded_amount - contest.client_fee
    # Every account lock now, in the ledger's global order, so two awards that share a
    # wallet or the revenue account cannot deadlock halfway through their postings.
    work_payees_lock(work=work, escrow=escrow, payee_ids=[p.entry.entrant_id for p in plan])
    client_fees = fee_shares(fee=contest.client_fee, base=base, amounts=[p.gross for p in plan])
    payments: list[Payment] = []
    for item, client_fee in zip(plan, client_fees, strict=True):
        crowd_fee = split_bps(item.gross, contest.crowd_fee_bps)
        journal = work_pay(
            work=work,
            escrow=escrow,
            payee_id=item.entry.entrant_id,
            amount=item.gross,
            crowd_fee=crowd_fee,
            client_fee=client_fee,
            idempotency_key=item.key,
            description=f"{Payment.Kind(item.kind).label} of contest {contest.pk}, entry "
            f"#{item.entry.number}",
            created_by=actor,
        )
        payments.append(
            Payment.objects.create(
                contest=contest,
                entry=item.entry,
                recipient_id=item.entry.entrant_id,
                kind=item.kind,
                prize=item.prize,
                gross=item.gross,
                crowd_fee=crowd_fee,
                client_fee=client_fee,
                net=item.gross - crowd_fee,
                journal_entry=journal,
                idempotency_key=item.key,
            )
        )
    paid = sum(p.gross for p in plan)
    expected_rest = (base - paid) + (contest.client_fee - sum(client_fees))
    if paid > base or escrow_balance(escrow) != expected_rest:
        raise RuntimeError(f"contest {contest.pk}: escrow does not match the payments")
    refunded = work_refund(
        work=work,
        escrow=escrow,
        idempotency_key=f"contest:{contest.pk}:refund",
        description=f"Unused budget of contest {contest.pk}",
        created_by=actor,
    )
    return payments, refunded


def _entries_lock(contest: Contest) -> list[Entry]:
    return list(
        Entry.objects.select_for_update()
        .filter(contest=contest)
        .select_related("entrant")
        .order_by("pk")
    )


def _award_problem(entry: Entry | None, position: int, positions: set[int]) -> str:
    if position not in positions:
        return _("This contest has no prize %(n)s.") % {"n": position}
    if entry is None:
        return _("Entry not found in this contest.")
    if entry.status == E.WITHDRAWN:
        return _("Entry #%(n)d was withdrawn and cannot win.") % {"n": entry.number}
    if entry.status == E.DECLINED:
        return _("Entry #%(n)d was declined and cannot win.") % {"n": entry.number}
    return ""


def _winners_clean(
    awards: Mapping[int, int], entries: Mapping[int, Entry], prizes: Sequence[Prize]
) -> dict[int, Entry]:
    """The client's choice as prize position → entry, or ``ValidationFailed`` naming each
    prize whose choice is wrong. Every prize needs a distinct entry in the running, as long
    as there are enough such entries."""
    errors: dict[str, str] = {}
    winners: dict[int, Entry] = {}
    positions = {p.position for p in prizes}
    for position, entry_id in sorted(awards.items()):
        entry = entries.get(entry_id) if isinstance(entry_id, int) else None
        problem = _award_problem(entry, position, positions)
        if not problem and entry is not None and entry in winners.values():
            problem = _("Entry #%(n)d already wins another prize.") % {"n": entry.number}
        if problem:
            errors[f"prize_{position}"] = problem
        elif entry is not None:
            winners[position] = entry
    active = sum(1 for e in entries.values() if e.status in ACTIVE_ENTRY)
    if not errors and len(winners) < min(len(prizes), active):
        for prize in prizes:
            if prize.position not in winners:
                errors[f"prize_{prize.position}"] = _("Choose a winning entry for this prize.")
    if errors:
        raise ValidationFailed(fields=errors)
    return winners


def _award_record(contest: Contest, prizes: Sequence[Prize], winners: Mapping[int, Entry]) -> None:
    """The winners' prizes, entries and handovers; the other entries in the running are not
    selected."""
    winner_ids = [e.pk for e in winners.values()]
    for prize in prizes:
        if prize.position in winners:
            prize.winner = winners[prize.position]
            prize.save(update_fields=["winner"])
    Entry.objects.filter(pk__in=winner_ids, status__in=ENTRY_STATES.sources(E.WINNER)).update(
        status=E.WINNER
    )
    Entry.objects.filter(contest=contest, status__in=ENTRY_STATES.sources(E.NOT_SELECTED)).exclude(
        pk__in=winner_ids
    ).update(status=E.NOT_SELECTED)
    Handover.objects.bulk_create([Handover(entry=e, contest=contest) for e in winners.values()])


def contest_award(
    *,
    contest_id: int,
    user: User,
    awards: Mapping[int, int],
    idempotency_key: str = "",
) -> Contest:
    """Judging → awarded: pay each prize to the entry the client chose for it
    (``awards`` maps prize position → entry id), the stipend to every finalist who did not
    win, and refund the unused stipend budget with its share of the fee.

    Every prize must get a distinct, active entry (not withdrawn or declined). When the
    contest has fewer active entries than prizes, each of them must win a prize and the
    prizes left over are guaranteed too: they are split like the guarantee splits them,
    equally among the other entries that share in the guarantee (declined ones that staff
    did not find breaking the rules) — so declining entries never moves their money to the
    client's chosen winners — and among the winners only when no such entry is left."""
    contest = contest_get_for_manager(contest_id=contest_id, user=user)
    if CONTEST_STATES.replayed(contest.pk, "awarded", idempotency_key):
        return contest
    raise_refusal(award_refusal(contest))
    if not isinstance(awards, Mapping) or not awards:
        raise ValidationFailed(fields={"awards": _("Choose a winning entry for each prize.")})
    with transaction.atomic(durable=True):
        escrow = work_escrow_lock(contest.funded_work)
        locked = Contest.objects.select_for_update().get(pk=contest.pk)
        raise_refusal(award_refusal(locked))
        entries = {e.pk: e for e in _entries_lock(locked)}
        prizes = list(Prize.objects.filter(contest=locked).order_by("position"))
        winners = _winners_clean(awards, entries, prizes)
        winner_ids = {e.pk for e in winners.values()}
        finalists = [e for e in entries.values() if e.status == E.FINALIST]
        others = [e for e in entries.values() if e.shares_in_guarantee and e.pk not in winner_ids]
        plan = _plan_prizes(locked, prizes, winners, others or list(winners.values()))
        plan += _plan_stipends(locked, [e for e in finalists if e.pk not in winner_ids])
        payments, refunded = _payments_execute(locked, escrow, plan, user)
        CONTEST_STATES.move(
            locked,
            S.AWARDED,
            action=_("award the prizes"),
            actor=user,
            event="awarded",
            idempotency_key=idempotency_key,
            data={
                "winners": {str(k): v.pk for k, v in winners.items()},
                "paid": sum(p.gross for p in payments),
                "refunded": refunded,
            },
            award_method=Contest.AwardMethod.CLIENT,
            awarded_at=now(),
        )
        _award_record(locked, prizes, winners)
        contest_awarded_emit(locked, {int(k): v.pk for k, v in winners.items()})
        notify_paid(locked, payments)
        if not locked.is_private:
            for entry_id in sorted(winner_ids):
                transaction.on_commit(partial(_portfolio_enqueue, entry_id))
    return contest_get_for_manager(contest_id=contest.pk, user=user)


@dataclass(frozen=True)
class AwardLine:
    """One payment of an award: who gets what."""

    kind: str
    entry: Entry
    gross: int
    crowd_fee: int
    prize: Prize | None

    @property
    def net(self) -> int:
        return self.gross - self.crowd_fee


@dataclass(frozen=True)
class AwardPlan:
    lines: list[AwardLine]
    paid: int  # out of escrow to the crowd, before their fee
    refund: int  # back to the client's wallet: unused stipends with their share of the fee


def contest_award_plan(*, contest_id: int, user: User, awards: Mapping[int, int]) -> AwardPlan:
    """What ``contest_award`` would pay for this choice, checked by the same rules and planned
    by the same code, without moving money: the confirm step shows it before anything is
    paid. A read without locks; ``contest_award`` checks everything again under its locks."""
    contest = contest_get_for_manager(contest_id=contest_id, user=user)
    raise_refusal(award_refusal(contest))
    if not isinstance(awards, Mapping) or not awards:
        raise ValidationFailed(fields={"awards": _("Choose a winning entry for each prize.")})
    entries = {
        e.pk: e
        for e in Entry.objects.filter(contest=contest)
        .select_related("entrant__profile")
        .order_by("pk")
    }
    prizes = list(Prize.objects.filter(contest=contest).order_by("position"))
    winners = _winners_clean(awards, entries, prizes)
    winner_ids = {e.pk for e in winners.values()}
    finalists = [e for e in entries.values() if e.status == E.FINALIST]
    others = [e for e in entries.values() if e.shares_in_guarantee and e.pk not in winner_ids]
    plan = _plan_prizes(contest, prizes, winners, others or list(winners.values()))
    plan += _plan_stipends(contest, [e for e in finalists if e.pk not in winner_ids])
    base = contest.funded_amount - contest.client_fee
    client_fees = fee_shares(fee=contest.client_fee, base=base, amounts=[p.gross for p in plan])
    paid = sum(p.gross for p in plan)
    lines = [
        AwardLine(p.kind, p.entry, p.gross, split_bps(p.gross, contest.crowd_fee_bps), p.prize)
        for p in plan
    ]
    return AwardPlan(lines, paid, (base - paid) + (contest.client_fee - sum(client_fees)))


def _portfolio_enqueue(entry_id: int) -> None:
    from ..tasks import entry_portfolio_task

    entry_portfolio_task.enqueue(entry_id)


def contest_guarantee(*, contest_id: int) -> Contest:
    """The guarantee, run by the sweep when judging has ended without an award: every prize
    is split equally among the finalists, or, when there are none, among all entries that
    share in the guarantee (``Entry.shares_in_guarantee``: not withdrawn, and not declined
    for a rule break that staff upheld — a plain decline does not count); every finalist
    also gets the stipend. With no such entry at all the escrow is refunded and the contest
    cancelled. Ends in ``completed`` (nothing to hand over: the client chose no winner, so
    no rights pass).

    Same locks and guards as ``contest_award``; whichever commits first wins."""
    contest = contest_get_unscoped(contest_id)
    raise_refusal(guarantee_refusal(contest, now()))
    work = contest.funded_work
    with transaction.atomic(durable=True):
        escrow = work_escrow_lock(work)
        locked = Contest.objects.select_for_update().get(pk=contest.pk)
        moment = now()
        raise_refusal(guarantee_refusal(locked, moment))
        eligible = [e for e in _entries_lock(locked) if e.shares_in_guarantee]
        if not eligible:
            cancel_locked(
                locked,
                escrow,
                reason="no_eligible_entries",
                description=f"Contest {locked.pk}: no eligible entries",
            )
            return Contest.objects.get(pk=contest.pk)
        finalists = [e for e in eligible if e.status == E.FINALIST]
        prizes = list(Prize.objects.filter(contest=locked).order_by("position"))
        plan = _plan_prizes(locked, prizes, {}, finalists or eligible)
        plan += _plan_stipends(locked, finalists)
        payments, refunded = _payments_execute(locked, escrow, plan, None)
        CONTEST_STATES.move(
            locked,
            S.COMPLETED,
            event="guarantee",
            data={
                "recipients": len({p.entry_id for p in payments}),
                "among": "finalists" if finalists else "entries",
                "paid": sum(p.gross for p in payments),
                "refunded": refunded,
            },
            award_method=Contest.AwardMethod.GUARANTEE,
            awarded_at=moment,
            completed_at=moment,
        )
        Entry.objects.filter(
            contest=locked, status__in=ENTRY_STATES.sources(E.NOT_SELECTED)
        ).update(status=E.NOT_SELECTED)
        notify_paid(locked, payments)
    return Contest.objects.get(pk=contest.pk)
