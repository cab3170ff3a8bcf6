"""Writes of the discovery app: a person's listing settings."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from .models import ProfileListing


def listing_update(*, user: Any, listed: bool, shows_work_stats: bool) -> ProfileListing:
    """Save what a person lets the platform show; the save re-indexes them (``indexing``), so
    a hidden profile leaves search and the directory in this transaction."""
    with transaction.atomic(durable=True):
        listing, _created = ProfileListing.objects.select_for_update().get_or_create(user=user)
        listing.listed = listed
        listing.shows_work_stats = shows_work_stats
        listing.save()
    return listing
