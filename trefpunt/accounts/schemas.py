from datetime import datetime
from typing import Any

from trefpunt.core.api_schema import OutSchema


class OrganisationOut(OutSchema):
    slug: str
    name: str
    role: str


class MeOut(OutSchema):
    id: int
    email: str
    handle: str
    display_name: str
    headline: str
    profile_url: str
    is_staff: bool
    organisations: list[OrganisationOut]


class PortfolioImageOut(OutSchema):
    url: str
    width: int
    height: int


class PortfolioItemOut(OutSchema):
    id: int
    title: str
    description: str
    source: str
    images: list[PortfolioImageOut]
    created_at: datetime


class PersonOut(OutSchema):
    """A person as every mode's API names them: by their public handle."""

    handle: str
    display_name: str


def person_out(user: Any) -> dict[str, str]:
    profile = getattr(user, "profile", None)
    return {
        "handle": profile.handle if profile else "",
        "display_name": profile.display_name if profile else "",
    }


class OrganisationRefOut(OutSchema):
    slug: str
    name: str
    url: str


class ProfileStatsOut(OutSchema):
    portfolio_items: int
    organisations: int
    member_since: datetime


class ProfileOut(OutSchema):
    """A member's public profile, the same data as the page at ``/@handle/``."""

    handle: str
    display_name: str
    headline: str
    bio: str
    location: str
    languages: list[str]
    skills: list[str]
    avatar_url: str | None
    profile_url: str
    stats: ProfileStatsOut
    portfolio: list[PortfolioItemOut]
    organisations: list[OrganisationRefOut]
    # Computed from the platform's rows by each mode (``discovery.track``): contests_entered,
    # contests_finalist, contests_won, ratings_received, rating_average, ideas_posted,
    # ideas_selected, and microtask figures when the member shows them.
    track_record: dict[str, Any] = {}
