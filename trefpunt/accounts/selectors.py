"""Reads of users, profiles and organisations, scoped to what the asking user may see."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db.models import Case, Prefetch, QuerySet, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from trefpunt.core.exceptions import NotFound

from .models import (
    ApiToken,
    Invitation,
    Membership,
    Organisation,
    PortfolioImage,
    PortfolioItem,
    Profile,
    Role,
)
from .tokens import secret_hash

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from .models import User


def hidden_ids(kind: str) -> Any:
    from trefpunt.moderation.selectors import hidden_ids as moderation_hidden

    return moderation_hidden(kind)


def profile_get(*, handle: str) -> Profile:
    profile = (
        Profile.objects.select_related("user")
        .prefetch_related("skills")
        .filter(handle=handle.lower(), user__is_active=True)
        # A profile staff hid (``moderation``) is gone until an appeal succeeds.
        .exclude(pk__in=hidden_ids("accounts.profile"))
        .first()
    )
    if profile is None:
        raise NotFound(_("No member with this handle."))
    return profile


def portfolio_items(*, owner: User) -> QuerySet[PortfolioItem]:
    return PortfolioItem.objects.filter(owner=owner).prefetch_related(
        Prefetch("images", queryset=PortfolioImage.objects.order_by("position", "id"))
    )


@dataclass(frozen=True)
class ProfileStats:
    member_since: datetime
    portfolio_items: int
    organisations: int


def profile_stats(*, profile: Profile) -> ProfileStats:
    user = profile.user
    return ProfileStats(
        member_since=profile.created_at,
        portfolio_items=PortfolioItem.objects.filter(owner=user).count(),
        organisations=Membership.objects.filter(user=user).count(),
    )


def organisations_for_user(*, user: User) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(user=user)
        .select_related("organisation")
        .order_by("organisation__name")
    )


def organisation_for_member(*, slug: str, user: User) -> tuple[Organisation, Membership]:
    """The organisation and the user's membership; not-found for non-members."""
    membership = (
        Membership.objects.select_related("organisation")
        .filter(organisation__slug=slug, user=user)
        .first()
    )
    if membership is None:
        raise NotFound(_("Organisation not found."))
    return membership.organisation, membership


def membership_get(*, organisation: Organisation, user: User | AnonymousUser) -> Membership | None:
    """The user's membership of the organisation, or ``None`` (also for visitors)."""
    if not user.is_authenticated:
        return None
    return Membership.objects.filter(organisation=organisation, user=user).first()


def organisation_get_public(*, slug: str) -> Organisation:
    organisation = Organisation.objects.filter(slug=slug).first()
    if organisation is None:
        raise NotFound(_("Organisation not found."))
    return organisation


def organisations_user_can_post_for(*, user: User) -> QuerySet[Organisation]:
    """Organisations in whose name the user may post briefs and spend money."""
    return Organisation.objects.filter(
        memberships__user=user, memberships__role__in=[Role.OWNER, Role.ADMIN]
    ).order_by("name")


def clients_acting(
    work: dict[int, tuple[int | None, int]],
) -> dict[int, frozenset[int]]:
    """Who acts for the client of each piece of work, in one query for all organisations.
    ``work`` maps a work id to (its organisation id or None, the person who posted it): an
    organisation's owners and admins act for its work, the poster for their own."""
    org_ids = {org_id for org_id, _person in work.values() if org_id}
    admins: dict[int, set[int]] = {}
    for org_id, user_id in Membership.objects.filter(
        organisation_id__in=org_ids, role__in=[Role.OWNER, Role.ADMIN], user__is_active=True
    ).values_list("organisation_id", "user_id"):
        admins.setdefault(org_id, set()).add(user_id)
    return {
        pk: frozenset(admins.get(org_id, ())) if org_id else frozenset({person})
        for pk, (org_id, person) in work.items()
    }


def organisations_of_profile(*, profile: Profile) -> QuerySet[Organisation]:
    """The organisations shown on a public profile (membership of an organisation is public)."""
    return Organisation.objects.filter(memberships__user_id=profile.user_id).order_by("name")


def organisation_members(*, organisation: Organisation) -> QuerySet[Membership]:
    """Members with their profiles, owners first; for members of the organisation only."""
    role_order = Case(
        When(role=Role.OWNER, then=Value(0)),
        When(role=Role.ADMIN, then=Value(1)),
        default=Value(2),
    )
    return (
        Membership.objects.filter(organisation=organisation, user__is_active=True)
        .select_related("user__profile")
        .alias(role_order=role_order)
        .order_by("role_order", "user__profile__display_name", "pk")
    )


def organisation_member_count(*, organisation: Organisation) -> int:
    return Membership.objects.filter(organisation=organisation).count()


def invitations_open(*, organisation: Organisation) -> QuerySet[Invitation]:
    """Invitations not yet accepted nor expired; for the organisation's owners and admins."""
    return (
        Invitation.objects.filter(
            organisation=organisation, accepted_at__isnull=True, expires_at__gt=timezone.now()
        )
        .select_related("invited_by__profile")
        .order_by("-created_at")
    )


def invitation_get(*, token: str) -> Invitation:
    """The invitation behind an emailed token; the token is the only way to find it."""
    invitation = (
        Invitation.objects.select_related("organisation", "invited_by__profile")
        .filter(token_hash=secret_hash(token))
        .first()
    )
    if invitation is None:
        raise NotFound(_("This invitation does not exist."))
    return invitation


def api_tokens_for_user(*, user: User) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user).order_by("revoked_at", "-created_at")
