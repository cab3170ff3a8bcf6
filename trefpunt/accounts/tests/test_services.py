from __future__ import annotations

import io
import os
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from allauth.account.models import EmailAddress
from django.core import mail
from django.utils import timezone
from PIL import Image

from trefpunt.accounts.models import (
    ApiToken,
    Invitation,
    Membership,
    Organisation,
    PortfolioImage,
    PortfolioItem,
    Profile,
    Role,
    User,
)
from trefpunt.accounts.services import (
    api_token_authenticate,
    api_token_create,
    api_token_revoke,
    invitation_accept,
    membership_remove,
    organisation_create,
    organisation_invite,
    portfolio_item_create,
    portfolio_item_delete,
    profile_update,
    user_create,
)
from trefpunt.accounts.tests.factories import (
    OrganisationFactory,
    UserFactory,
    image_bytes,
    image_upload,
)
from trefpunt.core.exceptions import Conflict, NotFound, PermissionDenied, ValidationFailed
from trefpunt.core.testing import run_concurrently

pytestmark = pytest.mark.django_db


def profile_snapshot(user: User) -> dict[str, Any]:
    """Everything a profile edit could change, read fresh from the database."""
    profile = Profile.objects.get(user=user)
    row: dict[str, Any] = dict(Profile.objects.filter(pk=profile.pk).values().get())
    row["skills"] = sorted(profile.skills.values_list("name", flat=True))
    return row


def profile_fields(**overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "handle": "anna-de-vries",
        "display_name": "Anna de Vries",
        "headline": "Illustrator",
        "bio": "Drawing since 2010.\nLoves tea.",
        "location": "Utrecht",
        "languages": "nl, EN",
        "skills": "illustration, logo design",
    }
    fields.update(overrides)
    return fields


# --- users and profiles ------------------------------------------------------------------


def test_user_create_makes_a_verified_user_with_profile():
    user = user_create(
        email="Anna@Example.org", password="a-long-pass-phrase", display_name="Anna de Vries"
    )
    assert user.email == "anna@example.org"
    assert user.check_password("a-long-pass-phrase")
    assert EmailAddress.objects.get(user=user).verified
    assert user.profile.display_name == "Anna de Vries"
    assert user.profile.handle == "anna-de-vries"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"email": "TAKEN@example.org"}, "email"),
        ({"password": "short"}, "password"),
        ({"password": "12345678901"}, "password"),
        ({"handle": "admin"}, "handle"),
        ({"handle": "Bad Handle!"}, "handle"),
        ({"display_name": "x" * 81}, "display_name"),
    ],
)
def test_user_create_refuses_bad_input_naming_the_field(kwargs, field):
    user_create(email="taken@example.org", password="a-long-pass-phrase")
    before = User.objects.count()
    arguments = {"email": "new@example.org", "password": "a-long-pass-phrase", **kwargs}
    with pytest.raises(ValidationFailed) as caught:
        user_create(**arguments)
    assert field in caught.value.fields
    assert User.objects.count() == before
    assert Profile.objects.count() == before


def test_profile_create_suggests_a_free_handle_when_the_name_is_taken():
    first = UserFactory.create(display_name="Sam Jansen")
    second = UserFactory.create(display_name="Sam Jansen")
    assert first.profile.handle == "sam-jansen"
    assert second.profile.handle.startswith("sam-jansen-")


def test_profile_update_saves_every_field(user):
    profile_update(profile=user.profile, **profile_fields())
    profile = Profile.objects.get(user=user)
    assert profile.handle == "anna-de-vries"
    assert profile.display_name == "Anna de Vries"
    assert profile.bio == "Drawing since 2010.\nLoves tea."
    assert profile.languages == ["nl", "en"]
    assert sorted(profile.skills.values_list("name", flat=True)) == [
        "illustration",
        "logo design",
    ]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"handle": "taken-handle"}, "handle"),
        ({"handle": "no spaces"}, "handle"),
        ({"handle": "ab"}, "handle"),
        ({"handle": "settings"}, "handle"),
        ({"languages": "nl, xx"}, "languages"),
        ({"display_name": ""}, "display_name"),
        ({"display_name": "d" * 81}, "display_name"),
        ({"headline": "h" * 141}, "headline"),
        ({"location": "l" * 81}, "location"),
        ({"bio": "b" * 4001}, "bio"),
        ({"skills": ", ".join(f"skill {n}" for n in range(21))}, "skills"),
        ({"avatar": image_upload("fake.png", b"this is text, not a PNG")}, "avatar"),
    ],
)
def test_profile_update_refuses_bad_input_and_saves_nothing(user, overrides, field):
    Profile.objects.filter(user=UserFactory.create()).update(handle="taken-handle")
    before = profile_snapshot(user)
    with pytest.raises(ValidationFailed) as caught:
        profile_update(profile=user.profile, **profile_fields(**overrides))
    assert field in caught.value.fields
    assert profile_snapshot(user) == before


def test_profile_update_reports_every_bad_field_at_once(user):
    with pytest.raises(ValidationFailed) as caught:
        profile_update(
            profile=user.profile,
            **profile_fields(handle="x", languages="zz", headline="h" * 200),
        )
    assert set(caught.value.fields) == {"handle", "languages", "headline"}


def test_profile_update_resizes_the_avatar_to_256_square_and_strips_metadata(user):
    exif = Image.Exif()
    exif[0x010F] = "Secret Camera Co"  # Make
    exif[0x8825] = {1: "N", 2: (52.0, 5.0, 7.0)}  # GPS position
    photo = image_bytes(900, 600, fmt="JPEG", exif=exif.tobytes())
    assert b"Secret Camera Co" in photo
    profile_update(profile=user.profile, **profile_fields(avatar=image_upload("me.jpg", photo)))
    profile = Profile.objects.get(user=user)
    with profile.avatar.open("rb") as stored:
        data = stored.read()
    image = Image.open(io.BytesIO(data))
    assert image.size == (256, 256)
    assert not image.getexif()
    assert b"Secret Camera Co" not in data


def test_profile_update_refuses_an_oversized_avatar(user, settings):
    settings.MAX_AVATAR_BYTES = 1024 * 1024
    noise = Image.frombytes("RGB", (700, 700), os.urandom(700 * 700 * 3))
    out = io.BytesIO()
    noise.save(out, format="PNG")
    assert out.tell() > settings.MAX_AVATAR_BYTES
    before = profile_snapshot(user)
    with pytest.raises(ValidationFailed) as caught:
        profile_update(
            profile=user.profile, **profile_fields(avatar=image_upload("big.png", out.getvalue()))
        )
    assert "too large" in caught.value.fields["avatar"][0]
    assert profile_snapshot(user) == before


def test_profile_update_replacing_the_avatar_deletes_the_old_file(
    user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        profile_update(profile=user.profile, **profile_fields(avatar=image_upload()))
    old = Profile.objects.get(user=user).avatar
    old_name = str(old.name)
    assert old.storage.exists(old_name)
    with django_capture_on_commit_callbacks(execute=True):
        profile_update(profile=user.profile, **profile_fields(avatar=image_upload("new.png")))
    assert not old.storage.exists(old_name)
    assert Profile.objects.get(user=user).avatar.name != old_name


# --- portfolio ----------------------------------------------------------------------------


def test_portfolio_item_create_stores_images_bounded_and_in_order(user):
    item = portfolio_item_create(
        owner=user,
        title="Tea tins",
        description="Four tins.",
        images=[
            image_upload("a.png", image_bytes(2400, 1200, colour="red")),
            image_upload("b.png", image_bytes(300, 200, colour="blue")),
        ],
    )
    images = list(item.images.all())
    assert [(p.width, p.height) for p in images] == [(1600, 800), (300, 200)]
    assert Image.open(images[0].image.open("rb")).size == (1600, 800)


def test_portfolio_item_create_refuses_a_text_file_as_image_and_saves_nothing(user):
    with pytest.raises(ValidationFailed) as caught:
        portfolio_item_create(
            owner=user, title="Work", images=[image_upload("x.png", b"GIF89a but not really")]
        )
    assert "images" in caught.value.fields
    assert not PortfolioItem.objects.exists()
    assert not PortfolioImage.objects.exists()


def test_portfolio_item_create_refuses_too_many_images_and_a_missing_title(user):
    with pytest.raises(ValidationFailed) as caught:
        portfolio_item_create(owner=user, title=" ", images=[image_upload()] * 9)
    assert set(caught.value.fields) == {"title", "images"}
    assert not PortfolioItem.objects.exists()


def test_portfolio_item_create_with_a_source_ref_adds_the_item_once(user):
    first = portfolio_item_create(
        owner=user, title="Winning logo", source=PortfolioItem.Source.CONTEST_WIN, source_ref="e:1"
    )
    again = portfolio_item_create(
        owner=user, title="Winning logo", source=PortfolioItem.Source.CONTEST_WIN, source_ref="e:1"
    )
    assert again.pk == first.pk
    assert PortfolioItem.objects.count() == 1


def test_portfolio_item_delete_of_someone_elses_item_is_not_found(user):
    item = portfolio_item_create(owner=UserFactory.create(), title="Not yours")
    with pytest.raises(NotFound):
        portfolio_item_delete(item_id=item.pk, user=user)
    assert PortfolioItem.objects.filter(pk=item.pk).exists()


def test_portfolio_item_delete_removes_the_item_and_its_files(
    user, django_capture_on_commit_callbacks
):
    item = portfolio_item_create(owner=user, title="Mine", images=[image_upload()])
    picture = item.images.get().image
    name = str(picture.name)
    assert picture.storage.exists(name)
    with django_capture_on_commit_callbacks(execute=True):
        portfolio_item_delete(item_id=item.pk, user=user)
    assert not PortfolioItem.objects.filter(pk=item.pk).exists()
    assert not picture.storage.exists(name)


# --- organisations ------------------------------------------------------------------------


def test_organisation_create_makes_the_creator_owner(user):
    organisation = organisation_create(user=user, name="Bakkerij Jansen")
    assert organisation.slug == "bakkerij-jansen"
    membership = Membership.objects.get(organisation=organisation)
    assert (membership.user, membership.role) == (user, Role.OWNER)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"name": ""}, "name"),
        ({"slug": "taken-name"}, "slug"),
        ({"name": "Taken Name"}, "slug"),
        ({"slug": "new"}, "slug"),
        ({"slug": "invitations"}, "slug"),
        ({"website": "ftp://example.org"}, "website"),
        ({"website": "not a url"}, "website"),
        ({"description": "d" * 4001}, "description"),
    ],
)
def test_organisation_create_refuses_bad_input_and_saves_nothing(user, kwargs, field):
    organisation_create(user=user, name="Taken Name")
    before = (Organisation.objects.count(), Membership.objects.count())
    with pytest.raises(ValidationFailed) as caught:
        organisation_create(user=user, **{"name": "Fine Name", **kwargs})
    assert field in caught.value.fields
    assert (Organisation.objects.count(), Membership.objects.count()) == before


def test_organisation_invite_emails_an_accept_link_after_commit(
    django_capture_on_commit_callbacks,
):
    organisation = OrganisationFactory.create(name="Vlot Labs")
    owner = organisation.memberships.get().user
    with django_capture_on_commit_callbacks(execute=True):
        invitation, token = organisation_invite(
            organisation=organisation, inviter=owner, email="New@Example.org", role=Role.ADMIN
        )
    assert invitation.email == "new@example.org"
    assert invitation.token_hash != token
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["new@example.org"]
    assert "Vlot Labs" in message.subject
    assert f"/orgs/invitations/{token}/" in message.body


def _org_with_owner() -> tuple[Organisation, User]:
    organisation = OrganisationFactory.create()
    return organisation, organisation.memberships.get().user


def _join(organisation: Organisation, inviter: User, role: str = Role.MEMBER) -> User:
    member = UserFactory.create()
    _invitation, token = organisation_invite(
        organisation=organisation, inviter=inviter, email=member.email, role=role
    )
    invitation_accept(token=token, user=member)
    return member


@pytest.mark.parametrize(
    ("email", "role", "field", "message"),
    [
        ("not-an-email", Role.MEMBER, "email", "valid email"),
        ("Member@Example.org", Role.MEMBER, "email", "already a member"),
        ("invited@example.org", Role.MEMBER, "email", "already been invited"),
        ("someone@example.org", "boss", "role", "owner, admin or member"),
    ],
)
def test_organisation_invite_refuses_bad_input_and_saves_nothing(email, role, field, message):
    organisation, owner = _org_with_owner()
    member = UserFactory.create(email="member@example.org")
    _inv, token = organisation_invite(organisation=organisation, inviter=owner, email=member.email)
    invitation_accept(token=token, user=member)
    organisation_invite(organisation=organisation, inviter=owner, email="invited@example.org")
    before = Invitation.objects.count()
    with pytest.raises(ValidationFailed) as caught:
        organisation_invite(organisation=organisation, inviter=owner, email=email, role=role)
    assert message in caught.value.fields[field][0]
    assert Invitation.objects.count() == before


def test_organisation_invite_by_a_plain_member_is_forbidden():
    organisation, owner = _org_with_owner()
    member = _join(organisation, owner)
    with pytest.raises(PermissionDenied):
        organisation_invite(organisation=organisation, inviter=member, email="x@example.org")
    assert not Invitation.objects.filter(email="x@example.org").exists()


def test_organisation_invite_by_an_outsider_is_not_found(user):
    organisation, _owner = _org_with_owner()
    with pytest.raises(NotFound):
        organisation_invite(organisation=organisation, inviter=user, email="x@example.org")


def test_organisation_invite_of_an_owner_needs_an_owner():
    organisation, owner = _org_with_owner()
    admin = _join(organisation, owner, Role.ADMIN)
    with pytest.raises(ValidationFailed) as caught:
        organisation_invite(
            organisation=organisation, inviter=admin, email="x@example.org", role=Role.OWNER
        )
    assert "role" in caught.value.fields


def test_organisation_invite_replaces_an_expired_invitation():
    organisation, owner = _org_with_owner()
    first, _old_token = organisation_invite(
        organisation=organisation, inviter=owner, email="late@example.org"
    )
    with time_machine.travel(timezone.now() + timedelta(days=15)):
        second, _token = organisation_invite(
            organisation=organisation, inviter=owner, email="late@example.org"
        )
    assert not Invitation.objects.filter(pk=first.pk).exists()
    assert Invitation.objects.filter(pk=second.pk).exists()


def test_invitation_accept_joins_with_the_invited_role_once():
    organisation, owner = _org_with_owner()
    invitee = UserFactory.create(email="invitee@example.org")
    _inv, token = organisation_invite(
        organisation=organisation, inviter=owner, email="INVITEE@example.org", role=Role.ADMIN
    )
    membership = invitation_accept(token=token, user=invitee)
    assert (membership.user, membership.role) == (invitee, Role.ADMIN)
    with pytest.raises(Conflict):
        invitation_accept(token=token, user=invitee)
    assert Membership.objects.filter(organisation=organisation).count() == 2


def test_invitation_accept_by_another_account_is_refused(user):
    organisation, owner = _org_with_owner()
    _inv, token = organisation_invite(
        organisation=organisation, inviter=owner, email="someone-else@example.org"
    )
    with pytest.raises(PermissionDenied) as caught:
        invitation_accept(token=token, user=user)
    assert "someone-else@example.org" in caught.value.message
    assert not Membership.objects.filter(organisation=organisation, user=user).exists()
    assert Invitation.objects.get().accepted_at is None


def test_invitation_accept_with_an_unverified_address_is_refused():
    organisation, owner = _org_with_owner()
    invitee = user_create(email="unverified@example.org", password=None, verified=False)
    _inv, token = organisation_invite(
        organisation=organisation, inviter=owner, email="unverified@example.org"
    )
    with pytest.raises(PermissionDenied):
        invitation_accept(token=token, user=invitee)


def test_invitation_accept_after_expiry_is_refused():
    organisation, owner = _org_with_owner()
    invitee = UserFactory.create()
    _inv, token = organisation_invite(organisation=organisation, inviter=owner, email=invitee.email)
    later = timezone.now() + timedelta(days=14, minutes=1)
    with time_machine.travel(later), pytest.raises(Conflict) as caught:
        invitation_accept(token=token, user=invitee)
    assert "expired" in caught.value.message
    assert not Membership.objects.filter(organisation=organisation, user=invitee).exists()


def test_invitation_accept_with_an_unknown_token_is_not_found(user):
    with pytest.raises(NotFound):
        invitation_accept(token="no-such-token", user=user)


def test_membership_remove_by_an_admin_removes_a_member():
    organisation, owner = _org_with_owner()
    admin = _join(organisation, owner, Role.ADMIN)
    member = _join(organisation, owner)
    membership = Membership.objects.get(organisation=organisation, user=member)
    membership_remove(organisation=organisation, actor=admin, member_id=membership.pk)
    assert not Membership.objects.filter(pk=membership.pk).exists()


def test_membership_remove_of_an_owner_by_an_admin_is_forbidden():
    organisation, owner = _org_with_owner()
    _join(organisation, owner, Role.OWNER)
    admin = _join(organisation, owner, Role.ADMIN)
    owner_row = Membership.objects.get(organisation=organisation, user=owner)
    with pytest.raises(PermissionDenied):
        membership_remove(organisation=organisation, actor=admin, member_id=owner_row.pk)
    assert Membership.objects.filter(pk=owner_row.pk).exists()


def test_membership_remove_of_the_last_owner_is_refused():
    organisation, owner = _org_with_owner()
    owner_row = Membership.objects.get(organisation=organisation, user=owner)
    with pytest.raises(Conflict):
        membership_remove(organisation=organisation, actor=owner, member_id=owner_row.pk)
    assert Membership.objects.filter(pk=owner_row.pk).exists()


def test_membership_remove_by_a_plain_member_is_forbidden():
    organisation, owner = _org_with_owner()
    member = _join(organisation, owner)
    other = _join(organisation, owner)
    row = Membership.objects.get(organisation=organisation, user=other)
    with pytest.raises(PermissionDenied):
        membership_remove(organisation=organisation, actor=member, member_id=row.pk)


@pytest.mark.race
@pytest.mark.django_db(transaction=True)
def test_membership_remove_two_owners_removing_each_other_leaves_one_owner():
    organisation, first = _org_with_owner()
    second = _join(organisation, first, Role.OWNER)
    rows = {m.user_id: m.pk for m in Membership.objects.filter(organisation=organisation).all()}
    pairs = [(first, rows[second.pk]), (second, rows[first.pk])]

    def remove(index: int) -> None:
        actor, target = pairs[index]
        membership_remove(organisation=organisation, actor=actor, member_id=target)

    outcomes = sorted(type(outcome).__name__ for outcome in run_concurrently(remove, 2))
    assert outcomes in (["Conflict", "NoneType"], ["NoneType", "NotFound"])
    assert Membership.objects.filter(organisation=organisation, role=Role.OWNER).count() == 1


@pytest.mark.race
@pytest.mark.django_db(transaction=True)
def test_invitation_accept_twice_at_once_accepts_once():
    organisation, owner = _org_with_owner()
    invitee = UserFactory.create()
    _inv, token = organisation_invite(organisation=organisation, inviter=owner, email=invitee.email)

    def accept(index: int) -> Membership:
        return invitation_accept(token=token, user=invitee)

    outcomes = sorted(type(outcome).__name__ for outcome in run_concurrently(accept, 2))
    assert outcomes == ["Conflict", "Membership"]
    assert Membership.objects.filter(organisation=organisation, user=invitee).count() == 1


# --- API tokens -----------------------------------------------------------------------


def test_api_token_create_stores_only_a_hash(user):
    token, raw = api_token_create(user=user, name="laptop")
    assert raw.startswith("tp_")
    assert raw.startswith(token.prefix)
    stored = ApiToken.objects.filter(pk=token.pk).values().get()
    assert raw not in {str(v) for v in stored.values()}
    assert api_token_authenticate(raw) == user


def test_api_token_create_needs_a_name(user):
    with pytest.raises(ValidationFailed) as caught:
        api_token_create(user=user, name="  ")
    assert "name" in caught.value.fields
    assert not ApiToken.objects.exists()


def test_api_token_revoke_stops_the_token_working(user):
    token, raw = api_token_create(user=user, name="ci")
    api_token_revoke(user=user, token_id=token.pk)
    assert api_token_authenticate(raw) is None
    with pytest.raises(Conflict):
        api_token_revoke(user=user, token_id=token.pk)


def test_api_token_revoke_of_someone_elses_token_is_not_found(user):
    token, raw = api_token_create(user=UserFactory.create(), name="theirs")
    with pytest.raises(NotFound):
        api_token_revoke(user=user, token_id=token.pk)
    assert api_token_authenticate(raw) == token.user


def test_api_token_authenticate_records_last_use(user):
    token, raw = api_token_create(user=user, name="ci")
    assert token.last_used_at is None
    api_token_authenticate(raw)
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_api_token_authenticate_refuses_inactive_users(user):
    _token, raw = api_token_create(user=user, name="ci")
    User.objects.filter(pk=user.pk).update(is_active=False)
    assert api_token_authenticate(raw) is None
