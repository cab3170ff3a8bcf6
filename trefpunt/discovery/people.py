"""People and organisations in search and the directory (``registry``). A person is public when
their account is active (not suspended) and they have not hidden their profile
(``ProfileListing.listed``); their document carries the track record, so the directory filters
and sorts by it without computing it per row."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy

from trefpunt.accounts.models import Organisation, Profile

from .models import ProfileListing
from .registry import Document, SearchKind, register, track_parts
from .track import track_records


def people_public() -> QuerySet[Profile]:
    """The rule that keeps people out: suspended accounts and hidden profiles."""
    return (
        Profile.objects.filter(user__is_active=True)
        .exclude(user__listing__listed=False)
        .select_related("user__listing")
        .prefetch_related("skills")
    )


def shows_work_stats(user: Any) -> bool:
    listing = getattr(user, "listing", None) if hasattr(user, "listing") else None
    try:
        return bool(listing and listing.shows_work_stats)
    except ProfileListing.DoesNotExist:
        return False


def person_document(profile: Profile) -> Document:
    skills = list(profile.skills.all())
    record = track_records(
        [profile.user_id], show_private={profile.user_id: shows_work_stats(profile.user)}
    )[profile.user_id]
    return Document(
        title=profile.display_name,
        body=f"{profile.headline}\n{profile.bio}",
        names=f"@{profile.handle}",
        keywords=" ".join([*(s.name for s in skills), profile.location]),
        category=skills[0].slug if skills else "",
        tags=[s.slug for s in skills],
        languages=list(profile.languages or []),
        url_key=profile.handle,
        detail={
            "headline": profile.headline,
            "location": profile.location,
            "skills": [[s.slug, s.name] for s in skills],
            "track": dict(record.figures),
            "member_since": profile.created_at.isoformat(),
            "avatar": bool(profile.avatar),
        },
        score=record.score,
        published_at=profile.created_at,
        updated_at=timezone.now(),
    )


def organisations_public() -> QuerySet[Organisation]:
    return Organisation.objects.all()


def organisation_document(org: Organisation) -> Document:
    return Document(
        title=org.name,
        body=org.description,
        names=org.slug,
        url_key=org.slug,
        detail={"website": org.website},
        published_at=org.created_at,
        updated_at=org.created_at,
    )


def _profile_of_user(user_id: int | None) -> list[int]:
    if not user_id:
        return []
    return list(Profile.objects.filter(user_id=user_id).values_list("pk", flat=True))


def _profiles_of_users(user_ids: Any) -> list[int]:
    ids = [int(i) for i in user_ids if i]
    if not ids:
        return []
    return list(Profile.objects.filter(user_id__in=ids).values_list("pk", flat=True))


def _via_profiles(users_of: Any) -> Any:
    return lambda thing: _profiles_of_users(users_of(thing))


def register_search() -> None:
    """People and organisations; the modes' track-record parts say which of their events and
    saves change a person's figures (``TrackPart.events`` / ``follows``)."""
    user_model = get_user_model()
    events: dict[str, Any] = {}
    follows: dict[Any, Any] = {
        user_model: lambda user: _profile_of_user(user.pk),
        ProfileListing: lambda listing: _profile_of_user(listing.user_id),
        Profile.skills.through: lambda profile: (
            [profile.pk] if isinstance(profile, Profile) else []
        ),
    }
    for part in track_parts():
        events.update({s: _via_profiles(f) for s, f in part.events.items()})
        follows.update({m: _via_profiles(f) for m, f in part.follows.items()})
    register(
        SearchKind(
            name="person",
            label=gettext_lazy("People"),
            model=Profile,
            public=people_public,
            document=person_document,
            url=lambda key: reverse("accounts:profile", kwargs={"handle": key}),
            events=events,
            follows=follows,
            in_feeds=False,
            order=50,
        )
    )
    register(
        SearchKind(
            name="organisation",
            label=gettext_lazy("Organisations"),
            model=Organisation,
            public=organisations_public,
            document=organisation_document,
            url=lambda key: reverse("accounts:org_detail", kwargs={"slug": key}),
            in_feeds=False,
            order=60,
        )
    )
