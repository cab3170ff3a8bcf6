"""The states of contests, entries and handovers, and the rules that say when an action is
allowed — in one place, for the services and the selectors alike.

The three state machines make every state move (``core.states.StateMachine``: a
conditional update whose row count says who won, with the contest's events in
``core.Event``). Each ``…_refusal`` function answers one question — "may this happen to
this object now?" — with ``None`` or the refusal the service raises (a ``Conflict`` or
``PermissionDenied`` with its ``ErrorCode``). Services call them before taking locks and
again under the lock, on the locked rows; ``selectors.ContestAccess`` and ``EntryAccess``
call the same functions to say what a viewer may do, so a page or an API answer never
offers an action the service would refuse.
"""

from __future__ import annotations

from datetime import datetime

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from trefpunt.core.exceptions import ApplicationError, Conflict, ErrorCode, PermissionDenied
from trefpunt.core.states import StateMachine

from . import limits
from .models import Contest, Entry, Handover

S = Contest.Status
E = Entry.Status
H = Handover.Status

CONTEST_STATES: StateMachine[Contest] = StateMachine(
    Contest,
    subject="contest",
    moves={
        S.OPEN: {S.DRAFT},  # published, escrow funded
        S.JUDGING: {S.OPEN},  # deadline passed or closed early
        S.AWARDED: {S.JUDGING},  # the client chose the winners
        # the last handover confirmed, or the guarantee split the prizes
        S.COMPLETED: {S.AWARDED, S.JUDGING},
        # the client cancelled; nobody entered by the deadline; no eligible entry at the end
        S.CANCELLED: {S.DRAFT, S.OPEN, S.JUDGING},
    },
    refusal=gettext_lazy("You cannot %(action)s: the contest is %(status)s."),
)

ENTRY_STATES: StateMachine[Entry] = StateMachine(
    Entry,
    subject="entry",
    moves={
        E.FINALIST: {E.SUBMITTED},
        E.SUBMITTED: {E.FINALIST},  # unmarked as finalist
        E.WITHDRAWN: {E.SUBMITTED, E.FINALIST},
        E.DECLINED: {E.SUBMITTED, E.FINALIST},
        E.WINNER: {E.SUBMITTED, E.FINALIST},
        E.NOT_SELECTED: {E.SUBMITTED, E.FINALIST},
    },
    refusal=gettext_lazy("You cannot %(action)s: the entry is %(status)s."),
)

HANDOVER_STATES: StateMachine[Handover] = StateMachine(
    Handover,
    subject="handover",
    moves={
        H.DELIVERED: {H.AWAITING_FILES, H.DELIVERED},  # delivering again restarts the wait
        H.CONFIRMED: {H.DELIVERED},
    },
    refusal=gettext_lazy("You cannot %(action)s: the handover is %(status)s."),
)

# Entries still in the running: they may be revised, withdrawn, judged and win.
ACTIVE_ENTRY = frozenset(ENTRY_STATES.sources(E.WITHDRAWN))
# While entries come in and during judging the client rates, declines and picks finalists;
# staff review declines.
JUDGING_STATES = frozenset({S.OPEN, S.JUDGING})
# A rating and feedback may still change once the contest is decided.
RATING_STATES = JUDGING_STATES | {S.AWARDED, S.COMPLETED}
# Reference files and invitations: while the brief is a draft or open for entries.
BRIEF_FILE_STATES = frozenset({S.DRAFT, S.OPEN})
# The client may cancel a draft, or an open contest nobody entered.
CLIENT_CANCEL_STATES = frozenset({S.DRAFT, S.OPEN})
DECIDED = frozenset({S.AWARDED, S.COMPLETED})

Refusal = ApplicationError | None


def _wrong_state(contest: Contest, action: str) -> Conflict:
    return CONTEST_STATES.wrong_state(contest, action)


# --- the brief ---------------------------------------------------------------------------


def brief_edit_refusal(contest: Contest) -> Refusal:
    if contest.status != S.DRAFT:
        return _wrong_state(contest, _("edit the brief"))
    return None


def brief_files_refusal(contest: Contest, action: str) -> Refusal:
    if contest.status not in BRIEF_FILE_STATES:
        return _wrong_state(contest, action)
    return None


def invite_refusal(contest: Contest) -> Refusal:
    if not contest.is_private:
        return Conflict(
            _("Only private contests have invitations; this one is public."),
            code=ErrorCode.NOT_PRIVATE,
        )
    return brief_files_refusal(contest, _("invite people"))


def publish_refusal(contest: Contest) -> Refusal:
    if not CONTEST_STATES.can(contest, S.OPEN):
        return _wrong_state(contest, _("publish"))
    return None


def cancel_refusal(contest: Contest, *, entries: int) -> Refusal:
    """The client cancels a draft, or an open contest without entries (``entries`` counts
    those not withdrawn): once somebody entered, the prizes are theirs to win."""
    if contest.status not in CLIENT_CANCEL_STATES:
        return _wrong_state(contest, _("cancel"))
    if contest.status == S.OPEN and entries:
        return Conflict(
            _(
                "This contest has entries; it can no longer be cancelled. Judge them and "
                "award the prizes."
            ),
            code=ErrorCode.HAS_ENTRIES,
        )
    return None


# --- open → judging → decided --------------------------------------------------------------


def close_early_refusal(contest: Contest, *, entries: int) -> Refusal:
    """The client closes entries before the deadline, once enough entries are in."""
    if not CONTEST_STATES.can(contest, S.JUDGING):
        return _wrong_state(contest, _("close entries"))
    if entries < limits.EARLY_CLOSE_MIN_ENTRIES:
        return Conflict(
            _("You can close entries early once %(n)d entries are in; there are %(count)d.")
            % {"n": limits.EARLY_CLOSE_MIN_ENTRIES, "count": entries},
            code=ErrorCode.TOO_FEW_ENTRIES,
        )
    return None


def close_due_refusal(contest: Contest, now: datetime) -> Refusal:
    """The sweep closes entries once the deadline has passed."""
    if not CONTEST_STATES.can(contest, S.JUDGING):
        return _wrong_state(contest, _("close entries"))
    if contest.entry_deadline > now:
        return Conflict(_("The entry deadline has not passed yet."), code=ErrorCode.NOT_DUE)
    return None


def finalist_round_refusal(contest: Contest) -> Refusal:
    if contest.status != S.JUDGING:
        return _wrong_state(contest, _("start a finalist round"))
    if contest.finalist_deadline is not None:
        return Conflict(_("The finalist round has already started."), code=ErrorCode.ALREADY_DONE)
    return None


def award_refusal(contest: Contest) -> Refusal:
    if contest.status == S.OPEN:
        return Conflict(
            _("Entries are still open. Close entries (or wait for the deadline) first."),
            code=ErrorCode.ENTRIES_OPEN,
        )
    if not CONTEST_STATES.can(contest, S.AWARDED):
        return _wrong_state(contest, _("award the prizes"))
    return None


def guarantee_refusal(contest: Contest, now: datetime) -> Refusal:
    if contest.status != S.JUDGING:
        return _wrong_state(contest, _("split the prizes"))
    if contest.judging_ends_at is None or contest.judging_ends_at > now:
        return Conflict(_("Judging has not ended yet."), code=ErrorCode.NOT_DUE)
    return None


def judging_refusal(contest: Contest, action: str) -> Refusal:
    """Declining, finalists and decline reviews: while open or judging."""
    if contest.status not in JUDGING_STATES:
        return _wrong_state(contest, action)
    return None


def rating_refusal(contest: Contest) -> Refusal:
    if contest.status not in RATING_STATES:
        return _wrong_state(contest, _("rate entries"))
    return None


def finalists_full_refusal(contest: Contest, *, finalists: int) -> Refusal:
    if finalists >= contest.finalists_max:
        return Conflict(
            _("This contest has room for %(n)d finalists; unmark one first.")
            % {"n": contest.finalists_max},
            code=ErrorCode.FINALISTS_FULL,
        )
    return None


# --- entering ------------------------------------------------------------------------------


def entries_open(contest: Contest, now: datetime) -> bool:
    """Entries come in, and may be revised and withdrawn, until the deadline (server clock)."""
    return contest.status == S.OPEN and contest.entry_deadline > now


def submit_refusal(contest: Contest, now: datetime, *, manages: bool) -> Refusal:
    if manages:
        return Conflict(_("You cannot enter your own contest."), code=ErrorCode.OWN_CONTEST)
    if not entries_open(contest, now):
        return Conflict(_("This contest no longer takes entries."), code=ErrorCode.ENTRIES_CLOSED)
    return None


def entry_limit_refusal(contest: Contest, *, mine: int) -> Refusal:
    """``mine``: the entrant's entries in the contest that were not withdrawn."""
    if mine >= contest.max_entries_per_entrant:
        return Conflict(
            _("You have reached the limit of %(n)d entries in this contest.")
            % {"n": contest.max_entries_per_entrant},
            code=ErrorCode.ENTRY_LIMIT,
        )
    return None


def revision_refusal(contest: Contest, entry: Entry, now: datetime) -> Refusal:
    """A new version: before the deadline, or as a finalist during the finalist round."""
    if entry.status not in ACTIVE_ENTRY:
        return ENTRY_STATES.wrong_state(entry, _("revise this entry"))
    if entries_open(contest, now):
        return None
    finalist_round = (
        contest.status == S.JUDGING
        and entry.status == E.FINALIST
        and contest.finalist_deadline is not None
        and contest.finalist_deadline > now
    )
    if finalist_round:
        return None
    return Conflict(
        _(
            "You can revise an entry only before the deadline, or as a finalist in the "
            "finalist round."
        ),
        code=ErrorCode.ENTRIES_CLOSED,
    )


def withdraw_refusal(contest: Contest, entry: Entry, now: datetime) -> Refusal:
    if not entries_open(contest, now):
        return Conflict(
            _("Entries can be withdrawn only before the entry deadline."),
            code=ErrorCode.ENTRIES_CLOSED,
        )
    if not ENTRY_STATES.can(entry, E.WITHDRAWN):
        return ENTRY_STATES.wrong_state(entry, _("withdraw this entry"))
    return None


def report_refusal(*, is_entrant: bool, manages: bool) -> Refusal:
    """Anyone else who sees an entry may report it as copied; its client declines it as
    copied instead, which staff review."""
    if is_entrant:
        return PermissionDenied(_("You cannot report your own entry."), code=ErrorCode.OWN_ENTRY)
    if manages:
        return PermissionDenied(
            _("Decline the entry as copied instead; our staff review such declines."),
            code=ErrorCode.OWN_CONTEST,
        )
    return None


def portfolio_refusal(contest: Contest, entry: Entry) -> Refusal:
    if contest.is_private:
        return Conflict(
            _("Entries of private contests stay out of portfolios."), code=ErrorCode.PRIVATE
        )
    if contest.status not in DECIDED:
        return Conflict(
            _("You can show the entry once the contest is decided."),
            code=ErrorCode.WRONG_STATE,
        )
    if entry.status == E.WITHDRAWN:
        return Conflict(_("This entry was withdrawn."), code=ErrorCode.WRONG_STATE)
    return None


def raise_refusal(refusal: Refusal) -> None:
    """Raise the refusal a rule returned, if any."""
    if refusal is not None:
        raise refusal
