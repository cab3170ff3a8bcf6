from django.http import FileResponse, HttpRequest
from django.utils.translation import gettext
from ninja import Field, Query, Router, Status

from trefpunt.core.api_schema import InSchema
from trefpunt.core.exceptions import ValidationFailed
from trefpunt.core.types import AuthedRequest
from trefpunt.core.web import absolute_url

from .schemas import (
    MeOut,
    OrganisationOut,
    OrganisationRefOut,
    PortfolioImageOut,
    PortfolioItemOut,
    ProfileOut,
    ProfileStatsOut,
)
from .selectors import (
    organisations_for_user,
    organisations_of_profile,
    portfolio_items,
    profile_get,
    profile_stats,
)

router = Router(tags=["accounts"])


@router.get("/me", response=MeOut, summary="The authenticated user")
def me_api(request: AuthedRequest) -> MeOut:
    user = request.user
    profile = user.profile
    return MeOut(
        id=user.pk,
        email=user.email,
        handle=profile.handle,
        display_name=profile.display_name,
        headline=profile.headline,
        profile_url=absolute_url(profile.get_absolute_url()),
        is_staff=user.is_staff,
        organisations=[
            OrganisationOut(slug=m.organisation.slug, name=m.organisation.name, role=m.role)
            for m in organisations_for_user(user=user)
        ],
    )


@router.get(
    "/me/export",
    response={200: None},
    summary="Everything the platform holds about you (a zip of JSON and your files)",
    description="`data/<model>.json` per kind of record, `files/…` with your uploads, and "
    "`manifest.json`. Secrets (password hash, token fingerprints) are left out.",
)
def me_export_api(request: AuthedRequest) -> FileResponse:
    from trefpunt.privacy.views import export_response

    return export_response(request.user)


class DeleteConfirmIn(InSchema):
    confirm: str = Field(..., max_length=254)


@router.delete(
    "/me",
    response={204: None},
    summary="Delete your account",
    description="Send your account's email address as `confirm`. Your profile and private "
    "data are removed; published work stays, shown as by a former member; ledger lines stay. "
    "Refused with `open_money` (409) while money is on its way (wallet balance, payouts, "
    "escrow, entries being judged, answers being reviewed): the message says what to settle.",
)
def me_delete_api(request: AuthedRequest, query: Query[DeleteConfirmIn]) -> Status:
    from trefpunt.privacy.services import account_delete

    confirm = query.confirm
    if confirm.strip().lower() != request.user.email.lower():
        raise ValidationFailed(fields={"confirm": gettext("Send your email address to confirm.")})
    account_delete(user=request.user)
    return Status(204, None)


@router.get(
    "/profiles/{handle}",
    response=ProfileOut,
    auth=None,
    summary="A member's public profile",
    description="Public, no token needed. Unknown handles answer 404.",
)
def profile_api(request: HttpRequest, handle: str) -> ProfileOut:
    profile = profile_get(handle=handle)
    stats = profile_stats(profile=profile)
    from trefpunt.discovery.selectors_people import track_record_of

    return ProfileOut(
        handle=profile.handle,
        display_name=profile.display_name,
        headline=profile.headline,
        bio=profile.bio,
        location=profile.location,
        languages=list(profile.languages or []),
        skills=[skill.name for skill in profile.skills.all()],
        avatar_url=absolute_url(profile.avatar.url) if profile.avatar else None,
        profile_url=absolute_url(profile.get_absolute_url()),
        track_record=dict(track_record_of(profile).figures),
        stats=ProfileStatsOut(
            portfolio_items=stats.portfolio_items,
            organisations=stats.organisations,
            member_since=profile.created_at,
        ),
        portfolio=[
            PortfolioItemOut(
                id=item.pk,
                title=item.title,
                description=item.description,
                source=item.source,
                created_at=item.created_at,
                images=[
                    PortfolioImageOut(
                        url=absolute_url(picture.image.url),
                        width=picture.width,
                        height=picture.height,
                    )
                    for picture in item.images.all()
                ],
            )
            for item in portfolio_items(owner=profile.user)
        ],
        organisations=[
            OrganisationRefOut(
                slug=org.slug, name=org.name, url=absolute_url(org.get_absolute_url())
            )
            for org in organisations_of_profile(profile=profile)
        ],
    )
