"""Reads for moderation: the staff queue, the audit log, platform figures, and what is
hidden (for apps whose kind keeps no hidden state of its own)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db.models import Count, Q, QuerySet, Sum
from django.utils.translation import gettext as _

from trefpunt.core.exceptions import NotFound

from .models import AuditEntry, Decision, Report, Sanction
from .registry import reportable

if TYPE_CHECKING:
    from trefpunt.accounts.models import User

QUEUE_PAGE = 50


def hidden_ids(kind: str) -> QuerySet[Decision, Any]:
    """Ids of the things of ``kind`` that staff hid now, as a subquery (``pk__in=``)."""
    return Decision.objects.filter(kind=kind, active=True).values("object_id")


def locked_user_ids() -> QuerySet[Sanction, Any]:
    """Ids of the people suspended or banned now, as a subquery (``created_by__in=``): the
    public rules of the search index leave their work out while the sanction runs."""
    return Sanction.objects.filter(
        kind__in=[Sanction.Kind.SUSPENSION, Sanction.Kind.BAN], lifted_at=None
    ).values("user_id")


@dataclass(frozen=True)
class QueueFilters:
    status: str = Report.Status.OPEN  # open | resolved | appeals
    kind: str = ""
    reason: str = ""
    q: str = ""


@dataclass(frozen=True)
class QueueItem:
    """One reported thing with its open reports (the queue groups reports per thing)."""

    kind: str
    object_id: int
    label: str
    title: str
    url: str
    author_id: int | None
    reports: list[Report]
    can_hide: bool
    can_take_down: bool
    hidden: bool


def report_queue(*, filters: QueueFilters) -> list[QueueItem]:
    """Reports grouped per thing, oldest first, filtered by status, kind, reason and text
    (title, details, reporter or author handle). Constant queries: one for the reports,
    one per kind present for the things' hidden state."""
    reports = Report.objects.select_related("reporter__profile", "author__profile").filter(
        status=Report.Status.RESOLVED
        if filters.status == Report.Status.RESOLVED
        else Report.Status.OPEN
    )
    if filters.kind:
        reports = reports.filter(kind=filters.kind)
    if filters.reason:
        reports = reports.filter(reason=filters.reason)
    if filters.q:
        reports = reports.filter(
            Q(title__icontains=filters.q)
            | Q(details__icontains=filters.q)
            | Q(author__profile__handle__icontains=filters.q)
            | Q(reporter__profile__handle__icontains=filters.q)
        )
    order = "-resolved_at" if filters.status == Report.Status.RESOLVED else "created_at"
    grouped: dict[tuple[str, int], list[Report]] = {}
    for report in reports.order_by(order, "id")[: QUEUE_PAGE * 5]:
        grouped.setdefault((report.kind, report.object_id), []).append(report)
    hidden = set(
        Decision.objects.filter(active=True, kind__in={kind for kind, _id in grouped}).values_list(
            "kind", "object_id"
        )
    )
    items = []
    for (kind, object_id), group in list(grouped.items())[:QUEUE_PAGE]:
        spec = reportable(kind)
        items.append(
            QueueItem(
                kind=kind,
                object_id=object_id,
                label=str(spec.label) if spec else kind,
                title=group[0].title,
                url=_url(kind, object_id),
                author_id=group[0].author_id,
                reports=group,
                can_hide=bool(spec and spec.can_hide),
                can_take_down=bool(spec and spec.can_take_down),
                hidden=(kind, object_id) in hidden,
            )
        )
    return items


def _url(kind: str, object_id: int) -> str:
    spec = reportable(kind)
    if spec is None:
        return ""
    obj = spec.get(object_id)
    return spec.link(obj) if obj is not None else ""


def appeals_pending() -> QuerySet[Decision]:
    return (
        Decision.objects.filter(appeal=Decision.Appeal.PENDING)
        .select_related("author__profile", "staff__profile")
        .order_by("appealed_at", "id")
    )


def decision_for_author(*, decision_id: int, user: User) -> Decision:
    """A decision as its author (or staff) sees it; anyone else: not found."""
    decision = Decision.objects.filter(pk=decision_id).first()
    if decision is None or not (user.is_staff or decision.author_id == user.pk):
        raise NotFound(_("Not found."))
    return decision


@dataclass(frozen=True)
class AuditFilters:
    q: str = ""
    action: str = ""
    target_kind: str = ""


def audit_search(*, filters: AuditFilters) -> QuerySet[AuditEntry]:
    entries = AuditEntry.objects.select_related("actor__profile")
    if filters.action:
        entries = entries.filter(action=filters.action)
    if filters.target_kind:
        entries = entries.filter(target_kind=filters.target_kind)
    if filters.q:
        q = filters.q
        text = (
            Q(reason__icontains=q)
            | Q(target_label__icontains=q)
            | Q(actor__email__icontains=q)
            | Q(actor__profile__handle__icontains=q)
        )
        if q.isdigit():
            text |= Q(target_id=int(q))
        entries = entries.filter(text)
    return entries.order_by("-created_at", "-id")


def sanctions_of(*, user_id: int) -> QuerySet[Sanction]:
    return Sanction.objects.filter(user_id=user_id).select_related("staff__profile")


@dataclass(frozen=True)
class PlatformFigures:
    deposits: int
    escrow_held: int
    fees_earned: int
    payouts_pending: int
    payouts_pending_count: int
    open_reports: int
    appeals_pending: int
    locked_accounts: int


def platform_figures() -> PlatformFigures:
    """Money in cents (the default currency): confirmed deposits ever, what escrows hold
    now, platform revenue booked, payouts requested and not yet sent; and the queue."""
    from trefpunt.ledger.models import AccountKind, Deposit, LedgerAccount, Payout

    def total(qs: QuerySet[Any], field: str = "amount") -> int:
        return int(qs.aggregate(s=Sum(field))["s"] or 0)

    accounts = LedgerAccount.objects.values("kind").annotate(s=Sum("balance"))
    balances = {row["kind"]: int(row["s"] or 0) for row in accounts}
    pending = Payout.objects.filter(status=Payout.Status.REQUESTED).aggregate(
        s=Sum("amount"), n=Count("pk")
    )
    return PlatformFigures(
        deposits=total(Deposit.objects.filter(status=Deposit.Status.PAID)),
        escrow_held=balances.get(AccountKind.ESCROW, 0),
        fees_earned=abs(balances.get(AccountKind.PLATFORM_REVENUE, 0)),
        payouts_pending=int(pending["s"] or 0),
        payouts_pending_count=int(pending["n"] or 0),
        open_reports=Report.objects.filter(status=Report.Status.OPEN)
        .values("kind", "object_id")
        .distinct()
        .count(),
        appeals_pending=Decision.objects.filter(appeal=Decision.Appeal.PENDING).count(),
        locked_accounts=Sanction.objects.filter(
            kind__in=[Sanction.Kind.SUSPENSION, Sanction.Kind.BAN], lifted_at=None
        ).count(),
    )
