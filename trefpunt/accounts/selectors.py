"""Reads of users, profiles and organisations, scoped to what the asking user may see."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import connection
from django.db.models import Case, Prefetch, QuerySet, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from trefpunt.core.db import (
    JoinPart,
    instances_from_row,
    joined_columns,
    model_fields,
    model_from_row,
    prefetched_set,
    prepared_cursor,
)
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
    Skill,
)
from .tokens import secret_hash

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from .models import User


def hidden_ids(kind: str) -> Any:
    from trefpunt.moderation.selectors import hidden_ids as moderation_hidden

    return moderation_hidden(kind)


# ``profile_get`` written out (PostgreSQL, prepared): the public profile page reads it on
# every request, and building the ORM's query (with moderation's subquery) and its skills'
# prefetch cost more than running them. Moderation's subquery is its own queryset's SQL,
# compiled once with its parameters (constants today: the kind, active); a rule with a time
# in it would need them compiled per call.
_PROFILE_READ = (
    "SELECT {columns} FROM {profile} p INNER JOIN {user} u ON p.user_id = u.id"
    " WHERE p.handle = %s AND u.is_active AND NOT (p.id IN ({hidden}))"
    " ORDER BY p.id LIMIT 1"
)
_SKILLS_READ = (
    "SELECT {columns} FROM {skill} s INNER JOIN {through} t ON s.id = t.skill_id"
    " WHERE t.profile_id = %s ORDER BY s.name"
)


def _profile_read_parts() -> list[JoinPart]:
    from .models import User

    return [("p", Profile, model_fields(Profile)), ("u", User, model_fields(User))]


@functools.cache
def _profile_read() -> tuple[str, tuple[Any, ...], str]:
    """The statement, moderation's parameters and the skills' statement."""
    from .models import User

    quote = connection.ops.quote_name
    hidden, hidden_params = hidden_ids("accounts.profile").query.sql_with_params()
    through = Profile.skills.through
    profile = _PROFILE_READ.format(
        columns=joined_columns(_profile_read_parts()),
        profile=quote(Profile._meta.db_table),
        user=quote(User._meta.db_table),
        hidden=hidden,
    )
    skills = _SKILLS_READ.format(
        columns=", ".join(f"s.{quote(f.column)}" for f in model_fields(Skill)),
        skill=quote(Skill._meta.db_table),
        through=quote(through._meta.db_table),
    )
    return profile, tuple(hidden_params), skills


def _profile_get_prepared(handle: str) -> Profile | None:
    from .models import User

    statement, hidden_params, skills_statement = _profile_read()
    with prepared_cursor() as cursor:
        cursor.execute(statement, [handle, *hidden_params])
        row = cursor.fetchone()
        if row is None:
            return None
        profile, user = instances_from_row(_profile_read_parts(), row)
        cursor.execute(skills_statement, [profile.pk])
        skills = [model_from_row(Skill, model_fields(Skill), r) for r in cursor.fetchall()]
    # As ``select_related("user")`` and ``prefetch_related("skills")`` leave them.
    Profile.user.field.set_cached_value(profile, user)
    User.profile.related.set_cached_value(user, profile)
    prefetched_set(profile, "skills", profile.skills.all(), skills)
    return profile


def profile_get(*, handle: str) -> Profile:
    if connection.vendor == "postgresql":
        profile = _profile_get_prepared(handle.lower())
    else:
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


# ``profile_stats``' two counts in one written-out statement (PostgreSQL, prepared).
_PROFILE_COUNTS = (
    "SELECT (SELECT COUNT(*) FROM {item} WHERE owner_id = %s),"
    " (SELECT COUNT(*) FROM {membership} WHERE user_id = %s)"
)


@functools.cache
def _profile_counts_query() -> str:
    quote = connection.ops.quote_name
    return _PROFILE_COUNTS.format(
        item=quote(PortfolioItem._meta.db_table), membership=quote(Membership._meta.db_table)
    )


def profile_stats(*, profile: Profile) -> ProfileStats:
    if connection.vendor == "postgresql":
        with prepared_cursor() as cursor:
            cursor.execute(_profile_counts_query(), [profile.user_id, profile.user_id])
            items, organisations = cursor.fetchone()
        return ProfileStats(
            member_since=profile.created_at,
            portfolio_items=int(items),
            organisations=int(organisations),
        )
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
