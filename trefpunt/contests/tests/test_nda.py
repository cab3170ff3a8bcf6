"""A private contest's NDA and its invitations: an invitee sees the title, the prizes and
the NDA, and the brief, its reference files and the entries (page, API, file URLs) only
once they accepted the NDA; an invitation link opened while logged out goes through log in
or sign-up and ends on the contest."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import quote

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from trefpunt.accounts.models import User
from trefpunt.contests.models import Contest, ContestInvitation, EntryFile
from trefpunt.contests.services import (
    contest_attachment_add,
    contest_invite,
    contest_nda_accept,
    contest_publish,
)
from trefpunt.core.exceptions import Conflict, ErrorCode, NotFound, ValidationFailed
from trefpunt.core.models import Event
from trefpunt.ledger.tests.factories import funded_wallet

from .factories import draft, enter, make_user, pdf_bytes, published

pytestmark = pytest.mark.django_db

NDA = "Keep the new name between us until launch."
CONFIRM_LINK = re.compile(r"https?://[^\s/]+(/en/accounts/confirm-email/[^\s/]+/)")


@pytest.fixture(autouse=True)
def signup_form(settings: Any) -> None:
    settings.ACCOUNT_FORMS = {"signup": "trefpunt.accounts.forms.SignupForm"}


def browser(user: User | None = None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def secret_contest(client: User, *invitees: User) -> Contest:
    """An open private contest with an NDA, a reference file, invitees, and one entry by
    an invitee who accepted the NDA."""
    contest = draft(
        client,
        is_private=True,
        nda_text=NDA,
        title="Secret rebrand",
        summary="A new name for our oat milk",
        description="The hidden brief: playful, Dutch, short.",
    )
    contest_attachment_add(
        contest_id=contest.pk,
        user=client,
        upload=SimpleUploadedFile("moodboard.pdf", pdf_bytes()),
    )
    for invitee in invitees:
        contest_invite(contest_id=contest.pk, user=client, who=invitee.email)
    funded_wallet(client, 33000)
    return contest_publish(contest_id=contest.pk, user=client)


def api(user: User, method: str, path: str) -> Any:
    return getattr(browser(user), method)(f"/api/v1{path}")


def test_an_invitee_sees_title_prize_and_nda_and_nothing_else_until_accepting():
    client, invitee, entrant = make_user(), make_user(), make_user()
    contest = secret_contest(client, invitee, entrant)
    entry = enter(contest, entrant, nda_accepted=True)
    attachment = contest.attachments.get()
    entry_file = EntryFile.objects.filter(version__entry=entry).first()
    assert entry_file is not None
    session = browser(invitee)

    page = session.get(f"/en/contests/{contest.pk}/").content.decode()
    assert "Secret rebrand" in page and NDA in page and "€\xa0300.00" in page
    assert "A new name for our oat milk" not in page
    assert "The hidden brief" not in page
    assert "moodboard.pdf" not in page
    assert entry.title not in page
    assert f'action="/en/contests/{contest.pk}/nda/"' in page
    hidden = [
        f"/en/contests/{contest.pk}/attachments/{attachment.pk}/",
        f"/en/contests/entries/{entry.pk}/",
        f"/en/contests/files/{entry_file.pk}/preview/",
        f"/en/contests/files/{entry_file.pk}/thumb/",
    ]
    assert [session.get(url).status_code for url in hidden] == [404, 404, 404, 404]
    out = json.loads(api(invitee, "get", f"/contests/{contest.pk}").content)
    assert (out["title"], out["summary"], out["description"]) == ("Secret rebrand", "", "")
    assert out["nda_text"] == NDA and out["nda_pending"] is True
    assert out["can"]["accept_nda"] is True and out["can"]["enter"] is False
    assert json.loads(api(invitee, "get", f"/contests/{contest.pk}/entries").content)["items"] == []
    assert api(invitee, "get", f"/entries/{entry.pk}").status_code == 404

    accepted = session.post(f"/en/contests/{contest.pk}/nda/", {"accept": "on"})
    assert accepted.status_code == 302

    invitation = ContestInvitation.objects.get(contest=contest, user=invitee)
    assert invitation.nda_accepted_at is not None
    assert invitation.nda_version == contest.nda_version != ""
    page = session.get(f"/en/contests/{contest.pk}/").content.decode()
    assert "The hidden brief" in page and "moodboard.pdf" in page and entry.title in page
    assert [session.get(url).status_code for url in hidden] == [200, 200, 200, 200]
    out = json.loads(api(invitee, "get", f"/contests/{contest.pk}").content)
    assert out["description"] == contest.description and out["nda_pending"] is False
    assert out["can"]["enter"] is True


def test_accepting_needs_the_box_ticked_and_is_recorded_once_with_the_text_version():
    client, invitee = make_user(), make_user()
    contest = secret_contest(client, invitee)

    refused = browser(invitee).post(f"/en/contests/{contest.pk}/nda/", {})

    assert refused.status_code == 422
    assert ContestInvitation.objects.get(user=invitee).nda_accepted_at is None
    first = contest_nda_accept(contest_id=contest.pk, user=invitee)
    again = contest_nda_accept(contest_id=contest.pk, user=invitee)
    assert again.nda_accepted_at == first.nda_accepted_at
    events = Event.objects.filter(subject="contest", subject_id=contest.pk, kind="nda_accepted")
    assert [e.data["version"] for e in events] == [contest.nda_version]


def test_an_acceptance_of_another_text_version_does_not_count():
    client, invitee = make_user(), make_user()
    contest = secret_contest(client, invitee)
    contest_nda_accept(contest_id=contest.pk, user=invitee)
    Contest.objects.filter(pk=contest.pk).update(nda_text=NDA + " And the logo too.")

    out = json.loads(api(invitee, "get", f"/contests/{contest.pk}").content)

    assert out["nda_pending"] is True and out["description"] == ""


def test_accepting_through_the_api_opens_the_brief():
    client, invitee = make_user(), make_user()
    contest = secret_contest(client, invitee)

    response = api(invitee, "post", f"/contests/{contest.pk}/nda")

    assert response.status_code == 200
    out = json.loads(response.content)
    assert out["nda_pending"] is False and out["description"] == contest.description


def test_only_an_invitee_accepts_and_only_an_nda():
    client, invitee = make_user(), make_user()
    contest = secret_contest(client, invitee)
    with pytest.raises(NotFound):
        contest_nda_accept(contest_id=contest.pk, user=make_user())
    public = published(client)
    with pytest.raises(Conflict) as exc:
        contest_nda_accept(contest_id=public.pk, user=invitee)
    assert exc.value.code == ErrorCode.NO_NDA
    assert api(make_user(), "post", f"/contests/{contest.pk}/nda").status_code == 404
    # The client and staff read the brief without accepting anything.
    assert "The hidden brief" in browser(client).get(f"/en/contests/{contest.pk}/").content.decode()


def test_an_entry_needs_the_nda_accepted():
    client, invitee = make_user(), make_user()
    contest = secret_contest(client, invitee)
    with pytest.raises(ValidationFailed) as exc:
        enter(contest, invitee)
    assert "nda_accepted" in exc.value.fields
    contest_nda_accept(contest_id=contest.pk, user=invitee)
    assert enter(contest, invitee).contest_id == contest.pk


def test_an_invitation_link_opened_logged_out_goes_through_sign_up_to_the_contest(
    django_capture_on_commit_callbacks: Any,
):
    client = make_user()
    contest = secret_contest(client)
    with django_capture_on_commit_callbacks(execute=True):
        invitation = contest_invite(contest_id=contest.pk, user=client, who="Nina@Example.org")
    assert (invitation.user, invitation.email) == (None, "nina@example.org")
    assert mail.outbox[-1].to == ["nina@example.org"]
    link = re.search(r"https?://[^\s/]+(/[^\s]*/invitation/)", str(mail.outbox[-1].body))
    assert link, mail.outbox[-1].body
    visitor = Client()

    # The link without a language prefix → the link in a language → log in, coming back.
    first = visitor.get(link.group(1), follow=True)
    login_url = first.redirect_chain[-1][0]
    invitation_path = f"/en/contests/{contest.pk}/invitation/"
    assert login_url == f"/en/accounts/login/?next={invitation_path}"
    # The log-in page offers to sign up instead, keeping where to go next.
    login_page = first.content.decode()
    assert f"/en/accounts/signup/?next={quote(invitation_path, '')}" in login_page
    with django_capture_on_commit_callbacks(execute=True):
        signed_up = visitor.post(
            f"/en/accounts/signup/?next={quote(invitation_path, '')}",
            {
                "email": "nina@example.org",
                "password1": "a-long-pass-phrase",
                "password2": "a-long-pass-phrase",
                "next": invitation_path,
            },
        )
    assert signed_up.status_code == 302
    confirm = CONFIRM_LINK.search(str(mail.outbox[-1].body))
    assert confirm, mail.outbox[-1].body
    landed = visitor.post(confirm.group(1), follow=True)

    assert landed.redirect_chain[-1][0] == f"/en/contests/{contest.pk}/"
    page = landed.content.decode()
    assert "Secret rebrand" in page and NDA in page and "The hidden brief" not in page
    nina = User.objects.get(email="nina@example.org")
    assert ContestInvitation.objects.get(pk=invitation.pk).user == nina
    visitor.post(f"/en/contests/{contest.pk}/nda/", {"accept": "on"})
    assert "The hidden brief" in visitor.get(f"/en/contests/{contest.pk}/").content.decode()


def test_an_invitation_link_opened_logged_out_by_a_member_goes_through_log_in():
    client, invitee = make_user(), make_user()
    invitee.set_password("a-long-pass-phrase")
    invitee.save()
    contest = secret_contest(client, invitee)
    visitor = Client()
    invitation_path = f"/en/contests/{contest.pk}/invitation/"

    login = visitor.get(invitation_path)
    assert login.status_code == 302 and login["Location"].startswith("/en/accounts/login/")
    landed = visitor.post(
        login["Location"],
        {"login": invitee.email, "password": "a-long-pass-phrase"},
        follow=True,
    )

    assert landed.redirect_chain[-1][0] == f"/en/contests/{contest.pk}/"
    assert NDA in landed.content.decode()


def test_an_invitation_link_tells_nobody_else_about_the_contest():
    client, invitee = make_user(), make_user()
    contest = secret_contest(client, invitee)
    # Logged out, a real and a made-up contest redirect alike.
    real = Client().get(f"/en/contests/{contest.pk}/invitation/")
    made_up = Client().get("/en/contests/987654/invitation/")
    assert real.status_code == made_up.status_code == 302
    # Someone else, and someone whose address is invited but not verified, get not-found.
    assert browser(make_user()).get(f"/en/contests/{contest.pk}/invitation/").status_code == 404
    contest_invite(contest_id=contest.pk, user=client, who="later@example.org")
    unverified = make_user(email="later@example.org")
    EmailAddress.objects.filter(user=unverified).update(verified=False)
    assert browser(unverified).get(f"/en/contests/{contest.pk}/invitation/").status_code == 404
    assert not ContestInvitation.objects.filter(user=unverified).exists()


def test_a_draft_invitation_by_address_is_sent_when_the_contest_is_published(
    django_capture_on_commit_callbacks: Any,
):
    client = make_user()
    contest = draft(client, is_private=True, nda_text=NDA)
    with django_capture_on_commit_callbacks(execute=True):
        contest_invite(contest_id=contest.pk, user=client, who="someone@example.org")
    assert not [m for m in mail.outbox if "someone@example.org" in m.to]
    funded_wallet(client, 33000)
    with django_capture_on_commit_callbacks(execute=True):
        contest_publish(contest_id=contest.pk, user=client)
    sent = [m for m in mail.outbox if "someone@example.org" in m.to]
    assert len(sent) == 1 and f"/contests/{contest.pk}/invitation/" in str(sent[0].body)


def test_the_invitations_on_the_dashboard_show_no_summary_before_the_nda():
    client, invitee = make_user(), make_user()
    contest = secret_contest(client, invitee)
    session = browser(invitee)

    before = session.get("/en/contests/my-entries/").content.decode()
    contest_nda_accept(contest_id=contest.pk, user=invitee)
    after = session.get("/en/contests/my-entries/").content.decode()

    assert "Secret rebrand" in before and "A new name for our oat milk" not in before
    assert "A new name for our oat milk" in after
