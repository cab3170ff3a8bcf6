from django.conf import settings
from ninja import Router

from trefpunt.core.types import AuthedRequest

from .schemas import MeOut, OrganisationOut
from .selectors import organisations_for_user

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
        profile_url=settings.SITE_URL + profile.get_absolute_url(),
        is_staff=user.is_staff,
        organisations=[
            OrganisationOut(slug=m.organisation.slug, name=m.organisation.name, role=m.role)
            for m in organisations_for_user(user=user)
        ],
    )
