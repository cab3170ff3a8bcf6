"""Every moderation write: reports, staff actions on content and on people, appeals.

Each staff action is one durable transaction that changes the thing (through the
registration of its kind), resolves the open reports on it and appends one
``AuditEntry`` with who, what, why, and the state before and after. Only staff act: to
anyone else a staff action answers not-found.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from trefpunt.core.exceptions import Conflict, ErrorCode, NotFound, ValidationFailed

from . import notifications
from .models import AuditEntry, Decision, Reason, Report, Sanction
from .registry import Reportable, reportable

if TYPE_CHECKING:
    from trefpunt.accounts.models import User

REASON_MAX = 1000
SUSPEND_DAYS_MAX = 365


def _reason_clean(reason: str, *, field: str = "reason", required: bool = True) -> str:
    text = (reason or "").strip()
    if required and not text:
        raise ValidationFailed(fields={field: _("Say why: the person concerned is told.")})
    if len(text) > REASON_MAX:
        raise ValidationFailed(fields={field: _("At most %(n)d characters.") % {"n": REASON_MAX}})
    return text


def _staff_check(staff: User) -> None:
    if not (staff.is_authenticated and staff.is_staff and staff.is_active):
        raise NotFound(_("Not found."))


def _target(kind: str, object_id: int) -> tuple[Reportable, Any]:
    spec = reportable(kind)
    obj = spec.get(object_id) if spec is not None else None
    if spec is None or obj is None:
        raise NotFound(_("Not found."))
    return spec, obj


def _title(spec: Reportable, obj: Any) -> str:
    return str(spec.title(obj))[:200]


def _hidden_now(spec: Reportable, obj: Any) -> bool:
    if spec.is_hidden is not None:
        fresh = spec.get(obj.pk)
        return fresh is not None and bool(spec.is_hidden(fresh))
    return Decision.objects.filter(kind=spec.kind, object_id=obj.pk, active=True).exists()


def _search_refresh(spec: Reportable, ids: Iterable[int]) -> None:
    """Re-read these things into the search index (and so the sitemaps and feeds), whose
    public rules leave out what is hidden or by a locked account. Joins the caller's
    transaction, like every index write."""
    from trefpunt.discovery.indexing import index_refresh
    from trefpunt.discovery.registry import kinds_following, kinds_for_model

    wanted = list(ids)
    for kind in kinds_for_model(spec.model):
        index_refresh(kind, wanted)
    # What indexes through these things (the ideas of a call) is re-read too.
    following = kinds_following(spec.model)
    if following:
        for obj in spec.model._default_manager.filter(pk__in=wanted):
            for kind, related in following:
                index_refresh(kind, related(obj))


def _author_search_refresh(person_id: int, also: Iterable[list[Any]] = ()) -> None:
    """After a suspension, ban or reinstatement: re-index the person's public things of every
    kind (and ``also``, ``[kind, id]`` pairs a sanction hid)."""
    from .registry import reportables

    ids: dict[str, set[int]] = {}
    for spec in reportables():
        if spec.public_of_author is not None:
            ids.setdefault(spec.kind, set()).update(spec.public_of_author(person_id))
    for kind, object_id in also:
        ids.setdefault(kind, set()).add(int(object_id))
    for kind, wanted in sorted(ids.items()):
        found = reportable(kind)
        if found is not None and wanted:
            _search_refresh(found, sorted(wanted))


def audit(
    *,
    actor: User | None,
    action: str,
    target_kind: str,
    target_id: int,
    target_label: str = "",
    reason: str = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one line to the audit log (joins the caller's transaction)."""
    return AuditEntry.objects.create(
        actor=actor,
        action=action,
        target_kind=target_kind,
        target_id=target_id,
        target_label=target_label[:200],
        reason=reason,
        before=before or {},
        after=after or {},
    )


def _reports_resolve(kind: str, object_id: int, staff: User | None, resolution: str) -> int:
    return Report.objects.filter(kind=kind, object_id=object_id, status=Report.Status.OPEN).update(
        status=Report.Status.RESOLVED,
        resolution=resolution,
        resolved_by=staff,
        resolved_at=timezone.now(),
    )


# --- reports ----------------------------------------------------------------------------


def report_create(
    *, user: User, kind: str, object_id: int, reason: str, details: str = ""
) -> Report:
    """Report a thing the user can see, with a reason; once per person while open. A
    thing the user cannot see is not found (reporting reveals nothing)."""
    spec, obj = _target(kind, object_id)
    if not spec.visible_to(obj, user):
        raise NotFound(_("Not found."))
    if spec.author_id(obj) == user.pk:
        raise Conflict(_("You cannot report your own work."), code=ErrorCode.OWN_CONTENT)
    if reason not in Reason.values or reason == Reason.HELD:
        raise ValidationFailed(fields={"reason": _("Choose a reason.")})
    details = _reason_clean(details, field="details", required=reason == Reason.OTHER)
    try:
        with transaction.atomic():
            return Report.objects.create(
                kind=kind,
                object_id=obj.pk,
                author_id=spec.author_id(obj),
                reporter=user,
                reason=reason,
                details=details,
                title=_title(spec, obj),
            )
    except IntegrityError:
        raise Conflict(_("You reported this already."), code=ErrorCode.ALREADY_REPORTED) from None


def report_raise(*, kind: str, object_id: int, details: str = "") -> Report | None:
    """The platform itself puts a thing in the queue (e.g. a message its spam rules held
    back). Once while open; joins the caller's transaction."""
    spec, obj = _target(kind, object_id)
    try:
        with transaction.atomic():
            return Report.objects.create(
                kind=kind,
                object_id=obj.pk,
                author_id=spec.author_id(obj),
                reporter=None,
                reason=Reason.HELD,
                details=details,
                title=_title(spec, obj),
            )
    except IntegrityError:
        return None


def report_dismiss(*, staff: User, kind: str, object_id: int, reason: str = "") -> int:
    """Nothing wrong: close every open report on the thing. A thing the spam rules held
    back is shown (``hide(obj, False)``). Returns the number of reports closed."""
    _staff_check(staff)
    spec, obj = _target(kind, object_id)
    reason = _reason_clean(reason, required=False)
    with transaction.atomic(durable=True):
        before = {"hidden": _hidden_now(spec, obj)}
        held = Report.objects.filter(
            kind=kind, object_id=object_id, status=Report.Status.OPEN, reason=Reason.HELD
        ).exists()
        if held and spec.hide is not None:
            spec.hide(obj, False)
            _search_refresh(spec, [obj.pk])
        closed = _reports_resolve(kind, object_id, staff, "dismissed")
        if not closed:
            raise Conflict(_("There is no open report on this."), code=ErrorCode.ALREADY_DONE)
        audit(
            actor=staff,
            action="dismiss",
            target_kind=kind,
            target_id=object_id,
            target_label=_title(spec, obj),
            reason=reason,
            before=before,
            after={"hidden": _hidden_now(spec, obj), "reports_closed": closed},
        )
    return closed


# --- content ----------------------------------------------------------------------------


def content_hide(*, staff: User, kind: str, object_id: int, reason: str) -> Decision:
    """Hide one thing from everyone but its author and staff; the author is told why and
    may appeal once. Open reports on it are resolved."""
    _staff_check(staff)
    spec, obj = _target(kind, object_id)
    if not spec.can_hide:
        raise Conflict(
            _("This is taken down, not hidden: its money must go back."),
            code=ErrorCode.WRONG_STATE,
        )
    reason = _reason_clean(reason)
    with transaction.atomic(durable=True):
        before = {"hidden": _hidden_now(spec, obj)}
        try:
            with transaction.atomic():
                decision = Decision.objects.create(
                    kind=kind,
                    object_id=obj.pk,
                    title=_title(spec, obj),
                    author_id=spec.author_id(obj),
                    action=Decision.Action.HIDE,
                    reason=reason,
                    staff=staff,
                )
        except IntegrityError:
            raise Conflict(_("This is hidden already."), code=ErrorCode.ALREADY_DONE) from None
        if spec.hide is not None:
            spec.hide(obj, True)
        _search_refresh(spec, [obj.pk])
        closed = _reports_resolve(kind, obj.pk, staff, "hidden")
        audit(
            actor=staff,
            action="hide",
            target_kind=kind,
            target_id=obj.pk,
            target_label=decision.title,
            reason=reason,
            before=before,
            after={"hidden": True, "decision": decision.pk, "reports_closed": closed},
        )
        notifications.notify_hidden(decision, str(spec.label))
    return decision


def content_take_down(*, staff: User, kind: str, object_id: int, reason: str) -> Decision:
    """End a piece of funded work (a brief, a batch) for breaking the rules: the mode's
    ``take_down`` refunds what its escrow still holds to the payer through the ledger and
    says whom to tell (entrants, workers); the client is told why and may appeal (an
    appeal cannot reopen it, only clear the record)."""
    _staff_check(staff)
    spec, obj = _target(kind, object_id)
    if spec.take_down is None:
        raise Conflict(_("Only funded work is taken down."), code=ErrorCode.WRONG_STATE)
    reason = _reason_clean(reason)
    before = {"status": getattr(obj, "status", "")}
    # The mode's take-down is its own durable transaction (escrow → work locks, refund).
    result = spec.take_down(obj, staff, reason)
    obj = spec.get(obj.pk) or obj
    with transaction.atomic(durable=True):
        decision = Decision.objects.create(
            kind=kind,
            object_id=obj.pk,
            title=_title(spec, obj),
            author_id=spec.author_id(obj),
            action=Decision.Action.TAKE_DOWN,
            reason=reason,
            staff=staff,
        )
        _search_refresh(spec, [obj.pk])
        closed = _reports_resolve(kind, obj.pk, staff, "taken_down")
        audit(
            actor=staff,
            action="take_down",
            target_kind=kind,
            target_id=obj.pk,
            target_label=decision.title,
            reason=reason,
            before=before,
            after={
                "status": getattr(obj, "status", ""),
                "refunded": result.refunded,
                "currency": result.currency,
                "told": len(result.told),
                "decision": decision.pk,
                "reports_closed": closed,
            },
        )
        notifications.notify_hidden(decision, str(spec.label))
        notifications.notify_taken_down(
            result.told,
            title=decision.title,
            what=str(spec.label),
            refunded=result.refunded > 0,
        )
    return decision


def decision_appeal(*, user: User, decision_id: int, text: str) -> Decision:
    """The author appeals a decision, once."""
    decision = Decision.objects.filter(pk=decision_id, author=user).first()
    if decision is None:
        raise NotFound(_("Not found."))
    text = _reason_clean(text, field="text")
    with transaction.atomic(durable=True):
        updated = Decision.objects.filter(
            pk=decision.pk, appealed_at__isnull=True, active=True
        ).update(appeal=Decision.Appeal.PENDING, appeal_text=text, appealed_at=timezone.now())
        if not updated:
            raise Conflict(_("You can appeal a decision once."), code=ErrorCode.ALREADY_APPEALED)
    decision.refresh_from_db()
    return decision


def appeal_decide(*, staff: User, decision_id: int, overturn: bool, reason: str) -> Decision:
    """Staff decide an appeal: overturned, the thing is shown again (a taken-down work
    stays ended, its money already returned); upheld, the decision stands. The author is
    told either way."""
    _staff_check(staff)
    decision = Decision.objects.filter(pk=decision_id).first()
    if decision is None:
        raise NotFound(_("Not found."))
    reason = _reason_clean(reason)
    spec = reportable(decision.kind)
    with transaction.atomic(durable=True):
        outcome = Decision.Appeal.OVERTURNED if overturn else Decision.Appeal.UPHELD
        changes: dict[str, Any] = {
            "appeal": outcome,
            "appeal_decided_by": staff,
            "appeal_decided_at": timezone.now(),
        }
        if overturn:
            changes["active"] = False
        updated = Decision.objects.filter(pk=decision.pk, appeal=Decision.Appeal.PENDING).update(
            **changes
        )
        if not updated:
            raise Conflict(_("There is no appeal to decide."), code=ErrorCode.NO_APPEAL)
        obj = spec.get(decision.object_id) if spec is not None else None
        if overturn and spec is not None and obj is not None:
            if spec.hide is not None:
                spec.hide(obj, False)
            _search_refresh(spec, [obj.pk])
        decision.refresh_from_db()
        audit(
            actor=staff,
            action="appeal_overturn" if overturn else "appeal_uphold",
            target_kind=decision.kind,
            target_id=decision.object_id,
            target_label=decision.title,
            reason=reason,
            before={"active": True, "appeal": Decision.Appeal.PENDING},
            after={"active": decision.active, "appeal": decision.appeal},
        )
        notifications.notify_appeal_decided(decision)
    return decision


# --- people -----------------------------------------------------------------------------


def _person(staff: User, user_id: int) -> User:
    from trefpunt.accounts.models import User as UserModel

    _staff_check(staff)
    person = UserModel.objects.filter(pk=user_id).first()
    if person is None:
        raise NotFound(_("Not found."))
    if person.is_staff or person.pk == staff.pk:
        raise Conflict(_("Staff accounts are not moderated here."), code=ErrorCode.NOT_MODERATABLE)
    return person


def _label(person: User) -> str:
    profile = getattr(person, "profile", None)
    return f"@{profile.handle}" if profile is not None else person.email


def user_warn(*, staff: User, user_id: int, reason: str) -> Sanction:
    person = _person(staff, user_id)
    reason = _reason_clean(reason)
    with transaction.atomic(durable=True):
        sanction = Sanction.objects.create(
            user=person, kind=Sanction.Kind.WARNING, reason=reason, staff=staff
        )
        closed = Report.objects.filter(
            author=person, kind="accounts.profile", status=Report.Status.OPEN
        ).update(
            status=Report.Status.RESOLVED,
            resolution="warned",
            resolved_by=staff,
            resolved_at=timezone.now(),
        )
        audit(
            actor=staff,
            action="warn",
            target_kind="accounts.user",
            target_id=person.pk,
            target_label=_label(person),
            reason=reason,
            before={"warnings": Sanction.objects.filter(user=person).count() - 1},
            after={"warnings": Sanction.objects.filter(user=person).count(), "closed": closed},
        )
        notifications.notify_warned(person, reason)
    return sanction


def _public_hide(person: User) -> list[list[Any]]:
    """Hide the person's public things of every kind that declares them; returns what was
    hidden now (things hidden already stay as they are)."""
    from .registry import reportables

    hidden: list[list[Any]] = []
    for spec in reportables():
        if spec.public_of_author is None or spec.hide is None:
            continue
        for object_id in spec.public_of_author(person.pk):
            obj = spec.get(object_id)
            if obj is not None and not _hidden_now(spec, obj):
                spec.hide(obj, True)
                hidden.append([spec.kind, object_id])
    return hidden


def _public_show(sanction: Sanction) -> None:
    """Show again what a lifted sanction hid, unless staff hid it on its own since."""
    for kind, object_id in sanction.hidden:
        spec = reportable(kind)
        obj = spec.get(object_id) if spec is not None else None
        if spec is None or spec.hide is None or obj is None:
            continue
        if not Decision.objects.filter(kind=kind, object_id=object_id, active=True).exists():
            spec.hide(obj, False)


def user_suspend(
    *, staff: User, user_id: int, reason: str, days: int | None = None, ban: bool = False
) -> Sanction:
    """Suspend (for ``days``, or until lifted) or ban: the account is deactivated at once,
    so its sessions and API tokens are refused from the next request on (Django does not
    authenticate an inactive account, nor does the token check), and its public things
    are hidden. Told by email."""
    person = _person(staff, user_id)
    reason = _reason_clean(reason)
    if not ban and days is not None and not 1 <= days <= SUSPEND_DAYS_MAX:
        raise ValidationFailed(
            fields={"days": _("From 1 to %(n)d days.") % {"n": SUSPEND_DAYS_MAX}}
        )
    kind = Sanction.Kind.BAN if ban else Sanction.Kind.SUSPENSION
    ends_at = timezone.now() + timedelta(days=days) if days and not ban else None
    with transaction.atomic(durable=True):
        from trefpunt.accounts.models import User as UserModel

        locked = UserModel.objects.select_for_update().get(pk=person.pk)
        active = Sanction.objects.filter(
            user=locked, kind__in=[Sanction.Kind.SUSPENSION, Sanction.Kind.BAN], lifted_at=None
        ).first()
        if active is not None and not (ban and active.kind == Sanction.Kind.SUSPENSION):
            raise Conflict(_("This account is locked already."), code=ErrorCode.ALREADY_DONE)
        hidden = _public_hide(locked)
        if active is not None:
            # A ban replaces a running suspension (and keeps what it hid).
            hidden = active.hidden + hidden
            Sanction.objects.filter(pk=active.pk).update(lifted_at=timezone.now(), lifted_by=staff)
        sanction = Sanction.objects.create(
            user=locked, kind=kind, reason=reason, staff=staff, ends_at=ends_at, hidden=hidden
        )
        UserModel.objects.filter(pk=locked.pk).update(is_active=False)
        _author_search_refresh(locked.pk, hidden)
        closed = Report.objects.filter(
            author=locked, kind="accounts.profile", status=Report.Status.OPEN
        ).update(
            status=Report.Status.RESOLVED,
            resolution=kind,
            resolved_by=staff,
            resolved_at=timezone.now(),
        )
        audit(
            actor=staff,
            action="ban" if ban else "suspend",
            target_kind="accounts.user",
            target_id=locked.pk,
            target_label=_label(locked),
            reason=reason,
            before={"is_active": locked.is_active},
            after={
                "is_active": False,
                "ends_at": ends_at.isoformat() if ends_at else None,
                "hidden": len(hidden),
                "reports_closed": closed,
            },
        )
        notifications.notify_locked(
            locked,
            reason=reason,
            ban=ban,
            ends=date_format(ends_at, "DATETIME_FORMAT") if ends_at else "",
        )
    return sanction


def user_reinstate(*, staff: User | None, user_id: int, reason: str) -> Sanction:
    """Lift a suspension or ban: the account works again and what it hid is shown.
    ``staff`` ``None``: a suspension that ended by itself (``suspensions_expire``)."""
    from trefpunt.accounts.models import User as UserModel

    if staff is not None:
        _staff_check(staff)
    reason = _reason_clean(reason, required=staff is not None)
    with transaction.atomic(durable=True):
        locked = UserModel.objects.select_for_update().filter(pk=user_id).first()
        sanction = (
            Sanction.objects.filter(
                user_id=user_id,
                kind__in=[Sanction.Kind.SUSPENSION, Sanction.Kind.BAN],
                lifted_at=None,
            ).first()
            if locked is not None
            else None
        )
        if locked is None or sanction is None:
            raise Conflict(_("This account is not locked."), code=ErrorCode.ALREADY_DONE)
        Sanction.objects.filter(pk=sanction.pk).update(lifted_at=timezone.now(), lifted_by=staff)
        UserModel.objects.filter(pk=locked.pk).update(is_active=True)
        _public_show(sanction)
        _author_search_refresh(locked.pk, sanction.hidden)
        audit(
            actor=staff,
            action="reinstate",
            target_kind="accounts.user",
            target_id=locked.pk,
            target_label=_label(locked),
            reason=reason or "suspension ended",
            before={"is_active": False, "sanction": sanction.kind},
            after={"is_active": True},
        )
    sanction.refresh_from_db()
    return sanction


def suspensions_expire() -> int:
    """Reinstate every suspension whose end has passed (the periodic sweep)."""
    due = Sanction.objects.filter(
        kind=Sanction.Kind.SUSPENSION, lifted_at=None, ends_at__lte=timezone.now()
    ).values_list("user_id", flat=True)
    done = 0
    for user_id in list(due):
        try:
            user_reinstate(staff=None, user_id=user_id, reason="")
        except Conflict:
            continue
        done += 1
    return done
