"""Who may see and do what in an idea call: computed once, here, and used by the views, the
API and the templates alike (``IdeaCallAccess``, ``IdeaAccess``).

Who sees a call:

* a **draft**: its managers (the poster, or the owners and admins of the organisation it is
  posted for) and staff;
* a **public** call: everyone, also without an account;
* an **organisation** call: the organisation's members, managers and staff;
* an **invited** call: the invited people, managers and staff.

Everyone else gets not-found, whatever the way in (list, page, API, file URL, a guessed id).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from trefpunt.accounts.models import Membership, Role
from trefpunt.core.exceptions import NotFound

from ..models import CallInvitation, Idea, IdeaCall

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from trefpunt.accounts.models import User

    AnyUser = User | AnonymousUser | None

PUBLISHED = [IdeaCall.Status.OPEN, IdeaCall.Status.VOTING, IdeaCall.Status.CLOSED]


def authed(user: AnyUser) -> User | None:
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return user  # type: ignore[return-value]


def _org_ids(user: User, roles: list[str] | None = None) -> set[int]:
    qs = Membership.objects.filter(user=user)
    if roles:
        qs = qs.filter(role__in=roles)
    return set(qs.values_list("organisation_id", flat=True))


def managed_organisation_ids(user: AnyUser) -> set[int]:
    person = authed(user)
    return _org_ids(person, [Role.OWNER, Role.ADMIN]) if person else set()


def call_can_manage(call: IdeaCall, user: AnyUser) -> bool:
    person = authed(user)
    if person is None:
        return False
    if call.organisation_id is None:
        return call.created_by_id == person.pk
    return call.organisation_id in managed_organisation_ids(person)


def calls_visible_q(user: AnyUser) -> Q:
    """The calls ``user`` may see, as a filter (three small queries at most)."""
    published = Q(status__in=PUBLISHED)
    visible = published & Q(audience=IdeaCall.Audience.PUBLIC)
    person = authed(user)
    if person is None:
        return visible
    memberships = list(
        Membership.objects.filter(user=person).values_list("organisation_id", "role")
    )
    member_of = {org for org, _role in memberships}
    manages = {org for org, role in memberships if role in {Role.OWNER, Role.ADMIN}}
    invited = CallInvitation.objects.filter(user=person).values("call_id")
    return (
        visible
        | (published & Q(audience=IdeaCall.Audience.ORGANISATION, organisation_id__in=member_of))
        | (published & Q(audience=IdeaCall.Audience.INVITED, pk__in=invited))
        | Q(created_by=person, organisation__isnull=True)
        | Q(organisation_id__in=manages)
    )


@dataclass(frozen=True)
class IdeaCallAccess:
    call: IdeaCall
    user: User | None
    can_view: bool
    can_manage: bool
    is_staff: bool
    now: datetime

    # --- time and state -----------------------------------------------------------------
    @property
    def submissions_open(self) -> bool:
        return self.call.status == IdeaCall.Status.OPEN and self.now < self.call.submission_deadline

    @property
    def voting_open(self) -> bool:
        return (
            self.call.status in {IdeaCall.Status.OPEN, IdeaCall.Status.VOTING}
            and self.now < self.call.voting_deadline
        )

    @property
    def running(self) -> bool:
        return self.call.status in {IdeaCall.Status.OPEN, IdeaCall.Status.VOTING}

    # --- capabilities -------------------------------------------------------------------
    @property
    def can_submit(self) -> bool:
        return self.user is not None and self.submissions_open

    @property
    def can_vote(self) -> bool:
        return self.user is not None and self.voting_open

    @property
    def can_comment(self) -> bool:
        return self.user is not None and self.call.status != IdeaCall.Status.DRAFT

    @property
    def can_decide(self) -> bool:
        """Move ideas between stages, merge duplicates."""
        return (self.can_manage or self.is_staff) and self.running

    @property
    def can_edit(self) -> bool:
        return self.can_manage and self.call.status == IdeaCall.Status.DRAFT

    @property
    def can_publish(self) -> bool:
        return self.can_edit

    @property
    def can_close(self) -> bool:
        return self.can_manage and self.running

    @property
    def can_follow(self) -> bool:
        return self.user is not None and self.call.status != IdeaCall.Status.DRAFT

    @property
    def can_see_voting_details(self) -> bool:
        return self.can_manage or self.is_staff


def _taken_down(call: IdeaCall) -> bool:
    """Staff took the call down (``moderation``): only its managers and staff still see it.
    Only a closed call can have been (one query, for closed calls only)."""
    from trefpunt.moderation.selectors import hidden_ids

    if call.status != IdeaCall.Status.CLOSED:
        return False
    return hidden_ids("ideas.call").filter(object_id=call.pk).exists()


def call_access(call: IdeaCall, user: AnyUser) -> IdeaCallAccess:
    person = authed(user)
    can_manage = call_can_manage(call, person)
    is_staff = bool(person and person.is_staff)
    published = call.status != IdeaCall.Status.DRAFT
    if can_manage or is_staff:
        can_view = True
    elif not published or _taken_down(call):
        can_view = False
    elif call.audience == IdeaCall.Audience.PUBLIC:
        can_view = True
    elif person is None:
        can_view = False
    elif call.audience == IdeaCall.Audience.ORGANISATION:
        can_view = bool(call.organisation_id) and call.organisation_id in _org_ids(person)
    else:
        can_view = CallInvitation.objects.filter(call=call, user=person).exists()
    return IdeaCallAccess(call, person, can_view, can_manage, is_staff, timezone.now())


def _call_base() -> QuerySet[IdeaCall]:
    return IdeaCall.objects.select_related("organisation", "created_by__profile", "reward_stage")


def call_get_for_user(*, call_id: int, user: AnyUser) -> IdeaCallAccess:
    call = _call_base().filter(pk=call_id).first()
    access = call_access(call, user) if call is not None else None
    if access is None or not access.can_view:
        raise NotFound(_("Idea call not found."))
    return access


def call_get_for_manager(*, call_id: int, user: AnyUser) -> IdeaCall:
    call = _call_base().filter(pk=call_id).first()
    if call is None or not call_can_manage(call, user):
        raise NotFound(_("Idea call not found."))
    return call


@dataclass(frozen=True)
class IdeaAccess:
    idea: Idea
    call: IdeaCallAccess

    @property
    def user(self) -> User | None:
        return self.call.user

    @property
    def is_author(self) -> bool:
        return self.user is not None and self.idea.author_id == self.user.pk

    @property
    def can_edit(self) -> bool:
        return (
            self.is_author
            and self.idea.is_active
            and not self.idea.is_locked
            and self.call.call.status != IdeaCall.Status.CLOSED
        )

    @property
    def can_add_update(self) -> bool:
        return self.is_author and self.idea.is_active and self.idea.is_locked

    @property
    def can_vote(self) -> bool:
        return self.call.can_vote and self.idea.is_active and not self.is_author

    @property
    def can_comment(self) -> bool:
        return self.call.can_comment and self.idea.status != Idea.Status.HIDDEN

    @property
    def can_move_stage(self) -> bool:
        return self.call.can_decide and self.idea.is_active

    @property
    def can_merge(self) -> bool:
        return self.call.can_decide and self.idea.is_active

    @property
    def can_improve(self) -> bool:
        return self.call.can_submit and self.idea.is_active

    @property
    def can_report(self) -> bool:
        return self.user is not None and not self.is_author


def idea_get_for_user(*, idea_id: int, user: AnyUser) -> IdeaAccess:
    idea = (
        Idea.objects.select_related(
            "call__organisation",
            "call__created_by__profile",
            "call__reward_stage",
            "author__profile",
            "stage",
            "improves",
            "merged_into",
        )
        .filter(pk=idea_id)
        .first()
    )
    if idea is None:
        raise NotFound(_("Idea not found."))
    access = call_access(idea.call, user)
    if not access.can_view or (idea.status == Idea.Status.HIDDEN and not access.is_staff):
        raise NotFound(_("Idea not found."))
    return IdeaAccess(idea, access)
