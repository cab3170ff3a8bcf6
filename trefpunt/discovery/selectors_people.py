"""Reads about one person for pages and the API: whether they are listed, their track record,
their listing settings."""

from __future__ import annotations

from typing import Any

from .models import ProfileListing
from .track import TrackRecord, track_records


def listing_of(user: Any) -> ProfileListing:
    """The person's listing settings (the defaults when they never changed them)."""
    listing = ProfileListing.objects.filter(user_id=user.pk).first()
    return listing or ProfileListing(user_id=user.pk)


def profile_is_listed(profile: Any) -> bool:
    if not profile.user.is_active:
        return False
    return not ProfileListing.objects.filter(user_id=profile.user_id, listed=False).exists()


def track_record_of(profile: Any) -> TrackRecord:
    show = ProfileListing.objects.filter(user_id=profile.user_id, shows_work_stats=True).exists()
    return track_records([profile.user_id], show_private={profile.user_id: show})[profile.user_id]
