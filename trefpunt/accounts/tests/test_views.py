from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from allauth.account.models import EmailAddress
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from trefpunt.accounts.models import (
    ApiToken,
    Invitation,
    Membership,
    Organisation,
    PortfolioItem,
    Profile,
    Role,
    User,
)
from trefpunt.accounts.services import (
    api_token_create,
    invitation_accept,
    organisation_invite,
    portfolio_item_create,
    profile_update,
)
from trefpunt.accounts.tests.factories import (
    PASSWORD,
    OrganisationFactory,
    UserFactory,
    image_upload,
)
from trefpunt.accounts.tests.test_services import profile_snapshot

pytestmark = pytest.mark.django_db

SIGNUP_URL = "/en/accounts/signup/"
CONFIRM_LINK = re.compile(r"https?://[^\s/]+(/en/accounts/confirm-email/[^\s/]+/)")


@pytest.fixture(autouse=True)
def signup_form(settings):
    """Our sign-up form (display name, duplicate email named), as the project settings
    configure it with ``ACCOUNT_FORMS``."""
    settings.ACCOUNT_FORMS = {"signup": "trefpunt.accounts.forms.SignupForm"}


def field_error(response, field: str) -> str:
    """The error text shown next to ``field`` in a rendered form."""
    match = re.search(
        rf'<small class="field-error" id="id_{field}_error">(.*?)</small>',
        response.content.decode(),
        re.S,
    )
    assert match, f"no error next to {field}"
    return match.group(1)


# --- sign-up ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"email": "not-an-email"}, "email", "valid email"),
        ({"password2": "a-different-pass-phrase"}, "password2", "same password"),
        ({"password1": "short1", "password2": "short1"}, "password1", "too short"),
        ({"password1": "12345678901", "password2": "12345678901"}, "password1", "numeric"),
        ({"email": "Taken@Example.org"}, "email", "already exists"),
    ],
)
def test_signup_with_bad_input_shows_the_error_next_to_the_field_and_creates_nobody(
    client, data, field, message
):
    UserFactory.create(email="taken@example.org")
    before = User.objects.count()
    form = {
        "display_name": "Anna",
        "email": "anna@example.org",
        "password1": "a-long-pass-phrase",
        "password2": "a-long-pass-phrase",
        **data,
    }
    response = client.post(SIGNUP_URL, form)
    assert response.status_code == 200
    assert message in field_error(response, field)
    assert User.objects.count() == before
    assert not mail.outbox


def test_signup_sends_a_verification_email_whose_link_logs_the_user_in(
    client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            SIGNUP_URL,
            {
                "display_name": "Anna de Vries",
                "email": "anna@example.org",
                "password1": "a-long-pass-phrase",
                "password2": "a-long-pass-phrase",
            },
        )
    assert response.status_code == 302
    user = User.objects.get(email="anna@example.org")
    assert user.profile.display_name == "Anna de Vries"
    assert user.profile.handle == "anna-de-vries"
    # Not logged in before the address is confirmed.
    assert client.get("/en/settings/profile/").status_code == 302
    assert len(mail.outbox) == 1
    link = CONFIRM_LINK.search(str(mail.outbox[0].body))
    assert link, mail.outbox[0].body
    page = client.get(link.group(1))
    assert page.status_code == 200
    assert b"anna@example.org" in page.content
    confirmed = client.post(link.group(1))
    assert confirmed.status_code == 302
    assert EmailAddress.objects.get(user=user).verified
    assert client.get("/en/settings/profile/").status_code == 200


@pytest.mark.parametrize("debug", [True, False])
def test_a_local_installation_says_where_its_emails_went(client, settings, tmp_path, debug):
    """``make run`` writes emails to files (DEBUG, the file backend): the pages that say
    an email was sent name the folder, relative to the project. A site in production
    never names a folder. (The project is a temporary folder here: the files go there.)"""
    settings.DEBUG = debug
    settings.REPO_DIR = tmp_path
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = str(tmp_path / "var" / "mail")
    form = {"email": "anna@example.org", "password1": "a-long-pass-phrase"}
    page = client.post(SIGNUP_URL, {**form, "password2": form["password1"]}, follow=True)
    html = page.content.decode()
    assert "We have sent an email to you for verification" in html
    assert ("open the newest file in var/mail/." in html) is debug
    reset = client.post("/en/accounts/password/reset/", {"email": form["email"]}, follow=True)
    assert ("open the newest file in var/mail/." in reset.content.decode()) is debug


def test_signup_without_a_display_name_derives_one_from_the_email(client):
    client.post(
        SIGNUP_URL,
        {
            "email": "piet.puk@example.org",
            "password1": "a-long-pass-phrase",
            "password2": "a-long-pass-phrase",
        },
    )
    profile = Profile.objects.get(user__email="piet.puk@example.org")
    assert profile.display_name == "Piet Puk"
    assert profile.handle == "piet-puk"


@pytest.mark.parametrize(
    "path",
    [
        "/en/accounts/login/",
        "/en/accounts/signup/",
        "/en/accounts/password/reset/",
        "/en/accounts/confirm-email/",
        "/en/accounts/password/reset/done/",
    ],
)
def test_allauth_entrance_pages_render_in_our_layout(client, path):
    response = client.get(path)
    assert response.status_code == 200
    html = response.content.decode()
    assert '<main id="main" class="container">' in html
    assert "max-width: 30rem" in html
    assert "<h1>" in html


@pytest.mark.parametrize(
    "path",
    [
        "/en/accounts/email/",
        "/en/accounts/password/change/",
        "/en/accounts/2fa/",
        "/en/accounts/logout/",
    ],
)
def test_allauth_account_pages_render_with_the_settings_navigation(client, user, path):
    client.force_login(user)
    response = client.get(path)
    assert response.status_code == 200
    html = response.content.decode()
    assert '<main id="main" class="container">' in html
    assert "<h1>" in html


def test_allauth_manage_pages_show_the_settings_navigation(client, user):
    client.force_login(user)
    html = client.get("/en/accounts/email/").content.decode()
    assert 'class="settings-nav"' in html
    assert 'href="/en/accounts/email/" aria-current="page"' in html


def test_login_with_a_wrong_password_shows_the_error(client, user):
    response = client.post("/en/accounts/login/", {"login": user.email, "password": "wrong"})
    assert response.status_code == 200
    assert b'class="form-errors" role="alert"' in response.content
    assert "_auth_user_id" not in client.session


def test_login_works_with_the_email_and_password(client, user):
    response = client.post("/en/accounts/login/", {"login": user.email, "password": PASSWORD})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


def test_password_reset_by_email_link_sets_a_new_password(
    client, user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/en/accounts/password/reset/", {"email": user.email})
    assert response["Location"] == "/en/accounts/password/reset/done/"
    reset_link = re.compile(r"https?://[^\s/]+(/en/accounts/password/reset/key/\S+/)")
    link = reset_link.search(str(mail.outbox[0].body))
    assert link
    form_page = client.get(link.group(1), follow=True)
    assert form_page.status_code == 200
    assert 'name="password1"' in form_page.content.decode()
    action = form_page.redirect_chain[-1][0]
    mismatch = client.post(action, {"password1": "new-pass-phrase-1", "password2": "other-phrase"})
    assert "same password" in field_error(mismatch, "password2")
    done = client.post(action, {"password1": "new-pass-phrase-1", "password2": "new-pass-phrase-1"})
    assert done.status_code == 302
    user.refresh_from_db()
    assert user.check_password("new-pass-phrase-1")


def test_login_with_totp_asks_for_the_code_and_logs_in_with_the_right_one(client, user):
    from allauth.mfa.totp.internal.auth import (
        TOTP,
        format_hotp_value,
        generate_totp_secret,
        hotp_value,
        yield_hotp_counters_from_time,
    )

    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    response = client.post("/en/accounts/login/", {"login": user.email, "password": PASSWORD})
    assert response["Location"] == "/en/accounts/2fa/authenticate/"
    page = client.get("/en/accounts/2fa/authenticate/")
    assert page.status_code == 200
    assert 'name="code"' in page.content.decode()
    wrong = client.post("/en/accounts/2fa/authenticate/", {"code": "000000"})
    assert "code" in field_error(wrong, "code").lower()
    assert "_auth_user_id" not in client.session
    with time_machine.travel(timezone.now(), tick=False):
        counter = next(iter(yield_hotp_counters_from_time()))
        code = format_hotp_value(hotp_value(secret, counter))
        done = client.post("/en/accounts/2fa/authenticate/", {"code": code})
    assert done.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


# --- public profile ---------------------------------------------------------------------


def test_profile_page_shows_the_profile_portfolio_and_organisations(client, user, settings):
    profile_update(
        profile=user.profile,
        handle="anna-draws",
        display_name="Anna <b>de</b> Vries",
        headline="Illustrator",
        bio="First line.\nSecond line.",
        location="Utrecht",
        languages="nl, en",
        skills="illustration, logo design",
        avatar=image_upload(),
    )
    portfolio_item_create(
        owner=user, title="Tea tins", description="Four tins.", images=[image_upload()]
    )
    OrganisationFactory.create(name="Bakkerij Jansen", user=user)
    response = client.get("/en/@anna-draws/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Anna &lt;b&gt;de&lt;/b&gt; Vries" in html
    assert "<b>de</b>" not in html
    assert "First line.<br>Second line." in html
    assert ">illustration<" in html and ">logo design<" in html
    assert ">Dutch<" in html and ">English<" in html
    assert "Tea tins" in html and "Four tins." in html
    assert "/media/portfolio/" in html
    assert "Bakkerij Jansen" in html
    assert f'<link rel="canonical" href="{settings.SITE_URL}/en/@anna-draws/">' in html
    assert '<meta property="og:title" content="Anna &lt;b&gt;de&lt;/b&gt; Vries' in html
    assert 'property="og:image"' in html
    # Visitors get no owner controls.
    assert "Edit profile</a>" not in html.split('<main id="main"')[1]
    assert "/delete/" not in html


def test_profile_page_for_its_owner_has_edit_and_remove_controls(client, user):
    item = portfolio_item_create(owner=user, title="Tea tins")
    client.force_login(user)
    html = client.get(user.profile.get_absolute_url()).content.decode()
    assert f"/en/settings/portfolio/{item.pk}/delete/" in html
    assert "/en/settings/portfolio/new/" in html


def test_profile_page_of_an_unknown_handle_is_not_found(client):
    assert client.get("/en/@nobody-here/").status_code == 404


def test_profile_page_of_an_inactive_user_is_not_found(client, user):
    User.objects.filter(pk=user.pk).update(is_active=False)
    assert client.get(user.profile.get_absolute_url()).status_code == 404


def test_profile_page_redirects_an_uppercase_handle_to_the_canonical_one(client, user):
    response = client.get(f"/en/@{user.profile.handle.upper()}/")
    assert response.status_code == 301
    assert response["Location"] == user.profile.get_absolute_url()


def test_profile_page_query_count_does_not_grow_with_portfolio_items(client, user):
    OrganisationFactory.create(user=user)
    portfolio_item_create(owner=user, title="One", images=[image_upload()])
    url = user.profile.get_absolute_url()
    client.get(url)
    with CaptureQueriesContext(connection) as one_item:
        assert client.get(url).status_code == 200
    for n in range(5):
        portfolio_item_create(
            owner=user, title=f"Item {n}", images=[image_upload(), image_upload()]
        )
    OrganisationFactory.create(user=user)
    with CaptureQueriesContext(connection) as six_items:
        response = client.get(url)
    assert response.content.decode().count('class="card portfolio-item"') == 6
    assert len(six_items) == len(one_item)
    # 9: the profile's search document (listing, structured data, track record) is one more.
    assert len(six_items) <= 9


# --- profile edit -----------------------------------------------------------------------


def edit_form(**overrides):
    form = {
        "display_name": "Anna de Vries",
        "handle": "anna-de-vries",
        "headline": "Illustrator",
        "location": "Utrecht",
        "languages": "nl, en",
        "skills": "illustration, logo design",
        "bio": "Hello.",
    }
    form.update(overrides)
    return form


def test_profile_edit_needs_login(client):
    response = client.get("/en/settings/profile/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_profile_edit_shows_the_current_values(client, user):
    profile_update(profile=user.profile, **edit_form())
    client.force_login(user)
    html = client.get("/en/settings/profile/").content.decode()
    assert 'value="anna-de-vries"' in html
    assert 'value="illustration, logo design"' in html
    assert 'value="nl, en"' in html


def test_profile_edit_saves_and_redirects_to_the_profile(client, user):
    client.force_login(user)
    response = client.post(
        "/en/settings/profile/", {**edit_form(), "avatar": image_upload("me.png")}
    )
    assert response.status_code == 302
    assert response["Location"] == "/en/@anna-de-vries/"
    profile = Profile.objects.get(user=user)
    assert profile.headline == "Illustrator"
    assert str(profile.avatar.name).endswith(".webp")


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"handle": "taken-handle"}, "handle", "taken"),
        ({"handle": "Not OK!"}, "handle", "lowercase"),
        ({"handle": "admin"}, "handle", "reserved"),
        ({"handle": ""}, "handle", "required"),
        ({"languages": "nl, klingon"}, "languages", "klingon"),
        ({"display_name": "x" * 81}, "display_name", "At most 80"),
        ({"headline": "x" * 141}, "headline", "At most 140"),
        ({"bio": "x" * 4001}, "bio", "At most 4000"),
        ({"skills": "ok, " + "s" * 41}, "skills", "not a skill name"),
        ({"avatar": image_upload("evil.png", b"<?php echo 'hi'; ?>")}, "avatar", "not a PNG"),
    ],
)
def test_profile_edit_with_bad_input_shows_the_error_next_to_the_field_and_saves_nothing(
    client, user, overrides, field, message
):
    Profile.objects.filter(user=UserFactory.create()).update(handle="taken-handle")
    client.force_login(user)
    before = profile_snapshot(user)
    response = client.post("/en/settings/profile/", edit_form(**overrides))
    assert response.status_code == 200
    assert message in field_error(response, field)
    assert b"Nothing was saved" in response.content
    assert profile_snapshot(user) == before


def test_profile_edit_with_an_oversized_avatar_shows_the_error_and_saves_nothing(
    client, user, settings
):
    settings.MAX_AVATAR_BYTES = 2000
    client.force_login(user)
    before = profile_snapshot(user)
    big = image_upload("big.bmp", b"BM" + b"\0" * 3000)
    response = client.post("/en/settings/profile/", {**edit_form(), "avatar": big})
    assert "too large" in field_error(response, "avatar")
    assert profile_snapshot(user) == before


# --- portfolio ----------------------------------------------------------------------------


def test_portfolio_create_adds_an_item_with_several_images(client, user):
    client.force_login(user)
    response = client.post(
        "/en/settings/portfolio/new/",
        {
            "title": "Tea tins",
            "description": "Four tins.",
            "images": [image_upload("a.png"), image_upload("b.png")],
        },
    )
    assert response.status_code == 302
    item = PortfolioItem.objects.get(owner=user)
    assert item.images.count() == 2


def test_portfolio_create_with_bad_input_saves_nothing(client, user):
    client.force_login(user)
    response = client.post(
        "/en/settings/portfolio/new/",
        {"title": "Work", "images": [image_upload("a.png", b"not an image")]},
    )
    assert response.status_code == 200
    assert "not a PNG" in field_error(response, "images")
    assert not PortfolioItem.objects.exists()


def test_portfolio_delete_of_someone_elses_item_is_not_found(client, user):
    item = portfolio_item_create(owner=UserFactory.create(), title="Not yours")
    client.force_login(user)
    response = client.post(f"/en/settings/portfolio/{item.pk}/delete/")
    assert response.status_code == 404
    assert PortfolioItem.objects.filter(pk=item.pk).exists()


def test_portfolio_delete_needs_post(client, user):
    item = portfolio_item_create(owner=user, title="Mine")
    client.force_login(user)
    assert client.get(f"/en/settings/portfolio/{item.pk}/delete/").status_code == 405
    assert PortfolioItem.objects.filter(pk=item.pk).exists()


def test_portfolio_delete_of_own_item_removes_it(client, user):
    item = portfolio_item_create(owner=user, title="Mine")
    client.force_login(user)
    response = client.post(f"/en/settings/portfolio/{item.pk}/delete/")
    assert response.status_code == 302
    assert not PortfolioItem.objects.filter(pk=item.pk).exists()


# --- API tokens -----------------------------------------------------------------------


def test_token_create_shows_the_raw_token_once(client, user):
    client.force_login(user)
    response = client.post("/en/settings/tokens/", {"name": "laptop script"})
    assert response.status_code == 201
    shown = re.search(r'value="(tp_[^"]+)"', response.content.decode())
    assert shown
    raw = shown.group(1)
    assert "no-store" in response["Cache-Control"]
    token = ApiToken.objects.get(user=user)
    assert raw.startswith(token.prefix)
    listing = client.get("/en/settings/tokens/").content.decode()
    assert "laptop script" in listing
    assert token.prefix in listing
    assert raw not in listing


def test_token_create_without_a_name_shows_the_error(client, user):
    client.force_login(user)
    response = client.post("/en/settings/tokens/", {"name": ""})
    assert "required" in field_error(response, "name")
    assert not ApiToken.objects.exists()


def test_token_revoke_marks_the_token_revoked(client, user):
    token, _raw = api_token_create(user=user, name="ci")
    client.force_login(user)
    response = client.post(f"/en/settings/tokens/{token.pk}/revoke/")
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert "revoked" in client.get("/en/settings/tokens/").content.decode()


def test_token_revoke_of_someone_elses_token_is_not_found(client, user):
    token, _raw = api_token_create(user=UserFactory.create(), name="theirs")
    client.force_login(user)
    assert client.post(f"/en/settings/tokens/{token.pk}/revoke/").status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


def test_token_list_query_count_does_not_grow_with_tokens(client, user):
    client.force_login(user)
    api_token_create(user=user, name="one")
    client.get("/en/settings/tokens/")
    with CaptureQueriesContext(connection) as one:
        client.get("/en/settings/tokens/")
    for n in range(4):
        api_token_create(user=user, name=f"t{n}")
    with CaptureQueriesContext(connection) as five:
        client.get("/en/settings/tokens/")
    assert len(five) == len(one)


# --- organisations ------------------------------------------------------------------------


def _org(owner: User | None = None) -> tuple[Organisation, User]:
    owner = owner or UserFactory.create()
    return OrganisationFactory.create(user=owner), owner


def _member(
    organisation: Organisation, owner: User, role: str = Role.MEMBER, email: str = ""
) -> User:
    member = UserFactory.create(**({"email": email} if email else {}))
    _inv, token = organisation_invite(
        organisation=organisation, inviter=owner, email=member.email, role=role
    )
    invitation_accept(token=token, user=member)
    return member


def test_org_create_makes_the_user_owner_and_redirects(client, user):
    client.force_login(user)
    response = client.post(
        "/en/orgs/new/", {"name": "Bakkerij Jansen", "slug": "", "description": "Bread."}
    )
    organisation = Organisation.objects.get(slug="bakkerij-jansen")
    assert response["Location"] == "/en/orgs/bakkerij-jansen/"
    assert Membership.objects.get(organisation=organisation).role == Role.OWNER


def test_org_create_with_a_taken_address_shows_the_error_and_saves_nothing(client, user):
    _org()
    Organisation.objects.update(slug="bakkerij-jansen")
    client.force_login(user)
    response = client.post("/en/orgs/new/", {"name": "Bakkerij Jansen"})
    assert "taken" in field_error(response, "slug")
    assert Organisation.objects.count() == 1


def test_org_list_shows_my_organisations_only(client, user):
    mine, _owner = _org(user)
    theirs, _other = _org()
    client.force_login(user)
    html = client.get("/en/orgs/").content.decode()
    assert mine.name in html
    assert theirs.name not in html


def test_org_detail_shows_only_public_information_to_outsiders(client, user):
    organisation, owner = _org()
    client.force_login(user)
    html = client.get(organisation.get_absolute_url()).content.decode()
    assert organisation.name in html
    assert owner.profile.display_name not in html
    assert 'id="invite"' not in html
    assert "/remove/" not in html


def test_org_detail_shows_members_but_no_admin_tools_to_plain_members(client):
    organisation, owner = _org()
    member = _member(organisation, owner)
    client.force_login(member)
    html = client.get(organisation.get_absolute_url()).content.decode()
    assert owner.profile.display_name in html
    assert 'id="invite"' not in html
    assert "/remove/" not in html


def test_org_detail_shows_invite_form_invitations_and_remove_buttons_to_owners(client):
    organisation, owner = _org()
    member = _member(organisation, owner)
    organisation_invite(organisation=organisation, inviter=owner, email="pending@example.org")
    client.force_login(owner)
    html = client.get(organisation.get_absolute_url()).content.decode()
    assert 'id="invite"' in html
    assert "pending@example.org" in html
    row = Membership.objects.get(organisation=organisation, user=member)
    assert f"/members/{row.pk}/remove/" in html


def test_org_detail_of_an_unknown_address_is_not_found(client):
    assert client.get("/en/orgs/no-such-org/").status_code == 404


def test_org_invite_emails_the_invitation(client, django_capture_on_commit_callbacks):
    organisation, owner = _org()
    client.force_login(owner)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/en/orgs/{organisation.slug}/invite/", {"email": "new@example.org", "role": "admin"}
        )
    assert response.status_code == 302
    invitation = Invitation.objects.get()
    assert (invitation.email, invitation.role) == ("new@example.org", Role.ADMIN)
    assert mail.outbox[0].to == ["new@example.org"]
    assert "/orgs/invitations/" in mail.outbox[0].body


@pytest.mark.parametrize(
    ("email", "field", "message"),
    [
        ("not-an-email", "email", "valid email"),
        ("Member@Example.org", "email", "already a member"),
        ("pending@example.org", "email", "already been invited"),
    ],
)
def test_org_invite_with_bad_input_shows_the_error_and_saves_nothing(client, email, field, message):
    organisation, owner = _org()
    _member(organisation, owner, email="member@example.org")
    organisation_invite(organisation=organisation, inviter=owner, email="pending@example.org")
    client.force_login(owner)
    before = Invitation.objects.count()
    response = client.post(
        f"/en/orgs/{organisation.slug}/invite/", {"email": email, "role": "member"}
    )
    assert response.status_code == 200
    assert message in field_error(response, field)
    assert Invitation.objects.count() == before


def test_org_invite_of_an_owner_is_not_offered_to_admins(client):
    organisation, owner = _org()
    admin = _member(organisation, owner, Role.ADMIN)
    client.force_login(admin)
    html = client.get(organisation.get_absolute_url()).content.decode()
    assert '<option value="owner"' not in html
    response = client.post(
        f"/en/orgs/{organisation.slug}/invite/", {"email": "x@example.org", "role": "owner"}
    )
    assert "role" in response.content.decode()
    field_error(response, "role")
    assert not Invitation.objects.filter(email="x@example.org").exists()


def test_org_invite_by_a_plain_member_is_forbidden(client):
    organisation, owner = _org()
    member = _member(organisation, owner)
    client.force_login(member)
    response = client.post(
        f"/en/orgs/{organisation.slug}/invite/", {"email": "x@example.org", "role": "member"}
    )
    assert response.status_code == 403
    assert not Invitation.objects.filter(email="x@example.org").exists()


def test_org_invite_by_an_outsider_is_not_found(client, user):
    organisation, _owner = _org()
    client.force_login(user)
    response = client.post(
        f"/en/orgs/{organisation.slug}/invite/", {"email": "x@example.org", "role": "member"}
    )
    assert response.status_code == 404
    assert not Invitation.objects.exists()


def test_member_remove_by_an_owner_removes_the_member(client):
    organisation, owner = _org()
    member = _member(organisation, owner)
    row = Membership.objects.get(organisation=organisation, user=member)
    client.force_login(owner)
    response = client.post(f"/en/orgs/{organisation.slug}/members/{row.pk}/remove/")
    assert response.status_code == 302
    assert not Membership.objects.filter(pk=row.pk).exists()


def test_member_remove_by_a_plain_member_is_forbidden(client):
    organisation, owner = _org()
    member = _member(organisation, owner)
    row = Membership.objects.get(organisation=organisation, user=owner)
    client.force_login(member)
    response = client.post(f"/en/orgs/{organisation.slug}/members/{row.pk}/remove/")
    assert response.status_code == 403
    assert Membership.objects.filter(pk=row.pk).exists()


def test_member_remove_of_the_last_owner_shows_a_message(client):
    organisation, owner = _org()
    row = Membership.objects.get(organisation=organisation, user=owner)
    client.force_login(owner)
    response = client.post(f"/en/orgs/{organisation.slug}/members/{row.pk}/remove/", follow=True)
    assert b"at least one owner" in response.content
    assert Membership.objects.filter(pk=row.pk).exists()


# --- invitations ------------------------------------------------------------------------


def _invite(email: str, role: str = Role.MEMBER) -> tuple[Organisation, str]:
    organisation, owner = _org()
    _inv, token = organisation_invite(
        organisation=organisation, inviter=owner, email=email, role=role
    )
    return organisation, token


def test_invitation_link_without_language_prefix_redirects_to_one(client):
    _organisation, token = _invite("invitee@example.org")
    response = client.get(f"/orgs/invitations/{token}/")
    assert response.status_code == 302
    assert response["Location"] == f"/en/orgs/invitations/{token}/"


def test_invitation_accept_needs_login(client):
    _organisation, token = _invite("invitee@example.org")
    response = client.get(f"/en/orgs/invitations/{token}/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_invitation_accept_page_shows_what_you_join_and_post_joins(client):
    invitee = UserFactory.create(email="invitee@example.org")
    organisation, token = _invite("invitee@example.org", Role.ADMIN)
    client.force_login(invitee)
    page = client.get(f"/en/orgs/invitations/{token}/")
    html = page.content.decode()
    assert organisation.name in html
    assert "Admin" in html
    assert '<button type="submit">' in html
    assert not Membership.objects.filter(user=invitee).exists()
    response = client.post(f"/en/orgs/invitations/{token}/")
    assert response["Location"] == organisation.get_absolute_url()
    assert Membership.objects.get(user=invitee).role == Role.ADMIN
    again = client.post(f"/en/orgs/invitations/{token}/")
    assert again.status_code == 409
    assert b"already accepted" in again.content
    assert Membership.objects.filter(user=invitee).count() == 1


def test_invitation_accept_by_the_wrong_account_is_refused_with_a_clear_message(client, user):
    organisation, token = _invite("invitee@example.org")
    client.force_login(user)
    page = client.get(f"/en/orgs/invitations/{token}/").content.decode()
    assert "sent to invitee@example.org" in page
    assert f"logged in as {user.email}" in page
    response = client.post(f"/en/orgs/invitations/{token}/")
    assert response.status_code == 403
    assert b"invitee@example.org" in response.content
    assert not Membership.objects.filter(organisation=organisation, user=user).exists()


def test_invitation_accept_after_expiry_is_refused(client):
    invitee = UserFactory.create(email="invitee@example.org")
    organisation, token = _invite("invitee@example.org")
    with time_machine.travel(timezone.now() + timedelta(days=15)):
        client.force_login(invitee)
        assert b"expired" in client.get(f"/en/orgs/invitations/{token}/").content
        response = client.post(f"/en/orgs/invitations/{token}/")
    assert response.status_code == 409
    assert not Membership.objects.filter(organisation=organisation, user=invitee).exists()


def test_invitation_accept_with_an_unknown_token_is_not_found(client, user):
    client.force_login(user)
    assert client.get("/en/orgs/invitations/not-a-real-token/").status_code == 404


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="the profile's written-out statements are PostgreSQL's (elsewhere the ORM's)",
)
def test_profile_read_for_its_page_is_the_one_the_orm_loads(django_assert_num_queries):
    """``profile_get`` and ``profile_stats`` (written out on PostgreSQL) give what the ORM's
    queries give: the profile with its user and skills in order, without further queries;
    an inactive member's profile is not found (a hidden one: moderation's tests)."""
    from trefpunt.accounts.models import Profile, Skill
    from trefpunt.accounts.selectors import profile_get, profile_stats
    from trefpunt.core.exceptions import NotFound

    user = UserFactory.create()
    profile = Profile.objects.get(user=user)
    profile.skills.set(
        [
            Skill.objects.create(name="Zine layout", slug="zine"),
            Skill.objects.create(name="Animation", slug="animation"),
        ]
    )

    def fields(instance):
        return {f.attname: getattr(instance, f.attname) for f in type(instance)._meta.fields}

    with django_assert_num_queries(2):
        read = profile_get(handle=profile.handle.upper())
    loaded = Profile.objects.select_related("user").prefetch_related("skills").get(pk=profile.pk)
    with django_assert_num_queries(0):
        assert fields(read) == fields(loaded)
        assert fields(read.user) == fields(loaded.user)
        assert read.user.profile is read
        assert [fields(s) for s in read.skills.all()] == [fields(s) for s in loaded.skills.all()]
        assert [s.name for s in read.skills.all()] == ["Animation", "Zine layout"]
    with django_assert_num_queries(1):
        stats = profile_stats(profile=read)
    assert (stats.portfolio_items, stats.organisations) == (0, 0)
    type(user).objects.filter(pk=user.pk).update(is_active=False)
    with pytest.raises(NotFound):
        profile_get(handle=profile.handle)
