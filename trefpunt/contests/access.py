"""What a viewer may see and do with a contest, an entry or a handover, computed once.

``ContestAccess``, ``EntryAccess`` and ``HandoverAccess`` are built by the selectors (which
also scope every read by them) and read by the views, the API output and the templates
alike. Each ``can_…`` asks the same rule the service asks before acting
(``rules.…_refusal`` and the state machines' ``can``), so a page never offers an action
the service would refuse and the service never allows one the page hides.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from django.db.models import Count
from django.utils import timezone

from trefpunt.accounts.models import Membership, Role

from . import rules
from .models import Contest, ContestInvitation, Entry, Handover

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from trefpunt.accounts.models import User

    AnyUser = User | AnonymousUser | None


def authed_or_none(user: AnyUser) -> User | None:
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return user  # type: ignore[return-value]


def managed_organisation_ids(user: AnyUser) -> set[int]:
    """Organisations whose contests the user manages (owner or admin)."""
    authed = authed_or_none(user)
    if authed is None:
        return set()
    return set(
        Membership.objects.filter(user=authed, role__in=[Role.OWNER, Role.ADMIN]).values_list(
            "organisation_id", flat=True
        )
    )


def contest_can_manage(contest: Contest, user: AnyUser) -> bool:
    return contest.pk in contests_managed_among([contest], authed_or_none(user))


def contests_managed_among(contests: Iterable[Contest], user: User | None) -> set[int]:
    """The ids of ``contests`` the user manages: an organisation's contests its owners and
    admins, any other contest its poster; the user's organisations are read only when one
    of the contests is posted for one."""
    contests = list(contests)
    if user is None:
        return set()
    posted_for = [c for c in contests if c.organisation_id is not None]
    managed = managed_organisation_ids(user) if posted_for else set()
    return {
        c.pk
        for c in contests
        if (
            c.organisation_id in managed
            if c.organisation_id is not None
            else c.created_by_id == user.pk
        )
    }


# What ``ContestAccess`` reads of a public contest for a viewer who does not manage it
# (``contest_for_access``): a field a ``can_…`` of such a viewer starts to read must be added.
ACCESS_FIELDS = (
    "id",
    "status",
    "entry_deadline",
    "max_entries_per_entrant",
    "is_private",
    "visibility",
    "cancel_reason",
    "created_by_id",
    "organisation_id",
)


def contest_access_fields(contest: Contest) -> dict[str, object]:
    return {name: getattr(contest, name) for name in ACCESS_FIELDS}


def contest_for_access(fields: dict[str, object]) -> Contest:
    """A public contest rebuilt from ``contest_access_fields`` (kept in a listing's cache),
    only for ``access_build`` of a viewer who does not manage it. Its other fields have their
    defaults: never show it, never save it."""
    if fields["is_private"]:
        raise ValueError("only public contests are rebuilt from their access fields")
    return Contest(**fields)


@dataclass(frozen=True)
class ContestAccess:
    """Who the viewer is to a contest and what they may do with it, computed once and read
    by views, the API and templates alike. Each ``can_…`` asks the same rule
    (``rules.…_refusal``) the service asks before acting; counts are read lazily, once."""

    contest: Contest
    user: User | None
    can_view: bool
    can_manage: bool
    is_staff: bool
    is_invited: bool
    # Known already (a list reads them for every contest in one query); else read lazily.
    known_my_entries: int | None = None
    # The invitee accepted the contest's current NDA text (see ``nda_pending``).
    nda_accepted: bool = False

    @property
    def nda_pending(self) -> bool:
        """An invitee who has not accepted the current NDA: they see the title, the prizes
        and the NDA, and nothing of the brief, its files or the entries until they do."""
        return (
            self.can_view
            and self.contest.has_nda
            and not (self.can_manage or self.is_staff or self.nda_accepted)
        )

    @property
    def can_read_brief(self) -> bool:
        """The brief, its reference files, the questions and the entries."""
        return self.can_view and not self.nda_pending

    @property
    def can_accept_nda(self) -> bool:
        return self.nda_pending and self.is_invited

    @property
    def sees_all_entries(self) -> bool:
        return self.can_manage or self.is_staff

    @property
    def can_see_others_entries(self) -> bool:
        """Other entrants' entries: in an open-visibility contest, or in a blind one once it
        is decided (the winners); the client and staff always (see ``entries_visible_q``)."""
        return (
            not self.contest.is_blind
            or self.sees_all_entries
            or self.contest.status in rules.DECIDED
        )

    @cached_property
    def entry_count(self) -> int:
        """Entries that count: every one not withdrawn."""
        annotated = getattr(self.contest, "entry_count", None)
        if annotated is not None:
            return int(annotated)
        return self.contest.entries.exclude(status=Entry.Status.WITHDRAWN).count()

    @cached_property
    def my_entry_count(self) -> int:
        """The viewer's own entries that count towards their limit."""
        if self.known_my_entries is not None:
            return self.known_my_entries
        if self.user is None:
            return 0
        return (
            self.contest.entries.filter(entrant=self.user)
            .exclude(status=Entry.Status.WITHDRAWN)
            .count()
        )

    def _manages_and(self, refusal: Callable[[], rules.Refusal]) -> bool:
        """Whether the viewer manages the contest and ``refusal()`` finds nothing against
        it, asked only of a manager (a refusal builds a translated message: a list of 20
        contests asked it 160 times for viewers who manage none)."""
        return self.can_manage and refusal() is None

    # --- the client -----------------------------------------------------------------------

    @property
    def can_edit(self) -> bool:
        return self._manages_and(lambda: rules.brief_edit_refusal(self.contest))

    @property
    def can_change_files(self) -> bool:
        """Reference files (and, when private, invitations): draft or open."""
        return self._manages_and(lambda: rules.brief_files_refusal(self.contest, ""))

    @property
    def can_invite(self) -> bool:
        return self._manages_and(lambda: rules.invite_refusal(self.contest))

    @property
    def can_publish(self) -> bool:
        return self._manages_and(lambda: rules.publish_refusal(self.contest))

    @property
    def can_cancel(self) -> bool:
        if not self.can_manage or self.contest.status not in rules.CLIENT_CANCEL_STATES:
            return False
        return rules.cancel_refusal(self.contest, entries=self.entry_count) is None

    @property
    def can_close_early(self) -> bool:
        if not self.can_manage or self.contest.status != Contest.Status.OPEN:
            return False
        return rules.close_early_refusal(self.contest, entries=self.entry_count) is None

    @property
    def can_judge(self) -> bool:
        """Rate, decline and pick finalists (while open or judging)."""
        return self._manages_and(lambda: rules.judging_refusal(self.contest, ""))

    @property
    def can_start_finalist_round(self) -> bool:
        return self._manages_and(lambda: rules.finalist_round_refusal(self.contest))

    @property
    def can_award(self) -> bool:
        return self._manages_and(lambda: rules.award_refusal(self.contest))

    # --- the crowd ------------------------------------------------------------------------

    @property
    def can_enter(self) -> bool:
        """Entries are open to this viewer (they may have reached their limit, though)."""
        if self.user is None or not self.can_read_brief:
            return False
        refusal = rules.submit_refusal(self.contest, timezone.now(), manages=self.can_manage)
        return refusal is None

    @property
    def can_submit(self) -> bool:
        """Entries are open to this viewer and they have entries left."""
        return self.can_enter and self.entries_left > 0

    @property
    def entries_left(self) -> int:
        if not self.can_enter:
            return 0
        return max(0, self.contest.max_entries_per_entrant - self.my_entry_count)


def contest_access(contest: Contest, user: AnyUser) -> ContestAccess:
    authed = authed_or_none(user)
    can_manage = contest_can_manage(contest, authed)
    invitation = (
        ContestInvitation.objects.filter(contest=contest, user=authed).values("nda_version").first()
        if authed and contest.is_private
        else None
    )
    return access_build(
        contest,
        authed,
        can_manage=can_manage,
        is_invited=invitation is not None,
        nda_version=invitation["nda_version"] if invitation else "",
    )


def access_build(
    contest: Contest,
    user: User | None,
    *,
    can_manage: bool,
    is_invited: bool,
    my_entries: int | None = None,
    nda_version: str = "",
) -> ContestAccess:
    """``nda_version``: the NDA version the viewer's invitation accepted (empty: none)."""
    is_staff = bool(user and user.is_staff)
    # A contest staff took down is gone for everyone but its client and staff.
    published = contest.status != Contest.Status.DRAFT and contest.cancel_reason != "taken_down"
    can_view = can_manage or is_staff or (published and (not contest.is_private or is_invited))
    return ContestAccess(
        contest,
        user,
        can_view,
        can_manage,
        is_staff,
        is_invited,
        known_my_entries=my_entries,
        nda_accepted=bool(nda_version) and nda_version == contest.nda_version,
    )


def contest_access_many(contests: Iterable[Contest], user: AnyUser) -> list[ContestAccess]:
    """``contest_access`` for a list of contests, in a fixed number of queries."""
    authed = authed_or_none(user)
    contests = list(contests)
    if authed is None:
        return [access_build(c, None, can_manage=False, is_invited=False) for c in contests]
    managed = contests_managed_among(contests, authed)
    # Invitations matter for private contests only (most lists have none).
    private = [c.pk for c in contests if c.is_private]
    invited = (
        dict(
            ContestInvitation.objects.filter(contest_id__in=private, user=authed).values_list(
                "contest_id", "nda_version"
            )
        )
        if private
        else {}
    )
    mine = dict(
        Entry.objects.filter(contest_id__in=[c.pk for c in contests], entrant=authed)
        .exclude(status=Entry.Status.WITHDRAWN)
        .values("contest_id")
        .annotate(n=Count("pk"))
        .values_list("contest_id", "n")
    )
    return [
        access_build(
            c,
            authed,
            can_manage=c.pk in managed,
            is_invited=c.is_private and c.pk in invited,
            my_entries=mine.get(c.pk, 0),
            nda_version=invited.get(c.pk, ""),
        )
        for c in contests
    ]


@dataclass(frozen=True)
class EntryAccess:
    """Who the viewer is to an entry and what they may see and do with it (the same rules
    the services check; see ``ContestAccess``). Cheap: no queries of its own, so a list
    builds one per entry."""

    entry: Entry
    contest: ContestAccess
    is_entrant: bool

    @property
    def can_see_original(self) -> bool:
        """Full-size clean files, downloads, every version, the client's rating and
        feedback, the decline: the entrant, the client and staff."""
        return self.is_entrant or self.contest.sees_all_entries

    @property
    def can_see_flags(self) -> bool:
        return self.contest.sees_all_entries

    @property
    def can_see_guarantee_share(self) -> bool:
        """Whether it would share in the guarantee matters only while it may still split."""
        return self.can_see_original and self.contest.contest.status in rules.JUDGING_STATES

    @property
    def can_judge(self) -> bool:
        """Rate, decline and pick as finalist: the client, while the entry is in the
        running and the contest open or judging."""
        return self.contest.can_judge and self.entry.status in rules.ACTIVE_ENTRY

    @property
    def can_make_finalist(self) -> bool:
        return self.can_judge and rules.ENTRY_STATES.can(self.entry, Entry.Status.FINALIST)

    @property
    def can_unmark_finalist(self) -> bool:
        return self.can_judge and rules.ENTRY_STATES.can(self.entry, Entry.Status.SUBMITTED)

    @property
    def can_rate(self) -> bool:
        """The rating and feedback may still change after the award."""
        return (
            self.contest.can_manage
            and self.entry.status != Entry.Status.WITHDRAWN
            and rules.rating_refusal(self.contest.contest) is None
        )

    @property
    def can_withdraw(self) -> bool:
        return self.is_entrant and (
            rules.withdraw_refusal(self.contest.contest, self.entry, timezone.now()) is None
        )

    @property
    def can_revise(self) -> bool:
        return self.is_entrant and (
            rules.revision_refusal(self.contest.contest, self.entry, timezone.now()) is None
        )

    @property
    def can_report(self) -> bool:
        return self.contest.user is not None and (
            rules.report_refusal(is_entrant=self.is_entrant, manages=self.contest.can_manage)
            is None
        )

    @property
    def can_message(self) -> bool:
        """The entry's conversation: the entrant and the client, nobody else."""
        return self.is_entrant or self.contest.can_manage

    @property
    def can_add_to_portfolio(self) -> bool:
        return self.is_entrant and rules.portfolio_refusal(self.contest.contest, self.entry) is None


def entry_access_many(access: ContestAccess, entries: Iterable[Entry]) -> list[EntryAccess]:
    """The viewer's access to each of ``entries`` of ``access.contest`` (no queries)."""
    user_id = access.user.pk if access.user is not None else None
    return [EntryAccess(entry, access, entry.entrant_id == user_id) for entry in entries]


@dataclass(frozen=True)
class HandoverAccess:
    handover: Handover
    entry: EntryAccess

    @property
    def can_deliver(self) -> bool:
        """The winner uploads the final files, again too until the client confirms."""
        return self.entry.is_entrant and rules.HANDOVER_STATES.can(
            self.handover, Handover.Status.DELIVERED
        )

    @property
    def can_confirm(self) -> bool:
        return self.entry.contest.can_manage and rules.HANDOVER_STATES.can(
            self.handover, Handover.Status.CONFIRMED
        )
