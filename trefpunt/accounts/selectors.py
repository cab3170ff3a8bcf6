"""Reads of users, profiles and organisations, scoped to what the asking user may see."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext as _

from trefpunt.core.exceptions import NotFound

from .models import Membership, Organisation, PortfolioImage, PortfolioItem, Profile, Role

if TYPE_CHECKING:
    from .models import User


def profile_get(*, handle: str) -> Profile:
    profile = (
        Profile.objects.select_related("user")
        .prefetch_related("skills")
        .filter(handle=handle.lower(), user__is_active=True)
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
    member_since: object
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
